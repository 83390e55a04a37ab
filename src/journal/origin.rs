//! The hub journal: a journal (`schema.sql`, the same writer, caps, pruning and backup) whose
//! every event also has an origin, the box it came from and its id in that box's journal
//! (`origin.sql`). `(box, box_event)` is unique, so a message delivered twice is written once;
//! events the hub raises itself have `box_event` NULL.
//!
//! A box journal never has the `origins` table: it is created only by [`HubWriter::open`].

use super::{sql, JournalConfig, JournalError, JournalItem, Writer};
use rusqlite::{params, Connection, OptionalExtension};

const ORIGIN_SCHEMA: &str = include_str!("origin.sql");

/// Where a hub journal's event came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub box_id: String,
    /// The event's id in the box's journal; `None` for an event the hub raised.
    pub box_event: Option<i64>,
    /// The event's `detail` as the box sent it (a JSON object), stored as is.
    pub detail: Option<String>,
}

/// What one [`HubWriter::append`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HubAppended {
    pub written: u64,
    /// Items whose `(box, box_event)` the journal already held, dropped.
    pub duplicates: u64,
    pub pruned: u64,
}

/// An event a hub journal holds: `(box, box_event, kind, detail)`; `box_event` is `None` for
/// the events the hub raised.
pub type Held = (String, Option<i64>, String, Option<String>);

/// The one writing connection to a hub journal.
pub struct HubWriter {
    writer: Writer,
}

impl HubWriter {
    /// Opens (or creates) the hub journal at `cfg.path`, adding the `origins` table to a
    /// fresh or box-less journal in one transaction.
    pub fn open(cfg: &JournalConfig) -> Result<Self, JournalError> {
        let writer = Writer::open(&JournalConfig {
            uplink_state: None,
            ..cfg.clone()
        })?;
        writer
            .conn()
            .execute_batch(ORIGIN_SCHEMA)
            .map_err(sql(writer.path()))?;
        Ok(Self { writer })
    }

    /// Appends the items not already in the journal, each with its origin, in one durable
    /// transaction (with the pruning the caps need). On error nothing of it was written.
    pub fn append(&mut self, items: &[(Origin, JournalItem)]) -> Result<HubAppended, JournalError> {
        let events: Vec<JournalItem> = items.iter().map(|(_, i)| i.clone()).collect();
        let mut out = HubAppended::default();
        let appended = self.writer.append_with(
            &events,
            |tx, i| {
                let o = &items[i].0;
                let Some(n) = o.box_event else {
                    return Ok(true);
                };
                let seen = tx
                    .prepare_cached("SELECT 1 FROM origins WHERE box = ?1 AND box_event = ?2")?
                    .query_row(params![o.box_id, n], |_| Ok(()))
                    .optional()?
                    .is_some();
                if seen {
                    out.duplicates += 1;
                }
                Ok(!seen)
            },
            |tx, i, id| {
                let o = &items[i].0;
                tx.prepare_cached(
                    "INSERT INTO origins (event_id, box, box_event) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![id, o.box_id, o.box_event])?;
                if let Some(d) = &o.detail {
                    tx.prepare_cached("UPDATE events SET detail = ?2 WHERE id = ?1")?
                        .execute(params![id, d])?;
                }
                out.written += 1;
                Ok(())
            },
        )?;
        out.pruned = appended.pruned;
        Ok(out)
    }

    /// Every event the journal holds with its origin, oldest first.
    pub fn held(&self) -> Result<Vec<Held>, JournalError> {
        let conn = self.writer.conn();
        let e = sql(self.writer.path());
        let mut q = conn
            .prepare(
                "SELECT o.box, o.box_event, e.kind, e.detail FROM origins o \
                 JOIN events e ON e.id = o.event_id ORDER BY e.id",
            )
            .map_err(&e)?;
        let rows = q
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .map_err(&e)?;
        rows.collect::<rusqlite::Result<_>>().map_err(&e)
    }

    pub fn path(&self) -> &std::path::Path {
        self.writer.path()
    }

    /// See [`Writer::checkpoint`].
    pub fn checkpoint(&self) -> Result<(), JournalError> {
        self.writer.checkpoint()
    }
}

/// Whether the journal behind `conn` is a hub journal.
pub fn is_hub(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'origins'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}
