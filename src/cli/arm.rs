//! `picket arm [--auto]`, `picket disarm` and `picket status`: the manual arming mode, kept in
//! the state file that a running picket watches (see `rules::arming`).

use crate::config::{self, Config};
use crate::rules::arming::{clock_synchronised, Arming, Mode, StateFile};
use anyhow::Context;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ConfigArg {
    /// The config file (it names the state file and the schedule).
    #[arg(long, short, default_value = "/etc/picket/picket.toml")]
    pub config: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ArmArgs {
    /// Follow the weekly schedule again instead of staying armed.
    #[arg(long)]
    pub auto: bool,
    #[command(flatten)]
    pub config: ConfigArg,
}

pub fn load(c: &ConfigArg) -> anyhow::Result<Config> {
    Ok(config::load(&c.config)?)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn set(c: &ConfigArg, mode: Mode) -> anyhow::Result<()> {
    let cfg = load(c)?;
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

pub fn status(c: ConfigArg) -> anyhow::Result<()> {
    let cfg = load(&c)?;
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
    Ok(())
}
