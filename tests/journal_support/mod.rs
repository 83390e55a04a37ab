//! Helpers for the journal's integration tests: scratch directories, running `picket`, and
//! reading a journal back.

#![allow(dead_code)]

use picket::journal::Reader;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

pub const PICKET: &str = env!("CARGO_BIN_EXE_picket");

/// A fresh directory on the build's disk (not tmpfs), removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `picket ARGS` to completion.
pub fn picket(args: &[&str]) -> Output {
    Command::new(PICKET)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run picket")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Fills `db` with `count` events through `picket journal-stress`.
pub fn fill(db: &Path, count: u64, extra: &[&str]) {
    let count = count.to_string();
    let mut args = vec![
        "journal-stress",
        "--quiet",
        "--db",
        db.to_str().unwrap(),
        "--count",
        &count,
    ];
    args.extend_from_slice(extra);
    let o = picket(&args);
    assert!(o.status.success(), "journal-stress: {}", stderr(&o));
}

/// `integrity_check` through a read-only connection; must be `ok`.
pub fn assert_intact(db: &Path) {
    let r = Reader::open(db).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.integrity_check().unwrap(), "ok", "{}", db.display());
}

/// Every id in the journal.
pub fn ids(db: &Path) -> HashSet<i64> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut s = c.prepare("SELECT id FROM events").unwrap();
    let v = s.query_map([], |r| r.get(0)).unwrap();
    v.map(Result::unwrap).collect()
}

/// The database file and its WAL, in bytes.
pub fn disk_bytes(db: &Path) -> u64 {
    let len = |p: PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
    len(db.to_owned()) + len(PathBuf::from(format!("{}-wal", db.display())))
}
