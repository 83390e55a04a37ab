//! The whole pipeline through the library, on synthetic or looped sources: the motion gate
//! skips a still scene, and the hot thread allocates nothing per frame, video tamper on or off.

use crate::util::{root, CLIP};
use jpeg_encoder::SamplingFactor;
use picket_testkit::media;

use media::Repeat;
use picket::config::{self, Config};
use picket::pipeline::{self, Control, Options, Summary};
use picket::source::file::StreamSource;
use picket::source::Pacing;
use picket_image::PixelFormat;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// A scratch directory for the journal and the arming file.
fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("picket-pipeline-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The demo config with `extra` appended, its journal and state file in `dir`.
fn demo_config(dir: &Path, extra: &str) -> Config {
    let text = std::fs::read_to_string(root().join("board/config/demo.toml")).unwrap() + extra;
    let mut cfg: Config = config::parse(&text, "demo.toml").unwrap_or_else(|e| panic!("{e}"));
    cfg.journal.path = dir.join("events.db");
    cfg.arming.state_file = dir.join("arming.toml");
    cfg
}

fn run(cfg: &Config, src: StreamSource, opts: &Options) -> Summary {
    let (stop, reload) = (AtomicBool::new(false), AtomicBool::new(false));
    let ctl = Control {
        stop: &stop,
        reload: &reload,
    };
    pipeline::run_with_source(cfg, Box::new(src), opts, ctl).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_still_scene_with_sensor_noise_skips_most_inferences() {
    let (w, h) = (320, 240);
    let still = media::yuyv(&media::scene(w, h, 0), w);
    // 100 frames of the same view, each with its own ±4 noise on luma: a sensor in a quiet room.
    let mut body = Vec::with_capacity(still.len() * 100);
    let mut seed = 0x2545_f491_u32;
    for _ in 0..100 {
        body.extend(still.iter().enumerate().map(|(i, &v)| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let noise = (seed % 9) as i16 - 4;
            if i % 2 == 0 {
                (i16::from(v) + noise).clamp(0, 255) as u8
            } else {
                v
            }
        }));
    }
    let reader = Repeat {
        head: Vec::new(),
        body,
        pos: 0,
        times: 1,
    };
    // At 10 fps the 10 s replay meets the 5 s keepalive once or twice.
    let src = StreamSource::new(
        "still",
        Box::new(reader),
        PixelFormat::Yuyv,
        (w, h),
        10.0,
        Pacing::Fast,
    );
    let dir = scratch("still");
    let cfg = demo_config(&dir, "\n[motion]\nenabled = true\n");
    let s = run(&cfg, src, &Options::default());
    assert_eq!(s.frames, 100);
    assert_eq!(s.inferences + s.skipped, 100);
    assert!(s.skipped >= 80, "{} of 100 inferences skipped", s.skipped);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_hot_thread_allocates_nothing_per_frame_over_300_frames() {
    const WARM_UP: u64 = 20;
    const COUNTED: u64 = 300;
    let clip = std::fs::read(root().join(CLIP)).unwrap();
    // The 80-frame clip, looped: people jump at each seam, which only makes more events.
    let reader = Repeat {
        head: Vec::new(),
        body: clip,
        pos: 0,
        times: 5,
    };
    let src = StreamSource::new(
        "clip",
        Box::new(reader),
        PixelFormat::Mjpeg,
        (384, 288),
        10.0,
        Pacing::Fast,
    );
    let dir = scratch("alloc");
    let cfg = demo_config(&dir, "");
    let opts = Options {
        max_frames: Some(WARM_UP + COUNTED),
        count_allocations_from: Some(WARM_UP),
        ..Options::default()
    };
    let s = run(&cfg, src, &opts);
    assert_eq!(s.frames, WARM_UP + COUNTED);
    assert!(s.events > 5, "the rules saw people: {s:?}");
    assert_eq!(s.allocations, Some(0), "{s:?}");
    let _ = std::fs::remove_dir_all(dir);
}

/// With `[tamper]` on, the hot thread still allocates nothing, through a tamper raised (with
/// its snapshot and alarm) and cleared inside the counted frames: the clip, 80 grey frames,
/// the clip again. The gate skips inference after the first frame, as tamper must work then.
#[test]
fn the_hot_thread_allocates_nothing_while_tamper_is_raised_and_cleared() {
    const WARM_UP: u64 = 20;
    let clip = std::fs::read(root().join(CLIP)).unwrap();
    let grey = media::jpeg(
        &vec![90u8; 384 * 288 * 3],
        384,
        288,
        85,
        SamplingFactor::F_2_2,
    );
    let mut body = clip.clone();
    (0..80).for_each(|_| body.extend_from_slice(&grey));
    body.extend_from_slice(&clip);
    body.extend_from_slice(&clip);
    let reader = Repeat {
        head: Vec::new(),
        body,
        pos: 0,
        times: 1,
    };
    let src = StreamSource::new(
        "clip",
        Box::new(reader),
        PixelFormat::Mjpeg,
        (384, 288),
        10.0,
        Pacing::Fast,
    );
    let dir = scratch("alloc-tamper");
    let mut cfg = demo_config(&dir, "\n[tamper]\nenabled = true\n");
    // No detection and no motion: inference on the first frame only.
    cfg.detector.threshold = 0.99;
    cfg.motion.enabled = true;
    cfg.motion.pixel_threshold = 255;
    cfg.motion.keepalive_s = 3600.0;
    let opts = Options {
        count_allocations_from: Some(WARM_UP),
        ..Options::default()
    };
    let s = run(&cfg, src, &opts);
    assert_eq!(s.frames, 320);
    assert_eq!(s.inferences, 1, "{s:?}");
    assert_eq!(s.allocations, Some(0), "{s:?}");
    let kinds: Vec<String> = crate::util::journal::events(&cfg.journal.path)
        .iter()
        .filter_map(|e| {
            let k = e["kind"].as_str()?;
            k.starts_with("tamper")
                .then(|| format!("{k} {}", e["detail"]["reason"]))
        })
        .collect();
    assert_eq!(kinds, ["tamper \"covered\"", "tamper_cleared \"covered\""]);
    let _ = std::fs::remove_dir_all(dir);
}
