//! The command line: one subcommand per user task. Each subcommand is a module with its `Args`
//! (clap) and a `run` that returns `anyhow::Result`, so errors reach the user with context.

pub mod check;
pub mod events;
pub mod journal_stress;

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
    /// Read the event journal, or copy it off the box.
    Events(events::Args),
    /// Append events as fast as the disk allows, printing each id once committed (for tests).
    #[command(hide = true)]
    JournalStress(journal_stress::Args),
}

impl Cli {
    pub fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Check(a) => check::run(a),
            Command::Events(a) => events::run(a),
            Command::JournalStress(a) => journal_stress::run(a),
        }
    }
}
