//! `picket run` as a child process in the kernel VM, and what the HIL scenarios watch it with:
//!
//! - [`Picket`]: the child, with its log lines as they come, each stamped with the
//!   CLOCK_MONOTONIC time the test read it, and echoed to the console (the CI log);
//! - [`LineWatch`](crate::wire::LineWatch) (in `wire`): each transition of a gpio-sim line, from
//!   the kernel's record, with its CLOCK_MONOTONIC time and whether the line was held;
//! - [`Feeder`]: `picket feed` playing the committed clip into v4l2loopback;
//! - the journal checked through `picket events` (read back by `util::journal::events`).
//!
//! CLOCK_MONOTONIC is the clock of V4L2 timestamps, so a frame's timestamp and a line's
//! transition can be subtracted.

use crate::util::picket_bin;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::{Duration, Instant};

/// The committed clip: 80 frames of the vtest walkway at 10 fps, 384×288 MJPEG.
pub const CLIP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/clip/vtest-460-539.mjpeg"
);

fn clock(id: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-parameter; both clocks used here always exist on Linux.
    unsafe { libc::clock_gettime(id, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// CLOCK_MONOTONIC now.
pub fn monotonic() -> Duration {
    clock(libc::CLOCK_MONOTONIC)
}

/// When picket wrote log line `l`, from its timestamp (`[2026-11-27T13:49:32.540Z ...`, UTC,
/// truncated to the millisecond), moved to CLOCK_MONOTONIC; `None` for a line without one.
/// Unlike [`Logged::at`], it does not depend on when the test got round to reading the line.
pub fn logged_at(l: &Logged) -> Option<Duration> {
    let stamp = l.text.strip_prefix('[')?.split(' ').next()?;
    let wall = stamp.parse::<jiff::Timestamp>().ok()?.as_nanosecond();
    let offset = clock(libc::CLOCK_REALTIME).as_nanos() as i128 - monotonic().as_nanos() as i128;
    u64::try_from(wall - offset).ok().map(Duration::from_nanos)
}

/// Seconds with millisecond precision, for the log.
pub fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// One line of a child's output and when the test read it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub at: Duration,
    pub text: String,
}

/// Sends each line of `out` with its arrival time, echoed with `tag`.
fn forward(out: impl Read + Send + 'static, tag: &'static str, tx: Sender<Logged>) {
    thread::spawn(move || {
        for text in BufReader::new(out).lines().map_while(Result::ok) {
            let at = monotonic();
            eprintln!("[{} {tag}] {text}", secs(at));
            if tx.send(Logged { at, text }).is_err() {
                break;
            }
        }
    });
}

/// A picket child process (`run`, `feed`, ...) with its stdout and stderr merged into lines.
pub struct Picket {
    child: Child,
    rx: Receiver<Logged>,
    /// Every line read so far, in order.
    pub seen: Vec<Logged>,
}

impl Picket {
    /// Starts `picket ARGS` with `RUST_LOG` at info, and at debug for the pipeline (one line per
    /// frame), tagged `tag` on the console.
    pub fn spawn(tag: &'static str, args: &[&str]) -> Self {
        let mut child = Command::new(picket_bin())
            .args(args)
            .env("RUST_LOG", "info,picket::pipeline=debug")
            .env("RUST_LOG_STYLE", "never")
            .env_remove("NOTIFY_SOCKET")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {} {args:?}: {e}", picket_bin().display()));
        let (tx, rx) = mpsc::channel();
        forward(child.stdout.take().unwrap(), tag, tx.clone());
        forward(child.stderr.take().unwrap(), tag, tx);
        Self {
            child,
            rx,
            seen: Vec::new(),
        }
    }

    /// Waits up to `timeout` for a line that `want` accepts; panics with `what` otherwise.
    pub fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        want: impl Fn(&str) -> bool,
    ) -> Logged {
        let deadline = Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.rx.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if want(&l.text) {
                        return l;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("picket ended before {what}")
                }
            }
        }
        panic!("no {what} within {timeout:?}");
    }

    /// Takes the lines that have arrived so far, without waiting.
    pub fn poll(&mut self) {
        while let Ok(l) = self.rx.try_recv() {
            self.seen.push(l);
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `sig` to the process.
    pub fn signal(&self, sig: libc::c_int) {
        // SAFETY: a plain kill(2) of our own child, which has not been reaped yet.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, sig) }, 0);
    }

    /// SIGTERM, then its exit status (within `timeout`, else SIGKILL and a panic) with every
    /// line it printed.
    pub fn stop(self, timeout: Duration) -> (ExitStatus, Vec<Logged>) {
        self.signal(libc::SIGTERM);
        self.finish(timeout)
    }

    /// Waits for the exit (within `timeout`, else SIGKILL and a panic) and the last lines.
    pub fn finish(mut self, timeout: Duration) -> (ExitStatus, Vec<Logged>) {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("picket did not exit within {timeout:?}");
            }
            thread::sleep(Duration::from_millis(20));
        };
        // The readers end at EOF; take what they still hold.
        while let Ok(l) = self.rx.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(l);
        }
        (status, std::mem::take(&mut self.seen))
    }
}

impl Drop for Picket {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A processed frame, from the pipeline's debug line
/// `frame SEQ stamped SECONDS s: N tracks, K in zones`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Picket's own frame number (frames it took from the source, from 0).
    pub seq: u64,
    /// The frame's source timestamp: CLOCK_MONOTONIC for a V4L2 camera.
    pub stamp: Duration,
    pub tracks: u32,
    /// Confirmed tracks standing in a zone that a rule watches.
    pub in_zones: u32,
    /// When picket logged the frame ([`logged_at`]): after judging it, before sending its
    /// alarms.
    pub at: Duration,
}

/// `frame SEQ stamped SECONDS s` at the start of `text`'s message: the number and timestamp,
/// and the rest of the message.
fn frame_head(text: &str) -> Option<(u64, Duration, &str)> {
    let msg = &text[text.find("] frame ")? + 2..];
    let rest = msg.strip_prefix("frame ")?;
    let (seq, rest) = rest.split_once(" stamped ")?;
    let (stamp, rest) = rest.split_once(" s: ")?;
    Some((
        seq.parse().ok()?,
        Duration::from_secs_f64(stamp.parse().ok()?),
        rest,
    ))
}

/// The number of the processed frame that a pipeline debug line reports, if it is one.
pub fn frame_seq(text: &str) -> Option<u64> {
    frame_head(text)
        .filter(|(_, _, rest)| rest.ends_with(" in zones"))
        .map(|(seq, _, _)| seq)
}

/// The processed frame that a pipeline debug line reports, if it is one.
pub fn frame(l: &Logged) -> Option<Frame> {
    let (seq, stamp, rest) = frame_head(&l.text)?;
    let (tracks, rest) = rest.split_once(" tracks, ")?;
    let in_zones = rest.strip_suffix(" in zones")?;
    Some(Frame {
        seq,
        stamp,
        tracks: tracks.parse().ok()?,
        in_zones: in_zones.parse().ok()?,
        at: logged_at(l)?,
    })
}

/// A rule event as the pipeline logs it: `frame SEQ stamped SECONDS s: KIND PLACE track ID`.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleEvent {
    pub seq: u64,
    pub stamp: Duration,
    pub kind: String,
    pub place: String,
    pub track: u64,
}

/// The rule event that a pipeline info line reports, if it is one.
pub fn rule_event(l: &Logged) -> Option<RuleEvent> {
    let (seq, stamp, rest) = frame_head(&l.text)?;
    let mut words = rest.split(' ');
    let (kind, place) = (words.next()?, words.next()?);
    (words.next()? == "track").then_some(())?;
    Some(RuleEvent {
        seq,
        stamp,
        kind: kind.to_owned(),
        place: place.to_owned(),
        track: words.next()?.parse().ok()?,
    })
}

/// `picket feed` writing the clip's frames `from..` into the loopback node at `fps`, looped
/// until dropped.
pub struct Feeder(Picket);

impl Feeder {
    /// Feeds the committed clip from frame `from`, looped, at `fps`.
    pub fn start(loopback: &Path, fps: u32, from: u64) -> Self {
        Self::start_clip(loopback, fps, from, Path::new(CLIP))
    }

    /// Feeds the MJPEG file `clip` from frame `from`, looped, at `fps`.
    pub fn start_clip(loopback: &Path, fps: u32, from: u64, clip: &Path) -> Self {
        let (fps, from) = (fps.to_string(), from.to_string());
        let (dev, clip) = (loopback.to_str().unwrap(), clip.to_str().unwrap());
        let args = [
            "feed", "--device", dev, "--fps", &fps, "--from", &from, "--loops", "0", clip,
        ];
        let mut p = Picket::spawn("feed", &args);
        p.wait_for("the feeder's start", Duration::from_secs(30), |t| {
            t.starts_with("feeding ")
        });
        Self(p)
    }

    /// Stops the feeder; it must exit 0 having written frames.
    pub fn stop(self) {
        let (status, lines) = self.0.stop(Duration::from_secs(10));
        assert!(status.success(), "picket feed: {status}");
        assert!(
            lines.iter().any(|l| l.text.starts_with("fed ")),
            "picket feed did not report its frames"
        );
    }
}

/// The kinds of `events`, in order.
pub fn kinds(events: &[serde_json::Value]) -> Vec<&str> {
    events.iter().filter_map(|e| e["kind"].as_str()).collect()
}

/// `picket events stats --check`: its output, which must say `integrity ok`.
pub fn assert_integrity(db: &Path) -> String {
    let out = Command::new(picket_bin())
        .args(["events", "stats", "--check", "--db"])
        .arg(db)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && text.contains("integrity ok"),
        "picket events stats --check on {}: {text}{}",
        db.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    text
}
