//! The `picket` binary: parse the command line, set up logging, run the subcommand, and turn
//! any error into a message on stderr and exit status 1 (2 for usage errors, from clap).
//!
//! ## Errors say each thing once
//! A library error's message is whole: it names the thing and the place and ends with its
//! cause's text (`open /dev/video7: No such file or directory (os error 2)`). So no error enum
//! also hands that cause out as its `source()`: a field holding the cause is named `cause`, not
//! `source`, and carries neither `#[source]` nor `#[from]` (thiserror treats all three as the
//! source). A variant that only passes another error on is `#[error(transparent)]`, which adds
//! no text of its own (the inner message already names its thing). Then `{e}` in a log line, a
//! journal event's `detail` and anyhow's `{e:#}` below all print each thing exactly once. CLI
//! code adds what the library cannot know (the command, the flag) with anyhow's `.context()`,
//! whose text never repeats the error's own.

use clap::Parser;

fn main() {
    // A panic contained to one call (a library's assertion on hostile input, caught and turned
    // into that input's error: `picket_image::contain`) is not reported as a crash.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !picket_image::contain::panic_is_contained() {
            report(info);
        }
    }));
    picket::cli::logging::init();
    let cli = picket::cli::Cli::parse();
    if let Err(e) = cli.run() {
        eprintln!("picket: {e:#}");
        std::process::exit(1);
    }
}
