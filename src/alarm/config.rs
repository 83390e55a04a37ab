//! The `[[outputs]]`, `[[alarms]]`, `[healthy]` and `[inputs]` sections, and their validation.
//!
//! ```toml
//! [[outputs]]
//! name = "siren"
//! kind = "gpiocdev"          # gpiocdev | rppal | log
//! line = "RELAY"             # a line name, or chip = "gpiochip0" with offset = 17
//! active_low = true          # many relay boards switch on a low input
//! max_on_s = 180             # never on longer than this per activation
//!
//! [[alarms]]
//! rules = ["gate_in", "tamper"]
//! outputs = ["siren"]
//! pattern = "siren"          # steady | siren | pulse:ON_MS/OFF_MS
//! hold_s = 30                # stays on this long after the last trigger
//! cooldown_s = 60            # then ignores triggers this long
//! latch = false              # true: stays on until `picket alarm reset`
//!
//! [healthy]
//! output = "ok_led"          # high while picket runs well
//! timeout_ms = 2000          # no heartbeat from the hot loop this long: drop it
//!
//! [inputs.keyswitch]
//! line = "ARM_KEY"
//! ```

use crate::alarm::pattern::Pattern;
use crate::alarm::Trigger;
use crate::validate::{join, Report};
use serde::Deserialize;

/// Which driver an output or input uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputKind {
    /// The Linux GPIO character device (Pi 4/5, Jetson, gpio-sim).
    Gpiocdev,
    /// Raspberry Pi pins through rppal (feature `rpi`), with hardware PWM for passive buzzers.
    Rppal,
    /// Only logs; for machines without GPIO.
    Log,
}

/// One output line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    pub name: String,
    pub kind: OutputKind,
    /// gpiocdev: the chip (`gpiochip0` or a path), with `offset`.
    pub chip: Option<String>,
    pub offset: Option<u32>,
    /// gpiocdev: the line's name, instead of chip and offset.
    pub line: Option<String>,
    /// rppal: the BCM pin number.
    pub pin: Option<u8>,
    /// rppal: drive a passive buzzer with hardware PWM at this frequency (GPIO 12, 13, 18, 19).
    pub pwm_hz: Option<f32>,
    #[serde(default)]
    pub active_low: bool,
    /// The longest one activation may keep this output on, in seconds.
    #[serde(default = "default_max_on")]
    pub max_on_s: f32,
}

fn default_max_on() -> f32 {
    180.0
}

/// Which rules drive which outputs, and how.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmConfig {
    pub rules: Vec<String>,
    pub outputs: Vec<String>,
    #[serde(default = "default_pattern")]
    pub pattern: String,
    #[serde(default = "default_hold")]
    pub hold_s: f32,
    #[serde(default)]
    pub cooldown_s: f32,
    #[serde(default)]
    pub latch: bool,
}

fn default_pattern() -> String {
    "steady".into()
}

fn default_hold() -> f32 {
    30.0
}

/// The `healthy` output: high while the hot loop's heartbeat is fresh.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthyConfig {
    pub output: String,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
}

fn default_timeout() -> u64 {
    2000
}

/// One input line (gpiocdev only: inputs are polled by the input watcher).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputConfig {
    pub chip: Option<String>,
    pub offset: Option<u32>,
    pub line: Option<String>,
    /// The input is active (key on, tamper loop open) when the line is low.
    #[serde(default)]
    pub active_low: bool,
    /// The level must hold this long before it counts.
    #[serde(default = "default_debounce")]
    pub debounce_ms: u64,
}

fn default_debounce() -> u64 {
    50
}

/// The `[inputs]` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputsConfig {
    /// Arms while on and disarms while off (each turn acts like `picket arm`/`disarm`).
    pub keyswitch: Option<InputConfig>,
    /// Raises the `tamper` alarm while active, armed or not.
    pub tamper: Option<InputConfig>,
}

/// A GPIO line's identity for the "used twice" check: by chip and offset, or by name.
fn line_key(chip: &Option<String>, offset: Option<u32>, line: &Option<String>) -> Option<String> {
    match (chip, offset, line) {
        (_, _, Some(name)) => Some(format!("name {name}")),
        (Some(c), Some(o), None) => Some(format!("{} {o}", c.trim_start_matches("/dev/"))),
        _ => None,
    }
}

fn check_line(
    report: &mut Report,
    path: &str,
    chip: &Option<String>,
    offset: Option<u32>,
    line: &Option<String>,
) {
    match (chip, offset, line) {
        (None, None, Some(_)) | (Some(_), Some(_), None) => {}
        (_, _, Some(_)) => report.error(
            join(path, "line"),
            "give either `line` (a name) or `chip` with `offset`, not both",
        ),
        _ => report.error(
            path.to_owned(),
            "needs `line` (a line name) or `chip` with `offset`",
        ),
    }
}

/// Validates the alarm sections; `rules` are the names `[[alarms]].rules` may use.
pub fn validate(
    outputs: &[OutputConfig],
    alarms: &[AlarmConfig],
    healthy: Option<&HealthyConfig>,
    inputs: &InputsConfig,
    rules: &[&str],
    at: &str,
    report: &mut Report,
) {
    let mut lines: Vec<(String, String)> = Vec::new();
    let mut used = |report: &mut Report, key: Option<String>, path: String, who: &str| {
        if let Some(k) = key {
            if let Some((_, other)) = lines.iter().find(|(l, _)| *l == k) {
                report.error(
                    path.clone(),
                    format!("GPIO line ({k}) is already used by {other}"),
                );
            }
            lines.push((k, who.to_owned()));
        }
    };
    for (i, o) in outputs.iter().enumerate() {
        let path = join(at, format!("outputs.{i}"));
        if o.name.is_empty() || o.name.len() > crate::event::NAME_CAP {
            report.error(join(&path, "name"), "name must be 1..=32 bytes");
        }
        if outputs[..i].iter().any(|p| p.name == o.name) {
            report.error(
                join(&path, "name"),
                format!("output `{}` is defined twice", o.name),
            );
        }
        if !(o.max_on_s.is_finite() && o.max_on_s > 0.0) {
            report.error(join(&path, "max_on_s"), "must be a number > 0");
        }
        match o.kind {
            OutputKind::Gpiocdev => {
                check_line(report, &path, &o.chip, o.offset, &o.line);
                let key = line_key(&o.chip, o.offset, &o.line);
                let field = if o.line.is_some() { "line" } else { "offset" };
                used(
                    report,
                    key,
                    join(&path, field),
                    &format!("output `{}`", o.name),
                );
            }
            OutputKind::Rppal => match o.pin {
                None => report.error(join(&path, "pin"), "an rppal output needs `pin` (BCM)"),
                Some(p) => used(
                    report,
                    Some(format!("bcm {p}")),
                    join(&path, "pin"),
                    &format!("output `{}`", o.name),
                ),
            },
            OutputKind::Log => {}
        }
        if o.pwm_hz.is_some() && o.kind != OutputKind::Rppal {
            report.error(join(&path, "pwm_hz"), "only rppal outputs drive PWM");
        }
    }
    for (name, input) in [("keyswitch", &inputs.keyswitch), ("tamper", &inputs.tamper)] {
        if let Some(c) = input {
            let path = join(at, format!("inputs.{name}"));
            check_line(report, &path, &c.chip, c.offset, &c.line);
            used(
                report,
                line_key(&c.chip, c.offset, &c.line),
                path,
                &format!("input `{name}`"),
            );
        }
    }
    let known = |n: &str| outputs.iter().any(|o| o.name == n);
    let healthy_name = healthy.map(|h| h.output.as_str());
    if let Some(h) = healthy {
        if !known(&h.output) {
            report.error(
                join(at, "healthy.output"),
                format!("unknown output `{}`", h.output),
            );
        }
    }
    for (i, a) in alarms.iter().enumerate() {
        let path = join(at, format!("alarms.{i}"));
        for (k, o) in a.outputs.iter().enumerate() {
            if !known(o) {
                report.error(
                    join(&path, format!("outputs.{k}")),
                    format!("unknown output `{o}`"),
                );
            } else if Some(o.as_str()) == healthy_name {
                report.error(
                    join(&path, format!("outputs.{k}")),
                    format!("`{o}` is the healthy output; an alarm cannot drive it"),
                );
            }
        }
        for (k, r) in a.rules.iter().enumerate() {
            if Trigger::resolve(r, rules).is_none() {
                report.error(
                    join(&path, format!("rules.{k}")),
                    format!(
                        "unknown rule `{r}` (not a rule, `tamper`, `video_tamper`, nor a health \
                         event: camera_lost, temp_high, throttled, disk_low, fps_low)"
                    ),
                );
            }
        }
        if let Err(e) = Pattern::parse(&a.pattern) {
            report.error(join(&path, "pattern"), e.to_string());
        }
        for (field, v) in [("hold_s", a.hold_s), ("cooldown_s", a.cooldown_s)] {
            if !(v.is_finite() && v >= 0.0) {
                report.error(join(&path, field), "must be a number ≥ 0");
            }
        }
    }
}
