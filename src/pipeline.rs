//! One frame's path, top to bottom: source → motion gate → preprocess → detect → track → rules →
//! alarms and journal. `DESIGN.md` draws it; [`Pipeline`] states its contract.
//!
//! The file has two halves: [`run`] sets everything up once (threads, queues, buffers) and tears
//! it down in order; `Hot::step` is one frame, and reads like the diagram. The threads'
//! plumbing lives beside it: [`worker`] (journal, snapshots, metrics, health, the box's state)
//! and `snapshots`; [`live`] is the box's state for the uplink; `tamper` judges the view on
//! every frame; `between` holds the small conversions between stages; `sd_notify` is
//! [`crate::notify`].

pub(crate) mod between;
mod clock;
pub mod live;
mod news;
mod outlets;
pub mod scene;
mod snapshots;
mod tamper;
mod tracks_out;
pub mod worker;

use crate::alarm::{self, AlarmError};
use crate::arming::{self, ArmingShared, WatchError};
use crate::config::Config;
use crate::detect::{DetectError, Detections, Detector, SsdDetector, Tiler};
use crate::event::{Event, EventKind};
use crate::health::{Health, Probes};
use crate::journal::{Journal, JournalError, JournalStatus};
use crate::metrics::{Counter, Metrics, Publisher, Stage};
use crate::motion::{MotionError, MotionGate, Tracks};
use crate::notify::Notifier;
use crate::rules::{Now, Rules, RulesError, Verdict};
use crate::source::{FrameSource, Next, SourceError};
use crate::track::starts::StartWatch;
use crate::track::{Track, Tracker};
use between::{from_roi, luma, Decoded};
use clock::FrameClock;
use heapless::spsc::Queue;
use outlets::Outlets;
use picket_geom::NormRect;
use picket_image::{FrameRef, PixelFormat, Preprocessor};
use scene::{Scene, Scenery};
use snapshots::Slots;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use worker::{WorkItem, Worker, QUEUE};

/// The appliance's main job: one camera, forever (or to the end of a file).
///
/// # Contract
/// - **Threads.** The thread that calls [`run`] becomes the **hot thread**: it owns the source,
///   the motion gate, the preprocessor, the detector, the tracker and the rules, runs them in
///   order on every frame, and allocates nothing per frame once warmed up. Beside it run:
///   - the **output thread** ([`crate::alarm::spawn`]), which owns the GPIO lines and times the
///     patterns; the hot thread sends it one command per alarm, never dropped;
///   - the **worker thread** ([`worker`]), fed over a bounded `heapless::spsc` queue with events,
///     snapshot slots and metrics snapshots; it draws and encodes snapshots, publishes metrics,
///     polls health, and hands events to the **journal thread** ([`Journal`]);
///   - the **input watcher** ([`crate::arming::watch`]): keyswitch, tamper, the arming file.
/// - **What may be lost.** Only journal items: when the worker's queue (or the journal's) is
///   full the item is counted in `queue_drops` and dropped. Alarms go to the output thread on
///   their own queue, and a slow disk never delays them; metrics snapshots wait for room.
/// - **Control.** [`Control::stop`] (SIGTERM, SIGINT) ends the loop after the current frame;
///   [`Control::reload`] (SIGHUP) re-reads the config file and swaps in its zones and rules if it
///   is valid and names the same rules in the same order (the alarm mappings are by rule), else
///   logs why and keeps the old ones. A reload restarts the rules' memories (dwell times).
/// - **Shutdown**, at stop, end of file or a fatal error: `stopped` is journalled, the outputs go
///   to their safe level (the output thread ends holding them inactive), the worker drains its
///   queue, the journal commits and checkpoints. `sd_notify` says `STOPPING=1`.
/// - **Watchdog.** `READY=1` after the first frame; `WATCHDOG=1` from the loop's progress only,
///   so a stuck source or detector lets systemd restart picket.
/// - **What survives a crash.** The committed journal (at most the last uncommitted batch is
///   lost) and the arming state file. Tracks, rule memories and latched alarms do not; in
///   `picket run` a panic drives every output inactive through
///   [`crate::alarm::pin::install_panic_hook`].
pub enum Pipeline {}

/// Why the pipeline could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Detect(#[from] DetectError),
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error(transparent)]
    Alarm(#[from] AlarmError),
    #[error(transparent)]
    Watch(#[from] WatchError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Motion(#[from] MotionError),
    #[error("--tracks-out {}: {cause}", path.display())]
    TracksOut {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(transparent)]
    Preview(#[from] crate::preview::SocketError),
    #[error("cannot start the {0} thread: {1}")]
    Spawn(&'static str, std::io::Error),
}

/// Run-time switches that are not part of the config.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Stop after this many frames (tests, benchmarks).
    pub max_frames: Option<u64>,
    /// The file SIGHUP reloads zones and rules from; none ignores reloads.
    pub config_path: Option<PathBuf>,
    /// A progress line on stderr at each metrics snapshot.
    pub progress: bool,
    /// Count the hot thread's allocations from this frame on, into [`Summary::allocations`]
    /// (only meaningful where [`crate::alloc_count::CountingAlloc`] is the global allocator).
    pub count_allocations_from: Option<u64>,
    /// Write the tracker's output here, in MOTChallenge format (`picket run --tracks-out`).
    pub tracks_out: Option<PathBuf>,
}

/// What the signal handlers (or a test) set.
#[derive(Debug, Clone, Copy)]
pub struct Control<'a> {
    pub stop: &'a AtomicBool,
    pub reload: &'a AtomicBool,
}

/// The counts of a finished run.
#[derive(Debug, Clone)]
pub struct Summary {
    pub frames: u64,
    pub inferences: u64,
    pub skipped: u64,
    pub events: u64,
    pub alarms: u64,
    /// Journal items dropped because a queue was full.
    pub dropped: u64,
    pub reloads: u64,
    /// Hot-thread allocations counted (see [`Options::count_allocations_from`]).
    pub allocations: Option<u64>,
    pub journal: JournalStatus,
}

/// Opens the configured source and runs the pipeline on it. See [`Pipeline`].
pub fn run(cfg: &Config, opts: &Options, ctl: Control<'_>) -> Result<Summary, PipelineError> {
    let source = crate::source::open(&cfg.source)?;
    run_with_source(cfg, source, opts, ctl)
}

/// The rule engine of a validated config.
fn rules_of(cfg: &Config) -> Result<Rules, RulesError> {
    Rules::new(&cfg.zones, &cfg.lines, &cfg.rules, &cfg.arming)
}

/// Runs the pipeline on `source` until stopped or the source ends. See [`Pipeline`].
pub fn run_with_source(
    cfg: &Config,
    source: Box<dyn FrameSource + Send>,
    opts: &Options,
    ctl: Control<'_>,
) -> Result<Summary, PipelineError> {
    let epoch = Instant::now();
    let info = source.info().clone();
    log::info!("source: {}", info.description);
    let rules = rules_of(cfg)?;
    let names: Vec<&str> = rules.rule_names().collect();
    let engine = alarm::build(&cfg.outputs, &cfg.alarms, cfg.healthy.as_ref(), &names)?;
    let (alarm, notices, outputs) = alarm::spawn(engine, epoch, arming::clock_synchronised)
        .map_err(|e| PipelineError::Spawn("output", e))?;
    let arming = Arc::new(ArmingShared::default());
    let watch_stop = Arc::new(AtomicBool::new(false));
    let resets = alarm.clone();
    let watcher = arming::watch::spawn(
        &cfg.inputs,
        cfg.arming.state_file.clone(),
        cfg.arming_requests(),
        arming.clone(),
        move || {
            let _ = resets.reset();
        },
        watch_stop.clone(),
    )?;
    let (journal, tx) = Journal::spawn(&cfg.run_journal())?;
    let det = SsdDetector::new(&cfg.model, &cfg.detector)?;
    log::info!("{}", crate::detect::detector::describe(&det));
    let (w, h) = det.input_size();
    let roi = cfg.detector_roi();
    let tracks_out =
        match &opts.tracks_out {
            Some(p) => Some(tracks_out::TracksOut::create(p).map_err(|cause| {
                PipelineError::TracksOut {
                    path: p.clone(),
                    cause,
                }
            })?),
            None => None,
        };
    let shots = Slots::new(info.width, info.height);
    let stage = Arc::new(Mutex::new(Scenery::of(cfg)));
    let (preview, tap) = scene::live_view(cfg, &stage)?.unzip();
    let shared = worker::Shared::default();
    let mut queue: Queue<WorkItem, QUEUE> = Queue::new();
    let (work, rx) = queue.split();

    let mut hot = Hot {
        source,
        see: Seeing {
            gate: MotionGate::new(&cfg.motion)?.keep_cells(cfg.tamper.enabled),
            pre: Preprocessor::new(w, h, roi),
            det,
            dets: Detections::with_capacity(cfg.detector.max_detections),
            tiles: Tiler::new(&cfg.detector, roi),
            tracker: Tracker::new(cfg.tracker.clone(), cfg.detector.threshold),
            starts: StartWatch::new(
                cfg.tracker.scores(cfg.detector.threshold),
                cfg.tracker.confirm_hits,
            ),
            roi,
            last_inference: None,
        },
        rules,
        verdict: Verdict::default(),
        tamper: tamper::Watch::of(&cfg.tamper),
        arming,
        out: Outlets {
            alarm: alarm.clone(),
            notices,
            notice_buf: heapless::Vec::new(),
            work,
            worker: None,
            shots: &shots,
            scene: Scene::default(),
            stage: &stage,
            preview: tap,
            shared: &shared,
            metrics: Metrics::new(&cfg.metrics),
            pending_metrics: None,
            dropped: 0,
            notify: Notifier::from_env(),
            state: cfg.state_json().map(|_| outlets::StateOut::new(cfg)),
        },
        epoch,
        reloads: 0,
        clock: FrameClock::default(),
        tracks_out,
    };
    let journal_dir = cfg.journal.path.parent().map(|p| p.to_path_buf());
    let result = std::thread::scope(|scope| {
        let worker = Worker {
            rx,
            journal: tx,
            shots: &shots,
            stage: &stage,
            shared: &shared,
            publisher: Publisher::new(&cfg.metrics).with_uplink(
                cfg.uplink_state_file()
                    .map(|s| (cfg.journal.path.clone(), s)),
            ),
            health: Health::new(&cfg.health, &Probes::default(), journal_dir.as_deref()),
            epoch,
            progress: opts.progress,
            alarm: alarm.clone(),
            state: live::StateWriter::of(cfg, &hot.rules),
        };
        let handle = std::thread::Builder::new()
            .name("picket-worker".into())
            .spawn_scoped(scope, move || worker.run())
            .map_err(|e| PipelineError::Spawn("worker", e))?;
        hot.out.worker = Some(handle.thread().clone());
        let result = hot.run(opts, ctl);
        // Shutdown, in order: the outputs to their safe level (their alarm_off notices are
        // journalled), `stopped`, then the worker drains its queue into the journal.
        hot.out.notify.stopping();
        let _ = alarm.shutdown();
        let engine = outputs.join();
        hot.out.drain_notices();
        hot.out.offer_state(hot.epoch.elapsed(), true);
        hot.out.event(hot.event(EventKind::Stopped), None);
        hot.out.flush_metrics(hot.epoch.elapsed(), true);
        shared.stop.store(true, Ordering::Release);
        handle.thread().unpark();
        let _sender = handle.join();
        drop(engine);
        result
    });
    if let Some(p) = preview {
        p.stop();
    }
    let journal = journal.shutdown();
    watch_stop.store(true, Ordering::Relaxed);
    let _ = watcher.join();
    let m = &hot.out.metrics;
    let (allocations, events) = result?;
    Ok(Summary {
        frames: m.get(Counter::Frames),
        inferences: m.get(Counter::Inferences),
        skipped: hot.see.gate.skipped(),
        events,
        alarms: m.get(Counter::Alarms),
        dropped: hot.out.dropped + journal.dropped,
        reloads: hot.reloads,
        allocations,
        journal,
    })
}

/// The hot thread's state: the stages, in the order a frame meets them.
struct Hot<'s> {
    source: Box<dyn FrameSource + Send>,
    see: Seeing,
    rules: Rules,
    verdict: Verdict,
    tamper: Option<tamper::Watch>,
    arming: Arc<ArmingShared>,
    out: Outlets<'s>,
    epoch: Instant,
    reloads: u64,
    clock: FrameClock,
    tracks_out: Option<tracks_out::TracksOut>,
}

/// Whether the loop goes on.
enum Flow {
    Next,
    End,
}

impl Hot<'_> {
    /// The loop. Returns the allocations counted (if asked) and the events produced.
    fn run(
        &mut self,
        opts: &Options,
        ctl: Control<'_>,
    ) -> Result<(Option<u64>, u64), PipelineError> {
        self.out.event(self.event(EventKind::Started), None);
        let mut alloc_base = None;
        let mut ready = false;
        while !ctl.stop.load(Ordering::Relaxed) {
            let frames = self.out.metrics.get(Counter::Frames);
            if opts.max_frames.is_some_and(|m| frames >= m) {
                break;
            }
            if opts.count_allocations_from == Some(frames) && alloc_base.is_none() {
                alloc_base = Some(crate::alloc_count::allocations());
            }
            if ctl.reload.swap(false, Ordering::Relaxed) {
                self.reload(opts.config_path.as_deref());
            }
            match self.step()? {
                Flow::Next => {}
                Flow::End => break,
            }
            if !ready {
                self.out.notify.ready();
                ready = true;
            }
        }
        if let Some(out) = &mut self.tracks_out {
            out.finish();
        }
        let allocations = alloc_base.map(|b| crate::alloc_count::allocations() - b);
        Ok((allocations, self.out.metrics.get(Counter::Events)))
    }

    /// One frame's whole path.
    fn step(&mut self) -> Result<Flow, PipelineError> {
        let t0 = Instant::now();
        let frame = match self.source.next()? {
            Next::Frame(f) => f,
            Next::Status(s) => return Ok(self.source_news(s)),
        };
        let wall = self.epoch.elapsed();
        let (seq, stamp) = (frame.sequence, frame.timestamp);
        let mono = self.clock.at(stamp, wall);
        let m = &mut self.out.metrics;
        m.record(Stage::Source, t0.elapsed());
        m.inc(Counter::Frames);

        // Motion gate → preprocess → detect → track.
        let tracks = self.see.frame(&frame, mono, m)?;
        if let Some(out) = &mut self.tracks_out {
            out.frame(seq, (frame.width, frame.height), tracks, mono);
        }

        // Rules.
        let now = Now {
            mono,
            wall_ms: crate::journal::time_now_ms(),
            clock_synced: self.arming.clock_synced(),
        };
        let t = Instant::now();
        self.rules
            .judge(tracks, &now, &self.arming.inputs(), &mut self.verdict);
        m.record(Stage::Rules, t.elapsed());
        if let Some(st) = &mut self.out.state {
            st.look(&self.rules, self.arming.inputs().mode, tracks, mono, wall);
        }
        outlets::log_frame(seq, stamp, tracks.len(), &self.verdict);

        // Alarms to the output thread, events (with snapshots and what to draw) to the worker.
        self.out.alarms(&self.verdict);
        let preview = self.out.preview_due(wall);
        if preview || !self.verdict.events.is_empty() || self.tamper.is_some() {
            (self.out.scene).capture(tracks, &self.rules, mono, now.clock_synced);
        }
        for e in &self.verdict.events {
            let shot = if e.kind.is_rule() {
                self.out.shots.fill(&frame, &self.out.scene)
            } else {
                None
            };
            self.out.event(e.clone(), shot);
        }
        if preview {
            self.out.offer_preview(self.see.pre.rgb(&frame));
        }
        // Video tamper, on the gate's luma grid of this frame.
        if let Some(t) = &mut self.tamper {
            t.frame(
                &mut self.see,
                &mut self.out,
                &frame,
                &now,
                self.rules.armed(),
            );
        }
        self.out.drain_notices();
        self.out.offer_state(wall, false);
        self.out.alarm.heartbeat();
        self.out.notify.watchdog(wall);
        self.out.metrics.record(Stage::Frame, t0.elapsed());
        self.out
            .metrics
            .set(Counter::InferencesSkipped, self.see.gate.skipped());
        self.out.flush_metrics(wall, false);
        Ok(Flow::Next)
    }

    fn event(&self, kind: EventKind) -> Event {
        let mono = self.epoch.elapsed().as_millis() as u64;
        Event::new(
            kind,
            crate::journal::time_now_ms(),
            mono,
            self.arming.clock_synced(),
        )
    }
}

/// The seeing stages: motion gate, preprocess, detector, tracker.
struct Seeing {
    gate: MotionGate,
    pre: Preprocessor,
    det: SsdDetector,
    dets: Detections,
    /// `[detector] tiles`: more passes over crops of the frame, merged into `dets`.
    tiles: Tiler,
    tracker: Tracker,
    /// Says once why, if detections never become a confirmed track.
    starts: StartWatch,
    /// Where the detector's input lies in the frame, to map boxes back.
    roi: Option<NormRect>,
    /// When inference last ran.
    last_inference: Option<Duration>,
}

impl Seeing {
    /// Gates, preprocesses, detects and tracks `frame`; returns the tracks to judge. A frame the
    /// gate skips, or that cannot be decoded, leaves the tracks as they were: the tracker takes
    /// the longer step at its next update, coasting on its Kalman prediction.
    fn frame(
        &mut self,
        frame: &FrameRef<'_>,
        mono: Duration,
        m: &mut Metrics,
    ) -> Result<&[Track], PipelineError> {
        // A compressed frame must be decoded before the gate can see it; a raw frame is gated
        // on its own bytes, so a skipped frame costs no conversion at all.
        let compressed = frame.format == PixelFormat::Mjpeg;
        let mut ready = false;
        if compressed {
            ready = self.preprocess(frame, m);
        }
        let t = Instant::now();
        let state = self.tracks_state();
        // An MJPEG frame's reduced luma plane when it was decoded to planes, else the frame
        // decoded whole (a JPEG the baseline decoder does not support).
        let decoded = match (ready, self.pre.luma(frame)) {
            (false, _) => None,
            (true, Some(y)) => Some(Decoded::Luma(y)),
            (true, None) => self.pre.rgb(frame).map(Decoded::Rgb),
        };
        let decision = match luma(frame, decoded) {
            Some(l) => self.gate.decide(mono, state, l),
            None => {
                self.gate.unseen();
                Ok(crate::motion::Decision::Run(crate::motion::Reason::First))
            }
        };
        m.record(Stage::Motion, t.elapsed());
        let runs = decision.map_or_else(
            |e| {
                log::debug!("{e}; inferring anyway");
                true
            },
            |d| d.runs(),
        );
        if !runs {
            return Ok(self.tracker.tracks());
        }
        if !compressed {
            ready = self.preprocess(frame, m);
        }
        if !ready {
            return Ok(self.tracker.tracks());
        }
        let t = Instant::now();
        let tiled = self
            .tiles
            .plan((frame.width, frame.height), self.det.input_size())?;
        // Tiled frames run the whole frame too only with `tile_whole_frame = true`; the tile
        // passes are timed with the decode stage.
        let whole = !tiled || self.tiles.whole_frame();
        if whole {
            self.det.invoke()?;
        }
        let t1 = Instant::now();
        if whole {
            self.det.decode(&mut self.dets)?;
        } else {
            self.dets.clear();
        }
        if let Some(roi) = self.roi {
            for d in self.dets.as_mut_slice() {
                d.bbox = from_roi(&roi, &d.bbox);
            }
        }
        if tiled {
            if let Some(rgb) = self.pre.rgb(frame) {
                self.tiles.run(&mut self.det, rgb, &mut self.dets)?;
            }
        }
        let t2 = Instant::now();
        m.record(Stage::Invoke, t1 - t);
        m.record(Stage::Decode, t2 - t1);
        m.inc(Counter::Inferences);
        self.last_inference = Some(mono);
        let tracks = self.tracker.update(&self.dets, mono);
        if let Some(why) = self.starts.observe(mono, &self.dets, tracks) {
            log::warn!("{why}");
        }
        m.record(Stage::Track, t2.elapsed());
        Ok(tracks)
    }

    /// Detects in `roi` from now on (`[detector] roi = "zones"` follows reloaded zones).
    fn look_at(&mut self, roi: Option<NormRect>) {
        if roi != self.roi {
            let (w, h) = self.pre.output_size();
            self.pre = Preprocessor::new(w, h, roi);
            self.tiles.look_at(roi);
            self.roi = roi;
        }
    }

    fn preprocess(&mut self, frame: &FrameRef<'_>, m: &mut Metrics) -> bool {
        let t = Instant::now();
        let ok = self.pre.run(frame, self.det.input()).is_ok();
        m.record(Stage::Preprocess, t.elapsed());
        ok
    }

    /// What the tracker held after the last inference, as the gate needs it.
    fn tracks_state(&self) -> Tracks {
        let tracks = self.tracker.tracks();
        let matched = |t: &Track| Some(t.last_seen) == self.last_inference;
        if tracks.iter().any(|t| t.is_confirmed() && matched(t)) {
            Tracks::Confirmed
        } else if tracks.is_empty() {
            Tracks::None
        } else {
            Tracks::Coasting
        }
    }
}
