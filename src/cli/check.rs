//! `picket check --config F`: validate a config without starting anything. Errors refuse it;
//! warnings (a tracker that can never start a track, thresholds the detector makes moot) are
//! printed and leave it valid.

use super::ConfigArg;
use crate::config::{self, Config};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArg,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let path = args.config.path();
    let checked = config::load_checked::<Config>(path)?;
    for w in &checked.warnings {
        println!("warning: {w}");
    }
    match checked.warnings.len() {
        0 => println!("{}: ok", path.display()),
        n => println!("{}: ok, with {n} warning(s)", path.display()),
    }
    Ok(())
}
