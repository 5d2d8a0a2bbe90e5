//! kepgate's own paths (below `server.route_prefix`) that more than one layer names: the web
//! layer (`http/`) and a feature (`provider/`) both need them, so they live below both.

/// Where a provider sends the browser back (`{prefix}/login/return/{provider}`), with a code
/// in the query.
pub const PROVIDER_RETURN: &str = "/login/return/";
