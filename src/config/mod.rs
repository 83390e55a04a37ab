//! The TOML configuration: schema, loading, and validation that reports *every* problem as
//! `file:line:col: message`.
//!
//! Each section is a plain serde type with `deny_unknown_fields`, defined beside the module it
//! configures, with its defaults in its `Default` impl. Loading is two steps:
//! 1. serde parses the text; a syntax or type error stops there, located by its span;
//! 2. [`Validate`] walks the parsed config and records each semantic problem with a dotted path
//!    (`zones.2.polygon`), which is resolved back to a line and column in the original text.
//!
//! Keeping paths rather than spans in validation means the schema types stay plain serde types.

use serde::Deserialize;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

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
    /// `[tracker]`: association thresholds and the track life cycle.
    pub tracker: crate::track::TrackerConfig,
    /// `[[zones]]`, `[[lines]]` and `[[rules]]`: what counts as an alarm.
    pub zones: Vec<crate::rules::ZoneConfig>,
    pub lines: Vec<crate::rules::LineConfig>,
    pub rules: Vec<crate::rules::RuleConfig>,
    /// `[arming]`: schedule and state file.
    pub arming: crate::rules::ArmingConfig,
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
}

impl Validate for Config {
    fn validate(&self, at: &str, report: &mut Report) {
        crate::rules::validate(self, at, report);
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
        self.metrics.validate(&join(at, "metrics"), report);
        self.health.validate(&join(at, "health"), report);
        self.tracker.validate(&join(at, "tracker"), report);
        self.journal.validate(&join(at, "journal"), report);
        self.source.validate(&join(at, "source"), report);
        self.model.validate(&join(at, "model"), report);
        self.detector.validate(&join(at, "detector"), report);
    }
}

/// Semantic checks of a parsed section. `at` is this section's dotted path (`""` at the top);
/// build children's paths with [`join`].
pub trait Validate {
    fn validate(&self, at: &str, report: &mut Report);
}

/// `parent.child`, or `child` at the top.
pub fn join(parent: &str, child: impl fmt::Display) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}.{child}")
    }
}

/// The problems found by validation, each with the dotted path of the value at fault.
#[derive(Debug, Default)]
pub struct Report {
    problems: Vec<(String, String)>,
}

impl Report {
    /// Records that the value at `path` is wrong, and why.
    pub fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push((path.into(), message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }
}

/// `path: message`, one a line: for values that come from elsewhere than a file (command-line
/// overrides), which have no line and column.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (path, message)) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{path}: {message}")?;
        }
        Ok(())
    }
}

/// One located problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    /// The dotted path of the value at fault, when known.
    pub path: Option<String>,
    pub message: String,
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", render(origin, problems))]
    Invalid {
        origin: String,
        problems: Vec<Problem>,
    },
}

impl ConfigError {
    /// The located problems, for an invalid config.
    pub fn problems(&self) -> &[Problem] {
        match self {
            ConfigError::Invalid { problems, .. } => problems,
            ConfigError::Read { .. } => &[],
        }
    }
}

fn render(origin: &str, problems: &[Problem]) -> String {
    let lines: Vec<String> = problems
        .iter()
        .map(|p| match &p.path {
            Some(path) => format!("{origin}:{}:{}: {path}: {}", p.line, p.column, p.message),
            None => format!("{origin}:{}:{}: {}", p.line, p.column, p.message),
        })
        .collect();
    lines.join("\n")
}

/// Reads, parses and validates the config file at `path`.
pub fn load<T: for<'de> Deserialize<'de> + Validate>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, &path.display().to_string())
}

/// Parses and validates `text`; `origin` names it in messages (usually the file path).
pub fn parse<T: for<'de> Deserialize<'de> + Validate>(
    text: &str,
    origin: &str,
) -> Result<T, ConfigError> {
    let invalid = |problems| ConfigError::Invalid {
        origin: origin.to_owned(),
        problems,
    };
    let value: T = toml::from_str(text).map_err(|e| {
        let (line, column) = line_col(text, e.span().map_or(0, |s| s.start));
        invalid(vec![Problem {
            line,
            column,
            path: None,
            message: e.message().trim().to_owned(),
        }])
    })?;
    let mut report = Report::default();
    value.validate("", &mut report);
    if report.is_empty() {
        return Ok(value);
    }
    // The text parsed once already, so this parse cannot fail; an empty document is harmless.
    let doc = toml_edit::ImDocument::parse(text.to_owned()).ok();
    let problems = report
        .problems
        .into_iter()
        .map(|(path, message)| {
            let offset = doc
                .as_ref()
                .map_or(0, |d| span_of(d.as_item(), &path).start);
            let (line, column) = line_col(text, offset);
            Problem {
                line,
                column,
                path: Some(path),
                message,
            }
        })
        .collect();
    Err(invalid(problems))
}

/// The span of the deepest item along `path` that the document spells out. A value left to its
/// default points at its section; a section left out entirely points at the top of the file.
fn span_of(root: &toml_edit::Item, path: &str) -> Range<usize> {
    let mut item = root;
    let mut best = 0..0;
    for seg in path.split('.').filter(|s| !s.is_empty()) {
        let next = match seg.parse::<usize>() {
            Ok(i) => item.get(i),
            Err(_) => item.get(seg),
        };
        match next {
            Some(n) => {
                item = n;
                if let Some(s) = n.span() {
                    best = s;
                }
            }
            None => break,
        }
    }
    best
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Demo {
        #[serde(default)]
        zones: Vec<Zone>,
        #[serde(default)]
        limit: u32,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Zone {
        name: String,
        polygon: Vec<[f32; 2]>,
    }

    impl Validate for Demo {
        fn validate(&self, at: &str, report: &mut Report) {
            if self.limit > 10 {
                report.error(join(at, "limit"), "must be at most 10");
            }
            for (i, z) in self.zones.iter().enumerate() {
                if z.polygon.len() < 3 {
                    report.error(
                        join(at, format!("zones.{i}.polygon")),
                        format!(
                            "zone `{}`: polygon has {} points (needs ≥ 3)",
                            z.name,
                            z.polygon.len()
                        ),
                    );
                }
            }
        }
    }

    const TEXT: &str = "limit = 12\n\n[[zones]]\nname = \"yard\"\npolygon = [[0,0],[1,0],[1,1]]\n\n[[zones]]\nname = \"door\"\npolygon = [[0,0], [1,1]]\n";

    #[test]
    fn every_problem_is_reported_with_its_line_and_column() {
        let err = parse::<Demo>(TEXT, "picket.toml").unwrap_err();
        let p = err.problems();
        assert_eq!(p.len(), 2, "{err}");
        assert_eq!((p[0].line, p[0].column), (1, 9));
        assert_eq!((p[1].line, p[1].column), (9, 11));
        let text = err.to_string();
        assert!(
            text.contains("picket.toml:9:11: zones.1.polygon: zone `door`: polygon has 2 points"),
            "{text}"
        );
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_located() {
        let err = parse::<Demo>("limit = 1\nlimmit = 2\n", "c.toml").unwrap_err();
        assert_eq!(
            (err.problems()[0].line, err.problems()[0].column),
            (2, 1),
            "{err}"
        );
        assert!(err.to_string().contains("unknown field `limmit`"), "{err}");
        let err = parse::<Demo>("limit = \"many\"\n", "c.toml").unwrap_err();
        assert_eq!(err.problems()[0].line, 1, "{err}");
    }

    #[test]
    fn a_valid_config_loads() {
        let d: Demo = parse(
            "[[zones]]\nname = \"a\"\npolygon = [[0,0],[1,0],[0,1]]\n",
            "x",
        )
        .unwrap();
        assert_eq!(d.zones.len(), 1);
        assert_eq!(d.limit, 0);
    }
}
