//! Sounding the alarm: GPIO outputs, their patterns and limits, and the output thread.
//!
//! ## Threads and contract
//! The **output thread** ([`spawn`]) owns every output pin and all pattern timing. Other threads
//! talk to it through an [`AlarmHandle`]:
//! - the hot thread calls [`AlarmHandle::trigger`] with a [`Trigger`] for each alarm of a rules
//!   verdict (and the worker for each health event that starts), and
//!   [`AlarmHandle::heartbeat`] once per frame (an atomic store, no queue);
//! - the input watcher (in the arming module) calls [`AlarmHandle::reset`] when `picket alarm
//!   reset` bumps the state file.
//!
//! Commands travel over a small bounded queue. An alarm command is never dropped: if the queue
//! is ever full, that is a bug, so it is counted ([`AlarmHandle::queue_full`]) and logged, and the
//! sender then waits for room (the output thread drains the queue within one tick). The thread
//! sends `alarm_on`/`alarm_off`/`alarm_reset` events back over [`Notices`] for the journal.
//!
//! ## What survives
//! Nothing: on start every output is driven inactive; a latched alarm does not survive a restart
//! (the journal keeps its `alarm_on`). On shutdown, SIGTERM, a panic in any thread
//! ([`pin::install_panic_hook`]) or an error, every output goes to its inactive level while
//! picket still holds the line; `picket outputs off` does the same from outside, for systemd's
//! `ExecStopPost`, after picket has died.

pub mod config;
pub mod engine;
pub mod pattern;
pub mod pin;
#[cfg(feature = "rpi")]
pub mod rpi;
#[cfg(test)]
mod tests;
mod trigger;

pub use config::{AlarmConfig, HealthyConfig, InputsConfig, OutputConfig, OutputKind};
pub use engine::{Engine, Mapping, Notice, OutputSpec};
pub use pattern::Pattern;
pub use trigger::Trigger;

use crate::event::Event;
use pin::{DynPin, PinError, Shared};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the output thread advances patterns when no command arrives.
pub const TICK: Duration = Duration::from_millis(10);
/// The command queue's capacity: far more than the commands of one frame.
pub const QUEUE: usize = 64;

/// Why the outputs could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum AlarmError {
    #[error("output `{name}`: {cause}")]
    Pin { name: String, cause: PinError },
    #[error("output `{0}`: this picket was built without the `rpi` feature")]
    NoRpi(String),
    #[error("alarm {0}: {1}")]
    Pattern(usize, pattern::PatternError),
    #[error("unknown output `{0}`")]
    UnknownOutput(String),
    #[error("the output thread has stopped")]
    Stopped,
}

/// A message to the output thread.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Command {
    Trigger(Trigger),
    Test {
        output: usize,
        pattern: Pattern,
        duration: Duration,
    },
    Reset,
    /// Every output off, then the thread ends and returns its engine (still holding the lines).
    Shutdown,
}

/// Opens one configured output as a safe-state-registered pin.
pub fn open_output(o: &OutputConfig) -> Result<DynPin, AlarmError> {
    let err = |cause| AlarmError::Pin {
        name: o.name.clone(),
        cause,
    };
    Ok(match o.kind {
        OutputKind::Log => Box::new(Shared::new(pin::LogPin::new(&o.name))),
        OutputKind::Gpiocdev => Box::new(Shared::new(
            pin::GpioLine::open(
                o.chip.as_deref(),
                o.offset,
                o.line.as_deref(),
                o.active_low,
                pin::Dir::Output,
            )
            .map_err(err)?,
        )),
        #[cfg(feature = "rpi")]
        OutputKind::Rppal => Box::new(Shared::new(
            rpi::RpiPin::open(o.pin.unwrap_or(0), o.active_low, o.pwm_hz).map_err(err)?,
        )),
        #[cfg(not(feature = "rpi"))]
        OutputKind::Rppal => return Err(AlarmError::NoRpi(o.name.clone())),
    })
}

/// Opens every output and builds the engine with the mappings. `rule_names` are the rules'
/// names in index order, the order of [`Trigger::Rule`].
pub fn build(
    outputs: &[OutputConfig],
    alarms: &[AlarmConfig],
    healthy: Option<&HealthyConfig>,
    rule_names: &[&str],
) -> Result<Engine, AlarmError> {
    let mut specs = Vec::with_capacity(outputs.len());
    for o in outputs {
        specs.push(OutputSpec {
            name: o.name.clone(),
            pin: open_output(o)?,
            max_on: Duration::try_from_secs_f32(o.max_on_s).unwrap_or(Duration::from_secs(180)),
        });
    }
    let index = |n: &str| {
        outputs
            .iter()
            .position(|o| o.name == n)
            .ok_or_else(|| AlarmError::UnknownOutput(n.to_owned()))
    };
    let mut maps = Vec::with_capacity(alarms.len());
    for (i, a) in alarms.iter().enumerate() {
        let rules = a
            .rules
            .iter()
            .filter_map(|r| Trigger::resolve(r, rule_names))
            .collect();
        maps.push(Mapping {
            rules,
            outputs: a
                .outputs
                .iter()
                .map(|o| index(o))
                .collect::<Result<_, _>>()?,
            pattern: Pattern::parse(&a.pattern).map_err(|e| AlarmError::Pattern(i, e))?,
            hold: Duration::try_from_secs_f32(a.hold_s).unwrap_or_default(),
            cooldown: Duration::try_from_secs_f32(a.cooldown_s).unwrap_or_default(),
            latch: a.latch,
        });
    }
    let healthy = match healthy {
        Some(h) => Some((index(&h.output)?, Duration::from_millis(h.timeout_ms))),
        None => None,
    };
    Ok(Engine::new(specs, maps, healthy))
}

/// The senders' side of the output thread. Cheap to clone; every method is non-blocking in
/// normal operation and allocation-free.
#[derive(Clone)]
pub struct AlarmHandle {
    tx: SyncSender<Command>,
    beat: Arc<AtomicU64>,
    full: Arc<AtomicU64>,
    epoch: Instant,
}

impl AlarmHandle {
    fn send(&self, c: Command) -> Result<(), AlarmError> {
        match self.tx.try_send(c) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(c)) => {
                let n = self.full.fetch_add(1, Ordering::Relaxed) + 1;
                log::error!("alarm command queue full ({n} times): a bug; waiting rather than dropping {c:?}");
                self.tx.send(c).map_err(|_| AlarmError::Stopped)
            }
            Err(TrySendError::Disconnected(_)) => Err(AlarmError::Stopped),
        }
    }

    /// Sounds the outputs mapped to `trigger`.
    pub fn trigger(&self, trigger: Trigger) -> Result<(), AlarmError> {
        self.send(Command::Trigger(trigger))
    }

    /// Sounds one output for a wiring check.
    pub fn test(
        &self,
        output: usize,
        pattern: Pattern,
        duration: Duration,
    ) -> Result<(), AlarmError> {
        self.send(Command::Test {
            output,
            pattern,
            duration,
        })
    }

    /// Ends latched alarms.
    pub fn reset(&self) -> Result<(), AlarmError> {
        self.send(Command::Reset)
    }

    /// Every output off; the thread then ends (join it to get the engine back).
    pub fn shutdown(&self) -> Result<(), AlarmError> {
        self.send(Command::Shutdown)
    }

    /// The hot loop is alive. Call once per frame.
    pub fn heartbeat(&self) {
        let ms = self.epoch.elapsed().as_millis() as u64;
        self.beat.store(ms + 1, Ordering::Relaxed);
    }

    /// How many times the queue was found full (each one a bug).
    pub fn queue_full(&self) -> u64 {
        self.full.load(Ordering::Relaxed)
    }
}

/// Alarm events from the output thread, for the journal; drain once per frame.
pub struct Notices(Receiver<Event>);

impl Notices {
    /// Moves waiting events into `out` until it is full.
    pub fn drain_into<const N: usize>(&self, out: &mut heapless::Vec<Event, N>) {
        while !out.is_full() {
            match self.0.try_recv() {
                Ok(e) => {
                    let _ = out.push(e);
                }
                Err(_) => break,
            }
        }
    }

    /// Waits up to `timeout` for one event.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Event> {
        self.0.recv_timeout(timeout).ok()
    }
}

fn notice_event(engine: &Engine, n: &Notice, epoch: Instant, clock_synced: fn() -> bool) -> Event {
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let synced = clock_synced();
    Event::new(n.kind, ts, epoch.elapsed().as_millis() as u64, synced)
        .with_place(engine.output_name(n.output))
        .with_detail(&[("why", n.why.into())])
}

/// Starts the output thread with `engine`. Time is measured from `epoch` (picket's start, the
/// same origin as `Track` times); `clock_synced` says whether the wall clock can be trusted, for
/// the notices' events (picket passes the arming module's clock check). The thread returns the
/// engine on `Shutdown`, with every output inactive and the lines still held, so the caller
/// decides when to release them.
pub fn spawn(
    mut engine: Engine,
    epoch: Instant,
    clock_synced: fn() -> bool,
) -> std::io::Result<(AlarmHandle, Notices, std::thread::JoinHandle<Engine>)> {
    let (tx, rx) = mpsc::sync_channel::<Command>(QUEUE);
    let (ntx, nrx) = mpsc::sync_channel::<Event>(QUEUE);
    let beat = Arc::new(AtomicU64::new(0));
    let handle = AlarmHandle {
        tx,
        beat: beat.clone(),
        full: Arc::new(AtomicU64::new(0)),
        epoch,
    };
    let join = std::thread::Builder::new()
        .name("picket-output".into())
        .spawn(move || {
            engine.all_off();
            let mut dropped = 0u64;
            loop {
                let cmd = rx.recv_timeout(TICK);
                let now = epoch.elapsed();
                match beat.load(Ordering::Relaxed) {
                    0 => {}
                    ms => engine.heartbeat(Duration::from_millis(ms - 1)),
                }
                let stop = match cmd {
                    Ok(Command::Trigger(r)) => {
                        engine.trigger(r, now);
                        false
                    }
                    Ok(Command::Test {
                        output,
                        pattern,
                        duration,
                    }) => {
                        engine.test(output, pattern, duration, now);
                        false
                    }
                    Ok(Command::Reset) => {
                        engine.reset(now);
                        false
                    }
                    Ok(Command::Shutdown) | Err(mpsc::RecvTimeoutError::Disconnected) => true,
                    Err(mpsc::RecvTimeoutError::Timeout) => false,
                };
                if stop || pin::halted() {
                    engine.all_off();
                } else {
                    engine.tick(now);
                }
                let notices: Vec<Notice> = engine.take_notices().collect();
                for n in &notices {
                    log::info!(
                        "alarm: {} {} ({})",
                        n.kind,
                        engine.output_name(n.output),
                        n.why
                    );
                    if ntx
                        .try_send(notice_event(&engine, n, epoch, clock_synced))
                        .is_err()
                    {
                        dropped += 1;
                        log::warn!("alarm notice not journalled ({dropped} so far): queue full");
                    }
                }
                if stop {
                    return engine;
                }
            }
        })?;
    Ok((handle, Notices(nrx), join))
}

impl std::fmt::Debug for AlarmHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlarmHandle")
            .field("queue_full", &self.queue_full())
            .finish()
    }
}
