//! The listening side: accepting connections, TLS towards browsers, HTTP/1.1 and HTTP/2.

mod certificate_check;
mod connections;
pub mod tls;

pub use connections::{Listening, serve};
