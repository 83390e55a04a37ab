//! The command line: one subcommand per user task. Each subcommand is a module with its `Args`
//! (clap) and a `run` that returns `anyhow::Result`, so errors reach the user with context.

pub mod check;
pub mod track_eval;

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
    /// Run the tracker over a MOTChallenge detection file and write its tracks.
    TrackEval(track_eval::Args),
}

impl Cli {
    pub fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Check(a) => check::run(a),
            Command::TrackEval(a) => track_eval::run(a),
        }
    }
}
