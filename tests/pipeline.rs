//! The whole pipeline through the library, on synthetic or looped sources: the motion gate
//! skips a still scene, and the hot thread allocates nothing per frame.

use crate::util::{root, CLIP};
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
    // With an uplink, so that the box's state is kept too.
    let state = dir.join("state.json");
    let uplink = format!(
        "\n[uplink]\nurl = \"mqtt://127.0.0.1:1883\"\nstate_file = \"{}\"\nstate_json = \"{}\"\n",
        dir.join("cursor").display(),
        state.display()
    );
    let cfg = demo_config(&dir, &uplink);
    let opts = Options {
        max_frames: Some(WARM_UP + COUNTED),
        count_allocations_from: Some(WARM_UP),
        ..Options::default()
    };
    let s = run(&cfg, src, &opts);
    assert_eq!(s.frames, WARM_UP + COUNTED);
    assert!(s.events > 5, "the rules saw people: {s:?}");
    assert_eq!(s.allocations, Some(0), "{s:?}");
    let written = picket::live::BoxState::parse(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(written.zones.keys().collect::<Vec<_>>(), ["walkway"]);
    let _ = std::fs::remove_dir_all(dir);
}
