//! What a gpio-sim output line did, from the kernel's own record rather than by sampling.
//!
//! [`LineWatch`] keeps each transition of one line, `(value, used)`, with its CLOCK_MONOTONIC
//! time, from two exact sources read by one thread:
//! - every value driven onto the line: gpiolib's `gpio/gpio_value` trace event (`set`), in a
//!   tracefs instance of the watch's own (its own buffer and filter, so two watches do not meet),
//!   on the `mono` trace clock;
//! - every release of the line: its line info change events (`watch_line_info`), stamped by the
//!   kernel on CLOCK_MONOTONIC.
//!
//! A set is made while the line is held (gpiolib sets only requested lines); a release leaves
//! the line at its pull (gpio-sim's `free`), read from the line's `pull` attribute. Sampling the
//! `value` attribute instead (as this once did, every millisecond) can miss a level that lasts
//! less than a sample under load, such as the inactive level picket drives at SIGTERM a few
//! milliseconds before it exits, and can pair a value with a later `used`.
//!
//! A pull changed by the test while the line is free is not seen; the scenarios set the pull
//! before they start a watch.

use crate::appliance::secs;
use crate::vm::{GpioSim, Pull};
use gpiocdev::line::InfoChangeKind;
use std::fs::{self, File};
use std::io::{ErrorKind, Read};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Where the guest's `/init` mounts tracefs.
const TRACEFS: &str = "/sys/kernel/tracing";

/// A gpio-sim line's level from a moment on: a set (held), a release (free, at its pull), or the
/// watch's start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transition {
    /// CLOCK_MONOTONIC of the kernel's record (or of the watch's start).
    pub at: Duration,
    pub value: u8,
    /// Whether a process held the line.
    pub used: bool,
}

/// A thread that records one gpio-sim line's transitions (the state at the start counts as one).
pub struct LineWatch {
    pub offset: u32,
    start: Transition,
    /// Every set and release so far, as read (the two sources' records interleave).
    records: Arc<Mutex<Vec<Transition>>>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
    instance: PathBuf,
}

impl LineWatch {
    pub fn start(sim: &GpioSim, offset: u32) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let instance = PathBuf::from(TRACEFS).join("instances").join(format!(
            "line{offset}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir(&instance)
            .unwrap_or_else(|e| panic!("{}: {e} (is tracefs mounted?)", instance.display()));
        let event = instance.join("events/gpio/gpio_value");
        let gpio = sim.base().expect("the gpio-sim chip's base") + offset;
        fs::write(instance.join("trace_clock"), "mono").unwrap();
        fs::write(event.join("filter"), format!("gpio == {gpio} && get == 0")).unwrap();
        fs::write(event.join("enable"), "1").unwrap();
        let pipe = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(instance.join("trace_pipe"))
            .unwrap();

        let cdev = gpiocdev::Chip::from_path(&sim.chip).expect("open the gpio-sim chip");
        let info = cdev.watch_line_info(offset).expect("watch the line's info");
        let start = Transition {
            at: crate::appliance::monotonic(),
            value: sim.value(offset).expect("read the line's value"),
            used: info.used,
        };
        let records = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (records.clone(), stop.clone());
        let sim = sim.clone();
        let handle = thread::spawn(move || {
            let mut reader = Reader {
                pipe,
                text: String::new(),
            };
            // One more round after the stop: what the kernel recorded before it is in.
            loop {
                let stopping = s.load(Ordering::Relaxed);
                if !stopping {
                    reader.wait(&cdev);
                }
                let mut new = reader.sets();
                while cdev.has_line_info_change_event().unwrap_or(false) {
                    let e = cdev
                        .read_line_info_change_event()
                        .expect("a line info event");
                    if e.kind == InfoChangeKind::Released {
                        let pull = sim.pull(offset).expect("read the line's pull");
                        new.push(Transition {
                            at: Duration::from_nanos(e.timestamp_ns),
                            value: u8::from(pull == Pull::Up),
                            used: false,
                        });
                    }
                }
                r.lock().unwrap().extend(new);
                if stopping {
                    break;
                }
            }
        });
        Self {
            offset,
            start,
            records,
            stop,
            handle: Some(handle),
            instance,
        }
    }

    /// The transitions so far: the kernel's records in time order, each kept if it changed the
    /// line's level.
    pub fn transitions(&self) -> Vec<Transition> {
        let mut records = self.records.lock().unwrap().clone();
        records.sort_by_key(|t| t.at);
        let mut out = vec![self.start];
        for t in records {
            if t.value != out[out.len() - 1].value {
                out.push(t);
            }
        }
        out
    }

    /// The first transition to `value` after `after` transitions, waiting up to `timeout`.
    pub fn wait(&self, value: u8, after: usize, timeout: Duration) -> Option<Transition> {
        let deadline = Instant::now() + timeout;
        loop {
            let found = self
                .transitions()
                .into_iter()
                .skip(after)
                .find(|t| t.value == value);
            if found.is_some() || Instant::now() > deadline {
                return found;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stops the thread; prints and returns every transition.
    pub fn stop(mut self) -> Vec<Transition> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            h.join().expect("the line watcher panicked");
        }
        let all = self.transitions();
        for t in &all {
            eprintln!(
                "line {}: {} at {} s{}",
                self.offset,
                t.value,
                secs(t.at),
                if t.used { " (held)" } else { " (free)" }
            );
        }
        all
    }
}

impl Drop for LineWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        // The instance goes once its trace_pipe is closed (the thread's end dropped it).
        let _ = fs::write(self.instance.join("events/gpio/gpio_value/enable"), "0");
        let _ = fs::remove_dir(&self.instance);
    }
}

/// The trace instance's pipe, and what is left of its last partial line.
struct Reader {
    pipe: File,
    text: String,
}

impl Reader {
    /// Waits up to 20 ms for either source to have something.
    fn wait(&self, cdev: &gpiocdev::Chip) {
        let mut fds = [
            libc::pollfd {
                fd: self.pipe.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: cdev.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: `fds` is a valid array of two pollfds that outlives the call.
        unsafe { libc::poll(fds.as_mut_ptr(), 2, 20) };
    }

    /// The sets in the pipe now, each with its time: only the watched line's, by the instance's
    /// filter. A line reads `<task>-<pid> [<cpu>] <flags> <secs>.<usecs>: gpio_value: <gpio> set
    /// <value>`.
    fn sets(&mut self) -> Vec<Transition> {
        let mut buf = [0u8; 4096];
        loop {
            match self.pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => self.text.push_str(&String::from_utf8_lossy(&buf[..n])),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => panic!("reading the trace pipe: {e}"),
            }
        }
        let complete = self.text.rfind('\n').map_or(0, |i| i + 1);
        let lines: String = self.text.drain(..complete).collect();
        lines.lines().filter_map(parse_set).collect()
    }
}

/// One `gpio_value` line of the trace pipe as a set.
fn parse_set(line: &str) -> Option<Transition> {
    let (head, event) = line.split_once(": gpio_value: ")?;
    let (s, us) = head.rsplit(' ').next()?.split_once('.')?;
    Some(Transition {
        at: Duration::from_secs(s.parse().ok()?) + Duration::from_micros(us.parse().ok()?),
        value: u8::from(event.split_whitespace().last()? != "0"),
        used: true,
    })
}
