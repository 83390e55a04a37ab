//! The command line: one subcommand per user task. Each subcommand is a module with its `Args`
//! (clap) and a `run` that returns `anyhow::Result`, so errors reach the user with context.

pub mod alarm;
pub mod arm;
pub mod bench;
mod bench_stages;
pub mod check;
pub mod detect;
pub mod events;
pub mod feed;
pub mod journal_stress;
pub mod probe;
pub mod run;
pub mod signal;
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
    /// Watch the camera: detect, track, judge, sound alarms and journal events, until stopped.
    Run(run::Args),
    /// Validate a config file and report every problem with its line and column.
    Check(check::Args),
    /// Arm now (or, with --auto, follow the weekly schedule again); survives restarts.
    Arm(arm::ArmArgs),
    /// Disarm now; survives restarts.
    Disarm(arm::ConfigArg),
    /// Show the arming mode, the schedule, the clock and whether the box is armed.
    Status(arm::ConfigArg),
    /// Sound one output to check its wiring: OUTPUT [--pattern P] [--seconds S].
    AlarmTest(alarm::TestArgs),
    /// Alarm commands for a running picket.
    #[command(subcommand)]
    Alarm(alarm::AlarmCommand),
    /// Output commands.
    #[command(subcommand)]
    Outputs(alarm::OutputsCommand),
    /// Input commands.
    #[command(subcommand)]
    Inputs(alarm::InputsCommand),
    /// Run the tracker over a MOTChallenge detection file and write its tracks.
    TrackEval(track_eval::Args),
    /// Read the event journal, or copy it off the box.
    Events(events::Args),
    /// Append events as fast as the disk allows, printing each id once committed (for tests).
    #[command(hide = true)]
    JournalStress(journal_stress::Args),
    /// Play MJPEG footage into a V4L2 output device (v4l2loopback) at its frame rate (for tests).
    #[command(hide = true)]
    Feed(feed::Args),
    /// List V4L2 cameras with their formats, sizes, frame rates and controls.
    Probe(probe::Args),
    /// Find people (or other classes) in still images.
    Detect(detect::Args),
    /// Time the detector on this machine.
    Bench(bench::Args),
}

impl Cli {
    pub fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Run(a) => run::run(a),
            Command::Check(a) => check::run(a),
            Command::Arm(a) => arm::arm(a),
            Command::Disarm(a) => arm::disarm(a),
            Command::Status(a) => arm::status(a),
            Command::AlarmTest(a) => alarm::test(a),
            Command::Alarm(alarm::AlarmCommand::Reset(a)) => alarm::reset(a),
            Command::Outputs(alarm::OutputsCommand::Off(a)) => alarm::outputs_off(a),
            Command::Inputs(alarm::InputsCommand::Watch(a)) => alarm::inputs_watch(a),
            Command::TrackEval(a) => track_eval::run(a),
            Command::Events(a) => events::run(a),
            Command::JournalStress(a) => journal_stress::run(a),
            Command::Feed(a) => feed::run(a),
            Command::Probe(a) => probe::run(a),
            Command::Detect(a) => detect::run(a),
            Command::Bench(a) => bench::run(a),
        }
    }
}
