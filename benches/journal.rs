//! The journal's costs at the batch policy: events per second it sustains, and bytes written
//! to the disk per event (from `/proc/self/io` `write_bytes`, which tmpfs does not count, so
//! the journal lives under `target/`).
//!
//! `cargo bench --bench journal` (or `PICKET_BENCH_SECS=30 cargo bench --bench journal`).

// A benchmark: a panic here stops a measurement on its own fixtures, never the appliance.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use picket::journal::sample::{sample_event, sample_jpeg};
use picket::journal::{Journal, JournalConfig, JournalItem};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn write_bytes() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    io.lines()
        .find_map(|l| l.strip_prefix("write_bytes: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

struct Run {
    committed: u64,
    dropped: u64,
    secs: f64,
    bytes: u64,
}

/// Feeds a journal at `rate` events a second (0: as fast as it takes them) for `secs`, with a
/// 20 KB snapshot on 1 in 100, then shuts it down (drain, commit, checkpoint) and measures.
fn run(dir: &Path, rate: u64, secs: f64) -> Run {
    let path = dir.join(format!("bench-{rate}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let cfg = JournalConfig::at(&path);
    let bytes0 = write_bytes();
    let t0 = Instant::now();
    let (journal, mut tx) = Journal::spawn(&cfg).expect("open the journal");
    let mut n = 0u64;
    while t0.elapsed().as_secs_f64() < secs {
        if rate > 0 {
            let due = Duration::from_secs_f64(n as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(t0.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        n += 1;
        let mut item = JournalItem::new(sample_event(n, n)).urgent(false);
        if n % 100 == 0 {
            item = item.with_snapshot(sample_jpeg(n, 20_000));
        }
        // Flat out, wait for room instead of dropping, to measure what the journal sustains.
        while let Err(back) = tx.try_send(item) {
            item = back;
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    let st = journal.shutdown();
    let secs = t0.elapsed().as_secs_f64();
    Run {
        committed: st.committed,
        dropped: st.dropped,
        secs,
        bytes: write_bytes() - bytes0,
    }
}

fn main() {
    let secs: f64 = std::env::var("PICKET_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10.0);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/journal-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let io = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    if !io.contains("write_bytes") {
        println!("note: /proc/self/io write_bytes is unavailable; bytes per event will read 0");
    }
    println!("journal at the default policy (one commit a second, synchronous=FULL, WAL),");
    println!(
        "20 KB snapshot on 1 event in 100, {secs} s per row, on {}",
        dir.display()
    );
    println!(
        "{:>10} {:>10} {:>9} {:>14} {:>12} {:>11}",
        "offered/s", "committed", "events/s", "bytes written", "bytes/event", "queue full"
    );
    for rate in [10, 100, 1000, 0] {
        let r = run(&dir, rate, secs);
        let offered = if rate == 0 {
            "max".to_owned()
        } else {
            rate.to_string()
        };
        // `queue full` counts the sends that found the queue full and were retried.
        println!(
            "{offered:>10} {:>10} {:>9.0} {:>14} {:>12.0} {:>11}",
            r.committed,
            r.committed as f64 / r.secs,
            r.bytes,
            r.bytes as f64 / r.committed.max(1) as f64,
            r.dropped
        );
    }
}
