//! Output pins (`embedded_hal::digital::OutputPin`), GPIO inputs, and the safe state.
//!
//! Every pin here is *logical*: `set_high` means active (relay closed, buzzer sounding) and
//! `set_low` inactive, whatever the wiring; active-low lines are inverted by the kernel
//! (gpiocdev) or by the driver (rppal).
//!
//! ## Safe state
//! Each output is wrapped in a [`Shared`] pin, which is registered in a process-wide list. Any
//! thread can then put every output to its inactive level with [`all_safe`]: the SIGTERM path,
//! `picket outputs off`, and the panic hook ([`install_panic_hook`]), which first sets
//! [`halted`] so that no thread can drive an output active again, then drives every output
//! inactive *while the process still holds the lines*, then exits with status 101. On a real Pi a
//! released line may keep its last level, so driving it inactive before release matters.

use embedded_hal::digital::{ErrorKind, ErrorType, OutputPin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, TryLockError, Weak};

/// A failed pin operation, with the line it concerns.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error("GPIO line {line}: {cause}")]
    Gpio {
        line: String,
        cause: gpiocdev::Error,
    },
    #[error("GPIO line {0}: no line by that name")]
    NotFound(String),
    #[error("pin {pin}: {why}")]
    Rpi { pin: u8, why: String },
    #[error("{0}")]
    Unsupported(String),
}

impl embedded_hal::digital::Error for PinError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Other
    }
}

/// Any output the output thread can own.
pub type DynPin = Box<dyn OutputPin<Error = PinError> + Send>;

/// Set when a panic hook has taken over: from then on, [`Shared`] pins refuse to go active.
static HALTED: AtomicBool = AtomicBool::new(false);
/// Set by `--hold` test runs: after the safe state, keep the lines until stdin closes.
static HOLD: AtomicBool = AtomicBool::new(false);

/// Whether a panic has halted the outputs.
pub fn halted() -> bool {
    HALTED.load(Ordering::SeqCst)
}

/// Something that can drive itself inactive from any thread, including a panic hook.
pub trait SafeOff: Send + Sync {
    fn safe_off(&self);
}

struct Guarded<P> {
    pin: Mutex<P>,
}

impl<P: OutputPin + Send> SafeOff for Guarded<P> {
    fn safe_off(&self) {
        // try_lock, never lock: the panicking thread may itself hold this pin's lock. The owner
        // holds it only for one write, so a few retries are plenty.
        for _ in 0..1000 {
            match self.pin.try_lock() {
                Ok(mut p) => {
                    let _ = p.set_low();
                    return;
                }
                Err(TryLockError::Poisoned(e)) => {
                    let _ = e.into_inner().set_low();
                    return;
                }
                Err(TryLockError::WouldBlock) => std::thread::yield_now(),
            }
        }
    }
}

static REGISTRY: Mutex<Vec<Weak<dyn SafeOff>>> = Mutex::new(Vec::new());

/// An output pin that is also reachable by [`all_safe`] from other threads.
pub struct Shared<P>(Arc<Guarded<P>>);

impl<P: OutputPin + Send + 'static> Shared<P> {
    /// Wraps `pin` and registers it for the safe state, driving it inactive first.
    pub fn new(mut pin: P) -> Self {
        let _ = pin.set_low();
        let g = Arc::new(Guarded {
            pin: Mutex::new(pin),
        });
        let weak: Weak<dyn SafeOff> = Arc::downgrade(&(g.clone() as Arc<dyn SafeOff>));
        let mut reg = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
        reg.retain(|w| w.strong_count() > 0);
        reg.push(weak);
        Shared(g)
    }
}

impl<P: OutputPin> ErrorType for Shared<P> {
    type Error = P::Error;
}

impl<P: OutputPin> OutputPin for Shared<P> {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        self.0
            .pin
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .set_low()
    }

    fn set_high(&mut self) -> Result<(), Self::Error> {
        let mut p = self.0.pin.lock().unwrap_or_else(|e| e.into_inner());
        // Checked under the lock: the panic hook sets HALTED before it takes any pin's lock.
        if halted() {
            p.set_low()
        } else {
            p.set_high()
        }
    }
}

/// Drives every registered output inactive, from any thread. Returns how many were reached.
pub fn all_safe() -> usize {
    let reg = match REGISTRY.try_lock() {
        Ok(r) => r,
        Err(TryLockError::Poisoned(e)) => e.into_inner(),
        Err(TryLockError::WouldBlock) => return 0,
    };
    let mut n = 0;
    for p in reg.iter().filter_map(Weak::upgrade) {
        p.safe_off();
        n += 1;
    }
    n
}

/// After the safe state, keep the lines held until stdin reaches EOF (for tests that must see
/// the inactive level while picket still holds the line).
pub fn hold_after_safe(on: bool) {
    HOLD.store(on, Ordering::SeqCst);
}

/// Waits for stdin to close if [`hold_after_safe`] was set.
pub fn maybe_hold() {
    if HOLD.load(Ordering::SeqCst) {
        eprintln!("picket: outputs safe; holding the lines until stdin closes");
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
    }
}

/// Makes a panic in any thread fatal and safe: halt, outputs inactive, report, exit 101.
/// A panic for which `contained()` is true is left alone: the call it happened in catches it
/// and reports it as an error of its own (a library's assertion on hostile input, contained
/// to one frame; the CLI passes the image crate's `contain::panic_is_contained`).
pub fn install_panic_hook(contained: fn() -> bool) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if contained() {
            return;
        }
        HALTED.store(true, Ordering::SeqCst);
        let n = all_safe();
        previous(info);
        eprintln!("picket: panic: {n} outputs driven inactive; exiting");
        maybe_hold();
        std::process::exit(101);
    }));
}

fn chip_path(chip: &str) -> String {
    if chip.starts_with('/') {
        chip.to_owned()
    } else {
        format!("/dev/{chip}")
    }
}

/// Requests one line for output or input, by chip and offset or by name.
fn request(
    chip: Option<&str>,
    offset: Option<u32>,
    name: Option<&str>,
    active_low: bool,
    output: bool,
) -> Result<(gpiocdev::Request, u32, String), PinError> {
    let mut b = gpiocdev::Request::builder();
    b.with_consumer("picket");
    let label = match (name, chip, offset) {
        (Some(n), _, _) => {
            let found = gpiocdev::find_named_line(n).ok_or_else(|| PinError::NotFound(n.into()))?;
            b.with_found_line(&found);
            n.to_owned()
        }
        (None, Some(c), Some(o)) => {
            b.on_chip(chip_path(c)).with_line(o);
            format!("{c}:{o}")
        }
        _ => {
            return Err(PinError::Unsupported(
                "a line needs a name or chip+offset".into(),
            ))
        }
    };
    if active_low {
        b.as_active_low();
    }
    if output {
        b.as_output(gpiocdev::line::Value::Inactive);
    } else {
        b.as_input();
    }
    let req = b.request().map_err(|cause| PinError::Gpio {
        line: label.clone(),
        cause,
    })?;
    let off = *req
        .config()
        .lines()
        .first()
        .ok_or_else(|| PinError::NotFound(label.clone()))?;
    Ok((req, off, label))
}

/// A line on the Linux GPIO character device: an output (requested inactive) or an input.
pub struct GpioLine {
    req: gpiocdev::Request,
    offset: u32,
    label: String,
}

/// Which way a [`GpioLine`] is requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// An output, requested at its inactive level.
    Output,
    /// An input (keyswitch, tamper), read by polling [`GpioLine::is_active`].
    Input,
}

impl GpioLine {
    /// Requests a line by name, or by chip and offset.
    pub fn open(
        chip: Option<&str>,
        offset: Option<u32>,
        name: Option<&str>,
        active_low: bool,
        dir: Dir,
    ) -> Result<Self, PinError> {
        let (req, offset, label) = request(chip, offset, name, active_low, dir == Dir::Output)?;
        Ok(GpioLine { req, offset, label })
    }

    fn err(&self, cause: gpiocdev::Error) -> PinError {
        PinError::Gpio {
            line: self.label.clone(),
            cause,
        }
    }

    fn set(&mut self, v: gpiocdev::line::Value) -> Result<(), PinError> {
        self.req.set_value(self.offset, v).map_err(|e| self.err(e))
    }

    /// Whether the line is active (after active-low inversion).
    pub fn is_active(&self) -> Result<bool, PinError> {
        self.req
            .value(self.offset)
            .map(|v| v == gpiocdev::line::Value::Active)
            .map_err(|e| self.err(e))
    }
}

impl ErrorType for GpioLine {
    type Error = PinError;
}

impl OutputPin for GpioLine {
    fn set_low(&mut self) -> Result<(), PinError> {
        self.set(gpiocdev::line::Value::Inactive)
    }

    fn set_high(&mut self) -> Result<(), PinError> {
        self.set(gpiocdev::line::Value::Active)
    }
}

/// An output that only logs its changes.
pub struct LogPin {
    name: String,
    on: Option<bool>,
}

impl LogPin {
    pub fn new(name: &str) -> Self {
        LogPin {
            name: name.to_owned(),
            on: None,
        }
    }
}

impl ErrorType for LogPin {
    type Error = PinError;
}

impl OutputPin for LogPin {
    fn set_low(&mut self) -> Result<(), PinError> {
        if self.on != Some(false) {
            log::info!("output {}: off", self.name);
        }
        self.on = Some(false);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), PinError> {
        if self.on != Some(true) {
            log::warn!("output {}: ON", self.name);
        }
        self.on = Some(true);
        Ok(())
    }
}
