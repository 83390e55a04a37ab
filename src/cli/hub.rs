//! `picket hub [-c F]`: collect every box's events from the MQTT broker of the config's `[hub]`
//! section into the hub journal of its `[journal]`, until SIGTERM or SIGINT (see
//! [`crate::hub`]); and serve the config's `[[push]]` sinks from the hub journal, so that
//! `box_offline` and `box_back` (or any kind) reach a phone, exactly as `picket uplink` serves
//! a box's (see [`crate::uplink::push`]).

use super::signal;
use super::ConfigArg;
use crate::config::Config;
use crate::hub::{self, Settings};
use crate::uplink::{push, UplinkConfig};
use anyhow::{bail, Context};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArg,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let cfg: Config = args.config.load()?;
    let Some(h) = &cfg.hub else {
        bail!(
            "{}: no [hub] section; add one with at least `url = \"mqtt://HOST:PORT\"`",
            args.config.path().display()
        );
    };
    let what = || format!("picket hub --config {}", args.config.path().display());
    let settings = Settings::resolve(h, &cfg.journal).with_context(what)?;
    // The sinks' cursors sit beside the hub journal, as a box's beside its own.
    let journal = &cfg.journal.path;
    let state = UplinkConfig::default().state_file(journal);
    let sinks = push::resolve(&cfg.push, "hub", journal, &state).with_context(what)?;
    let mut collected = None;
    let served = push::serve(&sinks, signal::stop_flag(), |halt| {
        collected = Some(hub::run(&settings, halt));
        Ok(())
    });
    if let Some(end) = collected {
        end.with_context(what)?;
    }
    served.with_context(what)
}
