//! The command line: one subcommand per user task. Each subcommand is a module with its `Args`
//! (clap) and a `run` that returns `anyhow::Result`, so errors reach the user with context.

pub mod bench;
pub mod check;
pub mod detect;

use clap::{Parser, Subcommand};

/// Picket: watch a camera, find people, judge what they do, sound the alarm, keep a journal.
#[derive(Debug, Parser)]
#[command(name = "picket", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a config file and report every problem with its line and column.
    Check(check::Args),
    /// Find people (or other classes) in still images.
    Detect(detect::Args),
    /// Time the detector on this machine.
    Bench(bench::Args),
}

impl Cli {
    pub fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Check(a) => check::run(a),
            Command::Detect(a) => detect::run(a),
            Command::Bench(a) => bench::run(a),
        }
    }
}
