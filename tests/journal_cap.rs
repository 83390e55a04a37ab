//! The ring buffer's caps: the journal stays inside `max_bytes` (database plus WAL, snapshots
//! included) when batches are committed in the worker's parts, and plus one batch when a large
//! one is appended whole, forever; so does the hub's journal; inside `max_events` exactly;
//! `events stats` agrees.
//!
//! CI writes 100,000 events with a 20 KB snapshot on 1 in 100 into an 8 MiB cap. The
//! 1,000,000-event form: `PICKET_CAP_EVENTS=1000000 cargo test --release --test tests journal_cap`.

use crate::util::journal::*;
use crate::util::*;
use picket::journal::sample::{sample_event, sample_jpeg};
use picket::journal::{HubWriter, JournalConfig, JournalItem, Origin, Writer};
use std::path::Path;

fn batch(n0: u64, len: u64, snapshot_every: u64) -> Vec<JournalItem> {
    (n0..n0 + len)
        .map(|n| {
            let item = JournalItem::new(sample_event(n, n));
            if n % snapshot_every == 0 {
                item.with_snapshot(sample_jpeg(n, 20_000))
            } else {
                item
            }
        })
        .collect()
}

/// The bytes this process has written through system calls (`wchar` of `/proc/self/io`).
fn written_bytes() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    io.lines()
        .find_map(|l| l.strip_prefix("wchar: "))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn wal_bytes(db: &Path) -> u64 {
    std::fs::metadata(format!("{}-wal", db.display())).map_or(0, |m| m.len())
}

#[test]
fn the_files_stay_under_the_byte_cap_plus_one_batch() {
    let events: u64 = std::env::var("PICKET_CAP_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let max_bytes = if events > 100_000 { 64 << 20 } else { 8 << 20 };
    let dir = Scratch::new("cap");
    let db = dir.path("events.db");
    let cfg = JournalConfig {
        max_bytes,
        ..JournalConfig::at(&db)
    };
    let mut w = Writer::open(&cfg).unwrap();
    let (mut worst, mut pruned, mut largest_batch) = (0u64, 0u64, 0u64);
    let mut n = 1;
    while n <= events {
        let items = batch(n, 100.min(events - n + 1), 100);
        n += items.len() as u64;
        let wal_before = wal_bytes(&db);
        let done = w.append(&items).unwrap();
        pruned += done.pruned;
        let size = disk_bytes(&db);
        worst = worst.max(size);
        // One batch is what one commit appends to the WAL: its rows and snapshots, and the
        // b-tree and freelist pages that inserting and pruning rewrote.
        largest_batch = largest_batch.max(wal_bytes(&db).saturating_sub(wal_before));
        assert!(
            size <= max_bytes + largest_batch,
            "after event {}: {size} bytes on disk (WAL {}), cap {max_bytes} + one batch {largest_batch}",
            n - 1,
            disk_bytes(&db) - std::fs::metadata(&db).unwrap().len()
        );
    }
    drop(w);
    eprintln!(
        "cap: {events} events, largest size {worst} bytes against a cap of {max_bytes} (largest \
         batch {largest_batch} bytes), {pruned} pruned"
    );
    assert!(pruned > 0, "the cap never pruned; the test proves nothing");
    assert!(
        largest_batch < max_bytes / 16,
        "one batch wrote {largest_batch} bytes to the WAL; the allowance is meant to be small"
    );
    assert_intact(&db);

    let o = picket(&["events", "stats", "--json", "--db", db.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let present = ids(&db);
    assert_eq!(s["events"], present.len() as u64);
    assert_eq!(s["newest_id"], events);
    assert_eq!(s["oldest"]["id"], *present.iter().min().unwrap());
    assert_eq!(s["max_bytes"], max_bytes);
    assert_eq!(s["total_bytes"], disk_bytes(&db));
    assert!(s["total_bytes"].as_u64().unwrap() <= max_bytes + largest_batch);
    assert_eq!(events - pruned, present.len() as u64);
}

#[test]
fn the_row_cap_keeps_exactly_the_newest_events() {
    let dir = Scratch::new("rows");
    let db = dir.path("events.db");
    fill(&db, 3000, &["--max-events", "1000", "--batch", "70"]);
    let present = ids(&db);
    assert_eq!(present.len(), 1000);
    assert_eq!(present.iter().min(), Some(&2001));
    assert_eq!(present.iter().max(), Some(&3000));
    // Snapshots of pruned events went with them.
    fill(&db, 500, &["--max-events", "1000", "--snapshot-every", "2"]);
    let c = rusqlite::Connection::open(&db).unwrap();
    let orphans: i64 = c
        .query_row(
            "SELECT count(*) FROM snapshots WHERE event_id NOT IN (SELECT id FROM events)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0);
    assert_eq!(ids(&db).len(), 1000);
}

/// `len` events from `n` on, each with a 12–36 KB snapshot.
fn snapshot_batch(n: u64, len: u64) -> Vec<JournalItem> {
    (n..n + len)
        .map(|i| {
            JournalItem::new(sample_event(i, i))
                .with_snapshot(sample_jpeg(i, 12_000 + i as usize % 7 * 4_000))
        })
        .collect()
}

/// Asserts that `db` and its WAL are within `cap` after event `last`; returns (size, WAL).
fn assert_within(db: &Path, cap: u64, last: u64) -> (u64, u64) {
    let (size, wal) = (disk_bytes(db), wal_bytes(db));
    assert!(
        size <= cap,
        "after event {last}: database {} + WAL {wal} = {size} bytes, cap {cap}",
        size - wal
    );
    (size, wal)
}

/// The soak's journal: a 1 MiB cap, every event with a snapshot, batches of one to four
/// events committed in the parts the worker commits them in (`Writer::commit_len`). The
/// database and its WAL together, as they are on disk after every commit, never pass the cap:
/// the WAL's budget inside the cap holds what is left in it before a checkpoint and the
/// commit on top.
#[test]
fn with_snapshots_the_database_and_its_wal_stay_within_the_cap() {
    let max_bytes = 1 << 20;
    let dir = Scratch::new("cap-wal");
    let db = dir.path("events.db");
    let cfg = JournalConfig {
        max_bytes,
        ..JournalConfig::at(&db)
    };
    let mut w = Writer::open(&cfg).unwrap();
    let written = written_bytes();
    let (mut worst, mut worst_wal, mut pruned, mut n) = (0u64, 0u64, 0u64, 1u64);
    for round in 0..400u64 {
        let items = snapshot_batch(n, round % 4 + 1);
        let mut rest = &items[..];
        while !rest.is_empty() {
            let part = w.commit_len(rest);
            assert!(part >= 1);
            pruned += w.append(&rest[..part]).unwrap().pruned;
            rest = &rest[part..];
            let (size, wal) =
                assert_within(&db, max_bytes, n + (items.len() - rest.len()) as u64 - 1);
            worst = worst.max(size);
            worst_wal = worst_wal.max(wal);
        }
        n += items.len() as u64;
    }
    drop(w);
    eprintln!(
        "cap with snapshots: {} events, largest database + WAL {worst} bytes (WAL at most \
         {worst_wal}) against a cap of {max_bytes}, {pruned} pruned; this process wrote {} \
         bytes meanwhile (wchar, for comparing by hand)",
        n - 1,
        written_bytes() - written
    );
    assert!(pruned > 0, "the cap never pruned; the test proves nothing");
    assert_intact(&db);
}

/// The hub's journal takes what three boxes send, a batch of one to twelve events with
/// snapshots at a time as its inbox gathers them, and commits it in the worker's parts itself:
/// database and WAL stay within the cap after every batch, and every event is written once.
#[test]
fn a_hub_journal_with_snapshots_stays_within_the_cap() {
    let max_bytes = 1 << 20;
    let dir = Scratch::new("cap-hub");
    let db = dir.path("hub.db");
    let mut w = HubWriter::open(&JournalConfig {
        max_bytes,
        ..JournalConfig::at(&db)
    })
    .unwrap();
    let (mut worst, mut written, mut pruned, mut n) = (0u64, 0u64, 0u64, 1u64);
    for round in 0..150u64 {
        let items = from_boxes(snapshot_batch(n, round % 12 + 1));
        let done = w.append(&items).unwrap();
        assert_eq!((done.written, done.duplicates), (items.len() as u64, 0));
        (written, pruned) = (written + done.written, pruned + done.pruned);
        n += items.len() as u64;
        worst = worst.max(assert_within(&db, max_bytes, n - 1).0);
    }
    // The same messages again, as a broker redelivers them, are all duplicates.
    let again = w.append(&from_boxes(snapshot_batch(n - 3, 3))).unwrap();
    assert_eq!((again.written, again.duplicates), (0, 3));
    drop(w);
    eprintln!("hub cap: {written} events, largest database + WAL {worst} bytes, {pruned} pruned");
    assert!(pruned > 0, "the cap never pruned; the test proves nothing");
    assert_intact(&db);
}

/// Each item as box event `mono_ms` of one of three boxes.
fn from_boxes(items: Vec<JournalItem>) -> Vec<(Origin, JournalItem)> {
    items
        .into_iter()
        .map(|item| {
            let id = item.event.mono_ms as i64;
            let origin = Origin {
                box_id: format!("box{}", id % 3),
                box_event: Some(id),
                detail: None,
            };
            (origin, item)
        })
        .collect()
}
