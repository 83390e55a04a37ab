//! `picket uplink [-c F]`: publish every journal event to the MQTT broker of the config's
//! `[uplink]` section and to its `[[push]]` sinks, until SIGTERM or SIGINT (see
//! [`crate::uplink`]).

use super::signal;
use crate::config::{self, Config};
use crate::uplink::{self, push, Settings};
use anyhow::{bail, Context};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The config file: its `[uplink]` and `[[push]]` sections, and `[journal] path` to read.
    #[arg(long, short, default_value = "/etc/picket/picket.toml")]
    pub config: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let cfg: Config = config::load(&args.config)?;
    if cfg.uplink.is_none() && cfg.push.is_empty() {
        bail!(
            "{}: no [uplink] section and no [[push]] sink; add one, e.g. [uplink] with \
             `url = \"mqtt://HOST:PORT\"`",
            args.config.display()
        );
    }
    let context = || format!("picket uplink --config {}", args.config.display());
    let up = cfg.uplink.clone().unwrap_or_default();
    let journal = &cfg.journal.path;
    let sinks = push::resolve(&cfg.push, &up.box_id(), journal, &up.state_file(journal))
        .with_context(context)?;
    let stop = signal::stop_flag();
    let end = if up.url.is_empty() {
        push::serve(&sinks, stop, push::no_mqtt)
    } else {
        let settings = Settings::resolve(&up, journal, &cfg.rules).with_context(context)?;
        push::serve(&sinks, stop, |halt| uplink::run(&settings, halt))
    };
    end.with_context(context)
}
