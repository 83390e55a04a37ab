//! `picket uplink [-c F]`: publish every journal event to the MQTT broker of the config's
//! `[uplink]` section and to its `[[push]]` sinks, until SIGTERM or SIGINT (see
//! [`crate::uplink`]).

use super::signal;
use super::ConfigArg;
use crate::config::Config;
use crate::uplink::{self, push, Settings};
use anyhow::{bail, Context};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArg,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let cfg: Config = args.config.load()?;
    if cfg.uplink.is_none() && cfg.push.is_empty() {
        bail!(
            "{}: no [uplink] section and no [[push]] sink; add one, e.g. [uplink] with \
             `url = \"mqtt://HOST:PORT\"`",
            args.config.path().display()
        );
    }
    let context = || format!("picket uplink --config {}", args.config.path().display());
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
