//! What a sink sends, as pure functions: one [`Request`] per event or per folded burst.
//!
//! - ntfy (its HTTP publish format): the title, priority and tags in headers; with a snapshot,
//!   the JPEG is the body (`PUT`, `Filename:`) and the text goes in `Message:`; without one,
//!   the text is the body (`POST`).
//! - webhook: `POST` of exactly the MQTT event object ([`event_message`]), or, with
//!   `multipart`, a `multipart/form-data` body with that object (`snapshot: null`) as part
//!   `event` and the JPEG as part `snapshot`. A summary is
//!   `{"v":1,"box":…,"kind":"summary","ids":[…],"counts":{kind:n}}`.

use super::super::message::{event_message, WIRE_VERSION};
use crate::journal::{time, StoredEvent};
use std::collections::BTreeMap;

/// One HTTP request, before the bearer token and the URL are added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// A folded event: what a summary tells of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folded {
    pub id: i64,
    pub kind: String,
    pub place: String,
}

/// ntfy's priority (1 to 5) and tags (emoji short codes, then the kind) for an event kind.
pub fn ntfy_style(kind: &str) -> (u8, &'static str) {
    match kind {
        "alarm_on" => (5, "rotating_light"),
        "intrusion" => (4, "rotating_light"),
        "loiter" => (4, "hourglass"),
        "line_cross" => (4, "arrow_right"),
        "wander" => (4, "footprints"),
        "crowd" => (4, "busts_in_silhouette"),
        "camera_lost" | "tamper" => (4, "warning"),
        _ => (3, "warning"),
    }
}

/// `intrusion on walkway`, or the kind alone when it has no place.
fn what(kind: &str, place: &str) -> String {
    if place.is_empty() {
        kind.replace('_', " ")
    } else {
        format!("{} on {place}", kind.replace('_', " "))
    }
}

/// The one-line text of an event: what, where, when (UTC), and the track and score.
pub fn event_text(ev: &StoredEvent) -> String {
    let mut s = format!(
        "{} at {}",
        what(&ev.kind, &ev.place),
        time::rfc3339(ev.ts_ms)
    );
    if let Some(t) = ev.track_id {
        s.push_str(&format!(", track {t}"));
    }
    if let Some(sc) = ev.score {
        s.push_str(&format!(", score {sc:.2}"));
    }
    s
}

/// The ntfy request for `ev` from box `box_id`, with its snapshot when there is one.
pub fn ntfy_event(box_id: &str, ev: &StoredEvent, jpeg: Option<&[u8]>) -> Request {
    let (priority, tag) = ntfy_style(&ev.kind);
    let mut headers = vec![
        ("Title", format!("{box_id}: {}", what(&ev.kind, &ev.place))),
        ("Priority", priority.to_string()),
        ("Tags", format!("{tag},{}", ev.kind)),
    ];
    match jpeg {
        Some(jpeg) => {
            headers.push(("Message", event_text(ev)));
            headers.push(("Filename", format!("picket-{box_id}-{}.jpg", ev.id)));
            Request {
                method: "PUT",
                headers,
                body: jpeg.to_vec(),
            }
        }
        None => Request {
            method: "POST",
            headers,
            body: event_text(ev).into_bytes(),
        },
    }
}

/// `5 more intrusions on walkway, 2 more loiters on porch in the last 60 s`.
pub fn summary_text(folded: &[Folded], window_s: u64) -> String {
    let mut groups: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for f in folded {
        *groups.entry((&f.kind, &f.place)).or_default() += 1;
    }
    let parts: Vec<String> = groups
        .into_iter()
        .map(|((kind, place), n)| {
            let k = kind.replace('_', " ");
            let noun = if n == 1 { k } else { format!("{k}s") };
            if place.is_empty() {
                format!("{n} more {noun}")
            } else {
                format!("{n} more {noun} on {place}")
            }
        })
        .collect();
    format!("{} in the last {window_s} s", parts.join(", "))
}

/// The ntfy summary of a folded burst.
pub fn ntfy_summary(box_id: &str, folded: &[Folded], window_s: u64) -> Request {
    let top = folded
        .iter()
        .map(|f| ntfy_style(&f.kind))
        .max()
        .unwrap_or((3, "warning"));
    Request {
        method: "POST",
        headers: vec![
            ("Title", format!("{box_id}: {} more events", folded.len())),
            ("Priority", top.0.to_string()),
            ("Tags", format!("{},summary", top.1)),
        ],
        body: summary_text(folded, window_s).into_bytes(),
    }
}

/// The boundary of a multipart body: no JSON object or JPEG holds this line.
pub const BOUNDARY: &str = "picket-part-7c1d2e9a4b";

/// The webhook request for `ev`.
pub fn webhook_event(
    box_id: &str,
    ev: &StoredEvent,
    jpeg: Option<&[u8]>,
    multipart: bool,
) -> Request {
    let json = |body: Vec<u8>| Request {
        method: "POST",
        headers: vec![("Content-Type", "application/json".into())],
        body,
    };
    let Some(jpeg) = jpeg.filter(|_| multipart) else {
        return json(event_message(box_id, ev, jpeg).payload);
    };
    let object = event_message(box_id, ev, None).payload;
    let mut body = Vec::with_capacity(object.len() + jpeg.len() + 400);
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"event\"\r\n\
             Content-Type: application/json\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(&object);
    body.extend_from_slice(
        format!(
            "\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"snapshot\"; \
             filename=\"picket-{box_id}-{}.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n",
            ev.id
        )
        .as_bytes(),
    );
    body.extend_from_slice(jpeg);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    Request {
        method: "POST",
        headers: vec![(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )],
        body,
    }
}

/// The webhook summary of a folded burst.
pub fn webhook_summary(box_id: &str, folded: &[Folded]) -> Request {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for f in folded {
        *counts.entry(&f.kind).or_default() += 1;
    }
    let ids: Vec<i64> = folded.iter().map(|f| f.id).collect();
    let v = serde_json::json!({
        "v": WIRE_VERSION, "box": box_id, "kind": "summary", "ids": ids, "counts": counts,
    });
    Request {
        method: "POST",
        headers: vec![("Content-Type", "application/json".into())],
        body: v.to_string().into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn event(id: i64, kind: &str, place: &str) -> StoredEvent {
        StoredEvent {
            id,
            ts_ms: 1_795_776_015_123,
            mono_ms: 5000,
            clock_synced: true,
            kind: kind.into(),
            place: place.into(),
            track_id: Some(7),
            score: Some(0.81),
            bbox: None,
            direction: None,
            detail: Some("{\"rule\":\"on_walkway\"}".into()),
            snapshot_bytes: None,
        }
    }

    fn header<'a>(r: &'a Request, name: &str) -> Option<&'a str> {
        r.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn ntfy_puts_the_jpeg_as_the_body_or_posts_the_text() {
        let ev = event(12, "intrusion", "walkway");
        let with = ntfy_event("porch", &ev, Some(b"\xff\xd8jpeg"));
        assert_eq!(with.method, "PUT");
        assert_eq!(with.body, b"\xff\xd8jpeg");
        assert_eq!(header(&with, "Title"), Some("porch: intrusion on walkway"));
        assert_eq!(header(&with, "Priority"), Some("4"));
        assert_eq!(header(&with, "Tags"), Some("rotating_light,intrusion"));
        assert_eq!(header(&with, "Filename"), Some("picket-porch-12.jpg"));
        assert_eq!(
            header(&with, "Message"),
            Some("intrusion on walkway at 2026-11-27T10:40:15.123Z, track 7, score 0.81")
        );
        let without = ntfy_event("porch", &ev, None);
        assert_eq!(without.method, "POST");
        assert_eq!(header(&without, "Filename"), None);
        assert_eq!(
            without.body,
            header(&with, "Message").unwrap().as_bytes().to_vec()
        );
    }

    #[test]
    fn summaries_count_by_kind_and_place_and_name_every_id() {
        let folded: Vec<Folded> = (1..=7)
            .map(|i| Folded {
                id: i,
                kind: if i <= 5 { "intrusion" } else { "loiter" }.into(),
                place: if i <= 5 { "walkway" } else { "porch" }.into(),
            })
            .collect();
        assert_eq!(
            summary_text(&folded[..5], 60),
            "5 more intrusions on walkway in the last 60 s"
        );
        assert_eq!(
            summary_text(&folded, 60),
            "5 more intrusions on walkway, 2 more loiters on porch in the last 60 s"
        );
        let w = webhook_summary("porch", &folded);
        let v: Value = serde_json::from_slice(&w.body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"v": 1, "box": "porch", "kind": "summary",
                "ids": [1, 2, 3, 4, 5, 6, 7], "counts": {"intrusion": 5, "loiter": 2}})
        );
    }

    #[test]
    fn a_webhook_body_is_the_mqtt_object_or_two_parts() {
        let ev = event(3, "loiter", "porch");
        let plain = webhook_event("porch", &ev, Some(b"JPEG"), false);
        assert_eq!(
            plain.body,
            event_message("porch", &ev, Some(b"JPEG")).payload
        );
        let multi = webhook_event("porch", &ev, Some(b"JPEG"), true);
        let text = String::from_utf8_lossy(&multi.body).to_string();
        let object = String::from_utf8(event_message("porch", &ev, None).payload).unwrap();
        assert!(
            text.contains(&format!("\r\n\r\n{object}\r\n--{BOUNDARY}\r\n")),
            "{text}"
        );
        assert!(text.ends_with(&format!("image/jpeg\r\n\r\nJPEG\r\n--{BOUNDARY}--\r\n")));
    }
}
