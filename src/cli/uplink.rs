//! `picket uplink [-c F]`: publish every journal event to the MQTT broker of the config's
//! `[uplink]` section, until SIGTERM or SIGINT (see [`crate::uplink`]).

use super::signal;
use crate::config::{self, Config};
use crate::uplink::{self, Settings};
use anyhow::{bail, Context};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The config file: its `[uplink]` section, and `[journal] path` to read.
    #[arg(long, short, default_value = "/etc/picket/picket.toml")]
    pub config: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let cfg: Config = config::load(&args.config)?;
    let Some(up) = &cfg.uplink else {
        bail!(
            "{}: no [uplink] section; add one with at least `url = \"mqtt://HOST:PORT\"`",
            args.config.display()
        );
    };
    let settings = Settings::resolve(up, &cfg.journal.path, &cfg.rules)
        .with_context(|| format!("picket uplink --config {}", args.config.display()))?;
    uplink::run(&settings, signal::stop_flag())
        .with_context(|| format!("picket uplink --config {}", args.config.display()))
}
