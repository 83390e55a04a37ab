//! Writing a journal through `picket journal-stress` and reading it back: through `picket
//! events` as a user would, or straight from SQLite.

use super::{picket, picket_bin, stderr};
use picket::journal::Reader;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

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

/// The journal's events (`picket events list --json`), oldest first.
pub fn events(db: &Path) -> Vec<serde_json::Value> {
    let out = Command::new(picket_bin())
        .args(["events", "list", "--limit", "100000", "--json", "--db"])
        .arg(db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "picket events list: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut all: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    all.sort_by_key(|e| e["id"].as_i64());
    all
}

/// What `picket run --fast` left behind: the journal's events and its log.
pub struct Run {
    pub events: Vec<serde_json::Value>,
    pub stderr: String,
}

/// `picket run --fast --no-xnnpack` with the config file `cfg` on `source` (`args` say what it
/// is), its journal and arming state in `dir`, logging with `RUST_LOG=log`; the journal's
/// events read back. A failed run panics with its log.
pub fn run_fast(cfg: &Path, dir: &Path, source: &Path, args: &[&str], log: &str) -> Run {
    let db = dir.join("events.db");
    let out = Command::new(picket_bin())
        .args(["run", "--fast", "--no-xnnpack", "--config"])
        .arg(cfg)
        .arg("--source")
        .arg(source)
        .args(args)
        .arg("--journal")
        .arg(&db)
        .arg("--state-file")
        .arg(dir.join("arming.toml"))
        .env("RUST_LOG", log)
        .env_remove("NOTIFY_SOCKET")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "picket run failed:\n{stderr}");
    Run {
        events: events(&db),
        stderr,
    }
}
