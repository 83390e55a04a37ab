//! Times as the CLI reads and prints them: RFC 3339 in UTC with milliseconds, and the forms
//! accepted by `--since`/`--until` (RFC 3339, a bare date, or a duration ago such as `2h`).
//!
//! `jiff` parses them: timestamps in its Temporal (ISO 8601) form, which RFC 3339 is part of,
//! and durations in its "friendly" form. So a few more forms than the message lists are
//! accepted too (`20261127T104015Z`, `2h30m`, `PT2H`, `5 minutes`); a duration must not be
//! negative (`-2h`, `2h ago`), and years and months, whose length varies, are refused.

use jiff::{civil::Date, tz::TimeZone, Span, SpanRelativeTo, Timestamp, Unit};

/// A time the CLI could not read, with the forms it accepts.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "bad time `{0}`: use RFC 3339 (2026-11-27T10:00:00Z or with an offset, +01:00), a date \
     (2026-11-27, midnight UTC), or a duration ago (90s, 30m, 2h, 1d, 1w)"
)]
pub struct BadTime(pub String);

/// Parses `s` into ms since the Unix epoch; durations count back from `now_ms`.
pub fn parse(s: &str, now_ms: i64) -> Result<i64, BadTime> {
    let t = s.trim();
    parse_ago(t)
        .and_then(|ago| now_ms.checked_sub(ago))
        .or_else(|| t.parse::<Timestamp>().ok().map(|ts| ts.as_millisecond()))
        .or_else(|| parse_date(t))
        .ok_or_else(|| BadTime(s.to_owned()))
}

/// A duration of days at most (a day is 24 h), in ms; `None` if negative or not one.
fn parse_ago(s: &str) -> Option<i64> {
    let span: Span = s.parse().ok()?;
    if span.is_negative() {
        return None;
    }
    let ms = span
        .total((Unit::Millisecond, SpanRelativeTo::days_are_24_hours()))
        .ok()?;
    // A fraction of a millisecond (`1500us`) is dropped.
    (ms.is_finite() && ms < i64::MAX as f64).then_some(ms as i64)
}

/// A bare date (no time of day), as its midnight in UTC.
fn parse_date(s: &str) -> Option<i64> {
    if s.contains(['T', 't', ' ', ':']) {
        return None; // a date and time without an offset: ambiguous, refused
    }
    let date: Date = s.parse().ok()?;
    let midnight = date.to_zoned(TimeZone::UTC).ok()?;
    Some(midnight.timestamp().as_millisecond())
}

/// `ms` as a timestamp, clamped to the years jiff can represent (-9999 to 9999).
fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(if ms < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// `ms` as `2026-11-27T10:40:15.123Z`.
pub fn rfc3339(ms: i64) -> String {
    format!("{:.3}", timestamp(ms))
}

/// `ms` as `20261127T104015Z`, for file names.
pub fn compact(ms: i64) -> String {
    timestamp(ms).strftime("%Y%m%dT%H%M%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_000_000_000;

    #[test]
    fn rfc3339_forms_parse_to_the_same_instant() {
        let z = parse("2026-11-27T10:40:15Z", NOW).unwrap();
        assert_eq!(z, 1_795_776_015_000);
        assert_eq!(parse("2026-11-27T11:40:15+01:00", NOW), Ok(z));
        assert_eq!(parse("2026-11-27 05:40:15.250-05:00", NOW), Ok(z + 250));
        assert_eq!(
            parse("2026-11-27", NOW),
            Ok(z - (10 * 3600 + 40 * 60 + 15) * 1000)
        );
        assert_eq!(rfc3339(z + 7), "2026-11-27T10:40:15.007Z");
        assert_eq!(compact(z), "20261127T104015Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn durations_count_back_from_now() {
        assert_eq!(parse("2h", NOW), Ok(NOW - 7_200_000));
        assert_eq!(parse("1d", NOW), Ok(NOW - 86_400_000));
        assert_eq!(parse("90s", NOW), Ok(NOW - 90_000));
        assert_eq!(parse("30m", NOW), Ok(NOW - 1_800_000));
    }

    #[test]
    fn bad_forms_are_refused_with_the_accepted_ones() {
        for bad in [
            "yesterday",
            "2h30",
            "2026-13-01",
            "2026-02-30",
            "2026-11-27T25:00:00Z",
            "2026-11-27T10:00:00",
            "2026-11-27T10:00:00.Z",
            "",
            "-2h",
            "2x",
        ] {
            let err = parse(bad, NOW).unwrap_err();
            assert!(err.to_string().contains("RFC 3339"), "{bad}: {err}");
        }
    }

    #[test]
    fn times_before_1970_and_out_of_range_print() {
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(i64::MAX), "9999-12-30T22:00:00.999Z", "clamped");
        assert!(rfc3339(i64::MIN).starts_with("-009999-"), "clamped");
    }
}
