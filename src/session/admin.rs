//! `kepgate sessions list|revoke` and `kepgate audit`: administrators' view of sessions and the
//! login history, against the same database as the gateway. Revocations announce themselves,
//! so running replicas refuse the sessions at once.

use std::io::Write;

use anyhow::Context;
use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::ending::{self, EndedBy, Whom};
use super::history::{self, HistoryEntry};
use super::listing::{self, OpenSession};
use crate::identity::{Edrpou, Rnokpp};
use crate::signature::display_text::acts_instead_of_showing;

/// The most rows `kepgate audit` prints unless told otherwise.
pub const DEFAULT_AUDIT_LIMIT: i64 = 1000;

pub async fn list(
    db: &PgPool,
    now: OffsetDateTime,
    rnokpp: Option<&Rnokpp>,
    edrpou: Option<&Edrpou>,
    json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let rows = listing::open(
        db,
        now,
        rnokpp.map(|r| r.as_str()),
        edrpou.map(|e| e.as_str()),
    )
    .await?;
    if json {
        return print_json(&rows, out);
    }
    let table: Vec<Vec<String>> = rows.iter().map(session_cells).collect();
    print_table(
        &[
            "ID",
            "NAME",
            "RNOKPP",
            "EDRPOU",
            "PROVIDER",
            "STARTED",
            "LAST SEEN",
            "EXPIRES",
            "SHARED",
            "ADDRESS",
        ],
        &table,
        out,
    )
}

fn session_cells(s: &OpenSession) -> Vec<String> {
    vec![
        s.id.to_string(),
        s.full_name.clone().unwrap_or_default(),
        s.rnokpp.clone().unwrap_or_default(),
        s.edrpou.clone().unwrap_or_default(),
        s.provider.clone(),
        stamp(s.created_at),
        stamp(s.last_seen_at),
        stamp(s.expires_at),
        if s.shared_pc { "yes" } else { "no" }.to_owned(),
        s.client_ip.clone().unwrap_or_default(),
    ]
}

/// Which sessions `kepgate sessions revoke` ends.
pub enum RevokeTarget {
    Id(Uuid),
    Person(Rnokpp),
    Company(Edrpou),
}

pub async fn revoke_sessions(
    db: &PgPool,
    now: OffsetDateTime,
    target: &RevokeTarget,
    json: bool,
    out: &mut impl Write,
) -> anyhow::Result<usize> {
    let whom = match target {
        RevokeTarget::Id(id) => Whom::Id(*id),
        RevokeTarget::Person(r) => Whom::Person(r),
        RevokeTarget::Company(e) => Whom::Company(e),
    };
    let ids = ending::end(db, whom, EndedBy::Admin, now).await?;
    if json {
        print_json(&serde_json::json!({ "revoked": ids }), out)?;
    } else {
        writeln!(out, "revoked {} session(s)", ids.len())?;
        for id in &ids {
            writeln!(out, "  {id}")?;
        }
    }
    Ok(ids.len())
}

pub async fn audit(
    db: &PgPool,
    since: OffsetDateTime,
    limit: i64,
    json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let rows = history::since(db, since, limit).await?;
    if json {
        return print_json(&rows, out);
    }
    let table: Vec<Vec<String>> = rows.iter().map(history_cells).collect();
    print_table(
        &[
            "TIME",
            "EVENT",
            "PROVIDER",
            "NAME",
            "RNOKPP",
            "EDRPOU",
            "REASON",
            "ADDRESS",
            "SESSION",
            "USER AGENT",
        ],
        &table,
        out,
    )
}

fn history_cells(h: &HistoryEntry) -> Vec<String> {
    vec![
        stamp(h.at),
        h.event.clone(),
        h.provider.clone(),
        h.full_name.clone().unwrap_or_default(),
        h.rnokpp.clone().unwrap_or_default(),
        h.edrpou.clone().unwrap_or_default(),
        h.reason.clone().unwrap_or_default(),
        h.client_ip.clone().unwrap_or_default(),
        h.session_id.map(|id| id.to_string()).unwrap_or_default(),
        h.user_agent.clone().unwrap_or_default(),
    ]
}

/// `--since`: an RFC 3339 time (`2026-11-01T00:00:00Z`), a date (`2026-11-01`, midnight UTC),
/// or an age (`90m`, `24h`, `7d`).
pub fn parse_since(value: &str, now: OffsetDateTime) -> anyhow::Result<OffsetDateTime> {
    let value = value.trim();
    if let Ok(t) = OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339) {
        return Ok(t);
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(date) = time::Date::parse(value, &date_format) {
        return Ok(date.midnight().assume_utc());
    }
    let (number, unit) = value.split_at(value.len().saturating_sub(1));
    let n: i64 = number
        .parse()
        .with_context(|| format!("--since {value:?}: expected a time (2026-11-01T08:00:00Z), a date (2026-11-01) or an age (90m, 24h, 7d)"))?;
    let age = match unit {
        "m" => time::Duration::minutes(n),
        "h" => time::Duration::hours(n),
        "d" => time::Duration::days(n),
        _ => anyhow::bail!("--since {value:?}: the age unit must be m, h or d"),
    };
    Ok(now - age)
}

pub fn stamp(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Pretty JSON in which nothing acts on the terminal: serde escapes C0 controls in strings, and
/// the rest of what [`acts_instead_of_showing`] names (DEL, C1, separators, bidi and other
/// format characters) becomes `\uXXXX` too. The pretty printer's line breaks are the only raw
/// control outside strings, and every other such character is inside one, where the escape
/// gives the same value back.
fn print_json(value: &impl Serialize, out: &mut impl Write) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(value)?;
    let mut escaped = String::with_capacity(json.len());
    for c in json.chars() {
        if c != '\n' && acts_instead_of_showing(c) {
            for unit in c.encode_utf16(&mut [0; 2]) {
                escaped.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            escaped.push(c);
        }
    }
    writeln!(out, "{escaped}")?;
    Ok(())
}

/// A table cell as the terminal should show it: what a name from a certificate or a provider
/// (or an older row, stored before names were parsed) could do to the terminal or the table —
/// escape sequences, line breaks, bidi overrides — written out as `\u{1b}`, and a backslash
/// doubled so that no escape can be faked.
fn shown(cell: &str) -> String {
    let mut out = String::with_capacity(cell.len());
    for c in cell.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if acts_instead_of_showing(c) => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    out
}

/// Plain aligned columns (by characters, so Cyrillic names line up too), every cell [`shown`]
/// (also `kepgate trust show`'s table).
pub fn print_table(
    headers: &[&str],
    rows: &[Vec<String>],
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| shown(cell)).collect())
        .collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
        cells
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w.saturating_sub(c.chars().count()))))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    writeln!(out, "{}", line(&mut headers.iter().copied()))?;
    for row in &rows {
        writeln!(out, "{}", line(&mut row.iter().map(String::as_str)))?;
    }
    if rows.is_empty() {
        writeln!(out, "(none)")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_accepts_times_dates_and_ages() {
        let now = time::macros::datetime!(2026-11-25 12:00 UTC);
        assert_eq!(
            parse_since("2026-11-01T08:00:00Z", now).unwrap(),
            time::macros::datetime!(2026-11-01 08:00 UTC)
        );
        assert_eq!(
            parse_since("2026-11-01", now).unwrap(),
            time::macros::datetime!(2026-11-01 00:00 UTC)
        );
        assert_eq!(
            parse_since("24h", now).unwrap(),
            time::macros::datetime!(2026-11-24 12:00 UTC)
        );
        assert_eq!(
            parse_since("7d", now).unwrap(),
            time::macros::datetime!(2026-11-18 12:00 UTC)
        );
        assert!(parse_since("yesterday", now).is_err());
        assert!(parse_since("5w", now).is_err());
    }
}
