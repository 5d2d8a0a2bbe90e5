//! The listening side: accepting connections, TLS towards browsers, HTTP/1.1 and HTTP/2; what
//! the service manager hears (readiness, reloads) and SIGHUP's reload.

mod certificate_check;
mod connections;
mod http2;
mod per_address;
pub mod reload;
mod service;
pub mod service_manager;
mod streams;
pub mod tls;

pub use connections::{Listening, serve};
pub use http2::Http2Bounds;
pub use per_address::PerAddress;
pub use service::{CurrentRouter, RouterSwap};
