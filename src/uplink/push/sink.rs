//! One sink's life on its own thread: read the journal after its cursor, pick the events its
//! filters select, send each (or fold a burst into a summary), and move its cursor only over
//! what the server took with a 2xx.
//!
//! Retrying: a 3xx or 4xx answer is logged once and retried every [`REFUSED_RETRY`]; a 5xx
//! answer or a network error is logged once per new reason and retried with the uplink's
//! backoff (0.5 s doubling to 30 s). Nothing is skipped while a request fails.

use super::format::{self, Folded, Request};
use super::http::Failure;
use super::rate::{Rate, WINDOW};
use super::{PushKind, Sink};
use crate::journal::StoredEvent;
use crate::uplink::outbox::{Opened, Outbox, Outgoing};
use crate::uplink::run::{take_up_cursor, Backoff};
use crate::uplink::{Cursor, UplinkError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often a refused request is tried again.
pub const REFUSED_RETRY: Duration = Duration::from_secs(60);
/// How often the journal is looked at for new events.
const POLL: Duration = Duration::from_millis(100);
/// Events read per look.
const BATCH: usize = 64;
/// The cursor is stored at least this often while only unselected events pass.
const STORE_EVERY: Duration = Duration::from_secs(1);

struct Run<'a> {
    s: &'a Sink,
    stop: &'a AtomicBool,
    outbox: Outbox,
    cursor: Cursor,
    stored: i64,
    stored_at: Instant,
    /// The last id read.
    seen: i64,
    armed: bool,
    rate: Rate,
    /// Selected events held back by the rate, and the last id read while holding them.
    folded: Vec<Folded>,
    folded_through: i64,
    trouble: Option<String>,
}

/// Runs the sink until `stop` is set. An error only for what retrying cannot fix.
pub fn run(s: &Sink, stop: &AtomicBool) -> Result<(), UplinkError> {
    let Some(outbox) = open(s, stop)? else {
        return Ok(());
    };
    let cursor = take_up_cursor(&s.cursor_file, &outbox)?;
    let armed = outbox.armed_at(cursor.acked_through)?.unwrap_or(true);
    log::info!(
        "push {}: {} → {} ({:?}), from journal event {}",
        s.label,
        s.journal.display(),
        s.url,
        s.kind,
        cursor.acked_through + 1
    );
    let mut r = Run {
        s,
        stop,
        outbox,
        seen: cursor.acked_through,
        stored: cursor.acked_through,
        cursor,
        stored_at: Instant::now(),
        armed,
        rate: Rate::new(s.max_per_minute),
        folded: Vec::new(),
        folded_through: 0,
        trouble: None,
    };
    let end = r.main();
    r.store(true)?;
    log::info!(
        "push {}: stopped; {} has every selected event up to {}",
        s.label,
        s.url,
        r.cursor.acked_through
    );
    end
}

/// The journal, waited for while it is not there yet; `None` when stopped meanwhile.
fn open(s: &Sink, stop: &AtomicBool) -> Result<Option<Outbox>, UplinkError> {
    let mut said = false;
    loop {
        match Outbox::open(&s.journal, s.snapshots)? {
            Opened::Ready(o) => return Ok(Some(o)),
            Opened::NotYet(why) if !said => {
                log::warn!(
                    "push {}: journal {}: {why}; waiting",
                    s.label,
                    s.journal.display()
                );
                said = true;
            }
            Opened::NotYet(_) => {}
        }
        if !sleep(POLL * 5, stop) {
            return Ok(None);
        }
    }
}

/// Sleeps `d` in short steps; `false` when the stop flag was set meanwhile.
fn sleep(d: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + d;
    loop {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        let now = Instant::now();
        if now >= until {
            return true;
        }
        std::thread::sleep((until - now).min(POLL));
    }
}

impl Run<'_> {
    fn main(&mut self) -> Result<(), UplinkError> {
        while !self.stop.load(Ordering::SeqCst) {
            if self.outbox.replaced() {
                self.store(true)?;
                let Some(o) = open(self.s, self.stop)? else {
                    return Ok(());
                };
                log::warn!(
                    "push {}: the journal was replaced; taking up the new one",
                    self.s.label
                );
                self.cursor = take_up_cursor(&self.s.cursor_file, &o)?;
                self.outbox = o;
                self.seen = self.cursor.acked_through;
                self.folded.clear();
            }
            let batch = self.outbox.read_after(self.seen, BATCH)?;
            let idle = batch.is_empty();
            for out in batch {
                if !self.take(out) {
                    return Ok(());
                }
                self.store(false)?;
            }
            if !self.folded.is_empty() && self.rate.free(Instant::now()) {
                if !self.send_summary() {
                    return Ok(());
                }
                self.store(false)?;
            }
            if idle && !sleep(POLL, self.stop) {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Handles one event; `false` when stopped while sending.
    fn take(&mut self, (ev, jpeg): Outgoing) -> bool {
        self.seen = ev.id;
        match ev.kind.as_str() {
            "armed" => self.armed = true,
            "disarmed" => self.armed = false,
            _ => {}
        }
        if !self.selects(&ev) {
            if self.folded.is_empty() {
                self.cursor.acked_through = ev.id;
            } else {
                self.folded_through = ev.id;
            }
            return true;
        }
        if !self.folded.is_empty() || !self.rate.free(Instant::now()) {
            self.folded.push(Folded {
                id: ev.id,
                kind: ev.kind.clone(),
                place: ev.place.clone(),
            });
            self.folded_through = ev.id;
            return true;
        }
        let req = match self.s.kind {
            PushKind::Ntfy => format::ntfy_event(&self.s.box_id, &ev, jpeg.as_deref()),
            PushKind::Webhook => {
                format::webhook_event(&self.s.box_id, &ev, jpeg.as_deref(), self.s.multipart)
            }
        };
        if !self.deliver(&req, ev.id) {
            return false;
        }
        self.cursor.acked_through = ev.id;
        true
    }

    fn send_summary(&mut self) -> bool {
        let req = match self.s.kind {
            PushKind::Ntfy => format::ntfy_summary(&self.s.box_id, &self.folded, WINDOW.as_secs()),
            PushKind::Webhook => format::webhook_summary(&self.s.box_id, &self.folded),
        };
        if !self.deliver(&req, self.folded_through) {
            return false;
        }
        log::debug!(
            "push {}: {} events folded into one summary",
            self.s.label,
            self.folded.len()
        );
        self.folded.clear();
        self.cursor.acked_through = self.folded_through;
        true
    }

    /// Whether the sink's filters select `ev`.
    fn selects(&self, ev: &StoredEvent) -> bool {
        selects(self.s, self.armed, ev)
    }

    /// Sends `req` until a 2xx answer; `false` when stopped first.
    fn deliver(&mut self, req: &Request, id: i64) -> bool {
        let mut backoff = Backoff::default();
        loop {
            let failure = match self.s.http.send(req) {
                Ok(()) => {
                    self.rate.record(Instant::now());
                    if self.trouble.take().is_some() {
                        log::info!("push {}: {} takes messages again", self.s.label, self.s.url);
                    }
                    return true;
                }
                Err(f) => f,
            };
            let (why, wait, hint) = match failure {
                Failure::Refused(why) => (
                    why,
                    REFUSED_RETRY,
                    format!(
                        "check the url and token_file; retrying every {} s",
                        REFUSED_RETRY.as_secs()
                    ),
                ),
                Failure::Trouble(why) => (why, backoff.next_delay(), "retrying".to_owned()),
            };
            if self.trouble.as_ref() != Some(&why) {
                log::error!(
                    "push {}: {} {why} (event {id}); {hint}",
                    self.s.label,
                    self.s.url
                );
                self.trouble = Some(why);
            }
            if !sleep(wait, self.stop) {
                return false;
            }
        }
    }

    /// Writes the cursor when it moved: at once after a delivery, else at most every second.
    fn store(&mut self, now: bool) -> Result<(), UplinkError> {
        let moved = self.cursor.acked_through != self.stored;
        if !moved || (!now && self.stored_at.elapsed() < STORE_EVERY && !self.delivered_since()) {
            return Ok(());
        }
        self.cursor.updated_ms = crate::journal::time_now_ms();
        self.cursor.store(&self.s.cursor_file)?;
        self.stored = self.cursor.acked_through;
        self.stored_at = Instant::now();
        Ok(())
    }

    /// Whether a message went since the cursor was last stored.
    fn delivered_since(&self) -> bool {
        self.rate.last().is_some_and(|t| t >= self.stored_at)
    }
}

/// Whether `s`'s filters select `ev`, the box `armed` or not: its kind is one of `kinds`; and a
/// rule event's rule is one of `rules` (when given), and the box armed (with `armed_only`).
fn selects(s: &Sink, armed: bool, ev: &StoredEvent) -> bool {
    if !s.kinds.contains(&ev.kind) {
        return false;
    }
    let rule_kind = crate::event::EventKind::parse(&ev.kind).is_some_and(|k| k.is_rule());
    if !rule_kind {
        return true;
    }
    if s.armed_only && !armed {
        return false;
    }
    if s.rules.is_empty() {
        return true;
    }
    let detail = super::super::message::detail_object(ev.detail.as_deref());
    detail["rule"]
        .as_str()
        .is_some_and(|r| s.rules.iter().any(|x| x == r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uplink::push::{resolve, PushConfig};
    use std::path::Path;

    fn sink(extra: &str) -> Sink {
        let c: PushConfig = toml::from_str(&format!(
            "kind = \"ntfy\"\nurl = \"http://127.0.0.1:9/t\"\n{extra}"
        ))
        .unwrap();
        resolve(&[c], "porch", Path::new("/j.db"), Path::new("/j.db.uplink"))
            .unwrap()
            .remove(0)
    }

    fn ev(kind: &str, rule: &str) -> StoredEvent {
        StoredEvent {
            id: 1,
            ts_ms: 0,
            mono_ms: 0,
            clock_synced: true,
            kind: kind.into(),
            place: "walkway".into(),
            track_id: None,
            score: None,
            bbox: None,
            direction: None,
            detail: Some(format!("{{\"rule\":\"{rule}\"}}")),
            snapshot_bytes: None,
        }
    }

    #[test]
    fn kinds_rules_and_armed_only_select() {
        let all = sink("");
        assert!(selects(&all, false, &ev("intrusion", "a")));
        assert!(selects(&all, true, &ev("camera_lost", "")));
        assert!(!selects(&all, true, &ev("armed", "")), "not a default kind");
        assert!(!selects(&all, true, &ev("alarm_off", "")));

        let some = sink("kinds = [\"loiter\", \"tamper\"]\nrules = [\"b\"]\narmed_only = true");
        assert!(selects(&some, true, &ev("loiter", "b")));
        assert!(!selects(&some, true, &ev("loiter", "a")), "another rule");
        assert!(!selects(&some, false, &ev("loiter", "b")), "disarmed");
        assert!(
            selects(&some, false, &ev("tamper", "")),
            "faults pass disarmed"
        );
        assert!(
            !selects(&some, true, &ev("intrusion", "b")),
            "not a kind of the sink"
        );
    }
}
