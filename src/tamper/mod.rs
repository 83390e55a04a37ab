//! Video tamper detection: the camera still sends frames, but of a covered, blinded, turned or
//! defocused view.
//!
//! A [`Tamper`] reads the motion gate's grid of cell lumas (no second pass over the pixels),
//! measures it against a slowly learnt reference of the scene ([`measure`]), and raises a
//! [`Change::Raised`] once a reason has held for `hold_s`, and [`Change::Cleared`] once the view
//! has matched the reference again for `clear_s`. The reference learns only from frames that
//! show no reason, so a covered lens is never learnt as the scene. The pipeline turns the
//! changes into `tamper` / `tamper_cleared` events and the `video_tamper` alarm trigger.
//!
//! Off by default. The formulas and thresholds are in `docs/design/tamper.md`.

pub mod measure;

pub use measure::{Reason, Stats, Thresholds};

use crate::validate::{join, Report, Validate};
use measure::Grids;
use serde::Deserialize;
use std::time::Duration;

/// When tamper is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum When {
    /// Armed or not, like the tamper input.
    #[default]
    Always,
    /// Only while armed; a tamper raised while armed still clears when disarmed.
    Armed,
}

/// `[tamper]`: video tamper detection. Every field has a default; see [`TamperConfig::default`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TamperConfig {
    /// Judge the view at all. Off by default.
    pub enabled: bool,
    /// `"always"` (default) or `"armed"`.
    pub when: When,
    /// Which reasons to raise: any of `covered`, `blinded`, `moved`, `defocused` (default all).
    pub reasons: Vec<String>,
    /// A reason must hold this long, in seconds, before `tamper` is raised.
    pub hold_s: f32,
    /// The view must show no reason this long, in seconds, before `tamper_cleared`.
    pub clear_s: f32,
    /// Time constant of the reference's running average, in seconds.
    pub learn_s: f32,
    /// `blinded` when at least this fraction of the frame is saturated.
    pub blinded_fraction: f32,
    /// `covered` (dark or uniform) or `defocused` when the structure falls under this fraction of
    /// the reference's.
    pub structure_ratio: f32,
    /// `defocused` when the edge energy falls under this fraction of the reference's while the
    /// brightness holds.
    pub defocus_ratio: f32,
    /// `moved` when the edges' correlation with the reference falls under this.
    pub moved_correlation: f32,
}

impl Default for TamperConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            when: When::Always,
            reasons: Reason::ALL.iter().map(|r| r.as_str().to_owned()).collect(),
            hold_s: 3.0,
            clear_s: 2.0,
            learn_s: 60.0,
            blinded_fraction: 0.75,
            structure_ratio: 0.3,
            defocus_ratio: 0.5,
            moved_correlation: 0.3,
        }
    }
}

impl Validate for TamperConfig {
    fn validate(&self, at: &str, report: &mut Report) {
        for (i, r) in self.reasons.iter().enumerate() {
            if Reason::parse(r).is_none() {
                report.error(
                    join(at, format!("reasons.{i}")),
                    format!("unknown reason `{r}` (covered, blinded, moved, defocused)"),
                );
            }
        }
        for (key, v, lo) in [
            ("hold_s", self.hold_s, 0.0),
            ("clear_s", self.clear_s, 0.0),
            ("learn_s", self.learn_s, f32::MIN_POSITIVE),
        ] {
            if !(v >= lo && v <= 3600.0) {
                let range = if lo > 0.0 { "(0" } else { "[0" };
                report.error(join(at, key), format!("must be in {range}, 3600] seconds"));
            }
        }
        for (key, v) in [
            ("blinded_fraction", self.blinded_fraction),
            ("structure_ratio", self.structure_ratio),
            ("defocus_ratio", self.defocus_ratio),
            ("moved_correlation", self.moved_correlation),
        ] {
            if !(v > 0.0 && v <= 1.0) {
                report.error(join(at, key), "must be in (0, 1]");
            }
        }
    }
}

/// What one observation changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A reason held for `hold_s`: journal `tamper`, sound `video_tamper`.
    Raised(Reason),
    /// The view showed no reason for `clear_s`: journal `tamper_cleared` (the reason raised).
    Cleared(Reason),
}

/// The tamper judge for one camera. Owned by the hot thread; see the module docs. Observing a
/// grid never allocates.
#[derive(Debug)]
pub struct Tamper {
    thresholds: Thresholds,
    enabled: [bool; 4],
    hold: Duration,
    clear: Duration,
    learn_s: f32,
    grids: Option<Grids>,
    last: Option<Duration>,
    /// Since when, and for which reason last, the view has shown a reason.
    suspect: Option<(Duration, Reason)>,
    /// Since when the view has shown none, while raised.
    calm: Option<Duration>,
    raised: Option<Reason>,
    stats: Stats,
}

impl Tamper {
    /// From a validated config (unknown reasons are ignored here; validation reports them).
    pub fn new(cfg: &TamperConfig) -> Self {
        let enabled = Reason::ALL.map(|r| cfg.reasons.iter().any(|s| s == r.as_str()));
        Self {
            thresholds: Thresholds {
                blinded_fraction: cfg.blinded_fraction,
                structure_ratio: cfg.structure_ratio,
                defocus_ratio: cfg.defocus_ratio,
                moved_correlation: cfg.moved_correlation,
            },
            enabled,
            hold: Duration::from_secs_f32(cfg.hold_s.max(0.0)),
            clear: Duration::from_secs_f32(cfg.clear_s.max(0.0)),
            learn_s: cfg.learn_s.max(f32::MIN_POSITIVE),
            grids: None,
            last: None,
            suspect: None,
            calm: None,
            raised: None,
            stats: Stats::default(),
        }
    }

    /// Observes one grid of `w`×`h` cell lumas (`cells.len() >= w * h`) seen at `now`.
    /// `watching` is false while `when = "armed"` and the box is disarmed: no new tamper is
    /// raised then, but a raised one still clears. A grid smaller than 2×2 is ignored.
    pub fn observe(
        &mut self,
        now: Duration,
        cells: &[f32],
        (w, h): (usize, usize),
        watching: bool,
    ) -> Option<Change> {
        if w < 2 || h < 2 || cells.len() < w * h {
            return None;
        }
        let grids = match &mut self.grids {
            Some(g) if (g.w, g.h) == (w, h) => g,
            _ => self.grids.insert(Grids::new(w, h)),
        };
        let stats = grids.measure(cells);
        self.stats = stats;
        let dt = now.saturating_sub(self.last.unwrap_or(now)).as_secs_f32();
        self.last = Some(now);
        let enabled = self.enabled;
        let reason = stats.reason(&self.thresholds, |r| {
            enabled[Reason::ALL.iter().position(|&x| x == r).unwrap_or(0)]
        });
        let Some(reason) = reason else {
            self.suspect = None;
            grids.learn(&stats, 1.0 - (-dt / self.learn_s).exp());
            let raised = self.raised?;
            let since = *self.calm.get_or_insert(now);
            if now.saturating_sub(since) >= self.clear {
                self.raised = None;
                self.calm = None;
                return Some(Change::Cleared(raised));
            }
            return None;
        };
        self.calm = None;
        if self.raised.is_some() || !watching {
            self.suspect = None;
            return None;
        }
        let since = self.suspect.map_or(now, |(t, _)| t);
        self.suspect = Some((since, reason));
        if now.saturating_sub(since) >= self.hold {
            self.suspect = None;
            self.raised = Some(reason);
            return Some(Change::Raised(reason));
        }
        None
    }

    /// The reason raised, if any.
    pub fn raised(&self) -> Option<Reason> {
        self.raised
    }

    /// The last grid's statistics.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

#[cfg(test)]
mod tests;
