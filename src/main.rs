use std::process::ExitCode;

use clap::Parser;

// mimalloc returns freed memory to the system far more readily than glibc's allocator, which
// matters for a process holding thousands of long-lived connections (bench/sse_waiters.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    kepgate::cli::run(kepgate::cli::Cli::parse()).await
}
