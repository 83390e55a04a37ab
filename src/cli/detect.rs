//! `picket detect IMAGE...`: run the detector on still images and print what it finds, as text
//! or JSON, optionally writing copies with the boxes drawn.

use super::ConfigArg;
use crate::detect::config::{check_fraction, DetectorConfig, ModelConfig, RuntimeChoice};
use crate::detect::tiles::{from_region, TileSpec};
use crate::detect::{Detections, Detector, SsdDetector, Tiler};
use anyhow::{bail, Context};
use picket_geom::{NormRect, PixelRect};
use picket_image::resize::{CropBox, Resizer};
use picket_image::{still, RgbImage};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// JPEG or PNG images.
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Minimum score, in (0, 1]; default from the config, else 0.35.
    #[arg(long)]
    pub threshold: Option<f32>,
    /// `auto`, `1x1` (the whole frame only), `2x1`, `2x2`, …; default from the config, else
    /// `auto` (see `[detector] tiles`).
    #[arg(long, value_name = "GRID")]
    pub tiles: Option<TileSpec>,
    /// Print one JSON array instead of text.
    #[arg(long)]
    pub json: bool,
    /// Write each image with its boxes drawn, as DIR/STEM.jpg.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// The model options `detect` and `bench` share. Flags override the config file's sections.
#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// The `.tflite` model; default: the shipped one.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Its label map; default: the shipped one.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Inference threads; default from the config, else 2.
    #[arg(long)]
    pub threads: Option<u16>,
    /// Run without the XNNPACK delegate (TFLite's reference kernels).
    #[arg(long)]
    pub no_xnnpack: bool,
    /// Which library runs the model; default from the config, else auto.
    #[arg(long, value_enum)]
    pub runtime: Option<RuntimeChoice>,
    /// `[model]` and `[detector]` come from the config file only when one is given.
    #[command(flatten)]
    pub config: ConfigArg,
}

impl ModelArgs {
    /// The effective sections: the config file's (or the defaults), then the flags.
    pub fn sections(&self) -> anyhow::Result<(ModelConfig, DetectorConfig)> {
        let cfg = self.config.load_or_defaults()?;
        let mut m = cfg.model;
        if self.model.is_some() {
            m.path.clone_from(&self.model);
            m.labels = None;
        }
        if self.labels.is_some() {
            m.labels.clone_from(&self.labels);
        }
        if let Some(t) = self.threads {
            m.threads = check_threads(t)?;
        }
        if self.no_xnnpack {
            m.xnnpack = false;
        }
        if let Some(r) = self.runtime {
            m.runtime = r;
        }
        Ok((m, cfg.detector))
    }
}

impl ModelArgs {
    /// Where the config says to look (`[source] roi`, or `[detector] roi = "zones"`); the
    /// whole image without a config.
    pub fn look_at(&self) -> anyhow::Result<Option<NormRect>> {
        Ok(self.config.load_or_defaults()?.detector_roi())
    }
}

/// Detects in `img` as the pipeline would: the whole image (or `roi` of it) unless only tiles
/// are wanted, then the tiles, merged; boxes normalised to the whole image.
pub(super) fn detect_image(
    det: &mut SsdDetector,
    tiler: &mut Tiler,
    roi: Option<NormRect>,
    img: &RgbImage,
    found: &mut Detections,
) -> anyhow::Result<()> {
    let (w, h) = det.input_size();
    let (iw, ih) = (img.width(), img.height());
    let tiled = tiler.plan((iw, ih), (w, h))?;
    found.clear();
    if !tiled || tiler.whole_frame() {
        let crop = roi.map_or(CropBox::full(iw, ih), |r| CropBox::from_roi(&r, iw, ih));
        Resizer::new(iw, ih, crop, w, h)
            .and_then(|mut r| r.resize(img.view(), det.input()))
            .context("resize")?;
        det.detect(found)?;
        if let Some(r) = &roi {
            for d in found.as_mut_slice() {
                d.bbox = from_region(r, &d.bbox);
            }
        }
    }
    if tiled {
        tiler.run(det, img.view(), found).context("tiles")?;
    }
    Ok(())
}

/// `--threads`, checked against the model's limit.
pub fn check_threads(t: u16) -> anyhow::Result<u16> {
    if !(1..=crate::detect::config::MAX_THREADS).contains(&t) {
        bail!(
            "--threads: must be between 1 and {}",
            crate::detect::config::MAX_THREADS
        );
    }
    Ok(t)
}

#[derive(Serialize)]
struct ImageReport<'a> {
    image: &'a Path,
    width: u32,
    height: u32,
    detections: Vec<Found>,
}

#[derive(Serialize)]
struct Found {
    label: String,
    class: u16,
    score: f32,
    /// Normalised to the image.
    bbox: NormRect,
    pixels: PixelRect,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let (model, mut det_cfg) = args.model.sections()?;
    if let Some(t) = args.threshold {
        check_fraction(t).map_err(|m| anyhow::anyhow!("--threshold: {m}"))?;
        det_cfg.threshold = t;
    }
    if let Some(t) = args.tiles {
        det_cfg.tiles = t;
    }
    let mut det = SsdDetector::new(&model, &det_cfg)?;
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    let mut found = Detections::with_capacity(det_cfg.max_detections);
    let roi = args.model.look_at()?;
    let mut tiler = Tiler::new(&det_cfg, roi);
    let mut reports = Vec::new();
    for path in &args.images {
        let mut img = still::load(path)?;
        let t0 = Instant::now();
        detect_image(&mut det, &mut tiler, roi, &img, &mut found)
            .with_context(|| format!("detect in {}", path.display()))?;
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        let labels = det.labels();
        let list: Vec<Found> = found
            .as_slice()
            .iter()
            .map(|d| Found {
                label: labels.get(usize::from(d.class)).unwrap_or("?").to_owned(),
                class: d.class,
                score: d.score,
                bbox: d.bbox,
                pixels: d.bbox.to_pixels(img.width(), img.height()),
            })
            .collect();
        if !args.json {
            println!(
                "{}: {}×{}, {} found in {ms:.1} ms",
                path.display(),
                img.width(),
                img.height(),
                list.len()
            );
            for f in &list {
                let p = f.pixels;
                println!(
                    "  {:<12} {:.3}  x {}..{}  y {}..{}",
                    f.label, f.score, p.x0, p.x1, p.y0, p.y1
                );
            }
        }
        if let Some(dir) = &args.out {
            let thick = (img.width().min(img.height()) / 200).max(2);
            for f in &list {
                img.draw_rect(&f.bbox, thick, [255, 32, 32]);
            }
            let stem = path.file_stem().unwrap_or_default().to_string_lossy();
            let out = dir.join(format!("{stem}.jpg"));
            let jpeg = img.to_jpeg(90)?;
            std::fs::write(&out, jpeg).with_context(|| format!("write {}", out.display()))?;
        }
        reports.push(ImageReport {
            image: path,
            width: img.width(),
            height: img.height(),
            detections: list,
        });
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(())
}
