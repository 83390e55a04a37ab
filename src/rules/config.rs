//! The `[[zones]]`, `[[lines]]` and `[[rules]]` sections of the config, and their validation.
//!
//! ```toml
//! [[zones]]
//! name = "yard"
//! polygon = [[0.1, 0.5], [0.9, 0.5], [0.9, 1.0], [0.1, 1.0]]
//!
//! [[lines]]
//! name = "gate"
//! a = [0.5, 0.2]
//! b = [0.5, 1.0]
//!
//! [[rules]]
//! name = "gate_in"
//! kind = "line_cross"        # intrusion | loiter | line_cross | wander | crowd
//! line = "gate"
//! direction = "left_to_right"
//! cooldown_s = 5
//! retrigger = "once_per_track" # or "every", with retrigger_s
//! ```
//!
//! A rule table is flat: the fields that do not apply to its `kind` are rejected by validation
//! (not by serde), so that every mistake is reported with its location at once.

use crate::rules::shape::{Polygon, PolygonError};
use crate::rules::{MAX_LINES, MAX_RULES};
use crate::validate::{join, Report};
use picket_geom::NormPoint;
use serde::Deserialize;

/// One named polygon, in normalised coordinates (`[x, y]`, 0..1, origin top left).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneConfig {
    pub name: String,
    pub polygon: Vec<[f32; 2]>,
}

/// One named segment a→b. Directions are relative to it: walking from `a` to `b`, right is
/// `left_to_right`'s destination.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineConfig {
    pub name: String,
    pub a: [f32; 2],
    pub b: [f32; 2],
    /// Half-width of the band around the line inside which a foot point does not change side.
    #[serde(default = "default_hysteresis")]
    pub hysteresis: f32,
}

fn default_hysteresis() -> f32 {
    0.02
}

/// What a rule looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    Intrusion,
    Loiter,
    LineCross,
    Wander,
    Crowd,
}

/// Which crossings of a line count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectionFilter {
    LeftToRight,
    RightToLeft,
    #[default]
    Both,
}

/// When a rule may fire again for the same track (crowd: for the same episode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Retrigger {
    /// At most once for a track's whole life.
    #[default]
    OncePerTrack,
    /// Again whenever the condition holds and `retrigger_s` have passed since it last fired.
    Every,
}

/// One rule. See the module docs for which fields apply to which kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub name: String,
    pub kind: RuleKind,
    /// The zone (intrusion, loiter, wander, crowd).
    pub zone: Option<String>,
    /// The line (line_cross).
    pub line: Option<String>,
    /// line_cross: which direction counts; default both.
    pub direction: Option<DirectionFilter>,
    /// intrusion: consecutive frames inside before it fires.
    pub min_frames: Option<u32>,
    /// intrusion: seconds inside; loiter: the dwell; wander: time inside before it is judged.
    pub min_seconds: Option<f32>,
    /// crowd: people in the zone at once.
    pub min_people: Option<u32>,
    /// wander: the window the turning rate is measured over (capped by the track history).
    pub window_s: Option<f32>,
    /// wander: total absolute heading change per second, in radians per second.
    pub min_turn_rate: Option<f32>,
    /// wander: the smallest step (normalised distance) that counts as a move; filters jitter.
    pub min_step: Option<f32>,
    /// How long a foot may be outside the zone without ending the visit (seconds).
    #[serde(default = "default_exit_grace")]
    pub exit_grace_s: f32,
    /// After the rule fires, it stays silent for this long, for every track.
    #[serde(default)]
    pub cooldown_s: f32,
    #[serde(default)]
    pub retrigger: Retrigger,
    /// With `retrigger = "every"`: the period.
    pub retrigger_s: Option<f32>,
}

fn default_exit_grace() -> f32 {
    1.0
}

/// `p` as a point, if both coordinates are finite and within `0..=1`.
pub fn norm_point(p: [f32; 2]) -> Option<NormPoint> {
    let ok = |v: f32| v.is_finite() && (0.0..=1.0).contains(&v);
    (ok(p[0]) && ok(p[1])).then(|| NormPoint::new(p[0], p[1]))
}

impl ZoneConfig {
    /// The polygon, or why it is unusable; coordinates are checked first.
    pub fn polygon(&self) -> Result<Polygon, PolygonError> {
        let pts: Vec<NormPoint> = self
            .polygon
            .iter()
            .map(|p| norm_point(*p).unwrap_or(NormPoint::new(p[0], p[1])))
            .collect();
        Polygon::new(&pts)
    }
}

fn check_names<'a>(
    report: &mut Report,
    at: &str,
    section: &str,
    names: impl Iterator<Item = &'a str>,
) {
    let mut seen: Vec<&str> = Vec::new();
    for (i, n) in names.enumerate() {
        let path = join(at, format!("{section}.{i}.name"));
        if n.is_empty() || n.len() > crate::event::NAME_CAP {
            report.error(
                &path,
                format!("name must be 1..={} bytes", crate::event::NAME_CAP),
            );
        } else if seen.contains(&n) {
            report.error(&path, format!("`{n}` is defined twice"));
        }
        seen.push(n);
    }
}

/// Validates zones, lines and rules together, since rules refer to the others by name, and
/// their counts against [`MAX_RULES`] and [`MAX_LINES`].
pub fn validate(
    zones: &[ZoneConfig],
    lines: &[LineConfig],
    rules: &[RuleConfig],
    at: &str,
    report: &mut Report,
) {
    validate_sections(zones, lines, rules, at, report);
    if rules.len() > MAX_RULES {
        report.error(join(at, "rules"), format!("at most {MAX_RULES} rules"));
    }
    if lines.len() > MAX_LINES {
        report.error(join(at, "lines"), format!("at most {MAX_LINES} lines"));
    }
}

fn validate_sections(
    zones: &[ZoneConfig],
    lines: &[LineConfig],
    rules: &[RuleConfig],
    at: &str,
    report: &mut Report,
) {
    check_names(report, at, "zones", zones.iter().map(|z| z.name.as_str()));
    check_names(report, at, "lines", lines.iter().map(|l| l.name.as_str()));
    check_names(report, at, "rules", rules.iter().map(|r| r.name.as_str()));
    for (i, z) in zones.iter().enumerate() {
        let path = join(at, format!("zones.{i}.polygon"));
        let outside = z.polygon.iter().position(|p| norm_point(*p).is_none());
        if let Some(k) = outside {
            report.error(
                join(&path, k),
                format!("zone `{}`: coordinates must be within [0, 1]", z.name),
            );
        } else if let Err(e) = z.polygon() {
            report.error(path, format!("zone `{}`: {e}", z.name));
        }
    }
    for (i, l) in lines.iter().enumerate() {
        let path = join(at, format!("lines.{i}"));
        for (end, p) in [("a", l.a), ("b", l.b)] {
            if norm_point(p).is_none() {
                report.error(
                    join(&path, end),
                    format!("line `{}`: coordinates must be within [0, 1]", l.name),
                );
            }
        }
        let len = ((l.b[0] - l.a[0]).powi(2) + (l.b[1] - l.a[1]).powi(2)).sqrt();
        if len < 1e-4 {
            report.error(
                join(&path, "b"),
                format!("line `{}` has zero length (a = b)", l.name),
            );
        }
        if !(l.hysteresis.is_finite() && (0.0..0.25).contains(&l.hysteresis)) {
            report.error(
                join(&path, "hysteresis"),
                "hysteresis must be within [0, 0.25)",
            );
        }
    }
    for (i, r) in rules.iter().enumerate() {
        validate_rule(r, zones, lines, &join(at, format!("rules.{i}")), report);
    }
}

fn validate_rule(
    r: &RuleConfig,
    zones: &[ZoneConfig],
    lines: &[LineConfig],
    path: &str,
    report: &mut Report,
) {
    use RuleKind::*;
    let kind = r.kind;
    let wants_zone = kind != LineCross;
    let mut err = |field: &str, msg: String| report.error(join(path, field), msg);
    match (&r.zone, wants_zone) {
        (Some(z), true) if !zones.iter().any(|c| &c.name == z) => {
            err("zone", format!("rule `{}`: unknown zone `{z}`", r.name))
        }
        (None, true) => err("kind", format!("rule `{}` needs a `zone`", r.name)),
        (Some(_), false) => err(
            "zone",
            "a line_cross rule takes a `line`, not a zone".into(),
        ),
        _ => {}
    }
    match (&r.line, kind == LineCross) {
        (Some(l), true) if !lines.iter().any(|c| &c.name == l) => {
            err("line", format!("rule `{}`: unknown line `{l}`", r.name))
        }
        (None, true) => err("kind", format!("rule `{}` needs a `line`", r.name)),
        (Some(_), false) => err("line", "only line_cross rules take a `line`".into()),
        _ => {}
    }
    let only = |set: bool, allowed: &[RuleKind]| set && !allowed.contains(&kind);
    let fields: [(&str, bool, &[RuleKind]); 7] = [
        ("direction", r.direction.is_some(), &[LineCross]),
        ("min_frames", r.min_frames.is_some(), &[Intrusion]),
        (
            "min_seconds",
            r.min_seconds.is_some(),
            &[Intrusion, Loiter, Wander],
        ),
        ("min_people", r.min_people.is_some(), &[Crowd]),
        ("window_s", r.window_s.is_some(), &[Wander]),
        ("min_turn_rate", r.min_turn_rate.is_some(), &[Wander]),
        ("min_step", r.min_step.is_some(), &[Wander]),
    ];
    for (field, set, allowed) in fields {
        if only(set, allowed) {
            err(
                field,
                format!("`{field}` does not apply to a {kind:?} rule"),
            );
        }
    }
    if kind == Loiter && r.min_seconds.is_none() {
        err(
            "kind",
            format!("loiter rule `{}` needs `min_seconds`", r.name),
        );
    }
    if kind == Crowd && r.min_people.unwrap_or(0) < 1 {
        err(
            "kind",
            format!("crowd rule `{}` needs `min_people` ≥ 1", r.name),
        );
    }
    let nonneg = [
        ("min_seconds", r.min_seconds),
        ("window_s", r.window_s),
        ("min_turn_rate", r.min_turn_rate),
        ("min_step", r.min_step),
        ("exit_grace_s", Some(r.exit_grace_s)),
        ("cooldown_s", Some(r.cooldown_s)),
        ("retrigger_s", r.retrigger_s),
    ];
    for (field, v) in nonneg {
        if let Some(v) = v {
            if !(v.is_finite() && v >= 0.0) {
                err(field, format!("`{field}` must be a number ≥ 0"));
            }
        }
    }
    match (r.retrigger, r.retrigger_s) {
        (Retrigger::Every, None) => err("retrigger", "`every` needs `retrigger_s`".into()),
        (Retrigger::OncePerTrack, Some(_)) => err(
            "retrigger_s",
            "`retrigger_s` applies only with retrigger = \"every\"".into(),
        ),
        _ => {}
    }
}
