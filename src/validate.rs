//! Loading a TOML file into a serde type and validating it, with every problem reported as
//! `file:line:col: path: message`. A leaf: it knows no section of picket's config, so each
//! section's `config.rs` can implement [`Validate`] without importing the schema that lists them
//! all.
//!
//! Loading is two steps:
//! 1. serde parses the text; a syntax or type error stops there, located by its span;
//! 2. [`Validate`] walks the parsed value and records each semantic problem with a dotted path
//!    (`zones.2.polygon`), which is resolved back to a line and column in the original text.
//!
//! Keeping paths rather than spans in validation means the schema types stay plain serde types.

use serde::Deserialize;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

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

/// The problems found by validation, each with the dotted path of the value at fault: errors,
/// which refuse the config, and warnings, which let it run but say what will likely go wrong.
#[derive(Debug, Default)]
pub struct Report {
    problems: Vec<(String, String)>,
    warnings: Vec<(String, String)>,
}

impl Report {
    /// Records that the value at `path` is wrong, and why.
    pub fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push((path.into(), message.into()));
    }

    /// Records that the value at `path` is allowed but probably not what the user wants.
    pub fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.warnings.push((path.into(), message.into()));
    }

    /// The warnings, as `path: message`.
    pub fn warnings(&self) -> impl Iterator<Item = String> + '_ {
        self.warnings.iter().map(|(p, m)| format!("{p}: {m}"))
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
    #[error("read {}: {cause}", path.display())]
    Read {
        path: PathBuf,
        cause: std::io::Error,
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

/// A config that passed validation, with the warnings validation gave, each located as
/// `origin:line:col: path: message`.
#[derive(Debug)]
pub struct Checked<T> {
    pub value: T,
    pub warnings: Vec<String>,
}

/// Reads, parses and validates the config file at `path`, logging its warnings.
pub fn load<T: for<'de> Deserialize<'de> + Validate>(path: &Path) -> Result<T, ConfigError> {
    Ok(logged(load_checked(path)?))
}

/// Reads, parses and validates the config file at `path`, returning its warnings.
pub fn load_checked<T: for<'de> Deserialize<'de> + Validate>(
    path: &Path,
) -> Result<Checked<T>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
        path: path.to_owned(),
        cause,
    })?;
    check(&text, &path.display().to_string())
}

/// Parses and validates `text`, logging its warnings; `origin` names it in messages (usually
/// the file path).
pub fn parse<T: for<'de> Deserialize<'de> + Validate>(
    text: &str,
    origin: &str,
) -> Result<T, ConfigError> {
    Ok(logged(check(text, origin)?))
}

fn logged<T>(c: Checked<T>) -> T {
    for w in &c.warnings {
        log::warn!("{w}");
    }
    c.value
}

/// Parses and validates `text`, returning its warnings; `origin` names it in messages.
pub fn check<T: for<'de> Deserialize<'de> + Validate>(
    text: &str,
    origin: &str,
) -> Result<Checked<T>, ConfigError> {
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
    // The text parsed once already, so this parse cannot fail; an empty document is harmless.
    let doc = toml_edit::ImDocument::parse(text.to_owned()).ok();
    let locate = |list: Vec<(String, String)>| -> Vec<Problem> {
        list.into_iter()
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
            .collect()
    };
    if !report.is_empty() {
        return Err(invalid(locate(report.problems)));
    }
    let warnings = locate(report.warnings)
        .iter()
        .map(|p| render(origin, std::slice::from_ref(p)))
        .collect();
    Ok(Checked { value, warnings })
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
