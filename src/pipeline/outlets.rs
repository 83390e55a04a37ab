//! Where a frame's results go: alarms to the output thread, events and metrics to the worker's
//! queue, and the output thread's own alarm events back to the journal. Everything here runs on
//! the hot thread and allocates nothing.

use super::live::{Live, Pacer};
use super::scene::{Scene, Scenery};
use super::snapshots::Slots;
use super::worker::{self, WorkItem, QUEUE};
use crate::alarm::{AlarmHandle, Notices, Trigger};
use crate::arming::Mode;
use crate::event::{Event, EventKind};
use crate::metrics::{Counter, Metrics, Snapshot};
use crate::notify::Notifier;
use crate::rules::{Fired, RuleId, Rules, Verdict};
use crate::track::Track;
use heapless::spsc::Producer;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Logs the frame's number and its source timestamp (a camera's is CLOCK_MONOTONIC) at debug,
/// with its tracks and how many stand in a watched zone, and each rule event with them at info,
/// so that an event or an alarm can be traced to the frame that raised it (the HIL tests count
/// frames and measure the alarm latency from these lines). Called before the alarms are sent.
/// The per-frame line costs nothing unless debug logging is on; rule events are rare.
pub(super) fn log_frame(seq: u64, stamp: Duration, tracks: usize, verdict: &Verdict) {
    let stamp = stamp.as_secs_f64();
    log::debug!(
        "frame {seq} stamped {stamp:.6} s: {tracks} tracks, {} in zones",
        verdict.in_zones
    );
    for e in verdict.events.iter().filter(|e| e.kind.is_rule()) {
        log::info!(
            "frame {seq} stamped {stamp:.6} s: {} {} track {}",
            e.kind,
            e.place,
            e.track_id.unwrap_or(0)
        );
    }
}

/// The output thread's trigger for what a verdict fired: rules keep their index.
fn trigger(fired: Fired) -> Trigger {
    match fired {
        Fired::Rule(RuleId(i)) => Trigger::Rule(i),
        Fired::Tamper => Trigger::Tamper,
    }
}

/// Where a frame's results go: the output thread, the worker, the metrics, systemd.
pub(super) struct Outlets<'s> {
    pub(super) alarm: AlarmHandle,
    pub(super) notices: Notices,
    pub(super) notice_buf: heapless::Vec<Event, 16>,
    pub(super) work: Producer<'s, WorkItem, QUEUE>,
    pub(super) worker: Option<std::thread::Thread>,
    pub(super) shots: &'s Slots,
    /// What is drawn on this frame's snapshots, captured when an event may take one.
    pub(super) scene: Scene,
    /// The config's zones and lines for drawing, shared with the worker; replaced on reload.
    pub(super) stage: &'s std::sync::Mutex<Scenery>,
    /// The live view's end on this thread, with `[preview]`.
    pub(super) preview: Option<crate::preview::Tap<Scene>>,
    pub(super) shared: &'s worker::Shared,
    pub(super) metrics: Metrics,
    pub(super) pending_metrics: Option<Snapshot>,
    /// Journal items this thread dropped because the worker's queue was full.
    pub(super) dropped: u64,
    pub(super) notify: Notifier,
    /// The box's state for the uplink (`live.rs`), when `[uplink]` is configured.
    pub(super) state: Option<StateOut>,
}

/// The hot thread's end of the box's state: what it knows now, and when it last handed it on.
pub(super) struct StateOut {
    pub(super) live: Live,
    pub(super) pacer: Pacer,
    /// `[[outputs]]` names, to find an alarm event's output.
    pub(super) outputs: Vec<String>,
    /// Zone names after a reload, not yet taken by the worker.
    pub(super) zones: Option<Vec<String>>,
}

impl StateOut {
    pub(super) fn new(cfg: &crate::config::Config) -> Self {
        StateOut {
            live: Live::default(),
            pacer: Pacer::default(),
            outputs: cfg.outputs.iter().map(|o| o.name.clone()).collect(),
            zones: None,
        }
    }

    /// Takes the rules' and the tracks' share of the state, when it is time to look again.
    pub(super) fn look(
        &mut self,
        rules: &Rules,
        mode: Mode,
        tracks: &[Track],
        mono: Duration,
        wall: Duration,
    ) {
        if !self.pacer.look(wall) {
            return;
        }
        let live = &mut self.live;
        live.armed = rules.armed();
        live.mode = mode;
        live.people = tracks.iter().filter(|t| t.is_confirmed()).count() as u16;
        rules.zone_counts(tracks, &mut live.zones);
        live.firing = rules.firing(mono);
    }
}

impl Outlets<'_> {
    /// Sends each alarm of the verdict to the output thread.
    pub(super) fn alarms(&mut self, verdict: &Verdict) {
        for &fired in &verdict.alarms {
            self.metrics.inc(Counter::Alarms);
            let trigger = trigger(fired);
            if let Err(e) = self.alarm.trigger(trigger) {
                log::error!("alarm {trigger:?}: {e}");
            }
        }
    }

    /// Queues an event for the journal; a full queue drops it, counted.
    pub(super) fn event(&mut self, event: Event, shot: Option<u8>) {
        self.metrics.inc(Counter::Events);
        if let Err(WorkItem::Event { shot, .. }) =
            self.work.enqueue(WorkItem::Event { event, shot })
        {
            if let Some(i) = shot {
                self.shots.release(i);
            }
            self.dropped += 1;
        }
        self.wake();
    }

    /// Moves the output thread's alarm events to the journal.
    pub(super) fn drain_notices(&mut self) {
        self.notices.drain_into(&mut self.notice_buf);
        let mut buf = std::mem::take(&mut self.notice_buf);
        for e in &buf {
            if let Some(st) = &mut self.state {
                let on = match e.kind {
                    EventKind::AlarmOn => Some(true),
                    EventKind::AlarmOff | EventKind::AlarmReset => Some(false),
                    _ => None,
                };
                let output = st.outputs.iter().position(|n| **n == *e.place);
                if let (Some(on), Some(i)) = (on, output) {
                    st.live.set_output(i, on);
                }
            }
            self.event(e.clone(), None);
        }
        buf.clear();
        self.notice_buf = buf;
    }

    /// Sends a metrics snapshot when one is due (or `force`d); one that finds the queue full
    /// waits for the next frame rather than being dropped.
    pub(super) fn flush_metrics(&mut self, mono: Duration, force: bool) {
        let drops = self.dropped + self.shared.journal_dropped.load(Ordering::Relaxed);
        self.metrics.set(Counter::QueueDrops, drops);
        if self.pending_metrics.is_none() && (force || self.metrics.due(mono)) {
            self.pending_metrics = Some(self.metrics.snapshot(mono));
        }
        if let Some(s) = self.pending_metrics.take() {
            if let Err(WorkItem::Metrics(s)) = self.work.enqueue(WorkItem::Metrics(s)) {
                self.pending_metrics = Some(s);
            }
            self.wake();
        }
    }

    /// Hands the box's state to the worker when it is due (see `live.rs`), or at once when
    /// `force`d; one that finds the queue full is tried again at the next call.
    pub(super) fn offer_state(&mut self, wall: Duration, force: bool) {
        let Some(st) = &mut self.state else { return };
        if let Some(names) = st.zones.take() {
            if let Err(WorkItem::Zones(names)) = self.work.enqueue(WorkItem::Zones(names)) {
                st.zones = Some(names);
                return;
            }
        }
        if force || st.pacer.due(&st.live, wall) {
            if self.work.enqueue(WorkItem::State(st.live)).is_ok() {
                st.pacer.sent(st.live, wall);
            }
            self.wake();
        }
    }

    /// Takes the zones and lines of a reloaded config for drawing, keeping the pace.
    pub(super) fn replace_scenery(&mut self, mut new: Scenery) {
        let mut old = self.stage.lock().unwrap_or_else(|p| p.into_inner());
        new.pace = old.pace;
        *old = new;
    }

    /// Whether the live view wants this frame: one atomic load while nobody watches.
    pub(super) fn preview_due(&mut self, wall: Duration) -> bool {
        self.preview.as_mut().is_some_and(|t| t.due(wall))
    }

    /// Hands `frame` and the scene captured for it to the live view.
    pub(super) fn offer_preview(&mut self, frame: Option<picket_image::Rgb8View<'_>>) {
        if let (Some(tap), Some(f)) = (&mut self.preview, frame) {
            tap.offer(f, &self.scene);
        }
    }

    fn wake(&self) {
        if let Some(w) = &self.worker {
            w.unpark();
        }
    }
}
