//! A full disk: the journal lives on a 2 MiB tmpfs that a ballast file fills up. The worker
//! must log the failure clearly, the producer must keep going (dropping and counting once the
//! in-memory bound is reached), and writing must resume by itself when space returns.
//!
//! Mounting needs root; elsewhere the test says why it is skipped and passes.

use crate::util::journal::*;
use crate::util::*;
use picket::journal::sample::{sample_event, sample_jpeg};
use picket::journal::{Journal, JournalConfig, JournalItem, Reader};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The journal's log records. The logger is the whole test binary's, so it takes the journal's
/// records only: another test's hot thread, which must not allocate, logs past it untouched.
struct Capture;
impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Info && m.target().starts_with("picket::journal")
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            LOG.lock()
                .unwrap()
                .push(format!("{} {}", r.level(), r.args()));
        }
    }
    fn flush(&self) {}
}

/// A size-limited tmpfs, unmounted when dropped.
struct SmallFs(PathBuf);
impl SmallFs {
    fn mount(at: &Path) -> Option<Self> {
        std::fs::create_dir_all(at).unwrap();
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs"])
            .arg(at)
            .output();
        match o {
            Ok(o) if o.status.success() => Some(SmallFs(at.to_owned())),
            Ok(o) => {
                eprintln!(
                    "skipped: cannot mount a 2 MiB tmpfs here ({}); run as root",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("skipped: cannot run mount ({e})");
                None
            }
        }
    }
}
impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn eventually(what: &str, journal: &Journal, f: impl Fn(&picket::journal::JournalStatus) -> bool) {
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        let st = journal.status();
        if f(&st) {
            return;
        }
        assert!(
            Instant::now() < end,
            "never happened: {what}; status {st:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_full_disk_is_logged_survived_and_recovered_from() {
    let _ = log::set_logger(&Capture).map(|()| log::set_max_level(log::LevelFilter::Info));
    let dir = Scratch::new("fulldisk");
    let Some(fs) = SmallFs::mount(&dir.path("small")) else {
        return;
    };
    let cfg = JournalConfig {
        max_bytes: 1 << 20,
        batch_interval_ms: 50,
        max_pending: 50,
        max_pending_snapshot_bytes: 200_000,
        ..JournalConfig::at(fs.0.join("state/events.db"))
    };
    let (journal, mut tx) = Journal::spawn(&cfg).unwrap();
    for n in 1..=10 {
        tx.try_send(JournalItem::new(sample_event(n, n))).unwrap();
    }
    eventually("the first events commit", &journal, |s| s.committed == 10);

    // Fill the filesystem to the last byte.
    let ballast = fs.0.join("ballast");
    let mut f = std::fs::File::create(&ballast).unwrap();
    let chunk = vec![0u8; 16 * 1024];
    while f.write_all(&chunk).is_ok() {}
    while f.write_all(&chunk[..512]).is_ok() {}
    drop(f);

    for n in 11..=40 {
        let item = JournalItem::new(sample_event(n, n)).with_snapshot(sample_jpeg(n, 20_000));
        assert!(tx.try_send(item).is_ok(), "the queue has room");
    }
    eventually("the worker notices the full disk", &journal, |s| s.failing);
    let st = journal.status();
    let err = st.last_error.clone().unwrap();
    assert!(
        err.contains("disk full") && err.contains("events.db"),
        "{err}"
    );

    // The producer goes on; past the in-memory bound and the queue, items are dropped, counted.
    let mut rejected = 0;
    for n in 41..=500 {
        if tx.try_send(JournalItem::new(sample_event(n, n))).is_err() {
            rejected += 1;
        }
    }
    assert!(rejected > 0);
    assert_eq!(tx.dropped(), rejected);
    eventually("the worker holds its bound", &journal, |s| s.pending == 50);
    assert!(
        journal.status().snapshots_dropped > 0,
        "snapshot memory is bounded too"
    );

    std::fs::remove_file(&ballast).unwrap();
    eventually("writing resumes", &journal, |s| {
        !s.failing && s.pending == 0 && s.committed == s.sent
    });
    let st = journal.shutdown();
    assert_eq!(st.unwritten, 0);
    assert_eq!(st.sent + st.dropped, 500);

    let r = Reader::open(&cfg.path).unwrap();
    assert_eq!(r.integrity_check().unwrap(), "ok");
    assert_eq!(ids(&cfg.path).len() as u64, st.committed);

    let log = LOG.lock().unwrap().join("\n");
    assert!(
        log.contains("(disk full): could not commit")
            && log.contains("holding them in memory and retrying; detection and alarms go on"),
        "{log}"
    );
    assert!(log.contains("writing again; committed"), "{log}");
    assert!(log.contains("dropped because the queue was full"), "{log}");
    assert_eq!(
        log.matches("could not commit").count(),
        1,
        "the failure is logged once, not on every retry: {log}"
    );
}
