//! `picket check --config F`: validate a config without starting anything.

use crate::config::{self, Config};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The config file to check.
    #[arg(long, short, default_value = "/etc/picket/picket.toml")]
    pub config: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let _cfg: Config = config::load(&args.config)?;
    println!("{}: ok", args.config.display());
    Ok(())
}
