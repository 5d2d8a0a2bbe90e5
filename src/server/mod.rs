//! The listening side: accepting connections, TLS towards browsers, HTTP/1.1 and HTTP/2.

mod certificate_check;
mod connections;
mod http2;
mod per_address;
mod service;
mod streams;
pub mod tls;

pub use connections::{Listening, serve};
pub use http2::Http2Bounds;
pub use per_address::PerAddress;
