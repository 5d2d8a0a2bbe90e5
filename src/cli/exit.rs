//! How a command's end becomes the process's exit.

/// `kepgate audit | head`: the reader stopped, which is not the command failing.
pub fn reader_went_away(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
