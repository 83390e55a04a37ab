//! One message from a box, checked: an event (`<prefix>/<box>/events`, the uplink's wire
//! format, [`crate::uplink::message`]) made into a hub journal row, or the reason it is
//! rejected. The box is the topic's; a payload that names another box, has an unknown `v`,
//! is larger than the uplink ever sends, or does not parse is rejected whole.

use crate::event::{Direction, Event, EventKind};
use crate::journal::{time, JournalItem, Origin};
use crate::uplink::config::check_box_id;
use crate::uplink::message::{MAX_MESSAGE, WIRE_VERSION};
use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

/// What a topic under the prefix is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topic<'a> {
    Events(&'a str),
    Availability(&'a str),
    State(&'a str),
    /// Anything else under a box (snapshots, discovery, commands): not journalled.
    Other,
}

/// Splits `<prefix>/<box>/<leaf>`; a box that is not a valid box id is [`Topic::Other`].
pub fn topic<'a>(prefix: &str, topic: &'a str) -> Topic<'a> {
    let Some(rest) = topic.strip_prefix(prefix).and_then(|r| r.strip_prefix('/')) else {
        return Topic::Other;
    };
    let Some((box_id, leaf)) = rest.split_once('/') else {
        return Topic::Other;
    };
    if check_box_id(box_id).is_err() {
        return Topic::Other;
    }
    match leaf {
        "events" => Topic::Events(box_id),
        "availability" => Topic::Availability(box_id),
        "state" => Topic::State(box_id),
        _ => Topic::Other,
    }
}

/// Why a message was not journalled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("{0} bytes, more than the {MAX_MESSAGE} an event message may have")]
    TooLarge(usize),
    #[error("not an event message: {0}")]
    Malformed(String),
    #[error("wire version {0}; this hub reads version {WIRE_VERSION}")]
    Version(u64),
    #[error("the payload names box `{0}`, not the topic's")]
    OtherBox(String),
    #[error("unknown event kind `{0}`")]
    Kind(String),
}

impl Rejected {
    /// A short name for counting: `too_large`, `malformed`, `version`, `other_box`, `kind`.
    pub fn reason(&self) -> &'static str {
        match self {
            Rejected::TooLarge(_) => "too_large",
            Rejected::Malformed(_) => "malformed",
            Rejected::Version(_) => "version",
            Rejected::OtherBox(_) => "other_box",
            Rejected::Kind(_) => "kind",
        }
    }
}

#[derive(Deserialize)]
struct Wire {
    #[serde(rename = "box")]
    box_id: String,
    id: i64,
    kind: String,
    ts: String,
    clock_synced: bool,
    place: Option<String>,
    track: Option<i64>,
    score: Option<f32>,
    direction: Option<String>,
    detail: Value,
    snapshot: Option<String>,
}

/// The event message `payload` on box `box_id`'s topic, as a hub journal row.
pub fn event(box_id: &str, payload: &[u8]) -> Result<(Origin, JournalItem), Rejected> {
    if payload.len() > MAX_MESSAGE {
        return Err(Rejected::TooLarge(payload.len()));
    }
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| Rejected::Malformed(e.to_string()))?;
    match value.get("v").and_then(Value::as_u64) {
        Some(v) if v == u64::from(WIRE_VERSION) => {}
        Some(v) => return Err(Rejected::Version(v)),
        None => return Err(Rejected::Malformed("no `v`".into())),
    }
    let w: Wire = serde_json::from_value(value).map_err(|e| Rejected::Malformed(e.to_string()))?;
    if w.box_id != box_id {
        return Err(Rejected::OtherBox(w.box_id));
    }
    let kind = EventKind::parse(&w.kind).ok_or_else(|| Rejected::Kind(w.kind.clone()))?;
    let ts_ms = time::parse(&w.ts, 0)
        .ok()
        .filter(|_| w.ts.contains('T'))
        .ok_or_else(|| Rejected::Malformed(format!("`ts` {:?} is not RFC 3339", w.ts)))?;
    if w.id < 1 {
        return Err(Rejected::Malformed(format!(
            "`id` {} is not a journal id",
            w.id
        )));
    }
    let mut ev = Event::new(kind, ts_ms, 0, w.clock_synced);
    if let Some(p) = &w.place {
        ev = ev.with_place(p);
    }
    ev.track_id = w.track.and_then(|t| u64::try_from(t).ok());
    ev.score = w.score;
    ev.direction = match w.direction.as_deref() {
        None => None,
        Some(d) => Some(
            Direction::parse(d).ok_or_else(|| Rejected::Malformed(format!("`direction` {d:?}")))?,
        ),
    };
    let detail = match &w.detail {
        Value::Object(m) if m.is_empty() => None,
        Value::Object(_) => Some(w.detail.to_string()),
        _ => return Err(Rejected::Malformed("`detail` is not an object".into())),
    };
    let snapshot = match &w.snapshot {
        None => None,
        Some(b) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(b)
                .map_err(|e| Rejected::Malformed(format!("`snapshot`: {e}")))?,
        ),
    };
    let origin = Origin {
        box_id: box_id.to_owned(),
        box_event: Some(w.id),
        detail,
    };
    Ok((
        origin,
        JournalItem {
            event: ev,
            snapshot,
            urgent: false,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"v":1,"box":"porch","id":4,"kind":"intrusion","ts":"2026-12-04T21:49:03.557Z","clock_synced":true,"place":"walkway","track":1,"score":0.5,"direction":null,"detail":{"rule":"on_walkway"},"snapshot":null}"#;

    #[test]
    fn topics_split_into_box_and_leaf() {
        assert_eq!(
            topic("picket", "picket/porch/events"),
            Topic::Events("porch")
        );
        assert_eq!(topic("a/b", "a/b/x-1/state"), Topic::State("x-1"));
        assert_eq!(
            topic("picket", "picket/p/availability"),
            Topic::Availability("p")
        );
        assert_eq!(topic("picket", "picket/p/snapshot"), Topic::Other);
        assert_eq!(topic("picket", "other/p/events"), Topic::Other);
        assert_eq!(topic("picket", "picket/a b/events"), Topic::Other);
    }

    #[test]
    fn a_good_message_becomes_a_row_with_its_origin() {
        let (o, item) = event("porch", GOOD.as_bytes()).unwrap();
        assert_eq!(o.box_id, "porch");
        assert_eq!(o.box_event, Some(4));
        assert_eq!(o.detail.as_deref(), Some(r#"{"rule":"on_walkway"}"#));
        assert_eq!(item.event.kind, EventKind::Intrusion);
        assert_eq!(item.event.place.as_str(), "walkway");
        assert_eq!(item.event.ts_ms, 1_796_420_943_557);
        assert_eq!(item.event.track_id, Some(1));
    }

    #[test]
    fn bad_messages_are_rejected_with_their_reason() {
        let other = GOOD.replace("\"porch\"", "\"shop\"");
        let v2 = GOOD.replace("\"v\":1", "\"v\":2");
        let kind = GOOD.replace("intrusion", "dancing");
        let big = vec![b' '; MAX_MESSAGE + 1];
        for (payload, reason) in [
            (other.as_bytes(), "other_box"),
            (v2.as_bytes(), "version"),
            (kind.as_bytes(), "kind"),
            (b"{not json".as_slice(), "malformed"),
            (br#"{"v":1}"#.as_slice(), "malformed"),
            (big.as_slice(), "too_large"),
        ] {
            assert_eq!(event("porch", payload).unwrap_err().reason(), reason);
        }
    }
}
