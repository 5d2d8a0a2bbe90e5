//! `[server.http2]`: the bounds of an HTTP/2 connection (spoken only with `[server.tls]`, where
//! ALPN offers `h2`). Defaults after nginx's (`keepalive_timeout` 75 s, 128 concurrent streams)
//! and the h2 crate's Rapid Reset limits.

use std::time::Duration;

use serde::Deserialize;

use crate::whole_seconds;

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Http2Settings {
    /// A connection with no open stream this long gets a GOAWAY and is closed. (The first
    /// request must come within `server.header_read_timeout` of the handshake.)
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub idle_timeout: Duration,
    /// After this long without a frame from the client, kepgate sends a PING; 0: never. Finds
    /// clients that vanished while a stream (an SSE stream, a download) was open.
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub keep_alive_interval: Duration,
    /// Time the client has to acknowledge a PING (keep-alive, and the one that follows a
    /// graceful GOAWAY); then the connection is closed.
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub keep_alive_timeout: Duration,
    /// Streams (requests) one connection may have open at once (`SETTINGS_MAX_CONCURRENT_STREAMS`);
    /// beyond, REFUSED_STREAM.
    pub max_concurrent_streams: u32,
    /// Streams the client opens and resets before kepgate has taken them up (Rapid Reset,
    /// CVE-2023-44487); one more: GOAWAY `ENHANCE_YOUR_CALM` and the connection closed.
    pub max_pending_reset_streams: usize,
    /// Requests the client may cancel after kepgate took them up and before their answer came
    /// (Rapid Reset paced to stay under `max_pending_reset_streams`: each costs a handler's
    /// work). Beyond this many, a connection on which they are also more than half of all
    /// requests is closed (Envoy's rule: a browser cancels some, an attacker nearly all).
    pub max_cancelled_streams: usize,
    /// Streams kepgate had to reset for the client's protocol errors, per connection
    /// (RUSTSEC-2024-0003; MadeYouReset's kind); one more: GOAWAY `ENHANCE_YOUR_CALM`.
    pub max_local_error_reset_streams: usize,
}

impl Default for Http2Settings {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(75),
            keep_alive_interval: Duration::from_secs(60),
            keep_alive_timeout: Duration::from_secs(20),
            max_concurrent_streams: 128,
            max_pending_reset_streams: 20,
            max_cancelled_streams: 100,
            max_local_error_reset_streams: 128,
        }
    }
}
