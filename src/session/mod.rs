//! Signed-in browsers. The cookie holds a random token; the database holds only its SHA-256,
//! so a leaked table hands out no live sessions. A new session (new id, new token) is created
//! at every login: nothing from before the login survives it (no session fixation).
//!
//! A session ends at its absolute expiry (`expires_at`), after its idle timeout without
//! requests, or when revoked (logout, the user from another session, an administrator).
//! [`SessionStore::authenticate`] is the one way a request finds its session. Nothing here
//! knows HTTP: the web layer reads the cookie and maps [`SessionError`].

pub mod admin;
pub mod cache;
pub mod history;
pub mod listing;
pub mod record;
pub mod revocation;
pub mod store;
pub mod token;

pub use cache::SessionCache;
pub use record::{Authentication, Session};
pub use revocation::{RevokedBy, Whom, revoke};
pub use store::{NewSession, SessionError, SessionStore, create, duration, find, find_by_id};
pub use token::SessionToken;
