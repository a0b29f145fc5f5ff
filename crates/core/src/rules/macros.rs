//! The date macros of the filter language (`@now`, `@todayStart`, `@monthEnd`...), evaluated
//! once per request in UTC, as PocketBase does.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};

/// The macro's value: a date string, or a number for the single components (`@second`...).
pub fn resolve(name: &str, now: DateTime<Utc>) -> Option<serde_json::Value> {
    use serde_json::json;
    let date = |t: DateTime<Utc>| json!(crate::dates::format(t));
    let day_start = Utc.from_utc_datetime(&now.date_naive().and_hms_opt(0, 0, 0)?);
    let month_start = Utc.from_utc_datetime(
        &NaiveDate::from_ymd_opt(now.year(), now.month(), 1)?.and_hms_opt(0, 0, 0)?,
    );
    let next_month = if now.month() == 12 {
        NaiveDate::from_ymd_opt(now.year() + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(now.year(), now.month() + 1, 1)?
    };
    let year_start =
        Utc.from_utc_datetime(&NaiveDate::from_ymd_opt(now.year(), 1, 1)?.and_hms_opt(0, 0, 0)?);
    let end = |next: DateTime<Utc>| next - Duration::milliseconds(1);
    Some(match name {
        "@now" => date(now),
        "@yesterday" => date(now - Duration::days(1)),
        "@tomorrow" => date(now + Duration::days(1)),
        "@second" => json!(now.second()),
        "@minute" => json!(now.minute()),
        "@hour" => json!(now.hour()),
        "@day" => json!(now.day()),
        "@month" => json!(now.month()),
        "@weekday" => json!(now.weekday().num_days_from_sunday()),
        "@year" => json!(now.year()),
        "@todayStart" => date(day_start),
        "@todayEnd" => date(end(day_start + Duration::days(1))),
        "@monthStart" => date(month_start),
        "@monthEnd" => date(end(Utc.from_utc_datetime(&next_month.and_hms_opt(0, 0, 0)?))),
        "@yearStart" => date(year_start),
        "@yearEnd" => date(end(Utc.from_utc_datetime(
            &NaiveDate::from_ymd_opt(now.year() + 1, 1, 1)?.and_hms_opt(0, 0, 0)?,
        ))),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_end_is_the_last_millisecond_of_the_month() {
        let now = Utc.with_ymd_and_hms(2024, 2, 10, 12, 0, 0).unwrap();
        assert_eq!(
            resolve("@monthEnd", now).unwrap(),
            "2024-02-29 23:59:59.999Z"
        );
        assert_eq!(
            resolve("@todayStart", now).unwrap(),
            "2024-02-10 00:00:00.000Z"
        );
        assert_eq!(resolve("@weekday", now).unwrap(), 6);
        assert!(resolve("@nope", now).is_none());
    }
}
