//! PostgreSQL: the pool, creating the database, and the embedded migrations.

use std::str::FromStr;
use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::migrate::{MigrateDatabase, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};

use crate::config::{DatabaseSettings, redacted_url};

/// Migrations from `migrations/`, compiled into the binary so a deployment is one file.
pub static MIGRATOR: Migrator = sqlx::migrate!();

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("cannot reach the database at {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot create the database at {url}: {source}")]
    Create {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("applying migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Creates the database when it is missing and allowed to, then opens the pool.
pub async fn connect(settings: &DatabaseSettings) -> Result<PgPool, DatabaseError> {
    let url = settings.url.expose_secret();
    let shown = redacted_url(url);
    if settings.create_if_missing {
        let exists =
            Postgres::database_exists(url)
                .await
                .map_err(|source| DatabaseError::Unreachable {
                    url: shown.clone(),
                    source,
                })?;
        if !exists {
            tracing::info!(database = %shown, "creating database");
            if let Err(source) = Postgres::create_database(url).await {
                // Replicas started together all try: the losers' CREATE DATABASE waits for the
                // winner's and fails (42P04, or 23505 on pg_database's unique name index when
                // both got past the catalogue check). The database is there either way.
                let created_by_another = Postgres::database_exists(url).await.unwrap_or(false);
                if !created_by_another {
                    return Err(DatabaseError::Create { url: shown, source });
                }
                tracing::info!(database = %shown, "another replica created the database");
            }
        }
    }
    let options = PgConnectOptions::from_str(url)
        .map_err(|source| DatabaseError::Unreachable {
            url: shown.clone(),
            source,
        })?
        .application_name("kepgate");
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        // Dead connections (database restarted) are dropped rather than handed out.
        .test_before_acquire(true)
        .connect_with(options)
        .await
        .map_err(|source| DatabaseError::Unreachable { url: shown, source })
}

pub async fn migrate(pool: &PgPool) -> Result<(), DatabaseError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// One `SELECT 1`: does the database answer?
pub async fn check(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT 1 AS "one!""#)
        .fetch_one(pool)
        .await
        .map(|_| ())
}

/// Readiness: can we run a query within `limit`?
pub async fn ping(pool: &PgPool, limit: Duration) -> Result<(), String> {
    match tokio::time::timeout(limit, check(pool)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} ms", limit.as_millis())),
    }
}

/// Errors that mean "the database is not there right now" rather than a bug.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
    ) || error
        .as_database_error()
        .and_then(|e| e.code())
        // 57P0x: admin shutdown / cannot connect now; 55000-ish "database does not allow connections" is 55000
        .is_some_and(|code| code.starts_with("57P") || code == "55000" || code.starts_with("08"))
}
