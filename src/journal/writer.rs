//! The synchronous core of the journal: open (or create, or refuse) the file, append a batch of
//! events in one transaction, and prune to the caps in that same transaction.
//!
//! With an uplink configured, pruning minds its cursor: the count cap yields to it (events the
//! broker has not acknowledged are kept while the file is under its byte cap), and when the
//! byte cap forces unacknowledged events out, the same transaction journals one `uplink_gap`
//! event naming them (`docs/design/journal.md`, "Pruning and the uplink").
//!
//! The worker thread in `worker.rs` owns one `Writer`; `picket journal-stress` uses one
//! directly so that the crash tests can see exactly when each commit returned.

use super::cursor::CursorWatch;
use super::schema::{self, Identity};
use super::{fsperm, io, sql, time, JournalConfig, JournalError, JournalItem, OnCorrupt};
use crate::event::{Event, EventKind, Value};
use rusqlite::{
    params, Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

const PAGE_SIZE: u64 = 4096;
/// What a commit writes to the WAL besides its rows and snapshots: the b-tree, index,
/// freelist and header pages that inserting and pruning rewrite, and the frames' headers.
const WAL_SLACK: u64 = 12 * PAGE_SIZE;

/// The ids one [`Writer::append`] committed, and how many old events it pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// `first_id..=last_id` are the new events, in the order given; empty batches give `None`.
    pub ids: Option<(i64, i64)>,
    pub pruned: u64,
    /// The `uplink_gap` event the byte cap forced, if it did.
    pub gap: Option<Gap>,
}

/// An `uplink_gap` event: the byte cap pruned the events `from..=to`, which the uplink had not
/// had acknowledged, and the event `id` (after the batch) says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub id: i64,
    pub from: i64,
    pub to: i64,
}

/// The one writing connection to a journal. See [`Journal`](super::Journal) for the contract
/// the worker builds on it; a `Writer` alone gives this much:
/// - each [`append`](Self::append) is one transaction, durable when it returns
///   (`synchronous=FULL` in WAL mode), or rolled back entirely on error;
/// - the caps hold after every append: at most `max_events` rows, and the database's used
///   pages at most `max_bytes` less the WAL's budget;
/// - the database and its WAL within `max_bytes` on disk, as long as no append adds more
///   than [`commit_len`](Self::commit_len) allows (the worker splits its batches so).
pub struct Writer {
    conn: Connection,
    path: PathBuf,
    caps: Caps,
    /// The uplink's cursors (MQTT and each push sink), when there are any.
    uplink: Vec<CursorWatch>,
    /// The most one commit should add to the WAL: half its budget (see [`Writer::commit_len`]).
    commit_bytes: u64,
}

#[derive(Debug, Clone, Copy)]
struct Caps {
    max_events: u64,
    /// Bytes of used pages the database may hold after an append.
    target: u64,
    /// Pruning goes down to here, so that it does not run on every append once full.
    low_water: u64,
}

impl Writer {
    /// Opens the journal at `cfg.path`, creating it (and its directory) if missing. A corrupt or
    /// foreign file is refused, or kept aside and replaced when `on_corrupt = "start_new"`.
    pub fn open(cfg: &JournalConfig) -> Result<Self, JournalError> {
        match Self::open_once(cfg) {
            Err(JournalError::Unusable { path, why }) if cfg.on_corrupt == OnCorrupt::StartNew => {
                let aside = move_aside(&path)?;
                log::warn!(
                    "journal {}: not a usable picket journal ({why}); kept it as {} and \
                     started a new journal",
                    path.display(),
                    aside.display()
                );
                Self::open_once(cfg)
            }
            other => other,
        }
    }

    fn open_once(cfg: &JournalConfig) -> Result<Self, JournalError> {
        let path = cfg.path.clone();
        if let Some(dir) = path.parent() {
            fsperm::ensure_dir(dir)?;
        }
        let fresh = match std::fs::metadata(&path) {
            Ok(m) => m.len() == 0,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fsperm::create_file(&path)?;
                true
            }
            Err(e) => return Err(io(&path, "stat")(e)),
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(&path, flags).map_err(sql(&path))?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(sql(&path))?;
        let identity = schema::identify(&conn, &path)?;
        if !fresh && cfg.check_on_open {
            schema::quick_check(&conn, &path)?;
        }
        // The WAL's budget inside the cap: what it may hold before the checkpoint, and one
        // commit of at most as much on top ([`Writer::commit_len`]).
        let checkpoint_bytes = (cfg.max_bytes / 8).clamp(64 * 1024, 4 * 1024 * 1024);
        let wal_bytes = 2 * checkpoint_bytes;
        let e = sql(&path);
        if identity == Identity::Empty {
            conn.pragma_update(None, "page_size", PAGE_SIZE as i64)
                .map_err(&e)?;
        }
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(|e| schema::unusable_or(e, &path))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(JournalError::Unusable {
                path: path.clone(),
                why: format!("cannot use WAL mode (got {mode})"),
            });
        }
        // FULL: in WAL mode NORMAL may lose committed transactions on a power cut.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(&e)?;
        conn.pragma_update(None, "journal_size_limit", wal_bytes as i64)
            .map_err(&e)?;
        // A WAL frame is a page plus a 24-byte header; the checkpoint runs once a commit leaves
        // the WAL at `checkpoint_bytes`, and a commit adds at most as much again, so the WAL
        // stays within its budget and the database and its WAL within `max_bytes`.
        let frames = checkpoint_bytes.saturating_sub(32) / (PAGE_SIZE + 24);
        conn.pragma_update(None, "wal_autocheckpoint", frames as i64)
            .map_err(&e)?;
        schema::create_or_upgrade(&mut conn, &identity, &path)?;
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('max_events', ?1), ('max_bytes', ?2)",
            params![cfg.max_events as i64, cfg.max_bytes as i64],
        )
        .map_err(&e)?;
        let target = cfg.max_bytes.saturating_sub(wal_bytes);
        let caps = Caps {
            max_events: cfg.max_events,
            target,
            low_water: target - (target / 64).min(256 * 1024),
        };
        let states: Vec<&PathBuf> = cfg.uplink_state.iter().chain(&cfg.push_states).collect();
        let uplink = if states.is_empty() {
            Vec::new()
        } else {
            let created = conn
                .query_row("SELECT value FROM meta WHERE key = 'created_ms'", [], |r| {
                    r.get::<_, Option<i64>>(0)
                })
                .optional()
                .map_err(&e)?
                .flatten();
            states
                .into_iter()
                .map(|state| CursorWatch::new(state.clone(), created))
                .collect()
        };
        drop(e);
        Ok(Self {
            conn,
            path,
            caps,
            uplink,
            commit_bytes: checkpoint_bytes.saturating_sub(WAL_SLACK),
        })
    }

    /// How many of `items` (at least one) to commit at once so that the commit adds at most
    /// half the WAL's budget: a batch of snapshots larger than that is committed in parts, so
    /// that the WAL (at most half its budget before the checkpoint, plus one commit) stays
    /// inside the cap. One snapshot larger than that alone may still pass it.
    pub fn commit_len(&self, items: &[JournalItem]) -> usize {
        let mut bytes = 0;
        for (n, item) in items.iter().enumerate() {
            bytes += batch_estimate(std::slice::from_ref(item));
            if bytes > self.commit_bytes {
                return n.max(1);
            }
        }
        items.len()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The writing connection, for what a journal of another kind adds to the schema (the
    /// hub journal's origins).
    pub(super) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Appends `items` in one transaction with the pruning they make necessary, and returns
    /// once that transaction is durable. On error nothing of it was written.
    ///
    /// When the byte cap prunes events the uplink has not had acknowledged, an `uplink_gap`
    /// event naming them follows the batch in the same transaction: one per append, however
    /// many it pruned. It takes the wall clock now, and the monotonic time and clock state of
    /// the batch's last event.
    pub fn append(&mut self, items: &[JournalItem]) -> Result<Appended, JournalError> {
        self.append_with(items, |_, _| Ok(true), |_, _, _| Ok(()))
    }

    /// [`append`](Self::append) with two hooks inside its transaction: `keep(tx, i)` says
    /// whether `items[i]` is written at all, `then(tx, i, id)` runs after it was, with its id.
    /// An error from either rolls the whole append back. The hub journal builds on it.
    pub(super) fn append_with(
        &mut self,
        items: &[JournalItem],
        mut keep: impl FnMut(&Transaction<'_>, usize) -> rusqlite::Result<bool>,
        mut then: impl FnMut(&Transaction<'_>, usize, i64) -> rusqlite::Result<()>,
    ) -> Result<Appended, JournalError> {
        // The slowest cursor counts.
        let acked = self.uplink.iter_mut().map(CursorWatch::acked_through).min();
        let e = sql(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&e)?;
        // Make room first, so that the batch fills pages freed by pruning rather than growing
        // the file; the second prune corrects the estimate.
        let mut pruned = prune(&tx, self.caps, batch_estimate(items), acked).map_err(&e)?;
        let mut ids = None;
        {
            let mut ins = tx.prepare_cached(INSERT_EVENT).map_err(&e)?;
            let mut snap = tx.prepare_cached(INSERT_SNAPSHOT).map_err(&e)?;
            for (i, item) in items.iter().enumerate() {
                if !keep(&tx, i).map_err(&e)? {
                    continue;
                }
                insert(&mut ins, &item.event).map_err(&e)?;
                let id = tx.last_insert_rowid();
                if let Some(jpeg) = &item.snapshot {
                    snap.execute(params![id, jpeg]).map_err(&e)?;
                }
                then(&tx, i, id).map_err(&e)?;
                ids = Some((ids.map_or(id, |(first, _)| first), id));
            }
        }
        pruned.add(prune(&tx, self.caps, 0, acked).map_err(&e)?);
        let gap = match pruned.lost {
            Some((from, to)) => {
                let last = items.last().map(|i| &i.event);
                let mut ev = Event::new(
                    EventKind::UplinkGap,
                    schema::now_ms(),
                    last.map_or(0, |l| l.mono_ms),
                    last.map_or(true, |l| l.clock_synced),
                );
                ev.set_detail(&[("from", Value::I64(from)), ("to", Value::I64(to))]);
                let mut ins = tx.prepare_cached(INSERT_EVENT).map_err(&e)?;
                insert(&mut ins, &ev).map_err(&e)?;
                Some(Gap {
                    id: tx.last_insert_rowid(),
                    from,
                    to,
                })
            }
            None => None,
        };
        tx.commit().map_err(&e)?;
        if let Some(g) = gap {
            log::warn!(
                "journal {}: max_bytes pruned events {} to {} before the uplink had them \
                 acknowledged; journalled uplink_gap {}",
                self.path.display(),
                g.from,
                g.to,
                g.id
            );
        }
        Ok(Appended {
            ids,
            pruned: pruned.rows,
            gap,
        })
    }

    /// Checkpoints the WAL into the database and truncates it, so that the file alone is the
    /// whole journal. Called on shutdown; harmless (and skipped) while a reader holds the WAL.
    pub fn checkpoint(&self) -> Result<(), JournalError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(sql(&self.path))
    }
}

/// Inserts `ev` with the prepared [`INSERT_EVENT`].
fn insert(ins: &mut rusqlite::CachedStatement<'_>, ev: &Event) -> rusqlite::Result<usize> {
    let b = ev.bbox;
    ins.execute(params![
        ev.ts_ms,
        i64::try_from(ev.mono_ms).unwrap_or(i64::MAX),
        ev.clock_synced,
        ev.kind.as_str(),
        ev.place.as_str(),
        ev.track_id.map(|t| i64::try_from(t).unwrap_or(i64::MAX)),
        ev.score.map(f64::from),
        b.map(|b| f64::from(b.x0)),
        b.map(|b| f64::from(b.y0)),
        b.map(|b| f64::from(b.x1)),
        b.map(|b| f64::from(b.y1)),
        ev.direction.map(|d| d.as_str()),
        (!ev.detail.is_empty()).then_some(ev.detail.as_str()),
    ])
}

const INSERT_EVENT: &str = "INSERT INTO events (ts_ms, mono_ms, clock_synced, kind, place, \
     track_id, score, bbox_x0, bbox_y0, bbox_x1, bbox_y1, direction, detail) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
const INSERT_SNAPSHOT: &str = "INSERT INTO snapshots (event_id, jpeg) VALUES (?1, ?2)";

/// What one [`prune`] did.
#[derive(Debug, Default)]
struct Pruned {
    rows: u64,
    /// The unacknowledged ids the byte cap pruned, `from..=to`, with the ranges of any
    /// unacknowledged `uplink_gap` events among them carried over into `from`.
    lost: Option<(i64, i64)>,
}

impl Pruned {
    fn add(&mut self, other: Pruned) {
        self.rows += other.rows;
        if let Some((from, to)) = other.lost {
            self.lost = Some((self.lost.map_or(from, |(f, _)| f.min(from)), to));
        }
    }

    /// Notes that `oldest..=hi` is about to be deleted, of which the ids after `acked` were
    /// not acknowledged. An `uplink_gap` event among those hands its range on (what of it is
    /// after `acked`): the next gap event covers it, so the published gaps cover every id lost.
    fn lose(
        &mut self,
        tx: &Transaction<'_>,
        acked: i64,
        oldest: i64,
        hi: i64,
    ) -> rusqlite::Result<()> {
        let first_unsent = acked.saturating_add(1);
        let lo = oldest.max(first_unsent);
        if lo > hi {
            return Ok(());
        }
        let mut from = lo;
        let mut st = tx.prepare_cached(
            "SELECT detail FROM events WHERE kind = 'uplink_gap' AND id BETWEEN ?1 AND ?2",
        )?;
        let details = st.query_map([lo, hi], |r| r.get::<_, Option<String>>(0))?;
        for detail in details {
            let carried = detail?
                .and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok())
                .and_then(|v| v["from"].as_i64());
            if let Some(f) = carried {
                from = from.min(f.max(first_unsent));
            }
        }
        self.add(Pruned {
            rows: 0,
            lost: Some((from, hi)),
        });
        Ok(())
    }
}

/// Deletes the oldest events (and their snapshots) until both caps hold. Ids are contiguous
/// (AUTOINCREMENT, and only the oldest are ever deleted), so the row count is `max - min + 1`
/// without a scan. Bytes are the database's pages in use; freed pages go to the freelist and
/// are reused by the next inserts, so once full the file stops growing. `reserve` bytes are
/// kept free on top of the cap, for a batch about to be inserted.
///
/// `acked` is the uplink's cursor when one is configured: the count cap then deletes nothing
/// after it, and what the byte cap deletes after it is returned as lost.
fn prune(
    tx: &Transaction<'_>,
    caps: Caps,
    reserve: u64,
    acked: Option<i64>,
) -> rusqlite::Result<Pruned> {
    let caps = Caps {
        target: caps.target.saturating_sub(reserve),
        low_water: caps.low_water.saturating_sub(reserve),
        ..caps
    };
    let (min, max): (Option<i64>, Option<i64>) =
        // Two subqueries: SQLite answers a lone min() or max() from the b-tree's edge, but
        // scans the table for both in one select.
        tx.query_row("SELECT (SELECT min(id) FROM events), (SELECT max(id) FROM events)", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let mut out = Pruned::default();
    let (Some(mut oldest), Some(newest)) = (min, max) else {
        return Ok(out);
    };
    let mut keep_from = newest - i64::try_from(caps.max_events).unwrap_or(i64::MAX) + 1;
    if let Some(acked) = acked {
        keep_from = keep_from.min(acked.saturating_add(1));
    }
    if keep_from > oldest {
        out.rows += delete_before(tx, keep_from)?;
        oldest = keep_from;
    }
    let mut used = used_bytes(tx)?;
    if used <= caps.target {
        return Ok(out);
    }
    // Each round deletes the share of rows that the excess is of the bytes in use (at least
    // 16); the loop corrects for rows of uneven size, such as those with snapshots.
    for _ in 0..64 {
        let rows = newest - oldest + 1;
        if rows <= 1 || used <= caps.low_water {
            break;
        }
        let excess = used - caps.low_water;
        let share = (rows as u128 * excess as u128 / used as u128) as i64 + 1;
        let n = share.max(16).min(rows - 1);
        if let Some(acked) = acked {
            out.lose(tx, acked, oldest, oldest + n - 1)?;
        }
        out.rows += delete_before(tx, oldest + n)?;
        oldest += n;
        used = used_bytes(tx)?;
    }
    Ok(out)
}

/// What `items` will take in the database, roughly: each snapshot in whole pages, and a
/// generous 200 bytes per row and its index entry.
fn batch_estimate(items: &[JournalItem]) -> u64 {
    let snapshots: u64 = items
        .iter()
        .filter_map(|i| i.snapshot.as_ref())
        .map(|s| (s.len() as u64).div_ceil(PAGE_SIZE) * PAGE_SIZE)
        .sum();
    snapshots + items.len() as u64 * 200
}

fn delete_before(tx: &Transaction<'_>, id: i64) -> rusqlite::Result<u64> {
    tx.prepare_cached("DELETE FROM snapshots WHERE event_id < ?1")?
        .execute([id])?;
    let n = tx
        .prepare_cached("DELETE FROM events WHERE id < ?1")?
        .execute([id])?;
    Ok(n as u64)
}

fn used_bytes(tx: &Transaction<'_>) -> rusqlite::Result<u64> {
    let pages: i64 = tx.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let free: i64 = tx.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
    Ok((pages - free).max(0) as u64 * PAGE_SIZE)
}

/// Renames `path` and its `-wal` and `-shm` to `<path>.corrupt-<UTC time>[-wal|-shm]`, so that
/// SQLite still pairs them, and returns the new name of the database file.
fn move_aside(path: &Path) -> Result<PathBuf, JournalError> {
    let stamp = time::compact(schema::now_ms());
    let mut base = path.as_os_str().to_owned();
    base.push(format!(".corrupt-{stamp}"));
    let mut aside = PathBuf::from(&base);
    let mut n = 1;
    while aside.exists() {
        n += 1;
        aside = PathBuf::from(format!("{}-{n}", base.to_string_lossy()));
    }
    for suffix in ["-wal", "-shm", ""] {
        let from = PathBuf::from(format!("{}{suffix}", path.display()));
        if from.exists() {
            let to = PathBuf::from(format!("{}{suffix}", aside.display()));
            std::fs::rename(&from, &to).map_err(io(&from, "move aside"))?;
        }
    }
    Ok(aside)
}
