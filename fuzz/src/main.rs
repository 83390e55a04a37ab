//! `picket-fuzz TARGET`: runs the fuzz target `TARGET` (one of
//! [`picket::fuzz_targets::TARGETS`]) under AFL++ in persistent mode. Built with
//! `cargo afl build --release`; `scripts/fuzz.sh` builds and runs it.

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some(target) = picket::fuzz_targets::target(&name) else {
        let names: Vec<&str> = picket::fuzz_targets::TARGETS.iter().map(|(n, _)| *n).collect();
        eprintln!("usage: picket-fuzz TARGET, one of: {}", names.join(" "));
        std::process::exit(2);
    };
    // AFL++ counts a panic as a crash by the abort that follows it; a panic a parser contains
    // (a library's assertion on hostile input, `picket_image::contain`) is caught inside the
    // target and is not one.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !picket_image::contain::panic_is_contained() {
            previous(info);
            std::process::abort();
        }
    }));
    afl::fuzz_nohook!(|data: &[u8]| {
        target(data);
    });
}
