//! `picket eval-detect --frames DIR|CLIP --gt gt.txt [-c CONFIG]`: run the detector as the
//! running box would (the config's `[detector]` section: threshold, tiles, roi) over labelled
//! frames and score it: AP at IoU 0.5 and 0.3, recall at 0.5 and 1 false box per frame, and the
//! time a frame takes.
//!
//! Frames are a directory of JPEG or PNG images, in name order, or one MJPEG file (concatenated
//! JPEGs, as `scripts/make-clip.sh` writes); frame `n` of the labels (MOTChallenge `gt.txt`:
//! `frame,id,x,y,w,h,flag,...` in pixels, frames from 1, flag 0 an "ignore" region) is the
//! `n`th image. Labels of frames past the last image are left out.

use super::detect::{detect_image, ModelArgs};
use crate::detect::ap::{Curve, Scored, Truth};
use crate::detect::tiles::TileSpec;
use crate::detect::{Detections, SsdDetector, Tiler};
use crate::track::mot::{self, Scale};
use anyhow::{bail, Context};
use picket_image::jpeg::{self, Extent, JpegDecoder};
use picket_image::{still, RgbImage};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A directory of JPEG or PNG frames (name order), or an MJPEG file.
    #[arg(long, value_name = "DIR|CLIP")]
    pub frames: PathBuf,
    /// The labels, MOTChallenge `gt.txt` in pixels.
    #[arg(long, value_name = "FILE")]
    pub gt: PathBuf,
    /// Overrides the config's `[detector] tiles`.
    #[arg(long, value_name = "GRID")]
    pub tiles: Option<TileSpec>,
    #[command(flatten)]
    pub model: ModelArgs,
}

/// The frames, one at a time.
enum Frames {
    Images(std::vec::IntoIter<PathBuf>),
    Clip {
        data: Vec<u8>,
        pos: usize,
        dec: Box<JpegDecoder>,
    },
}

impl Frames {
    fn open(path: &Path) -> anyhow::Result<Self> {
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("read {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
                    ["jpg", "jpeg", "png"].contains(&ext.to_ascii_lowercase().as_str())
                })
                .collect();
            files.sort();
            if files.is_empty() {
                bail!("{}: no JPEG or PNG frames in it", path.display());
            }
            return Ok(Frames::Images(files.into_iter()));
        }
        let data = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
        Ok(Frames::Clip {
            data,
            pos: 0,
            dec: Box::new(JpegDecoder::new()),
        })
    }

    /// The next frame into `img`; false at the end.
    fn next(&mut self, img: &mut RgbImage, origin: &Path) -> anyhow::Result<bool> {
        match self {
            Frames::Images(files) => match files.next() {
                Some(p) => {
                    *img = still::load(&p)?;
                    Ok(true)
                }
                None => Ok(false),
            },
            Frames::Clip { data, pos, dec } => {
                let rest = &data[*pos..];
                if rest.is_empty() {
                    return Ok(false);
                }
                let Extent::Complete(n) = jpeg::scan_length(rest) else {
                    bail!(
                        "{}: byte {pos}: not a complete JPEG (an MJPEG clip is concatenated JPEGs)",
                        origin.display()
                    );
                };
                dec.decode(&rest[..n], img)
                    .with_context(|| format!("{}: byte {pos}", origin.display()))?;
                *pos += n;
                Ok(true)
            }
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let (model, mut det_cfg) = args.model.sections()?;
    if let Some(t) = args.tiles {
        det_cfg.tiles = t;
    }
    let roi = args.model.look_at()?;
    let mut det = SsdDetector::new(&model, &det_cfg)?;
    let mut tiler = Tiler::new(&det_cfg, roi);
    let mut found = Detections::with_capacity(det_cfg.max_detections);
    let mut frames = Frames::open(&args.frames)?;
    let (mut img, mut dets, mut n, mut took) = (RgbImage::default(), Vec::new(), 0u32, Vec::new());
    let mut size = None;
    while frames.next(&mut img, &args.frames)? {
        n += 1;
        let t0 = Instant::now();
        detect_image(&mut det, &mut tiler, roi, &img, &mut found)
            .with_context(|| format!("{}: frame {n}", args.frames.display()))?;
        took.push(t0.elapsed());
        size.get_or_insert((img.width(), img.height()));
        dets.extend(found.as_slice().iter().map(|d| Scored {
            frame: n,
            bbox: d.bbox,
            score: d.score,
        }));
    }
    let Some((w, h)) = size else {
        bail!("{}: no frames", args.frames.display());
    };
    let scale = Scale {
        width: w as f32,
        height: h as f32,
    };
    let file =
        std::fs::File::open(&args.gt).with_context(|| format!("read {}", args.gt.display()))?;
    let origin = args.gt.display().to_string();
    let truths: Vec<Truth> = mot::read_detections(std::io::BufReader::new(file), &origin, scale)?
        .into_iter()
        .filter(|t| t.frame <= n)
        .map(|t| Truth {
            frame: t.frame,
            bbox: t.det.bbox,
            ignore: t.det.score == 0.0,
        })
        .collect();
    let (c50, c30) = (
        Curve::new(&dets, &truths, 0.5),
        Curve::new(&dets, &truths, 0.3),
    );
    took.sort_unstable();
    let median = took.get(took.len() / 2).copied().unwrap_or(Duration::ZERO);
    println!(
        "frames {n} ({w}×{h}), people {}, detections {}, tiles {}, threshold {}",
        c50.people,
        dets.len(),
        det_cfg.tiles,
        det_cfg.threshold
    );
    println!("AP@0.5 {:.3}", c50.average_precision());
    println!("AP@0.3 {:.3}", c30.average_precision());
    println!(
        "recall@0.5 at 0.5 FP/frame {:.3}, at 1 FP/frame {:.3}",
        c50.recall_at_false(0.5, n as usize),
        c50.recall_at_false(1.0, n as usize)
    );
    println!("time a frame: median {:.1} ms", median.as_secs_f64() * 1e3);
    Ok(())
}
