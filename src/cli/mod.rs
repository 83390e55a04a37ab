//! The command line: one subcommand per user task. Each subcommand is a module with its `Args`
//! (clap) and a `run` that returns `anyhow::Result`, so errors reach the user with context.

pub mod check;
pub mod probe;

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
    /// List V4L2 cameras with their formats, sizes, frame rates and controls.
    Probe(probe::Args),
}

impl Cli {
    pub fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Check(a) => check::run(a),
            Command::Probe(a) => probe::run(a),
        }
    }
}
