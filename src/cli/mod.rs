//! The command line: one subcommand per user task. Each subcommand is a module with its `Args`
//! (clap) and a `run` that returns `anyhow::Result`, so errors reach the user with context.

pub mod alarm;
pub mod arm;
pub mod bench;
mod bench_stages;
pub mod check;
mod config_arg;
pub mod detect;
pub mod eval_detect;
pub mod events;
pub mod feed;
pub mod hub;
pub mod journal_stress;
pub mod logging;
pub mod probe;
pub mod run;
pub mod signal;
pub mod snapshot;
pub mod track_eval;
pub mod uplink;

use clap::{Parser, Subcommand};
pub use config_arg::{ConfigArg, DEFAULT_CONFIG};

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
    Disarm(ConfigArg),
    /// Show the arming mode, the schedule, the clock and whether the box is armed.
    Status(ConfigArg),
    /// End latched alarms in the running picket.
    Reset(ConfigArg),
    /// Check an output's wiring (test), or drive every output to its inactive level (off).
    #[command(subcommand)]
    Outputs(alarm::OutputsCommand),
    /// Watch the keyswitch and tamper inputs, printing each change, until stopped.
    ///
    /// Each turn of the keyswitch arms or disarms, as `picket arm` and `picket disarm` do.
    /// Ends at SIGTERM or Ctrl-C.
    Inputs(alarm::InputsArgs),
    /// Read the event journal, or copy it off the box.
    Events(events::Args),
    /// Find people (or other classes) in still images.
    Detect(detect::Args),
    /// Write one annotated frame from the camera (people, zones, lines, status), for setting
    /// up a box while `picket run` is stopped.
    Snapshot(snapshot::Args),
    /// Time the detector on this machine.
    Bench(bench::Args),
    /// Score the detector on labelled frames: AP, recall at a rate of false boxes, time a frame.
    EvalDetect(eval_detect::Args),
    /// List V4L2 cameras with their formats, sizes, frame rates and controls.
    Probe(probe::Args),
    /// Run the tracker over a MOTChallenge detection file and write its tracks.
    TrackEval(track_eval::Args),
    /// Append events as fast as the disk allows, printing each id once committed (for tests).
    #[command(hide = true)]
    JournalStress(journal_stress::Args),
    /// Play MJPEG footage into a V4L2 output device (v4l2loopback) at its frame rate (for tests).
    #[command(hide = true)]
    Feed(feed::Args),
    /// Publish every journal event to the MQTT broker of [uplink], until stopped.
    Uplink(uplink::Args),
    /// Collect every box's events from the MQTT broker of [hub] into one journal, until stopped.
    Hub(hub::Args),
    /// The old spelling of `outputs test`.
    #[command(hide = true)]
    AlarmTest(alarm::TestArgs),
    /// The old spelling of `reset`: `alarm reset`.
    #[command(subcommand, hide = true)]
    Alarm(OldAlarmCommand),
}

/// `picket alarm reset`, kept for the scripts and notes that spell it so.
#[derive(Debug, Subcommand)]
pub enum OldAlarmCommand {
    Reset(ConfigArg),
}

impl Cli {
    pub fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Run(a) => run::run(a),
            Command::Check(a) => check::run(a),
            Command::Arm(a) => arm::arm(a),
            Command::Disarm(a) => arm::disarm(a),
            Command::Status(a) => arm::status(a),
            Command::Reset(a) | Command::Alarm(OldAlarmCommand::Reset(a)) => arm::reset(a),
            Command::Outputs(alarm::OutputsCommand::Test(a)) | Command::AlarmTest(a) => {
                alarm::test(a)
            }
            Command::Outputs(alarm::OutputsCommand::Off(a)) => alarm::outputs_off(a),
            Command::Inputs(a) => alarm::inputs_watch(a),
            Command::Events(a) => events::run(a),
            Command::Detect(a) => detect::run(a),
            Command::Snapshot(a) => snapshot::run(a),
            Command::Bench(a) => bench::run(a),
            Command::EvalDetect(a) => eval_detect::run(a),
            Command::Probe(a) => probe::run(a),
            Command::TrackEval(a) => track_eval::run(a),
            Command::JournalStress(a) => journal_stress::run(a),
            Command::Feed(a) => feed::run(a),
            Command::Uplink(a) => uplink::run(a),
            Command::Hub(a) => hub::run(a),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    fn parse(line: &str) -> Command {
        Cli::try_parse_from(line.split(' '))
            .unwrap_or_else(|e| panic!("{line}: {e}"))
            .command
    }

    #[test]
    fn old_spellings_still_parse_to_the_new_commands() {
        let c = |p: &str| ConfigArg::new(p);
        match parse("picket alarm-test siren -s 1 -c a.toml") {
            Command::AlarmTest(a) => assert_eq!(
                (a.output.as_str(), a.config.given()),
                ("siren", c("a.toml").given())
            ),
            other => panic!("{other:?}"),
        }
        match parse("picket outputs test siren -c a.toml") {
            Command::Outputs(alarm::OutputsCommand::Test(a)) => assert_eq!(a.output, "siren"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse("picket alarm reset -c a.toml"),
            Command::Alarm(OldAlarmCommand::Reset(_))
        ));
        match parse("picket inputs watch -c a.toml") {
            Command::Inputs(a) => assert_eq!(a.config.given(), c("a.toml").given()),
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["picket", "inputs", "wach"]).is_err());
    }

    #[test]
    fn old_spellings_are_hidden_from_the_help() {
        let help = Cli::command().render_help().to_string();
        for new in ["outputs", "inputs", "reset"] {
            assert!(help.contains(&format!("  {new} ")), "{help}");
        }
        for old in ["alarm-test", "alarm "] {
            assert!(!help.contains(old), "{old} in {help}");
        }
    }
}
