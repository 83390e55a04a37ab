//! `picket hub [-c F]`: collect every box's events from the MQTT broker of the config's `[hub]`
//! section into the hub journal of its `[journal]`, until SIGTERM or SIGINT (see
//! [`crate::hub`]).

use super::signal;
use crate::config::{self, Config};
use crate::hub::{self, Settings};
use anyhow::{bail, Context};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The config file: its `[hub]` section, and `[journal]` for the hub journal.
    #[arg(long, short, default_value = "/etc/picket/picket.toml")]
    pub config: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let cfg: Config = config::load(&args.config)?;
    let Some(h) = &cfg.hub else {
        bail!(
            "{}: no [hub] section; add one with at least `url = \"mqtt://HOST:PORT\"`",
            args.config.display()
        );
    };
    let what = || format!("picket hub --config {}", args.config.display());
    let settings = Settings::resolve(h, &cfg.journal).with_context(what)?;
    hub::run(&settings, signal::stop_flag()).with_context(what)?;
    Ok(())
}
