//! Replicas as an operator runs them: several processes started at the same moment on a
//! database that does not exist yet, under a wrapper script's own `KEPGATE_…` variables; the
//! login page's 503 as soon as the database is known to be gone.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::helpers::{client, free_port, fresh_database_url, kepgate_bin, spawn_app};
use crate::processes::KillOnDrop;

struct Replica {
    process: KillOnDrop,
    address: String,
    log: std::path::PathBuf,
}

impl Replica {
    /// `kepgate serve` configured by the environment alone, as a container would be.
    fn start(database_url: &str, dir: &std::path::Path, n: usize) -> Replica {
        Replica::start_with(database_url, dir, n, &[])
    }

    fn start_with(
        database_url: &str,
        dir: &std::path::Path,
        n: usize,
        env: &[(&str, &str)],
    ) -> Replica {
        let port = free_port();
        let address = format!("http://127.0.0.1:{port}");
        let log = dir.join(format!("replica-{n}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let process = kepgate_bin()
            .arg("serve")
            .env("KEPGATE_DATABASE__URL", database_url)
            .env("KEPGATE_DATABASE__CREATE_IF_MISSING", "true")
            .env("KEPGATE_SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .env("KEPGATE_SERVER__BASE_URL", format!("{address}/"))
            .env("KEPGATE_METRICS__ENABLED", "false")
            // What a wrapper script sets for itself: not configuration, not fatal.
            .env("KEPGATE_BIN", env!("CARGO_BIN_EXE_kepgate"))
            .envs(env.iter().copied())
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap();
        Replica {
            process: KillOnDrop(process),
            address,
            log,
        }
    }

    /// Waits until `/readyz` says 200; panics with the log if the process exits first.
    async fn ready(&mut self, round: usize) {
        let http = client();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.process.0.try_wait().unwrap() {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                panic!("round {round}: a replica exited ({status}):\n{log}");
            }
            let ready = http
                .get(format!("{}/.kepgate/readyz", self.address))
                .send()
                .await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: not ready in 30 s"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

#[tokio::test]
async fn three_replicas_started_together_on_a_fresh_database_all_come_up_every_time() {
    let dir = std::env::temp_dir().join(format!("kepgate-replicas-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let admin = spawn_app().await;
    for round in 0..20 {
        // Created by the replicas themselves: the database, the migrations, the shared keys.
        let (url, name) = fresh_database_url();
        let mut replicas: Vec<Replica> = (0..3).map(|n| Replica::start(&url, &dir, n)).collect();
        for replica in &mut replicas {
            replica.ready(round).await;
        }
        drop(replicas);
        // One assertion key and one QR link key, whoever won.
        let mut conn = {
            use sqlx::Connection;
            sqlx::PgConnection::connect(&url).await.unwrap()
        };
        let keys: (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM assertion_keys), (SELECT count(*) FROM qr_link_keys)",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        drop(conn);
        assert_eq!(keys, (1, 1), "round {round}");
        admin
            .admin(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_configuration_name_with_one_underscore_is_refused_and_named() {
    let out = kepgate_bin()
        .arg("check-config")
        .env("KEPGATE_SESSION_IDLE_TIMEOUT", "600")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("KEPGATE_SESSION_IDLE_TIMEOUT")
            && stderr.contains("KEPGATE_SESSION__IDLE_TIMEOUT for session.idle_timeout"),
        "{stderr}"
    );
    // The right spelling applies, next to names that are not configuration at all.
    let out = kepgate_bin()
        .arg("check-config")
        .env("KEPGATE_SERVER__ROUTE_PREFIX", "/.auth")
        .env("KEPGATE_BIN", "/usr/local/bin/kepgate")
        .env("KEPGATE_WRAPPER_LOG", "/tmp/x")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("kepgate routes under: /.auth"), "{stdout}");
}

#[tokio::test]
async fn the_login_page_is_503_as_soon_as_readyz_is_and_both_recover() {
    let app = spawn_app().await;
    let login = app.own_path("/login");
    let readyz = app.own_path("/readyz");
    assert_eq!(app.get(&login).await.status(), 200);

    app.cut_database().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.get(&readyz).await.status() != 503 {
        assert!(Instant::now() < deadline, "readyz still 200 after the cut");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Right after: no form that cannot work.
    let page = app.get(&login).await;
    assert_eq!(page.status(), 503);
    assert!(page.headers().contains_key("retry-after"));

    app.restore_database().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.get(&login).await.status() != 200 {
        assert!(Instant::now() < deadline, "the login page did not recover");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.get(&readyz).await.status(), 200);
}

#[tokio::test]
async fn after_sigterm_a_replica_says_not_ready_while_it_still_serves_then_exits() {
    let dir = std::env::temp_dir().join(format!("kepgate-stopping-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let admin = spawn_app().await;
    let (url, name) = fresh_database_url();
    let mut replica =
        Replica::start_with(&url, &dir, 0, &[("KEPGATE_SERVER__SHUTDOWN_DELAY", "2")]);
    replica.ready(0).await;
    let stopped_at = Instant::now();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &replica.process.0.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let http = client();
    let get = async |path: &str| {
        http.get(format!("{}{path}", replica.address))
            .send()
            .await
            .map(|r| r.status().as_u16())
    };
    // The load balancer's health check sees 503 at once; a person's request is still served.
    let deadline = Instant::now() + Duration::from_secs(1);
    while get("/.kepgate/readyz").await.unwrap() != 503 {
        assert!(Instant::now() < deadline, "readyz still 200 after SIGTERM");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(get("/.kepgate/login").await.unwrap(), 200);
    let status = loop {
        if let Some(status) = replica.process.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            stopped_at.elapsed() < Duration::from_secs(15),
            "still running"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}");
    assert!(
        stopped_at.elapsed() >= Duration::from_secs(2),
        "it kept serving for the delay"
    );
    admin
        .admin(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await;
    let _ = std::fs::remove_dir_all(&dir);
}
