use std::time::Duration;

use crate::helpers::{fresh_database_url, kepgate_bin, spawn_app};

#[tokio::test]
async fn migrations_apply_to_an_empty_database_that_did_not_exist() {
    // spawn_app points at a database name nobody created: the app creates and migrates it.
    let app = spawn_app().await;
    let applied: Vec<(i64, bool)> =
        sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let expected: Vec<i64> = kepgate::database::MIGRATOR
        .iter()
        .map(|m| m.version)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(
        applied.iter().map(|(v, _)| *v).collect::<Vec<_>>(),
        expected
    );
    assert!(applied.iter().all(|(_, ok)| *ok));
    for table in ["pending_logins", "sessions"] {
        let found: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
            .bind(table)
            .fetch_one(&app.db)
            .await
            .unwrap();
        assert_eq!(found.as_deref(), Some(table));
    }
}

#[tokio::test]
async fn migrate_command_creates_the_database_and_is_idempotent() {
    let (url, name) = fresh_database_url();
    for round in 0..2 {
        let out = kepgate_bin()
            .arg("migrate")
            .env("DATABASE_URL", &url)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "round {round}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("migrations applied"));
    }
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        count as usize,
        kepgate::database::MIGRATOR.iter().count(),
        "{name}"
    );
}

#[tokio::test]
async fn readyz_follows_the_database_without_a_restart() {
    let app = spawn_app().await;
    let readyz = app.own_path("/readyz");
    assert_eq!(app.get(&readyz).await.status(), 200);

    app.cut_database().await;
    let response = app.get(&readyz).await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["database"], "unreachable");
    // The process itself is fine.
    assert_eq!(app.get(&app.own_path("/healthz")).await.status(), 200);

    app.restore_database().await;
    assert_eq!(app.get(&readyz).await.status(), 200);
}

/// A gateway that stops gives back its database connections (the pool's and the LISTEN
/// connection) when it has stopped, not when its process exits: PostgreSQL's connection slots
/// are not held by a replica that is gone.
#[tokio::test]
async fn a_stopped_gateway_closes_its_database_connections() {
    use sqlx::Connection;
    let mut app = spawn_app().await;
    let mut admin = sqlx::PgConnection::connect(&format!(
        "{}/postgres",
        crate::helpers::postgres_server_url()
    ))
    .await
    .unwrap();
    let db_name = app.db_name.clone();
    let mut connections = async || -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = $1")
            .bind(&db_name)
            .fetch_one(&mut admin)
            .await
            .unwrap()
    };
    // Running: the pool and the LISTEN connection (up within a second of the start).
    let mut running = 0;
    for _ in 0..50 {
        running = connections().await;
        if running >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        running >= 2,
        "a running gateway holds connections: {running}"
    );
    let still_open = app.db.clone();
    app.stop().await;
    // `stop` returns once the server is done; the last connections close right after.
    let mut left = running;
    for _ in 0..50 {
        left = connections().await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "connections left to a stopped gateway's database");
    assert!(
        still_open.is_closed(),
        "the stopped gateway's pool is closed"
    );
}
