//! Telling the service manager how the gateway is (systemd's `Type=notify`, sd_notify(3)): one
//! datagram of `KEY=value` lines to the unix socket named by `NOTIFY_SOCKET` (a path, or an
//! abstract name written with a leading `@`). Without the variable, as in a terminal or a
//! container, nothing is sent. A message that cannot be sent is logged and the gateway goes on:
//! serving matters more than systemd's view of it (which then times the start out itself).

/// What the gateway tells the service manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// Serving: the listeners are bound and the database migrated and reachable (what `/readyz`
    /// says), or a reload is over. The status is the line `systemctl status` shows.
    Ready { status: String },
    /// SIGHUP is being handled; `Ready` follows.
    Reloading,
    /// Shutting down: in-flight requests are drained from now on.
    Stopping,
}

impl Notification {
    /// The datagram, as sd_notify(3) words it.
    pub fn message(&self) -> String {
        match self {
            Self::Ready { status } => format!("READY=1\nSTATUS={}", one_line(status)),
            Self::Reloading => "RELOADING=1\nSTATUS=reloading".to_owned(),
            Self::Stopping => "STOPPING=1\nSTATUS=stopping".to_owned(),
        }
    }
}

/// Sends `notification` to the service manager, if one asked for it.
pub fn notify(notification: &Notification) {
    let Some(socket) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    if let Err(e) = send(&socket, &notification.message()) {
        tracing::warn!(
            error = %e,
            socket = %socket.to_string_lossy(),
            "cannot notify the service manager"
        );
    }
}

/// A newline in the status would start another `KEY=value` line of the protocol.
fn one_line(status: &str) -> String {
    status.replace(['\n', '\r'], " ")
}

#[cfg(unix)]
fn send(socket: &std::ffi::OsStr, message: &str) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::net::{SocketAddr, UnixDatagram};

    let address = match socket.as_bytes().strip_prefix(b"@") {
        Some(name) => abstract_address(name)?,
        None => SocketAddr::from_pathname(socket)?,
    };
    let sent = UnixDatagram::unbound()?.send_to_addr(message.as_bytes(), &address)?;
    if sent != message.len() {
        return Err(std::io::Error::other("the message was cut short"));
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn abstract_address(name: &[u8]) -> std::io::Result<std::os::unix::net::SocketAddr> {
    use std::os::linux::net::SocketAddrExt;
    std::os::unix::net::SocketAddr::from_abstract_name(name)
}

#[cfg(all(unix, not(target_os = "linux")))]
fn abstract_address(_: &[u8]) -> std::io::Result<std::os::unix::net::SocketAddr> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "abstract unix sockets exist only on Linux",
    ))
}

#[cfg(not(unix))]
fn send(_: &std::ffi::OsStr, _: &str) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "the service manager's socket is a unix socket",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_cannot_add_lines_to_the_message() {
        let message = Notification::Ready {
            status: "serving\nWATCHDOG=trigger".to_owned(),
        }
        .message();
        assert_eq!(message, "READY=1\nSTATUS=serving WATCHDOG=trigger");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn an_abstract_socket_gets_the_message() {
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::net::{SocketAddr, UnixDatagram};

        let name = format!("kepgate-notify-test-{}", std::process::id());
        let listening =
            UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).unwrap())
                .unwrap();
        send(std::ffi::OsStr::new(&format!("@{name}")), "STOPPING=1").unwrap();
        let mut buffer = [0u8; 64];
        let n = listening.recv(&mut buffer).unwrap();
        assert_eq!(&buffer[..n], b"STOPPING=1");
    }
}
