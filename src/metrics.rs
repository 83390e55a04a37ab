//! Metrics: per-stage timings with p50/p99, fps and counters, published as a Prometheus
//! textfile (for node_exporter's textfile collector) and a one-line log summary.
//!
//! The split follows the threads. The hot thread owns a [`Metrics`]: it records each stage's
//! time and bumps counters with no allocation and no I/O, and when [`Metrics::due`] says so it
//! takes a [`Snapshot`], a fixed-size `Copy` value that fits the worker's `heapless::spsc`
//! queue. The worker owns a [`Publisher`], which renders the snapshot, replaces the textfile
//! atomically and logs the summary line every `log_interval_s`.
//!
//! With an uplink configured, the publisher also reads its backlog (the journal ids it has not
//! had acknowledged yet, [`Backlog`]) at each snapshot and exports it as
//! `picket_uplink_backlog`.

use crate::journal::cursor::Backlog;
use crate::validate::{join, Report, Validate};
use serde::Deserialize;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A timed stage of one frame's path. `Frame` is the whole path, source to rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Source,
    Motion,
    Preprocess,
    Invoke,
    Decode,
    Track,
    Rules,
    Frame,
}

impl Stage {
    pub const COUNT: usize = 8;
    pub const ALL: [Stage; Stage::COUNT] = [
        Stage::Source,
        Stage::Motion,
        Stage::Preprocess,
        Stage::Invoke,
        Stage::Decode,
        Stage::Track,
        Stage::Rules,
        Stage::Frame,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Stage::Source => "source",
            Stage::Motion => "motion",
            Stage::Preprocess => "preprocess",
            Stage::Invoke => "invoke",
            Stage::Decode => "decode",
            Stage::Track => "track",
            Stage::Rules => "rules",
            Stage::Frame => "frame",
        }
    }
}

/// A monotonic count, exported as `picket_<name>_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    Frames,
    Inferences,
    InferencesSkipped,
    /// Journal items dropped because the worker's queue was full.
    QueueDrops,
    Reconnects,
    Alarms,
    Events,
}

impl Counter {
    pub const COUNT: usize = 7;
    pub const ALL: [Counter; Counter::COUNT] = [
        Counter::Frames,
        Counter::Inferences,
        Counter::InferencesSkipped,
        Counter::QueueDrops,
        Counter::Reconnects,
        Counter::Alarms,
        Counter::Events,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Counter::Frames => "frames",
            Counter::Inferences => "inferences",
            Counter::InferencesSkipped => "inferences_skipped",
            Counter::QueueDrops => "queue_drops",
            Counter::Reconnects => "reconnects",
            Counter::Alarms => "alarms",
            Counter::Events => "events",
        }
    }

    const fn help(self) -> &'static str {
        match self {
            Counter::Frames => "Frames taken from the source.",
            Counter::Inferences => "Frames the detector ran on.",
            Counter::InferencesSkipped => "Frames the motion gate kept from the detector.",
            Counter::QueueDrops => "Journal items dropped because the worker queue was full.",
            Counter::Reconnects => "Camera reconnections.",
            Counter::Alarms => "Alarms raised.",
            Counter::Events => "Events produced.",
        }
    }
}

/// `[metrics]`: where and how often to publish.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// The Prometheus textfile to keep up to date (a `.prom` file in node_exporter's
    /// `--collector.textfile.directory`); none writes no file.
    pub textfile: Option<PathBuf>,
    /// Seconds between snapshots (and textfile updates).
    pub interval_s: f32,
    /// Seconds between one-line log summaries; 0 logs none.
    pub log_interval_s: f32,
    /// Frames per stage that p50 and p99 are taken over.
    pub window: u32,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            textfile: None,
            interval_s: 10.0,
            log_interval_s: 60.0,
            window: 1024,
        }
    }
}

impl Validate for MetricsConfig {
    fn validate(&self, at: &str, report: &mut Report) {
        if let Some(p) = &self.textfile {
            if !matches!(p.extension(), Some(e) if e == "prom") {
                report.error(
                    join(at, "textfile"),
                    "must name a `.prom` file (node_exporter reads only those)",
                );
            }
        }
        if !(self.interval_s >= 1.0 && self.interval_s <= 3600.0) {
            report.error(join(at, "interval_s"), "must be in 1..=3600 seconds");
        }
        if !(self.log_interval_s == 0.0
            || (self.log_interval_s >= self.interval_s && self.log_interval_s <= 86400.0))
        {
            report.error(
                join(at, "log_interval_s"),
                "must be 0 (off) or from interval_s up to 86400 seconds",
            );
        }
        if !(16..=65536).contains(&self.window) {
            report.error(join(at, "window"), "must be in 16..=65536 frames");
        }
    }
}

/// The last `window` durations of one stage (nanoseconds, saturating at ~4.3 s), plus the
/// cumulative count and sum.
#[derive(Debug)]
struct Window {
    samples: Box<[u32]>,
    next: usize,
    len: usize,
    count: u64,
    sum_ns: u64,
}

impl Window {
    fn new(size: usize) -> Self {
        Self {
            samples: vec![0; size.max(1)].into_boxed_slice(),
            next: 0,
            len: 0,
            count: 0,
            sum_ns: 0,
        }
    }

    fn record(&mut self, d: Duration) {
        let ns = u32::try_from(d.as_nanos()).unwrap_or(u32::MAX);
        self.samples[self.next] = ns;
        self.next = (self.next + 1) % self.samples.len();
        self.len = (self.len + 1).min(self.samples.len());
        self.count += 1;
        self.sum_ns = self.sum_ns.saturating_add(u64::from(ns));
    }
}

/// One stage's figures in a [`Snapshot`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StageStats {
    /// Times recorded since start.
    pub count: u64,
    /// Their total.
    pub sum: Duration,
    /// Nearest-rank percentiles over the window; zero when nothing was recorded.
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

/// The hot thread's recorder. Create it once at start; nothing after [`Metrics::new`]
/// allocates. `now` arguments are monotonic time since the pipeline started.
#[derive(Debug)]
pub struct Metrics {
    stages: [Window; Stage::COUNT],
    counters: [u64; Counter::COUNT],
    scratch: Vec<u32>,
    interval: Duration,
    last_at: Duration,
    last_frames: u64,
}

impl Metrics {
    pub fn new(cfg: &MetricsConfig) -> Self {
        let size = cfg.window as usize;
        Self {
            stages: std::array::from_fn(|_| Window::new(size)),
            counters: [0; Counter::COUNT],
            scratch: Vec::with_capacity(size),
            interval: secs(cfg.interval_s),
            last_at: Duration::ZERO,
            last_frames: 0,
        }
    }

    /// Records one frame's time in `stage`.
    pub fn record(&mut self, stage: Stage, d: Duration) {
        self.stages[stage as usize].record(d);
    }

    /// Runs `f`, recording its time in `stage`.
    pub fn time<R>(&mut self, stage: Stage, f: impl FnOnce() -> R) -> R {
        let t = Instant::now();
        let r = f();
        self.record(stage, t.elapsed());
        r
    }

    pub fn add(&mut self, c: Counter, n: u64) {
        self.counters[c as usize] = self.counters[c as usize].saturating_add(n);
    }

    pub fn inc(&mut self, c: Counter) {
        self.add(c, 1);
    }

    /// Sets a count kept elsewhere, such as the motion gate's skipped inferences.
    pub fn set(&mut self, c: Counter, v: u64) {
        self.counters[c as usize] = v;
    }

    pub fn get(&self, c: Counter) -> u64 {
        self.counters[c as usize]
    }

    /// Whether a snapshot is due at `now`.
    pub fn due(&self, now: Duration) -> bool {
        now.saturating_sub(self.last_at) >= self.interval
    }

    /// The figures at `now`; fps is over the time since the previous snapshot (or the start).
    pub fn snapshot(&mut self, now: Duration) -> Snapshot {
        let frames = self.counters[Counter::Frames as usize];
        let dt = now.saturating_sub(self.last_at).as_secs_f64();
        let fps = if dt > 0.0 {
            (frames - self.last_frames.min(frames)) as f64 / dt
        } else {
            0.0
        };
        self.last_at = now;
        self.last_frames = frames;
        let mut stages = [StageStats::default(); Stage::COUNT];
        for (out, w) in stages.iter_mut().zip(&self.stages) {
            self.scratch.clear();
            self.scratch.extend_from_slice(&w.samples[..w.len]);
            self.scratch.sort_unstable();
            let rank = |q: f64| {
                let i = ((q * w.len as f64).ceil() as usize).clamp(1, w.len.max(1)) - 1;
                Duration::from_nanos(self.scratch.get(i).copied().map_or(0, u64::from))
            };
            *out = StageStats {
                count: w.count,
                sum: Duration::from_nanos(w.sum_ns),
                p50: rank(0.50),
                p99: rank(0.99),
                max: rank(1.0),
            };
        }
        Snapshot {
            at: now,
            fps: fps as f32,
            window: self.stages[0].samples.len() as u32,
            stages,
            counters: self.counters,
        }
    }
}

fn secs(s: f32) -> Duration {
    Duration::try_from_secs_f32(s).unwrap_or(Duration::from_secs(10))
}

/// Everything published at one moment. Fixed-size and `Copy`, for the worker's queue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapshot {
    /// Monotonic time since start.
    pub at: Duration,
    pub fps: f32,
    /// The percentile window, in frames.
    pub window: u32,
    pub stages: [StageStats; Stage::COUNT],
    pub counters: [u64; Counter::COUNT],
}

impl Snapshot {
    pub fn stage(&self, s: Stage) -> &StageStats {
        &self.stages[s as usize]
    }

    pub fn counter(&self, c: Counter) -> u64 {
        self.counters[c as usize]
    }

    /// Appends the Prometheus text exposition of this snapshot to `out`. Stages never recorded
    /// are left out.
    pub fn render_prometheus(&self, out: &mut String) {
        let _ = self.write_prometheus(out);
    }

    fn write_prometheus(&self, out: &mut String) -> fmt::Result {
        writeln!(
            out,
            "# HELP picket_stage_seconds Time per frame in each stage; quantiles over the last {} frames.",
            self.window
        )?;
        writeln!(out, "# TYPE picket_stage_seconds summary")?;
        for s in Stage::ALL {
            let st = self.stage(s);
            if st.count == 0 {
                continue;
            }
            let name = s.as_str();
            for (q, v) in [("0.5", st.p50), ("0.99", st.p99)] {
                let v = v.as_secs_f64();
                writeln!(
                    out,
                    "picket_stage_seconds{{stage=\"{name}\",quantile=\"{q}\"}} {v}"
                )?;
            }
            let sum = st.sum.as_secs_f64();
            writeln!(out, "picket_stage_seconds_sum{{stage=\"{name}\"}} {sum}")?;
            writeln!(
                out,
                "picket_stage_seconds_count{{stage=\"{name}\"}} {}",
                st.count
            )?;
        }
        writeln!(
            out,
            "# HELP picket_fps Frames per second over the last interval."
        )?;
        writeln!(out, "# TYPE picket_fps gauge")?;
        writeln!(out, "picket_fps {}", self.fps)?;
        for c in Counter::ALL {
            let name = c.as_str();
            writeln!(out, "# HELP picket_{name}_total {}", c.help())?;
            writeln!(out, "# TYPE picket_{name}_total counter")?;
            writeln!(out, "picket_{name}_total {}", self.counter(c))?;
        }
        Ok(())
    }

    /// The one-line log summary, e.g. `fps 9.9 | p50/p99 ms: invoke 8.15/9.02 frame 9.10/10.3
    /// | frames 600 inferences 600 inferences_skipped 0 ...`.
    pub fn summary(&self) -> Summary<'_> {
        Summary(self)
    }
}

/// [`Snapshot::summary`]'s display form.
#[derive(Debug)]
pub struct Summary<'a>(&'a Snapshot);

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        write!(f, "fps {:.1} | p50/p99 ms:", s.fps)?;
        for st in Stage::ALL {
            let v = s.stage(st);
            if v.count > 0 {
                let ms = |d: Duration| d.as_secs_f64() * 1e3;
                write!(f, " {} {:.2}/{:.2}", st.as_str(), ms(v.p50), ms(v.p99))?;
            }
        }
        f.write_str(" |")?;
        for c in Counter::ALL {
            write!(f, " {} {}", c.as_str(), s.counter(c))?;
        }
        Ok(())
    }
}

/// Why a snapshot could not be published.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("metrics: write {}: {cause}", path.display())]
    Write {
        path: PathBuf,
        cause: std::io::Error,
    },
}

/// The worker's side: renders snapshots to the textfile and the log. Reuses one text buffer.
#[derive(Debug)]
pub struct Publisher {
    textfile: Option<PathBuf>,
    log_interval: Option<Duration>,
    next_log: Duration,
    text: String,
    /// The journal and the uplink's state file, when an uplink is configured.
    uplink: Option<(PathBuf, PathBuf)>,
    /// The last failure to read the backlog, logged once until it changes.
    uplink_trouble: Option<String>,
}

impl Publisher {
    /// The publisher of `cfg`. A textfile on a disk rather than in RAM is warned about once
    /// here: it is rewritten every `interval_s`, far past the wear budget of a card.
    pub fn new(cfg: &MetricsConfig) -> Self {
        if let Some(path) = &cfg.textfile {
            if in_ram(path) == Some(false) {
                log::warn!(
                    "metrics: textfile {} is on a disk, not tmpfs: rewritten every {} s, it \
                     writes tens of MB a day there and wears an SD card; keep it under /run \
                     (node_exporter's --collector.textfile.directory)",
                    path.display(),
                    cfg.interval_s
                );
            }
        }
        Self {
            textfile: cfg.textfile.clone(),
            log_interval: (cfg.log_interval_s > 0.0).then(|| secs(cfg.log_interval_s)),
            next_log: Duration::ZERO,
            text: String::with_capacity(4096),
            uplink: None,
            uplink_trouble: None,
        }
    }

    /// Also exports the uplink's backlog, read from `journal` and the uplink's `state_file`
    /// (`None`: no uplink, no backlog metric).
    pub fn with_uplink(mut self, files: Option<(PathBuf, PathBuf)>) -> Self {
        self.uplink = files;
        self
    }

    /// Appends `picket_uplink_backlog` to the text, when an uplink is configured and its
    /// backlog can be read; absent while the uplink has never run. A failure to read it is
    /// logged once until it changes.
    fn render_uplink(&mut self) {
        let Some((journal, state_file)) = &self.uplink else {
            return;
        };
        let ids = match Backlog::read(journal, state_file) {
            Ok(Backlog::Behind { ids, .. }) => ids,
            Ok(Backlog::NeverRan) => {
                self.uplink_trouble = None;
                return;
            }
            Err(e) => {
                let e = e.to_string();
                if self.uplink_trouble.as_ref() != Some(&e) {
                    log::warn!("metrics: uplink backlog: {e}");
                    self.uplink_trouble = Some(e);
                }
                return;
            }
        };
        self.uplink_trouble = None;
        let _ = writeln!(
            self.text,
            "# HELP picket_uplink_backlog Journal ids the MQTT uplink has not had acknowledged \
             yet.\n# TYPE picket_uplink_backlog gauge\npicket_uplink_backlog {ids}"
        );
    }

    /// Writes the textfile, if one is configured, and returns the summary line when one is
    /// due (the caller logs it, so tests can see it).
    pub fn publish<'a>(&mut self, snap: &'a Snapshot) -> Result<Option<Summary<'a>>, MetricsError> {
        if let Some(path) = &self.textfile {
            let path = path.clone();
            self.text.clear();
            snap.render_prometheus(&mut self.text);
            self.render_uplink();
            write_atomically(&path, self.text.as_bytes())?;
        }
        match self.log_interval {
            Some(every) if snap.at >= self.next_log => {
                self.next_log = snap.at + every;
                Ok(Some(snap.summary()))
            }
            _ => Ok(None),
        }
    }
}

/// Whether the directory of `path` is on a file system in RAM (tmpfs, ramfs); `None` when it
/// cannot be told (no such directory yet).
pub fn in_ram(path: &Path) -> Option<bool> {
    use std::os::unix::ffi::OsStrExt as _;
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    const RAMFS_MAGIC: i64 = 0x8584_58f6;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: `statfs` is plain data, valid as all zeroes.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `st` an out-parameter of the right type.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    #[allow(clippy::unnecessary_cast)] // f_type is i64 on some targets, i32/u32 on others
    let magic = st.f_type as i64;
    Some(magic == TMPFS_MAGIC || magic == RAMFS_MAGIC)
}

/// Replaces `path` with `bytes` so that readers see the old file or the new one, never half:
/// write a hidden temporary beside it, then rename over it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), MetricsError> {
    let err = |cause| MetricsError::Write {
        path: path.to_owned(),
        cause,
    };
    let name = path
        .file_name()
        .ok_or_else(|| err(std::io::ErrorKind::InvalidInput.into()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    std::fs::write(&tmp, bytes).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        err(e)
    })
}

#[cfg(test)]
mod tests;
