//! The input watcher: keyswitch and tamper inputs, the arming state file and the clock.
//!
//! It runs on its own thread ([`spawn`]), polling every [`POLL`], so that neither the hot thread
//! nor the output thread ever waits on a file or a debounce. It publishes what it sees in an
//! [`ArmingShared`] (atomics), which the hot thread reads once per frame with
//! [`ArmingShared::inputs`] and [`ArmingShared::clock_synced`].
//!
//! - A **keyswitch** turn (debounced) writes the state file like `picket arm`/`disarm` would, so
//!   the latest action wins and it survives a restart. The position last applied is kept in the
//!   file too: a turn made while picket was down is applied at start; an unchanged key is not.
//! - The **state file** is re-read once a second (`picket arm|disarm` from a shell); a bumped
//!   `reset_seq` (`picket alarm reset`) calls the reset callback (the pipeline's resets the
//!   alarm outputs' latches).
//! - An **arming request** from `picket uplink` (an MQTT command, `crate::live::Request`) is
//!   looked for at start and once a second: applied to the state file as `picket arm`/`disarm`
//!   would, with `by = "mqtt"`, and removed. One that is malformed or unknown is logged and
//!   removed, and changes nothing.
//! - The **clock** is checked once a second ([`clock_synchronised`]).

use super::{clock_synchronised, ArmingError, By, Inputs, Mode, StateFile};
use crate::alarm::config::{InputConfig, InputsConfig};
use crate::alarm::pin::{Dir, GpioLine, PinError};
use crate::live::{Action, Request};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// How often inputs are polled.
pub const POLL: Duration = Duration::from_millis(20);

/// What the watcher publishes for the hot thread: the mode, the tamper input and the clock's
/// state, as atomics. Shared in an `Arc`; the watcher's thread is its only writer (after
/// [`spawn`] has set the first values), the hot thread reads it once per frame. Nothing in it
/// survives a restart: the mode comes back from the state file.
#[derive(Debug, Default)]
pub struct ArmingShared {
    mode: AtomicU8,
    by: AtomicU8,
    tamper: AtomicBool,
    synced: AtomicBool,
}

impl ArmingShared {
    /// The arming inputs for this frame (the rules judge with them).
    pub fn inputs(&self) -> Inputs {
        Inputs {
            mode: Mode::from_u8(self.mode.load(Ordering::Relaxed)),
            by: By::from_u8(self.by.load(Ordering::Relaxed)),
            tamper: self.tamper.load(Ordering::Relaxed),
        }
    }

    /// Whether the wall clock was synchronised at the last check (once a second).
    pub fn clock_synced(&self) -> bool {
        self.synced.load(Ordering::Relaxed)
    }

    /// The mode and who set it, from the state file.
    fn set_mode(&self, s: &StateFile) {
        self.by.store(By::parse(&s.by).to_u8(), Ordering::Relaxed);
        self.mode.store(s.mode.to_u8(), Ordering::Relaxed);
    }
}

/// Why the watcher could not start.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("input `{name}`: {cause}")]
    Input { name: &'static str, cause: PinError },
    #[error(transparent)]
    State(#[from] ArmingError),
    #[error("cannot start the input watcher: {0}")]
    Spawn(std::io::Error),
}

/// A debounced input.
struct Debounced {
    line: GpioLine,
    stable: bool,
    pending: Option<(bool, Instant)>,
    hold: Duration,
}

impl Debounced {
    fn open(name: &'static str, c: &InputConfig) -> Result<Self, WatchError> {
        let err = |cause| WatchError::Input { name, cause };
        let line = GpioLine::open(
            c.chip.as_deref(),
            c.offset,
            c.line.as_deref(),
            c.active_low,
            Dir::Input,
        )
        .map_err(err)?;
        let stable = line.is_active().map_err(err)?;
        Ok(Debounced {
            line,
            stable,
            pending: None,
            hold: Duration::from_millis(c.debounce_ms),
        })
    }

    /// The new stable level, when it has just changed.
    fn poll(&mut self, now: Instant) -> Option<bool> {
        let v = match self.line.is_active() {
            Ok(v) => v,
            Err(e) => {
                log::error!("{e}");
                return None;
            }
        };
        if v == self.stable {
            self.pending = None;
            return None;
        }
        match self.pending {
            Some((p, since)) if p == v && now.duration_since(since) >= self.hold => {
                self.stable = v;
                self.pending = None;
                Some(v)
            }
            Some((p, _)) if p == v => None,
            _ => {
                self.pending = Some((v, now));
                None
            }
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn apply_key(path: &std::path::Path, on: bool) -> Result<StateFile, ArmingError> {
    let s = StateFile::update(path, |s| {
        s.mode = if on { Mode::Armed } else { Mode::Disarmed };
        s.by = "key".into();
        s.changed_ms = now_ms();
        s.key = Some(on);
    })?;
    log::info!(
        "keyswitch {}: {}",
        if on { "on" } else { "off" },
        s.mode.as_str()
    );
    Ok(s)
}

/// Applies the arming request at `path`, if there is one, to the state file, and removes it.
/// The state after it, when it changed the state file. A request that cannot be read or is
/// not a known one is logged and removed; `applied` (the last request applied) keeps one whose
/// file cannot be removed from being applied again.
pub fn take_request(
    path: &Path,
    state_file: &Path,
    applied: &mut Option<Request>,
) -> Option<StateFile> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            log::error!("arming request {}: {e}; removing it", path.display());
            remove_request(path);
            return None;
        }
    };
    let r = match Request::parse(&text) {
        Ok(r) => r,
        Err(why) => {
            log::warn!(
                "arming request {}: not a request ({why}); removed, nothing changed",
                path.display()
            );
            remove_request(path);
            return None;
        }
    };
    if *applied == Some(r) {
        return None;
    }
    *applied = Some(r);
    let mode = match r.request {
        Action::Arm => Mode::Armed,
        Action::Disarm => Mode::Disarmed,
    };
    let done = StateFile::update(state_file, |s| {
        s.mode = mode;
        s.by = r.source.as_str().into();
        s.changed_ms = now_ms();
    });
    remove_request(path);
    match done {
        Ok(s) => {
            log::info!(
                "arming request from {}: {}",
                r.source.as_str(),
                mode.as_str()
            );
            Some(s)
        }
        Err(e) => {
            log::error!("arming request from {}: {e}", r.source.as_str());
            None
        }
    }
}

fn remove_request(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => log::error!(
            "arming request {}: cannot remove it: {e} (picket run's user needs write access to \
             its directory)",
            path.display()
        ),
    }
}

/// Starts the watcher. `on_reset` is called on the watcher's thread each time the state file's
/// `reset_seq` changes; `stop` ends the thread. `requests` is where `picket uplink` drops
/// arming requests, when it accepts commands.
pub fn spawn(
    inputs: &InputsConfig,
    state_file: PathBuf,
    requests: Option<PathBuf>,
    shared: Arc<ArmingShared>,
    on_reset: impl Fn() + Send + 'static,
    stop: Arc<AtomicBool>,
) -> Result<std::thread::JoinHandle<()>, WatchError> {
    let mut key = inputs
        .keyswitch
        .as_ref()
        .map(|c| Debounced::open("keyswitch", c))
        .transpose()?;
    let mut tamper = inputs
        .tamper
        .as_ref()
        .map(|c| Debounced::open("tamper", c))
        .transpose()?;
    let mut state = StateFile::load(&state_file)?;
    if let Some(k) = &key {
        if state.key != Some(k.stable) {
            state = apply_key(&state_file, k.stable)?;
        }
    }
    let mut applied = None;
    if let Some(s) = requests
        .as_deref()
        .and_then(|r| take_request(r, &state_file, &mut applied))
    {
        state = s;
    }
    shared.set_mode(&state);
    shared.synced.store(clock_synchronised(), Ordering::Relaxed);
    if let Some(t) = &tamper {
        shared.tamper.store(t.stable, Ordering::Relaxed);
    }
    let mut reset_seq = state.reset_seq;
    std::thread::Builder::new()
        .name("picket-inputs".into())
        .spawn(move || {
            let mut last_slow = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(POLL);
                let now = Instant::now();
                if let Some(on) = key.as_mut().and_then(|k| k.poll(now)) {
                    match apply_key(&state_file, on) {
                        Ok(s) => shared.set_mode(&s),
                        Err(e) => log::error!("{e}"),
                    }
                }
                if let Some(v) = tamper.as_mut().and_then(|t| t.poll(now)) {
                    log::warn!("tamper input {}", if v { "ACTIVE" } else { "restored" });
                    shared.tamper.store(v, Ordering::Relaxed);
                }
                if now.duration_since(last_slow) < Duration::from_secs(1) {
                    continue;
                }
                last_slow = now;
                shared.synced.store(clock_synchronised(), Ordering::Relaxed);
                if let Some(r) = &requests {
                    take_request(r, &state_file, &mut applied);
                }
                // Re-read every second rather than trust mtimes: the file is tiny and cached.
                match StateFile::load(&state_file) {
                    Ok(s) => {
                        shared.set_mode(&s);
                        if s.reset_seq != reset_seq {
                            reset_seq = s.reset_seq;
                            on_reset();
                        }
                    }
                    Err(e) => log::error!("{e}"),
                }
            }
        })
        .map_err(WatchError::Spawn)
}
