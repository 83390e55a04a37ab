//! The uplink's cursor: the journal id up to which the broker has acknowledged every event,
//! kept in `[uplink] state_file` so that a restart resumes where the last run stopped.
//!
//! The file is small TOML, written whole and durably (temporary file, fsync, rename, fsync of
//! the directory), so a crash or power cut leaves the old cursor or the new one. An old cursor
//! only means events sent again: delivery is at least once. `picket run` and `picket status`
//! read the same file to know which events are still waiting to be sent; the type and its
//! reader are the journal's ([`crate::journal::cursor`]), since the journal may not import
//! the uplink. Storing it is the uplink's alone, here.
//!
//! ```toml
//! version = 1
//! acked_through = 1234
//! journal_created_ms = 1795776015000
//! updated_ms = 1795776099000
//! ```

pub use crate::journal::cursor::{Cursor, CursorError, CURSOR_VERSION};

use std::io::Write;
use std::path::{Path, PathBuf};

impl Cursor {
    /// Writes the cursor durably: when this returns, a power cut keeps it.
    pub fn store(&self, path: &Path) -> Result<(), CursorError> {
        let mut text = String::from(
            "# picket uplink: the broker acknowledged every journal event up to acked_through.\n",
        );
        // Serialising four plain fields cannot fail.
        text += &toml::to_string(self).unwrap_or_default();
        write_durably(path, text.as_bytes()).map_err(|(op, cause)| CursorError::Io {
            path: path.to_owned(),
            op,
            cause,
        })
    }
}

/// Replaces `path` with `bytes` so that a crash or power cut leaves the old file or the new one:
/// a temporary file beside it, fsync, rename over it, fsync of the directory.
pub fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), (&'static str, std::io::Error)> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = std::fs::File::create(&tmp).map_err(|e| ("create a temporary file", e))?;
    f.write_all(bytes).map_err(|e| ("write", e))?;
    f.sync_all().map_err(|e| ("fsync", e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ("rename into place", e)
    })?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| ("fsync the directory", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdir::TestDir;

    #[test]
    fn a_stored_cursor_loads_back_and_a_missing_one_is_none() {
        let d = TestDir::new("uplink-cursor");
        let p = d.path().join("events.db.uplink");
        assert_eq!(Cursor::load(&p).unwrap(), None);
        let c = Cursor {
            acked_through: 1234,
            updated_ms: 99,
            ..Cursor::start(Some(1_795_776_015_000))
        };
        c.store(&p).unwrap();
        assert_eq!(Cursor::load(&p).unwrap(), Some(c));
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("acked_through = 1234\n"), "{text}");
        assert!(!d.path().join("events.db.uplink.tmp").exists());
        let later = Cursor {
            acked_through: 2000,
            ..c
        };
        later.store(&p).unwrap();
        assert_eq!(
            Cursor::load(&p).unwrap().map(|c| c.acked_through),
            Some(2000)
        );
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_the_file() {
        let d = TestDir::new("uplink-cursor-dir");
        let p = d.path().join("nope/cursor");
        let e = Cursor::start(None).store(&p).unwrap_err().to_string();
        assert!(
            e.contains("nope/cursor") && e.contains("create a temporary file"),
            "{e}"
        );
    }
}
