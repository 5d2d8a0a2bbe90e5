//! Why an emulator could not start.

use std::net::SocketAddr;
use std::path::PathBuf;

use kepgate_signature::test_ca::TestCaError;

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid emulator setting {key}: {reason}")]
    Config { key: &'static str, reason: String },
    #[error("emulator state file {path}: {source}")]
    StateFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("test CA bundle {path} is unusable (delete it to start a new CA): {source}")]
    CaBundle {
        path: PathBuf,
        #[source]
        source: TestCaError,
    },
    #[error("test CA: {0}")]
    Ca(#[from] TestCaError),
    #[error("HTTP client for callbacks: {0}")]
    HttpClient(#[from] reqwest::Error),
}
