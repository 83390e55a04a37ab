//! `max_per_minute`: the messages a sink sent in the last 60 s, and whether another may go.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The window `max_per_minute` counts over.
pub const WINDOW: Duration = Duration::from_secs(60);

/// When the last messages were sent, at most `max` of them within [`WINDOW`].
#[derive(Debug)]
pub struct Rate {
    max: usize,
    sent: VecDeque<Instant>,
}

impl Rate {
    pub fn new(max_per_minute: u32) -> Self {
        Self {
            max: max_per_minute.max(1) as usize,
            sent: VecDeque::new(),
        }
    }

    /// Whether a message may go at `now`.
    pub fn free(&mut self, now: Instant) -> bool {
        while self
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            self.sent.pop_front();
        }
        self.sent.len() < self.max
    }

    /// When the last message was sent.
    pub fn last(&self) -> Option<Instant> {
        self.sent.back().copied()
    }

    /// Counts a message sent at `now`.
    pub fn record(&mut self, now: Instant) {
        self.sent.push_back(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_max_per_rolling_minute() {
        let t0 = Instant::now();
        let mut r = Rate::new(2);
        assert!(r.free(t0));
        r.record(t0);
        r.record(t0 + Duration::from_secs(10));
        assert!(!r.free(t0 + Duration::from_secs(59)));
        assert!(r.free(t0 + WINDOW), "the first left the window");
        r.record(t0 + WINDOW);
        assert!(!r.free(t0 + Duration::from_secs(69)));
        assert!(r.free(t0 + Duration::from_secs(70)));
    }
}
