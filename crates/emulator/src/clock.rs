//! The emulator's one reading of the real clock. It stands in for Diia, whose time no test moves
//! (the gateway's injected `Clock` is for the gateway's own expiry rules).

use time::OffsetDateTime;

/// Now, in UTC.
#[allow(clippy::disallowed_methods)] // the emulator's one place that reads the real clock
pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}
