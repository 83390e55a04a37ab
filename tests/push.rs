//! `[[push]]` end to end: `picket uplink` with ntfy and webhook sinks and no MQTT broker,
//! against a real recording HTTP server (`tests/data/push/server.py`), fed by
//! `picket journal-stress`.

use crate::util::push::{config, stored, Request, Server};
use crate::util::uplink::{
    append, append_with, assert_event_keys, write_with_mode, Producer, Uplink,
};
use crate::util::Scratch;
use base64::Engine;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

/// The ids delivered to `path` (summaries' ids included), each with how often it came.
fn arrivals(reqs: &[Request], path: &str) -> BTreeMap<i64, usize> {
    let mut n = BTreeMap::new();
    for r in reqs
        .iter()
        .filter(|r| r.path == path && (200..300).contains(&r.status))
    {
        let v = r.json();
        let ids: Vec<i64> = match v["kind"].as_str() {
            Some("summary") => v["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_i64().unwrap())
                .collect(),
            _ => vec![v["id"].as_i64().unwrap()],
        };
        for id in ids {
            *n.entry(id).or_default() += 1;
        }
    }
    n
}

#[test]
fn push_ntfy_and_webhook_carry_every_field_and_the_jpeg() {
    let d = Scratch::new("push-fields");
    let db = d.path("events.db");
    let ids = append_with(
        &db,
        20,
        &["--snapshot-every", "2", "--snapshot-bytes", "3000"],
    );
    let server = Server::start(&d.0);
    let token = d.path("ntfy.token");
    write_with_mode(&token, "tk_secret_1\n", 0o600);
    let push = format!(
        "[[push]]\nname = \"phone\"\nkind = \"ntfy\"\nurl = \"{}\"\ntoken_file = \"{}\"\n\
         max_per_minute = 600\n\n\
         [[push]]\nkind = \"webhook\"\nurl = \"{}\"\nmax_per_minute = 600\n\n\
         [[push]]\nname = \"parts\"\nkind = \"webhook\"\nurl = \"{}\"\nmultipart = true\n\
         kinds = [\"intrusion\"]\nmax_per_minute = 600\n\n[arming]\nstate_file = \"{}\"\n",
        server.url("/porch-alerts"),
        token.display(),
        server.url("/hook"),
        server.url("/parts"),
        d.path("arming.toml").display(),
    );
    let cfg = config(&d.0, &db, "", &push);
    let up = Uplink::start(&cfg);
    let journal = stored(&db);
    let intrusions = journal.values().filter(|e| e.kind == "intrusion").count();
    assert!(
        server.wait(T, |r| {
            let n = |p: &str| r.iter().filter(|x| x.path == p).count();
            n("/porch-alerts") >= 20 && n("/hook") >= 20 && n("/parts") >= intrusions
        }),
        "not everything arrived: {} requests",
        server.requests().len()
    );
    let st = up.stop();
    assert!(st.success(), "{st:?}");

    // ntfy: title, priority, tags, the token; the JPEG as the body with its file name.
    let ntfy = server.delivered("/porch-alerts");
    assert_eq!(ntfy.len(), 20);
    for (r, id) in ntfy.iter().zip(&ids) {
        let e = &journal[id];
        assert_eq!(
            r.header("title"),
            Some(format!("porch: {} on {}", e.kind.replace('_', " "), e.place).as_str())
        );
        let prio = if e.kind == "alarm_on" { "5" } else { "4" };
        assert_eq!(r.header("priority"), Some(prio), "{e:?}");
        assert!(
            r.header("tags").unwrap().ends_with(&format!(",{}", e.kind)),
            "{r:?}"
        );
        assert_eq!(r.header("authorization"), Some("Bearer tk_secret_1"));
        let text = format!("{} on {} at ", e.kind.replace('_', " "), e.place);
        match &e.jpeg {
            Some(jpeg) => {
                assert_eq!(r.method, "PUT");
                assert_eq!(&r.body, jpeg, "event {id}: the attachment is its JPEG");
                assert_eq!(
                    r.header("filename"),
                    Some(format!("picket-porch-{id}.jpg").as_str())
                );
                assert!(r.header("message").unwrap().starts_with(&text), "{r:?}");
            }
            None => {
                assert_eq!(r.method, "POST");
                assert_eq!(r.header("filename"), None);
                assert!(String::from_utf8_lossy(&r.body).starts_with(&text), "{r:?}");
            }
        }
    }
    assert!(journal.values().filter(|e| e.jpeg.is_some()).count() >= 2);

    // webhook: exactly the MQTT event object, the JPEG in base64; no token sent.
    let hook = server.delivered("/hook");
    assert_eq!(hook.len(), 20);
    for (r, id) in hook.iter().zip(&ids) {
        let e = &journal[id];
        let v = r.json();
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("authorization"), None);
        assert_event_keys(&v);
        assert_eq!(
            (v["v"].as_i64(), v["box"].as_str(), v["id"].as_i64()),
            (Some(1), Some("porch"), Some(*id))
        );
        assert_eq!(
            (v["kind"].as_str(), v["place"].as_str()),
            (Some(e.kind.as_str()), Some(e.place.as_str()))
        );
        assert_eq!(v["detail"]["dwell_s"].as_f64(), Some(31.5));
        let snap = v["snapshot"]
            .as_str()
            .map(|s| base64::engine::general_purpose::STANDARD.decode(s).unwrap());
        assert_eq!(snap.as_ref(), e.jpeg.as_ref(), "event {id}");
    }

    // multipart: only intrusions, the object and the JPEG as two parts.
    let parts = server.delivered("/parts");
    let want: Vec<i64> = journal
        .values()
        .filter(|e| e.kind == "intrusion")
        .map(|e| e.id)
        .collect();
    assert_eq!(parts.len(), want.len());
    for (r, id) in parts.iter().zip(&want) {
        let Some(jpeg) = &journal[id].jpeg else {
            assert_eq!(r.header("content-type"), Some("application/json"));
            assert_eq!(r.json()["id"].as_i64(), Some(*id));
            continue;
        };
        let ct = r.header("content-type").unwrap();
        let boundary = ct.strip_prefix("multipart/form-data; boundary=").expect(ct);
        let sections: Vec<&[u8]> = split(&r.body, format!("--{boundary}").as_bytes());
        assert_eq!(sections.len(), 4, "{:?}", String::from_utf8_lossy(&r.body));
        let v: serde_json::Value = serde_json::from_slice(body_of(sections[1])).unwrap();
        assert_eq!(v["id"].as_i64(), Some(*id));
        assert_eq!(v["snapshot"], serde_json::Value::Null);
        assert_eq!(body_of(sections[2]), jpeg.as_slice(), "event {id}");
    }
    assert!(
        want.iter().any(|id| journal[id].jpeg.is_some()),
        "no intrusion with a JPEG"
    );

    // Each sink has its own cursor beside [uplink] state_file.
    for name in ["phone", "1", "parts"] {
        let text = std::fs::read_to_string(d.path(&format!("cursor.push-{name}"))).unwrap();
        assert!(
            text.contains(&format!("acked_through = {}", ids[19])),
            "{name}: {text}"
        );
    }
}

/// The parts of a multipart body between `sep` lines.
fn split<'a>(body: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.windows(sep.len()).position(|w| w == sep) {
        out.push(&rest[..i]);
        rest = &rest[i + sep.len()..];
    }
    out.push(rest);
    out
}

/// A part's content: after its headers' blank line, without the CRLF before the next boundary.
fn body_of(part: &[u8]) -> &[u8] {
    let start = part.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    part[start..].strip_suffix(b"\r\n").unwrap()
}

#[test]
fn push_every_event_arrives_across_server_crashes_500s_and_a_killed_uplink() {
    let d = Scratch::new("push-faults");
    let db = d.path("events.db");
    append(&db, 5);
    let mut server = Server::start(&d.0);
    let push = format!(
        "[[push]]\nkind = \"webhook\"\nurl = \"{}\"\nmax_per_minute = 600\ntimeout_s = 2\n",
        server.url("/hook")
    );
    let cfg = config(&d.0, &db, "", &push);
    let producer = Producer::start(&db, 3, Duration::from_millis(150));
    let up = Uplink::start(&cfg);
    let n = |s: &Server| s.delivered("/hook").len();
    assert!(server.wait(T, |_| n(&server) >= 10));
    server.kill();
    std::thread::sleep(Duration::from_secs(2));
    server.restart();
    let before = n(&server);
    assert!(server.wait(T, |_| n(&server) >= before + 10));
    server.answer(500);
    std::thread::sleep(Duration::from_secs(3));
    let refused = server.requests().iter().filter(|r| r.status == 500).count();
    assert!(refused >= 1, "the server answered no 500");
    server.answer(200);
    let before = n(&server);
    assert!(server.wait(T, |_| n(&server) >= before + 10));
    up.kill();
    let up = Uplink::start(&cfg);
    let before = n(&server);
    assert!(server.wait(T, |_| n(&server) >= before + 10));
    let ids: BTreeSet<i64> = producer.finish().into_iter().collect();
    let journal: BTreeSet<i64> = stored(&db).keys().copied().collect();
    assert!(ids.is_subset(&journal));
    assert!(
        server.wait(T, |r| arrivals(r, "/hook")
            .keys()
            .copied()
            .collect::<BTreeSet<_>>()
            == journal),
        "missing: {:?}",
        journal
            .difference(
                &arrivals(&server.requests(), "/hook")
                    .keys()
                    .copied()
                    .collect()
            )
            .collect::<Vec<_>>()
    );
    let got = arrivals(&server.requests(), "/hook");
    let dups: usize = got.values().map(|c| c - 1).sum();
    eprintln!(
        "push faults: {} events, {dups} duplicates, {refused} answered 500",
        journal.len()
    );
    assert!(up.errors().iter().all(|l| !l.contains("panicked")));
    assert!(up.stop().success());
}

#[test]
fn push_a_burst_folds_into_summaries_that_name_every_id() {
    let d = Scratch::new("push-burst");
    let db = d.path("events.db");
    let server = Server::start(&d.0);
    let push = format!(
        "[[push]]\nkind = \"webhook\"\nurl = \"{}\"\nkinds = [\"intrusion\"]\nmax_per_minute = 2\n\n\
         [[push]]\nname = \"phone\"\nkind = \"ntfy\"\nurl = \"{}\"\nkinds = [\"intrusion\"]\nmax_per_minute = 2\n",
        server.url("/hook"),
        server.url("/ntfy")
    );
    let cfg = config(&d.0, &db, "", &push);
    let up = Uplink::start(&cfg);
    // 150 events, 30 of them intrusions, within 10 s.
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.extend(append_with(&db, 15, &[]));
        std::thread::sleep(Duration::from_millis(900));
    }
    let journal = stored(&db);
    let intrusions: BTreeSet<i64> = journal
        .values()
        .filter(|e| e.kind == "intrusion")
        .map(|e| e.id)
        .collect();
    assert_eq!(intrusions.len(), 30);
    assert!(
        server.wait(Duration::from_secs(90), |r| arrivals(r, "/hook")
            .keys()
            .copied()
            .collect::<BTreeSet<_>>()
            == intrusions),
        "{:?}",
        arrivals(&server.requests(), "/hook")
    );
    assert!(server.wait(T, |r| r.iter().filter(|x| x.path == "/ntfy").count() >= 3));
    std::thread::sleep(Duration::from_secs(2));
    let hook = server.delivered("/hook");
    assert!(hook.len() <= 3, "{} messages", hook.len());
    let summaries: Vec<serde_json::Value> = hook
        .iter()
        .map(Request::json)
        .filter(|v| v["kind"] == "summary")
        .collect();
    assert_eq!(summaries.len(), 1, "{hook:?}");
    let s = &summaries[0];
    assert_eq!(s["box"], "porch");
    assert_eq!(s["v"], 1);
    let n = s["ids"].as_array().unwrap().len();
    assert_eq!(s["counts"]["intrusion"].as_u64(), Some(n as u64));
    assert_eq!(n, 28);
    let ntfy = server.delivered("/ntfy");
    assert!(ntfy.len() <= 3, "{} ntfy messages", ntfy.len());
    let last = String::from_utf8_lossy(&ntfy.last().unwrap().body).to_string();
    assert!(last.contains(" more intrusions on "), "{last}");
    assert!(last.ends_with(" in the last 60 s"), "{last}");
    let counted: usize = last
        .trim_end_matches(" in the last 60 s")
        .split(", ")
        .map(|p| p.split(' ').next().unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(counted, 28, "{last}");
    // The cursor passed the folded ids once their summary was delivered.
    assert!(up.stop().success());
    let cursor = std::fs::read_to_string(d.path("cursor.push-0")).unwrap();
    assert!(acked(&cursor) >= *intrusions.last().unwrap(), "{cursor}");
}

fn acked(cursor: &str) -> i64 {
    let v: toml::Value = toml::from_str(cursor).unwrap();
    v["acked_through"].as_integer().unwrap()
}

#[test]
fn push_a_401_is_said_once_and_retried_once_a_minute() {
    let d = Scratch::new("push-401");
    let db = d.path("events.db");
    append(&db, 3);
    let server = Server::start(&d.0);
    server.answer(401);
    let dead = crate::util::uplink::free_port();
    let push = format!(
        "[[push]]\nkind = \"ntfy\"\nurl = \"{}\"\n\n[[push]]\nname = \"nowhere\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:{dead}/x\"\n",
        server.url("/t")
    );
    let cfg = config(&d.0, &db, "", &push);
    let mut up = Uplink::start(&cfg);
    // A minute and a bit: the first try, and one more after 60 s.
    std::thread::sleep(Duration::from_secs(66));
    assert!(up.running(), "a refusing server must not end the uplink");
    let reqs = server.requests();
    assert_eq!(
        reqs.len(),
        2,
        "requests in 66 s while the server answers 401"
    );
    assert!(
        reqs[1].t - reqs[0].t >= 59.0,
        "{} s apart",
        reqs[1].t - reqs[0].t
    );
    let errors = up.errors();
    let said: Vec<&String> = errors
        .iter()
        .filter(|l| l.contains("answered 401"))
        .collect();
    assert_eq!(said.len(), 1, "{errors:#?}");
    assert!(
        said[0].contains("push 0:") && said[0].contains("token_file"),
        "{}",
        said[0]
    );
    let unreachable: Vec<&String> = errors
        .iter()
        .filter(|l| l.contains("push nowhere:"))
        .collect();
    assert_eq!(unreachable.len(), 1, "{errors:#?}");
    assert!(
        unreachable[0].contains(&format!("127.0.0.1:{dead}")),
        "{}",
        unreachable[0]
    );
    assert!(up.stop().success());
    let cursor = std::fs::read_to_string(d.path("cursor.push-0")).unwrap();
    assert_eq!(acked(&cursor), 0, "nothing was taken: {cursor}");
}

#[test]
fn push_a_token_file_others_can_read_is_refused_by_name() {
    let d = Scratch::new("push-token");
    let db = d.path("events.db");
    append(&db, 1);
    let token = d.path("token");
    write_with_mode(&token, "t\n", 0o644);
    let push = format!(
        "[[push]]\nname = \"phone\"\nkind = \"ntfy\"\nurl = \"http://127.0.0.1:9/t\"\ntoken_file = \"{}\"\n",
        token.display()
    );
    let cfg = config(&d.0, &db, "", &push);
    let out = Command::new(crate::util::PICKET)
        .args(["uplink", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("[[push]] phone: token_file "), "{err}");
    assert!(
        err.contains(&token.display().to_string()) && err.contains("mode 0644"),
        "{err}"
    );
}

#[test]
fn push_a_redirect_is_not_followed_but_refused_once() {
    let d = Scratch::new("push-302");
    let db = d.path("events.db");
    append(&db, 2);
    let server = Server::start(&d.0);
    server.answer(302);
    let push = format!(
        "[[push]]\nkind = \"webhook\"\nurl = \"{}\"\n",
        server.url("/moved")
    );
    let cfg = config(&d.0, &db, "", &push);
    let up = Uplink::start(&cfg);
    assert!(up.wait_for("answered 302", T), "{:#?}", up.lines());
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        server.requests().len(),
        1,
        "a 302 is retried slowly, not followed"
    );
    let errors = up.errors();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains("redirects are not followed"),
        "{}",
        errors[0]
    );
    assert!(up.stop().success());
}

#[test]
fn push_https_with_a_ca_file_delivers_and_a_wrong_ca_is_one_clear_error() {
    let d = Scratch::new("push-tls");
    let pki = crate::util::uplink::Pki::make(&d.0);
    let db = d.path("events.db");
    let ids = append(&db, 3);
    let server = Server::start_tls(&d.0, &pki.server_cert, &pki.server_key);
    let push = format!(
        "[[push]]\nname = \"good\"\nkind = \"webhook\"\nurl = \"{}\"\nca_file = \"{}\"\n\n\
         [[push]]\nname = \"wrong\"\nkind = \"webhook\"\nurl = \"{}\"\nca_file = \"{}\"\n",
        server.url("/good"),
        pki.ca.display(),
        server.url("/wrong"),
        pki.other_ca.display(),
    );
    let cfg = config(&d.0, &db, "", &push);
    let up = Uplink::start(&cfg);
    assert!(server.wait(T, |_| server.delivered("/good").len() == 3));
    let got: Vec<i64> = server
        .delivered("/good")
        .iter()
        .map(|r| r.json()["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, ids);
    assert!(up.wait_for("push wrong:", T), "{:#?}", up.lines());
    std::thread::sleep(Duration::from_secs(2));
    assert!(server.delivered("/wrong").is_empty());
    let errors = up.errors();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains("push wrong:") && errors[0].to_lowercase().contains("certificate"),
        "{}",
        errors[0]
    );
    assert!(up.stop().success());
}

/// Beside a snapshot that is drawn, one whose overlay is not JSON and one whose picture is cut
/// short are each sent as stored, never held back, and said once in the log.
#[test]
fn push_a_snapshot_that_cannot_be_drawn_is_sent_as_stored_and_said_once() {
    use crate::util::drawn::{is_firing, left_edge_of};
    use picket_geom::NormRect;
    use picket_image::annotate::{Mark, Overlay};
    use picket_image::{comment, snapshot, RgbImage};
    let d = Scratch::new("push-undrawable");
    let db = d.path("events.db");
    let ids = append_with(&db, 6, &["--snapshot-every", "1"]);
    let mut img = RgbImage::new(64, 48);
    img.as_bytes_mut().fill(90);
    let picture = img.to_jpeg(90).unwrap();
    let b = NormRect::new(0.25, 0.25, 0.75, 0.75);
    let overlay = Overlay {
        marks: vec![Mark {
            rect: b,
            track: Some(1),
            score: 0.9,
            firing: true,
        }],
        ..Overlay::default()
    };
    let good = snapshot::attach(picture.clone(), &overlay);
    let broken = comment::insert(&picture, snapshot::TAG, br#"{"marks":"#).unwrap();
    let cut = good[..good.len() / 2].to_vec();
    let c = rusqlite::Connection::open(&db).unwrap();
    for (id, jpeg) in ids.iter().zip([&good, &broken, &cut]) {
        c.execute(
            "UPDATE snapshots SET jpeg = ?1 WHERE event_id = ?2",
            (jpeg, id),
        )
        .unwrap();
    }
    drop(c);

    let server = Server::start(&d.0);
    let push = format!(
        "[[push]]\nkind = \"webhook\"\nurl = \"{}\"\nmax_per_minute = 600\n",
        server.url("/hook")
    );
    let up = Uplink::start(&config(&d.0, &db, "", &push));
    let all: BTreeSet<i64> = ids.iter().copied().collect();
    assert!(
        server.wait(T, |r| arrivals(r, "/hook")
            .keys()
            .copied()
            .collect::<BTreeSet<_>>()
            == all),
        "not every event arrived"
    );
    let (st, log) = up.stop_with_log();
    assert!(st.success(), "{st:?}");
    let sent: BTreeMap<i64, Vec<u8>> = server
        .delivered("/hook")
        .iter()
        .map(|r| {
            let v = r.json();
            let s = v["snapshot"].as_str().expect("a snapshot");
            let jpeg = base64::engine::general_purpose::STANDARD.decode(s).unwrap();
            (v["id"].as_i64().unwrap(), jpeg)
        })
        .collect();
    assert_ne!(sent[&ids[0]], good, "the good one is drawn");
    assert!(is_firing(left_edge_of(&sent[&ids[0]], b)));
    assert_eq!(sent[&ids[1]], broken, "a broken overlay: as stored");
    assert_eq!(sent[&ids[2]], cut, "a cut picture: as stored");
    let said: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("cannot be drawn"))
        .collect();
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(said[0].contains(&format!("event {}:", ids[1])), "{said:?}");
    assert!(said[1].contains(&format!("event {}:", ids[2])), "{said:?}");
    assert!(said[1].contains("(2 so far)"), "{said:?}");
    eprintln!("undrawable: {said:?}");
}
