//! `picket uplink` against a real Mosquitto (Debian `mosquitto`) on 127.0.0.1: every journal
//! event reaches a persistent QoS 1 consumer at least once through broker restarts, broker
//! kills, uplink kills, a broker down for longer than the in-flight window, and a ring buffer
//! forced past its cap meanwhile (published as `uplink_gap`); TLS with a test
//! CA and a password file; bad input refused by name; Home Assistant discovery retained and
//! sent again when Home Assistant comes online; snapshots sent drawn, or raw when asked, to MQTT
//! and the push sinks alike.
//!
//! `PICKET_UPLINK_KILLS=20 cargo test --test tests uplink::uplink_killed` is the long form of
//! the kill test (`scripts/uplink-soak.sh`).

use crate::util::uplink::*;
use crate::util::{picket, stderr};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const EVENTS: &str = "picket/+/events";
const AVAILABILITY: &str = "picket/+/availability";
const STATE: &str = "picket/+/state";

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn plain(port: u16, extra: &str) -> String {
    format!("url = \"mqtt://127.0.0.1:{port}\"\nbox_id = \"porch\"\n{extra}")
}

/// Random delays, from `PICKET_UPLINK_SEED` or the clock (printed, so a run can be replayed).
fn delays() -> impl FnMut(u64) -> u64 {
    let mut state: u64 = std::env::var("PICKET_UPLINK_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("PICKET_UPLINK_SEED={state}");
    move |below| {
        // Knuth's MMIX linear congruential generator; the high bits are the good ones.
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % below
    }
}

/// The demo config (`board/config/demo.toml`) with its journal at `db`, the lines `metrics`
/// added to `[metrics]`, and unless `uplink` is empty an `[uplink]` section of `uplink` (without
/// its header) whose cursor is `dir/cursor` and `state_json` is in `dir`.
fn demo_config(
    dir: &Scratch,
    db: &std::path::Path,
    metrics: &str,
    uplink: &str,
) -> std::path::PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    let demo = std::fs::read_to_string(format!("{root}/board/config/demo.toml")).unwrap();
    let cfg = dir.path("demo.toml");
    let uplink = if uplink.is_empty() {
        String::new()
    } else {
        format!(
            "\n[uplink]\n{uplink}state_file = \"{}\"\nstate_json = \"{}\"\n",
            dir.path("cursor").display(),
            dir.path("state.json").display()
        )
    };
    // The uplink reads `[journal] path` from the file, so the journal is named there.
    let demo = demo
        .replace("/tmp/picket-demo/events.db", db.to_str().unwrap())
        .replace("[metrics]\n", &format!("[metrics]\n{metrics}"));
    std::fs::write(&cfg, demo + &uplink).unwrap();
    cfg
}

/// `picket run --fast` on 24 frames of the committed clip, with the arming state in `dir`.
fn run_clip(dir: &Scratch, cfg: &std::path::Path) -> std::process::Output {
    let root = env!("CARGO_MANIFEST_DIR");
    checked(
        std::process::Command::new(PICKET)
            .args(["run", "--fast", "--max-frames", "24", "--config"])
            .arg(cfg)
            .arg("--source")
            .arg(format!("{root}/tests/data/clip/vtest-460-539.mjpeg"))
            .arg("--state-file")
            .arg(dir.path("arming.toml"))
            .env("RUST_LOG", "info")
            .env_remove("NOTIFY_SOCKET"),
        "picket run",
    )
}

#[test]
fn the_clip_s_events_reach_the_broker_with_their_snapshots() {
    let dir = Scratch::new("clip");
    let broker = Broker::start(&dir.0, "");
    let consumer = Consumer::start(
        broker.port,
        "clip-consumer",
        &[EVENTS, AVAILABILITY, "picket/+/snapshot", STATE],
    );
    let db = dir.path("events.db");
    let url = format!("url = \"mqtt://127.0.0.1:{}\"\n", broker.port);
    let cfg = demo_config(
        &dir,
        &db,
        "",
        &format!("{url}box_id = \"demo\"\nsnapshots = true\n"),
    );

    // The uplink first: it waits for the journal `picket run` is about to create.
    let up = Uplink::start(&cfg);
    assert!(up.wait_for("waiting for picket run", secs(10)));
    run_clip(&dir, &cfg);
    let journal = journal_ids(&db);
    let missing = consumer.wait_for_ids(&journal, secs(20));
    assert!(missing.is_empty(), "never arrived: {missing:?}");
    // `picket run` left its last state; the uplink published it.
    let state = std::fs::read(dir.path("state.json")).unwrap();
    assert!(
        consumer.wait(secs(5), |g| g
            .other
            .get("picket/demo/state")
            .and_then(|m| m.last())
            .is_some_and(|(p, _)| *p == state)),
        "{:?}",
        consumer.got().other.get("picket/demo/state")
    );
    assert_eq!(up.count("waiting for picket run"), 1, "logged once");
    assert_eq!(up.stop().code(), Some(0));
    assert!(
        consumer.wait(secs(5), |g| g.availability.last().map(String::as_str)
            == Some("offline"))
    );

    let got = consumer.got();
    assert_all_arrived("clip", &journal, &got);
    let mut with_snapshot = 0;
    for e in &got.events {
        assert_event_keys(e);
        assert_eq!(e["v"], 1);
        assert_eq!(e["box"], "demo");
        assert!(e["detail"].is_object(), "{e}");
        assert!(e["ts"].as_str().unwrap().ends_with('Z'), "{e}");
        if let Some(b64) = e["snapshot"].as_str() {
            use base64::Engine;
            let jpeg = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap();
            assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "event {} has a JPEG", e["id"]);
            with_snapshot += 1;
        }
    }
    let kinds: BTreeSet<&str> = got
        .events
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    for k in ["started", "stopped", "intrusion", "alarm_on"] {
        assert!(kinds.contains(k), "{kinds:?}");
    }
    assert!(with_snapshot > 0, "the clip's intrusions carry snapshots");
    let snaps = &got.other["picket/demo/snapshot"];
    assert!(snaps
        .iter()
        .all(|(jpeg, _)| jpeg.starts_with(&[0xFF, 0xD8])));
    assert_eq!(acked_through(&dir.path("cursor")), *journal.last().unwrap());
    let alarm = got.events.iter().find(|e| e["kind"] == "alarm_on").unwrap();
    eprintln!(
        "clip: {} events, {with_snapshot} with snapshots; an alarm_on message: {alarm}",
        journal.len()
    );
    // The state at the stop: the demo's zone, armed (no schedule), every output off again.
    let state: serde_json::Value = serde_json::from_slice(&state).unwrap();
    eprintln!("clip: the last state: {state}");
    assert_eq!(
        (
            &state["v"],
            &state["armed"],
            &state["mode"],
            &state["camera_ok"]
        ),
        (&1.into(), &true.into(), &"auto".into(), &true.into())
    );
    assert_eq!(state["outputs_on"], serde_json::json!([]));
    let zones: Vec<&String> = state["zones"].as_object().unwrap().keys().collect();
    assert_eq!(zones, ["walkway"]);
    assert!(
        state["last_id"].as_i64().is_some_and(|id| id > 0),
        "{state}"
    );
}

#[test]
fn a_broker_stopped_mid_stream_and_restarted_5_s_later_loses_nothing() {
    let mut rig = Rig::new("restart", &[EVENTS]);
    let (db, consumer) = (rig.db.clone(), &rig.consumer);
    let up = rig.uplink("");
    let producer = Producer::start(&db, 10, Duration::from_millis(100));
    std::thread::sleep(Duration::from_millis(1500));
    rig.broker.stop();
    std::thread::sleep(secs(5));
    rig.broker.restart();
    std::thread::sleep(secs(2));
    let produced = producer.finish();
    let journal = journal_ids(&db);
    assert_eq!(produced.len(), journal.len());
    let missing = consumer.wait_for_ids(&journal, secs(20));
    assert!(missing.is_empty(), "never arrived: {missing:?}");
    assert_all_arrived("broker restarted", &journal, &consumer.got());
    assert_eq!(up.count("lost:"), 1, "the loss logged once");
    assert_eq!(up.count("cannot connect"), 1, "the refusals logged once");
    assert_eq!(up.count("connected to"), 2);
    assert_eq!(up.stop().code(), Some(0));
}

#[test]
fn a_broker_killed_loses_at_most_what_it_acknowledged_before_the_kill() {
    let mut rig = Rig::new("brokerkill", &[EVENTS]);
    // The consumer's session and subscription on disk, as a long-running broker has them.
    rig.broker.save();
    let (db, consumer) = (rig.db.clone(), &rig.consumer);
    let up = rig.uplink("");
    let producer = Producer::start(&db, 10, Duration::from_millis(50));
    std::thread::sleep(secs(2));
    let before_kill = journal_ids(&db);
    rig.broker.kill();
    std::thread::sleep(secs(1));
    rig.broker.restart();
    std::thread::sleep(secs(2));
    producer.finish();
    let journal = journal_ids(&db);
    let after: BTreeSet<i64> = journal.difference(&before_kill).copied().collect();
    let missing = consumer.wait_for_ids(&after, secs(20));
    assert!(
        missing.is_empty(),
        "events committed after the kill must all arrive; missing {missing:?}"
    );
    // Give the resent ones time to arrive too, then count what the kill took.
    consumer.wait_for_ids(&journal, secs(5));
    let got = consumer.got();
    let have: BTreeSet<i64> = got.ids().into_iter().collect();
    let lost: Vec<i64> = journal.difference(&have).copied().collect();
    let dups = got.ids().len() - have.len();
    eprintln!(
        "broker SIGKILL: {} ids, {} committed before the kill, {} lost ({lost:?}), {dups} \
         duplicates",
        journal.len(),
        before_kill.len(),
        lost.len()
    );
    assert!(lost.iter().all(|id| before_kill.contains(id)));
    assert_eq!(up.stop().code(), Some(0));
}

/// The loss window in full: Mosquitto acknowledges a message (and the uplink moves its
/// cursor past it) while the message waits in memory for a consumer that is offline; a
/// SIGKILL before Mosquitto's next save of its database loses it.
#[test]
fn a_broker_killed_loses_what_it_held_in_memory_for_an_offline_consumer() {
    let Rig {
        mut broker,
        consumer,
        db,
        dir,
    } = Rig::new("offline", &[EVENTS]);
    let up = Uplink::start(&config(&dir.0, &db, &plain(broker.port, "")));
    let first: BTreeSet<i64> = append(&db, 20).into_iter().collect();
    assert!(consumer.wait_for_ids(&first, secs(10)).is_empty());
    broker.save();
    drop(consumer); // offline: its session and subscription stay at the broker
    let queued: BTreeSet<i64> = append(&db, 50).into_iter().collect();
    let deadline = std::time::Instant::now() + secs(10);
    while acked_through(&dir.path("cursor")) < *queued.last().unwrap() {
        assert!(
            std::time::Instant::now() < deadline,
            "the uplink never got the acks"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    broker.kill();
    broker.restart();
    let consumer = Consumer::start(broker.port, "offline-consumer", &[EVENTS]);
    let after: BTreeSet<i64> = append(&db, 20).into_iter().collect();
    assert!(consumer.wait_for_ids(&after, secs(10)).is_empty());
    std::thread::sleep(Duration::from_millis(500));
    let have: BTreeSet<i64> = consumer.got().ids().into_iter().collect();
    let lost: BTreeSet<i64> = queued.difference(&have).copied().collect();
    eprintln!(
        "broker SIGKILL with the consumer offline: {} of the {} messages queued for it lost",
        lost.len(),
        queued.len()
    );
    assert!(
        !lost.is_empty(),
        "Mosquitto kept messages acknowledged before a SIGKILL: docs/guide/uplink.md says otherwise"
    );
    assert_eq!(up.stop().code(), Some(0));
}

#[test]
fn uplink_killed_at_random_moments_loses_nothing() {
    let kills: u64 = std::env::var("PICKET_UPLINK_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let mut random = delays();
    let rig = Rig::new("uplinkkill", &[EVENTS, AVAILABILITY]);
    let (db, consumer) = (&rig.db, &rig.consumer);
    let cfg = rig.config("inflight = 8\n");
    let producer = Producer::start(db, 10, Duration::from_millis(50));
    for round in 0..kills {
        let up = Uplink::start(&cfg);
        assert!(up.wait_for("connected to", secs(10)), "round {round}");
        std::thread::sleep(Duration::from_millis(100 + random(1200)));
        up.kill();
        // The broker publishes the last will when the connection drops.
        assert!(
            consumer.wait(secs(5), |g| g.availability.last().map(String::as_str)
                == Some("offline")),
            "round {round}: no last will"
        );
    }
    let up = Uplink::start(&cfg);
    std::thread::sleep(Duration::from_millis(500));
    producer.finish();
    let journal = journal_ids(db);
    let missing = consumer.wait_for_ids(&journal, secs(20));
    assert!(missing.is_empty(), "never arrived: {missing:?}");
    assert_all_arrived(&format!("{kills} uplink kills"), &journal, &consumer.got());
    assert_eq!(up.stop().code(), Some(0));
    assert_eq!(
        consumer.got().availability.last().map(String::as_str),
        Some("offline")
    );
}

#[test]
fn a_broker_down_longer_than_the_in_flight_window_loses_nothing() {
    let mut rig = Rig::new("longdown", &[EVENTS]);
    let db = rig.db.clone();
    append(&db, 20);
    let up = rig.uplink("inflight = 4\n");
    let consumer = &rig.consumer;
    assert!(consumer
        .wait_for_ids(&journal_ids(&db), secs(10))
        .is_empty());
    rig.broker.stop();
    // Fifty windows' worth while the broker is away.
    append(&db, 200);
    std::thread::sleep(secs(2));
    assert_eq!(rig.cursor(), 20, "nothing unacknowledged moves the cursor");
    rig.broker.restart();
    let journal = journal_ids(&db);
    assert_eq!(journal.len(), 220);
    let missing = consumer.wait_for_ids(&journal, secs(20));
    assert!(missing.is_empty(), "never arrived: {missing:?}");
    assert_all_arrived("broker down past the window", &journal, &consumer.got());
    assert_eq!(up.stop().code(), Some(0));
    assert_eq!(rig.cursor(), 220);
}

/// `(from, to)` of an `uplink_gap` event, from its `detail`.
fn gap_range(ev: &serde_json::Value) -> (i64, i64) {
    let d = &ev["detail"];
    let (from, to) = (d["from"].as_i64(), d["to"].as_i64());
    (
        from.unwrap(),
        to.unwrap_or_else(|| panic!("an uplink_gap without a range: {ev}")),
    )
}

#[test]
fn the_ring_buffer_forced_past_its_cap_while_the_broker_is_down_publishes_uplink_gap() {
    let mut rig = Rig::new("gap", &[EVENTS]);
    let db = rig.db.clone();
    let state = rig.dir.path("cursor");
    let capped = [
        "--max-bytes",
        "1048576",
        "--uplink-state",
        state.to_str().unwrap(),
    ];
    let small: Vec<&str> = capped
        .iter()
        .copied()
        .chain(["--snapshot-every", "0"])
        .collect();
    append_with(&db, 20, &small);
    let up = rig.uplink("");
    let consumer = &rig.consumer;
    assert!(consumer
        .wait_for_ids(&journal_ids(&db), secs(10))
        .is_empty());
    assert!(
        consumer.wait(secs(10), |_| rig.cursor() == 20),
        "the cursor reached 20"
    );
    rig.broker.stop();
    // Some 8 MB of events and snapshots into a 1 MiB journal while nothing can be sent.
    let big: Vec<&str> = capped
        .iter()
        .copied()
        .chain(["--snapshot-every", "2", "--snapshot-bytes", "40000"])
        .collect();
    let produced = append_with(&db, 400, &big);
    assert_eq!(rig.cursor(), 20, "nothing was acknowledged meanwhile");
    let journal = journal_ids(&db);
    let newest = *journal.last().unwrap();
    assert!(
        newest > 420,
        "gap events took ids after the batches: {newest}"
    );
    assert!(
        *journal.first().unwrap() > 21,
        "the byte cap pruned events the uplink had not sent"
    );
    // `picket events list` shows the gaps that are still in the journal.
    let listed = picket(&[
        "events",
        "list",
        "--kind",
        "uplink_gap",
        "--json",
        "--limit",
        "100000",
        "--db",
        db.to_str().unwrap(),
    ]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&listed.stdout).unwrap();
    assert!(!listed.is_empty(), "no uplink_gap in the journal");
    assert!(listed.iter().all(|e| e["kind"] == "uplink_gap"));
    let in_journal: BTreeSet<i64> = listed.iter().filter_map(|e| e["id"].as_i64()).collect();
    assert!(in_journal.is_subset(&journal));

    rig.broker.restart();
    let missing = consumer.wait_for_ids(&journal, secs(40));
    assert!(missing.is_empty(), "never arrived: {missing:?}");
    let got = consumer.got();
    let gaps: Vec<(i64, i64)> = got
        .events
        .iter()
        .filter(|e| e["kind"] == "uplink_gap")
        .map(gap_range)
        .collect();
    assert!(!gaps.is_empty(), "no uplink_gap published");
    let first_gap = got
        .events
        .iter()
        .find(|e| e["kind"] == "uplink_gap")
        .unwrap();
    eprintln!("an uplink_gap as published: {first_gap}");
    assert_eq!(
        gaps.iter().map(|g| g.0).min(),
        Some(21),
        "the gaps start at the first id the broker never had"
    );
    let have: BTreeSet<i64> = got.ids().into_iter().collect();
    let lost: Vec<i64> = (1..=newest)
        .filter(|id| !have.contains(id) && !gaps.iter().any(|g| (g.0..=g.1).contains(id)))
        .collect();
    assert!(
        lost.is_empty(),
        "lost without an uplink_gap naming them: {lost:?}"
    );
    let covered: BTreeSet<i64> = gaps.iter().flat_map(|g| g.0..=g.1).collect();
    assert!(produced
        .iter()
        .all(|id| have.contains(id) || covered.contains(id)));
    eprintln!(
        "ring buffer past its cap: {} of {} ids pruned unsent, named by {} uplink_gap messages",
        covered.len(),
        newest,
        gaps.len()
    );
    assert_all_arrived("ring buffer past its cap", &journal, &got);
    assert_eq!(up.stop().code(), Some(0));
    assert_eq!(rig.cursor(), newest);
}

/// `picket status --config cfg`'s `uplink:` line, if it printed one.
fn status_uplink_line(cfg: &std::path::Path) -> Option<String> {
    let o = picket(&["status", "--config", cfg.to_str().unwrap()]);
    assert!(o.status.success(), "picket status: {}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.contains("\narmed: "), "{out}");
    out.lines()
        .find(|l| l.starts_with("uplink"))
        .map(str::to_owned)
}

#[test]
fn status_shows_the_backlog_the_uplink_leaves() {
    let rig = Rig::new("backlog", &[EVENTS]);
    let arming = rig.dir.path("arming.toml");
    // `[arming]` after the `[uplink]` keys: the config's last section.
    let cfg = rig.config(&format!(
        "\n[arming]\nstate_file = \"{}\"\n",
        arming.display()
    ));
    append(&rig.db, 30);
    let line = status_uplink_line(&cfg).expect("an uplink line");
    assert!(
        line.starts_with("uplink: never ran (no state file ") && line.contains("cursor"),
        "{line}"
    );
    let up = Uplink::start(&cfg);
    let missing = rig.consumer.wait_for_ids(&journal_ids(&rig.db), secs(10));
    assert!(missing.is_empty(), "never arrived: {missing:?}");
    assert_eq!(up.stop().code(), Some(0));
    let line = status_uplink_line(&cfg).unwrap();
    assert!(
        line.starts_with(
            "uplink: backlog 0 (acknowledged through id 30, newest 30; cursor written 20"
        ),
        "{line}"
    );
    // Events the uplink has not seen, with it stopped: each one is backlog.
    append(&rig.db, 12);
    let line = status_uplink_line(&cfg).unwrap();
    assert!(
        line.starts_with("uplink: backlog 12 (acknowledged through id 30, newest 42;"),
        "{line}"
    );
    // The journal gone: said on the line, and the rest of the status still printed.
    std::fs::rename(&rig.db, rig.dir.path("moved.db")).unwrap();
    let line = status_uplink_line(&cfg).unwrap();
    assert!(
        line.starts_with("uplink: backlog unknown: journal ") && line.contains("events.db"),
        "{line}"
    );
    // No `[uplink]`: no uplink line at all.
    let bare = rig.dir.path("bare.toml");
    std::fs::write(
        &bare,
        format!(
            "[journal]\npath = \"{}\"\n[arming]\nstate_file = \"{}\"\n",
            rig.db.display(),
            arming.display()
        ),
    )
    .unwrap();
    assert_eq!(status_uplink_line(&bare), None);
}

#[test]
fn picket_run_s_metrics_textfile_carries_the_uplink_backlog() {
    let dir = Scratch::new("backlog-metrics");
    let db = dir.path("events.db");
    let prom = dir.path("picket.prom");
    let state = dir.path("cursor");
    // A cursor that fits any journal, before its first event: every id is backlog.
    std::fs::write(&state, "version = 1\nacked_through = 0\nupdated_ms = 0\n").unwrap();
    let metrics = format!("textfile = \"{}\"\n", prom.display());
    let cfg = demo_config(&dir, &db, &metrics, "url = \"mqtt://127.0.0.1:1\"\n");
    run_clip(&dir, &cfg);
    let text = std::fs::read_to_string(&prom).unwrap();
    let backlog: i64 = text
        .lines()
        .find_map(|l| l.strip_prefix("picket_uplink_backlog "))
        .unwrap_or_else(|| panic!("no picket_uplink_backlog in\n{text}"))
        .parse()
        .unwrap();
    // Read at the last snapshot, before the last commits (`stopped`) reached the journal.
    let newest = *journal_ids(&db).last().unwrap();
    assert!(
        (1..=newest).contains(&backlog),
        "{backlog} of {newest}\n{text}"
    );
    assert!(
        text.contains("# TYPE picket_uplink_backlog gauge\n"),
        "{text}"
    );
    // Without `[uplink]`, no backlog line.
    let cfg = demo_config(&dir, &dir.path("events2.db"), &metrics, "");
    run_clip(&dir, &cfg);
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(text.contains("picket_frames_total 24\n"), "{text}");
    assert!(!text.contains("picket_uplink_backlog"), "{text}");
}

/// A TLS broker with the test CA and a password file, requiring a client certificate signed
/// by the test CA when `client_certs`.
fn tls_broker(dir: &Scratch, client_certs: bool) -> (Broker, Pki) {
    let pki = Pki::make(&dir.0);
    let passwd = mosquitto_passwd(&dir.0, "porch", "s3cret word");
    let extra = format!(
        "cafile {}\ncertfile {}\nkeyfile {}\npassword_file {}\nrequire_certificate {client_certs}\n",
        pki.ca.display(),
        pki.server_cert.display(),
        pki.server_key.display(),
        passwd.display()
    );
    (Broker::start(&dir.0, &extra), pki)
}

fn tls_uplink(port: u16, ca: &std::path::Path, password_file: &std::path::Path) -> String {
    format!(
        "url = \"mqtts://127.0.0.1:{port}\"\nbox_id = \"porch\"\nusername = \"porch\"\n\
         password_file = \"{}\"\nca_file = \"{}\"\n",
        password_file.display(),
        ca.display()
    )
}

#[test]
fn tls_with_a_test_ca_a_client_certificate_and_a_password_delivers() {
    let dir = Scratch::new("tls");
    let (broker, pki) = tls_broker(&dir, true);
    let pw = dir.path("uplink.password");
    write_with_mode(&pw, "s3cret word\n", 0o600);
    let db = dir.path("events.db");
    append(&db, 30);
    let tls = tls_uplink(broker.port, &pki.ca, &pw);

    // Without its certificate the broker ends the handshake, and the uplink says why.
    let up = Uplink::start(&config(&dir.0, &db, &tls));
    assert!(up.wait_for("cannot connect", secs(10)));
    assert_eq!(up.errors().len(), 1);
    assert!(
        up.errors()[0].contains("it may require a client certificate"),
        "{:?}",
        up.errors()
    );
    assert_eq!(up.stop().code(), Some(0));

    let with_cert = format!(
        "{tls}client_cert = \"{}\"\nclient_key = \"{}\"\n",
        pki.client_cert.display(),
        pki.client_key.display()
    );
    let up = Uplink::start(&config(&dir.0, &db, &with_cert));
    assert!(up.wait_for("connected to mqtts://127.0.0.1", secs(10)));
    let deadline = std::time::Instant::now() + secs(10);
    while broker.count("Received PUBLISH from picket-porch (d0, q1, r0") < 30 {
        assert!(std::time::Instant::now() < deadline, "{}", broker.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(up.stop().code(), Some(0));
    // The cursor moves only over acknowledged events.
    assert_eq!(acked_through(&dir.path("cursor")), 30);
    assert!(broker.count("u'porch'") >= 1, "logged in as porch");
    assert_eq!(broker.count("s3cret"), 0);
}

/// Runs the uplink for about 10 s against `broker` with `uplink` and checks it logged `error`
/// exactly once, kept running, and retried with backoff: 0, 0.5, 1.5, 3.5 and 7.5 s.
fn fails_clearly_and_retries(broker: &Broker, cfg: &std::path::Path, error: &str) {
    let before = broker.connections();
    let started = std::time::Instant::now();
    let mut up = Uplink::start(cfg);
    // Retries go on (a fourth attempt comes), and they back off: starting at 0.5 s and
    // doubling, the fourth attempt cannot come before 0.5 + 1 + 2 = 3.5 s. A slow host only
    // makes it later, so the bound holds however loaded the machine is.
    let attempts = || broker.connections() - before;
    while attempts() < 4 && started.elapsed() < secs(60) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let (n, took) = (attempts(), started.elapsed());
    eprintln!("{n} connection attempts in {took:.1?}: {error}");
    assert!(n >= 4, "only {n} attempts in {took:?}");
    assert!(took >= secs(3), "4 attempts in {took:?}: no backoff");
    assert!(up.running(), "still running after {took:?} of failures");
    let errors = up.errors();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].contains(error), "{}", errors[0]);
    assert!(
        !errors[0].contains("wrong secret"),
        "no password in the log"
    );
    assert_eq!(up.stop().code(), Some(0));
}

/// A TLS broker, and an uplink trusting the other CA or logging in with a wrong password.
fn with_a_wrong(tag: &str, wrong_ca: bool, error: &str) {
    let dir = Scratch::new(tag);
    let (broker, pki) = tls_broker(&dir, false);
    let pw = dir.path("uplink.password");
    let (ca, secret) = if wrong_ca {
        (&pki.other_ca, "s3cret word\n")
    } else {
        (&pki.ca, "wrong secret\n")
    };
    write_with_mode(&pw, secret, 0o600);
    let db = dir.path("events.db");
    append(&db, 3);
    let cfg = config(&dir.0, &db, &tls_uplink(broker.port, ca, &pw));
    fails_clearly_and_retries(&broker, &cfg, error);
}

#[test]
fn a_wrong_ca_is_one_clear_error_and_capped_retries() {
    with_a_wrong(
        "tls-ca",
        true,
        "the broker's certificate is not signed by a CA in `ca_file`",
    );
}

#[test]
fn a_wrong_password_is_one_clear_error_and_capped_retries() {
    with_a_wrong("tls-pw", false, "the broker refused the login");
}

#[test]
fn an_unreachable_broker_is_retried_not_fatal() {
    let dir = Scratch::new("unreachable");
    let db = dir.path("events.db");
    append(&db, 3);
    let mut up = Uplink::start(&config(&dir.0, &db, &plain(free_port(), "")));
    assert!(up.wait_for("cannot connect", secs(10)));
    assert!(up.wait_for("attempt 3 failed", secs(30)), "still retrying");
    assert!(up.running());
    let errors = up.errors();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].contains("connection refused: nothing listens at that address and port"));
    assert_eq!(up.count("attempt 3 failed"), 1);
    assert_eq!(up.stop().code(), Some(0));
}

/// `picket uplink` on a config for the journal `db` whose `[uplink]` says `uplink`: it exits
/// with status 1 and a message containing `want`.
fn refused(dir: &Scratch, db: &std::path::Path, uplink: &str, want: &str) {
    let cfg = config(&dir.0, db, uplink);
    let o = picket(&["uplink", "-c", cfg.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(want), "want `{want}` in:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bad_input_is_refused_with_a_message_naming_it() {
    let dir = Scratch::new("bad");
    let db = dir.path("events.db");
    append(&db, 1);
    refused(
        &dir,
        &db,
        "url = \"mqtt//127.0.0.1:1883\"\n",
        "picket.toml:6:7: uplink.url: `mqtt//127.0.0.1:1883` is not an MQTT URL",
    );
    refused(
        &dir,
        &db,
        "url = \"mqtt://127.0.0.1:99999\"\n",
        "port `99999`",
    );
    let remote = "url = \"mqtt://192.0.2.7:1883\"\nusername = \"u\"\npassword_file = \"/p\"\n";
    refused(
        &dir,
        &db,
        remote,
        "uplink.password_file: the password would cross the network in clear text to 192.0.2.7",
    );
    let pw = dir.path("pw");
    let with_pw = format!(
        "url = \"mqtt://127.0.0.1:1883\"\nusername = \"u\"\npassword_file = \"{}\"\n",
        pw.display()
    );
    refused(
        &dir,
        &db,
        &with_pw,
        &format!("[uplink] password_file {}: No such file", pw.display()),
    );
    write_with_mode(&pw, "secret\n", 0o644);
    refused(
        &dir,
        &db,
        &with_pw,
        "mode 0644: anyone on this machine can read or change it",
    );
    let ca = dir.path("ca.pem");
    std::fs::write(&ca, "garbage\n").unwrap();
    refused(
        &dir,
        &db,
        &format!(
            "url = \"mqtts://127.0.0.1:8883\"\nca_file = \"{}\"\n",
            ca.display()
        ),
        "no PEM certificate",
    );

    let o = picket(&["uplink", "-c", "/nonexistent/picket.toml"]);
    let (status, err) = (o.status, stderr(&o));
    assert_eq!(status.code(), Some(1));
    assert!(err.contains("/nonexistent/picket.toml"), "{err}");

    let cfg = dir.path("no-uplink.toml");
    std::fs::write(&cfg, "[journal]\npath = \"/tmp/x.db\"\n").unwrap();
    let o = picket(&["uplink", "-c", cfg.to_str().unwrap()]);
    let (status, err) = (o.status, stderr(&o));
    assert_eq!(status.code(), Some(1));
    assert!(err.contains("no [uplink] section"), "{err}");

    // `picket check` reports the same section with its line and column.
    let cfg = config(
        &dir.0,
        &dir.path("events.db"),
        "url = \"mqtt://h\"\ninflight = 0\n",
    );
    let o = picket(&["check", "-c", cfg.to_str().unwrap()]);
    let (status, err) = (o.status, stderr(&o));
    assert_eq!(status.code(), Some(1));
    assert!(err.contains("picket.toml:7:12: uplink.inflight"), "{err}");
}

#[test]
fn a_journal_that_is_not_picket_s_is_refused_and_a_missing_one_awaited() {
    let dir = Scratch::new("journal");
    let port = free_port();
    let notes = dir.path("notes.db");
    std::fs::write(&notes, "shopping list\n".repeat(100)).unwrap();
    refused(
        &dir,
        &notes,
        &plain(port, ""),
        "notes.db: not a usable picket journal",
    );
    assert_eq!(
        std::fs::read_to_string(&notes).unwrap().len(),
        1400,
        "left untouched"
    );

    let other = dir.path("other.db");
    let c = rusqlite::Connection::open(&other).unwrap();
    c.execute_batch("CREATE TABLE t (x);").unwrap();
    drop(c);
    refused(
        &dir,
        &other,
        &plain(port, ""),
        "a SQLite database of another program",
    );

    let broker = Broker::start(&dir.0, "");
    let consumer = Consumer::start(broker.port, "j-consumer", &[EVENTS]);
    let db = dir.path("later.db");
    let mut up = Uplink::start(&config(&dir.0, &db, &plain(broker.port, "")));
    assert!(up.wait_for("waiting for picket run", secs(10)));
    std::thread::sleep(secs(1));
    assert!(up.running());
    let ids: BTreeSet<i64> = append(&db, 12).into_iter().collect();
    assert!(consumer.wait_for_ids(&ids, secs(10)).is_empty());
    assert_eq!(up.count("waiting for picket run"), 1);
    assert_eq!(up.stop().code(), Some(0));
}

#[test]
fn discovery_is_retained_and_sent_again_when_home_assistant_comes_online() {
    let dir = Scratch::new("ha");
    let broker = Broker::start(&dir.0, "");
    let db = dir.path("events.db");
    append(&db, 2);
    let cfg = config(
        &dir.0,
        &db,
        &plain(broker.port, "homeassistant = true\nsnapshots = true\n"),
    );
    let up = Uplink::start(&cfg);
    assert!(up.wait_for("connected to", secs(10)));
    // A consumer that comes later still gets the configs: they are retained.
    std::thread::sleep(Duration::from_millis(500));
    let ha = Consumer::start(broker.port, "ha", &["homeassistant/#"]);
    let configs = |g: &Got| {
        g.other
            .iter()
            .filter(|(t, _)| t.ends_with("/config"))
            .map(|(_, v)| v.len())
            .sum::<usize>()
    };
    // People, camera, the snapshot image, and the removal of the alarm panel (empty).
    assert!(
        ha.wait(secs(5), |g| configs(g) == 3),
        "{:?}",
        ha.got().other.keys()
    );
    let got = ha.got();
    assert!(got.other.values().flatten().all(|(_, retained)| *retained));
    let people = &got.other["homeassistant/sensor/porch/people/config"][0].0;
    let people: serde_json::Value = serde_json::from_slice(people).unwrap();
    assert_eq!(people["state_topic"], "picket/porch/state");
    assert_eq!(people["availability_topic"], "picket/porch/availability");

    checked(
        std::process::Command::new("mosquitto_pub").args([
            "-p",
            &broker.port.to_string(),
            "-t",
            "homeassistant/status",
            "-m",
            "online",
        ]),
        "mosquitto_pub",
    );
    // All four again, the removal included, now that the consumer is listening.
    assert!(
        ha.wait(secs(5), |g| configs(g) == 7),
        "sent again: {}",
        configs(&ha.got())
    );
    assert_eq!(up.count("Home Assistant is online"), 1);
    assert_eq!(up.stop().code(), Some(0));
}

/// A state as `picket run` writes it, with `people` people in view.
fn state_json(people: u32) -> String {
    format!(
        "{{\"v\":1,\"ts\":\"2026-12-05T00:30:00.000Z\",\"armed\":true,\"mode\":\"auto\",\
         \"outputs_on\":[],\"people\":{people},\"zones\":{{\"walkway\":{people}}},\"firing\":[],\
         \"fps\":10.0,\"camera_ok\":true,\"last_id\":3}}"
    )
}

/// The payloads received on `picket/porch/state`, with their retain flags.
fn states(g: &Got) -> Vec<(String, bool)> {
    g.other
        .get("picket/porch/state")
        .map(|m| {
            m.iter()
                .map(|(p, r)| (String::from_utf8_lossy(p).into_owned(), *r))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_state_is_retained_sent_on_change_and_again_at_the_heartbeat() {
    let rig = Rig::new("state", &[STATE]);
    append(&rig.db, 3);
    let file = rig.dir.path("state.json");
    std::fs::write(&file, state_json(1)).unwrap();
    let up = rig.uplink(&format!(
        "heartbeat_s = 5\nstate_json = \"{}\"\n",
        file.display()
    ));
    let got = |n: usize| rig.consumer.wait(secs(10), |g| states(g).len() >= n);
    assert!(got(1), "the state at connect");
    assert_eq!(states(&rig.consumer.got())[0].0, state_json(1));

    // A change goes out at the next look, well before the heartbeat.
    let changed = std::time::Instant::now();
    std::fs::write(&file, state_json(2)).unwrap();
    assert!(got(2));
    let on_change = changed.elapsed();
    assert_eq!(states(&rig.consumer.got())[1].0, state_json(2));

    // Unchanged, it is sent again at the heartbeat, and only then.
    assert!(got(3), "the heartbeat");
    let heartbeat = changed.elapsed();
    assert_eq!(states(&rig.consumer.got())[2].0, state_json(2));
    assert!(
        heartbeat >= secs(4),
        "{heartbeat:?}: sent again before the heartbeat"
    );
    eprintln!("state: a change published after {on_change:?}, the heartbeat after {heartbeat:?}");

    // A file that is not a state is said once and not published; the last good one is kept.
    std::fs::write(&file, "{\"v\":1,\"armed\":\"maybe\"}").unwrap();
    assert!(up.wait_for("is not picket run's state", secs(5)));
    assert!(got(4), "the heartbeat, with the last good state");
    let all = states(&rig.consumer.got());
    assert!(
        all.iter().all(|(p, _)| p.starts_with("{\"v\":1,\"ts\"")),
        "{all:?}"
    );
    assert_eq!(up.count("is not picket run's state"), 1, "said once");

    // Retained: a consumer that comes later gets the last one at once.
    let late = Consumer::start(rig.broker.port, "state-late", &[STATE]);
    assert!(late.wait(secs(5), |g| !states(g).is_empty()));
    assert_eq!(states(&late.got())[0], (state_json(2), true));
    assert_eq!(up.stop().code(), Some(0));
}

/// `mosquitto_pub` to the TLS broker as `porch`: `payload` on the box's command topic.
fn send_command(broker: &Broker, ca: &std::path::Path, payload: &str) {
    checked(
        std::process::Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &broker.port.to_string()])
            .arg("--cafile")
            .arg(ca)
            .args(["-u", "porch", "-P", "s3cret word", "-q", "1"])
            .args(["-t", "picket/porch/command", "-m", payload]),
        "mosquitto_pub",
    );
}

#[test]
fn a_command_with_the_right_code_disarms_through_picket_run_and_a_wrong_one_does_nothing() {
    let dir = Scratch::new("command");
    let (broker, pki) = tls_broker(&dir, false);
    let pw = dir.path("uplink.password");
    write_with_mode(&pw, "s3cret word\n", 0o600);
    let code = dir.path("uplink.code");
    write_with_mode(&code, "4711\n", 0o600);
    let db = dir.path("events.db");
    append(&db, 3);
    let uplink = format!(
        "{}commands = true\ncode_file = \"{}\"\nheartbeat_s = 3600\n",
        tls_uplink(broker.port, &pki.ca, &pw),
        code.display()
    );
    let cfg = demo_config(&dir, &db, "", &uplink);
    let request = dir.path("cursor.request");
    let up = Uplink::start(&cfg);
    assert!(up.wait_for("connected to mqtts://127.0.0.1", secs(10)));
    let deadline = std::time::Instant::now() + secs(10);
    while broker.count("Received SUBSCRIBE from picket-porch") == 0
        || acked_through(&dir.path("cursor")) < 3
    {
        assert!(std::time::Instant::now() < deadline, "{}", broker.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    let published = || broker.count("Received PUBLISH from picket-porch");
    let before = published();

    // A wrong code, an unknown action, a message that is not a command: each said, nothing
    // written, nothing published.
    for (payload, said) in [
        (r#"{"action":"DISARM","code":"0000"}"#, "wrong code"),
        (r#"{"action":"DISARM"}"#, "wrong code"),
        (
            r#"{"action":"SELF_DESTRUCT","code":"4711"}"#,
            "unknown action `SELF_DESTRUCT`",
        ),
        ("DISARM", "not a JSON object"),
    ] {
        send_command(&broker, &pki.ca, payload);
        assert!(up.wait_for(said, secs(5)), "{payload}");
        assert!(!request.exists(), "{payload}");
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(published(), before, "a refused command publishes nothing");
    assert_eq!(up.count("4711"), 0, "the code is never logged");

    // The right code: a request for picket run, which applies it as `picket disarm` would.
    send_command(&broker, &pki.ca, r#"{"action":"DISARM","code":"4711"}"#);
    assert!(up.wait_for("DISARM requested over MQTT", secs(5)));
    let text = std::fs::read_to_string(&request).unwrap();
    assert!(
        text.contains("request = \"disarm\"\nsource = \"mqtt\""),
        "{text}"
    );
    let run = run_clip(&dir, &cfg);
    assert!(!request.exists(), "applied and removed");
    let log = stderr(&run);
    assert!(log.contains("arming request from mqtt: disarmed"), "{log}");
    let events = crate::util::journal::events(&db);
    let disarmed: Vec<_> = events.iter().filter(|e| e["kind"] == "disarmed").collect();
    assert_eq!(disarmed.len(), 1, "{events:?}");
    assert_eq!(
        disarmed[0]["detail"],
        serde_json::json!({"by": "manual", "mode": "disarmed", "source": "mqtt"})
    );
    assert!(events.iter().all(|e| e["kind"] != "armed"), "{events:?}");
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path("state.json")).unwrap()).unwrap();
    assert_eq!(
        (&state["armed"], &state["mode"]),
        (&false.into(), &"disarmed".into())
    );

    // And the uplink delivers the journal's `disarmed`, as every event.
    let last = *journal_ids(&db).last().unwrap();
    let deadline = std::time::Instant::now() + secs(10);
    while acked_through(&dir.path("cursor")) < last {
        assert!(
            std::time::Instant::now() < deadline,
            "the broker never acknowledged {last}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(up.stop().code(), Some(0));
    eprintln!("command: {}", disarmed[0]);
}

/// The clip's journal sent twice, each time to MQTT (events and the Home Assistant snapshot
/// topic), a webhook and ntfy: by default (`snapshots = true` for MQTT, no key for the push
/// sinks) every snapshot arrives drawn, the event's person boxed in the firing colour where
/// its `bbox` says; with `snapshots = "raw"` each arrives byte for byte as the journal stores it.
#[test]
fn snapshots_arrive_drawn_by_default_and_raw_when_asked() {
    use crate::util::drawn::{bbox, is_firing, left_edge_of};
    use crate::util::push::{self, Server};
    use base64::Engine;
    let dir = Scratch::new("drawn");
    let db = dir.path("events.db");
    run_clip(&dir, &demo_config(&dir, &db, "", ""));
    let stored = push::stored(&db);
    let listed = crate::util::journal::events(&db);
    // The person rule events with a snapshot: where their box must be, or must not be.
    let boxed: BTreeMap<i64, picket_geom::NormRect> = listed
        .iter()
        .filter(|e| {
            ["intrusion", "loiter", "line_cross", "wander"].contains(&e["kind"].as_str().unwrap())
        })
        .filter(|e| e["track_id"].is_u64())
        .filter_map(|e| Some((e["id"].as_i64()?, bbox(e)?)))
        .filter(|(id, _)| stored[id].jpeg.is_some())
        .collect();
    assert!(
        boxed.len() >= 2,
        "the clip gives person events with snapshots: {boxed:?}"
    );
    let broker = Broker::start(&dir.0, "");
    let server = Server::start(&dir.0);
    for (mode, mqtt_key, push_key) in [
        ("drawn", "snapshots = true", ""),
        ("raw", "snapshots = \"raw\"", "snapshots = \"raw\"\n"),
    ] {
        let d = Scratch(dir.path(mode));
        std::fs::create_dir_all(&d.0).unwrap();
        let topics = [format!("{mode}/+/events"), format!("{mode}/+/snapshot")];
        let consumer = Consumer::start(
            broker.port,
            &format!("{mode}-consumer"),
            &topics.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let uplink = format!(
            "url = \"mqtt://127.0.0.1:{}\"\ntopic_prefix = \"{mode}\"\n{mqtt_key}\n",
            broker.port
        );
        let sinks = format!(
            "[[push]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{}\"\nmax_per_minute = 600\n\
             {push_key}\n[[push]]\nname = \"phone\"\nkind = \"ntfy\"\nurl = \"{}\"\n\
             max_per_minute = 600\n{push_key}",
            server.url(&format!("/{mode}/hook")),
            server.url(&format!("/{mode}/phone")),
        );
        let up = Uplink::start(&push::config(&d.0, &db, &uplink, &sinks));
        let journal = journal_ids(&db);
        let missing = consumer.wait_for_ids(&journal, secs(30));
        assert!(missing.is_empty(), "{mode}: never arrived: {missing:?}");
        let (hook, phone) = (format!("/{mode}/hook"), format!("/{mode}/phone"));
        // The ids the push sinks delivered: the webhook's in its body, ntfy's in its file name.
        let delivered = |path: &str| -> BTreeSet<i64> {
            let named = |r: &push::Request| match r.header("filename") {
                Some(f) => f
                    .strip_prefix("picket-porch-")
                    .and_then(|n| n.strip_suffix(".jpg"))
                    .and_then(|n| n.parse().ok()),
                // ntfy without a picture: its text body, no id to read.
                None => serde_json::from_slice::<serde_json::Value>(&r.body)
                    .ok()
                    .and_then(|v| v["id"].as_i64()),
            };
            server.delivered(path).iter().filter_map(named).collect()
        };
        let deadline = std::time::Instant::now() + secs(30);
        while !boxed
            .keys()
            .all(|id| delivered(&hook).contains(id) && delivered(&phone).contains(id))
        {
            assert!(
                std::time::Instant::now() < deadline,
                "{mode}: the push sinks lag: {:?} {:?}",
                delivered(&hook),
                delivered(&phone)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(up.stop().success());

        // What each way carried of every boxed event: MQTT's, the webhook's, ntfy's JPEG.
        let b64 = |v: &serde_json::Value| {
            base64::engine::general_purpose::STANDARD
                .decode(v["snapshot"].as_str().expect("a snapshot"))
                .unwrap()
        };
        let mut sent: Vec<(String, i64, Vec<u8>)> = Vec::new();
        for e in &consumer.got().events {
            let id = e["id"].as_i64().unwrap();
            if boxed.contains_key(&id) {
                sent.push(("mqtt".into(), id, b64(e)));
            }
        }
        for r in server.delivered(&hook) {
            let v = r.json();
            match v["id"].as_i64() {
                Some(id) if boxed.contains_key(&id) => sent.push(("webhook".into(), id, b64(&v))),
                _ => {}
            }
        }
        for r in server.delivered(&phone) {
            let name = r.header("filename").unwrap_or("");
            let id = name
                .strip_prefix("picket-porch-")
                .and_then(|n| n.strip_suffix(".jpg"))
                .and_then(|n| n.parse().ok());
            match id {
                Some(id) if boxed.contains_key(&id) => sent.push(("ntfy".into(), id, r.body)),
                _ => {}
            }
        }
        for way in ["mqtt", "webhook", "ntfy"] {
            let ids: BTreeSet<i64> = sent.iter().filter(|s| s.0 == way).map(|s| s.1).collect();
            assert_eq!(ids, boxed.keys().copied().collect(), "{mode}: {way}");
        }
        // The Home Assistant image entity's topic: each rule event's picture, as on `…/events`.
        let ha = &consumer.got().other[&format!("{mode}/porch/snapshot")];
        let mqtt: BTreeMap<Vec<u8>, i64> = sent
            .iter()
            .filter(|s| s.0 == "mqtt")
            .map(|s| (s.2.clone(), s.1))
            .collect();
        let mut on_ha = 0;
        for (jpeg, _) in ha {
            if let Some(&id) = mqtt.get(jpeg) {
                sent.push(("homeassistant".into(), id, jpeg.clone()));
                on_ha += 1;
            }
        }
        assert!(
            on_ha > 0,
            "{mode}: no boxed event's picture on the snapshot topic"
        );

        for (way, id, jpeg) in &sent {
            let as_stored = stored[id].jpeg.as_ref().unwrap();
            let px = left_edge_of(jpeg, boxed[id]);
            if mode == "drawn" {
                assert_ne!(jpeg, as_stored, "{way}: event {id} sent as stored");
                let marks = picket_image::snapshot::attached(as_stored).map(|o| o.map(|o| o.marks));
                assert!(
                    is_firing(px),
                    "{way}: event {id}: no firing box at its bbox {:?}: {px:?}; stored {marks:?}",
                    boxed[id]
                );
            } else {
                assert_eq!(jpeg, as_stored, "{way}: event {id} not as stored");
                assert!(!is_firing(px), "{way}: event {id}: raw, yet boxed: {px:?}");
            }
        }
        eprintln!(
            "{mode}: {} boxed events checked, {} pictures ({on_ha} on the snapshot topic)",
            boxed.len(),
            sent.len()
        );
    }
}
