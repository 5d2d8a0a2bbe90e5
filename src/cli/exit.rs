//! How a command's end becomes the process's exit.

use std::io::Write as _;
use std::process::ExitCode;

/// A command's output in one write to stdout. A reader that stopped early
/// (`kepgate check-config | head -1`) is not a failure; `println!` would panic on the broken
/// pipe (Rust starts with SIGPIPE ignored).
pub fn print_whole(text: &str, what: &str) -> ExitCode {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kepgate: writing {what}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `kepgate audit | head`: the reader stopped, which is not the command failing.
pub fn reader_went_away(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
