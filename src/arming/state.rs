//! What survives a restart: the arming [`StateFile`]; and the clock check
//! ([`clock_synchronised`]) that tells whether local time can be trusted for the schedule.

use super::{ArmingError, Mode};
use serde::{Deserialize, Serialize};
use std::path::Path;

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
            Err(cause) => Err(ArmingError::State {
                path: path.to_owned(),
                cause,
            }),
        }
    }

    /// Writes the state so that a power cut leaves either the old or the new file.
    pub fn store(&self, path: &Path) -> Result<(), ArmingError> {
        use std::io::Write;
        let err = |cause| ArmingError::State {
            path: path.to_owned(),
            cause,
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
