//! `kepgate serve` under a service manager, as systemd runs it (`Type=notify`,
//! `ExecReload=kill -HUP $MAINPID`, SIGTERM to stop): a real process, a notification socket the
//! test listens on, signals sent by `kill`.

use std::io::Read;
use std::process::{Child, Stdio};
use std::time::Duration;

use tokio::net::UnixDatagram;

use crate::helpers::{client, free_port, fresh_database_url, kepgate_bin, test_settings};
use crate::processes::KillOnDrop;

/// A gateway process told `NOTIFY_SOCKET`, and where it answers.
struct Notified {
    child: KillOnDrop,
    log: Option<std::thread::JoinHandle<String>>,
    base: String,
}

impl Notified {
    fn start(notify_socket: &str) -> Self {
        Self::start_on(notify_socket, &fresh_database_url().0)
    }

    fn start_on(notify_socket: &str, url: &str) -> Self {
        let port = free_port();
        let mut child = KillOnDrop(
            kepgate_bin()
                .arg("serve")
                .env("DATABASE_URL", url)
                .env("KEPGATE_SERVER__LISTEN", format!("127.0.0.1:{port}"))
                .env(
                    "KEPGATE_SERVER__BASE_URL",
                    format!("http://127.0.0.1:{port}/"),
                )
                .env("KEPGATE_METRICS__LISTEN", "127.0.0.1:0")
                .env("NOTIFY_SOCKET", notify_socket)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        // Read as it comes, so the gateway never blocks on a full pipe.
        let mut stderr = child.0.stderr.take().unwrap();
        let log = std::thread::spawn(move || {
            let mut log = String::new();
            let _ = stderr.read_to_string(&mut log);
            log
        });
        Self {
            child,
            log: Some(log),
            base: format!(
                "http://127.0.0.1:{port}{}",
                test_settings().server.route_prefix
            ),
        }
    }

    fn process(&mut self) -> &mut Child {
        &mut self.child.0
    }

    fn signal(&mut self, signal: &str) {
        let pid = self.process().id().to_string();
        let sent = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    async fn readyz(&self) -> u16 {
        client()
            .get(format!("{}/readyz", self.base))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }

    /// Waits for the exit; the log so far.
    fn finish(mut self) -> (std::process::ExitStatus, String) {
        let status = self.process().wait().unwrap();
        let log = self.log.take().unwrap().join().unwrap();
        (status, log)
    }
}

/// The next datagram, as its `KEY=value` lines.
async fn next_message(socket: &UnixDatagram, within: Duration) -> Vec<String> {
    let mut buffer = vec![0u8; 4096];
    let n = tokio::time::timeout(within, socket.recv(&mut buffer))
        .await
        .expect("a notification in time")
        .unwrap();
    String::from_utf8(buffer[..n].to_vec())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_service_manager_hears_ready_when_readyz_answers_and_a_sighup_neither_stops_nor_unreadies()
 {
    let dir =
        std::env::temp_dir().join(format!("kepgate-notify-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    let mut gateway = Notified::start(path.to_str().unwrap());

    // Migrations and the first connections take a while in a debug build.
    let ready = next_message(&socket, Duration::from_secs(60)).await;
    assert_eq!(ready[0], "READY=1", "{ready:?}");
    // Asked once, at once: READY=1 must not come before /readyz would say 200.
    assert_eq!(gateway.readyz().await, 200);
    assert!(
        ready
            .iter()
            .any(|l| l.starts_with("STATUS=serving on 127.0.0.1:")),
        "{ready:?}"
    );

    // ExecReload=/bin/kill -HUP $MAINPID: without [server.tls] SIGHUP's default would end it.
    gateway.signal("-HUP");
    let reloading = next_message(&socket, Duration::from_secs(10)).await;
    assert_eq!(reloading[0], "RELOADING=1", "{reloading:?}");
    let ready_again = next_message(&socket, Duration::from_secs(10)).await;
    assert_eq!(ready_again[0], "READY=1", "{ready_again:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        gateway.process().try_wait().unwrap().is_none(),
        "SIGHUP ended the gateway"
    );
    assert_eq!(gateway.readyz().await, 200);

    // systemctl stop: SIGTERM; the manager hears STOPPING=1, the process ends cleanly.
    gateway.signal("-TERM");
    let stopping = next_message(&socket, Duration::from_secs(10)).await;
    assert_eq!(stopping[0], "STOPPING=1", "{stopping:?}");
    let (status, log) = gateway.finish();
    assert!(status.success(), "{status}\n{log}");
    assert!(
        log.contains("SIGHUP received; reloaded the configuration: applied"),
        "the log says what SIGHUP reloaded:\n{log}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_abstract_notification_socket_hears_ready_too() {
    use std::os::linux::net::SocketAddrExt;

    let name = format!("kepgate-notify-{}", uuid::Uuid::new_v4().simple());
    let address = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let socket = std::os::unix::net::UnixDatagram::bind_addr(&address).unwrap();
    socket.set_nonblocking(true).unwrap();
    let socket = UnixDatagram::from_std(socket).unwrap();
    let mut gateway = Notified::start(&format!("@{name}"));

    let ready = next_message(&socket, Duration::from_secs(60)).await;
    assert_eq!(ready[0], "READY=1", "{ready:?}");
    assert_eq!(gateway.readyz().await, 200);
    gateway.signal("-TERM");
    let (status, log) = gateway.finish();
    assert!(status.success(), "{status}\n{log}");
}

/// A reload asked while the gateway is still starting (here: a database that accepts the
/// connection and never answers, as one coming up does) must not end it: systemd counts a death
/// by SIGHUP as a clean exit and would not restart it.
#[tokio::test]
async fn a_sighup_while_the_gateway_is_still_starting_does_not_end_it() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "postgres://postgres@{}/never_answers",
        silent.local_addr().unwrap()
    );
    let socket = std::env::temp_dir().join(format!("kepgate-notify-{}", uuid::Uuid::new_v4()));
    let mut gateway = Notified::start_on(socket.to_str().unwrap(), &url);
    // Accepted and then left waiting: the gateway is inside its database connection.
    let (_held, _) = silent.accept().unwrap();
    gateway.signal("-HUP");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        gateway.process().try_wait().unwrap().is_none(),
        "SIGHUP during the start ended the gateway"
    );
}
