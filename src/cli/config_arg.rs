//! `-c/--config FILE`: the one config argument every command that reads a config shares, in two
//! layers (as ripgrep keeps its arguments): what was typed ([`ConfigArg`], the flag or
//! `PICKET_CONFIG`, no default), and what it means, resolved here once by the kind of command:
//!
//! - a command that needs a config (`run`, `check`, `uplink`, `hub`, the arming and output
//!   commands) reads the file given, else [`DEFAULT_CONFIG`]: [`ConfigArg::path`],
//!   [`ConfigArg::load`];
//! - a command that works without one (`detect`, `bench`, `track-eval`) reads only the file
//!   given, else takes the built-in defaults: [`ConfigArg::load_or_defaults`];
//! - `events` reads the file given, else [`DEFAULT_CONFIG`] when it exists, and none with `--db`:
//!   [`ConfigArg::given_or_existing_default`].
//!
//! So the default is written once, and no command reads a file nobody asked for.

use crate::config::{self, Config};
use std::path::{Path, PathBuf};

/// The config file of the installed appliance (the package's conffile).
pub const DEFAULT_CONFIG: &str = "/etc/picket/picket.toml";

/// `-c/--config FILE`, or `PICKET_CONFIG`, as typed. Flattened into each command that reads a
/// config; `global` so that a group's subcommands take it on either side of their name
/// (`picket events -c F list`, `picket events list -c F`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigArg {
    #[arg(
        short = 'c',
        long = "config",
        value_name = "FILE",
        env = "PICKET_CONFIG",
        global = true,
        help = format!("The config file (default: {DEFAULT_CONFIG}, where the command needs one)"),
        long_help = format!(
            "The config file. Where none is given, run, check, arm, disarm, status, reset, \
             outputs, inputs, uplink and hub read {DEFAULT_CONFIG}; detect, bench and track-eval use the \
             built-in defaults; events reads {DEFAULT_CONFIG} if it exists (and no config with \
             --db)."
        )
    )]
    given: Option<PathBuf>,
}

impl ConfigArg {
    /// A config file, as if typed with `-c`.
    pub fn new(path: impl Into<PathBuf>) -> ConfigArg {
        ConfigArg {
            given: Some(path.into()),
        }
    }

    /// For a command that needs a config: the file given, else [`DEFAULT_CONFIG`].
    pub fn path(&self) -> &Path {
        self.given.as_deref().unwrap_or(Path::new(DEFAULT_CONFIG))
    }

    /// The file given with `-c` or `PICKET_CONFIG`, if any.
    pub fn given(&self) -> Option<&Path> {
        self.given.as_deref()
    }

    /// For `events`: the file given, else [`DEFAULT_CONFIG`] if it exists.
    pub fn given_or_existing_default(&self) -> Option<&Path> {
        let default = Path::new(DEFAULT_CONFIG);
        self.given().or(default.exists().then_some(default))
    }

    /// For a command that needs a config: [`ConfigArg::path`], loaded and validated.
    pub fn load(&self) -> anyhow::Result<Config> {
        Ok(config::load(self.path())?)
    }

    /// For a command that works without a config: the file given, else the built-in defaults.
    pub fn load_or_defaults(&self) -> anyhow::Result<Config> {
        Ok(match self.given() {
            Some(p) => config::load(p)?,
            None => Config::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Probe {
        #[command(flatten)]
        config: ConfigArg,
    }

    #[test]
    fn typed_then_resolved_by_the_kind_of_command() {
        let typed = Probe::try_parse_from(["p", "-c", "a.toml"]).unwrap().config;
        assert_eq!(typed.given(), Some(Path::new("a.toml")));
        assert_eq!(typed.path(), Path::new("a.toml"));
        let long = Probe::try_parse_from(["p", "--config", "b.toml"])
            .unwrap()
            .config;
        assert_eq!(long.path(), Path::new("b.toml"));
        let none = ConfigArg::default();
        assert_eq!(none.given(), None);
        assert_eq!(none.path(), Path::new(DEFAULT_CONFIG));
        let cfg = none.load_or_defaults().unwrap();
        assert_eq!(cfg.journal.path, Config::default().journal.path);
    }

    #[test]
    fn a_given_file_that_is_missing_is_an_error_never_the_defaults() {
        let missing = ConfigArg::new("/nonexistent/picket.toml");
        let e = missing.load_or_defaults().unwrap_err();
        assert!(
            format!("{e:#}").contains("/nonexistent/picket.toml"),
            "{e:#}"
        );
    }
}
