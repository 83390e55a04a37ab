//! `picket alarm-test`, `picket alarm reset`, `picket outputs off` and `picket inputs watch`:
//! checking the wiring after install, and putting outputs in their safe state from outside.

use crate::alarm::{self, pin, Engine, OutputSpec, Pattern};
use crate::cli::arm::{load, ConfigArg};
use crate::cli::signal;
use crate::event::EventKind;
use crate::rules::arming::StateFile;
use anyhow::{bail, Context};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    #[arg(long, hide = true)]
    pub hold: bool,
    /// Panic in another thread once the output is on (for the safe-state test).
    #[arg(long, hide = true)]
    pub inject_panic: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum AlarmCommand {
    /// End latched alarms in the running picket.
    Reset(ConfigArg),
}

#[derive(Debug, clap::Subcommand)]
pub enum OutputsCommand {
    /// Drive every configured output to its inactive level (systemd ExecStopPost).
    Off(ConfigArg),
}

#[derive(Debug, clap::Subcommand)]
pub enum InputsCommand {
    /// Watch the keyswitch and tamper inputs, applying the keyswitch to the arming state and
    /// printing each change, until SIGTERM or Ctrl-C.
    Watch(ConfigArg),
}

pub fn test(a: TestArgs) -> anyhow::Result<()> {
    let cfg = load(&a.config)?;
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
    pin::install_panic_hook();
    signal::stop_flag();
    let spec = OutputSpec {
        name: o.name.clone(),
        pin: alarm::open_output(o)?,
        max_on: Duration::try_from_secs_f32(o.max_on_s).unwrap_or(Duration::from_secs(180)),
    };
    let (handle, notices, join) =
        alarm::spawn(Engine::new(vec![spec], vec![], None), Instant::now())?;
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
            std::thread::spawn(|| panic!("injected panic (alarm-test --inject-panic)"));
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

pub fn reset(c: ConfigArg) -> anyhow::Result<()> {
    let cfg = load(&c)?;
    let s = StateFile::update(&cfg.arming.state_file, |s| s.reset_seq += 1)
        .context("request an alarm reset")?;
    println!("alarm reset requested (#{})", s.reset_seq);
    Ok(())
}

pub fn outputs_off(c: ConfigArg) -> anyhow::Result<()> {
    let cfg = load(&c)?;
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

pub fn inputs_watch(c: ConfigArg) -> anyhow::Result<()> {
    let cfg = load(&c)?;
    if cfg.inputs.keyswitch.is_none() && cfg.inputs.tamper.is_none() {
        bail!("the config has no [inputs.keyswitch] or [inputs.tamper]");
    }
    signal::stop_flag();
    let shared = Arc::new(alarm::watch::ArmingShared::default());
    let stop = Arc::new(AtomicBool::new(false));
    let join = alarm::watch::spawn(
        &cfg.inputs,
        cfg.arming.state_file.clone(),
        shared.clone(),
        None,
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
