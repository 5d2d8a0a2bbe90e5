//! Signed-in browsers, and the one owner of the `sessions` table: every statement on it is in
//! this folder. The cookie holds a random token; the database holds only its SHA-256, so a
//! leaked table hands out no live sessions. A new session (new id, new token) is opened at
//! every login ([`open`]): nothing from before the login survives it (no session fixation).
//!
//! A session ends at its absolute expiry (`expires_at`), after its idle timeout without
//! requests, or when ended early ([`ending`]: logout, the user from another session, an
//! administrator, a revoked certificate). [`SessionStore::authenticate`] is the way a request
//! finds its session; [`find_uncached`] is for the few callers that must not trust the cache.
//! Nothing here knows HTTP: the web layer (`http/signed_in.rs`) reads the cookie and maps
//! [`SessionError`].

pub mod admin;
pub mod cache;
pub mod ending;
pub mod history;
pub mod listing;
pub mod lookup;
pub mod opening;
pub mod record;
pub mod retention;
pub mod store;
pub mod token;

pub use cache::SessionCache;
pub use ending::{EndedBy, Whom};
pub use lookup::{SessionKey, find_uncached};
pub use opening::{NewSession, Opened, SessionError, open};
pub use record::{Authentication, Session, subject_of};
pub use store::{SessionStore, duration};
pub use token::SessionToken;
