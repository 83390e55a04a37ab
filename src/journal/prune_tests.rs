//! Unit tests of pruning with an uplink configured, on real SQLite files: the count cap waits
//! for the uplink's cursor, the byte cap journals one `uplink_gap` per forced prune whose
//! ranges cover every unacknowledged id it took, and another journal's cursor is ignored.

use super::sample::{sample_event, sample_jpeg};
use super::{JournalConfig, JournalItem, Writer, MIN_MAX_BYTES};
use crate::testdir::TestDir;
use rusqlite::{Connection, OpenFlags};
use std::collections::BTreeSet;
use std::path::Path;

/// `(id, kind, detail)` of every event in the journal at `db`, oldest first.
fn rows(db: &Path) -> Vec<(i64, String, Option<String>)> {
    let c = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut st = c
        .prepare("SELECT id, kind, detail FROM events ORDER BY id")
        .unwrap();
    let out = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    out
}

fn ids(db: &Path) -> Vec<i64> {
    rows(db).into_iter().map(|r| r.0).collect()
}

fn created_ms(db: &Path) -> i64 {
    let c = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    c.query_row("SELECT value FROM meta WHERE key = 'created_ms'", [], |r| {
        r.get(0)
    })
    .unwrap()
}

/// Writes the uplink's cursor as `picket uplink` does.
fn cursor(path: &Path, acked: i64, created: i64) {
    let text = format!(
        "version = 1\nacked_through = {acked}\njournal_created_ms = {created}\nupdated_ms = 0\n"
    );
    std::fs::write(path, text).unwrap();
}

/// A journal at `dir/events.db`, created (so that its `created_ms` exists), with the cursor
/// at `dir/cursor` when `uplink`.
fn config(dir: &TestDir, max_events: u64, max_bytes: u64, uplink: bool) -> JournalConfig {
    let cfg = JournalConfig {
        max_events,
        max_bytes,
        uplink_state: uplink.then(|| dir.path().join("cursor")),
        ..JournalConfig::at(dir.path().join("events.db"))
    };
    drop(Writer::open(&JournalConfig::at(&cfg.path)).unwrap());
    cfg
}

/// `n` sample events, each with a snapshot of `jpeg` bytes when `jpeg > 0`.
fn batch(n: u64, jpeg: usize) -> Vec<JournalItem> {
    (1..=n)
        .map(|i| {
            let item = JournalItem::new(sample_event(i, i));
            if jpeg > 0 {
                item.with_snapshot(sample_jpeg(i, jpeg))
            } else {
                item
            }
        })
        .collect()
}

fn range(from: i64, to: i64) -> Vec<i64> {
    (from..=to).collect()
}

#[test]
fn the_slowest_of_the_mqtt_and_push_cursors_holds_the_count_cap() {
    let dir = TestDir::new("prune-push");
    let cfg = JournalConfig {
        push_states: vec![dir.path().join("cursor.push-0")],
        ..config(&dir, 10, 64 * MIN_MAX_BYTES, true)
    };
    let created = created_ms(&cfg.path);
    cursor(&dir.path().join("cursor"), 25, created);
    cursor(&dir.path().join("cursor.push-0"), 8, created);
    let mut w = Writer::open(&cfg).unwrap();
    for _ in 0..3 {
        w.append(&batch(10, 0)).unwrap();
    }
    assert_eq!(ids(&cfg.path), range(9, 30), "the push sink's cursor holds");
}

#[test]
fn the_count_cap_yields_to_the_uplink_s_cursor_and_holds_again_once_it_moves() {
    let dir = TestDir::new("prune-count");
    let cfg = config(&dir, 10, 64 * MIN_MAX_BYTES, true);
    let created = created_ms(&cfg.path);
    let state = dir.path().join("cursor");
    cursor(&state, 5, created);
    let mut w = Writer::open(&cfg).unwrap();
    for _ in 0..3 {
        let done = w.append(&batch(10, 0)).unwrap();
        assert_eq!(done.gap, None);
    }
    assert_eq!(
        ids(&cfg.path),
        range(6, 30),
        "only what the uplink has is pruned"
    );
    cursor(&state, 25, created);
    // The cursor is read at most once a second.
    std::thread::sleep(super::cursor::CursorWatch::EVERY);
    let done = w.append(&batch(1, 0)).unwrap();
    assert_eq!(done.pruned, 16);
    assert_eq!(
        ids(&cfg.path),
        range(22, 31),
        "the count cap holds up to the cursor"
    );
    drop(w);
    // Without an uplink the count cap does not look at a cursor at all.
    cursor(&state, 0, created);
    let mut w = Writer::open(&JournalConfig {
        uplink_state: None,
        ..cfg.clone()
    })
    .unwrap();
    w.append(&batch(5, 0)).unwrap();
    assert_eq!(ids(&cfg.path), range(27, 36));
}

#[test]
fn another_journal_s_cursor_is_ignored_and_nothing_counts_as_sent() {
    let dir = TestDir::new("prune-other");
    let cfg = config(&dir, 10, 64 * MIN_MAX_BYTES, true);
    let created = created_ms(&cfg.path);
    cursor(&dir.path().join("cursor"), 25, created - 1);
    let mut w = Writer::open(&cfg).unwrap();
    for _ in 0..3 {
        w.append(&batch(10, 0)).unwrap();
    }
    assert_eq!(ids(&cfg.path), range(1, 30));
}

#[test]
fn the_byte_cap_journals_one_uplink_gap_per_forced_prune_covering_every_unsent_id() {
    let dir = TestDir::new("prune-bytes");
    let cfg = config(&dir, 1_000_000, MIN_MAX_BYTES, true);
    let acked = 3;
    cursor(&dir.path().join("cursor"), acked, created_ms(&cfg.path));
    let mut w = Writer::open(&cfg).unwrap();
    let mut gaps = Vec::new();
    let mut newest = 0;
    for _ in 0..40 {
        let done = w.append(&batch(5, 20_000)).unwrap();
        let (first, last) = done.ids.unwrap();
        assert!(first > newest);
        newest = last;
        if let Some(g) = done.gap {
            assert_eq!(g.id, last + 1, "the gap event follows the batch");
            newest = g.id;
            gaps.push(g);
        }
    }
    assert!(gaps.len() >= 5, "the cap forced pruning often: {gaps:?}");
    assert_eq!(gaps[0].from, acked + 1, "acknowledged ids are not reported");
    let rows = rows(&cfg.path);
    let kept: BTreeSet<i64> = rows.iter().map(|r| r.0).collect();
    assert_eq!(kept.last(), Some(&newest));
    // Every gap still in the journal is there with its range as its detail.
    let mut covered = BTreeSet::new();
    for (id, kind, detail) in rows.iter().filter(|r| r.1 == "uplink_gap") {
        let g = gaps
            .iter()
            .find(|g| g.id == *id)
            .expect("a gap we were told of");
        assert_eq!(kind, "uplink_gap");
        let want = format!("{{\"from\":{},\"to\":{}}}", g.from, g.to);
        assert_eq!(detail.as_deref(), Some(want.as_str()));
        covered.extend(g.from..=g.to);
    }
    assert!(
        !kept.contains(&gaps[0].id),
        "an early gap event was pruned itself, so its range was carried on"
    );
    // What the uplink will see: acknowledged, still in the journal, or inside a gap it will
    // publish. Nothing else.
    for id in acked + 1..=newest {
        assert!(
            kept.contains(&id) || covered.contains(&id),
            "id {id} vanished without a gap naming it: {gaps:?}"
        );
    }
    // One gap per forced prune: the ranges of consecutive gaps meet or carry over.
    for pair in gaps.windows(2) {
        assert!(pair[1].from <= pair[0].to + 1, "{pair:?}");
        assert!(pair[1].to > pair[0].to, "{pair:?}");
    }
}

#[test]
fn without_an_uplink_the_byte_cap_journals_no_gap() {
    let dir = TestDir::new("prune-plain");
    let cfg = config(&dir, 1_000_000, MIN_MAX_BYTES, false);
    let mut w = Writer::open(&cfg).unwrap();
    let mut pruned = 0;
    for _ in 0..20 {
        let done = w.append(&batch(5, 20_000)).unwrap();
        assert_eq!(done.gap, None);
        pruned += done.pruned;
    }
    assert!(pruned > 0);
    assert!(rows(&cfg.path).iter().all(|r| r.1 != "uplink_gap"));
}

#[test]
fn a_carried_range_starts_no_earlier_than_the_cursor_that_moved_meanwhile() {
    let dir = TestDir::new("prune-moved");
    let cfg = config(&dir, 1_000_000, MIN_MAX_BYTES, true);
    let (state, created) = (dir.path().join("cursor"), created_ms(&cfg.path));
    cursor(&state, 3, created);
    let mut w = Writer::open(&cfg).unwrap();
    let first = loop {
        if let Some(g) = w.append(&batch(5, 20_000)).unwrap().gap {
            break g;
        }
    };
    assert_eq!(first.from, 4);
    // The uplink catches up past the first gap's range, not yet to the gap event itself.
    let moved = first.to + 5;
    assert!(moved < first.id);
    cursor(&state, moved, created);
    std::thread::sleep(super::cursor::CursorWatch::EVERY);
    let mut later = Vec::new();
    while ids(&cfg.path).contains(&first.id) {
        later.extend(w.append(&batch(5, 20_000)).unwrap().gap);
    }
    assert!(!later.is_empty());
    for g in &later {
        assert_eq!(g.from, moved + 1, "{later:?}");
    }
}
