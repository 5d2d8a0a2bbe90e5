//! Who the client is: its address (the peer's, or from `X-Forwarded-For` when the peer is one
//! of `proxy.trusted_proxies`), the scheme and host it used. Resolved the same way for the rate
//! limit, the login history, the phone check and the headers sent to the cabinet; handlers take
//! [`ClientAddr`] rather than the raw peer, which behind a front proxy is the proxy, or
//! [`Client`] when they also record the browser's `User-Agent`.

use std::convert::Infallible;
use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::header::{HOST, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName};

use super::context::Web;

pub static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
pub static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
pub static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// The client's address, resolved through trusted proxies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl<S> FromRequestParts<S> for ClientAddr
where
    Web: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        let web = Web::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        let origin = client_origin(
            &parts.headers,
            peer,
            &web.settings.proxy.trusted_proxies,
            web.settings.server.base_url.scheme(),
        );
        Ok(ClientAddr(origin.ip))
    }
}

/// The client as kepgate records it (a login, a session, a suspicious QR link): its address and
/// its `User-Agent`, cut to 300 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub addr: IpAddr,
    pub user_agent: Option<String>,
}

/// Characters of `User-Agent` kept: enough to tell a device, no more for anyone to fill.
const USER_AGENT_CHARS: usize = 300;

impl<S> FromRequestParts<S> for Client
where
    Web: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        let ClientAddr(addr) = ClientAddr::from_request_parts(parts, state).await?;
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(USER_AGENT_CHARS).collect());
        Ok(Client { addr, user_agent })
    }
}

/// Who the client is and how it reached us, decided once per request.
#[derive(Debug, Clone)]
pub struct ClientOrigin {
    pub ip: IpAddr,
    pub proto: String,
    pub host: Option<String>,
    /// The X-Forwarded-For chain to send on (trusted hops kept, the peer appended).
    pub forwarded_for: String,
}

/// X-Forwarded-* from the peer are believed only when the peer is a configured proxy; the
/// client's address is then the right-most untrusted entry of the chain.
pub fn client_origin(
    headers: &HeaderMap,
    peer: IpAddr,
    trusted: &[ipnet::IpNet],
    base_scheme: &str,
) -> ClientOrigin {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if !is_trusted(&peer) {
        return ClientOrigin {
            ip: peer,
            proto: base_scheme.to_owned(),
            host,
            forwarded_for: peer.to_string(),
        };
    }
    // Each entry read on its own: bytes that are not text in the client's part of the line
    // (proxies append to it) spoil that entry only, never the ones the proxies wrote.
    let hops: Vec<Option<IpAddr>> = headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b','))
        .map(|entry| {
            std::str::from_utf8(entry)
                .ok()
                .and_then(|s| parse_hop(s.trim()))
        })
        .collect();
    // Right to left past our own proxies; the first other entry is the client. An entry that
    // does not parse stops the walk: whatever stands left of it was written by the client.
    let mut ip = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(hop) if is_trusted(hop) => continue,
            Some(hop) => {
                ip = *hop;
                break;
            }
            None => break,
        }
    }
    let chain: Vec<IpAddr> = hops.into_iter().flatten().collect();
    let proto = headers
        .get(&X_FORWARDED_PROTO)
        .and_then(|v| v.to_str().ok())
        .filter(|p| matches!(*p, "http" | "https"))
        .unwrap_or(base_scheme)
        .to_owned();
    let host = headers
        .get(&X_FORWARDED_HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(host);
    let mut forwarded_for = String::with_capacity(16 * (chain.len() + 1));
    for hop in chain.iter().chain([&peer]) {
        if !forwarded_for.is_empty() {
            forwarded_for.push_str(", ");
        }
        // Writing to a String cannot fail.
        let _ = write!(forwarded_for, "{hop}");
    }
    ClientOrigin {
        ip,
        proto,
        host,
        forwarded_for,
    }
}

/// One X-Forwarded-For entry: an address, with or without a port (`1.2.3.4:5678`, `[::1]:80`),
/// as load balancers write them.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    entry
        .parse()
        .ok()
        .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| entry.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn forwarded_for_from_untrusted_peers_is_replaced() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("1.2.3.4"));
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let o = client_origin(&h, "10.0.0.9".parse().unwrap(), &[], "http");
        assert_eq!(o.ip.to_string(), "10.0.0.9");
        assert_eq!(o.forwarded_for, "10.0.0.9");
        assert_eq!(o.proto, "http");
        let trusted = vec!["10.0.0.0/8".parse().unwrap()];
        let o = client_origin(&h, "10.0.0.9".parse().unwrap(), &trusted, "http");
        assert_eq!(o.ip.to_string(), "1.2.3.4");
        assert_eq!(o.forwarded_for, "1.2.3.4, 10.0.0.9");
        assert_eq!(o.proto, "https");
    }

    #[test]
    fn an_entry_that_does_not_parse_ends_the_walk_through_forwarded_for() {
        let trusted = vec!["10.0.0.0/8".parse().unwrap()];
        let peer = "10.0.0.9".parse().unwrap();
        let origin = |xff: &'static str| {
            let mut h = HeaderMap::new();
            h.insert("x-forwarded-for", HeaderValue::from_static(xff));
            client_origin(&h, peer, &trusted, "http").ip.to_string()
        };
        // The client wrote "6.6.6.6, junk"; the load balancer appended the real address.
        assert_eq!(origin("6.6.6.6, junk, 203.0.113.7"), "203.0.113.7");
        assert_eq!(origin("6.6.6.6, junk"), "10.0.0.9");
        assert_eq!(origin("203.0.113.7:5678, 10.1.1.1"), "203.0.113.7");
        assert_eq!(origin("[2001:db8::7]:443"), "2001:db8::7");
    }
}
