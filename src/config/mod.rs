//! The TOML configuration's schema: [`Config`] lists every section, and its validation checks
//! the sections and what crosses between them (rules named by alarms, the tracker's scores
//! against the detector's threshold).
//!
//! Each section is a plain serde type with `deny_unknown_fields`, defined beside the module it
//! configures, with its defaults in its `Default` impl and its own checks in a [`Validate`]
//! impl. This is the only module that imports every section; loading, validation and locating
//! problems live in the leaf [`crate::validate`], re-exported here.

use crate::detect::config::RoiMode;
pub use crate::validate::{
    check, join, load, load_checked, parse, Checked, ConfigError, Problem, Report, Validate,
};
use picket_geom::NormRect;
use serde::Deserialize;
use std::path::PathBuf;

/// A config text (the live view's zone editor sends one) checked as `picket check` checks a
/// file: its warnings, or its errors as one message.
pub fn check_text(text: &str) -> Result<Vec<String>, String> {
    check::<Config>(text, "zone editor")
        .map(|c| c.warnings)
        .map_err(|e| e.to_string())
}

/// The whole configuration of one picket. Every section is optional and defaults as documented
/// on its type.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `[source]`: the camera or footage.
    pub source: crate::source::SourceConfig,
    /// `[model]`: the TFLite model, its labels, threads and XNNPACK.
    pub model: crate::detect::config::ModelConfig,
    /// `[detector]`: classes, score threshold and NMS.
    pub detector: crate::detect::config::DetectorConfig,
    /// `[motion]`: skip inference while nothing moves.
    pub motion: crate::motion::MotionConfig,
    /// `[tamper]`: video tamper detection (covered, blinded, moved, defocused).
    pub tamper: crate::tamper::TamperConfig,
    /// `[tracker]`: association thresholds and the track life cycle.
    pub tracker: crate::track::TrackerConfig,
    /// `[[zones]]`, `[[lines]]` and `[[rules]]`: what counts as an alarm.
    pub zones: Vec<crate::rules::ZoneConfig>,
    pub lines: Vec<crate::rules::LineConfig>,
    pub rules: Vec<crate::rules::RuleConfig>,
    /// `[arming]`: schedule and state file.
    pub arming: crate::arming::ArmingConfig,
    /// `[inputs]`, `[[outputs]]`, `[[alarms]]` and `[healthy]`: the GPIO side.
    pub inputs: crate::alarm::InputsConfig,
    pub outputs: Vec<crate::alarm::OutputConfig>,
    pub alarms: Vec<crate::alarm::AlarmConfig>,
    pub healthy: Option<crate::alarm::HealthyConfig>,
    /// `[journal]`: the SQLite event ring buffer.
    pub journal: crate::journal::JournalConfig,
    /// `[metrics]` and `[health]`: monitoring.
    pub metrics: crate::metrics::MetricsConfig,
    pub health: crate::health::HealthConfig,
    /// `[uplink]`: `picket uplink`'s MQTT broker; of it `picket run` reads only the cursor's
    /// place, `state_file` (see [`Config::run_journal`]), where to write the box's state
    /// ([`Config::state_json`]) and where arming requests arrive ([`Config::arming_requests`]).
    pub uplink: Option<crate::uplink::UplinkConfig>,
    /// `[[push]]`: ntfy and webhook sinks `picket uplink` serves, each with its own cursor.
    pub push: Vec<crate::uplink::push::PushConfig>,
    /// `[hub]`: `picket hub`'s broker; `[journal]` is then the hub journal.
    pub hub: Option<crate::hub::HubConfig>,
    /// `[preview]`: the live view and zone editor on a Unix socket.
    pub preview: Option<crate::preview::PreviewConfig>,
}

impl Config {
    /// The part of the frame the detector sees: `[source] roi`, or with `[detector] roi =
    /// "zones"` the bounding box of the zones and lines widened by `roi_margin` (clamped to the
    /// frame); `None` for the whole frame.
    pub fn detector_roi(&self) -> Option<NormRect> {
        if self.detector.roi == RoiMode::Frame {
            return self.source.roi_rect();
        }
        let points = self
            .zones
            .iter()
            .flat_map(|z| z.polygon.iter().copied())
            .chain(self.lines.iter().flat_map(|l| [l.a, l.b]));
        let mut b: Option<NormRect> = None;
        for [x, y] in points {
            let r = b.get_or_insert(NormRect::new(x, y, x, y));
            *r = NormRect::new(r.x0.min(x), r.y0.min(y), r.x1.max(x), r.y1.max(y));
        }
        let m = self.detector.roi_margin;
        b.map(|r| NormRect::new(r.x0 - m, r.y0 - m, r.x1 + m, r.y1 + m).clamped())
    }

    /// `[journal]` as `picket run` opens it: with `[uplink] state_file` when an MQTT uplink is
    /// configured and the `[[push]]` sinks' cursors, so that pruning keeps what they have not
    /// sent.
    pub fn run_journal(&self) -> crate::journal::JournalConfig {
        crate::journal::JournalConfig {
            uplink_state: self
                .uplink
                .as_ref()
                .filter(|u| !u.url.is_empty())
                .map(|u| u.state_file(&self.journal.path)),
            push_states: self.push_cursor_files(),
            ..self.journal.clone()
        }
    }
}

impl Config {
    /// Where `picket run` writes the box's state for the uplink: `[uplink] state_json`, when an
    /// uplink is configured.
    pub fn state_json(&self) -> Option<std::path::PathBuf> {
        self.uplink.as_ref().map(|u| u.state_json.clone())
    }

    /// Where `picket run` takes arming requests from the uplink, when it accepts commands.
    pub fn arming_requests(&self) -> Option<std::path::PathBuf> {
        self.uplink
            .as_ref()
            .filter(|u| u.commands)
            .map(|u| u.request_file(&self.journal.path))
    }
}

impl Validate for Config {
    fn validate(&self, at: &str, report: &mut Report) {
        crate::rules::validate(&self.zones, &self.lines, &self.rules, at, report);
        self.arming.validate(&join(at, "arming"), report);
        let rules: Vec<&str> = self.rules.iter().map(|r| r.name.as_str()).collect();
        crate::alarm::config::validate(
            &self.outputs,
            &self.alarms,
            self.healthy.as_ref(),
            &self.inputs,
            &rules,
            at,
            report,
        );
        self.motion.validate(&join(at, "motion"), report);
        self.tamper.validate(&join(at, "tamper"), report);
        self.metrics.validate(&join(at, "metrics"), report);
        self.health.validate(&join(at, "health"), report);
        self.tracker.validate(&join(at, "tracker"), report);
        let person_only = self
            .detector
            .classes
            .iter()
            .all(|c| c.eq_ignore_ascii_case("person"));
        let ceiling = (self.model.path.is_none() && person_only)
            .then_some(crate::detect::SHIPPED_PERSON_CEILING);
        // An invalid threshold is reported under [detector]; derived from it, nothing would hold.
        if crate::detect::config::check_fraction(self.detector.threshold).is_ok() {
            self.tracker.check_scores(
                &join(at, "tracker"),
                self.detector.threshold,
                ceiling,
                report,
            );
        }
        self.journal.validate(&join(at, "journal"), report);
        self.source.validate(&join(at, "source"), report);
        self.model.validate(&join(at, "model"), report);
        self.detector.validate(&join(at, "detector"), report);
        if self.detector.roi == RoiMode::Zones {
            if self.zones.is_empty() && self.lines.is_empty() {
                report.error(
                    join(at, "detector.roi"),
                    "\"zones\" looks only around the zones and lines, and none is configured: \
                     add [[zones]] or [[lines]], or set roi = \"frame\"",
                );
            }
            if self.source.roi.is_some() {
                report.error(
                    join(at, "detector.roi"),
                    "\"zones\" and [source] roi both say where to look: keep one",
                );
            }
        }
        if self.model.path.is_none() && self.source.kind == crate::source::SourceKind::V4l2 {
            self.detector.check_tiles(
                &join(at, "detector"),
                (self.source.width, self.source.height),
                self.detector_roi(),
                crate::detect::SHIPPED_INPUT,
                report,
            );
        }
        if let Some(u) = &self.uplink {
            u.validate_with(&join(at, "uplink"), !self.push.is_empty(), report);
        }
        crate::uplink::push::config::validate(&self.push, &rules, at, report);
        if let Some(h) = &self.hub {
            h.validate(&join(at, "hub"), report);
        }
        if let Some(p) = &self.preview {
            p.validate(&join(at, "preview"), report);
        }
    }
}

impl Config {
    /// The `[[push]]` sinks' cursor files, beside `[uplink] state_file` (or its default).
    pub fn push_cursor_files(&self) -> Vec<PathBuf> {
        let up = self.uplink.clone().unwrap_or_default();
        let state = up.state_file(&self.journal.path);
        self.push
            .iter()
            .enumerate()
            .map(|(i, p)| p.cursor_file(i, &state))
            .collect()
    }

    /// The uplink's cursor file (`[uplink] state_file`, or its default beside the journal);
    /// `None` without an `[uplink]` section. `picket run` and `picket status` read it for the
    /// backlog without knowing the uplink's section.
    pub fn uplink_state_file(&self) -> Option<PathBuf> {
        self.uplink
            .as_ref()
            .map(|u| u.state_file(&self.journal.path))
    }
}

#[cfg(test)]
mod tests;
