//! Dates as PocketBase writes them: `2024-01-02 03:04:05.000Z` (UTC, milliseconds).

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};

pub const FORMAT: &str = "%Y-%m-%d %H:%M:%S%.3fZ";

pub fn now() -> String {
    format(Utc::now())
}

/// Microseconds since the Unix epoch: when PocketBase records a migration as applied.
pub fn unix_micros() -> i64 {
    Utc::now().timestamp_micros()
}

/// `micros` (since the Unix epoch) in RFC 3339 with milliseconds (`2026-12-06T20:41:12.123Z`):
/// the times of events and dead letters (docs/events.md).
pub fn rfc3339_micros(micros: i64) -> String {
    DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn format(t: DateTime<Utc>) -> String {
    let mut text = String::with_capacity(24);
    push_formatted(&mut text, t);
    text
}

/// Appends `t` in [`FORMAT`]. Written digit by digit: chrono's formatter interprets the
/// pattern on every call, which was a tenth of the log writer's time (an entry's `created`)
/// and shows in every insert (a record's `created` and `updated`).
pub fn push_formatted(out: &mut String, t: DateTime<Utc>) {
    let year = t.year();
    if !(0..=9999).contains(&year) {
        // chrono's own form (a sign and more digits), never reached by a clock.
        use std::fmt::Write;
        let _ = write!(out, "{}", t.format(FORMAT));
        return;
    }
    let millis = t.nanosecond() % 1_000_000_000 / 1_000_000;
    let mut text = *b"0000-00-00 00:00:00.000Z";
    let mut digits = |at: usize, width: usize, mut value: u32| {
        for slot in text[at..at + width].iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    digits(0, 4, year.unsigned_abs());
    digits(5, 2, t.month());
    digits(8, 2, t.day());
    digits(11, 2, t.hour());
    digits(14, 2, t.minute());
    // A leap second (chrono's 60th) is written as chrono writes it.
    digits(
        17,
        2,
        t.second() + u32::from(t.nanosecond() >= 1_000_000_000),
    );
    digits(20, 3, millis);
    out.extend(text.iter().map(|&b| char::from(b)));
}

/// A date in the canonical form (as stored), back as a time.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s.trim_end_matches('Z'), "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

/// Parses the date forms PocketBase accepts (RFC 3339, `YYYY-MM-DD HH:MM:SS[.fff][Z]`,
/// `YYYY-MM-DD`) into its canonical form.
pub fn normalize(input: &str) -> Option<String> {
    let s = input.trim();
    if s.is_empty() {
        return Some(String::new());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(format(t.with_timezone(&Utc)));
    }
    let no_z = s.trim_end_matches('Z');
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(no_z, fmt) {
            return Some(format(t.and_utc()));
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| format(t.and_utc()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn normalizes_common_forms() {
        assert_eq!(
            super::normalize("2024-01-02").as_deref(),
            Some("2024-01-02 00:00:00.000Z")
        );
        assert_eq!(
            super::normalize("2024-01-02T03:04:05Z").as_deref(),
            Some("2024-01-02 03:04:05.000Z")
        );
        assert_eq!(
            super::normalize("2024-01-02 03:04:05.123Z").as_deref(),
            Some("2024-01-02 03:04:05.123Z")
        );
        assert_eq!(super::normalize("nope"), None);
        let t = super::parse("2024-01-02 03:04:05.123Z").unwrap();
        assert_eq!(super::format(t), "2024-01-02 03:04:05.123Z");
    }

    #[test]
    fn formats_as_chrono_does() {
        use chrono::{DateTime, Utc};
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut checked = 0;
        for _ in 0..20_000 {
            // xorshift: dates across the whole range chrono formats with four digits.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let secs = (seed % 253_402_300_800) as i64 - 62_135_596_800;
            let nanos = (seed >> 34) as u32 % 1_000_000_000;
            let Some(t) = DateTime::<Utc>::from_timestamp(secs, nanos) else {
                continue;
            };
            assert_eq!(
                super::format(t),
                t.format(super::FORMAT).to_string(),
                "{t:?}"
            );
            checked += 1;
        }
        assert!(checked > 19_000);
        for t in [
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
            DateTime::UNIX_EPOCH,
        ] {
            assert_eq!(super::format(t), t.format(super::FORMAT).to_string());
        }
    }
}
