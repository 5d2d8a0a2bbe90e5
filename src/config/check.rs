//! Rules that serde's types alone cannot say, each worded for the person editing the file.

use std::time::Duration;

use secrecy::ExposeSecret;
use url::Url;

use super::load::ConfigError;
use super::sections::{RouteSettings, Settings, TrustSources, redacted_url};
use crate::provider::registry::settings::ProviderSettings;

impl Settings {
    /// Every rule, section by section; the first broken one is reported.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        self.check_server()?;
        self.check_database()?;
        for (id, provider) in &self.providers {
            self.check_provider(id, provider)?;
        }
        for (name, route) in &self.routes {
            self.check_route(name, route)?;
        }
        self.check_identity()?;
        self.check_login()?;
        self.check_session()?;
        self.check_signing()?;
        self.check_trust()?;
        self.check_ui()?;
        self.check_oidc()?;
        self.check_traces()?;
        self.check_qr()
    }

    fn check_traces(&self) -> Result<(), ConfigError> {
        let traces = &self.log.traces;
        if !(0.0..=1.0).contains(&traces.sampling_ratio) {
            return Err(ConfigError::Invalid(
                "log.traces.sampling_ratio: between 0.0 and 1.0".to_owned(),
            ));
        }
        if !matches!(traces.endpoint.scheme(), "http" | "https") {
            return Err(ConfigError::Invalid(
                "log.traces.endpoint: an http:// or https:// URL (OTLP/HTTP)".to_owned(),
            ));
        }
        Ok(())
    }

    fn check_oidc(&self) -> Result<(), ConfigError> {
        let oidc = &self.oidc;
        if !oidc.enabled {
            return Ok(());
        }
        if oidc.code_ttl.is_zero() || oidc.code_ttl > Duration::from_secs(600) {
            return Err(ConfigError::Invalid(
                "oidc.code_ttl: between 1 and 600 seconds (a code is exchanged at once)".to_owned(),
            ));
        }
        if oidc.token_ttl.is_zero() {
            return Err(ConfigError::Invalid(
                "oidc.token_ttl: at least 1 second".to_owned(),
            ));
        }
        if oidc.reauthentication_ttl < Duration::from_secs(60)
            || oidc.reauthentication_ttl > Duration::from_secs(3600)
        {
            return Err(ConfigError::Invalid(
                "oidc.reauthentication_ttl: between 60 and 3600 seconds (the time a new login \
                 may take after prompt=login or max_age)"
                    .to_owned(),
            ));
        }
        for (id, client) in &oidc.clients {
            let invalid =
                |text: String| Err(ConfigError::Invalid(format!("oidc.clients.{id}.{text}")));
            if id.is_empty() || id.contains(':') || id.chars().any(|c| c.is_control()) {
                return invalid("…: a client id may not be empty or contain ':'".to_owned());
            }
            if self.routes.contains_key(id) {
                return invalid(format!(
                    "…: a route is named {id:?} too; the cabinet's identity assertion is meant for \
                     its route by name (its aud) as an ID token for its client by id, so give \
                     the client an id no route has"
                ));
            }
            if client.redirect_uris.is_empty() {
                return invalid("redirect_uris: name at least one".to_owned());
            }
            for uri in client
                .redirect_uris
                .iter()
                .chain(&client.post_logout_redirect_uris)
                .chain(&client.backchannel_logout_uri)
            {
                if uri.fragment().is_some() || !https_or_loopback(uri) {
                    return invalid(format!(
                        "…: {uri} must be https (http only on this machine), without a #fragment"
                    ));
                }
            }
            if !client.scopes.iter().any(|s| s == "openid")
                || client
                    .scopes
                    .iter()
                    .any(|s| !super::oidc::SCOPES.contains(&s.as_str()))
            {
                return invalid(format!(
                    "scopes: {:?} must include \"openid\" and name only {:?}",
                    client.scopes,
                    super::oidc::SCOPES
                ));
            }
            for provider in &client.allow.providers {
                if !self.providers.contains_key(provider) {
                    return invalid(format!(
                        "allow.providers: no provider {provider:?} is configured"
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_ui(&self) -> Result<(), ConfigError> {
        let zone = &self.ui.time_zone;
        jiff::tz::TimeZone::get(zone).map_err(|e| {
            ConfigError::Invalid(format!(
                "ui.time_zone: {zone:?} is not a time zone of the tz database (e.g. \"Europe/Kyiv\"): {e}"
            ))
        })?;
        let branding = &self.ui.branding;
        if let Some(color) = &branding.accent_color {
            let rgb = parse_hex_color(color).ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "ui.branding.accent_color: {color:?} is not a colour like \"#1f4e8c\""
                ))
            })?;
            let contrast = contrast_on_white(rgb);
            if contrast < 4.5 {
                return Err(ConfigError::Invalid(format!(
                    "ui.branding.accent_color: {color} on white has a contrast of {contrast:.1}:1; \
                     buttons and links need at least 4.5:1 to be read (choose a darker colour)"
                )));
            }
        }
        if let Some(url) = &branding.support_url
            && !is_support_url(url)
        {
            return Err(ConfigError::Invalid(format!(
                "ui.branding.support_url: {url:?} must be mailto:<address>, tel:<number> or an https:// or http:// address with a host"
            )));
        }
        Ok(())
    }

    fn check_trust(&self) -> Result<(), ConfigError> {
        let t = &self.trust;
        let invalid = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if t.revocation_timeout < Duration::from_millis(100)
            || t.revocation_timeout > Duration::from_secs(30)
        {
            return invalid("trust.revocation_timeout: must be between 0.1 and 30 seconds");
        }
        // The provider's callback waits for the check: (retries + 1) attempts per responder.
        if t.revocation_retries > 3 {
            return invalid("trust.revocation_retries: at most 3");
        }
        if t.revocation_skew > Duration::from_secs(3600) {
            return invalid("trust.revocation_skew: at most 1 hour");
        }
        if t.revocation_cache_max > Duration::from_secs(7 * 86400) {
            return invalid("trust.revocation_cache_max: at most 7 days");
        }
        if t.crl_refresh < Duration::from_secs(1) || t.crl_refresh > Duration::from_secs(86400) {
            return invalid("trust.crl_refresh: between 1 second and 1 day");
        }
        if let Some(sources) = &t.sources {
            check_trust_sources(sources)?;
        }
        Ok(())
    }

    fn check_server(&self) -> Result<(), ConfigError> {
        if self.server.shutdown_delay > Duration::from_secs(60) {
            return Err(ConfigError::Invalid(
                "server.shutdown_delay: at most 60 seconds".to_owned(),
            ));
        }
        let prefix = &self.server.route_prefix;
        if !prefix.starts_with('/') || prefix.ends_with('/') || prefix.len() < 2 {
            return Err(ConfigError::Invalid(format!(
                "server.route_prefix: {prefix:?} must start with '/' and not end with '/' (for example \"/.kepgate\")"
            )));
        }
        let canonical = crate::canonical_path::CanonicalPath::parse(prefix);
        if prefix.contains(['?', '#', ' ', '{', '}', '*'])
            || canonical.as_ref().map(|p| p.for_decisions()) != Ok(prefix.as_str())
        {
            return Err(ConfigError::Invalid(format!(
                "server.route_prefix: {prefix:?} may contain only plain path characters"
            )));
        }
        for (key, url) in [
            ("server.base_url", Some(&self.server.base_url)),
            (
                "server.public_base_url",
                self.server.public_base_url.as_ref(),
            ),
        ] {
            if let Some(url) = url
                && !matches!(url.scheme(), "http" | "https")
            {
                return Err(ConfigError::Invalid(format!(
                    "{key}: {url} must be an http:// or https:// URL"
                )));
            }
        }
        if self.server.header_read_timeout.is_zero() {
            return Err(ConfigError::Invalid(
                "server.header_read_timeout: must be at least 1 second".to_owned(),
            ));
        }
        self.check_http2()?;
        if self.server.body_limit_bytes == 0 {
            return Err(ConfigError::Invalid(
                "server.body_limit_bytes: must be at least 1".to_owned(),
            ));
        }
        if self.server.tls.is_some() && self.server.base_url.scheme() != "https" {
            // The base URL decides the cookies' `__Host-` prefix and `Secure` flag and every
            // absolute link: it must say what browsers really use.
            return Err(ConfigError::Invalid(format!(
                "server.base_url: {} must be an https:// URL when [server.tls] is set",
                self.server.base_url
            )));
        }
        Ok(())
    }

    fn check_http2(&self) -> Result<(), ConfigError> {
        let http2 = &self.server.http2;
        for (key, zero) in [
            ("idle_timeout", http2.idle_timeout.is_zero()),
            ("keep_alive_timeout", http2.keep_alive_timeout.is_zero()),
        ] {
            if zero {
                return Err(ConfigError::Invalid(format!(
                    "server.http2.{key}: must be at least 1 second"
                )));
            }
        }
        // Zero would refuse every request, or end a connection at a browser's first cancel.
        for (key, zero) in [
            ("max_concurrent_streams", http2.max_concurrent_streams == 0),
            (
                "max_pending_reset_streams",
                http2.max_pending_reset_streams == 0,
            ),
            (
                "max_local_error_reset_streams",
                http2.max_local_error_reset_streams == 0,
            ),
        ] {
            if zero {
                return Err(ConfigError::Invalid(format!(
                    "server.http2.{key}: must be at least 1"
                )));
            }
        }
        Ok(())
    }

    fn check_database(&self) -> Result<(), ConfigError> {
        let db = self.database.url.expose_secret();
        match Url::parse(db) {
            Ok(url) if matches!(url.scheme(), "postgres" | "postgresql") => {}
            _ => {
                return Err(ConfigError::Invalid(format!(
                    "database.url (or DATABASE_URL): {} is not a postgres:// URL",
                    redacted_url(db)
                )));
            }
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::Invalid(
                "database.max_connections: must be at least 1".to_owned(),
            ));
        }
        Ok(())
    }

    fn check_provider(&self, id: &str, provider: &ProviderSettings) -> Result<(), ConfigError> {
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(ConfigError::Invalid(format!(
                "providers.{id}: a provider id may contain only a-z, 0-9 and '-' (it appears in URLs)"
            )));
        }
        provider
            .check_callback_secret(id)
            .map_err(ConfigError::Invalid)?;
        let common = provider.common();
        if common.request_ttl.is_zero() || common.request_ttl > Duration::from_secs(900) {
            return Err(ConfigError::Invalid(format!(
                "providers.{id}.request_ttl: must be between 1 and 900 seconds"
            )));
        }
        if common.http_timeout.is_zero() {
            return Err(ConfigError::Invalid(format!(
                "providers.{id}.http_timeout: must be at least 1 second"
            )));
        }
        // A login start may wait for two calls (session token, then the request): both must
        // fit in the page's own time limit, or the user sees "did not finish in time"
        // instead of the provider's message, and the pending login is never marked failed.
        if common.http_timeout * 2 >= self.server.request_timeout {
            return Err(ConfigError::Invalid(format!(
                "providers.{id}.http_timeout: must be less than half of server.request_timeout ({} s)",
                self.server.request_timeout.as_secs()
            )));
        }
        // A redirect provider's answer is unsigned, and a provider's API carries kepgate's
        // tokens: TLS is what stands between them and the network, so plain http only to this
        // machine.
        let (key, url) = provider.endpoint();
        let plain_http_allowed = common.allow_http && url.scheme() == "http";
        if !(https_or_loopback(url) || plain_http_allowed) || url.host().is_none() {
            return Err(ConfigError::Invalid(format!(
                "providers.{id}.{key}: {url} must be https:// (http:// only to this machine: \
                 127.0.0.1, [::1], localhost); a test stand with a CA of its own: ca_file"
            )));
        }
        provider.check(id).map_err(ConfigError::Invalid)
    }

    fn check_route(&self, name: &str, route: &RouteSettings) -> Result<(), ConfigError> {
        if !route.prefix.starts_with('/') {
            return Err(ConfigError::Invalid(format!(
                "routes.{name}.prefix: {:?} must start with '/'",
                route.prefix
            )));
        }
        // Requests are matched in canonical form, so a prefix in any other form would
        // never match (or match something else than it says).
        let canonical = crate::canonical_path::CanonicalPath::parse(&route.prefix);
        if canonical.as_ref().map(|p| p.for_decisions()) != Ok(route.prefix.as_str()) {
            return Err(ConfigError::Invalid(format!(
                "routes.{name}.prefix: {:?} is not a canonical path (no '.', '..', '//', ';' parameters, percent-encoding of plain characters or lower-case hex)",
                route.prefix
            )));
        }
        if route.prefix.starts_with(&self.server.route_prefix) {
            return Err(ConfigError::Invalid(format!(
                "routes.{name}.prefix: {:?} is inside kepgate's reserved {}",
                route.prefix, self.server.route_prefix
            )));
        }
        if !matches!(route.upstream.scheme(), "http" | "https") || route.upstream.host().is_none() {
            return Err(ConfigError::Invalid(format!(
                "routes.{name}.upstream: {} must be an http:// or https://host:port URL",
                route.upstream
            )));
        }
        let tls = &route.tls;
        if route.upstream.scheme() == "http"
            && (tls.ca_file.is_some() || tls.client_cert_file.is_some())
        {
            return Err(ConfigError::Invalid(format!(
                "routes.{name}.tls: the upstream {} is plain http; use https:// or remove tls",
                route.upstream
            )));
        }
        if tls.client_cert_file.is_some() != tls.client_key_file.is_some() {
            return Err(ConfigError::Invalid(format!(
                "routes.{name}.tls: client_cert_file and client_key_file go together"
            )));
        }
        if route.public && !route.allow.is_open() {
            return Err(ConfigError::Invalid(format!(
                "routes.{name}: a public route cannot have an access policy (allow.*)"
            )));
        }
        for code in &route.allow.rnokpp {
            crate::identity::Rnokpp::parse(code)
                .map_err(|e| ConfigError::Invalid(format!("routes.{name}.allow.rnokpp: {e}")))?;
        }
        for code in &route.allow.edrpou {
            crate::identity::Edrpou::parse(code)
                .map_err(|e| ConfigError::Invalid(format!("routes.{name}.allow.edrpou: {e}")))?;
        }
        for provider in &route.allow.providers {
            if !self.providers.contains_key(provider) {
                return Err(ConfigError::Invalid(format!(
                    "routes.{name}.allow.providers: no provider {provider:?} is configured"
                )));
            }
        }
        Ok(())
    }

    fn check_identity(&self) -> Result<(), ConfigError> {
        let identity = &self.identity;
        for header in identity
            .header_names()
            .into_iter()
            .chain([identity.header_prefix.as_str()])
        {
            if header.is_empty()
                || !header
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(ConfigError::Invalid(format!(
                    "identity: header name {header:?} must be lower-case letters, digits and '-'"
                )));
            }
        }
        Ok(())
    }

    fn check_login(&self) -> Result<(), ConfigError> {
        if self.login.max_starts_in_flight == 0 || self.login.max_pending == 0 {
            return Err(ConfigError::Invalid(
                "login.max_starts_in_flight and login.max_pending: must be at least 1".to_owned(),
            ));
        }
        if self.login.start_rate_per_minute == 0 {
            return Err(ConfigError::Invalid(
                "login.start_rate_per_minute: must be at least 1".to_owned(),
            ));
        }
        Ok(())
    }

    fn check_qr(&self) -> Result<(), ConfigError> {
        let l = &self.login;
        let invalid = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if !(1..=30).contains(&l.qr_rotate_seconds) {
            return invalid("login.qr_rotate_seconds: must be between 1 and 30");
        }
        // A link must outlive at least one rotation, or a code on the screen could already be
        // refused; a minute is far more than scanning takes.
        if l.qr_link_max_age < Duration::from_secs(l.qr_rotate_seconds)
            || l.qr_link_max_age > Duration::from_secs(60)
        {
            return invalid(
                "login.qr_link_max_age: must be at least login.qr_rotate_seconds and at most 60 seconds",
            );
        }
        if let Some(key) = &l.qr_link_key
            && key.expose_secret().len() < 32
        {
            return invalid(
                "login.qr_link_key: must be at least 32 characters (generate one with `openssl rand -hex 32`)",
            );
        }
        Ok(())
    }

    fn check_session(&self) -> Result<(), ConfigError> {
        let s = &self.session;
        let invalid = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        // i32 seconds in the database (sessions.idle_timeout_seconds): 24 days is plenty.
        let max = Duration::from_secs(i32::MAX as u64);
        if s.idle_timeout.is_zero() || s.idle_timeout > max {
            return invalid("session.idle_timeout: must be at least 1 second");
        }
        if s.absolute_timeout.is_zero() || s.absolute_timeout > Duration::from_secs(366 * 86400) {
            return invalid("session.absolute_timeout: must be between 1 second and 366 days");
        }
        if s.idle_timeout > s.absolute_timeout {
            return invalid(
                "session.idle_timeout: must not be longer than session.absolute_timeout",
            );
        }
        if s.shared_pc_idle_timeout.is_zero() || s.shared_pc_idle_timeout > s.idle_timeout {
            return invalid(
                "session.shared_pc_idle_timeout: must be at least 1 second and not longer than session.idle_timeout",
            );
        }
        // A session must not idle out between two writes of its last activity.
        if s.last_seen_write_interval.is_zero()
            || s.last_seen_write_interval * 2 > s.shared_pc_idle_timeout
        {
            return invalid(
                "session.last_seen_write_interval: must be at least 1 second and at most half of session.shared_pc_idle_timeout",
            );
        }
        if s.cache_ttl > Duration::from_secs(300) {
            return invalid(
                "session.cache_ttl: must be at most 300 seconds (0 turns the cache off)",
            );
        }
        if s.history_retention_days == 0 {
            return invalid("session.history_retention_days: must be at least 1");
        }
        Ok(())
    }

    fn check_signing(&self) -> Result<(), ConfigError> {
        let s = &self.signing;
        let invalid = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        // Diia's own bound on a request's files is not published; 100 keeps the phone's list
        // readable and a callback of 100 signatures small.
        if s.max_files == 0 || s.max_files > 100 {
            return invalid("signing.max_files: must be between 1 and 100");
        }
        if s.max_file_bytes == 0 || s.max_file_bytes > 64 * 1024 * 1024 {
            return invalid("signing.max_file_bytes: must be between 1 byte and 64 MiB");
        }
        if s.max_files.saturating_mul(s.max_file_bytes) > 256 * 1024 * 1024 {
            return invalid(
                "signing.max_files × signing.max_file_bytes: at most 256 MiB in one request",
            );
        }
        if s.request_ttl < Duration::from_secs(30) || s.request_ttl > Duration::from_secs(3600) {
            return invalid("signing.request_ttl: must be between 30 and 3600 seconds");
        }
        let year = Duration::from_secs(366 * 86400);
        if s.keep_after_fetch > year || s.keep_unfetched > year {
            return invalid("signing.keep_after_fetch and keep_unfetched: at most 366 days");
        }
        Ok(())
    }
}

/// A link people may be sent to for help: mail, telephone or a web page; never `javascript:`,
/// `data:` or anything else a browser would run or render in place. The pages check it again
/// where they print it (`http::branding`).
pub fn is_support_url(url: &str) -> bool {
    if url.len() > 500 || url.chars().any(char::is_control) {
        return false;
    }
    if let Some(to) = url
        .strip_prefix("mailto:")
        .or_else(|| url.strip_prefix("tel:"))
    {
        return !to.trim().is_empty();
    }
    // A web page needs a host: `https://` alone or `https:///path` leads nowhere.
    (url.starts_with("https://") || url.starts_with("http://"))
        && Url::parse(url).is_ok_and(|u| u.host_str().is_some_and(|h| !h.is_empty()))
}

/// An `https://` URL, or `http://` to this machine (the loopback address or `localhost`):
/// OpenID Connect redirect URIs, provider endpoints.
pub(crate) fn https_or_loopback(url: &Url) -> bool {
    let local = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    url.scheme() == "https" || (url.scheme() == "http" && local)
}

/// `#rrggbb` or `#rgb` → (r, g, b).
pub fn parse_hex_color(color: &str) -> Option<[u8; 3]> {
    let hex = color.strip_prefix('#')?;
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let bytes = hex.as_bytes();
    match bytes.len() {
        3 => Some([
            digit(bytes[0])? * 17,
            digit(bytes[1])? * 17,
            digit(bytes[2])? * 17,
        ]),
        6 => Some([
            digit(bytes[0])? * 16 + digit(bytes[1])?,
            digit(bytes[2])? * 16 + digit(bytes[3])?,
            digit(bytes[4])? * 16 + digit(bytes[5])?,
        ]),
        _ => None,
    }
}

/// WCAG 2.1 contrast ratio of the colour against white.
pub fn contrast_on_white(rgb: [u8; 3]) -> f64 {
    let channel = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2]);
    1.05 / (l + 0.05)
}

/// A loopback host: what `allow_http` is for.
fn is_this_machine(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `[trust.sources]`: https unless plainly allowed, and bounds that keep a refresh sane.
fn check_trust_sources(s: &TrustSources) -> Result<(), ConfigError> {
    let invalid = |m: String| Err(ConfigError::Invalid(m));
    for (key, url) in [
        ("bundle_url", &s.bundle_url),
        ("providers_url", &s.providers_url),
    ] {
        if !url.username().is_empty() || url.password().is_some() {
            return invalid(format!(
                "trust.sources.{key}: a user or password in the URL would be logged and stored with it; use a mirror that needs none (or a client certificate at a proxy)"
            ));
        }
        match url.scheme() {
            "https" => {}
            "http" if s.allow_http && is_this_machine(url) => {}
            "http" if s.allow_http => {
                return invalid(format!(
                    "trust.sources.{key}: allow_http is for a mirror on this machine (127.0.0.1, ::1, localhost) only"
                ));
            }
            "http" => {
                return invalid(format!(
                    "trust.sources.{key}: {url} is plain http: the list decides whom kepgate trusts, so it is fetched over https (allow_http = true for a mirror on this machine or a test stand)"
                ));
            }
            other => return invalid(format!("trust.sources.{key}: {other}: is not http(s)")),
        }
    }
    if s.refresh_interval < Duration::from_secs(60)
        || s.refresh_interval > Duration::from_secs(7 * 86400)
    {
        return invalid("trust.sources.refresh_interval: between 1 minute and 7 days".to_owned());
    }
    if s.timeout < Duration::from_secs(1) || s.timeout > Duration::from_secs(600) {
        return invalid("trust.sources.timeout: between 1 second and 10 minutes".to_owned());
    }
    if s.max_bytes < 1024 {
        return invalid("trust.sources.max_bytes: at least 1024".to_owned());
    }
    if s.max_gone_percent > 100 {
        return invalid("trust.sources.max_gone_percent: at most 100".to_owned());
    }
    Ok(())
}
