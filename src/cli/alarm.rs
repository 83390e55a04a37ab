//! `picket outputs test|off` and `picket inputs`: checking the wiring after install, and
//! putting the outputs in their safe state from outside.

use crate::alarm::{self, pin, Engine, OutputSpec, Pattern};
use crate::arming::{self, ArmingShared};
use crate::cli::signal;
use crate::cli::ConfigArg;
use crate::event::EventKind;
use anyhow::{bail, Context};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `picket outputs test`. Its `--hold` and `--inject-panic` are hooks for the tests that must see
/// the safe state from outside (`tests/hil/gpio.rs`): they exist only in a build with the
/// `test-hooks` feature, which no release enables (`cargo test` turns it on through the
/// package's dev-dependency on itself, and the HIL stage builds with it); elsewhere both are
/// false and the flags are refused.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// The output's name in the config.
    pub output: String,
    /// steady, siren or pulse:ON_MS/OFF_MS.
    #[arg(long, short, default_value = "steady")]
    pub pattern: String,
    /// How long to sound it (still capped by the output's max_on_s).
    #[arg(long, short, default_value_t = 3.0)]
    pub seconds: f32,
    #[command(flatten)]
    pub config: ConfigArg,
    /// After driving the outputs safe, hold the lines until stdin closes (for tests that read
    /// the line while picket still holds it).
    #[cfg_attr(feature = "test-hooks", arg(long, hide = true))]
    #[cfg_attr(not(feature = "test-hooks"), arg(skip))]
    pub hold: bool,
    /// Panic in another thread once the output is on (for the safe-state test).
    #[cfg_attr(feature = "test-hooks", arg(long, hide = true))]
    #[cfg_attr(not(feature = "test-hooks"), arg(skip))]
    pub inject_panic: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum OutputsCommand {
    /// Sound one output to check its wiring: OUTPUT [--pattern P] [--seconds S].
    Test(TestArgs),
    /// Drive every configured output to its inactive level (systemd ExecStopPost).
    Off(ConfigArg),
}

#[derive(Debug, clap::Args)]
pub struct InputsArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// `watch`: the old spelling, `picket inputs watch`, still accepted.
    #[arg(hide = true, value_parser = ["watch"])]
    pub verb: Option<String>,
}

pub fn test(a: TestArgs) -> anyhow::Result<()> {
    let cfg = a.config.load()?;
    let pattern = Pattern::parse(&a.pattern)?;
    let Some(o) = cfg.outputs.iter().find(|o| o.name == a.output) else {
        let known: Vec<&str> = cfg.outputs.iter().map(|o| o.name.as_str()).collect();
        bail!(
            "no output `{}` (the config has: {})",
            a.output,
            known.join(", ")
        );
    };
    let seconds = Duration::try_from_secs_f32(a.seconds).context("--seconds")?;
    pin::hold_after_safe(a.hold);
    pin::install_panic_hook(picket_image::contain::panic_is_contained);
    signal::stop_flag();
    let spec = OutputSpec {
        name: o.name.clone(),
        pin: alarm::open_output(o)?,
        max_on: Duration::try_from_secs_f32(o.max_on_s).unwrap_or(Duration::from_secs(180)),
    };
    let (handle, notices, join) = alarm::spawn(
        Engine::new(vec![spec], vec![], None),
        Instant::now(),
        arming::clock_synchronised,
    )?;
    handle.test(0, pattern, seconds)?;
    let deadline = Instant::now() + seconds + Duration::from_millis(100);
    let mut panicked = false;
    while !signal::stopping() && Instant::now() < deadline {
        let Some(e) = notices.recv_timeout(Duration::from_millis(20)) else {
            continue;
        };
        println!(
            "output {}: {}",
            e.place,
            if e.kind == EventKind::AlarmOn {
                "on"
            } else {
                "off"
            }
        );
        if e.kind == EventKind::AlarmOn && a.inject_panic && !panicked {
            panicked = true;
            // The panic is the point: the hook (feature `test-hooks`, never in a release) lets a
            // test see that a panicking thread still leaves the outputs in the safe state.
            #[allow(clippy::panic)]
            std::thread::spawn(|| panic!("injected panic (outputs test --inject-panic)"));
        }
        if e.kind == EventKind::AlarmOff {
            break;
        }
    }
    handle.shutdown()?;
    let engine = join
        .join()
        .map_err(|_| anyhow::anyhow!("the output thread panicked"))?;
    println!("output {}: safe", a.output);
    while pin::halted() {
        // A panic hook owns the exit (status 101) once it has halted the outputs.
        std::thread::sleep(Duration::from_millis(100));
    }
    pin::maybe_hold();
    drop(engine);
    Ok(())
}

pub fn outputs_off(c: ConfigArg) -> anyhow::Result<()> {
    let cfg = c.load()?;
    let mut failed = 0;
    for o in &cfg.outputs {
        // Opening a line requests it inactive; dropping releases it at that level.
        match alarm::open_output(o) {
            Ok(mut p) => match p.set_low() {
                Ok(()) => println!("output {}: off", o.name),
                Err(e) => {
                    failed += 1;
                    eprintln!("output {}: {e}", o.name);
                }
            },
            Err(e) => {
                failed += 1;
                eprintln!("{e}");
            }
        }
    }
    if failed > 0 {
        bail!("{failed} outputs could not be driven off");
    }
    Ok(())
}

pub fn inputs_watch(a: InputsArgs) -> anyhow::Result<()> {
    let cfg = a.config.load()?;
    if cfg.inputs.keyswitch.is_none() && cfg.inputs.tamper.is_none() {
        bail!("the config has no [inputs.keyswitch] or [inputs.tamper]");
    }
    signal::stop_flag();
    let shared = Arc::new(ArmingShared::default());
    let stop = Arc::new(AtomicBool::new(false));
    let join = arming::watch::spawn(
        &cfg.inputs,
        cfg.arming.state_file.clone(),
        None,
        shared.clone(),
        || {},
        stop.clone(),
    )?;
    let mut last = None;
    while !signal::stopping() {
        let now = shared.inputs();
        if last != Some(now) {
            println!("mode: {} tamper: {}", now.mode.as_str(), now.tamper);
            last = Some(now);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    let _ = join.join();
    Ok(())
}
