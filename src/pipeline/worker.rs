//! The worker thread: everything slow that follows a frame, off the hot thread.
//!
//! It takes [`WorkItem`]s from the hot thread over a bounded `heapless::spsc` queue and owns:
//! - the journal's sender: each event, with its snapshot drawn and JPEG-encoded here, goes on to
//!   the journal's own thread, which batches the SQLite commits;
//! - the metrics [`Publisher`] (Prometheus textfile, one-line log summary);
//! - the box's state file for the uplink (`live.rs`), named and written here;
//! - the [`Health`] probes (sysfs, `statvfs`, maybe a `vcgencmd` spawn), whose events it
//!   journals itself, and whose starts sound the alarms mapped to their kind.
//!
//! It wakes when the hot thread unparks it, or every [`POLL`]. On stop it drains the queue first,
//! so everything enqueued before [`Shared::stop`] was set reaches the journal's sender.

use super::live::{Live, StateWriter};
use super::scene::{Pace, Scenery};
use super::snapshots::Slots;
use crate::event::Event;
use crate::health::Health;
use crate::journal::{JournalItem, JournalSender};
use crate::metrics::{Counter, Publisher, Snapshot};
use heapless::spsc::Consumer;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Slots in the hot thread's queue to the worker (one is kept free).
pub const QUEUE: usize = 64;
/// The longest the worker sleeps between looks at its queue and the health probes.
pub const POLL: Duration = Duration::from_millis(100);

/// One message from the hot thread. Fixed-size: enqueueing it never allocates.
// Both variants are a few hundred bytes; boxing either would allocate on the hot thread.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum WorkItem {
    /// An event for the journal, with the snapshot slot holding its frame, if any.
    Event { event: Event, shot: Option<u8> },
    /// A metrics snapshot to publish.
    Metrics(Snapshot),
    /// The box's state, to write for the uplink.
    State(Live),
    /// The zones' names after a reload, for the state.
    Zones(Vec<String>),
}

/// What the worker and the hot thread share.
#[derive(Debug, Default)]
pub struct Shared {
    /// Set by the hot thread after its last item; the worker drains and ends.
    pub stop: AtomicBool,
    /// Journal items the journal's own queue refused (the hot thread adds its own drops).
    pub journal_dropped: AtomicU64,
}

/// What the worker owns.
pub struct Worker<'q> {
    pub rx: Consumer<'q, WorkItem, QUEUE>,
    pub journal: JournalSender,
    pub shots: &'q Slots,
    /// The zones and lines drawn on snapshots (the hot thread replaces them on reload).
    pub stage: &'q std::sync::Mutex<Scenery>,
    pub shared: &'q Shared,
    pub publisher: Publisher,
    pub health: Health,
    pub epoch: Instant,
    /// Print a progress line on stderr at each metrics snapshot.
    pub progress: bool,
    /// Health events that start sound the alarms mapped to their kind.
    pub alarm: crate::alarm::AlarmHandle,
    /// The box's state file, with an uplink.
    pub state: Option<StateWriter>,
}

impl Worker<'_> {
    /// Runs until told to stop and the queue is empty; gives the journal's sender back.
    pub fn run(mut self) -> JournalSender {
        let mut fps = None;
        loop {
            let stopping = self.shared.stop.load(Ordering::Acquire);
            while let Some(item) = self.rx.dequeue() {
                match item {
                    WorkItem::Event { event, shot } => self.journal(event, shot),
                    WorkItem::Metrics(snap) => {
                        fps = Some(snap.fps);
                        let infer = snap.stage(crate::metrics::Stage::Invoke).p50;
                        self.stage.lock().unwrap_or_else(|p| p.into_inner()).pace = Pace {
                            fps: snap.fps,
                            infer_ms: infer.as_secs_f32() * 1000.0,
                        };
                        self.publish(&snap);
                    }
                    WorkItem::State(live) => {
                        if let Some(w) = &mut self.state {
                            w.offer(live);
                        }
                    }
                    WorkItem::Zones(names) => {
                        if let Some(w) = &mut self.state {
                            w.zones = names;
                        }
                    }
                }
            }
            if let Some(w) = &mut self.state {
                w.poll(fps, self.journal.last_id(), Instant::now(), stopping);
            }
            let mono = self.epoch.elapsed();
            for h in self.health.poll(mono, fps) {
                log::warn!(
                    "health: {} {} ({} vs {})",
                    h.kind,
                    if h.active { "started" } else { "ended" },
                    h.value,
                    h.limit
                );
                if let Some(id) = crate::alarm::Trigger::health(h.kind).filter(|_| h.active) {
                    if let Err(e) = self.alarm.trigger(id) {
                        log::error!("alarm for {}: {e}", h.kind);
                    }
                }
                let synced = crate::arming::clock_synchronised();
                let e = h.to_event(
                    crate::journal::time_now_ms(),
                    mono.as_millis() as u64,
                    synced,
                );
                self.journal(e, None);
            }
            if stopping {
                if self.progress {
                    eprintln!();
                }
                return self.journal;
            }
            std::thread::park_timeout(POLL);
        }
    }

    fn journal(&mut self, event: Event, shot: Option<u8>) {
        let jpeg = shot.and_then(|i| {
            self.shots.encode(i, |scene| {
                let stage = self.stage.lock().unwrap_or_else(|p| p.into_inner());
                stage.overlay(scene, Some((&event.place, event.track_id)))
            })
        });
        let mut item = JournalItem::new(event);
        if let Some(jpeg) = jpeg {
            item = item.with_snapshot(jpeg);
        }
        if self.journal.try_send(item).is_err() {
            self.shared
                .journal_dropped
                .store(self.journal.dropped(), Ordering::Relaxed);
        }
    }

    fn publish(&mut self, snap: &Snapshot) {
        match self.publisher.publish(snap) {
            Ok(Some(line)) => log::info!("{line}"),
            Ok(None) => {}
            Err(e) => log::warn!("{e}"),
        }
        if self.progress {
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r{:>6} frames  {:>5.1} fps  {:>5} inferences  {:>4} events  {:>3} alarms ",
                snap.counter(Counter::Frames),
                snap.fps,
                snap.counter(Counter::Inferences),
                snap.counter(Counter::Events),
                snap.counter(Counter::Alarms),
            );
            let _ = err.flush();
        }
    }
}
