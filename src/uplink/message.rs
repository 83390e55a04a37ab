//! The wire format of `<prefix>/<box_id>/events`: one compact, single-line JSON object per
//! journal event, its fields always present and always in this order:
//!
//! ```json
//! {"v":1,"box":"porch","id":4,"kind":"intrusion","ts":"2026-12-04T21:49:03.557Z",
//!  "clock_synced":false,"place":"walkway","track":1,"score":0.6080721,"direction":null,
//!  "detail":{"dwell_s":0.1,"rule":"on_walkway"},"snapshot":null}
//! ```
//!
//! (shown on two lines here; `docs/guide/uplink.md` has more, from a real run).
//!
//! - `id` is the journal's id (`picket events list --json`); ids rise, and a consumer that
//!   sees one twice (delivery is at least once) can drop the second.
//! - `ts` is RFC 3339 in UTC with milliseconds; `clock_synced` says whether the box's clock
//!   was synchronised when the event happened.
//! - `place` (zone, line or output), `track`, `score` and `direction` are `null` when they do
//!   not apply.
//! - `detail` is always an object: the journal's JSON object, `{}` when there is none, or
//!   `{"text": ...}` for a stored detail that is not a JSON object.
//! - `snapshot` is the event's JPEG in standard base64 when `[uplink] snapshots` is on and the
//!   event has one (drawn or raw, `super::present`), else `null`. A message never exceeds [`MAX_MESSAGE`] bytes: a snapshot too
//!   big for that is left out (`null`), and the uplink logs it.

use crate::journal::{time, StoredEvent};
use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value};

/// The format version, `v` in every message.
pub const WIRE_VERSION: u32 = 1;
/// The most bytes one event message takes.
pub const MAX_MESSAGE: usize = 256 * 1024;

#[derive(Serialize)]
struct Wire<'a> {
    v: u32,
    #[serde(rename = "box")]
    box_id: &'a str,
    id: i64,
    kind: &'a str,
    ts: String,
    clock_synced: bool,
    place: Option<&'a str>,
    track: Option<i64>,
    score: Option<f32>,
    direction: Option<&'a str>,
    detail: Value,
    snapshot: Option<String>,
}

/// One event's message, and whether its snapshot had to be left out for size.
#[derive(Debug, Clone, PartialEq)]
pub struct EventMessage {
    pub payload: Vec<u8>,
    pub snapshot_dropped: bool,
}

/// Builds the message for `ev`; `jpeg` is its snapshot when snapshots are published.
pub fn event_message(box_id: &str, ev: &StoredEvent, jpeg: Option<&[u8]>) -> EventMessage {
    let mut wire = Wire {
        v: WIRE_VERSION,
        box_id,
        id: ev.id,
        kind: &ev.kind,
        ts: time::rfc3339(ev.ts_ms),
        clock_synced: ev.clock_synced,
        place: Some(ev.place.as_str()).filter(|p| !p.is_empty()),
        track: ev.track_id,
        score: ev.score,
        direction: ev.direction.as_deref(),
        detail: detail_object(ev.detail.as_deref()),
        snapshot: None,
    };
    let bare = to_vec(&wire);
    let Some(jpeg) = jpeg else {
        return EventMessage {
            payload: bare,
            snapshot_dropped: false,
        };
    };
    // `null` becomes `"<base64>"`.
    let encoded_len = base64::encoded_len(jpeg.len(), true).unwrap_or(usize::MAX);
    if (bare.len() - "null".len() + 2).saturating_add(encoded_len) > MAX_MESSAGE {
        return EventMessage {
            payload: bare,
            snapshot_dropped: true,
        };
    }
    wire.snapshot = Some(base64::engine::general_purpose::STANDARD.encode(jpeg));
    EventMessage {
        payload: to_vec(&wire),
        snapshot_dropped: false,
    }
}

fn to_vec(w: &Wire<'_>) -> Vec<u8> {
    // Plain fields and a `Value` always serialise.
    serde_json::to_vec(w).unwrap_or_default()
}

/// The stored detail as an object: parsed JSON when it is an object, `{}` when there is none,
/// else `{"text": <the stored text>}`.
pub fn detail_object(stored: Option<&str>) -> Value {
    let Some(text) = stored.filter(|t| !t.trim().is_empty()) else {
        return Value::Object(Map::new());
    };
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            let mut m = Map::new();
            m.insert("text".into(), Value::String(text.to_owned()));
            Value::Object(m)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> StoredEvent {
        StoredEvent {
            id: 1234,
            ts_ms: 1_795_776_015_123,
            mono_ms: 5000,
            clock_synced: true,
            kind: "line_cross".into(),
            place: "midline".into(),
            track_id: Some(7),
            score: Some(0.81),
            bbox: Some([0.1, 0.2, 0.3, 0.9]),
            direction: Some("left_to_right".into()),
            detail: Some("{\"rule\":\"crossed\"}".into()),
            snapshot_bytes: None,
        }
    }

    #[test]
    fn an_event_is_one_line_with_exactly_the_documented_fields() {
        let m = event_message("porch", &event(), None);
        let text = String::from_utf8(m.payload).unwrap();
        assert_eq!(
            text,
            "{\"v\":1,\"box\":\"porch\",\"id\":1234,\"kind\":\"line_cross\",\
             \"ts\":\"2026-11-27T10:40:15.123Z\",\"clock_synced\":true,\"place\":\"midline\",\
             \"track\":7,\"score\":0.81,\"direction\":\"left_to_right\",\
             \"detail\":{\"rule\":\"crossed\"},\"snapshot\":null}"
        );
        assert!(!m.snapshot_dropped);
    }

    #[test]
    fn absent_fields_are_null_and_detail_is_always_an_object() {
        let ev = StoredEvent {
            kind: "started".into(),
            place: String::new(),
            track_id: None,
            score: None,
            direction: None,
            detail: None,
            clock_synced: false,
            ..event()
        };
        let v: Value = serde_json::from_slice(&event_message("b", &ev, None).payload).unwrap();
        for k in ["place", "track", "score", "direction", "snapshot"] {
            assert_eq!(v[k], Value::Null, "{k}");
        }
        assert_eq!(v["detail"], serde_json::json!({}));
        assert_eq!(v["clock_synced"], Value::Bool(false));
        assert_eq!(detail_object(Some("")), serde_json::json!({}));
        assert_eq!(
            detail_object(Some("dwell 31 s")),
            serde_json::json!({"text": "dwell 31 s"})
        );
        assert_eq!(
            detail_object(Some("[1,2]")),
            serde_json::json!({"text": "[1,2]"})
        );
        assert_eq!(
            detail_object(Some("{\"dwell_s\":31.5}")),
            serde_json::json!({"dwell_s": 31.5})
        );
    }

    #[test]
    fn snapshots_are_base64_and_a_message_never_passes_256_kib() {
        let jpeg: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
        let m = event_message("porch", &event(), Some(&jpeg));
        let v: Value = serde_json::from_slice(&m.payload).unwrap();
        let back = base64::engine::general_purpose::STANDARD
            .decode(v["snapshot"].as_str().unwrap())
            .unwrap();
        assert_eq!(back, jpeg);
        assert!(!m.payload.contains(&b'\n'));

        // The largest snapshot that fits, and one byte more.
        let bare = event_message("porch", &event(), None).payload.len();
        let room = (MAX_MESSAGE - bare + 2) / 4 * 3;
        let fits = event_message("porch", &event(), Some(&vec![0xAB; room]));
        assert!(!fits.snapshot_dropped);
        assert!(fits.payload.len() <= MAX_MESSAGE, "{}", fits.payload.len());
        assert!(
            fits.payload.len() > MAX_MESSAGE - 4,
            "{}",
            fits.payload.len()
        );
        let big = event_message("porch", &event(), Some(&vec![0xAB; room + 3]));
        assert!(big.snapshot_dropped);
        assert_eq!(big.payload.len(), bare);
    }
}
