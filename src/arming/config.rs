//! The `[arming]` section and its validation.
//!
//! ```toml
//! [arming]
//! schedule = ["mon-fri 18:00-07:30", "sat,sun 00:00-24:00"]
//! timezone = "Europe/Berlin"
//! state_file = "/var/lib/picket/arming.toml"
//! ```

use super::schedule::{time_zone, Schedule};
use crate::validate::{join, Report, Validate};
use serde::Deserialize;
use std::path::PathBuf;

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

impl Validate for ArmingConfig {
    fn validate(&self, at: &str, report: &mut Report) {
        for (i, entry) in self.schedule.iter().enumerate() {
            if let Err(e) = Schedule::parse(&[entry]) {
                report.error(join(at, format!("schedule.{i}")), e.to_string());
            }
        }
        if let Some(tz) = &self.timezone {
            if let Err(e) = time_zone(Some(tz)) {
                report.error(join(at, "timezone"), e.to_string());
            }
        }
    }
}
