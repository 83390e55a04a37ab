//! The `picket` binary: parse the command line, set up logging, run the subcommand, and turn
//! any error into a message on stderr and exit status 1 (2 for usage errors, from clap).

use clap::Parser;

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format_timestamp_millis()
        .init();
    let cli = picket::cli::Cli::parse();
    if let Err(e) = cli.run() {
        eprintln!("picket: {e:#}");
        std::process::exit(1);
    }
}
