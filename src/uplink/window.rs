//! Which published events the broker has acknowledged, and how far the cursor may move.
//!
//! rumqttc's `publish` returns no packet id. Its event loop takes requests from one FIFO
//! channel, in order, and reports each publish it sends as `Outgoing::Publish(pkid)` in that
//! same order (a publish held back by a packet-id collision is reported when it is finally
//! sent, and nothing behind it is sent first). So the n-th `Outgoing::Publish` of a connection
//! is the n-th publish requested on it: [`Window::sent`] queues each request, and
//! [`Window::assigned`] pairs the next one with its packet id. A `PubAck` then names the event.
//!
//! The cursor may only move to the highest id below which every sent id is acknowledged; an
//! acknowledgement out of order waits for the ones before it. When the connection drops, the
//! window forgets what was in flight: those events are read from the journal and sent again.

use std::collections::{HashMap, VecDeque};

/// One connection's publishes and acknowledgements. Owned by the uplink's main loop; a new
/// connection starts from [`Window::reset`].
#[derive(Debug)]
pub struct Window {
    /// Publishes requested but not yet given a packet id: `Some(id)` for a journal event,
    /// `None` for anything else (availability, discovery).
    unassigned: VecDeque<Option<i64>>,
    /// Packet ids in flight and the event each carries.
    by_pkid: HashMap<u16, Option<i64>>,
    /// Events sent on this connection, in id order, and whether each is acknowledged.
    sent: VecDeque<(i64, bool)>,
    /// Every event up to this id is acknowledged (or was before this connection).
    frontier: i64,
    /// The highest event id handed to the client, or the frontier if none since the reset.
    last_sent: i64,
}

impl Window {
    /// A window whose events up to `acked_through` are already acknowledged.
    pub fn new(acked_through: i64) -> Self {
        Self {
            unassigned: VecDeque::new(),
            by_pkid: HashMap::new(),
            sent: VecDeque::new(),
            frontier: acked_through,
            last_sent: acked_through,
        }
    }

    /// Forgets everything in flight (the connection is gone); the next read starts after the
    /// frontier again.
    pub fn reset(&mut self) {
        *self = Self::new(self.frontier);
    }

    /// Starts over at `acked_through` on the same connection, e.g. for a new journal whose ids
    /// begin again. Publishes still on their way keep their turn, but no longer carry an event.
    pub fn restart_at(&mut self, acked_through: i64) {
        self.unassigned.iter_mut().for_each(|s| *s = None);
        self.by_pkid.values_mut().for_each(|s| *s = None);
        self.sent.clear();
        self.frontier = acked_through;
        self.last_sent = acked_through;
    }

    /// A publish was handed to the client: event `id`, or `None` for another message. Event
    /// ids must rise.
    pub fn sent(&mut self, id: Option<i64>) {
        if let Some(id) = id {
            debug_assert!(id > self.last_sent, "{id} after {}", self.last_sent);
            self.sent.push_back((id, false));
            self.last_sent = id;
        }
        self.unassigned.push_back(id);
    }

    /// The client sent the oldest unassigned publish with packet id `pkid` (0 for QoS 0).
    pub fn assigned(&mut self, pkid: u16) {
        if let Some(slot) = self.unassigned.pop_front() {
            if pkid != 0 {
                self.by_pkid.insert(pkid, slot);
            }
        }
    }

    /// The broker acknowledged packet `pkid`. Returns whether the frontier moved.
    pub fn acked(&mut self, pkid: u16) -> bool {
        let Some(Some(id)) = self.by_pkid.remove(&pkid) else {
            return false;
        };
        // Sent ids rise, so a binary search finds the entry.
        if let Ok(i) = self.sent.binary_search_by_key(&id, |(s, _)| *s) {
            self.sent[i].1 = true;
        }
        let before = self.frontier;
        while let Some(&(id, true)) = self.sent.front() {
            self.frontier = id;
            self.sent.pop_front();
        }
        self.frontier != before
    }

    /// Every event up to this id is acknowledged.
    pub fn frontier(&self) -> i64 {
        self.frontier
    }

    /// The id after which the next events are to be read.
    pub fn last_sent(&self) -> i64 {
        self.last_sent
    }

    /// Events sent and not yet acknowledged.
    pub fn in_flight(&self) -> usize {
        self.sent.iter().filter(|(_, acked)| !acked).count()
    }

    /// Whether any publish (event or not) still awaits its packet id or acknowledgement.
    pub fn idle(&self) -> bool {
        self.unassigned.is_empty() && self.by_pkid.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_in_order_move_the_frontier_one_by_one() {
        let mut w = Window::new(10);
        w.sent(None); // availability
        for id in 11..=13 {
            w.sent(Some(id));
        }
        assert_eq!((w.in_flight(), w.last_sent()), (3, 13));
        for pkid in 1..=4 {
            w.assigned(pkid);
        }
        assert!(!w.acked(1), "the availability message is not an event");
        assert!(w.acked(2));
        assert_eq!(w.frontier(), 11);
        assert!(w.acked(3) && w.acked(4));
        assert_eq!((w.frontier(), w.in_flight()), (13, 0));
        assert!(w.idle());
    }

    #[test]
    fn an_early_ack_waits_for_the_ones_before_it() {
        let mut w = Window::new(0);
        for id in [1, 2, 3, 7] {
            w.sent(Some(id)); // 4..=6 were pruned before they were read
        }
        for pkid in [5, 6, 7, 8] {
            w.assigned(pkid);
        }
        assert!(!w.acked(7), "3 is acknowledged but 1 and 2 are not");
        assert!(!w.acked(8));
        assert_eq!((w.frontier(), w.in_flight()), (0, 2));
        assert!(w.acked(5));
        assert_eq!(w.frontier(), 1);
        assert!(w.acked(6));
        assert_eq!(
            w.frontier(),
            7,
            "a gap in the ids does not hold the frontier"
        );
    }

    #[test]
    fn packet_ids_are_reused_after_their_ack() {
        let mut w = Window::new(0);
        w.sent(Some(1));
        w.assigned(1);
        assert!(w.acked(1));
        w.sent(Some(2));
        w.assigned(1);
        assert!(!w.acked(2), "an unknown packet id is ignored");
        assert!(w.acked(1));
        assert_eq!(w.frontier(), 2);
    }

    #[test]
    fn qos0_publishes_take_their_turn_without_a_packet_id() {
        let mut w = Window::new(0);
        w.sent(None);
        w.sent(Some(1));
        w.assigned(0);
        w.assigned(3);
        assert!(w.acked(3));
        assert_eq!(w.frontier(), 1);
    }

    #[test]
    fn a_reset_forgets_what_was_in_flight_and_rereads_after_the_frontier() {
        let mut w = Window::new(5);
        for id in 6..=9 {
            w.sent(Some(id));
        }
        for pkid in 1..=4 {
            w.assigned(pkid);
        }
        assert!(w.acked(1) && w.acked(2));
        assert!(!w.acked(4));
        w.reset();
        assert_eq!((w.frontier(), w.last_sent(), w.in_flight()), (7, 7, 0));
        assert!(!w.acked(3), "acks of the old connection mean nothing now");
        assert!(w.idle());
    }

    #[test]
    fn a_restart_keeps_publishes_in_their_turn_but_forgets_their_events() {
        let mut w = Window::new(100);
        w.sent(Some(101));
        w.sent(Some(102));
        w.assigned(1);
        w.restart_at(0);
        assert_eq!((w.frontier(), w.last_sent(), w.in_flight()), (0, 0, 0));
        w.sent(Some(1));
        w.assigned(2); // event 102 of the old journal
        w.assigned(3); // event 1 of the new one
        assert!(!w.acked(1) && !w.acked(2));
        assert!(w.acked(3));
        assert_eq!(w.frontier(), 1);
        assert!(w.idle());
    }
}
