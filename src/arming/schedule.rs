//! The weekly schedule (`mon-fri 18:00-07:30`) and time zones, parsed once at load.

use super::ArmingError;

/// One armed window: days (bit 0 = Monday) and minutes of the day `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    days: u8,
    start: u16,
    end: u16,
}

/// A weekly schedule, parsed once at load.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schedule {
    windows: Vec<Window>,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn parse_day(s: &str) -> Result<u8, String> {
    DAYS.iter()
        .position(|d| *d == s)
        .map(|i| i as u8)
        .ok_or_else(|| format!("unknown day `{s}` (use mon..sun)"))
}

fn parse_days(s: &str) -> Result<u8, String> {
    if s == "daily" {
        return Ok(0x7f);
    }
    let mut mask = 0u8;
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (parse_day(a)?, parse_day(b)?);
                let mut d = a;
                loop {
                    mask |= 1 << d;
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => mask |= 1 << parse_day(part)?,
        }
    }
    Ok(mask)
}

fn parse_hm(s: &str) -> Result<u16, String> {
    let bad = || format!("`{s}` is not a time HH:MM");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl Schedule {
    /// Parses entries of the form `DAYS HH:MM-HH:MM`, where DAYS is `daily`, a day (`mon`), a
    /// range (`mon-fri`, `fri-mon`) or a comma list of those.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, ArmingError> {
        let mut windows = Vec::with_capacity(entries.len());
        for e in entries {
            let entry = e.as_ref();
            let w = Self::parse_one(entry).map_err(|why| ArmingError::Schedule {
                entry: entry.to_owned(),
                why,
            })?;
            windows.push(w);
        }
        Ok(Schedule { windows })
    }

    fn parse_one(entry: &str) -> Result<Window, String> {
        let mut it = entry.split_whitespace();
        let (days, span) = match (it.next(), it.next(), it.next()) {
            (Some(d), Some(s), None) => (d, s),
            _ => return Err("expected `DAYS HH:MM-HH:MM`, e.g. `mon-fri 18:00-07:30`".into()),
        };
        let days = parse_days(&days.to_ascii_lowercase())?;
        let (a, b) = span
            .split_once('-')
            .ok_or_else(|| format!("`{span}` is not a span HH:MM-HH:MM"))?;
        let (start, end) = (parse_hm(a)?, parse_hm(b)?);
        if start == end {
            return Err("the span is empty (start = end); use 00:00-24:00 for a whole day".into());
        }
        if start == 24 * 60 {
            return Err("a span cannot start at 24:00".into());
        }
        Ok(Window { days, start, end })
    }

    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    /// Whether the schedule arms at `weekday` (0 = Monday) and `minute` of the local day. A
    /// window that ends at or before its start covers its days' evenings and the next mornings.
    pub fn armed_at(&self, weekday: u8, minute: u16) -> bool {
        let yesterday = (weekday + 6) % 7;
        self.windows.iter().any(|w| {
            let today = w.days & (1 << weekday) != 0;
            if w.start < w.end {
                today && minute >= w.start && minute < w.end
            } else {
                (today && minute >= w.start) || (w.days & (1 << yesterday) != 0 && minute < w.end)
            }
        })
    }

    /// Whether the schedule arms at wall-clock `ts_ms` in zone `tz`.
    pub fn armed_at_instant(&self, tz: &jiff::tz::TimeZone, ts_ms: i64) -> bool {
        let Ok(ts) = jiff::Timestamp::from_millisecond(ts_ms) else {
            return true; // out of range: a broken clock, so trust nothing and stay armed
        };
        let dt = tz.to_datetime(ts);
        let minute = dt.hour() as u16 * 60 + dt.minute() as u16;
        self.armed_at(dt.weekday().to_monday_zero_offset() as u8, minute)
    }
}

/// Loads a zone by IANA name or POSIX TZ string; `None` is the system's local zone. `"UTC"`
/// needs no time zone database (a minimal root may have none).
pub fn time_zone(name: Option<&str>) -> Result<jiff::tz::TimeZone, ArmingError> {
    let Some(name) = name else {
        return Ok(jiff::tz::TimeZone::system());
    };
    if name == "UTC" {
        return Ok(jiff::tz::TimeZone::UTC);
    }
    jiff::tz::TimeZone::get(name)
        .or_else(|_| jiff::tz::TimeZone::posix(name))
        .map_err(|cause| ArmingError::TimeZone {
            name: name.to_owned(),
            cause,
        })
}
