//! The hub journal: a journal (`schema.sql`, the same writer, caps, pruning and backup) whose
//! every event also has an origin, the box it came from and its id in that box's journal
//! (`origin.sql`). `(box, box_event)` is unique, so a message delivered twice is written once;
//! events the hub raises itself have `box_event` NULL.
//!
//! A box journal never has the `origins` table: it is created only by [`HubWriter::open`].

use super::{sql, JournalConfig, JournalError, JournalItem, Reader, Writer};
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

    /// Appends the items not already in the journal, each with its origin, with the pruning
    /// the caps need. Items with snapshots are committed in the parts the box's journal worker
    /// uses ([`Writer::commit_len`]), so that the database and its WAL stay within the byte
    /// cap; each part is one durable transaction. On error the parts before it stay written:
    /// its caller acknowledges nothing of the batch then, and the box events the broker sends
    /// again are dropped as duplicates.
    pub fn append(&mut self, items: &[(Origin, JournalItem)]) -> Result<HubAppended, JournalError> {
        let events: Vec<JournalItem> = items.iter().map(|(_, i)| i.clone()).collect();
        let mut out = HubAppended::default();
        let mut at = 0;
        while at < items.len() {
            let n = self.writer.commit_len(&events[at..]);
            self.append_part(&items[at..at + n], &events[at..at + n], &mut out)?;
            at += n;
        }
        Ok(out)
    }

    /// Appends `items` (whose `JournalItem`s are `events`) in one durable transaction, adding
    /// what it did to `out`.
    fn append_part(
        &mut self,
        items: &[(Origin, JournalItem)],
        events: &[JournalItem],
        out: &mut HubAppended,
    ) -> Result<(), JournalError> {
        let appended = self.writer.append_with(
            events,
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
        out.pruned += appended.pruned;
        Ok(())
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

/// One box as a hub journal shows it (`picket events boxes`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BoxSummary {
    #[serde(rename = "box")]
    pub box_id: String,
    /// The newest event's time from the box (or about it), ms.
    pub last_seen_ms: Option<i64>,
    /// `online`, or `offline`/`silent` after a `box_offline` not yet followed by `box_back`.
    pub availability: String,
    /// Events from the box since `since_ms` (today's midnight, UTC).
    pub events_today: i64,
    /// Events from the box in the journal.
    pub events: i64,
    /// `uplink_gap` messages: ranges of ids the box's journal pruned before the hub had them.
    pub gaps: i64,
    /// Of those, the ones sent in answer to the hub's replay requests.
    pub gaps_on_replay: i64,
}

impl Reader {
    /// Whether this is a hub journal.
    pub fn is_hub(&self) -> Result<bool, JournalError> {
        is_hub(&self.conn).map_err(sql(&self.path))
    }

    /// Event `id`'s origin in a hub journal: its box and its id there (`None` for the hub's own).
    pub fn origin(&self, id: i64) -> Result<Option<(String, Option<i64>)>, JournalError> {
        self.conn
            .prepare_cached("SELECT box, box_event FROM origins WHERE event_id = ?1")
            .and_then(|mut q| q.query_row([id], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(sql(&self.path))
    }

    /// Every box of a hub journal, by name.
    pub fn boxes(&self, since_ms: i64) -> Result<Vec<BoxSummary>, JournalError> {
        let mut q = self
            .conn
            .prepare(
                "SELECT o.box, max(e.ts_ms), \
                   (SELECT e2.kind || ':' || coalesce(json_extract(e2.detail, '$.why'), '') \
                      FROM events e2 JOIN origins o2 ON o2.event_id = e2.id \
                      WHERE o2.box = o.box AND e2.kind IN ('box_offline', 'box_back') \
                      ORDER BY e2.id DESC LIMIT 1), \
                   sum(o.box_event IS NOT NULL AND e.ts_ms >= ?1), \
                   sum(o.box_event IS NOT NULL), \
                   sum(e.kind = 'uplink_gap'), \
                   sum(e.kind = 'uplink_gap' AND json_extract(e.detail, '$.replay') IS NOT NULL) \
                 FROM origins o JOIN events e ON e.id = o.event_id GROUP BY o.box ORDER BY o.box",
            )
            .map_err(sql(&self.path))?;
        let rows = q
            .query_map([since_ms], |r| {
                let last: Option<String> = r.get(2)?;
                let availability = match last.as_deref().and_then(|l| l.split_once(':')) {
                    Some(("box_offline", why)) if !why.is_empty() => why.to_owned(),
                    Some(("box_offline", _)) => "offline".to_owned(),
                    _ => "online".to_owned(),
                };
                Ok(BoxSummary {
                    box_id: r.get(0)?,
                    last_seen_ms: r.get(1)?,
                    availability,
                    events_today: r.get(3)?,
                    events: r.get(4)?,
                    gaps: r.get(5)?,
                    gaps_on_replay: r.get(6)?,
                })
            })
            .map_err(sql(&self.path))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(sql(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::sample::sample_event;
    use crate::testdir::TestDir;

    fn item(b: &str, n: Option<i64>) -> (Origin, JournalItem) {
        (
            Origin {
                box_id: b.into(),
                box_event: n,
                detail: n.map(|n| format!("{{\"n\":{n}}}")),
            },
            JournalItem {
                event: sample_event(n.unwrap_or(0) as u64, 0),
                snapshot: None,
                urgent: false,
            },
        )
    }

    fn count(w: &HubWriter, sql: &str) -> i64 {
        w.writer.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn duplicates_are_dropped_in_and_across_batches_and_the_hubs_own_rows_never_are() {
        let dir = TestDir::new("hub-journal");
        let cfg = JournalConfig {
            path: dir.path().join("hub.db"),
            ..JournalConfig::default()
        };
        let mut w = HubWriter::open(&cfg).unwrap();
        let first = [
            item("a", Some(1)),
            item("a", Some(2)),
            item("a", Some(1)),
            item("b", Some(1)),
        ];
        let done = w.append(&first).unwrap();
        assert_eq!((done.written, done.duplicates), (3, 1));
        let again = [item("b", Some(1)), item("a", None), item("a", None)];
        let done = w.append(&again).unwrap();
        assert_eq!((done.written, done.duplicates), (2, 1));
        assert_eq!(count(&w, "SELECT count(*) FROM events"), 5);
        assert_eq!(count(&w, "SELECT count(*) FROM origins"), 5);
        // The detail is the box's, as sent.
        let detail: String = w
            .writer
            .conn()
            .query_row(
                "SELECT e.detail FROM events e JOIN origins o ON o.event_id = e.id \
                 WHERE o.box = 'a' AND o.box_event = 2",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(detail, "{\"n\":2}");
        drop(w);
        // Opened again (the schema addition is idempotent), it still knows what it holds.
        let mut w = HubWriter::open(&cfg).unwrap();
        assert_eq!(w.held().unwrap().len(), 5);
        assert_eq!(w.append(&[item("a", Some(2))]).unwrap().duplicates, 1);
    }

    #[test]
    fn the_ring_prunes_origins_with_their_events() {
        let dir = TestDir::new("hub-journal-prune");
        let cfg = JournalConfig {
            path: dir.path().join("hub.db"),
            max_events: 10,
            ..JournalConfig::default()
        };
        let mut w = HubWriter::open(&cfg).unwrap();
        for n in 1..=25 {
            w.append(&[item("a", Some(n))]).unwrap();
        }
        assert_eq!(count(&w, "SELECT count(*) FROM events"), 10);
        assert_eq!(count(&w, "SELECT count(*) FROM origins"), 10);
        assert_eq!(count(&w, "SELECT min(box_event) FROM origins"), 16);
        assert_eq!(
            count(
                &w,
                "SELECT count(*) FROM origins WHERE event_id NOT IN (SELECT id FROM events)"
            ),
            0
        );
    }
}
