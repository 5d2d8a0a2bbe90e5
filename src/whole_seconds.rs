//! Durations are written as whole seconds in the configuration: `request_timeout = 30`. Below
//! both `config` and the providers' own settings (`provider/<kind>/settings.rs`), which read
//! them the same way.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    u64::deserialize(d).map(Duration::from_secs)
}

/// The default values in the configuration's schema (`config::schema`) are written as they are
/// read: whole seconds.
pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_secs())
}
