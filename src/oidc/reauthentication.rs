//! `prompt=login` and `max_age`: when kepgate sends a person to sign in again, the return to the
//! authorization request carries a marker, and the session it comes back with counts only if
//! it began after the marker, in the browser that was sent away, for the same request, within
//! `oidc.reauthentication_ttl` — and only once.
//!
//! The marker is `<unix ms>.<MAC>`: a MAC, under a secret derived from the signing key (the
//! same on every replica), of the time, the request ([`request_binding`]) and the browser's
//! re-authentication cookie ([`BrowserNonce`]). Nothing is stored when one is made, so a flood of
//! authorization requests writes nothing; a marker that counts is recorded as spent by one
//! guarded insert ([`spend`]), which only one of two requests at once can make.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;

use super::request::AuthorizeRequest;

/// What a marker is bound to of the authorization request: the client, the redirect URI, the
/// client's `state` and `nonce`, the PKCE challenge and the scope granted.
pub fn request_binding(request: &AuthorizeRequest<'_>) -> [u8; 32] {
    let mut hash = Sha256::new();
    for field in [
        Some(request.client.id.as_str()),
        Some(request.redirect_uri.as_str()),
        request.state.as_deref(),
        request.nonce.as_deref(),
        request.code_challenge.as_deref(),
        Some(request.scope.as_str()),
    ] {
        // Length-prefixed, and absent distinct from empty: no two requests hash alike.
        match field {
            Some(value) => {
                hash.update([1]);
                hash.update((value.len() as u64).to_be_bytes());
                hash.update(value.as_bytes());
            }
            None => hash.update([0]),
        }
    }
    hash.finalize().into()
}

/// The random value of the browser's re-authentication cookie: which browser was sent to sign
/// in again. Made by kepgate, kept while the browser keeps it (tabs share it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrowserNonce([u8; 32]);

impl BrowserNonce {
    /// The cookie's value, if it is one kepgate could have made.
    pub fn parse(value: &str) -> Option<Self> {
        if value.len() != 43 {
            return None;
        }
        let bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(value).ok()?.try_into().ok()?;
        Some(BrowserNonce(bytes))
    }

    pub fn fresh() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(BrowserNonce(bytes))
    }

    pub fn value(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }
}

/// Makes and checks markers with one secret (`SigningKey::derived_secret`).
pub struct Markers {
    secret: [u8; 32],
    ttl: time::Duration,
}

impl Markers {
    pub fn new(secret: [u8; 32], ttl: time::Duration) -> Self {
        Markers { secret, ttl }
    }

    /// A marker for sending the person away from `request` in `browser`, now.
    pub fn mint(&self, request: &[u8; 32], browser: &BrowserNonce, now: OffsetDateTime) -> String {
        let millis = unix_millis(now);
        let tag = self.tag(millis, request, browser);
        format!("{millis}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// When the marker was made, if kepgate made it for this request and this browser and it
    /// has not expired (spent or not: [`spend`] decides that).
    pub fn check(
        &self,
        marker: &str,
        request: &[u8; 32],
        browser: &BrowserNonce,
        now: OffsetDateTime,
    ) -> Option<Marked> {
        let (written, tag) = marker.split_once('.')?;
        if written.len() > 16 || !written.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let millis: i64 = written.parse().ok()?;
        // One spelling per marker: `0123` and `123` would be two markers for the spent list.
        if written != millis.to_string() {
            return None;
        }
        let tag: [u8; 32] = URL_SAFE_NO_PAD.decode(tag).ok()?.try_into().ok()?;
        self.mac(millis, request, browser)?
            .verify_slice(&tag)
            .ok()?;
        let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).ok()?;
        let expires_at = at + self.ttl;
        (at <= now && now < expires_at).then_some(Marked {
            at,
            expires_at,
            tag,
        })
    }

    fn tag(&self, millis: i64, request: &[u8; 32], browser: &BrowserNonce) -> [u8; 32] {
        self.mac(millis, request, browser)
            .map(|mac| mac.finalize().into_bytes().into())
            .unwrap_or([0; 32])
    }

    fn mac(&self, millis: i64, request: &[u8; 32], browser: &BrowserNonce) -> Option<Hmac<Sha256>> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret).ok()?;
        mac.update(&millis.to_be_bytes());
        mac.update(request);
        mac.update(&Sha256::digest(browser.0));
        Some(mac)
    }
}

/// A marker that checked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marked {
    /// When kepgate sent the person away: only a session begun since counts.
    pub at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// The MAC the marker carried: one value per marker whatever its spelling, so it is what
    /// the spent list keeps.
    tag: [u8; 32],
}

/// Records the marker as spent: `true` for the one request that does, `false` for every other
/// (one insert; a second at the same moment waits for the first and inserts nothing).
pub async fn spend(db: &PgPool, marked: &Marked, now: OffsetDateTime) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query!(
        r#"INSERT INTO oidc_spent_reauthentications (marker_hash, spent_at, expires_at)
           VALUES ($1, $2, $3) ON CONFLICT (marker_hash) DO NOTHING"#,
        Sha256::digest(marked.tag).to_vec(),
        now,
        marked.expires_at,
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Spent markers past the time they would have expired anyway.
pub async fn prune(db: &PgPool, now: OffsetDateTime) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "DELETE FROM oidc_spent_reauthentications WHERE expires_at < $1",
        now
    )
    .execute(db)
    .await?
    .rows_affected())
}

fn unix_millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: OffsetDateTime = time::macros::datetime!(2026-12-06 08:00:00.123 UTC);

    fn markers() -> Markers {
        Markers::new([9; 32], time::Duration::minutes(10))
    }

    #[test]
    fn a_marker_counts_for_its_request_and_browser_until_it_expires() {
        let markers = markers();
        let (request, other_request) = ([1; 32], [2; 32]);
        let browser = BrowserNonce::fresh().unwrap();
        let other_browser = BrowserNonce::fresh().unwrap();
        let marker = markers.mint(&request, &browser, NOW);
        let later = NOW + time::Duration::minutes(9);
        let marked = markers.check(&marker, &request, &browser, later).unwrap();
        assert_eq!(marked.at, NOW);
        assert_eq!(marked.expires_at, NOW + time::Duration::minutes(10));
        assert!(
            markers
                .check(&marker, &other_request, &browser, later)
                .is_none()
        );
        assert!(
            markers
                .check(&marker, &request, &other_browser, later)
                .is_none()
        );
        let expired = NOW + time::Duration::minutes(10);
        assert!(
            markers
                .check(&marker, &request, &browser, expired)
                .is_none()
        );
        let before = NOW - time::Duration::seconds(1);
        assert!(markers.check(&marker, &request, &browser, before).is_none());
        // Another secret (another deployment's key), a moved time, a cut tag: nothing.
        let stranger = Markers::new([8; 32], time::Duration::minutes(10));
        assert!(stranger.check(&marker, &request, &browser, later).is_none());
        let (millis, tag) = marker.split_once('.').unwrap();
        let moved = format!("{}.{tag}", millis.parse::<i64>().unwrap() + 60_000);
        assert!(markers.check(&moved, &request, &browser, later).is_none());
        let cut = format!("{millis}.{}", &tag[..20]);
        assert!(markers.check(&cut, &request, &browser, later).is_none());
        // The same time with leading zeros would be another marker to the spent list.
        let zeroed = format!("0{marker}");
        assert!(markers.check(&zeroed, &request, &browser, later).is_none());
        for junk in ["", ".", "1.", "x.y", "-5.AAAA", "99999999999999999999.AAAA"] {
            assert!(
                markers.check(junk, &request, &browser, later).is_none(),
                "{junk}"
            );
        }
    }

    #[test]
    fn a_browser_nonce_reads_back_only_from_its_own_shape() {
        let nonce = BrowserNonce::fresh().unwrap();
        assert_eq!(BrowserNonce::parse(&nonce.value()), Some(nonce));
        assert_eq!(BrowserNonce::parse(""), None);
        assert_eq!(BrowserNonce::parse(&"A".repeat(44)), None);
        assert_eq!(BrowserNonce::parse(&"*".repeat(43)), None);
    }
}
