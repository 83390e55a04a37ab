//! `picket arm [--auto]`, `picket disarm`, `picket status` and `picket reset`: the manual arming
//! mode and the reset of latched alarms, kept in the state file that a running picket watches
//! (see `arming`). `picket status` also shows the backlog of the uplink and of each `[[push]]` sink.

use super::ConfigArg;
use crate::arming::{clock_synchronised, Arming, Mode, StateFile};
use crate::config::Config;
use crate::journal::cursor::Backlog;
use anyhow::Context;

#[derive(Debug, clap::Args)]
pub struct ArmArgs {
    /// Follow the weekly schedule again instead of staying armed.
    #[arg(long)]
    pub auto: bool,
    #[command(flatten)]
    pub config: ConfigArg,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn set(c: &ConfigArg, mode: Mode) -> anyhow::Result<()> {
    let cfg = c.load()?;
    let path = &cfg.arming.state_file;
    StateFile::update(path, |s| {
        s.mode = mode;
        s.by = "cli".into();
        s.changed_ms = now_ms();
    })
    .with_context(|| format!("set the arming mode to {}", mode.as_str()))?;
    println!("mode: {}", mode.as_str());
    Ok(())
}

pub fn arm(a: ArmArgs) -> anyhow::Result<()> {
    set(&a.config, if a.auto { Mode::Auto } else { Mode::Armed })
}

pub fn disarm(c: ConfigArg) -> anyhow::Result<()> {
    set(&c, Mode::Disarmed)
}

pub fn reset(c: ConfigArg) -> anyhow::Result<()> {
    let cfg = c.load()?;
    let s = StateFile::update(&cfg.arming.state_file, |s| s.reset_seq += 1)
        .context("request an alarm reset")?;
    println!("alarm reset requested (#{})", s.reset_seq);
    Ok(())
}

pub fn status(c: ConfigArg) -> anyhow::Result<()> {
    let cfg = c.load()?;
    let state = StateFile::load(&cfg.arming.state_file)?;
    let arming = Arming::new(&cfg.arming)?;
    let synced = clock_synchronised();
    let (armed, why) = arming.decide(state.mode, now_ms(), synced);
    let when = jiff::Timestamp::from_millisecond(state.changed_ms)
        .map(|t| t.to_string())
        .unwrap_or_default();
    match state.by.as_str() {
        "" => println!("mode: {}", state.mode.as_str()),
        by => println!("mode: {} (by {by} at {when})", state.mode.as_str()),
    }
    let schedule = if cfg.arming.schedule.is_empty() {
        "none (armed all week in auto mode)".to_owned()
    } else {
        cfg.arming.schedule.join(", ")
    };
    println!("schedule: {schedule}");
    println!(
        "clock: {}",
        if synced {
            "synchronised"
        } else {
            "NOT synchronised (the schedule is not trusted)"
        }
    );
    println!(
        "armed: {} ({})",
        if armed { "yes" } else { "no" },
        why.as_str()
    );
    if let Some(state_file) = cfg.run_journal().uplink_state {
        println!("uplink: {}", backlog_line(&cfg, &state_file));
    }
    for (i, (p, cursor)) in cfg.push.iter().zip(cfg.push_cursor_files()).enumerate() {
        println!("push {}: {}", p.label(i), backlog_line(&cfg, &cursor));
    }
    Ok(())
}

/// The backlog of the uplink (or a push sink) whose cursor is `state_file`, in words. A journal
/// or cursor that cannot be read is said, not fatal: the rest of the status still holds.
fn backlog_line(cfg: &Config, state_file: &std::path::Path) -> String {
    match Backlog::read(&cfg.journal.path, state_file) {
        Ok(Backlog::NeverRan) => format!(
            "never ran (no state file {}): nothing acknowledged yet",
            state_file.display()
        ),
        Ok(Backlog::Behind {
            ids,
            acked_through,
            newest,
            updated_ms,
        }) => {
            let when = jiff::Timestamp::from_millisecond(updated_ms)
                .map(|t| t.to_string())
                .unwrap_or_default();
            let newest = newest.map_or("none".to_owned(), |n| n.to_string());
            format!(
                "backlog {ids} (acknowledged through id {acked_through}, newest {newest}; \
                 cursor written {when})"
            )
        }
        Err(e) => format!("backlog unknown: {e}"),
    }
}
