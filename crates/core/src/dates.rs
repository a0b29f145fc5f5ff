//! Dates as PocketBase writes them: `2024-01-02 03:04:05.000Z` (UTC, milliseconds).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

pub const FORMAT: &str = "%Y-%m-%d %H:%M:%S%.3fZ";

pub fn now() -> String {
    format(Utc::now())
}

/// Microseconds since the Unix epoch: when PocketBase records a migration as applied.
pub fn unix_micros() -> i64 {
    Utc::now().timestamp_micros()
}

pub fn format(t: DateTime<Utc>) -> String {
    t.format(FORMAT).to_string()
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
}
