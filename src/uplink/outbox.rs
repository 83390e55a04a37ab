//! The journal as the uplink's outbox: a read-only SQLite connection to `[journal] path` that
//! notices new commits cheaply and reads the events after a given id.
//!
//! `picket run` stays the journal's only writer. In WAL mode this reader neither blocks it nor
//! waits for it; each read is one short read transaction. `PRAGMA data_version` changes when
//! another connection commits, so polling it every few tens of milliseconds costs a read of
//! the WAL index and no I/O, and new events are seen well within 250 ms of their commit.

use crate::journal::reader::{StoredEvent, COLUMNS};
use crate::journal::schema::{self, Identity};
use crate::journal::JournalError;
use crate::uplink::present::{Presenter, Snapshots};
use rusqlite::{Connection, OpenFlags};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// An event to publish and its snapshot, when snapshots are published and it has one, as it
/// is sent (drawn or raw, `super::present`).
pub type Outgoing = (StoredEvent, Option<Vec<u8>>);

/// A read-only connection to the journal. Owned by the uplink's main loop.
pub struct Outbox {
    conn: Connection,
    path: PathBuf,
    /// The file this connection opened, to notice a journal replaced under the same name.
    file: (u64, u64),
    data_version: i64,
    snapshots: Presenter,
}

/// What opening found.
pub enum Opened {
    Ready(Outbox),
    /// Not there yet, or not readable yet; the reason, to log once while waiting.
    NotYet(String),
}

fn sqlite(path: &Path) -> impl Fn(rusqlite::Error) -> JournalError + '_ {
    move |e| schema::unusable_or(e, path)
}

impl Outbox {
    /// Opens the journal at `path`. A missing or empty file, or one `picket run` has not
    /// initialised yet, is [`Opened::NotYet`]; a file that is not a picket journal (or is a
    /// newer one) is an error.
    pub fn open(path: &Path, snapshots: Snapshots) -> Result<Opened, JournalError> {
        let not_yet = |why: String| Ok(Opened::NotYet(why));
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return not_yet("no file there yet".into())
            }
            Err(e) => return not_yet(e.to_string()),
        };
        if meta.len() == 0 {
            return not_yet("empty: picket run is creating it".into());
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let opened = Connection::open_with_flags(path, flags)
            .and_then(|c| {
                // Waits only while a crashed writer's WAL is recovered, never on commits.
                c.busy_timeout(Duration::from_secs(2))?;
                c.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
                Ok(c)
            })
            .map_err(sqlite(path));
        let conn = match opened {
            Ok(c) => c,
            // Cannot open yet (permissions, no -shm while picket run is down): wait.
            Err(JournalError::Sqlite { cause, .. }) => return not_yet(cause.to_string()),
            Err(e) => return Err(e),
        };
        match schema::identify(&conn, path) {
            // Busy or I/O trouble: the file itself may be fine.
            Err(JournalError::Sqlite { cause, .. }) => not_yet(cause.to_string()),
            Err(e) => Err(e),
            Ok(Identity::Empty) => not_yet("not initialised yet".into()),
            Ok(Identity::Journal(_)) => {
                let mut outbox = Outbox {
                    conn,
                    path: path.to_owned(),
                    file: (meta.dev(), meta.ino()),
                    data_version: 0,
                    snapshots: Presenter::new(snapshots),
                };
                outbox.changed()?;
                Ok(Opened::Ready(outbox))
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The journal's creation time from its `meta` table, which tells one journal from the
    /// next at the same path.
    pub fn created_ms(&self) -> Result<Option<i64>, JournalError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = 'created_ms'", [], |r| {
                r.get(0)
            })
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
            .map_err(sqlite(&self.path))
    }

    /// Whether another connection committed since the last call.
    pub fn changed(&mut self) -> Result<bool, JournalError> {
        let v: i64 = self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(sqlite(&self.path))?;
        let changed = v != self.data_version;
        self.data_version = v;
        Ok(changed)
    }

    /// The oldest and newest ids in the journal, `None` when it is empty.
    pub fn bounds(&self) -> Result<Option<(i64, i64)>, JournalError> {
        let (min, max): (Option<i64>, Option<i64>) = self
            .conn
            .query_row(
                "SELECT (SELECT min(id) FROM events), (SELECT max(id) FROM events)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(sqlite(&self.path))?;
        Ok(min.zip(max))
    }

    /// Up to `limit` events with ids above `after`, oldest first, each with its snapshot when
    /// snapshots are published. One read transaction, so an event and its snapshot agree;
    /// snapshots are drawn after it ends, so a slow drawing never holds the journal's WAL.
    pub fn read_after(&self, after: i64, limit: usize) -> Result<Vec<Outgoing>, JournalError> {
        let e = sqlite(&self.path);
        let tx = self.conn.unchecked_transaction().map_err(&e)?;
        let mut events = Vec::new();
        {
            let mut stmt = tx
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} WHERE e.id > ?1 ORDER BY e.id LIMIT ?2"
                ))
                .map_err(&e)?;
            let rows = stmt
                .query_map((after, limit as i64), StoredEvent::from_row)
                .map_err(&e)?;
            for row in rows {
                events.push((row.map_err(&e)?, None));
            }
        }
        if self.snapshots.mode().on() {
            let mut stmt = tx
                .prepare_cached("SELECT jpeg FROM snapshots WHERE event_id = ?1")
                .map_err(&e)?;
            for (ev, jpeg) in events
                .iter_mut()
                .filter(|(ev, _)| ev.snapshot_bytes.is_some())
            {
                *jpeg = stmt.query_row([ev.id], |r| r.get(0)).ok();
            }
        }
        drop(tx);
        for (ev, jpeg) in &mut events {
            *jpeg = jpeg.take().map(|j| self.snapshots.present(ev.id, j));
        }
        Ok(events)
    }

    /// Whether the box was armed after event `id`: from the last `armed` or `disarmed` event
    /// up to it; `None` when there is none.
    pub fn armed_at(&self, id: i64) -> Result<Option<bool>, JournalError> {
        self.conn
            .query_row(
                "SELECT kind = 'armed' FROM events WHERE id <= ?1 \
                 AND kind IN ('armed', 'disarmed') ORDER BY id DESC LIMIT 1",
                [id],
                |r| r.get(0),
            )
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
            .map_err(sqlite(&self.path))
    }

    /// Whether `path` now names another file than the one open (a journal moved aside and
    /// started anew), or none.
    pub fn replaced(&self) -> bool {
        std::fs::metadata(&self.path).map_or(true, |m| (m.dev(), m.ino()) != self.file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::sample::{sample_event, sample_jpeg};
    use crate::journal::{JournalConfig, JournalItem, Writer};
    use crate::testdir::TestDir;

    fn ready(path: &Path, snapshots: Snapshots) -> Outbox {
        match Outbox::open(path, snapshots) {
            Ok(Opened::Ready(o)) => o,
            Ok(Opened::NotYet(why)) => panic!("not yet: {why}"),
            Err(e) => panic!("{e}"),
        }
    }

    fn append(w: &mut Writer, from: u64, n: u64, snapshot_every: u64) {
        let items: Vec<JournalItem> = (from..from + n)
            .map(|i| {
                let item = JournalItem::new(sample_event(i, i));
                if snapshot_every > 0 && i % snapshot_every == 0 {
                    item.with_snapshot(sample_jpeg(i, 500))
                } else {
                    item
                }
            })
            .collect();
        w.append(&items).unwrap();
    }

    #[test]
    fn a_missing_or_empty_file_is_waited_for() {
        let d = TestDir::new("outbox-missing");
        let p = d.path().join("events.db");
        assert!(
            matches!(Outbox::open(&p, Snapshots::Off), Ok(Opened::NotYet(w)) if w.contains("no file"))
        );
        std::fs::write(&p, b"").unwrap();
        assert!(
            matches!(Outbox::open(&p, Snapshots::Off), Ok(Opened::NotYet(w)) if w.contains("empty"))
        );
    }

    #[test]
    fn a_file_that_is_not_a_journal_is_an_error() {
        let d = TestDir::new("outbox-foreign");
        let text = d.write("notes.db", &"not sqlite at all\n".repeat(100));
        let e = Outbox::open(&text, Snapshots::Off)
            .err()
            .expect("an error")
            .to_string();
        assert!(e.contains("not a usable picket journal"), "{e}");
        let other = d.path().join("other.db");
        let c = Connection::open(&other).unwrap();
        c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
        drop(c);
        let e = Outbox::open(&other, Snapshots::Off)
            .err()
            .expect("an error")
            .to_string();
        assert!(e.contains("another program"), "{e}");
    }

    #[test]
    fn new_commits_are_noticed_and_read_in_order_with_snapshots() {
        let d = TestDir::new("outbox-read");
        let p = d.path().join("events.db");
        let mut w = Writer::open(&JournalConfig::at(&p)).unwrap();
        let mut o = ready(&p, Snapshots::Raw);
        assert!(o.created_ms().unwrap().is_some());
        assert_eq!(o.bounds().unwrap(), None);
        assert!(!o.changed().unwrap());
        append(&mut w, 1, 10, 3);
        assert!(o.changed().unwrap());
        assert!(!o.changed().unwrap(), "no commit since");
        assert_eq!(o.bounds().unwrap(), Some((1, 10)));
        let got = o.read_after(4, 3).unwrap();
        let ids: Vec<i64> = got.iter().map(|(e, _)| e.id).collect();
        assert_eq!(ids, vec![5, 6, 7]);
        assert_eq!(got[1].1.as_deref(), Some(sample_jpeg(6, 500).as_slice()));
        assert!(got[0].1.is_none() && got[2].1.is_none());
        assert_eq!(o.read_after(10, 5).unwrap().len(), 0);
        let plain = ready(&p, Snapshots::Off);
        assert!(
            plain.read_after(5, 1).unwrap()[0].1.is_none(),
            "no snapshots asked for"
        );
        assert!(!o.replaced());
    }

    #[test]
    fn a_journal_replaced_under_the_same_name_is_noticed() {
        let d = TestDir::new("outbox-replaced");
        let p = d.path().join("events.db");
        let mut w = Writer::open(&JournalConfig::at(&p)).unwrap();
        append(&mut w, 1, 2, 0);
        let o = ready(&p, Snapshots::Off);
        drop(w);
        std::fs::rename(&p, d.path().join("aside.db")).unwrap();
        assert!(o.replaced());
        let mut w = Writer::open(&JournalConfig::at(&p)).unwrap();
        append(&mut w, 1, 1, 0);
        assert!(o.replaced());
        assert!(!ready(&p, Snapshots::Off).replaced());
    }

    #[test]
    fn the_armed_state_after_an_event_is_the_last_arming_event_s() {
        use crate::event::EventKind;
        let d = TestDir::new("outbox-armed");
        let p = d.path().join("events.db");
        let mut w = Writer::open(&JournalConfig::at(&p)).unwrap();
        let kinds = [
            EventKind::Intrusion,
            EventKind::Disarmed,
            EventKind::Intrusion,
            EventKind::Armed,
        ];
        let items: Vec<JournalItem> = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let mut ev = sample_event(i as u64, i as u64);
                ev.kind = *k;
                JournalItem::new(ev)
            })
            .collect();
        w.append(&items).unwrap();
        let o = ready(&p, Snapshots::Off);
        let armed: Vec<Option<bool>> = (1..=4).map(|id| o.armed_at(id).unwrap()).collect();
        assert_eq!(armed, [None, Some(false), Some(false), Some(true)]);
    }
}
