//! The whole pipeline through the library, on synthetic or looped sources: the motion gate
//! skips a still scene, the hot thread allocates nothing per frame (video tamper on or off, the
//! live view on with nobody watching), and a camera outage shows in the box's state.

use crate::util::{root, CLIP};
use jpeg_encoder::SamplingFactor;
use picket_testkit::media;

use media::Repeat;
use picket::config::{self, Config};
use picket::pipeline::{self, Control, Options, Summary};
use picket::source::file::StreamSource;
use picket::source::Pacing;
use picket::source::{FrameSource, Next, SourceError, SourceInfo, SourceStats, Status};
use picket_image::PixelFormat;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

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

/// `body` (a stream of frames of `format` and `size`) played `times` over at 10 fps, as fast as
/// the pipeline takes it.
fn looped(
    name: &str,
    body: Vec<u8>,
    times: usize,
    format: PixelFormat,
    size: (u32, u32),
) -> StreamSource {
    let reader = Repeat {
        head: Vec::new(),
        body,
        pos: 0,
        times,
    };
    StreamSource::new(name, Box::new(reader), format, size, 10.0, Pacing::Fast)
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
    // At 10 fps the 10 s replay meets the 5 s keepalive once or twice.
    let src = looped("still", body, 1, PixelFormat::Yuyv, (w, h));
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
    let src = looped("clip", clip, 5, PixelFormat::Mjpeg, (384, 288));
    let dir = scratch("alloc");
    // With an uplink, so that the box's state is kept too, and the live view on with nobody
    // watching.
    let state = dir.join("state.json");
    let uplink = format!(
        "\n[uplink]\nurl = \"mqtt://127.0.0.1:1883\"\nstate_file = \"{}\"\nstate_json = \"{}\"\n\
         [preview]\nsocket = \"{}\"\n",
        dir.join("cursor").display(),
        state.display(),
        dir.join("preview.sock").display(),
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

/// What [`Outage`] read of the box's state file during the outage.
type Seen = std::sync::Arc<std::sync::Mutex<Vec<picket::live::BoxState>>>;

/// The clip, with an outage after `before` frames: `Lost`, then `Unavailable` for `down`
/// (reading the box's state file meanwhile, as the uplink would), then `Back`.
struct Outage {
    inner: StreamSource,
    frames: u32,
    before: u32,
    down: Duration,
    lost_at: Option<Instant>,
    back: bool,
    state: PathBuf,
    seen: Seen,
}

impl FrameSource for Outage {
    fn next(&mut self) -> Result<Next<'_>, SourceError> {
        let device = PathBuf::from("/dev/video9");
        if self.frames == self.before && !self.back {
            let Some(at) = self.lost_at else {
                self.lost_at = Some(Instant::now());
                let cause = std::io::Error::other("unplugged");
                return Ok(Next::Status(Status::Lost { device, cause }));
            };
            if at.elapsed() < self.down {
                std::thread::sleep(Duration::from_millis(100));
                let bytes = std::fs::read(&self.state).unwrap_or_default();
                if let Ok(s) = picket::live::BoxState::parse(&bytes) {
                    self.seen.lock().unwrap().push(s);
                }
                return Ok(Next::Status(Status::Unavailable {
                    device,
                    attempt: 1,
                    retry_in: Duration::ZERO,
                    cause: "gone".into(),
                }));
            }
            self.back = true;
            let down = at.elapsed();
            return Ok(Next::Status(Status::Back { device, down }));
        }
        self.frames += 1;
        self.inner.next()
    }

    fn info(&self) -> &SourceInfo {
        self.inner.info()
    }

    fn stats(&self) -> SourceStats {
        self.inner.stats()
    }
}

#[test]
fn a_lost_camera_and_its_alarm_show_in_the_box_s_state_during_the_outage() {
    let clip = std::fs::read(root().join(CLIP)).unwrap();
    let inner = looped("clip", clip, 1, PixelFormat::Mjpeg, (384, 288));
    let dir = scratch("outage");
    let state = dir.join("state.json");
    let extra = format!(
        "\n[[outputs]]\nname = \"light\"\nkind = \"log\"\n\n[[alarms]]\nrules = [\"camera_lost\"]\n\
         outputs = [\"light\"]\nhold_s = 60\n\n[uplink]\nurl = \"mqtt://127.0.0.1:1883\"\n\
         state_file = \"{}\"\nstate_json = \"{}\"\n",
        dir.join("cursor").display(),
        state.display()
    );
    let cfg = demo_config(&dir, &extra);
    let seen = Seen::default();
    let src = Outage {
        inner,
        frames: 0,
        before: 10,
        down: Duration::from_millis(2500),
        lost_at: None,
        back: false,
        state: state.clone(),
        seen: seen.clone(),
    };
    let (stop, reload) = (AtomicBool::new(false), AtomicBool::new(false));
    let ctl = Control {
        stop: &stop,
        reload: &reload,
    };
    pipeline::run_with_source(&cfg, Box::new(src), &Options::default(), ctl)
        .unwrap_or_else(|e| panic!("{e}"));
    let seen = seen.lock().unwrap();
    let during = seen.last().expect("a state file during the outage");
    assert!(!during.camera_ok, "{during:?}");
    assert!(
        during.outputs_on.iter().any(|o| o == "light"),
        "the lost camera's alarm: {during:?}"
    );
    // Before the outage the camera was fine; after it, it is again.
    assert!(
        seen.first().is_some_and(|s| s.camera_ok),
        "{:?}",
        seen.first()
    );
    let after = picket::live::BoxState::parse(&std::fs::read(&state).unwrap()).unwrap();
    assert!(after.camera_ok, "{after:?}");
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
    let src = looped("clip", body, 1, PixelFormat::Mjpeg, (384, 288));
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
