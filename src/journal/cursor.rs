//! The uplink's cursor: the journal id up to which the broker has acknowledged every event,
//! kept in `[uplink] state_file` so that a restart resumes where the last run stopped, and the
//! [`Backlog`] it leaves: the journal ids not yet acknowledged.
//!
//! It lives with the journal rather than in `uplink` because readers below the uplink use it:
//! the journal's own thread reads it (`CursorWatch`) so that pruning keeps what has not been
//! sent yet, and `picket status` and the metrics textfile show the backlog.
//!
//! The file is small TOML, written whole and durably (temporary file, fsync, rename, fsync of
//! the directory), so a crash or power cut leaves the old cursor or the new one. An old cursor
//! only means events sent again: delivery is at least once. `picket run` and `picket status`
//! read the same file to know which events are still waiting to be sent.
//!
//! ```toml
//! version = 1
//! acked_through = 1234
//! journal_created_ms = 1795776015000
//! updated_ms = 1795776099000
//! ```

use super::{JournalError, Reader};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The cursor file's format version.
pub const CURSOR_VERSION: u32 = 1;

/// What the state file holds. Owned by the uplink's main loop, which alone writes it.
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

/// How far the uplink is behind the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backlog {
    /// No state file: the uplink has never run against this config (or never got as far as
    /// the journal).
    NeverRan,
    /// The journal ids after `acked_through`, up to `newest`, are not yet acknowledged.
    Behind {
        /// `newest - acked_through`, or 0 for an empty journal.
        ids: u64,
        /// Where the cursor stands in this journal: its `acked_through`, or the id before the
        /// oldest event when the cursor belongs to an earlier journal at the same path.
        acked_through: i64,
        /// The journal's newest id; `None` when it is empty.
        newest: Option<i64>,
        /// When the uplink last wrote the cursor, ms since the Unix epoch.
        updated_ms: i64,
    },
}

/// Why the backlog could not be read: the journal or the cursor file, each error naming it.
#[derive(Debug, thiserror::Error)]
pub enum BacklogError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Cursor(#[from] CursorError),
}

impl Backlog {
    /// Reads the cursor at `state_file` and the journal at `journal` (read-only). A missing
    /// state file is [`Backlog::NeverRan`], whatever the journal; a missing journal is an error.
    pub fn read(journal: &Path, state_file: &Path) -> Result<Self, BacklogError> {
        let Some(cursor) = Cursor::load(state_file)? else {
            return Ok(Self::NeverRan);
        };
        let head = Reader::open(journal)?.head()?;
        Ok(Self::of(&cursor, head))
    }

    /// The backlog `cursor` leaves in the journal whose ends are `head`. A cursor of an earlier
    /// journal (another `journal_created_ms`) counts from the oldest event, as the uplink
    /// publishes such a journal from there.
    pub fn of(cursor: &Cursor, head: super::Head) -> Self {
        let acked_through = if cursor.belongs_to(head.created_ms) {
            cursor.acked_through
        } else {
            head.oldest.map_or(0, |o| o - 1)
        };
        let ids = head
            .newest
            .map_or(0, |n| u64::try_from(n - acked_through).unwrap_or(0));
        Self::Behind {
            ids,
            acked_through,
            newest: head.newest,
            updated_ms: cursor.updated_ms,
        }
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
    fn a_foreign_file_is_refused_with_its_name() {
        let d = TestDir::new("uplink-cursor-bad");
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

    /// A real journal at `d/events.db` with events 1..=n; its `created_ms`.
    fn journal(d: &TestDir, n: u64) -> (PathBuf, Option<i64>) {
        use crate::journal::sample::sample_event;
        use crate::journal::{JournalConfig, JournalItem, Writer};
        let path = d.path().join("events.db");
        let cfg = JournalConfig {
            path: path.clone(),
            ..JournalConfig::default()
        };
        let mut w = Writer::open(&cfg).unwrap();
        let items: Vec<JournalItem> = (1..=n)
            .map(|i| JournalItem::new(sample_event(i, i)))
            .collect();
        if !items.is_empty() {
            w.append(&items).unwrap();
        }
        drop(w);
        let created = Reader::open(&path).unwrap().head().unwrap().created_ms;
        (path, created)
    }

    #[test]
    fn the_backlog_is_the_ids_after_the_cursor() {
        let d = TestDir::new("uplink-backlog");
        let (db, created) = journal(&d, 40);
        assert!(created.is_some());
        let state = d.path().join("cursor");
        assert_eq!(Backlog::read(&db, &state).unwrap(), Backlog::NeverRan);
        let c = Cursor {
            acked_through: 33,
            updated_ms: 7,
            ..Cursor::start(created)
        };
        c.store(&state).unwrap();
        assert_eq!(
            Backlog::read(&db, &state).unwrap(),
            Backlog::Behind {
                ids: 7,
                acked_through: 33,
                newest: Some(40),
                updated_ms: 7
            }
        );
        Cursor {
            acked_through: 40,
            ..c
        }
        .store(&state)
        .unwrap();
        assert!(matches!(
            Backlog::read(&db, &state).unwrap(),
            Backlog::Behind { ids: 0, .. }
        ));
        // A cursor of an earlier journal at this path: all of this one is waiting.
        Cursor {
            acked_through: 90,
            ..Cursor::start(created.map(|c| c - 1000))
        }
        .store(&state)
        .unwrap();
        assert!(matches!(
            Backlog::read(&db, &state).unwrap(),
            Backlog::Behind {
                ids: 40,
                acked_through: 0,
                ..
            }
        ));
    }

    #[test]
    fn an_empty_journal_has_no_backlog_and_a_missing_one_is_an_error_naming_it() {
        let d = TestDir::new("uplink-backlog-empty");
        let (db, created) = journal(&d, 0);
        let state = d.path().join("cursor");
        Cursor::start(created).store(&state).unwrap();
        assert!(matches!(
            Backlog::read(&db, &state).unwrap(),
            Backlog::Behind {
                ids: 0,
                newest: None,
                ..
            }
        ));
        let gone = d.path().join("gone.db");
        let e = Backlog::read(&gone, &state).unwrap_err().to_string();
        assert!(e.contains("gone.db"), "{e}");
        let bad = d.write("bad-cursor", "acked_through = \"x\"\n");
        let e = Backlog::read(&db, &bad).unwrap_err().to_string();
        assert!(
            e.contains("bad-cursor") && e.contains("not an uplink cursor"),
            "{e}"
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
