//! Unit tests of the writer and the worker: the queue never allocates or blocks, urgent items
//! commit at once, shutdown drains, and bad files are refused or kept aside as configured.

use super::*;
use crate::alloc_count;
use crate::event::{Event, EventKind};
use std::path::PathBuf;
use std::time::{Duration, Instant};

struct Dir(PathBuf);
impl Dir {
    fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("picket-journal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn cfg(&self) -> JournalConfig {
        JournalConfig::at(self.0.join("events.db"))
    }
}
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn event(kind: EventKind) -> Event {
    Event::new(kind, 1_795_776_015_000, 5, true).with_place("door")
}

/// Polls `f` until it holds; fails after a deadline far beyond any normal wait.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < end, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn try_send_neither_allocates_nor_blocks_even_when_full() {
    let dir = Dir::new("alloc");
    let cfg = JournalConfig {
        batch_interval_ms: 60_000,
        ..dir.cfg()
    };
    let (journal, mut tx) = Journal::spawn(&cfg).unwrap();
    let item = JournalItem::new(event(EventKind::Intrusion));
    let mut rejected = 0;
    let ((), allocs) = alloc_count::count(|| {
        for _ in 0..QUEUE_LEN + 10 {
            if tx.try_send(item.clone()).is_err() {
                rejected += 1;
            }
        }
    });
    assert_eq!(allocs, 0);
    // The worker drains into its batch between our sends, so at least the overflow is dropped
    // unless it woke; either way, every send is either queued or counted.
    let st = journal.status();
    assert_eq!(st.sent + st.dropped, (QUEUE_LEN + 10) as u64);
    assert_eq!(st.dropped, rejected);
    let st = journal.shutdown();
    assert_eq!(st.committed, st.sent, "shutdown drains and commits");
    assert_eq!(st.unwritten, 0);
}

#[test]
fn urgent_items_commit_without_waiting_for_the_batch() {
    let dir = Dir::new("urgent");
    let cfg = JournalConfig {
        batch_interval_ms: 60_000,
        ..dir.cfg()
    };
    let (journal, mut tx) = Journal::spawn(&cfg).unwrap();
    // The first commit is due a full interval after spawning; only urgency commits earlier.
    tx.try_send(JournalItem::new(event(EventKind::Loiter)))
        .unwrap();
    let alarm = JournalItem::new(event(EventKind::AlarmOn));
    assert!(alarm.urgent, "alarm events are urgent by default");
    tx.try_send(alarm).unwrap();
    eventually("the alarm is committed", || journal.status().committed == 2);
    let r = Reader::open(&cfg.path).unwrap();
    let mut kinds = Vec::new();
    r.for_each(&Filter::default(), false, |e| {
        kinds.push(e.kind);
        Ok(())
    })
    .unwrap();
    assert_eq!(kinds, ["loiter", "alarm_on"]);
    assert_eq!(journal.status().last_id, Some(2));
}

#[test]
fn events_round_trip_with_every_field() {
    let dir = Dir::new("fields");
    let mut w = Writer::open(&dir.cfg()).unwrap();
    let mut ev = event(EventKind::LineCross);
    ev.clock_synced = false;
    ev.track_id = Some(42);
    ev.score = Some(0.75);
    ev.bbox = Some(picket_geom::NormRect::new(0.25, 0.5, 0.5, 1.0));
    ev.direction = Some(crate::event::Direction::LeftToRight);
    ev.set_detail(&[("speed", 1.5.into())]);
    let item = JournalItem::new(ev).with_snapshot(vec![0xFF, 0xD8, 1, 2, 0xFF, 0xD9]);
    let done = w
        .append(&[item, JournalItem::new(event(EventKind::Started))])
        .unwrap();
    assert_eq!(done.ids, Some((1, 2)));
    let r = Reader::open(&dir.cfg().path).unwrap();
    let (got, jpeg) = r.show(1).unwrap().unwrap();
    assert_eq!(jpeg.as_deref(), Some(&[0xFF, 0xD8, 1, 2, 0xFF, 0xD9][..]));
    assert_eq!(got.kind, "line_cross");
    assert_eq!(got.place, "door");
    assert!(!got.clock_synced);
    assert_eq!((got.track_id, got.score), (Some(42), Some(0.75)));
    assert_eq!(got.bbox, Some([0.25, 0.5, 0.5, 1.0]));
    assert_eq!(got.direction.as_deref(), Some("left_to_right"));
    assert_eq!(got.snapshot_bytes, Some(6));
    let j = got.to_json();
    assert_eq!(j["detail"]["speed"], 1.5);
    assert_eq!(j["ts"], "2026-11-27T10:40:15.000Z");
    assert!(r.show(3).unwrap().is_none());
}

#[test]
fn a_text_file_is_refused_untouched_or_kept_aside_as_configured() {
    let dir = Dir::new("text");
    let cfg = dir.cfg();
    std::fs::write(&cfg.path, "these are not the events you are looking for\n").unwrap();
    let err = Writer::open(&cfg)
        .err()
        .expect("a text file is not a journal");
    assert!(matches!(err, JournalError::Unusable { .. }), "{err}");
    assert!(err.to_string().contains("on_corrupt"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&cfg.path).unwrap(),
        "these are not the events you are looking for\n"
    );
    let cfg = JournalConfig {
        on_corrupt: OnCorrupt::StartNew,
        ..cfg
    };
    let mut w = Writer::open(&cfg).unwrap();
    w.append(&[JournalItem::new(event(EventKind::Started))])
        .unwrap();
    let aside: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("events.db.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(
        std::fs::read_to_string(dir.0.join(&aside[0])).unwrap(),
        "these are not the events you are looking for\n"
    );
}

#[test]
fn the_database_and_its_wal_are_group_readable_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = Dir::new("modes");
    let cfg = dir.cfg();
    let mut w = Writer::open(&cfg).unwrap();
    w.append(&[JournalItem::new(event(EventKind::Armed))])
        .unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let p = format!("{}{suffix}", cfg.path.display());
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640, "{p}");
    }
}

#[test]
fn a_journal_that_cannot_be_reached_is_not_called_missing() {
    let dir = Dir::new("unreachable");
    let missing = Reader::open(&dir.cfg().path).err().unwrap().to_string();
    assert!(missing.contains("no journal there"), "{missing}");
    // Through a file where a directory should be: ENOTDIR, as EACCES for a user outside group
    // picket, is an error of its own with its errno, not a wrong path.
    std::fs::write(dir.0.join("file"), "").unwrap();
    let e = Reader::open(&dir.0.join("file/events.db"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("stat: Not a directory"), "{e}");
    assert!(!e.contains("no journal there"), "{e}");
}
