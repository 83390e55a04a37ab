//! The `[journal]` section of the config: where the journal lives, how big it may grow, how
//! often it commits, and what to do with a file that is not a usable journal.

use crate::validate::{join, Report, Validate};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// What to do when the file at `path` is corrupt or is not a picket journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnCorrupt {
    /// Refuse to start and leave the file where it is.
    #[default]
    Fail,
    /// Rename the file (and its `-wal`) to `<path>.corrupt-<UTC time>` and start a new journal.
    StartNew,
}

/// `[journal]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JournalConfig {
    /// The SQLite file. Its directory is created (mode 0750) when missing.
    pub path: PathBuf,
    /// The most events kept; the oldest are pruned beyond it.
    pub max_events: u64,
    /// The most bytes the database and its WAL may take together, snapshots included.
    pub max_bytes: u64,
    /// Commits happen at most this often, except for urgent (alarm) events, which commit at once.
    pub batch_interval_ms: u64,
    /// Events held in memory while the disk refuses writes (full, failing); beyond it the
    /// producer's queue fills and new events are counted as dropped.
    pub max_pending: usize,
    /// Snapshot bytes held in memory while the disk refuses writes; beyond it snapshots are
    /// dropped (their events are kept).
    pub max_pending_snapshot_bytes: usize,
    /// Run `PRAGMA quick_check` when opening an existing journal (reads the whole file once).
    pub check_on_open: bool,
    pub on_corrupt: OnCorrupt,
    /// `picket uplink`'s cursor (`[uplink] state_file`) when an uplink is configured; not a key
    /// of `[journal]`, `picket run` sets it. Pruning then keeps the events the uplink has not
    /// had acknowledged yet while the journal is under `max_bytes` (`docs/design/journal.md`).
    #[serde(skip)]
    pub uplink_state: Option<PathBuf>,
    /// The cursors of `picket uplink`'s `[[push]]` sinks; minded like `uplink_state`, the
    /// slowest of them all counting. Not a key either.
    #[serde(skip)]
    pub push_states: Vec<PathBuf>,
}

impl Default for JournalConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from(DEFAULT_PATH),
            max_events: 1_000_000,
            max_bytes: 256 * MIB,
            batch_interval_ms: 1000,
            max_pending: 10_000,
            max_pending_snapshot_bytes: 16 * MIB as usize,
            check_on_open: true,
            on_corrupt: OnCorrupt::Fail,
            uplink_state: None,
            push_states: Vec::new(),
        }
    }
}

const MIB: u64 = 1024 * 1024;

/// The journal's default path: the package's state directory (`picket.service`'s
/// `StateDirectory=picket`).
pub const DEFAULT_PATH: &str = "/var/lib/picket/events.db";
/// The smallest `max_bytes` accepted: below it the WAL budget leaves no room for events.
pub const MIN_MAX_BYTES: u64 = MIB;

impl JournalConfig {
    pub fn batch_interval(&self) -> Duration {
        Duration::from_millis(self.batch_interval_ms)
    }

    /// A config for `path` with every other value at its default.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            ..Self::default()
        }
    }
}

impl Validate for JournalConfig {
    fn validate(&self, at: &str, report: &mut Report) {
        let s = self.path.as_os_str().to_string_lossy();
        if s.is_empty() || s.ends_with('/') {
            report.error(
                join(at, "path"),
                "must name a file, e.g. /var/lib/picket/events.db",
            );
        }
        if self.max_events == 0 {
            report.error(join(at, "max_events"), "must be at least 1");
        }
        if self.max_bytes < MIN_MAX_BYTES {
            report.error(
                join(at, "max_bytes"),
                format!("must be at least {MIN_MAX_BYTES} (1 MiB)"),
            );
        }
        if !(10..=60_000).contains(&self.batch_interval_ms) {
            report.error(
                join(at, "batch_interval_ms"),
                "must be between 10 and 60000 (a commit costs an fsync; alarms commit at once anyway)",
            );
        }
        if self.max_pending == 0 {
            report.error(join(at, "max_pending"), "must be at least 1");
        }
    }
}
