//! Times as the CLI reads and prints them: RFC 3339 in UTC with milliseconds, and the forms
//! accepted by `--since`/`--until` (RFC 3339, a bare date, or a duration ago such as `2h`).

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
        .map(|ago| now_ms - ago)
        .or_else(|| parse_rfc3339(t))
        .ok_or_else(|| BadTime(s.to_owned()))
}

fn parse_ago(s: &str) -> Option<i64> {
    let unit_at = s.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = s.split_at(unit_at);
    let n: i64 = n.parse().ok()?;
    let ms = match unit {
        "s" => 1000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return None,
    };
    n.checked_mul(ms)
}

fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    let day_ms = days_from_civil(y, mo, d) * 86_400_000;
    if b.len() == 10 {
        return Some(day_ms);
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 19 || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut frac_ms = 0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let digits = s.get(start..i)?;
        if digits.is_empty() {
            return None;
        }
        let ms3: String = digits.chars().chain("00".chars()).take(3).collect();
        frac_ms = ms3.parse::<i64>().ok()?;
    }
    let offset_min = match s.get(i..)? {
        "Z" | "z" => 0,
        tz if tz.len() == 6 && (tz.starts_with('+') || tz.starts_with('-')) && &tz[3..4] == ":" => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let m = oh * 60 + om;
            if tz.starts_with('-') {
                -m
            } else {
                m
            }
        }
        _ => return None,
    };
    Some(day_ms + ((h * 60 + mi - offset_min) * 60 + sec) * 1000 + frac_ms)
}

/// `ms` as `2026-11-27T10:40:15.123Z`.
pub fn rfc3339(ms: i64) -> String {
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, mo, d) = civil_from_days(days);
    let s = rem / 1000;
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        rem % 1000
    )
}

/// `ms` as `20261127T104015Z`, for file names.
pub fn compact(ms: i64) -> String {
    let full = rfc3339(ms);
    let digits: String = full[..19]
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    format!("{digits}Z")
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
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
    fn civil_dates_round_trip() {
        for days in [-800_000, -1, 0, 59, 60, 11_016, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
