//! The shared CRLs (`revocation_lists` and `revoked_certificates`, migrations 0007, 0011 and
//! 0012; `crl_highest_numbers`, 0013): which distribution points exist, which replica downloads
//! which next, and what each verified list revokes. A row is one CA key's list at one address:
//! another CA naming the address gets a row of its own and never touches this one. An address
//! keeps the scope of the first list stored there, and a list is never stored under a number
//! its CA has given higher in the same scope, whatever became of the list that carried it.

use sqlx::PgPool;
use time::OffsetDateTime;

use crate::signature::crl::{CheckedCrl, CrlNumber, CrlScope};

/// CRLReason removeFromCRL: in a delta list, "no longer revoked" (RFC 5280 §5.3.1).
pub(crate) const REMOVE_FROM_CRL: u8 = 8;

/// The most CA keys one address is kept for. Only certificates that chained to the trust list
/// name addresses, so the rows are bounded by the trust list's CAs anyway; this bounds what a
/// few CAs naming one another's addresses (a re-keyed CA, a misissued extension) cost in
/// downloads. A verified list is never pushed out to make room.
pub(crate) const MAX_ISSUERS_PER_URL: i64 = 4;

/// A distribution point named by a certificate of the CA `issuer_der`.
pub(crate) struct ListSource<'a> {
    pub url: &'a str,
    pub is_delta: bool,
}

/// Makes the lists known to every replica, each as the list of the CA key `issuer_key_sha256`;
/// those already known for that key keep their schedule, and rows of other keys at the same
/// address are left as they are. Returns the addresses not registered because
/// [`MAX_ISSUERS_PER_URL`] other keys hold them already.
pub(crate) async fn register(
    db: &PgPool,
    sources: &[ListSource<'_>],
    issuer_der: &[u8],
    issuer_key_sha256: &[u8],
    now: OffsetDateTime,
) -> Result<Vec<String>, sqlx::Error> {
    let urls: Vec<String> = sources.iter().map(|s| s.url.to_owned()).collect();
    let deltas: Vec<bool> = sources.iter().map(|s| s.is_delta).collect();
    sqlx::query_scalar!(
        r#"WITH s AS (SELECT url, is_delta FROM UNNEST($1::text[], $2::bool[]) AS s(url, is_delta)),
           crowded AS (
             SELECT s.url FROM s
             WHERE NOT EXISTS (SELECT 1 FROM revocation_lists l
                               WHERE l.url = s.url AND l.issuer_key_sha256 = $4)
               AND (SELECT count(*) FROM revocation_lists l WHERE l.url = s.url) >= $6),
           added AS (
             INSERT INTO revocation_lists (url, issuer_der, issuer_key_sha256, is_delta, due_at)
             SELECT url, $3, $4, is_delta, $5 FROM s WHERE url NOT IN (SELECT url FROM crowded)
             ON CONFLICT (url, issuer_key_sha256) DO NOTHING)
           SELECT url AS "url!" FROM crowded"#,
        &urls,
        &deltas,
        issuer_der,
        issuer_key_sha256,
        now,
        MAX_ISSUERS_PER_URL
    )
    .fetch_all(db)
    .await
}

/// A list this replica is to download now.
pub(crate) struct Claimed {
    pub url: String,
    pub issuer_der: Vec<u8>,
    pub issuer_key_sha256: Vec<u8>,
    /// Named in a certificate's freshestCRL: the list there must be a delta.
    pub is_delta: bool,
}

/// Takes up to `limit` lists that are due, moving them to `lease_until` so that other replicas
/// leave them alone meanwhile (a replica that dies holding them only delays them).
pub(crate) async fn claim_due(
    db: &PgPool,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
    limit: i64,
) -> Result<Vec<Claimed>, sqlx::Error> {
    sqlx::query_as!(
        Claimed,
        r#"UPDATE revocation_lists SET due_at = $2
           WHERE (url, issuer_key_sha256) IN (
             SELECT url, issuer_key_sha256 FROM revocation_lists WHERE due_at <= $1
             ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED)
           RETURNING url, issuer_der, issuer_key_sha256, is_delta"#,
        now,
        lease_until,
        limit
    )
    .fetch_all(db)
    .await
}

/// What became of a verified list.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Saved {
    /// In place of the one before.
    Stored,
    /// The list stored already (the same number): only its schedule moved.
    Unchanged,
    /// Its CA numbered a list of the same scope higher (`newest`): a replay, not stored.
    Older { newest: CrlNumber },
    /// The address holds a list of another scope (a partition, the CA's ARL): a list served in
    /// place of the one published there, not stored.
    OtherScope,
}

/// A stored list's place in its CA's numbering.
pub(crate) struct Numbered {
    pub url: String,
    pub is_delta: bool,
    pub scope: Vec<u8>,
    pub number: CrlNumber,
    /// Still in force (before its nextUpdate).
    pub current: bool,
}

/// Whether `crl`, downloaded from `url`, is newer than what is stored of its scope (RFC 5280
/// §5.2.3: numbers grow within a scope, complete and delta lists each) and than the `highest`
/// number its CA ever gave that scope and kind. The same number at the same address is the list
/// already stored; at another address, a copy of it. An address whose list is in force takes
/// no list of another scope in its place.
pub(crate) fn standing(
    url: &str,
    crl: &CheckedCrl,
    stored: &[Numbered],
    highest: Option<&CrlNumber>,
) -> Saved {
    // Until its list runs out: a scope that came first from an attacker does not hold the
    // address for ever.
    if stored
        .iter()
        .any(|s| s.url == url && s.current && s.scope != crl.scope.as_der())
    {
        return Saved::OtherScope;
    }
    if let Some(highest) = highest
        && *highest > crl.number
    {
        return Saved::Older {
            newest: highest.clone(),
        };
    }
    let is_delta = crl.delta_base.is_some();
    let same_scope = stored
        .iter()
        .filter(|s| s.is_delta == is_delta && s.scope == crl.scope.as_der());
    let mut unchanged = false;
    for s in same_scope {
        if s.number > crl.number {
            return Saved::Older {
                newest: s.number.clone(),
            };
        }
        unchanged |= s.url == url && s.number == crl.number;
    }
    if unchanged {
        Saved::Unchanged
    } else {
        Saved::Stored
    }
}

/// Stores a verified list in place of the one before and marks the cached OCSP answers it
/// contradicts — unless its CA numbered a list of the same scope higher.
pub(crate) async fn save(
    db: &PgPool,
    claimed: &Claimed,
    crl: &CheckedCrl,
    now: OffsetDateTime,
    due_at: OffsetDateTime,
) -> Result<Saved, sqlx::Error> {
    let mut tx = db.begin().await?;
    let stored = lock_lists_of_key(&mut tx, claimed, now).await?;
    let is_delta = crl.delta_base.is_some();
    let highest = highest_number(&mut tx, claimed, crl, is_delta).await?;
    let saved = standing(&claimed.url, crl, &stored, highest.as_ref());
    match saved {
        Saved::Older { .. } | Saved::OtherScope => return Ok(saved),
        Saved::Unchanged => {
            sqlx::query!(
                r#"UPDATE revocation_lists
                   SET fetched_at = $3, due_at = $4, failures = 0, last_error = NULL
                   WHERE url = $1 AND issuer_key_sha256 = $2"#,
                claimed.url,
                claimed.issuer_key_sha256,
                now,
                due_at
            )
            .execute(&mut *tx)
            .await?;
        }
        Saved::Stored => {
            replace(&mut tx, claimed, crl, now, due_at).await?;
            raise_highest_number(&mut tx, claimed, crl, is_delta).await?;
        }
    }
    tx.commit().await?;
    Ok(saved)
}

/// Every numbered list of the CA key, locked: replicas storing lists of one scope take turns.
async fn lock_lists_of_key(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    claimed: &Claimed,
    now: OffsetDateTime,
) -> Result<Vec<Numbered>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT url, is_delta, scope AS "scope!", crl_number AS "crl_number!",
                  next_update > $2 AS "current!"
           FROM revocation_lists
           WHERE issuer_key_sha256 = $1 AND crl_number IS NOT NULL AND scope IS NOT NULL
           FOR UPDATE"#,
        claimed.issuer_key_sha256,
        now
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(Numbered {
                number: CrlNumber::from_be_bytes(&r.crl_number)?,
                url: r.url,
                is_delta: r.is_delta,
                scope: r.scope,
                current: r.current,
            })
        })
        .collect())
}

/// The highest number the CA key has given a list of this scope and kind.
async fn highest_number(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    claimed: &Claimed,
    crl: &CheckedCrl,
    is_delta: bool,
) -> Result<Option<CrlNumber>, sqlx::Error> {
    Ok(sqlx::query_scalar!(
        r#"SELECT crl_number FROM crl_highest_numbers
           WHERE issuer_key_sha256 = $1 AND scope = $2 AND is_delta = $3"#,
        claimed.issuer_key_sha256,
        crl.scope.as_der(),
        is_delta
    )
    .fetch_optional(&mut **tx)
    .await?
    .and_then(|n| CrlNumber::from_be_bytes(&n)))
}

/// Never lowered: numbers as big-endian octets without leading zeros compare by length, then by
/// value.
async fn raise_highest_number(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    claimed: &Claimed,
    crl: &CheckedCrl,
    is_delta: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"INSERT INTO crl_highest_numbers (issuer_key_sha256, scope, is_delta, crl_number)
                   VALUES ($1, $2, $3, $4)
                   ON CONFLICT (issuer_key_sha256, scope, is_delta) DO UPDATE
                   SET crl_number = EXCLUDED.crl_number
                   WHERE (octet_length(EXCLUDED.crl_number), EXCLUDED.crl_number)
                       > (octet_length(crl_highest_numbers.crl_number), crl_highest_numbers.crl_number)"#,
        claimed.issuer_key_sha256,
        crl.scope.as_der(),
        is_delta,
        crl.number.as_be_bytes()
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The list's row, its entries in place of the ones before, and the cached OCSP answers it
/// contradicts.
async fn replace(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    claimed: &Claimed,
    crl: &CheckedCrl,
    now: OffsetDateTime,
    due_at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"UPDATE revocation_lists
           SET this_update = $3, next_update = $4, crl_number = $5, delta_base = $6, scope = $7,
               fetched_at = $8, due_at = $9, failures = 0, last_error = NULL
           WHERE url = $1 AND issuer_key_sha256 = $2"#,
        claimed.url,
        claimed.issuer_key_sha256,
        crl.this_update,
        crl.next_update,
        crl.number.as_be_bytes(),
        crl.delta_base.as_ref().map(CrlNumber::as_be_bytes),
        crl.scope.as_der(),
        now,
        due_at
    )
    .execute(&mut **tx)
    .await?;
    let mut serials = Vec::with_capacity(crl.revoked.len());
    let mut times = Vec::with_capacity(crl.revoked.len());
    // -1 for "no reason given": sqlx's checked arrays carry no NULL elements.
    let mut reasons = Vec::with_capacity(crl.revoked.len());
    for (serial, entry) in &crl.revoked {
        serials.push(serial.clone());
        times.push(entry.at);
        reasons.push(entry.reason.map_or(-1, i16::from));
    }
    sqlx::query!(
        "DELETE FROM revoked_certificates WHERE list_url = $1 AND issuer_key_sha256 = $2",
        claimed.url,
        claimed.issuer_key_sha256
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        r#"INSERT INTO revoked_certificates (list_url, issuer_key_sha256, serial, revoked_at, reason)
           SELECT $1, $2, serial, revoked_at, NULLIF(reason, -1)
           FROM UNNEST($3::bytea[], $4::timestamptz[], $5::int2[]) AS e(serial, revoked_at, reason)"#,
        claimed.url,
        claimed.issuer_key_sha256,
        &serials,
        &times,
        &reasons
    )
    .execute(&mut **tx)
    .await?;
    // A good answer cached from OCSP must not outlive the CA's later word.
    sqlx::query!(
        r#"UPDATE certificate_status c
           SET status = 'revoked', revoked_at = e.revoked_at, revocation_reason = NULLIF(e.reason, -1),
               source = 'crl ' || $2, checked_at = $3
           FROM UNNEST($4::bytea[], $5::timestamptz[], $6::int2[]) AS e(serial, revoked_at, reason)
           WHERE c.issuer_key_sha256 = $1 AND c.serial = e.serial AND c.status = 'good'
             AND e.reason IS DISTINCT FROM $7"#,
        claimed.issuer_key_sha256,
        claimed.url,
        now,
        &serials,
        &times,
        &reasons,
        i16::from(REMOVE_FROM_CRL)
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records a failed download or check of the claimed list; it is tried again at `due_at`.
pub(crate) async fn failed(
    db: &PgPool,
    claimed: &Claimed,
    error: &str,
    due_at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"UPDATE revocation_lists SET failures = failures + 1, last_error = $3, due_at = $4
           WHERE url = $1 AND issuer_key_sha256 = $2"#,
        claimed.url,
        claimed.issuer_key_sha256,
        error,
        due_at
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A stored list still in force, and what it says about one serial.
pub(crate) struct ListWord {
    pub url: String,
    pub is_delta: bool,
    pub number: CrlNumber,
    /// Of a delta: the number of the complete list it completes.
    pub delta_base: Option<CrlNumber>,
    pub scope: CrlScope,
    /// Set when the list names the serial.
    pub revoked_at: Option<OffsetDateTime>,
    pub reason: Option<i16>,
}

/// A certificate's own distribution points: the complete lists (cRLDistributionPoints) and the
/// delta lists (freshestCRL) it names. Only lists found there answer for it.
pub(crate) struct OwnLists<'a> {
    pub complete: &'a [String],
    pub delta: &'a [String],
}

/// What the lists at `own` of the CA with key hash `issuer_key_sha256`, still in force at
/// `now`, say about `serial`.
pub(crate) async fn words_about(
    db: &PgPool,
    issuer_key_sha256: &[u8],
    serial: &[u8],
    own: &OwnLists<'_>,
    now: OffsetDateTime,
) -> Result<Vec<ListWord>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT l.url, l.is_delta, l.crl_number AS "crl_number!", l.delta_base,
                  l.scope AS "scope!", r.revoked_at AS "revoked_at?", r.reason AS "reason?"
           FROM revocation_lists l
           LEFT JOIN revoked_certificates r
             ON r.list_url = l.url AND r.issuer_key_sha256 = l.issuer_key_sha256 AND r.serial = $2
           WHERE l.issuer_key_sha256 = $1 AND l.this_update IS NOT NULL
             AND l.crl_number IS NOT NULL AND l.scope IS NOT NULL AND l.next_update > $3
             AND CASE WHEN l.is_delta THEN l.url = ANY($5) ELSE l.url = ANY($4) END"#,
        issuer_key_sha256,
        serial,
        now,
        own.complete,
        own.delta
    )
    .fetch_all(db)
    .await?;
    let words = rows.into_iter().filter_map(|r| {
        let word = ListWord {
            number: CrlNumber::from_be_bytes(&r.crl_number)?,
            delta_base: match r.delta_base {
                Some(base) => Some(CrlNumber::from_be_bytes(&base)?),
                None => None,
            },
            scope: CrlScope::from_der(&r.scope).ok()?,
            url: r.url,
            is_delta: r.is_delta,
            revoked_at: r.revoked_at,
            reason: r.reason,
        };
        Some(word)
    });
    Ok(words.collect())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use time::macros::datetime;

    use super::*;

    fn number(n: u8) -> CrlNumber {
        CrlNumber::from_be_bytes(&[n]).unwrap()
    }

    fn list(n: u8, delta: bool) -> CheckedCrl {
        CheckedCrl {
            issuer: "CN=CA".to_owned(),
            this_update: datetime!(2026-12-01 0:00 UTC),
            next_update: datetime!(2026-12-02 0:00 UTC),
            number: number(n),
            delta_base: delta.then(|| number(1)),
            scope: CrlScope::default(),
            revoked: HashMap::new(),
        }
    }

    fn stored(url: &str, n: u8, is_delta: bool, scope: &[u8]) -> Numbered {
        Numbered {
            url: url.to_owned(),
            is_delta,
            scope: scope.to_vec(),
            number: number(n),
            current: true,
        }
    }

    #[test]
    fn a_list_is_stored_only_when_no_list_of_its_scope_and_kind_is_numbered_higher() {
        let known = [stored("a", 5, false, b""), stored("d", 9, true, b"")];
        assert_eq!(standing("a", &list(6, false), &known, None), Saved::Stored);
        assert_eq!(
            standing("a", &list(5, false), &known, None),
            Saved::Unchanged
        );
        assert_eq!(
            standing("a", &list(4, false), &known, None),
            Saved::Older { newest: number(5) }
        );
        // At another address of the same scope: a copy of the list, or an older one.
        assert_eq!(standing("b", &list(5, false), &known, None), Saved::Stored);
        assert_eq!(
            standing("b", &list(4, false), &known, None),
            Saved::Older { newest: number(5) }
        );
        // Complete and delta lists are ordered each on their own; other scopes do not count.
        assert_eq!(standing("a", &list(7, false), &known, None), Saved::Stored);
        assert_eq!(
            standing("d", &list(8, true), &known, None),
            Saved::Older { newest: number(9) }
        );
        let other_scope = [stored("p", 50, false, b"\x30\x03\x81\x01\xff")];
        assert_eq!(
            standing("a", &list(4, false), &other_scope, None),
            Saved::Stored
        );
        // …but an address holding one scope's list takes no list of another in its place.
        assert_eq!(
            standing("p", &list(60, false), &other_scope, None),
            Saved::OtherScope
        );
        // Once that list ran out, the address is open to the scope its CA now publishes.
        let ran_out = [Numbered {
            current: false,
            ..stored("p", 50, false, b"\x30\x03\x81\x01\xff")
        }];
        assert_eq!(
            standing("p", &list(60, false), &ran_out, None),
            Saved::Stored
        );
    }

    #[test]
    fn a_number_once_given_is_never_undercut_though_no_stored_list_carries_it_any_more() {
        let known = [stored("a", 5, false, b"")];
        let highest = number(10);
        assert_eq!(
            standing("a", &list(6, false), &known, Some(&highest)),
            Saved::Older { newest: number(10) }
        );
        assert_eq!(
            standing("a", &list(10, false), &known, Some(&highest)),
            Saved::Stored
        );
        assert_eq!(
            standing("b", &list(9, false), &[], Some(&highest)),
            Saved::Older { newest: number(10) }
        );
    }
}
