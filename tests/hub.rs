//! `picket hub` against a real Mosquitto: two boxes' `picket uplink` processes → one hub
//! journal holding exactly the union of `(box, box_event)`, across a hub killed and restarted;
//! bad messages rejected, counted and logged once per box and reason, never written.

use crate::util::uplink::{
    acked_through, append, checked, journal_ids, mosquitto_passwd, Broker, Producer, Scratch,
    Uplink,
};
use rumqttc::{Client, MqttOptions, QoS};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

/// Every `(box, box_event)` in the hub journal, and how many rows the journal has.
fn origins(db: &Path) -> (BTreeSet<(String, i64)>, usize) {
    let mut c =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    // One read transaction: the hub may commit between the two queries.
    let c = c.transaction().unwrap();
    let mut q = c
        .prepare(
            "SELECT o.box, o.box_event FROM events e JOIN origins o ON o.event_id = e.id \
             WHERE o.box_event IS NOT NULL",
        )
        .unwrap();
    let rows: Vec<(String, i64)> = q
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let n = rows.len();
    let (events, with_origin): (i64, i64) = c
        .query_row(
            "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM origins)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(events, with_origin, "every hub event has its origin");
    (rows.into_iter().collect(), n)
}

/// Waits until the hub journal holds `want`; returns what it holds then.
fn wait_for(
    db: &Path,
    want: &BTreeSet<(String, i64)>,
    timeout: Duration,
) -> (BTreeSet<(String, i64)>, usize) {
    let deadline = Instant::now() + timeout;
    loop {
        let got = if db.exists() {
            origins(db)
        } else {
            Default::default()
        };
        if got.0.is_superset(want) || Instant::now() >= deadline {
            return got;
        }
        thread::sleep(Duration::from_millis(200));
    }
}

/// A box: its journal and its uplink's config, in `dir/<name>/`.
fn a_box(dir: &Scratch, name: &str, port: u16) -> (PathBuf, PathBuf) {
    a_box_with(dir, name, port, "")
}

/// [`a_box`] with `extra` keys in its `[uplink]`.
fn a_box_with(dir: &Scratch, name: &str, port: u16, extra: &str) -> (PathBuf, PathBuf) {
    let d = dir.path(name);
    std::fs::create_dir_all(&d).unwrap();
    let db = d.join("events.db");
    let cfg = d.join("picket.toml");
    std::fs::write(
        &cfg,
        format!(
            "[journal]\npath = \"{}\"\n\n[uplink]\nurl = \"mqtt://127.0.0.1:{port}\"\nbox_id = \"{name}\"\n\
             state_file = \"{}\"\nstate_json = \"{}\"\n{extra}",
            db.display(),
            d.join("cursor").display(),
            d.join("state.json").display()
        ),
    )
    .unwrap();
    (db, cfg)
}

fn hub_config(dir: &Scratch, port: u16) -> (PathBuf, PathBuf) {
    hub_config_with(dir, port, "")
}

fn hub_config_with(dir: &Scratch, port: u16, extra: &str) -> (PathBuf, PathBuf) {
    let db = dir.path("hub.db");
    let cfg = dir.path("hub.toml");
    std::fs::write(
        &cfg,
        format!(
            "[journal]\npath = \"{}\"\n\n[hub]\nurl = \"mqtt://127.0.0.1:{port}\"\n\
             client_id = \"picket-hub-test\"\n{extra}",
            db.display()
        ),
    )
    .unwrap();
    (db, cfg)
}

fn union(boxes: &[(&str, &Path)]) -> BTreeSet<(String, i64)> {
    boxes
        .iter()
        .flat_map(|(name, db)| journal_ids(db).into_iter().map(|id| (name.to_string(), id)))
        .collect()
}

#[test]
fn two_boxes_into_one_hub_exactly_once_across_a_hub_killed_and_restarted() {
    let dir = Scratch::new("hub-two-boxes");
    let broker = Broker::start(&dir.path(""), "max_inflight_messages 0\n");
    let (hub_db, hub_cfg) = hub_config(&dir, broker.port);
    let (porch, porch_cfg) = a_box(&dir, "porch", broker.port);
    let (shop, shop_cfg) = a_box(&dir, "shop", broker.port);
    append(&porch, 300);
    append(&shop, 200);
    let hub = Uplink::hub(&hub_cfg);
    assert!(hub.wait_for("connected to", Duration::from_secs(10)));
    let _porch_up = Uplink::start(&porch_cfg);
    let _shop_up = Uplink::start(&shop_cfg);
    // Events keep coming while the hub is killed: the broker queues them for its session.
    let producers = [
        Producer::start(&porch, 10, Duration::from_millis(50)),
        Producer::start(&shop, 7, Duration::from_millis(50)),
    ];
    thread::sleep(Duration::from_millis(1500));
    hub.kill();
    thread::sleep(Duration::from_millis(1500));
    let hub = Uplink::hub(&hub_cfg);
    thread::sleep(Duration::from_millis(1500));
    for p in producers {
        p.finish();
    }
    let want = union(&[("porch", &porch), ("shop", &shop)]);
    assert!(want.len() > 500, "{}", want.len());
    let (got, rows) = wait_for(&hub_db, &want, Duration::from_secs(30));
    assert_eq!(got, want, "the hub journal holds exactly the boxes' events");
    assert_eq!(rows, want.len(), "no duplicates");
    let status = hub.stop();
    assert_eq!(status.code(), Some(0));
    assert_eq!(origins(&hub_db).1, want.len());
    // `picket events --db hub.db` lists them with their box and id there.
    let db = hub_db.to_str().unwrap();
    let out = crate::util::picket(&[
        "events", "--db", db, "list", "--box", "shop", "--json", "--limit", "100000",
    ]);
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let listed: BTreeSet<(String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["box"].as_str().unwrap().to_owned(),
                r["box_event"].as_i64().unwrap(),
            )
        })
        .collect();
    let shop_ids = union(&[("shop", &shop)]);
    assert_eq!(listed, shop_ids);
    assert_eq!(rows.len(), shop_ids.len());
    let out = crate::util::picket(&["events", "--db", db, "boxes", "--json"]);
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    let boxes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let summary: Vec<(String, i64, String)> = boxes
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["box"].as_str().unwrap().into(),
                b["events"].as_i64().unwrap(),
                b["availability"].as_str().unwrap().into(),
            )
        })
        .collect();
    let count = |name: &str| want.iter().filter(|(b, _)| b == name).count() as i64;
    assert_eq!(
        summary,
        [
            ("porch".to_string(), count("porch"), "online".to_string()),
            ("shop".to_string(), count("shop"), "online".to_string())
        ]
    );
    // A box journal is not a hub journal.
    let out = crate::util::picket(&["events", "--db", porch.to_str().unwrap(), "boxes"]);
    assert!(!out.status.success());
    assert!(
        crate::util::stderr(&out).contains("not a hub journal"),
        "{}",
        crate::util::stderr(&out)
    );
}

#[test]
fn bad_messages_are_rejected_counted_and_logged_once_per_box_and_reason() {
    let dir = Scratch::new("hub-bad");
    let broker = Broker::start(&dir.path(""), "");
    let (hub_db, hub_cfg) = hub_config(&dir, broker.port);
    let hub = Uplink::hub(&hub_cfg);
    assert!(hub.wait_for("connected to", Duration::from_secs(10)));
    let mut o = MqttOptions::new("bad-box", "127.0.0.1", broker.port);
    o.set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut conn) = Client::new(o, 16);
    let good = |id: i64, box_id: &str, v: u32| {
        format!(
            r#"{{"v":{v},"box":"{box_id}","id":{id},"kind":"intrusion","ts":"2026-12-04T21:49:03.557Z","clock_synced":true,"place":"walkway","track":1,"score":0.5,"direction":null,"detail":{{"rule":"r"}},"snapshot":null}}"#
        )
    };
    let big = format!("{{\"v\":1,\"pad\":\"{}\"}}", "x".repeat(300 * 1024));
    let payloads = [
        b"{not json".to_vec(),
        b"{also not".to_vec(),
        good(1, "porch", 2).into_bytes(),
        good(2, "shop", 1).into_bytes(),
        big.into_bytes(),
        good(3, "porch", 1).into_bytes(),
        good(3, "porch", 1).into_bytes(),
    ];
    for p in payloads {
        client
            .publish("picket/porch/events", QoS::AtLeastOnce, false, p)
            .unwrap();
    }
    let sender = thread::spawn(move || {
        for ev in conn.iter().take(40) {
            if ev.is_err() {
                break;
            }
        }
    });
    let want: BTreeSet<_> = [("porch".to_string(), 3)].into_iter().collect();
    let (got, rows) = wait_for(&hub_db, &want, Duration::from_secs(10));
    assert_eq!(got, want);
    assert_eq!(rows, 1, "only the good message, once");
    thread::sleep(Duration::from_millis(500));
    let _ = client.disconnect();
    let _ = sender.join();
    assert_eq!(
        hub.count("rejected a message from box porch"),
        4,
        "{:?}",
        hub.lines()
    );
    assert_eq!(
        hub.count("(malformed)"),
        1,
        "logged once per box and reason"
    );
    let (status, log) = hub.stop_with_log();
    assert_eq!(status.code(), Some(0));
    let last = log
        .iter()
        .rev()
        .find(|l| l.contains("hub: stopped"))
        .expect("a summary");
    assert!(
        last.contains("1 events written, 1 duplicates dropped, 5 messages rejected"),
        "{last}"
    );
    assert_eq!(origins(&hub_db).1, 1);
}

#[test]
fn events_a_killed_broker_lost_after_acknowledging_them_are_replayed_from_the_box() {
    let dir = Scratch::new("hub-replay");
    let mut broker = Broker::start(&dir.path(""), "");
    let (hub_db, hub_cfg) = hub_config(&dir, broker.port);
    let (porch, porch_cfg) = a_box(&dir, "porch", broker.port);
    // The hub's session and subscriptions on disk, then the hub away.
    let hub = Uplink::hub(&hub_cfg);
    assert!(hub.wait_for("connected to", Duration::from_secs(10)));
    thread::sleep(Duration::from_millis(300));
    broker.save();
    assert_eq!(hub.stop().code(), Some(0));
    // The broker acknowledges 100 events to the box and holds them for the hub, in memory.
    append(&porch, 100);
    let up = Uplink::start(&porch_cfg);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !dir.path("porch/cursor").exists() || acked_through(&dir.path("porch/cursor")) < 100 {
        assert!(
            Instant::now() < deadline,
            "the uplink never had 100 acknowledged"
        );
        thread::sleep(Duration::from_millis(100));
    }
    broker.kill();
    broker.restart();
    let hub = Uplink::hub(&hub_cfg);
    assert!(up.wait_for("connected to", Duration::from_secs(20)));
    append(&porch, 20);
    let want = union(&[("porch", &porch)]);
    assert_eq!(want.len(), 120);
    let (got, rows) = wait_for(&hub_db, &want, Duration::from_secs(40));
    assert_eq!(got, want, "the lost events were asked for and replayed");
    assert_eq!(rows, 120, "exactly once");
    assert!(hub.count("lacks events 1 to 100") >= 1, "{:?}", hub.lines());
    assert!(up.count("asked for events 1 to 100") >= 1);
    assert_eq!(hub.stop().code(), Some(0));
    assert_eq!(up.stop().code(), Some(0));
}

/// The hub-raised events in the hub journal, oldest first: `(kind, box, why)`.
fn hub_events(db: &Path) -> Vec<(String, String, Option<String>)> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let mut q = c
        .prepare(
            "SELECT e.kind, o.box, json_extract(e.detail, '$.why') FROM events e \
             JOIN origins o ON o.event_id = e.id WHERE o.box_event IS NULL ORDER BY e.id",
        )
        .unwrap();
    q.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Waits until the hub journal holds `n` hub-raised events, at most `within` from `since`.
fn wait_events(
    db: &Path,
    n: usize,
    since: Instant,
    within: Duration,
) -> Vec<(String, String, Option<String>)> {
    loop {
        let got = hub_events(db);
        if got.len() >= n {
            return got;
        }
        assert!(
            since.elapsed() < within,
            "{n} hub events not within {within:?}: {got:?}"
        );
        thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_box_that_goes_silent_is_journalled_offline_within_silence_s_and_back_when_it_returns() {
    let dir = Scratch::new("hub-silence");
    let broker = Broker::start(&dir.path(""), "");
    let (hub_db, hub_cfg) = hub_config_with(&dir, broker.port, "silence_s = 10\n");
    // A long keep-alive: the broker's last will would come after 90 s, so only silence tells.
    let (porch, porch_cfg) = a_box_with(
        &dir,
        "porch",
        broker.port,
        "heartbeat_s = 5\nkeepalive_s = 60\n",
    );
    append(&porch, 3);
    std::fs::write(
        dir.path("porch/state.json"),
        r#"{"v":1,"ts":"2026-12-05T01:00:00.000Z","armed":false,"mode":"auto","outputs_on":[],"people":0,"zones":{},"firing":[],"fps":null,"camera_ok":true,"last_id":3}"#,
    )
    .unwrap();
    let hub = Uplink::hub(&hub_cfg);
    assert!(hub.wait_for("connected to", Duration::from_secs(10)));
    let up = Uplink::start(&porch_cfg);
    let want = union(&[("porch", &porch)]);
    assert_eq!(wait_for(&hub_db, &want, Duration::from_secs(10)).0, want);
    // Heartbeats every 5 s keep a quiet box online past silence_s.
    thread::sleep(Duration::from_secs(11));
    assert_eq!(
        hub_events(&hub_db),
        [],
        "no box_offline while the state beats"
    );
    // Frozen, its connection open: the broker sees nothing wrong for 90 s; the hub, silence.
    up.signal(libc::SIGSTOP);
    let frozen = Instant::now();
    let n = wait_events(&hub_db, 1, frozen, Duration::from_secs(15));
    assert_eq!(
        n[0],
        (
            "box_offline".to_string(),
            "porch".to_string(),
            Some("silent".to_string())
        )
    );
    up.signal(libc::SIGCONT);
    let n = wait_events(&hub_db, 2, Instant::now(), Duration::from_secs(10));
    assert_eq!(n[1].0, "box_back");
    // Killed: the broker publishes its last will at once.
    up.kill();
    let n = wait_events(&hub_db, 3, Instant::now(), Duration::from_secs(5));
    assert_eq!(
        n[2],
        (
            "box_offline".to_string(),
            "porch".to_string(),
            Some("offline".to_string())
        )
    );
    let up = Uplink::start(&porch_cfg);
    let n = wait_events(&hub_db, 4, Instant::now(), Duration::from_secs(10));
    assert_eq!(n[3].0, "box_back");
    assert_eq!(up.stop().code(), Some(0));
    let n = wait_events(&hub_db, 5, Instant::now(), Duration::from_secs(5));
    assert_eq!(
        n[4].2.as_deref(),
        Some("offline"),
        "a clean stop says offline"
    );
    assert_eq!(hub.stop().code(), Some(0));
    assert_eq!(hub_events(&hub_db).len(), 5);
    let db = hub_db.to_str().unwrap();
    let out = crate::util::picket(&["events", "--db", db, "list", "--kind", "box_back", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| r["box"] == "porch" && r["box_event"].is_null()),
        "{rows:?}"
    );
    let out = crate::util::picket(&["events", "--db", db, "boxes", "--json"]);
    let boxes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(boxes[0]["availability"], "offline");
    assert_eq!(boxes[0]["events"], 3);
}

#[test]
fn the_shipped_acl_keeps_a_box_to_its_own_topics_and_off_replay() {
    let dir = Scratch::new("hub-acl");
    let passwd = mosquitto_passwd(&dir.0, "porch", "porch pw");
    for (user, pw) in [("shop", "shop pw"), ("picket-hub", "hub pw")] {
        checked(
            std::process::Command::new("mosquitto_passwd")
                .arg("-b")
                .arg(&passwd)
                .args([user, pw]),
            "mosquitto_passwd",
        );
    }
    let acl = crate::util::root().join("board/hub/acl");
    let broker = Broker::start(
        &dir.path(""),
        &format!(
            "password_file {}\nacl_file {}\n",
            passwd.display(),
            acl.display()
        ),
    );
    let pw_file = |name: &str, pw: &str| {
        let p = dir.path(name);
        crate::util::uplink::write_with_mode(&p, pw, 0o600);
        p
    };
    let (hub_db, hub_cfg) = hub_config_with(
        &dir,
        broker.port,
        &format!(
            "username = \"picket-hub\"\npassword_file = \"{}\"\n",
            pw_file("hub.pw", "hub pw").display()
        ),
    );
    let hub = Uplink::hub(&hub_cfg);
    assert!(hub.wait_for("connected to", Duration::from_secs(10)));
    // A replay listener with the hub's rights (it may read picket/#).
    let mut lo = MqttOptions::new("listener", "127.0.0.1", broker.port);
    lo.set_credentials("picket-hub", "hub pw");
    let (listener, mut lconn) = Client::new(lo, 16);
    listener
        .subscribe("picket/+/replay", QoS::AtLeastOnce)
        .unwrap();
    let replays = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = replays.clone();
    thread::spawn(move || {
        for ev in lconn.iter() {
            match ev {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                    seen.lock().unwrap().push(p.topic.clone())
                }
                Err(_) => break,
                _ => {}
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while broker.count("Sending SUBACK to listener") == 0 {
        assert!(Instant::now() < deadline, "the listener never subscribed");
        thread::sleep(Duration::from_millis(20));
    }
    // Box porch, with its own credentials, tries shop's topic and replay topics, then its own.
    // (Mosquitto answers a denied QoS 1 publish with a PUBACK rumqttc cannot read, which ends
    // the connection: one connection per attempt.)
    let msg = |box_id: &str, id: i64| {
        format!(
            r#"{{"v":1,"box":"{box_id}","id":{id},"kind":"armed","ts":"2026-12-04T21:49:03.557Z","clock_synced":true,"place":null,"track":null,"score":null,"direction":null,"detail":{{}},"snapshot":null}}"#
        )
    };
    for (topic, payload) in [
        ("picket/shop/events", msg("shop", 1)),
        ("picket/shop/replay", r#"{"from":1,"to":5}"#.to_string()),
        ("picket/porch/replay", r#"{"from":1,"to":5}"#.to_string()),
        ("picket/porch/events", msg("porch", 1)),
    ] {
        let mut o = MqttOptions::new("porch-rogue", "127.0.0.1", broker.port);
        o.set_credentials("porch", "porch pw");
        let (client, mut conn) = Client::new(o, 16);
        client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .unwrap();
        for ev in conn.iter().take(10) {
            match ev {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_))) | Err(_) => break,
                _ => {}
            }
        }
        let _ = client.disconnect();
    }
    let want: BTreeSet<_> = [("porch".to_string(), 1)].into_iter().collect();
    let (got, rows) = wait_for(&hub_db, &want, Duration::from_secs(10));
    assert_eq!(
        got,
        want,
        "only porch's own event got through:\n{}",
        broker.log()
    );
    assert_eq!(rows, 1);
    thread::sleep(Duration::from_millis(500));
    assert_eq!(
        *replays.lock().unwrap(),
        Vec::<String>::new(),
        "no replay request from a box"
    );
    assert!(
        broker.count("Denied PUBLISH from porch-rogue") >= 3,
        "{}",
        broker.log()
    );
    let _ = listener.disconnect();
    assert_eq!(hub.stop().code(), Some(0));
}

#[test]
fn bridged_sites_lose_nothing_across_a_cut_link_a_killed_central_broker_and_a_killed_hub() {
    use crate::util::relay::Relay;
    let dir = Scratch::new("hub-bridge");
    for d in ["central", "site"] {
        std::fs::create_dir_all(dir.path(d)).unwrap();
    }
    let mut central = Broker::start(&dir.path("central"), "max_inflight_messages 1000\n");
    let mut relay = Relay::start(0, central.port);
    let site = Broker::start(
        &dir.path("site"),
        &format!(
            "connection central\naddress 127.0.0.1:{}\ncleansession false\n\
             remote_clientid bridge-site\nrestart_timeout 1 2\n\
             topic picket/+/events out 1\ntopic picket/+/availability out 1\n\
             topic picket/+/state out 1\ntopic picket/+/replay in 1\n",
            relay.port
        ),
    );
    let (hub_db, hub_cfg) = hub_config(&dir, central.port);
    let (porch, porch_cfg) = a_box(&dir, "porch", site.port);
    let hub = Uplink::hub(&hub_cfg);
    assert!(hub.wait_for("connected to", Duration::from_secs(10)));
    append(&porch, 100);
    let up = Uplink::start(&porch_cfg);
    let check = |what: &str, hub: &Uplink| {
        let want = union(&[("porch", &porch)]);
        let (got, rows) = wait_for(&hub_db, &want, Duration::from_secs(60));
        let missing: Vec<_> = want.difference(&got).collect();
        assert!(
            missing.is_empty(),
            "{what}: missing {} events: {missing:?}",
            missing.len()
        );
        assert_eq!(rows, want.len(), "{what}: duplicates in the hub journal");
        eprintln!(
            "{what}: {} events, exactly once; asks so far: {}",
            rows,
            hub.count("asked for them")
        );
    };
    check("first", &hub);

    // The link cut for longer than the uplink's window: the site queues.
    relay.stop();
    let producer = Producer::start(&porch, 10, Duration::from_millis(100));
    thread::sleep(Duration::from_secs(6));
    relay.restart();
    thread::sleep(Duration::from_secs(1));
    producer.finish();
    check("link cut", &hub);

    // The central broker SIGKILLed mid-stream and restarted.
    let producer = Producer::start(&porch, 10, Duration::from_millis(50));
    thread::sleep(Duration::from_millis(1500));
    central.kill();
    thread::sleep(Duration::from_millis(500));
    central.restart();
    thread::sleep(Duration::from_secs(2));
    producer.finish();
    append(&porch, 5); // after the holes: the hub sees them below the newest id
    check("central broker killed", &hub);

    // The hub SIGKILLed mid-stream and restarted.
    let producer = Producer::start(&porch, 10, Duration::from_millis(50));
    thread::sleep(Duration::from_millis(1000));
    hub.kill();
    thread::sleep(Duration::from_millis(1000));
    let hub = Uplink::hub(&hub_cfg);
    thread::sleep(Duration::from_millis(1000));
    producer.finish();
    check("hub killed", &hub);
    assert_eq!(hub.stop().code(), Some(0));
    assert_eq!(up.stop().code(), Some(0));
}

#[test]
fn a_box_going_offline_and_back_reaches_the_hub_s_push_sink() {
    let dir = Scratch::new("hub-push");
    let broker = Broker::start(&dir.path(""), "");
    std::fs::create_dir_all(dir.path("web")).unwrap();
    let server = crate::util::push::Server::start(&dir.path("web"));
    let sink = format!(
        "\n[[push]]\nname = \"phone\"\nkind = \"webhook\"\nurl = \"{}\"\n\
         kinds = [\"box_offline\", \"box_back\"]\n",
        server.url("/hook")
    );
    let (hub_db, hub_cfg) = hub_config_with(&dir, broker.port, &sink);
    let (porch, porch_cfg) = a_box(&dir, "porch", broker.port);
    append(&porch, 3);
    let hub = Uplink::hub(&hub_cfg);
    assert!(hub.wait_for("connected to", Duration::from_secs(10)));
    let up = Uplink::start(&porch_cfg);
    let want = union(&[("porch", &porch)]);
    assert_eq!(wait_for(&hub_db, &want, Duration::from_secs(10)).0, want);
    // Killed: its last will makes the hub journal `box_offline`; started again, `box_back`.
    up.kill();
    wait_events(&hub_db, 1, Instant::now(), Duration::from_secs(5));
    let up = Uplink::start(&porch_cfg);
    wait_events(&hub_db, 2, Instant::now(), Duration::from_secs(10));
    let start = Instant::now();
    let mut got = Vec::new();
    while got.len() < 2 && start.elapsed() < Duration::from_secs(20) {
        thread::sleep(Duration::from_millis(200));
        got = server.delivered("/hook");
    }
    let bodies: Vec<serde_json::Value> = got.iter().map(|r| r.json()).collect();
    let kinds: Vec<&str> = bodies.iter().filter_map(|b| b["kind"].as_str()).collect();
    assert_eq!(kinds, ["box_offline", "box_back"], "{bodies:?}");
    assert!(bodies.iter().all(|b| b["place"] == "porch"), "{bodies:?}");
    // Only the hub's own events: none of the box's three is pushed again.
    let ids: Vec<i64> = bodies.iter().filter_map(|b| b["id"].as_i64()).collect();
    let hub_ids = journal_ids(&hub_db);
    assert!(
        ids.iter().all(|i| hub_ids.contains(i)),
        "{ids:?} of {hub_ids:?}"
    );
    assert_eq!(up.stop().code(), Some(0));
    assert_eq!(hub.stop().code(), Some(0));
}
