//! Times as people here read them: in the display time zone (`ui.time_zone`, Europe/Kyiv by
//! default) rather than UTC, day first — «26.11.2026 13:23».

use time::OffsetDateTime;

/// The time zone pages show times in.
#[derive(Clone, Debug)]
pub struct DisplayZone(jiff::tz::TimeZone);

impl DisplayZone {
    /// An IANA name, e.g. `Europe/Kyiv`; looked up in the tz database built into kepgate.
    pub fn named(name: &str) -> Result<Self, String> {
        jiff::tz::TimeZone::get(name)
            .map(DisplayZone)
            .map_err(|e| format!("{name:?} is not a time zone of the tz database: {e}"))
    }

    /// «26.11.2026 13:23».
    pub fn date_and_time(&self, t: OffsetDateTime) -> String {
        self.local(t)
            .map(|z| z.strftime("%d.%m.%Y %H:%M").to_string())
            .unwrap_or_default()
    }

    /// «13:23:03, 26.11»: when a login started, for the phone check.
    pub fn time_and_day(&self, t: OffsetDateTime) -> String {
        self.local(t)
            .map(|z| z.strftime("%H:%M:%S, %d.%m").to_string())
            .unwrap_or_default()
    }

    fn local(&self, t: OffsetDateTime) -> Option<jiff::Zoned> {
        let nanos = i128::from(t.unix_timestamp()) * 1_000_000_000 + i128::from(t.nanosecond());
        let at = jiff::Timestamp::from_nanosecond(nanos).ok()?;
        Some(at.to_zoned(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn kyiv_time_follows_summer_and_winter_time() {
        let kyiv = DisplayZone::named("Europe/Kyiv").unwrap();
        // Winter: UTC+2; summer (from the last Sunday of March): UTC+3.
        assert_eq!(
            kyiv.date_and_time(datetime!(2026-11-26 11:23:03 UTC)),
            "26.11.2026 13:23"
        );
        assert_eq!(
            kyiv.date_and_time(datetime!(2026-07-01 21:30 UTC)),
            "02.07.2026 00:30"
        );
        assert_eq!(
            kyiv.time_and_day(datetime!(2026-11-26 11:23:03 UTC)),
            "13:23:03, 26.11"
        );
        // The older spelling names the same zone.
        let kiev = DisplayZone::named("Europe/Kiev").unwrap();
        assert_eq!(
            kiev.date_and_time(datetime!(2026-11-26 11:23:03 UTC)),
            "26.11.2026 13:23"
        );
    }

    #[test]
    fn an_unknown_zone_is_a_clear_error() {
        let e = DisplayZone::named("Europe/Kyev").unwrap_err();
        assert!(e.contains("\"Europe/Kyev\""), "{e}");
    }
}
