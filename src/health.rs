//! Health probes: CPU temperature, the Pi firmware's throttling flags, free space for the
//! journal, and sustained low fps, each turned into edge-triggered events with hysteresis.
//!
//! [`Health::poll`] is meant for the worker thread: it reads sysfs files and calls `statvfs`
//! (a few syscalls, no heap), and where a Pi lacks the sysfs `get_throttled` file it runs
//! `vcgencmd`, a process spawn that must not stall the hot thread. It reads nothing until
//! `interval_s` has passed since the last reading, so calling it on every worker wake-up is
//! fine. The fps it judges comes from the metrics snapshot.
//!
//! Each condition yields one event when it starts (`active: true`) and one when it ends
//! (`active: false`), never one per poll. A condition starts at its limit and ends only past a
//! separate clear level (temperature, disk, fps), or after several clean polls (throttling,
//! whose flags flicker with the supply), so a value hovering at the limit does not flap.
//!
//! The filesystem roots are injectable ([`Probes`]) so tests run against a temp dir.

use crate::event::{Event, EventKind, Value};
use crate::validate::{join, Report, Validate};
use serde::Deserialize;
use std::cmp::Ordering;
use std::ffi::CString;
use std::fmt::Write as _;
use std::io::Read as _;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Polls in a row without current throttling flags before `throttled` clears.
const THROTTLE_CLEAR_POLLS: u32 = 3;
/// The firmware flags that describe *now* (bits 16..19 record the past since boot):
/// under-voltage, ARM frequency capped, throttled, soft temperature limit.
const THROTTLE_NOW_MASK: u32 = 0xf;

/// `[health]`: limits and how often to look.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthConfig {
    /// Seconds between readings.
    pub interval_s: f32,
    /// `temp_high` starts at this CPU temperature (°C) and ends at or below `temp_clear_c`.
    pub temp_limit_c: f32,
    pub temp_clear_c: f32,
    /// Which thermal zones are the CPU: those whose `type` contains this (case-insensitive),
    /// else `thermal_zone0`. The hottest matching zone counts.
    pub thermal_zone: String,
    /// Watch the Pi firmware's under-voltage and throttling flags, where present.
    pub throttled: bool,
    /// `disk_low` starts below this many MiB free for the journal and ends at `disk_clear_mb`.
    pub disk_min_free_mb: u64,
    pub disk_clear_mb: u64,
    /// `fps_low` starts when fps stays below `fps_floor` for `fps_sustain_s` seconds, and ends
    /// when it reaches `fps_clear`. A floor of 0 turns the probe off.
    pub fps_floor: f32,
    pub fps_clear: f32,
    pub fps_sustain_s: f32,
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            interval_s: 5.0,
            // A Pi 4 starts soft throttling at 80 °C; warn before it does.
            temp_limit_c: 75.0,
            temp_clear_c: 70.0,
            thermal_zone: "cpu".into(),
            throttled: true,
            disk_min_free_mb: 200,
            disk_clear_mb: 300,
            fps_floor: 2.0,
            fps_clear: 3.0,
            fps_sustain_s: 30.0,
        }
    }
}

impl Validate for HealthConfig {
    fn validate(&self, at: &str, report: &mut Report) {
        if !(self.interval_s >= 1.0 && self.interval_s <= 3600.0) {
            report.error(join(at, "interval_s"), "must be in 1..=3600 seconds");
        }
        if !(self.temp_limit_c > 0.0 && self.temp_limit_c <= 150.0) {
            report.error(join(at, "temp_limit_c"), "must be in (0, 150] °C");
        }
        if self.temp_clear_c.partial_cmp(&self.temp_limit_c) != Some(Ordering::Less) {
            report.error(join(at, "temp_clear_c"), "must be below temp_limit_c");
        }
        if self.disk_clear_mb <= self.disk_min_free_mb {
            report.error(join(at, "disk_clear_mb"), "must be above disk_min_free_mb");
        }
        if !(self.fps_floor >= 0.0 && self.fps_floor <= 1000.0) {
            report.error(join(at, "fps_floor"), "must be in 0..=1000 (0: off)");
        } else if self.fps_floor > 0.0
            && self.fps_clear.partial_cmp(&self.fps_floor) != Some(Ordering::Greater)
        {
            report.error(join(at, "fps_clear"), "must be above fps_floor");
        }
        if !(self.fps_sustain_s >= 0.0 && self.fps_sustain_s <= 86400.0) {
            report.error(join(at, "fps_sustain_s"), "must be in 0..=86400 seconds");
        }
    }
}

/// Where the probes read: the sysfs root and the `vcgencmd` fallback. Production uses
/// [`Probes::default`]; tests point them at a temp dir and a fake script.
#[derive(Debug, Clone)]
pub struct Probes {
    /// Normally `/sys`.
    pub sys_root: PathBuf,
    /// Run as `<vcgencmd> get_throttled` when sysfs lacks the file; `None` never runs it.
    pub vcgencmd: Option<PathBuf>,
}

impl Default for Probes {
    fn default() -> Self {
        Self {
            sys_root: PathBuf::from("/sys"),
            vcgencmd: Some(PathBuf::from("vcgencmd")),
        }
    }
}

/// One edge of a health condition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthEvent {
    /// `TempHigh`, `Throttled`, `DiskLow` or `FpsLow`.
    pub kind: EventKind,
    /// True when the condition starts, false when it ends.
    pub active: bool,
    /// The reading that crossed: °C, the firmware flags, MiB free, or fps.
    pub value: f64,
    /// The level it was judged against (the limit when starting, the clear level when ending).
    pub limit: f64,
}

impl HealthEvent {
    /// The journal's event, with `detail` such as `{"active":true,"temp_c":81.2,"limit":75}`.
    pub fn to_event(&self, ts_ms: i64, mono_ms: u64, clock_synced: bool) -> Event {
        let e = Event::new(self.kind, ts_ms, mono_ms, clock_synced);
        let key = match self.kind {
            EventKind::TempHigh => "temp_c",
            EventKind::Throttled => "flags",
            EventKind::DiskLow => "free_mb",
            _ => "fps",
        };
        let active = ("active", self.active.into());
        if self.kind == EventKind::Throttled {
            let mut flags = heapless::String::<16>::new();
            // Cannot overflow: a u32 in hex is at most 10 characters.
            let _ = write!(flags, "{:#x}", self.value as u32);
            e.with_detail(&[active, (key, flags.as_str().into())])
        } else {
            let (v, l) = (number(self.value), number(self.limit));
            e.with_detail(&[active, (key, v), ("limit", l)])
        }
    }
}

/// `v` to two decimals, and as an integer when it is one (`75`, not `75.0`).
fn number(v: f64) -> Value<'static> {
    let v = (v * 100.0).round() / 100.0;
    if v.fract() == 0.0 && v.abs() < 1e15 {
        Value::I64(v as i64)
    } else {
        Value::F64(v)
    }
}

/// Up to one event per probe per poll.
pub type HealthEvents = heapless::Vec<HealthEvent, 4>;

/// The raw readings of one poll; `None` where a probe is absent or failed.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Readings {
    pub temp_c: Option<f32>,
    pub throttled: Option<u32>,
    pub disk_free_mb: Option<u64>,
    pub fps: Option<f32>,
}

/// The firmware's flags, found once.
#[derive(Debug)]
enum ThrottleSource {
    Sysfs(PathBuf),
    Vcgencmd(PathBuf),
}

/// The probes and their edge state. See the module docs for the thread to call it from.
#[derive(Debug)]
pub struct Health {
    cfg: HealthConfig,
    interval: Duration,
    thermal: Vec<PathBuf>,
    throttle: Option<ThrottleSource>,
    journal_dir: Option<CString>,
    last_poll: Option<Duration>,
    temp_high: bool,
    throttled: bool,
    throttle_clean: u32,
    disk_low: bool,
    fps_low: bool,
    fps_low_since: Option<Duration>,
    failures: u64,
}

impl Health {
    /// Finds the probes under `probes` once. `journal_dir` is the directory whose free space
    /// is watched; `None` leaves the disk probe off. Probes that do not exist stay off.
    pub fn new(cfg: &HealthConfig, probes: &Probes, journal_dir: Option<&Path>) -> Self {
        let throttle = if cfg.throttled {
            find_throttled(&probes.sys_root)
                .map(ThrottleSource::Sysfs)
                .or_else(|| probes.vcgencmd.clone().map(ThrottleSource::Vcgencmd))
        } else {
            None
        };
        Self {
            interval: Duration::try_from_secs_f32(cfg.interval_s).unwrap_or(Duration::from_secs(5)),
            thermal: find_thermal_zones(&probes.sys_root, &cfg.thermal_zone),
            throttle,
            journal_dir: journal_dir.and_then(|p| CString::new(p.as_os_str().as_bytes()).ok()),
            cfg: cfg.clone(),
            last_poll: None,
            temp_high: false,
            throttled: false,
            throttle_clean: 0,
            disk_low: false,
            fps_low: false,
            fps_low_since: None,
            failures: 0,
        }
    }

    /// At monotonic time `now`, reads the probes if a reading is due and judges them with the
    /// current `fps` (`None` when unknown, such as before the first metrics snapshot).
    pub fn poll(&mut self, now: Duration, fps: Option<f32>) -> HealthEvents {
        if self
            .last_poll
            .is_some_and(|t| now.saturating_sub(t) < self.interval)
        {
            return HealthEvents::new();
        }
        self.last_poll = Some(now);
        let mut r = self.read();
        r.fps = fps;
        self.judge(now, &r)
    }

    /// Reads every probe that exists. A probe that fails reads `None` and is counted.
    pub fn read(&mut self) -> Readings {
        let mut r = Readings::default();
        let temps = self
            .thermal
            .iter()
            .filter_map(|p| read_number(p))
            .map(|v| v as f32 / 1000.0);
        r.temp_c = temps.reduce(f32::max);
        if !self.thermal.is_empty() && r.temp_c.is_none() {
            self.failures += 1;
        }
        r.throttled = match &self.throttle {
            Some(ThrottleSource::Sysfs(p)) => read_small(p).and_then(|s| parse_throttled(&s)),
            Some(ThrottleSource::Vcgencmd(cmd)) => run_vcgencmd(cmd),
            None => None,
        };
        if self.throttle.is_some() && r.throttled.is_none() {
            self.failures += 1;
            // A board without the firmware command: stop spawning it every poll.
            if matches!(self.throttle, Some(ThrottleSource::Vcgencmd(_))) {
                self.throttle = None;
            }
        }
        if let Some(dir) = &self.journal_dir {
            r.disk_free_mb = free_mb(dir);
            if r.disk_free_mb.is_none() {
                self.failures += 1;
            }
        }
        r
    }

    /// Applies the readings to the edge state and returns the edges crossed.
    pub fn judge(&mut self, now: Duration, r: &Readings) -> HealthEvents {
        let c = &self.cfg;
        let mut out = HealthEvents::new();
        let mut push = |kind, active, value: f64, limit: f64| {
            // Cannot overflow: one event per probe.
            let _ = out.push(HealthEvent {
                kind,
                active,
                value,
                limit,
            });
        };
        if let Some(t) = r.temp_c {
            if !self.temp_high && t >= c.temp_limit_c {
                self.temp_high = true;
                push(EventKind::TempHigh, true, t.into(), c.temp_limit_c.into());
            } else if self.temp_high && t <= c.temp_clear_c {
                self.temp_high = false;
                push(EventKind::TempHigh, false, t.into(), c.temp_clear_c.into());
            }
        }
        if let Some(flags) = r.throttled {
            let now_flags = flags & THROTTLE_NOW_MASK;
            if now_flags != 0 {
                self.throttle_clean = 0;
                if !self.throttled {
                    self.throttled = true;
                    push(EventKind::Throttled, true, flags.into(), 0.0);
                }
            } else if self.throttled {
                self.throttle_clean += 1;
                if self.throttle_clean >= THROTTLE_CLEAR_POLLS {
                    self.throttled = false;
                    push(EventKind::Throttled, false, flags.into(), 0.0);
                }
            }
        }
        if let Some(free) = r.disk_free_mb {
            if !self.disk_low && free < c.disk_min_free_mb {
                self.disk_low = true;
                push(
                    EventKind::DiskLow,
                    true,
                    free as f64,
                    c.disk_min_free_mb as f64,
                );
            } else if self.disk_low && free >= c.disk_clear_mb {
                self.disk_low = false;
                push(
                    EventKind::DiskLow,
                    false,
                    free as f64,
                    c.disk_clear_mb as f64,
                );
            }
        }
        if let (Some(fps), true) = (r.fps, c.fps_floor > 0.0) {
            if fps < c.fps_floor {
                let since = *self.fps_low_since.get_or_insert(now);
                let sustained = now.saturating_sub(since).as_secs_f32() >= c.fps_sustain_s;
                if !self.fps_low && sustained {
                    self.fps_low = true;
                    push(EventKind::FpsLow, true, fps.into(), c.fps_floor.into());
                }
            } else {
                self.fps_low_since = None;
                if self.fps_low && fps >= c.fps_clear {
                    self.fps_low = false;
                    push(EventKind::FpsLow, false, fps.into(), c.fps_clear.into());
                }
            }
        }
        out
    }

    /// Readings that failed since start (a vanished file, a failing `statvfs`).
    pub fn failures(&self) -> u64 {
        self.failures
    }

    /// Which probes were found: (thermal zones, throttling flags, journal disk).
    pub fn found(&self) -> (usize, bool, bool) {
        (
            self.thermal.len(),
            self.throttle.is_some(),
            self.journal_dir.is_some(),
        )
    }
}

/// The `temp` files of the thermal zones whose `type` contains `want`, else of zone 0.
fn find_thermal_zones(sys: &Path, want: &str) -> Vec<PathBuf> {
    let base = sys.join("class/thermal");
    let mut zones: Vec<PathBuf> = std::fs::read_dir(&base)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.as_bytes().starts_with(b"thermal_zone"))
        })
        .collect();
    zones.sort();
    let want = want.to_ascii_lowercase();
    let matching: Vec<PathBuf> = zones
        .iter()
        .filter(|z| {
            std::fs::read_to_string(z.join("type"))
                .is_ok_and(|t| !want.is_empty() && t.to_ascii_lowercase().contains(&want))
        })
        .map(|z| z.join("temp"))
        .collect();
    if !matching.is_empty() {
        return matching;
    }
    let zone0 = base.join("thermal_zone0/temp");
    if zone0.exists() {
        vec![zone0]
    } else {
        Vec::new()
    }
}

/// The firmware's `get_throttled` attribute: `devices/platform/soc/soc:firmware/` on a Pi 4,
/// else any `devices/platform/*/*firmware/get_throttled`.
fn find_throttled(sys: &Path) -> Option<PathBuf> {
    let platform = sys.join("devices/platform");
    let known = platform.join("soc/soc:firmware/get_throttled");
    if known.is_file() {
        return Some(known);
    }
    let buses = std::fs::read_dir(&platform).ok()?.flatten();
    buses
        .filter_map(|bus| std::fs::read_dir(bus.path()).ok())
        .flat_map(|d| d.flatten())
        .filter(|e| e.file_name().as_bytes().ends_with(b"firmware"))
        .map(|e| e.path().join("get_throttled"))
        .find(|p| p.is_file())
}

/// Reads a small sysfs file into a stack buffer.
fn read_small(path: &Path) -> Option<heapless::String<64>> {
    let mut buf = [0u8; 64];
    let n = std::fs::File::open(path).ok()?.read(&mut buf).ok()?;
    let text = std::str::from_utf8(&buf[..n]).ok()?;
    heapless::String::try_from(text.trim()).ok()
}

fn read_number(path: &Path) -> Option<i64> {
    read_small(path)?.parse().ok()
}

/// `get_throttled`'s value: sysfs prints bare hex (`50005`), vcgencmd `throttled=0x50005`.
fn parse_throttled(s: &str) -> Option<u32> {
    let s = s.trim();
    let s = s.strip_prefix("throttled=").unwrap_or(s);
    let s = s.strip_prefix("0x").unwrap_or(s);
    u32::from_str_radix(s, 16).ok()
}

/// Runs `vcgencmd get_throttled`, giving it two seconds.
fn run_vcgencmd(cmd: &Path) -> Option<u32> {
    let mut child = Command::new(cmd)
        .arg("get_throttled")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let mut out = String::new();
    child.stdout.take()?.read_to_string(&mut out).ok()?;
    parse_throttled(&out)
}

/// Free MiB for an unprivileged writer on the filesystem holding `dir`.
fn free_mb(dir: &CString) -> Option<u64> {
    // SAFETY: `statvfs` is plain data, for which all-zero bytes are a valid value.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `dir` is a valid NUL-terminated path and `st` a properly sized out-parameter.
    let rc = unsafe { libc::statvfs(dir.as_ptr(), &mut st) };
    (rc == 0).then(|| (st.f_bavail as u64).saturating_mul(st.f_frsize as u64) >> 20)
}

#[cfg(test)]
mod tests;
