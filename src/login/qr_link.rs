//! Rotating QR links, the first defence against QR/link relay (QRLJacking; docs/how-it-works.md,
//! "QR relay").
//!
//! The provider's deeplink is static for the life of a request, so a QR code copied from a
//! waiting page stays good for minutes. Instead the page shows a short kepgate link,
//! `{public_base_url}{prefix}/q/{token}`, whose token is the pending-login id, a time step and
//! a MAC over both. The step advances every `login.qr_rotate_seconds` from the login's start;
//! a link is honoured only for `login.qr_link_max_age` after its step began, so a copy shown
//! elsewhere goes stale within seconds (BankID's animated QR works the same way).
//!
//! Every replica computes and checks links from the id, the start time and one shared key
//! (`login.qr_link_key`, or the row in `qr_link_keys`): no database round trip per rotation,
//! and a link made by one replica is accepted by all of them.
//!
//! The token is not a bearer credential: it leads to the provider app, and completing the login
//! still needs the starting browser's binding cookie.

use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use uuid::Uuid;

use super::state::PendingLoginId;
use crate::config::LoginSettings;

/// Bytes of the MAC kept in a link: 64 bits, checked online against a pending login that lives
/// minutes, are far beyond guessing; fewer bytes keep the QR code sparse.
const MAC_LEN: usize = 8;
/// id (16) + step (2) + MAC.
const TOKEN_LEN: usize = 16 + 2 + MAC_LEN;

/// What a rotating link carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QrToken {
    pub id: PendingLoginId,
    /// Rotations since the login started.
    pub step: u16,
    mac: [u8; MAC_LEN],
}

impl QrToken {
    /// `None` for anything that is not exactly a token's shape (no MAC check here).
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() > 64 {
            return None;
        }
        let bytes: [u8; TOKEN_LEN] = URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()?;
        let (id, rest) = bytes.split_at(16);
        let (step, mac) = rest.split_at(2);
        Some(QrToken {
            id: PendingLoginId(Uuid::from_slice(id).ok()?),
            step: u16::from_be_bytes([step[0], step[1]]),
            mac: mac.try_into().ok()?,
        })
    }

    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(TOKEN_LEN);
        bytes.extend_from_slice(self.id.0.as_bytes());
        bytes.extend_from_slice(&self.step.to_be_bytes());
        bytes.extend_from_slice(&self.mac);
        URL_SAFE_NO_PAD.encode(bytes)
    }
}

/// The verification code the computer shows and the three the phone offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerificationCodes {
    pub right: u8,
    /// The right one among two decoys, in a fixed order per login (a reload shows the same).
    pub choices: [u8; 3],
}

/// Where a link's step stands against the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    /// Older than `qr_link_max_age`: copied, or scanned long ago.
    Stale,
    /// From a step that has not begun yet (beyond one step of clock skew between replicas).
    Future,
}

pub struct QrLinks {
    key: SecretSlice<u8>,
    rotate: Duration,
    max_age: Duration,
}

impl QrLinks {
    /// The key from `login.qr_link_key`, or the one shared in the database (created by the first
    /// replica that needs it).
    pub async fn load(
        db: &PgPool,
        settings: &LoginSettings,
        now: OffsetDateTime,
    ) -> anyhow::Result<Self> {
        let key = match &settings.qr_link_key {
            // Any text of enough entropy: hashed to the MAC's key size.
            Some(text) => Sha256::digest(text.expose_secret().as_bytes()).to_vec(),
            None => shared_key(db, now).await?,
        };
        Ok(Self::new(key, settings))
    }

    pub fn new(key: Vec<u8>, settings: &LoginSettings) -> Self {
        QrLinks {
            key: SecretSlice::from(key),
            rotate: Duration::from_secs(settings.qr_rotate_seconds.max(1)),
            max_age: settings.qr_link_max_age,
        }
    }

    pub fn rotate_every(&self) -> Duration {
        self.rotate
    }

    fn mac(&self, label: &[u8], id: PendingLoginId, step: Option<u16>, extra: &[u8]) -> [u8; 32] {
        // HMAC accepts keys of any length; the error branch cannot happen.
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.expose_secret())
        else {
            return [0; 32];
        };
        mac.update(label);
        mac.update(id.0.as_bytes());
        if let Some(step) = step {
            mac.update(&step.to_be_bytes());
        }
        mac.update(extra);
        mac.finalize().into_bytes().into()
    }

    pub fn token(&self, id: PendingLoginId, step: u16) -> QrToken {
        let full = self.mac(b"kepgate qr link v1", id, Some(step), &[]);
        let mut mac = [0u8; MAC_LEN];
        mac.copy_from_slice(&full[..MAC_LEN]);
        QrToken { id, step, mac }
    }

    /// Was this token made with our key? Constant time.
    pub fn verify(&self, token: &QrToken) -> bool {
        self.token(token.id, token.step)
            .mac
            .ct_eq(&token.mac)
            .into()
    }

    /// The step whose link is on the screen at `now`.
    pub fn step_at(&self, started: OffsetDateTime, now: OffsetDateTime) -> u16 {
        let elapsed = (now - started).whole_milliseconds().max(0) as u128;
        let step = elapsed / self.rotate.as_millis().max(1);
        u16::try_from(step).unwrap_or(u16::MAX)
    }

    fn step_start(&self, started: OffsetDateTime, step: u16) -> OffsetDateTime {
        started + self.rotate * u32::from(step)
    }

    /// How long until the link on the screen changes.
    pub fn until_next_step(&self, started: OffsetDateTime, now: OffsetDateTime) -> Duration {
        let next = self.step_start(started, self.step_at(started, now).saturating_add(1));
        Duration::try_from(next - now)
            .unwrap_or(Duration::ZERO)
            .clamp(Duration::from_millis(50), self.rotate)
    }

    pub fn freshness(
        &self,
        token: &QrToken,
        started: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Freshness {
        let begun = self.step_start(started, token.step);
        if begun > now + self.rotate {
            Freshness::Future
        } else if now - begun > self.max_age {
            Freshness::Stale
        } else {
            Freshness::Fresh
        }
    }

    /// What the phone page's form carries back: when the link was opened, and a MAC over that
    /// and the link, so the answer can show the link was fresh then without any stored state.
    pub fn opening_stamp(&self, token: &QrToken, opened: OffsetDateTime) -> String {
        self.stamp(token, opened.unix_timestamp_nanos() / 1_000_000)
    }

    /// When the link was opened, if `stamp` is one of ours for this link. Constant time.
    pub fn opened_at(&self, token: &QrToken, stamp: &str) -> Option<OffsetDateTime> {
        let millis: i128 = stamp.split_once('.')?.0.parse().ok()?;
        let ours = self.stamp(token, millis);
        if !bool::from(ours.as_bytes().ct_eq(stamp.as_bytes())) {
            return None;
        }
        OffsetDateTime::from_unix_timestamp_nanos(millis.checked_mul(1_000_000)?).ok()
    }

    fn stamp(&self, token: &QrToken, millis: i128) -> String {
        let mac = self.mac(
            b"kepgate qr opened v1",
            token.id,
            Some(token.step),
            &millis.to_be_bytes(),
        );
        format!("{millis}.{}", URL_SAFE_NO_PAD.encode(&mac[..MAC_LEN]))
    }

    /// How old a link is, for the logs and the refusal page.
    pub fn age(&self, token: &QrToken, started: OffsetDateTime, now: OffsetDateTime) -> i64 {
        (now - self.step_start(started, token.step)).whole_seconds()
    }

    /// Two-digit codes: easy to compare at a glance; their secrecy does not matter (the computer
    /// shows the right one), only that a person who never saw that screen must guess 1 in 3.
    pub fn verification_codes(&self, id: PendingLoginId) -> VerificationCodes {
        let bytes = self.mac(b"kepgate verification code v1", id, None, &[]);
        let right = 10 + bytes[0] % 90;
        let mut decoys = bytes[1..31]
            .iter()
            .map(|b| 10 + b % 90)
            .filter(|c| *c != right);
        let first = decoys
            .next()
            .unwrap_or(if right == 99 { 98 } else { right + 1 });
        let second = decoys
            .find(|c| *c != first)
            .unwrap_or(if right > 12 { 11 } else { 99 });
        let mut choices = [first, second, right];
        choices.swap(2, usize::from(bytes[31] % 3));
        VerificationCodes { right, choices }
    }
}

/// What the waiting page's QR code and link button hold at `now` for the login
/// `(id, created_at)` with this deeplink: the rotating link, or in `direct` mode the deeplink.
pub fn shown_link(
    qr_links: &QrLinks,
    settings: &crate::config::Settings,
    (id, created_at): (PendingLoginId, OffsetDateTime),
    deeplink: &str,
    now: OffsetDateTime,
) -> String {
    match settings.login.qr_mode {
        crate::config::QrMode::Direct => deeplink.to_owned(),
        crate::config::QrMode::Rotating => {
            let server = &settings.server;
            let step = qr_links.step_at(created_at, now);
            link(
                server.public_base_url(),
                &server.route_prefix,
                &qr_links.token(id, step),
            )
        }
    }
}

/// `{public_base_url}{prefix}/q/{token}`.
pub fn link(public_base_url: &url::Url, route_prefix: &str, token: &QrToken) -> String {
    format!(
        "{}{}/q/{}",
        public_base_url.as_str().trim_end_matches('/'),
        route_prefix,
        token.encode()
    )
}

async fn shared_key(db: &PgPool, now: OffsetDateTime) -> anyhow::Result<Vec<u8>> {
    let mut generated = [0u8; 32];
    getrandom::fill(&mut generated).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    // Several replicas may start at once: the first insert wins, everyone reads the winner.
    sqlx::query!(
        "INSERT INTO qr_link_keys (id, secret, created_at) VALUES ('default', $1, $2)
         ON CONFLICT (id) DO NOTHING",
        &generated[..],
        now
    )
    .execute(db)
    .await
    .context("storing the QR link key")?;
    let stored = sqlx::query_scalar!("SELECT secret FROM qr_link_keys WHERE id = 'default'")
        .fetch_one(db)
        .await
        .context("reading the QR link key")?;
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> QrLinks {
        QrLinks::new(vec![42; 32], &LoginSettings::default())
    }

    #[test]
    fn a_token_round_trips_and_only_our_key_verifies_it() {
        let links = links();
        let id = PendingLoginId(Uuid::from_u128(7));
        let token = links.token(id, 3);
        let text = token.encode();
        assert_eq!(text.len(), 35, "{text}");
        let parsed = QrToken::parse(&text).unwrap();
        assert_eq!(parsed, token);
        assert!(links.verify(&parsed));
        let other = QrLinks::new(vec![1; 32], &LoginSettings::default());
        assert!(!other.verify(&parsed));
        // Another step with the same MAC is a forgery.
        let forged = QrToken { step: 4, ..parsed };
        assert!(!links.verify(&forged));
        assert!(QrToken::parse("not a token").is_none());
        assert!(QrToken::parse(&"A".repeat(100)).is_none());
    }

    #[test]
    fn an_opening_stamp_proves_when_the_link_was_opened() {
        let links = links();
        let token = links.token(PendingLoginId(Uuid::from_u128(7)), 3);
        let opened = OffsetDateTime::UNIX_EPOCH + time::Duration::milliseconds(1_234_567);
        let stamp = links.opening_stamp(&token, opened);
        assert_eq!(links.opened_at(&token, &stamp), Some(opened));
        // Moved in time, for another step, or from another key: refused.
        let (_, mac) = stamp.split_once('.').unwrap();
        assert_eq!(links.opened_at(&token, &format!("9999999.{mac}")), None);
        let other_step = links.token(token.id, 4);
        assert_eq!(links.opened_at(&other_step, &stamp), None);
        let other = QrLinks::new(vec![1; 32], &LoginSettings::default());
        assert_eq!(other.opened_at(&token, &stamp), None);
        assert_eq!(links.opened_at(&token, "garbage"), None);
    }

    #[test]
    fn links_go_stale_after_the_maximum_age() {
        let links = links();
        let id = PendingLoginId(Uuid::from_u128(7));
        let start = OffsetDateTime::UNIX_EPOCH;
        let at = |s: f64| start + time::Duration::seconds_f64(s);
        assert_eq!(links.step_at(start, at(0.0)), 0);
        assert_eq!(links.step_at(start, at(5.0)), 2);
        let token = links.token(id, 2);
        assert_eq!(links.freshness(&token, start, at(5.0)), Freshness::Fresh);
        assert_eq!(links.freshness(&token, start, at(14.0)), Freshness::Fresh);
        assert_eq!(links.freshness(&token, start, at(14.5)), Freshness::Stale);
        assert_eq!(
            links.freshness(&links.token(id, 9), start, at(5.0)),
            Freshness::Future
        );
        assert_eq!(
            links.until_next_step(start, at(5.0)),
            Duration::from_secs(1)
        );
    }

    /// Issue 7 asks for the QR version before and after; `cargo test --lib qr_version -- --nocapture`.
    #[test]
    fn a_rotating_link_makes_a_sparser_qr_code_than_a_diia_deeplink() {
        let version = |text: &str| match qrcode::QrCode::with_error_correction_level(
            text.as_bytes(),
            qrcode::EcLevel::M,
        )
        .unwrap()
        .version()
        {
            qrcode::Version::Normal(v) | qrcode::Version::Micro(v) => v,
        };
        // Diia's deeplink: the offer-request path with the offer id and a base64 request id.
        let diia = "https://diia.app/acquirers/offer-request/dynamic/\
                    0f8a6b0e-2a51-4c52-9f55-7a4ad34b6e71/\
                    ZmQ2YTdjZjEtYjk0ZC00ZDBhLWI1NTctNmRmNmE4ZjM1NmQ3";
        let links = links();
        let token = links.token(PendingLoginId(Uuid::from_u128(u128::MAX)), 89);
        let short = link(
            &url::Url::parse("https://kep.example.ua/").unwrap(),
            "/.kepgate",
            &token,
        );
        let (before, after) = (version(diia), version(&short));
        println!(
            "QR version (EC level M): Diia deeplink {before} ({} chars) → kepgate link {after} ({} chars: {short})",
            diia.len(),
            short.len()
        );
        assert!(after < before, "{after} < {before}");
    }

    #[test]
    fn three_distinct_codes_of_which_one_is_right_and_stable() {
        let links = links();
        for n in 0..500u128 {
            let id = PendingLoginId(Uuid::from_u128(n));
            let codes = links.verification_codes(id);
            assert_eq!(codes, links.verification_codes(id));
            let [a, b, c] = codes.choices;
            assert!(a != b && b != c && a != c, "{codes:?}");
            assert!(codes.choices.contains(&codes.right));
            assert!(codes.choices.iter().all(|c| (10..=99).contains(c)));
        }
    }
}
