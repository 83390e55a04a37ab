//! `picket snapshot --out F.jpg`: one annotated frame from the configured camera (or a replay
//! source), for a first install while `picket run` is stopped: the people the detector finds
//! with their scores, every zone and line, the motion mask, and the status strip.

use super::ConfigArg;
use crate::arming::{clock_synchronised, Arming, StateFile};
use crate::detect::{Detections, Detector, SsdDetector};
use crate::pipeline::scene::{self, Pace, Scene, Scenery};
use crate::source::{Next, Status};
use anyhow::{bail, Context};
use picket_image::annotate::Mark;
use picket_image::{Preprocessor, RgbImage};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Where to write the JPEG.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Another source than the config's, as `picket run --source` takes it.
    #[arg(long, value_name = "PATH|/dev/videoN")]
    pub source: Option<String>,
    /// Frames to let pass first (a camera's first frames are often dark).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub skip: u32,
    /// Run without the XNNPACK delegate.
    #[arg(long)]
    pub no_xnnpack: bool,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let mut cfg = a.config.load()?;
    if let Some(s) = &a.source {
        super::run::set_source(&mut cfg, s);
    }
    if a.no_xnnpack {
        cfg.model.xnnpack = false;
    }
    let mut source = crate::source::open(&cfg.source).context("open the source")?;
    let mut det = SsdDetector::new(&cfg.model, &cfg.detector)?;
    let (w, h) = det.input_size();
    let mut pre = Preprocessor::new(w, h, cfg.source.roi_rect());
    let mut seen = 0u32;
    let frame = loop {
        match source.next()? {
            Next::Frame(f) if seen >= a.skip => break f,
            Next::Frame(_) => seen += 1,
            Next::Status(Status::End) => bail!("the source ended after {seen} frames"),
            Next::Status(s) => log::warn!("source: {s:?}"),
        }
    };
    pre.run(&frame, det.input())
        .with_context(|| format!("frame {}", frame.sequence))?;
    let t = Instant::now();
    det.invoke()?;
    let infer_ms = t.elapsed().as_secs_f32() * 1000.0;
    let mut dets = Detections::with_capacity(cfg.detector.max_detections);
    det.decode(&mut dets)?;
    let roi = cfg.source.roi_rect();
    let mut scene = Scene {
        clock_synced: clock_synchronised(),
        ..Scene::default()
    };
    for d in dets.as_slice() {
        let rect = roi.map_or(d.bbox, |r| crate::pipeline::between::from_roi(&r, &d.bbox));
        let mark = Mark {
            rect,
            track: None,
            score: d.score,
            firing: false,
        };
        if scene.marks.push(mark).is_err() {
            break;
        }
    }
    let state = StateFile::load(&cfg.arming.state_file)?;
    let now = crate::journal::time_now_ms();
    scene.armed = Arming::new(&cfg.arming)?
        .decide(state.mode, now, scene.clock_synced)
        .0;
    let view = pre
        .rgb(&frame)
        .with_context(|| format!("frame {} as RGB", frame.sequence))?;
    let mut img = RgbImage::from_vec(view.width, view.height, view.data.to_vec())
        .context("the frame's pixels")?;
    let mut scenery = Scenery::of(&cfg);
    scenery.pace = Pace { fps: 0.0, infer_ms };
    let overlay = scenery.overlay(&scene, None);
    let jpeg = scene::annotate_and_encode(&mut img, &overlay)?;
    std::fs::write(&a.out, &jpeg).with_context(|| format!("write {}", a.out.display()))?;
    eprintln!(
        "wrote {} ({}×{}, {} people, {infer_ms:.0} ms inference)",
        a.out.display(),
        img.width(),
        img.height(),
        scene.marks.len()
    );
    Ok(())
}
