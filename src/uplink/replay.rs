//! Replay requests: the hub asks on `<prefix>/<box_id>/replay` (`{"from": A, "to": B}`) for
//! journal events it found missing (a broker that lost what it had acknowledged), and the uplink
//! publishes them again on `…/events` from its journal. Ids the journal has pruned become one
//! `uplink_gap` message whose `id` is the first of them and whose `detail` names them
//! (`{"from": A, "to": C}`), so that the hub stops asking. Events past the journal's newest are
//! not there yet and are left for the normal stream.

use super::message::event_message;
use super::session::Link;
use crate::journal::StoredEvent;
use rumqttc::AsyncClient;
use serde::Deserialize;

/// The most events one request is answered with; the hub asks again for the rest.
pub const REPLAY_MAX: i64 = 1000;

/// A replay request as the hub sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub from: i64,
    pub to: i64,
}

impl Request {
    pub fn parse(payload: &[u8]) -> Result<Self, String> {
        let r: Request = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
        if r.from < 1 || r.to < r.from {
            return Err(format!("from {} to {} is not a range of ids", r.from, r.to));
        }
        Ok(r)
    }

    pub fn payload(&self) -> Vec<u8> {
        format!("{{\"from\":{},\"to\":{}}}", self.from, self.to).into_bytes()
    }
}

/// The message that says the journal pruned `from..=to` before the hub had them.
pub fn gap_event(from: i64, to: i64) -> StoredEvent {
    StoredEvent {
        id: from,
        ts_ms: crate::journal::time_now_ms(),
        mono_ms: 0,
        clock_synced: true,
        kind: "uplink_gap".into(),
        place: String::new(),
        track_id: None,
        score: None,
        bbox: None,
        direction: None,
        detail: Some(format!("{{\"from\":{from},\"to\":{to},\"replay\":true}}")),
        snapshot_bytes: None,
    }
}

impl Link<'_> {
    pub(super) fn is_replay(&self, topic: &str) -> bool {
        topic == self.s.topic("replay")
    }

    /// Takes a replay request; [`Link::pump_replay`] answers it as the window allows. A new
    /// request replaces one still being answered (the hub asks again for what it still lacks).
    pub(super) fn replay_request(&mut self, payload: &[u8]) {
        match Request::parse(payload) {
            Ok(r) => {
                log::info!(
                    "uplink: the hub asked for events {} to {} again",
                    r.from,
                    r.to
                );
                self.replay = Some(Request {
                    from: r.from,
                    to: r.to.min(r.from + REPLAY_MAX - 1),
                });
            }
            Err(why) => log::warn!("uplink: a replay request that is not one ({why}); ignored"),
        }
    }

    /// Publishes the next of the requested events the window has room for.
    pub(super) fn pump_replay(&mut self, client: &AsyncClient) {
        let Some(r) = self.replay else { return };
        let room = self.s.inflight.saturating_sub(self.window.in_flight());
        if room == 0 {
            return;
        }
        let want = usize::try_from(r.to - r.from + 1).unwrap_or(0).min(room);
        let events = match self.outbox.read_after(r.from - 1, want) {
            Ok(v) => v,
            Err(e) => {
                log::warn!("uplink: replay of {} to {}: {e}", r.from, r.to);
                return;
            }
        };
        let topic = self.s.topic("events");
        let pruned_to = match events.first() {
            Some((first, _)) => (first.id - 1).min(r.to),
            // Nothing at or after `from`: not written yet, or the journal is empty.
            None => r.from - 1,
        };
        if pruned_to >= r.from {
            let m = event_message(&self.s.box_id, &gap_event(r.from, pruned_to), None);
            self.publish(client, &topic, false, m.payload);
            log::warn!(
                "uplink: events {} to {pruned_to} the hub asked for were pruned; sent uplink_gap",
                r.from
            );
        }
        let mut next = pruned_to.max(r.from - 1) + 1;
        for (ev, jpeg) in events.iter().filter(|(ev, _)| ev.id <= r.to) {
            let m = event_message(&self.s.box_id, ev, jpeg.as_deref());
            self.publish(client, &topic, false, m.payload);
            next = ev.id + 1;
        }
        self.replay = (events.len() == want && next <= r.to).then_some(Request {
            from: next,
            to: r.to,
        });
        if self.replay.is_none() {
            log::info!("uplink: replayed events {} to {}", r.from, next - 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_print_alike() {
        let r = Request::parse(br#"{"from":3,"to":9}"#).unwrap();
        assert_eq!(r, Request { from: 3, to: 9 });
        assert_eq!(Request::parse(&r.payload()), Ok(r));
        assert!(Request::parse(br#"{"from":9,"to":3}"#).is_err());
        assert!(Request::parse(br#"{"from":0,"to":3}"#).is_err());
        assert!(Request::parse(br#"{"from":1}"#).is_err());
    }
}
