//! `picket events …` as an owner runs it: reading while the writer runs at full speed, every
//! subcommand's output, bad input of every kind, and `scripts/pull-events.sh` over a stub ssh.

use crate::util::journal::*;
use crate::util::*;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

fn db_arg(db: &std::path::Path) -> String {
    db.to_str().unwrap().to_owned()
}

#[test]
fn list_and_backup_never_meet_a_lock_while_the_writer_runs_flat_out() {
    let dir = Scratch::new("concurrent");
    let db = dir.path("events.db");
    let mut writer = Command::new(PICKET)
        .args(["journal-stress", "--db", &db_arg(&db), "--batch", "20"])
        .args(["--snapshot-every", "10", "--snapshot-bytes", "20000"])
        .args(["--max-bytes", "16777216"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut printed = BufReader::new(writer.stdout.take().unwrap()).lines();
    // Wait for the first 60 commits, then keep the pipe drained so the writer never stalls.
    for _ in 0..60 {
        printed.next().unwrap().unwrap();
    }
    let drain = std::thread::spawn(move || printed.count());
    let mut backed_up = Vec::new();
    for i in 0..8 {
        let o = picket(&["events", "list", "--limit", "50", "--db", &db_arg(&db)]);
        assert!(o.status.success(), "list: {}", stderr(&o));
        assert!(!stderr(&o).contains("locked"), "{}", stderr(&o));
        assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 50);

        let copy = dir.path(&format!("copy-{i}.db"));
        let o = picket(&[
            "events",
            "backup",
            copy.to_str().unwrap(),
            "--db",
            &db_arg(&db),
        ]);
        assert!(o.status.success(), "backup: {}", stderr(&o));
        assert!(!stderr(&o).contains("locked"), "{}", stderr(&o));
        assert_intact(&copy);
        backed_up.push(ids(&copy).into_iter().max().unwrap_or(0));

        let streamed = dir.path(&format!("stream-{i}.db"));
        let o = Command::new(PICKET)
            .args(["events", "backup", "-", "--db", &db_arg(&db)])
            .stdout(std::fs::File::create(&streamed).unwrap())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert!(o.status.success(), "backup -: {}", stderr(&o));
        assert_intact(&streamed);
    }
    assert!(
        writer.try_wait().unwrap().is_none(),
        "the writer met an error while the readers ran"
    );
    writer.kill().unwrap();
    writer.wait().unwrap();
    drain.join().unwrap();
    // The newest id of each copy: none is empty, and none is older than the one before.
    assert!(backed_up.iter().all(|n| *n > 0), "{backed_up:?}");
    assert!(
        backed_up.windows(2).all(|w| w[0] <= w[1]),
        "each copy is at least as new as the last: {backed_up:?}"
    );
}

#[test]
fn list_filters_export_formats_and_show_agree_with_what_was_written() {
    let dir = Scratch::new("cli");
    let db = dir.path("events.db");
    fill(
        &db,
        200,
        &["--snapshot-every", "50", "--snapshot-bytes", "3000"],
    );
    let d = db_arg(&db);
    // sample_event cycles kinds over 5 and places over 4: intrusion at n % 5 == 0.
    let o = picket(&[
        "events",
        "list",
        "--kind",
        "intrusion",
        "--json",
        "--db",
        &d,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 40);
    assert!(rows.iter().all(|r| r["kind"] == "intrusion"));
    let o = picket(&[
        "events", "list", "--zone", "door", "--limit", "5", "--db", &d,
    ]);
    let text = String::from_utf8(o.stdout).unwrap();
    let listed: Vec<i64> = text
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        listed,
        [184, 188, 192, 196, 200],
        "the newest five, oldest first"
    );
    let o = picket(&[
        "events",
        "list",
        "--since",
        "1h",
        "--until",
        "2000-01-01",
        "--db",
        &d,
    ]);
    assert!(o.status.success());
    assert!(
        o.stdout.is_empty(),
        "nothing is both recent and before 2000"
    );

    let o = picket(&["events", "export", "--format", "csv", "--db", &d]);
    let csv = String::from_utf8(o.stdout).unwrap();
    assert_eq!(csv.lines().count(), 201);
    assert!(csv.lines().next().unwrap().starts_with("id,ts,ts_ms,"));
    assert!(
        csv.contains(",\"{\"\"dwell_s\"\":31.5}\","),
        "detail JSON is quoted"
    );
    let o = picket(&["events", "export", "--format", "jsonl", "--db", &d]);
    let lines: Vec<serde_json::Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 200);
    assert_eq!(lines[49]["snapshot_bytes"], 3000);

    let jpg = dir.path("snap.jpg");
    let o = picket(&[
        "events",
        "show",
        "50",
        "--snapshot",
        jpg.to_str().unwrap(),
        "--db",
        &d,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&jpg).unwrap();
    assert_eq!((bytes.len(), &bytes[..2]), (3000, &[0xFF, 0xD8][..]));
    let o = picket(&[
        "events",
        "show",
        "51",
        "--snapshot",
        jpg.to_str().unwrap(),
        "--db",
        &d,
    ]);
    assert!(
        stderr(&o).contains("event 51 has no snapshot"),
        "{}",
        stderr(&o)
    );
    let o = picket(&["events", "show", "9999", "--db", &d]);
    assert!(stderr(&o).contains("no event 9999"), "{}", stderr(&o));

    let o = picket(&["events", "stats", "--check", "--db", &d]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("integrity ok"), "{text}");
    assert!(text.contains("events    200 (cap 1000000)"), "{text}");
    assert!(text.contains("snapshots 4 (12000 bytes)"), "{text}");
    assert!(text.contains("  intrusion      40"), "{text}");
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    let dir = Scratch::new("pipe");
    let db = dir.path("events.db");
    fill(&db, 5000, &[]);
    let d = db_arg(&db);
    // `picket events export | head -1`: ~1.5 MB of output, far more than a pipe holds.
    let mut child = Command::new(PICKET)
        .args(["events", "export", "--db", &d])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first = BufReader::new(child.stdout.take().unwrap()).lines().next();
    assert!(first.unwrap().unwrap().starts_with("{\""));
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn the_journal_path_comes_from_the_config() {
    let dir = Scratch::new("config");
    let db = dir.path("from-config.db");
    fill(&db, 3, &[]);
    let cfg = dir.path("picket.toml");
    std::fs::write(&cfg, format!("[journal]\npath = \"{}\"\n", db.display())).unwrap();
    let o = picket(&["events", "--config", cfg.to_str().unwrap(), "list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 3);
    std::fs::write(&cfg, "[journal]\nmax_events = 0\n").unwrap();
    let o = picket(&["events", "--config", cfg.to_str().unwrap(), "list"]);
    assert!(
        stderr(&o).contains(":2:14: journal.max_events"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_flags_get_clear_errors() {
    let dir = Scratch::new("flags");
    let db = dir.path("events.db");
    fill(&db, 3, &[]);
    let o = picket(&[
        "events",
        "list",
        "--since",
        "last tuesday",
        "--db",
        &db_arg(&db),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("--since: bad time `last tuesday`"), "{err}");
    assert!(err.contains("RFC 3339") && err.contains("2h"), "{err}");
    let o = picket(&[
        "events",
        "list",
        "--until",
        "2026-11-27T10:00",
        "--db",
        &db_arg(&db),
    ]);
    assert!(stderr(&o).contains("--until: bad time"), "{}", stderr(&o));
    let o = picket(&["events", "list", "--kind", "burglary", "--db", &db_arg(&db)]);
    assert!(
        stderr(&o).contains("unknown kind `burglary`; one of: intrusion"),
        "{}",
        stderr(&o)
    );
    let o = picket(&[
        "events",
        "list",
        "--db",
        dir.path("nope.db").to_str().unwrap(),
    ]);
    assert!(stderr(&o).contains("no journal there"), "{}", stderr(&o));
}

/// A text file, a truncated journal, another program's database and a newer schema: each is
/// refused with a message that says what it is, and none is changed by being refused.
#[test]
fn unusable_files_are_refused_and_left_as_they_were() {
    let dir = Scratch::new("bad");
    let check = |db: &std::path::Path, expect: &str| {
        let before = std::fs::read(db).unwrap();
        let o = picket(&["events", "list", "--db", &db_arg(db)]);
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains(expect), "list: {}", stderr(&o));
        // The writer side, as `picket run` opens it (on_corrupt = "fail"): refused too.
        let err = picket::journal::Writer::open(&picket::journal::JournalConfig::at(db))
            .err()
            .expect("refused");
        assert!(err.to_string().contains(expect), "writer: {err}");
        assert_eq!(
            std::fs::read(db).unwrap(),
            before,
            "{} was changed",
            db.display()
        );
    };

    let text = dir.path("text.db");
    std::fs::write(&text, "id,kind\n1,intrusion\n").unwrap();
    check(
        &text,
        "not a usable picket journal (file is not a database)",
    );

    let truncated = dir.path("truncated.db");
    fill(
        &truncated,
        3000,
        &["--snapshot-every", "10", "--snapshot-bytes", "8000"],
    );
    let len = std::fs::metadata(&truncated).unwrap().len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&truncated)
        .unwrap();
    f.set_len(len / 2).unwrap();
    drop(f);
    let before = std::fs::read(&truncated).unwrap();
    let err = picket::journal::Writer::open(&picket::journal::JournalConfig::at(&truncated))
        .err()
        .expect("a truncated journal is refused");
    assert!(
        err.to_string().contains("not a usable picket journal"),
        "{err}"
    );
    assert_eq!(std::fs::read(&truncated).unwrap(), before);

    let foreign = dir.path("foreign.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('soup');")
        .unwrap();
    check(&foreign, "a SQLite database of another program");

    let newer = dir.path("newer.db");
    fill(&newer, 5, &[]);
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    check(
        &newer,
        "schema version 99 is newer than this picket understands",
    );
    // Even with start_new, a newer journal is not moved aside: the remedy is a newer picket.
    let cfg = picket::journal::JournalConfig {
        on_corrupt: picket::journal::OnCorrupt::StartNew,
        ..picket::journal::JournalConfig::at(&newer)
    };
    assert!(picket::journal::Writer::open(&cfg).is_err());
    assert_eq!(ids(&newer).len(), 5);
}

#[test]
fn pull_events_copies_the_journal_through_ssh() {
    let dir = Scratch::new("pull");
    let db = dir.path("events.db");
    fill(&db, 120, &["--snapshot-every", "30"]);
    // A stub ssh that runs the remote command here, and a `picket` on PATH reading our journal.
    let bin = dir.path("bin");
    std::fs::create_dir(&bin).unwrap();
    let script = |name: &str, body: String| {
        let p = bin.join(name);
        std::fs::write(&p, body).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    script(
        "ssh",
        "#!/bin/sh\nwhile [ \"${1#-}\" != \"$1\" ]; do shift; done\nshift\nexec sh -c \"$*\"\n"
            .into(),
    );
    script(
        "picket",
        format!(
            "#!/bin/sh\nexec '{PICKET}' \"$@\" --db '{}'\n",
            db.display()
        ),
    );
    let dest = dir.path("pulled");
    std::fs::create_dir(&dest).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let pull = |host: &str| {
        Command::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/pull-events.sh"
        ))
        .args([host, dest.to_str().unwrap()])
        .env("PATH", &path)
        .output()
        .unwrap()
    };
    let o = pull("admin@pi");
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    let file = std::path::PathBuf::from(out.trim());
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("events-pi-") && name.ends_with("Z.db"),
        "{name}"
    );
    assert_intact(&file);
    assert_eq!(ids(&file).len(), 120);
    assert_eq!(
        std::fs::read_dir(&dest).unwrap().count(),
        1,
        "no partial file left"
    );

    // A failing remote leaves nothing behind.
    script(
        "picket",
        "#!/bin/sh\necho 'picket: no journal there' >&2\nexit 1\n".into(),
    );
    let o = pull("pi");
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("failed; nothing was written"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 1);
}
