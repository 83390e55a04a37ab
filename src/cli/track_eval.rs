//! `picket track-eval --det FILE --out FILE --fps F [--size WxH]`: run the tracker over a
//! MOTChallenge detection file and write its tracks as a MOTChallenge result file, so the
//! tracker can be scored offline against ground truth (`scripts/eval_tracker.py`).
//!
//! Every frame from 1 to the last one in the file is fed to the tracker, empty or not, at
//! `(frame − 1) / fps` seconds. A track is written for a frame when it is confirmed and was
//! matched in that frame, with its filtered box.

use super::ConfigArg;
use crate::detect::Detections;
use crate::track::mot::{self, Scale};
use crate::track::{TrackState, Tracker};
use anyhow::{bail, Context};
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// MOTChallenge detections: `frame,-1,x,y,w,h,score,...` per line.
    #[arg(long)]
    pub det: PathBuf,
    /// Where to write the tracks, as `frame,id,x,y,w,h,score,-1,-1,-1`.
    #[arg(long)]
    pub out: PathBuf,
    /// Frames per second of the sequence; sets the time between frames.
    #[arg(long)]
    pub fps: f64,
    /// The frame size in pixels, `WIDTH`x`HEIGHT`, when the file is in pixels (as benchmark
    /// files are). Without it, boxes are taken as normalised already, and a coordinate above 1
    /// is an error.
    #[arg(long, value_parser = parse_size)]
    pub size: Option<Scale>,
    /// Only when a config file is given, its `[tracker]` section replaces the defaults, and its
    /// `[detector] threshold` is taken as the floor of the file's scores, which unset tracker
    /// thresholds follow.
    #[command(flatten)]
    pub config: ConfigArg,
}

fn parse_size(s: &str) -> Result<Scale, String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("`{s}` is not WIDTHxHEIGHT"))?;
    let dim = |v: &str| match v.trim().parse::<u32>() {
        Ok(n) if n > 0 => Ok(n as f32),
        _ => Err(format!("`{v}` in `{s}` is not a positive pixel count")),
    };
    Ok(Scale {
        width: dim(w)?,
        height: dim(h)?,
    })
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if !(args.fps.is_finite() && args.fps > 0.0) {
        bail!("--fps {} must be a positive number", args.fps);
    }
    let cfg = args.config.load_or_defaults()?;
    // The file's scores are read as the detector's: its `[detector] threshold` is their floor.
    let (floor, cfg) = (cfg.detector.threshold, cfg.tracker);
    let scale = args.size.unwrap_or(Scale::NORMALISED);
    let origin = args.det.display().to_string();
    let file = File::open(&args.det).with_context(|| format!("open {origin}"))?;
    let mut rows = mot::read_detections(BufReader::new(file), &origin, scale)?;
    rows.sort_by_key(|r| r.frame);

    let out = File::create(&args.out).with_context(|| format!("create {}", args.out.display()))?;
    let mut out = BufWriter::new(out);
    let last = rows.last().map_or(0, |r| r.frame);
    let mut dets = Detections::with_capacity(cfg.max_detections);
    let mut tracker = Tracker::new(cfg, floor);
    let mut next = rows.iter().peekable();
    let (mut written, mut ids) = (0u64, 0u64);
    for frame in 1..=last {
        dets.clear();
        while let Some(r) = next.next_if(|r| r.frame == frame) {
            dets.push(r.det);
        }
        let t = Duration::from_secs_f64(f64::from(frame - 1) / args.fps);
        for k in tracker.update(&dets, t) {
            if k.state == TrackState::Confirmed {
                mot::write_result(&mut out, frame, k.id, &k.bbox, k.score, scale)
                    .with_context(|| format!("write {}", args.out.display()))?;
                written += 1;
                ids = ids.max(k.id);
            }
        }
    }
    out.flush()
        .with_context(|| format!("write {}", args.out.display()))?;
    let s = tracker.stats();
    log::info!(
        "{last} frames, {} detections, {written} track boxes written (ids up to {ids}); \
         dropped {} detections, refused {} births",
        rows.len(),
        s.dropped_detections,
        s.refused_births
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_or_explain() {
        assert_eq!(
            parse_size("640x480"),
            Ok(Scale {
                width: 640.0,
                height: 480.0
            })
        );
        assert!(parse_size("640").unwrap_err().contains("WIDTHxHEIGHT"));
        assert!(parse_size("0x480").unwrap_err().contains("positive"));
    }
}
