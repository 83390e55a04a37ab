//! `picket run`: the appliance's main job (see [`crate::pipeline::Pipeline`]), with overrides of
//! the config for replays and tests.

use super::{signal, ConfigArg};
use crate::config::{self, Config};
use crate::pipeline::{self, Control, Options};
use crate::source::{parse_size, Pacing, SourceKind};
use anyhow::{bail, Context};
use picket_image::PixelFormat;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Read frames from here instead: a file or directory, `stdin` (or `-`), or `/dev/videoN`.
    #[arg(long, value_name = "PATH|stdin|/dev/videoN")]
    pub source: Option<String>,
    /// Frame size, WxH (a camera's request, or the size of raw frames on stdin).
    #[arg(long, value_name = "WxH")]
    pub size: Option<String>,
    /// Pixel format (a camera's request, or the format of frames on stdin).
    #[arg(long)]
    pub format: Option<String>,
    /// Replay files as fast as possible rather than at their frame rate.
    #[arg(long)]
    pub fast: bool,
    /// Run the model without the XNNPACK delegate.
    #[arg(long)]
    pub no_xnnpack: bool,
    /// Which library runs the model, instead of `[model] runtime`.
    #[arg(long, value_enum)]
    pub runtime: Option<crate::detect::config::RuntimeChoice>,
    /// Inference threads.
    #[arg(long)]
    pub threads: Option<u16>,
    /// The journal file, instead of `[journal] path`.
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,
    /// The arming state file, instead of `[arming] state_file`.
    #[arg(long, value_name = "PATH")]
    pub state_file: Option<PathBuf>,
    /// Stop after this many frames.
    #[arg(long, value_name = "N")]
    pub max_frames: Option<u64>,
    /// Show a progress line on stderr (at each metrics interval).
    #[arg(long)]
    pub progress: bool,
    /// Write the tracker's output to FILE in MOTChallenge format (`frame,id,x,y,w,h,score,…`
    /// in pixels, frames from 1), to score detector and tracker with standard tools.
    #[arg(long, value_name = "FILE")]
    pub tracks_out: Option<PathBuf>,
}

impl Args {
    /// The config file with the flags applied, validated again.
    pub fn config(&self) -> anyhow::Result<Config> {
        let mut cfg: Config = self.config.load()?;
        if let Some(s) = &self.source {
            set_source(&mut cfg, s);
        }
        if let Some(s) = &self.size {
            let (w, h) = parse_size(s).map_err(|m| anyhow::anyhow!("--size: {m}"))?;
            (cfg.source.width, cfg.source.height) = (w, h);
        }
        if let Some(f) = &self.format {
            cfg.source.format = Some(f.parse::<PixelFormat>().context("--format")?);
        }
        if self.fast {
            cfg.source.pacing = Pacing::Fast;
        }
        if self.no_xnnpack {
            cfg.model.xnnpack = false;
        }
        if let Some(r) = self.runtime {
            cfg.model.runtime = r;
        }
        if let Some(t) = self.threads {
            cfg.model.threads = super::detect::check_threads(t)?;
        }
        if let Some(j) = &self.journal {
            cfg.journal.path.clone_from(j);
        }
        if let Some(s) = &self.state_file {
            cfg.arming.state_file.clone_from(s);
        }
        let mut report = config::Report::default();
        config::Validate::validate(&cfg, "", &mut report);
        if !report.is_empty() {
            bail!(
                "{} with the command-line overrides: {report}",
                self.config.path().display()
            );
        }
        Ok(cfg)
    }
}

/// Points `cfg` at the source `--source` names: `stdin`, a V4L2 device, or a file.
pub(super) fn set_source(cfg: &mut Config, s: &str) {
    let s = s.strip_prefix("file:").unwrap_or(s);
    if s == "stdin" || s == "-" {
        cfg.source.kind = SourceKind::Stdin;
    } else if s.starts_with("/dev/video") || s.starts_with("/dev/v4l/") {
        cfg.source.kind = SourceKind::V4l2;
        cfg.source.device = s.into();
    } else {
        cfg.source.kind = SourceKind::File;
        cfg.source.path = Some(s.into());
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let cfg = args.config()?;
    let opts = Options {
        max_frames: args.max_frames,
        config_path: Some(args.config.path().to_owned()),
        progress: args.progress,
        count_allocations_from: None,
        tracks_out: args.tracks_out.clone(),
    };
    let ctl = Control {
        stop: signal::stop_flag(),
        reload: signal::reload_flag(),
    };
    // The process's panic hook, here rather than in the pipeline: a program that runs the
    // pipeline in-process (the tests) keeps its own.
    crate::alarm::pin::install_panic_hook(picket_image::contain::panic_is_contained);
    let s = pipeline::run(&cfg, &opts, ctl)
        .with_context(|| format!("picket run --config {}", args.config.path().display()))?;
    log::info!(
        "stopped: {} frames, {} inferences ({} skipped), {} events ({} dropped), {} alarms; \
         journal: {} committed, last id {}",
        s.frames,
        s.inferences,
        s.skipped,
        s.events,
        s.dropped,
        s.alarms,
        s.journal.committed,
        s.journal.last_id.map_or("-".to_owned(), |i| i.to_string()),
    );
    if s.journal.unwritten > 0 {
        bail!(
            "{} events could not be written to the journal",
            s.journal.unwritten
        );
    }
    Ok(())
}
