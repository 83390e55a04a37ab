//! Arming: whether rule events may raise alarms right now, and everything that feeds it.
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
//!
//! The module's parts:
//! - [`Arming`] decides, as a pure function of the mode, the time and the clock's state; the
//!   rules own one and call it every frame, and do no arming I/O themselves;
//! - [`schedule`]: the weekly [`Schedule`] and time zones;
//! - [`state`]: the [`StateFile`] and the clock check [`clock_synchronised`];
//! - [`watch`]: the input watcher's thread (keyswitch, tamper, the state file, the clock), which
//!   publishes [`Inputs`] and the clock's state for the hot thread in an [`ArmingShared`].

mod config;
pub mod schedule;
pub mod state;
#[cfg(test)]
mod tests;
pub mod watch;

pub use config::ArmingConfig;
pub use schedule::{time_zone, Schedule};
pub use state::{clock_synchronised, StateFile};
pub use watch::{ArmingShared, WatchError};

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

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

/// Who set the manual mode last, as the state file's `by` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum By {
    /// Nobody yet, or a `by` this picket does not know.
    #[default]
    Unknown,
    /// `picket arm`/`disarm`.
    Cli,
    /// The keyswitch.
    Key,
    /// An MQTT command, through `picket uplink`'s request file.
    Mqtt,
}

impl By {
    pub fn parse(s: &str) -> By {
        match s {
            "cli" => By::Cli,
            "key" => By::Key,
            "mqtt" => By::Mqtt,
            _ => By::Unknown,
        }
    }

    /// The state file's `by`, and the `source` of `armed`/`disarmed` events.
    pub fn as_str(self) -> &'static str {
        match self {
            By::Unknown => "",
            By::Cli => "cli",
            By::Key => "key",
            By::Mqtt => "mqtt",
        }
    }

    fn to_u8(self) -> u8 {
        self as u8
    }

    fn from_u8(v: u8) -> By {
        match v {
            1 => By::Cli,
            2 => By::Key,
            3 => By::Mqtt,
            _ => By::Unknown,
        }
    }
}

/// The arming inputs for one frame, as the input watcher last saw them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Inputs {
    pub mode: Mode,
    /// Who set `mode`.
    pub by: By,
    /// The tamper input is active (its loop is open).
    pub tamper: bool,
}

/// Why arming could not be set up or its state not kept.
#[derive(Debug, thiserror::Error)]
pub enum ArmingError {
    #[error("schedule entry `{entry}`: {why}")]
    Schedule { entry: String, why: String },
    #[error("time zone `{name}`: {cause}")]
    TimeZone { name: String, cause: jiff::Error },
    #[error("state file {}: {cause}", path.display())]
    State {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("state file {}: {why}", path.display())]
    StateSyntax { path: PathBuf, why: String },
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
