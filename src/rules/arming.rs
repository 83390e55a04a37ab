//! Arming: whether rule events may raise alarms right now.
//!
//! Four things decide it, in this order:
//! 1. **The manual mode** ([`Mode`]), kept in the state file so it survives restarts. `picket arm`
//!    and `picket disarm` set it; so does turning the keyswitch (the input watcher writes the same
//!    file), so the latest action of a person wins. `picket arm --auto` returns to the schedule.
//! 2. In `auto` mode, **the weekly schedule** in local time, if one is configured; with none, the
//!    box is armed.
//! 3. **The clock.** A Pi has no real-time clock: until the system clock is synchronised, local
//!    time is a guess, so the schedule is not trusted and an `auto` box stays *armed*. A
//!    `clock_unsynced` event records each such episode.
//! 4. **Tamper** is not arming: a tamper input raises its alarm whatever the mode.
//!
//! Local time comes from `jiff`: it reads the system's tz database (`/usr/share/zoneinfo`, kept
//! current by the OS's `tzdata` package rather than frozen into the binary as `chrono-tz` would),
//! and it accepts POSIX TZ strings, which makes DST tests independent of the host. Converting an
//! instant to civil time is a table lookup without allocation, so it is fine on the hot thread.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The manual arming mode, persisted in the state file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Follow the schedule (armed when there is none, or while the clock is unsynced).
    #[default]
    Auto,
    Armed,
    Disarmed,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Auto => "auto",
            Mode::Armed => "armed",
            Mode::Disarmed => "disarmed",
        }
    }

    pub fn to_u8(self) -> u8 {
        self as u8
    }

    pub fn from_u8(v: u8) -> Mode {
        match v {
            1 => Mode::Armed,
            2 => Mode::Disarmed,
            _ => Mode::Auto,
        }
    }
}

/// The `[arming]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArmingConfig {
    /// Armed windows in local time, e.g. `["mon-fri 18:00-07:30", "sat,sun 00:00-24:00"]`. A
    /// window whose end is not after its start runs past midnight into the next day. Empty means
    /// armed all week (in `auto` mode).
    pub schedule: Vec<String>,
    /// An IANA zone (`Europe/Berlin`) or a POSIX TZ string; default the system's local zone.
    pub timezone: Option<String>,
    /// Where the manual mode is kept across restarts.
    pub state_file: PathBuf,
}

impl Default for ArmingConfig {
    fn default() -> Self {
        Self {
            schedule: Vec::new(),
            timezone: None,
            state_file: PathBuf::from("/var/lib/picket/arming.toml"),
        }
    }
}

/// Why arming could not be set up or its state not kept.
#[derive(Debug, thiserror::Error)]
pub enum ArmingError {
    #[error("schedule entry `{entry}`: {why}")]
    Schedule { entry: String, why: String },
    #[error("time zone `{name}`: {source}")]
    TimeZone {
        name: String,
        #[source]
        source: jiff::Error,
    },
    #[error("state file {}: {source}", path.display())]
    State {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("state file {}: {why}", path.display())]
    StateSyntax { path: PathBuf, why: String },
}

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

/// Loads a zone by IANA name or POSIX TZ string; `None` is the system's local zone.
pub fn time_zone(name: Option<&str>) -> Result<jiff::tz::TimeZone, ArmingError> {
    let Some(name) = name else {
        return Ok(jiff::tz::TimeZone::system());
    };
    jiff::tz::TimeZone::get(name)
        .or_else(|_| jiff::tz::TimeZone::posix(name))
        .map_err(|source| ArmingError::TimeZone {
            name: name.to_owned(),
            source,
        })
}

/// What the state file holds. Written whole, atomically (temporary file, fsync, rename).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateFile {
    pub mode: Mode,
    /// Who set the mode last: `cli`, `key` or empty.
    pub by: String,
    /// Wall-clock time of the last change, ms since the epoch.
    pub changed_ms: i64,
    /// The keyswitch position last applied, so a turn made while picket was down is applied at
    /// start and an unchanged key does not override a later `picket disarm`.
    pub key: Option<bool>,
    /// Bumped by `picket alarm reset`; a running picket resets its latches when it changes.
    pub reset_seq: u64,
}

impl StateFile {
    /// Reads the state; a missing file is the default state (auto, never reset).
    pub fn load(path: &Path) -> Result<StateFile, ArmingError> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| ArmingError::StateSyntax {
                path: path.to_owned(),
                why: e.message().to_owned(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(StateFile::default()),
            Err(source) => Err(ArmingError::State {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Writes the state so that a power cut leaves either the old or the new file.
    pub fn store(&self, path: &Path) -> Result<(), ArmingError> {
        use std::io::Write;
        let err = |source| ArmingError::State {
            path: path.to_owned(),
            source,
        };
        let text = toml::to_string(self).map_err(|e| ArmingError::StateSyntax {
            path: path.to_owned(),
            why: e.to_string(),
        })?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let tmp = path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp).map_err(err)?;
        f.write_all(text.as_bytes()).map_err(err)?;
        f.sync_all().map_err(err)?;
        std::fs::rename(&tmp, path).map_err(err)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }

    /// Loads, changes and stores the state in one step (for the CLI and the input watcher).
    pub fn update(path: &Path, f: impl FnOnce(&mut StateFile)) -> Result<StateFile, ArmingError> {
        let mut s = StateFile::load(path)?;
        f(&mut s);
        s.store(path)?;
        Ok(s)
    }
}

/// Whether the system clock is synchronised, as `timedatectl` would say: systemd-timesyncd's
/// flag file exists, or the kernel's NTP state (`adjtimex`) is not `TIME_ERROR`/`STA_UNSYNC`
/// (chrony and ntpd keep that state). Not for the hot thread: it is a syscall and a stat.
pub fn clock_synchronised() -> bool {
    if Path::new("/run/systemd/timesync/synchronized").exists() {
        return true;
    }
    // SAFETY: `timex` is plain data; with `modes = 0` adjtimex only reads the kernel's state.
    unsafe {
        let mut tx: libc::timex = std::mem::zeroed();
        let state = libc::adjtimex(&mut tx);
        state >= 0 && state != libc::TIME_ERROR && tx.status & libc::STA_UNSYNC == 0
    }
}

/// Why the box is armed or not; recorded in `armed`/`disarmed` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Manual,
    Schedule,
    NoSchedule,
    ClockUnsynced,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Manual => "manual",
            Reason::Schedule => "schedule",
            Reason::NoSchedule => "no_schedule",
            Reason::ClockUnsynced => "clock_unsynced",
        }
    }
}

/// The arming decision, as a pure function of the mode, the time and the clock's state.
#[derive(Debug, Clone)]
pub struct Arming {
    schedule: Schedule,
    tz: jiff::tz::TimeZone,
}

impl Arming {
    pub fn new(cfg: &ArmingConfig) -> Result<Self, ArmingError> {
        Ok(Arming {
            schedule: Schedule::parse(&cfg.schedule)?,
            tz: time_zone(cfg.timezone.as_deref())?,
        })
    }

    pub fn with(schedule: Schedule, tz: jiff::tz::TimeZone) -> Self {
        Arming { schedule, tz }
    }

    /// Armed or not at wall time `ts_ms`, and why.
    pub fn decide(&self, mode: Mode, ts_ms: i64, clock_synced: bool) -> (bool, Reason) {
        match mode {
            Mode::Armed => (true, Reason::Manual),
            Mode::Disarmed => (false, Reason::Manual),
            Mode::Auto if self.schedule.is_empty() => (true, Reason::NoSchedule),
            Mode::Auto if !clock_synced => (true, Reason::ClockUnsynced),
            Mode::Auto => (
                self.schedule.armed_at_instant(&self.tz, ts_ms),
                Reason::Schedule,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Berlin's rules as a POSIX TZ string: CET, CEST from the last Sunday of March 02:00 to the
    /// last Sunday of October 03:00.
    const BERLIN: &str = "CET-1CEST,M3.5.0,M10.5.0/3";

    fn ms(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    fn arming(entries: &[&str]) -> Arming {
        Arming::with(
            Schedule::parse(entries).unwrap(),
            jiff::tz::TimeZone::posix(BERLIN).unwrap(),
        )
    }

    #[test]
    fn an_overnight_window_runs_past_midnight() {
        let s = Schedule::parse(&["fri 22:00-06:00"]).unwrap();
        assert!(s.armed_at(4, 22 * 60)); // Friday 22:00
        assert!(s.armed_at(5, 5 * 60 + 59)); // Saturday 05:59
        assert!(!s.armed_at(5, 6 * 60)); // Saturday 06:00
        assert!(!s.armed_at(4, 5 * 60)); // Friday morning: Thursday was not in the window
        assert!(!s.armed_at(5, 22 * 60));
        let w = Schedule::parse(&["sun-mon 23:00-01:00"]).unwrap();
        assert!(w.armed_at(0, 30), "Monday 00:30 continues Sunday's window");
        assert!(w.armed_at(1, 30), "Tuesday 00:30 continues Monday's window");
        assert!(!w.armed_at(2, 30));
    }

    #[test]
    fn the_schedule_follows_local_time_across_dst() {
        let a = arming(&["daily 22:00-06:00"]);
        // Spring forward, Sunday 2024-03-31: 02:00 CET becomes 03:00 CEST (01:00 UTC).
        assert!(a.decide(Mode::Auto, ms("2024-03-31T03:59:00Z"), true).0); // 05:59 CEST
        assert!(!a.decide(Mode::Auto, ms("2024-03-31T04:00:00Z"), true).0); // 06:00 CEST
                                                                            // In winter the same UTC instant is 05:00 CET, still armed.
        assert!(a.decide(Mode::Auto, ms("2024-03-24T04:00:00Z"), true).0);
        // Fall back, Sunday 2024-10-27: 03:00 CEST becomes 02:00 CET (01:00 UTC).
        assert!(a.decide(Mode::Auto, ms("2024-10-27T04:59:00Z"), true).0); // 05:59 CET
        assert!(!a.decide(Mode::Auto, ms("2024-10-27T05:00:00Z"), true).0); // 06:00 CET
        assert!(a.decide(Mode::Auto, ms("2024-10-26T20:00:00Z"), true).0); // 22:00 CEST
        assert!(!a.decide(Mode::Auto, ms("2024-10-26T19:59:00Z"), true).0);
    }

    #[test]
    fn an_unsynced_clock_keeps_an_auto_box_armed_but_manual_modes_hold() {
        let a = arming(&["mon-fri 18:00-07:00"]);
        let tuesday_noon = ms("2024-06-04T10:00:00Z");
        assert_eq!(
            a.decide(Mode::Auto, tuesday_noon, true),
            (false, Reason::Schedule)
        );
        assert_eq!(
            a.decide(Mode::Auto, tuesday_noon, false),
            (true, Reason::ClockUnsynced)
        );
        assert_eq!(
            a.decide(Mode::Disarmed, tuesday_noon, false),
            (false, Reason::Manual)
        );
        assert_eq!(
            arming(&[]).decide(Mode::Auto, 0, false),
            (true, Reason::NoSchedule)
        );
    }

    #[test]
    fn schedule_syntax_errors_say_what_is_wrong() {
        for (bad, why) in [
            ("weekdays 18:00-07:00", "unknown day"),
            ("mon 18:00", "not a span"),
            ("mon 25:00-07:00", "not a time"),
            ("mon 18:00-18:00", "empty"),
            ("mon-fri", "expected"),
        ] {
            let e = Schedule::parse(&[bad]).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert!(Schedule::parse(&["sat,sun 00:00-24:00", "Mon-Fri 18:30-07:15"]).is_ok());
    }

    #[test]
    fn the_state_file_survives_a_restart() {
        let dir = std::env::temp_dir().join(format!("picket-arming-{}", std::process::id()));
        let path = dir.join("arming.toml");
        assert_eq!(StateFile::load(&path).unwrap(), StateFile::default());
        StateFile::update(&path, |s| {
            s.mode = Mode::Disarmed;
            s.by = "cli".into();
        })
        .unwrap();
        let back = StateFile::load(&path).unwrap();
        assert_eq!(back.mode, Mode::Disarmed);
        assert_eq!(back.by, "cli");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
