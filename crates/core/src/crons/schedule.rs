//! PocketBase's cron expressions, with its exact semantics: 5 fields separated by single
//! spaces (minute 0-59, hour 0-23, day 1-31, month 1-12, weekday 0-6), each a list of `*`,
//! `n`, `a-b`, `*/s` or `a-b/s`, numbers only; or one of its macros. A minute is due when
//! every field holds it: day and weekday both, unlike POSIX cron (which takes either).

use chrono::{DateTime, Datelike, Timelike, Utc};

/// The minutes an expression is due at, field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    fields: [u64; 5],
}

/// Each field's bounds.
const BOUNDS: [(u32, u32); 5] = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)];

const MACROS: [(&str, &str); 7] = [
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

impl Schedule {
    /// The schedule of `expression`, or why it is not one (PocketBase's words).
    pub fn parse(expression: &str) -> Result<Schedule, String> {
        let expression = MACROS
            .iter()
            .find(|(name, _)| *name == expression)
            .map_or(expression, |(_, expanded)| expanded);
        let segments: Vec<&str> = expression.split(' ').collect();
        if segments.len() != 5 {
            return Err(
                "invalid cron expression - must be a valid macro or to have exactly 5 \
                        space separated segments"
                    .into(),
            );
        }
        let mut fields = [0u64; 5];
        for (i, segment) in segments.iter().enumerate() {
            let (min, max) = BOUNDS[i];
            fields[i] = parse_segment(segment, min, max)?;
        }
        Ok(Schedule { fields })
    }

    /// Whether the minute of `at` is due.
    pub fn is_due(&self, at: &DateTime<Utc>) -> bool {
        let moment = [
            at.minute(),
            at.hour(),
            at.day(),
            at.month(),
            at.weekday().num_days_from_sunday(),
        ];
        moment
            .iter()
            .zip(self.fields)
            .all(|(value, field)| field & (1 << value) != 0)
    }
}

/// A comma-separated list of `*`, `n`, `a-b`, `*/s`, `a-b/s` within `min..=max`, as a bit set.
fn parse_segment(segment: &str, min: u32, max: u32) -> Result<u64, String> {
    let mut slots = 0u64;
    for part in segment.split(',') {
        let (range, step) = match part.split('/').collect::<Vec<_>>()[..] {
            [range] => (range, 1),
            [range, step] => match u32::try_from(atoi(step)?) {
                Ok(step) if (1..=max).contains(&step) => (range, step),
                _ => {
                    return Err(format!(
                        "invalid segment step boundary - the step must be between 1 and the {max}"
                    ));
                }
            },
            _ => {
                return Err(
                    "invalid segment step format - must be in the format */n or 1-30/n".into(),
                );
            }
        };
        let (from, to) = if range == "*" {
            (min, max)
        } else {
            match range.split('-').collect::<Vec<_>>()[..] {
                [single] => {
                    if step != 1 {
                        return Err("invalid segment step - step > 1 could be used only with \
                                    the wildcard or range format"
                            .into());
                    }
                    let value = bounded(atoi(single)?, min, max).ok_or(
                        "invalid segment value - must be between the min and max of the segment",
                    )?;
                    (value, value)
                }
                [low, high] => {
                    let low = bounded(atoi(low)?, min, max).ok_or_else(|| {
                        format!("invalid segment range minimum - must be between {min} and {max}")
                    })?;
                    let high = bounded(atoi(high)?, low, max).ok_or_else(|| {
                        format!("invalid segment range maximum - must be between {low} and {max}")
                    })?;
                    (low, high)
                }
                _ => {
                    return Err(
                        "invalid segment range format - the range must have 1 or 2 parts".into(),
                    );
                }
            }
        };
        for value in (from..=to).step_by(step as usize) {
            slots |= 1 << value;
        }
    }
    Ok(slots)
}

/// Go's `strconv.Atoi`: an optional sign and decimal digits.
fn atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.Atoi: parsing {s:?}: invalid syntax"));
    }
    s.parse()
        .map_err(|_| format!("strconv.Atoi: parsing {s:?}: value out of range"))
}

fn bounded(value: i64, min: u32, max: u32) -> Option<u32> {
    u32::try_from(value)
        .ok()
        .filter(|v| (min..=max).contains(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn pocketbase_expressions_parse_and_others_do_not() {
        for ok in [
            "* * * * *",
            "0 */6 * * *",
            "5-10/2 1,2 * 1-6 0",
            "0 0 1 1 *",
            "59 23 31 12 6",
            "@hourly",
            "@midnight",
            "@annually",
            "+5 * * * *",
            "1-1 * * * *",
        ] {
            assert!(Schedule::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "* * * *",
            "0 0 * * * *",
            "61 * * * *",
            "* * * * 7",
            "* * 0 * *",
            "5/10 * * * *",
            "*/0 * * * *",
            "*/60 * * * *",
            "0  0 * * *",
            "MON * * * *",
            "L * * * *",
            "@HOURLY",
            " @hourly",
            "10-5 * * * *",
            "1-2-3 * * * *",
            "*/2/3 * * * *",
            "a * * * *",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_minute_is_due_when_every_field_holds_it() {
        let six_hourly = Schedule::parse("0 */6 * * *").unwrap();
        assert!(six_hourly.is_due(&at("2026-01-01T12:00:00Z")));
        assert!(!six_hourly.is_due(&at("2026-01-01T13:00:00Z")));
        assert!(!six_hourly.is_due(&at("2026-01-01T12:01:00Z")));
        // Day and weekday both (2026-01-01 is a Thursday, weekday 4): PocketBase's AND.
        let first_if_thursday = Schedule::parse("0 0 1 * 4").unwrap();
        assert!(first_if_thursday.is_due(&at("2026-01-01T00:00:00Z")));
        assert!(!first_if_thursday.is_due(&at("2026-01-08T00:00:00Z")));
        assert!(!first_if_thursday.is_due(&at("2026-02-01T00:00:00Z")));
        let stepped = Schedule::parse("10-20/5 * * * *").unwrap();
        let due: Vec<u32> = (0..60)
            .filter(|m| stepped.is_due(&at(&format!("2026-01-01T00:{m:02}:00Z"))))
            .collect();
        assert_eq!(due, [10, 15, 20]);
    }
}
