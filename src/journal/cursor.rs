//! The uplink's cursor as the journal sees it: how far `picket uplink` says the broker has
//! acknowledged the journal, read (never written) by the journal's thread so that pruning keeps
//! what has not been sent yet.
//!
//! The file is `[uplink] state_file`; `picket uplink` writes it (`uplink/cursor.rs`) and is its
//! only writer. The type and its reader live here, below both, because the journal may not
//! import the uplink. The format:
//!
//! ```toml
//! version = 1
//! acked_through = 1234
//! journal_created_ms = 1795776015000
//! updated_ms = 1795776099000
//! ```

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The cursor file's format version.
pub const CURSOR_VERSION: u32 = 1;

/// What the state file holds. The uplink's main loop alone writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub version: u32,
    /// Every journal event with an id up to this one was acknowledged by the broker (PUBACK);
    /// 0 before the first.
    pub acked_through: i64,
    /// The journal's `created_ms` (its `meta` table), to tell a new journal from the old one:
    /// ids start again at 1 in a new journal.
    pub journal_created_ms: Option<i64>,
    /// When the cursor was written, ms since the Unix epoch.
    pub updated_ms: i64,
}

/// Why the cursor file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CursorError {
    #[error("[uplink] state_file {}: {op}: {cause}", path.display())]
    Io {
        path: PathBuf,
        op: &'static str,
        cause: std::io::Error,
    },
    #[error("[uplink] state_file {}: not an uplink cursor ({why})", path.display())]
    Syntax { path: PathBuf, why: String },
}

impl Cursor {
    /// A cursor before the first event of the journal created at `journal_created_ms`.
    pub fn start(journal_created_ms: Option<i64>) -> Self {
        Self {
            version: CURSOR_VERSION,
            acked_through: 0,
            journal_created_ms,
            updated_ms: 0,
        }
    }

    /// Reads the cursor at `path`; `None` when there is no file yet.
    pub fn load(path: &Path) -> Result<Option<Self>, CursorError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(cause) => {
                return Err(CursorError::Io {
                    path: path.to_owned(),
                    op: "read",
                    cause,
                })
            }
        };
        let syntax = |why: String| CursorError::Syntax {
            path: path.to_owned(),
            why,
        };
        let c: Cursor = toml::from_str(&text).map_err(|e| syntax(e.message().to_owned()))?;
        if c.version != CURSOR_VERSION {
            return Err(syntax(format!("version {}", c.version)));
        }
        Ok(Some(c))
    }

    /// Whether this cursor is about the journal created at `created_ms` (a cursor that does
    /// not say is taken to be).
    pub fn belongs_to(&self, created_ms: Option<i64>) -> bool {
        self.journal_created_ms.is_none() || self.journal_created_ms == created_ms
    }
}

/// The journal's thread's view of the cursor: read again at most once per [`CursorWatch::EVERY`],
/// whatever the rate of commits. A view that is late is safe: the cursor only moves forward, so
/// an old value keeps more events than needed, never fewer.
#[derive(Debug)]
pub(crate) struct CursorWatch {
    path: PathBuf,
    journal_created_ms: Option<i64>,
    read_at: Option<Instant>,
    acked: i64,
    /// What is wrong with the file, logged once until it changes.
    trouble: Option<String>,
}

impl CursorWatch {
    /// How often the file is read, at most.
    pub const EVERY: Duration = Duration::from_secs(1);

    /// Watches the cursor at `path` for the journal created at `journal_created_ms`.
    pub fn new(path: PathBuf, journal_created_ms: Option<i64>) -> Self {
        Self {
            path,
            journal_created_ms,
            read_at: None,
            acked: 0,
            trouble: None,
        }
    }

    /// The id up to which the uplink has every event acknowledged; 0 when it has none yet (no
    /// file, or a cursor of another journal, which is ignored). A file that cannot be read
    /// keeps the last value read.
    pub fn acked_through(&mut self) -> i64 {
        if self.read_at.is_some_and(|t| t.elapsed() < Self::EVERY) {
            return self.acked;
        }
        self.read_at = Some(Instant::now());
        let trouble = match Cursor::load(&self.path) {
            Ok(None) => {
                self.acked = 0;
                None
            }
            Ok(Some(c)) if c.belongs_to(self.journal_created_ms) => {
                self.acked = c.acked_through;
                None
            }
            Ok(Some(c)) => {
                self.acked = 0;
                Some(format!(
                    "[uplink] state_file {}: belongs to another journal (created_ms {}, this \
                     one {}); ignored, every event counts as not yet sent",
                    self.path.display(),
                    c.journal_created_ms.unwrap_or_default(),
                    self.journal_created_ms.unwrap_or_default()
                ))
            }
            Err(e) => Some(format!("{e}; keeping events after {}", self.acked)),
        };
        if trouble != self.trouble {
            match &trouble {
                Some(t) => log::warn!("journal: {t}"),
                None => log::info!(
                    "journal: [uplink] state_file {}: read; the uplink has every event up to {}",
                    self.path.display(),
                    self.acked
                ),
            }
            self.trouble = trouble;
        }
        self.acked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdir::TestDir;

    #[test]
    fn a_foreign_file_is_refused_with_its_name() {
        let d = TestDir::new("journal-cursor-bad");
        let p = d.write("cursor", "acked_through = \"lots\"\n");
        let e = Cursor::load(&p).unwrap_err().to_string();
        assert!(
            e.contains("state_file") && e.contains("not an uplink cursor"),
            "{e}"
        );
        let p = d.write(
            "cursor2",
            "version = 7\nacked_through = 1\nupdated_ms = 0\n",
        );
        let e = Cursor::load(&p).unwrap_err().to_string();
        assert!(e.contains("version 7"), "{e}");
    }

    #[test]
    fn the_watch_ignores_another_journal_s_cursor_and_keeps_the_last_value_on_bad_reads() {
        let d = TestDir::new("journal-cursor-watch");
        let text = |acked: i64, created: i64| {
            format!(
                "version = 1\nacked_through = {acked}\njournal_created_ms = {created}\n\
                 updated_ms = 0\n"
            )
        };
        let p = d.write("cursor", &text(40, 7));
        let mut w = CursorWatch::new(p.clone(), Some(7));
        assert_eq!(w.acked_through(), 40);
        std::fs::write(&p, text(50, 8)).unwrap();
        // Read at most once a second: the change is not seen yet.
        assert_eq!(w.acked_through(), 40);
        w.read_at = None;
        assert_eq!(w.acked_through(), 0, "another journal's cursor is ignored");
        assert!(w.trouble.as_deref().unwrap().contains("another journal"));
        std::fs::write(&p, text(60, 7)).unwrap();
        w.read_at = None;
        assert_eq!(w.acked_through(), 60);
        assert_eq!(w.trouble, None);
        std::fs::write(&p, "garbage").unwrap();
        w.read_at = None;
        assert_eq!(w.acked_through(), 60, "a bad read keeps the last value");
        std::fs::remove_file(&p).unwrap();
        w.read_at = None;
        assert_eq!(w.acked_through(), 0, "no file: nothing acknowledged");
    }
}
