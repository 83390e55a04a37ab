//! The read-only side of the journal, for `picket events`: queries, stats and a consistent
//! backup. It opens its own read-only connection; in WAL mode a reader sees the last commit
//! before its transaction began and neither blocks the writer nor waits for it.

use super::schema::{self, Identity};
use super::{io, sql, time, JournalError};
use rusqlite::types::Value;
use rusqlite::{Connection, ErrorCode, OpenFlags, Row};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A read-only connection to a journal.
pub struct Reader {
    pub(super) conn: Connection,
    pub(super) path: PathBuf,
}

/// Which events a query returns. `None` means no condition.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Events at or after this wall-clock time (ms).
    pub since_ms: Option<i64>,
    /// Events before this wall-clock time (ms).
    pub until_ms: Option<i64>,
    pub kind: Option<String>,
    /// The zone, line or output name.
    pub place: Option<String>,
    /// A hub journal's events from this box only.
    pub box_id: Option<String>,
    pub limit: Option<u64>,
}

/// An event as stored, with its id and the size of its snapshot, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub id: i64,
    pub ts_ms: i64,
    pub mono_ms: i64,
    pub clock_synced: bool,
    pub kind: String,
    pub place: String,
    pub track_id: Option<i64>,
    pub score: Option<f32>,
    /// `[x0, y0, x1, y1]`, normalised.
    pub bbox: Option<[f32; 4]>,
    pub direction: Option<String>,
    /// The JSON object as stored.
    pub detail: Option<String>,
    pub snapshot_bytes: Option<i64>,
}

impl StoredEvent {
    /// The JSON form used by `list --json` and `export --format jsonl`.
    pub fn to_json(&self) -> serde_json::Value {
        let detail = self.detail.as_deref().map(|d| {
            serde_json::from_str(d).unwrap_or_else(|_| serde_json::Value::String(d.to_owned()))
        });
        json!({
            "id": self.id,
            "ts": time::rfc3339(self.ts_ms),
            "ts_ms": self.ts_ms,
            "mono_ms": self.mono_ms,
            "clock_synced": self.clock_synced,
            "kind": self.kind,
            "place": self.place,
            "track_id": self.track_id,
            "score": self.score,
            "bbox": self.bbox,
            "direction": self.direction,
            "detail": detail,
            "snapshot_bytes": self.snapshot_bytes,
        })
    }

    pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        let bbox: [Option<f32>; 4] = [r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?];
        Ok(Self {
            id: r.get(0)?,
            ts_ms: r.get(1)?,
            mono_ms: r.get(2)?,
            clock_synced: r.get(3)?,
            kind: r.get(4)?,
            place: r.get(5)?,
            track_id: r.get(6)?,
            score: r.get(11)?,
            bbox: match bbox {
                [Some(a), Some(b), Some(c), Some(d)] => Some([a, b, c, d]),
                _ => None,
            },
            direction: r.get(12)?,
            detail: r.get(13)?,
            snapshot_bytes: r.get(14)?,
        })
    }
}

/// An event and its snapshot JPEG, if it has one.
pub type EventWithSnapshot = (StoredEvent, Option<Vec<u8>>);

pub(crate) const COLUMNS: &str =
    "e.id, e.ts_ms, e.mono_ms, e.clock_synced, e.kind, e.place, e.track_id, \
     e.bbox_x0, e.bbox_y0, e.bbox_x1, e.bbox_y1, e.score, e.direction, e.detail, length(s.jpeg) \
     FROM events e LEFT JOIN snapshots s ON s.event_id = e.id";

/// What `picket events stats` shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub events: i64,
    pub per_kind: Vec<(String, i64)>,
    /// UTC days, `YYYY-MM-DD`, oldest first.
    pub per_day: Vec<(String, i64)>,
    pub snapshots: i64,
    pub snapshot_bytes: i64,
    pub oldest: Option<StoredEvent>,
    pub newest_id: Option<i64>,
    /// The database file and its WAL, in bytes.
    pub db_bytes: u64,
    pub wal_bytes: u64,
    /// The caps the writer last opened the journal with.
    pub max_events: Option<i64>,
    pub max_bytes: Option<i64>,
}

/// The journal's ends and identity, as [`Reader::head`] reads them in one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// The oldest and newest event ids; `None` when the journal is empty.
    pub oldest: Option<i64>,
    pub newest: Option<i64>,
    /// When the journal was created (its `meta` table), which tells one journal from the next
    /// at the same path.
    pub created_ms: Option<i64>,
}

/// Where [`Reader::backup`] writes.
pub enum Backup<'a> {
    /// Write a new file at this path (replacing one that is there only when the copy is done).
    File(&'a Path),
    /// Stream the copy, e.g. to stdout.
    Stream(&'a mut dyn Write),
}

impl Reader {
    /// Opens the journal at `path` read-only. It must exist and be a picket journal.
    pub fn open(path: &Path) -> Result<Self, JournalError> {
        // Only a file that is not there is missing: a directory the user may not enter (the
        // journal's home is 0750 picket:picket) says so, with its errno.
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(JournalError::Missing {
                    path: path.to_owned(),
                })
            }
            Err(e) => return Err(super::io(path, "stat")(e)),
            Ok(_) => {}
        }
        let conn = match Self::connect(path, false) {
            // A reader in group `picket` may not create `-wal`/`-shm` in the 0750 directory.
            // They exist while picket runs; when they do not, nobody is writing, and the file
            // can be read as immutable.
            Err(JournalError::Sqlite { cause, .. })
                if matches!(
                    cause.sqlite_error_code(),
                    Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly)
                ) =>
            {
                Self::connect(path, true)?
            }
            other => other?,
        };
        match schema::identify(&conn, path)? {
            Identity::Journal(_) => Ok(Self {
                conn,
                path: path.to_owned(),
            }),
            Identity::Empty => Err(JournalError::Missing {
                path: path.to_owned(),
            }),
        }
    }

    fn connect(path: &Path, immutable: bool) -> Result<Connection, JournalError> {
        let mut flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = if immutable {
            flags |= OpenFlags::SQLITE_OPEN_URI;
            let uri = format!("file:{}?immutable=1", uri_path(path));
            Connection::open_with_flags(uri, flags)
        } else {
            Connection::open_with_flags(path, flags)
        }
        .map_err(sql(path))?;
        // Readers wait only while a WAL is being recovered after a crash, never on commits.
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(sql(path))?;
        // Opening is lazy: read the schema now, so that a refusal shows up here.
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))
            .map_err(|e| schema::unusable_or(e, path))?;
        Ok(conn)
    }

    /// Calls `f` for each event matching `filter`, oldest first. With a limit, it is the
    /// newest `limit` events that are returned (still oldest first) when `newest` is set, and
    /// the oldest `limit` otherwise.
    pub fn for_each(
        &self,
        filter: &Filter,
        newest: bool,
        mut f: impl FnMut(StoredEvent) -> std::io::Result<()>,
    ) -> Result<(), JournalError> {
        let e = sql(&self.path);
        let mut conds = Vec::new();
        let mut args: Vec<Value> = Vec::new();
        let mut cond = |c: &str, v: Value| {
            args.push(v);
            conds.push(format!("{c} ?{}", args.len()));
        };
        if let Some(t) = filter.since_ms {
            cond("e.ts_ms >=", t.into());
        }
        if let Some(t) = filter.until_ms {
            cond("e.ts_ms <", t.into());
        }
        if let Some(k) = &filter.kind {
            cond("e.kind =", k.clone().into());
        }
        if let Some(p) = &filter.place {
            cond("e.place =", p.clone().into());
        }
        if let Some(b) = &filter.box_id {
            cond(
                "e.id IN (SELECT event_id FROM origins WHERE box =",
                b.clone().into(),
            );
            if let Some(last) = conds.last_mut() {
                last.push(')');
            }
        }
        let mut q = format!("SELECT {COLUMNS}");
        if !conds.is_empty() {
            q += &format!(" WHERE {}", conds.join(" AND "));
        }
        let limit = filter.limit.map_or(-1, |l| l.min(i64::MAX as u64) as i64);
        q += if newest {
            " ORDER BY e.id DESC"
        } else {
            " ORDER BY e.id"
        };
        q += &format!(" LIMIT {limit}");
        if newest {
            q = format!("SELECT * FROM ({q}) ORDER BY 1");
        }
        let mut stmt = self.conn.prepare(&q).map_err(&e)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args)).map_err(&e)?;
        while let Some(row) = rows.next().map_err(&e)? {
            f(StoredEvent::from_row(row).map_err(&e)?).map_err(io(&self.path, "write out"))?;
        }
        Ok(())
    }

    /// The event `id` and its snapshot, if it is still in the journal.
    pub fn show(&self, id: i64) -> Result<Option<EventWithSnapshot>, JournalError> {
        let e = sql(&self.path);
        let tx = self.conn.unchecked_transaction().map_err(&e)?;
        let ev = tx
            .query_row(
                &format!("SELECT {COLUMNS} WHERE e.id = ?1"),
                [id],
                StoredEvent::from_row,
            )
            .map(Some)
            .or_else(none_if_no_rows)
            .map_err(&e)?;
        let Some(ev) = ev else { return Ok(None) };
        let jpeg = tx
            .query_row(
                "SELECT jpeg FROM snapshots WHERE event_id = ?1",
                [id],
                |r| r.get(0),
            )
            .map(Some)
            .or_else(none_if_no_rows)
            .map_err(&e)?;
        Ok(Some((ev, jpeg)))
    }

    /// The oldest and newest ids and the creation time, in one read.
    pub fn head(&self) -> Result<Head, JournalError> {
        self.conn
            .query_row(
                "SELECT (SELECT min(id) FROM events), (SELECT max(id) FROM events), \
                 (SELECT value FROM meta WHERE key = 'created_ms')",
                [],
                |r| {
                    Ok(Head {
                        oldest: r.get(0)?,
                        newest: r.get(1)?,
                        created_ms: r.get(2)?,
                    })
                },
            )
            .map_err(sql(&self.path))
    }

    /// Counts per kind and per day, snapshot totals, file sizes and caps, in one read
    /// transaction so that the numbers agree with each other.
    pub fn stats(&self) -> Result<Stats, JournalError> {
        let e = sql(&self.path);
        let tx = self.conn.unchecked_transaction().map_err(&e)?;
        let pairs = |q: &str| -> rusqlite::Result<Vec<(String, i64)>> {
            let mut s = tx.prepare(q)?;
            let v = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            v.collect()
        };
        let per_kind = pairs("SELECT kind, count(*) FROM events GROUP BY kind ORDER BY 2 DESC, 1")
            .map_err(&e)?;
        let per_day = pairs(
            "SELECT date(ts_ms / 1000, 'unixepoch'), count(*) FROM events GROUP BY 1 ORDER BY 1",
        )
        .map_err(&e)?;
        let (snapshots, snapshot_bytes) = tx
            .query_row(
                "SELECT count(*), coalesce(sum(length(jpeg)), 0) FROM snapshots",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(&e)?;
        let oldest = tx
            .query_row(
                &format!("SELECT {COLUMNS} ORDER BY e.id LIMIT 1"),
                [],
                StoredEvent::from_row,
            )
            .map(Some)
            .or_else(none_if_no_rows)
            .map_err(&e)?;
        let newest_id = tx
            .query_row("SELECT max(id) FROM events", [], |r| r.get(0))
            .map_err(&e)?;
        let meta = |k: &str| -> rusqlite::Result<Option<i64>> {
            tx.query_row("SELECT value FROM meta WHERE key = ?1", [k], |r| r.get(0))
                .map(Some)
                .or_else(none_if_no_rows)
        };
        let (max_events, max_bytes) = (
            meta("max_events").map_err(&e)?,
            meta("max_bytes").map_err(&e)?,
        );
        let size = |suffix: &str| {
            std::fs::metadata(format!("{}{suffix}", self.path.display())).map_or(0, |m| m.len())
        };
        Ok(Stats {
            events: per_kind.iter().map(|(_, n)| n).sum(),
            per_kind,
            per_day,
            snapshots,
            snapshot_bytes,
            oldest,
            newest_id,
            db_bytes: size(""),
            wal_bytes: size("-wal"),
            max_events,
            max_bytes,
        })
    }

    /// Copies the journal as of one instant. `VACUUM INTO` reads the whole database in a single
    /// read transaction, so the copy is consistent however fast the writer commits (a
    /// page-by-page online backup restarts on every commit and may never finish). The copy is
    /// made in a temporary file beside the destination, or in `tmp_dir` when streaming, and
    /// is a standalone file in rollback-journal mode.
    pub fn backup(&self, to: Backup<'_>, tmp_dir: &Path) -> Result<u64, JournalError> {
        let stamp = format!("picket-backup-{}-{}", std::process::id(), schema::now_ms());
        let tmp = match &to {
            Backup::File(dest) => {
                let mut t = dest.as_os_str().to_owned();
                t.push(format!(".{stamp}.partial"));
                PathBuf::from(t)
            }
            Backup::Stream(_) => tmp_dir.join(format!("{stamp}.db")),
        };
        let result = self.backup_via(&tmp, to);
        let _ = std::fs::remove_file(&tmp);
        result
    }

    fn backup_via(&self, tmp: &Path, to: Backup<'_>) -> Result<u64, JournalError> {
        let tmp_str = tmp
            .to_str()
            .ok_or_else(|| io(tmp, "name")(std::io::ErrorKind::InvalidInput.into()))?;
        self.conn
            .execute("VACUUM INTO ?1", [tmp_str])
            .map_err(sql(&self.path))?;
        {
            let copy = Connection::open(tmp).map_err(sql(tmp))?;
            copy.pragma_update(None, "journal_mode", "DELETE")
                .map_err(sql(tmp))?;
        }
        match to {
            Backup::File(dest) => {
                let len = std::fs::metadata(tmp).map_err(io(tmp, "stat"))?.len();
                std::fs::rename(tmp, dest).map_err(io(dest, "rename the copy into place"))?;
                Ok(len)
            }
            Backup::Stream(out) => {
                let mut f = std::fs::File::open(tmp).map_err(io(tmp, "open"))?;
                let n = std::io::copy(&mut f, out).map_err(io(tmp, "stream the copy"))?;
                out.flush().map_err(io(tmp, "stream the copy"))?;
                Ok(n)
            }
        }
    }

    /// `PRAGMA integrity_check` (`stats --check`): `ok`, or the first problems found.
    pub fn integrity_check(&self) -> Result<String, JournalError> {
        let mut stmt = self
            .conn
            .prepare("PRAGMA integrity_check(10)")
            .map_err(sql(&self.path))?;
        let lines: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(sql(&self.path))?;
        Ok(lines.join("\n"))
    }
}

/// `path` with the characters that mean something in a URI escaped.
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for b in path.as_os_str().as_encoded_bytes() {
        match b {
            b'%' | b'?' | b'#' | 0x80.. => out += &format!("%{b:02X}"),
            _ => out.push(*b as char),
        }
    }
    out
}

fn none_if_no_rows<T>(e: rusqlite::Error) -> rusqlite::Result<Option<T>> {
    match e {
        rusqlite::Error::QueryReturnedNoRows => Ok(None),
        e => Err(e),
    }
}
