//! The crash test: a child appends as fast as it can and prints each id after its commit
//! returns; it is SIGKILLed at a random moment, 50 times. After every kill the journal must
//! pass `integrity_check`, hold every id the child printed, and never reuse an id.
//!
//! `PICKET_CRASH_KILLS=1000 PICKET_CRASH_MAX_MS=2000 cargo test --test tests journal_crash` is
//! the long form.

use crate::util::journal::*;
use crate::util::*;
use picket::journal::Reader;
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small xorshift generator, seeded from the clock and printed so a failure can be replayed.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn sigkill_at_random_moments_loses_no_committed_event() {
    let kills = env_u64("PICKET_CRASH_KILLS", 50);
    let max_ms = env_u64("PICKET_CRASH_MAX_MS", 150);
    let seed = env_u64(
        "PICKET_CRASH_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1,
    );
    eprintln!("crash test: {kills} kills, up to {max_ms} ms each, PICKET_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let dir = Scratch::new("crash");
    let db = dir.path("events.db");
    let mut reported: HashSet<i64> = HashSet::new();
    let mut max_before = 0;
    for round in 0..kills {
        let batch = (1 + rng.below(40)).to_string();
        let mut child = Command::new(PICKET)
            .args(["journal-stress", "--db", db.to_str().unwrap()])
            .args([
                "--batch",
                &batch,
                "--snapshot-every",
                "25",
                "--snapshot-bytes",
                "6000",
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn journal-stress");
        let stdout = child.stdout.take().unwrap();
        let lines = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .map(|l| l.parse::<i64>().expect("an id per line"))
                .collect::<Vec<_>>()
        });
        std::thread::sleep(Duration::from_millis(rng.below(max_ms + 1)));
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        let printed = lines.join().unwrap();

        if let Err(picket::journal::JournalError::Missing { .. }) = Reader::open(&db) {
            // Killed before the schema's first commit: an empty file, which the next open
            // turns into a journal. Nothing can have been reported.
            assert!(
                printed.is_empty() && reported.is_empty(),
                "round {round}: ids lost"
            );
            continue;
        }
        assert_intact(&db);
        let present = ids(&db);
        for id in &printed {
            assert!(
                present.contains(id),
                "round {round}: id {id} was reported but is gone"
            );
            assert!(
                reported.insert(*id),
                "round {round}: id {id} reported twice"
            );
            assert!(
                *id > max_before,
                "round {round}: id {id} reused (max before {max_before})"
            );
        }
        // Only the oldest are ever pruned and nothing else deletes, so the ids are contiguous.
        let (lo, hi) = (present.iter().min(), present.iter().max());
        if let (Some(lo), Some(hi)) = (lo, hi) {
            assert_eq!(
                (hi - lo + 1) as usize,
                present.len(),
                "round {round}: a gap in the ids"
            );
            max_before = *hi;
        }
    }
    assert!(
        !reported.is_empty(),
        "the child never got to commit anything"
    );
    eprintln!(
        "crash test: {} ids reported and all present",
        reported.len()
    );
}
