//! `kepgate sessions list|revoke` and `kepgate audit`: the administrators' view of open
//! sessions and of the login history, straight from the database.

use clap::Subcommand;

use crate::config::Settings;
use crate::database;

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// Open sessions, newest first.
    List {
        /// Only this person's (РНОКПП).
        #[arg(long, conflicts_with = "edrpou")]
        rnokpp: Option<String>,
        /// Only sessions signed in for this company (ЄДРПОУ).
        #[arg(long)]
        edrpou: Option<String>,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// End sessions now: one by id, or every session of a person or a company.
    Revoke {
        /// The session id (from `kepgate sessions list`).
        #[arg(required_unless_present_any = ["rnokpp", "edrpou"], conflicts_with_all = ["rnokpp", "edrpou"])]
        id: Option<uuid::Uuid>,
        /// Every session of this person (РНОКПП).
        #[arg(long, conflicts_with = "edrpou")]
        rnokpp: Option<String>,
        /// Every session signed in for this company (ЄДРПОУ).
        #[arg(long)]
        edrpou: Option<String>,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// The administrators' commands read the wall clock: they are not part of a test's gateway.
fn wall_clock() -> time::OffsetDateTime {
    use crate::clock::Clock;
    crate::clock::SystemClock.now()
}

pub(super) async fn admin_pool(settings: &Settings) -> anyhow::Result<sqlx::PgPool> {
    let pool = database::connect(&settings.database).await?;
    // Same as `migrate`: a fresh database gets its tables rather than a confusing error.
    database::migrate(&pool).await?;
    Ok(pool)
}

pub async fn sessions(settings: Settings, command: SessionsCommand) -> anyhow::Result<()> {
    use crate::identity::{Edrpou, Rnokpp};
    use crate::session::admin;
    let parse_rnokpp = |r: Option<String>| {
        r.map(|r| Rnokpp::parse(&r).map_err(|e| anyhow::anyhow!("--rnokpp {r}: {e}")))
            .transpose()
    };
    let parse_edrpou = |e: Option<String>| {
        e.map(|e| Edrpou::parse(&e).map_err(|err| anyhow::anyhow!("--edrpou {e}: {err}")))
            .transpose()
    };
    let mut out = std::io::stdout().lock();
    match command {
        SessionsCommand::List {
            rnokpp,
            edrpou,
            json,
        } => {
            let (rnokpp, edrpou) = (parse_rnokpp(rnokpp)?, parse_edrpou(edrpou)?);
            let pool = admin_pool(&settings).await?;
            admin::list(
                &pool,
                wall_clock(),
                rnokpp.as_ref(),
                edrpou.as_ref(),
                json,
                &mut out,
            )
            .await
        }
        SessionsCommand::Revoke {
            id,
            rnokpp,
            edrpou,
            json,
        } => {
            let target = match (id, parse_rnokpp(rnokpp)?, parse_edrpou(edrpou)?) {
                (Some(id), _, _) => admin::RevokeTarget::Id(id),
                (None, Some(r), _) => admin::RevokeTarget::Person(r),
                (None, None, Some(e)) => admin::RevokeTarget::Company(e),
                (None, None, None) => anyhow::bail!("name a session id, --rnokpp or --edrpou"),
            };
            let pool = admin_pool(&settings).await?;
            admin::revoke_sessions(&pool, wall_clock(), &target, json, &mut out).await?;
            Ok(())
        }
    }
}

pub async fn audit(settings: Settings, since: &str, limit: i64, json: bool) -> anyhow::Result<()> {
    let now = wall_clock();
    let since = crate::session::admin::parse_since(since, now)?;
    if limit < 1 {
        anyhow::bail!("--limit must be at least 1");
    }
    let pool = admin_pool(&settings).await?;
    crate::session::admin::audit(&pool, since, limit, json, &mut std::io::stdout().lock()).await
}
