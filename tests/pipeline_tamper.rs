//! Video tamper end to end: clips made from the committed footage by image operations (a hand
//! growing over the lens, a grey card, a torch, the camera turned a quarter frame, the lens
//! defocused), run through `picket run --fast` with `[tamper]` on, each raising `tamper` with the
//! right `detail.reason` within `hold_s` + 1 s of the change, sounding the output mapped to
//! `video_tamper`, and `tamper_cleared` once the view returns. And what must raise nothing: a
//! 30 s dusk ramp to 20% and back with a 0.5 s infrared flash at its bottom, and something
//! filling half the view for 2 s (the untouched demo clip is `tests/pipeline_e2e.rs`'s).
//!
//! The reason clips gate motion so that inference runs on the first frame only: tamper is
//! judged on the gate's luma grid whether or not inference runs. The clips' frames are
//! stamped at 10 fps; the tamper log line names the frame and its stamp, from which the hold is
//! measured.

use crate::util::journal::{run_fast, Run};
use crate::util::{root, Scratch, CLIP};
use jpeg_encoder::SamplingFactor;
use picket_image::jpeg::{self, Extent, JpegDecoder};
use picket_image::RgbImage;
use picket_testkit::media;
use std::path::Path;

const FPS: f64 = 10.0;
/// `[tamper]`'s defaults, which the configs here keep.
const HOLD_S: f64 = 3.0;
const CLEAR_S: f64 = 2.0;
/// The reason clips: the view as it is until this frame, tampered with until [`BACK`], then as
/// it is again until [`LEN`].
const ONSET: usize = 50;
const BACK: usize = 110;
const LEN: usize = 160;

/// Inference on the first frame only: no cell can differ from the gate's background by more
/// than 255, its keepalive is an hour, and no detection reaches the threshold, so no track keeps
/// inference going. Tamper on, and the output mapped to `video_tamper`, a `log` output.
const GATED: &str = "[source]\nfps = 10\n\n\
    [detector]\nthreshold = 0.99\n\n\
    [motion]\nenabled = true\npixel_threshold = 255\nkeepalive_s = 3600\n\n\
    [tamper]\nenabled = true\n\n\
    [[outputs]]\nname = \"siren\"\nkind = \"log\"\n\n\
    [[alarms]]\nrules = [\"video_tamper\"]\noutputs = [\"siren\"]\nhold_s = 1\ncooldown_s = 0\n\n\
    [health]\nfps_floor = 0.0\n";

/// The committed clip's 80 frames.
fn footage() -> Vec<RgbImage> {
    let clip = std::fs::read(root().join(CLIP)).unwrap();
    let (mut rest, mut frames) = (&clip[..], Vec::new());
    let mut dec = JpegDecoder::new();
    while let Extent::Complete(n) = jpeg::scan_length(rest) {
        let mut rgb = RgbImage::default();
        dec.decode(&rest[..n], &mut rgb).unwrap();
        frames.push(rgb);
        rest = &rest[n..];
    }
    assert_eq!(frames.len(), 80);
    frames
}

/// Frame `i` of the footage played forwards and backwards in turn, so that a clip of any
/// length moves on without a jump.
fn pingpong(f: &[RgbImage], i: usize) -> RgbImage {
    let n = f.len();
    let k = i % (2 * n);
    f[if k < n { k } else { 2 * n - 1 - k }].clone()
}

/// `img` with `op` applied to each pixel's RGB, given its position.
fn per_pixel(img: &RgbImage, op: impl Fn(usize, usize, [u8; 3]) -> [u8; 3]) -> RgbImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut out = img.clone();
    let px = out.as_bytes_mut();
    for y in 0..h {
        for x in 0..w {
            let i = 3 * (y * w + x);
            let p = op(x, y, [px[i], px[i + 1], px[i + 2]]);
            px[i..i + 3].copy_from_slice(&p);
        }
    }
    out
}

/// A dark, softly shaded ellipse ("a hand") from the bottom-left corner over a `cover`
/// fraction of the diagonal; at 1.0 it leaves only a sliver of the top-right corner.
fn hand(img: &RgbImage, cover: f64) -> RgbImage {
    let (w, h) = (f64::from(img.width()), f64::from(img.height()));
    per_pixel(img, |x, y, p| {
        let (u, v) = (x as f64 / w, 1.0 - y as f64 / h);
        if (u * u + v * v).sqrt() < 1.35 * cover {
            let l = (14.0 + 10.0 * (u + v)) as u8;
            [l + 4, l, l]
        } else {
            p
        }
    })
}

/// The view panned by a quarter frame: every row moved left by a quarter of its width, the
/// right edge filled from the left.
fn turned(img: &RgbImage) -> RgbImage {
    let w = img.width() as usize;
    let src = img.as_bytes();
    per_pixel(img, |x, y, _| {
        let i = 3 * (y * w + (x + w / 4) % w);
        [src[i], src[i + 1], src[i + 2]]
    })
}

/// A strong blur: a box blur of radius `r`, twice each way (about a Gaussian of σ 0.8 r),
/// by running sums along each row and column.
fn blurred(img: &RgbImage, r: usize) -> RgbImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut a: Vec<f32> = img.as_bytes().iter().map(|&v| f32::from(v)).collect();
    let mut line = Vec::new();
    for pass in 0..4 {
        // Along rows (step 3 bytes), then along columns (step one row).
        let (lines, len, step, gap) = if pass % 2 == 0 {
            (h, w, 3, 3 * w)
        } else {
            (w, h, 3 * w, 3)
        };
        for l in 0..lines {
            for c in 0..3 {
                let at = |k: usize| l * gap + k * step + c;
                line.clear();
                line.push(0.0f32);
                for k in 0..len {
                    line.push(line[k] + a[at(k)]);
                }
                for k in 0..len {
                    let (lo, hi) = (k.saturating_sub(r), (k + r).min(len - 1));
                    a[at(k)] = (line[hi + 1] - line[lo]) / (hi - lo + 1) as f32;
                }
            }
        }
    }
    let mut out = img.clone();
    for (o, v) in out.as_bytes_mut().iter_mut().zip(a) {
        *o = v.round() as u8;
    }
    out
}

/// `img` with its brightness scaled by `k`.
fn scaled(img: &RgbImage, k: f64) -> RgbImage {
    per_pixel(img, |_, _, p| {
        p.map(|c| (f64::from(c) * k).round().min(255.0) as u8)
    })
}

/// Writes `frames` as concatenated JPEGs.
fn mjpeg(path: &Path, frames: impl Iterator<Item = RgbImage>) {
    let mut out = Vec::new();
    for f in frames {
        let (w, h) = (f.width(), f.height());
        out.extend(media::jpeg(f.as_bytes(), w, h, 85, SamplingFactor::F_2_2));
    }
    std::fs::write(path, out).unwrap();
}

impl Run {
    fn of(&self, kind: &str) -> Vec<&serde_json::Value> {
        self.events.iter().filter(|e| e["kind"] == kind).collect()
    }

    /// The stamps (s) of the frames that raised video `kind`, with the reasons logged.
    fn logged(&self, kind: &str) -> Vec<(f64, String)> {
        let mark = format!(" s: video {kind}: ");
        self.stderr
            .lines()
            .filter_map(|l| {
                let (head, tail) = l.split_once(&mark)?;
                let stamp = head.rsplit("stamped ").next()?.parse().ok()?;
                Some((stamp, tail.split(' ').next()?.to_owned()))
            })
            .collect()
    }
}

/// Runs `picket run --fast` with `config` on `source` (`args` say what it is) and reads back
/// the journal.
fn run(dir: &Scratch, config: &str, source: &Path, args: &[&str]) -> Run {
    let cfg = dir.path("picket.toml");
    std::fs::write(&cfg, config).unwrap();
    // The judge's statistics of every frame, for a failure to show.
    let log = "info,picket::pipeline::tamper=debug";
    run_fast(&cfg, &dir.0, source, args, log)
}

/// A reason clip: the footage, with `op` applied to frames `ONSET..BACK` (`op` is given the
/// frame and its index from the onset). It must raise `reason` within `hold_s` + 1 s of the
/// onset, sound the siren, and clear within `clear_s` + 1 s of the view's return, with
/// inference skipped on nearly every frame.
fn assert_reason(tag: &str, reason: &str, op: impl Fn(&RgbImage, usize) -> RgbImage) {
    let dir = Scratch::new(&format!("tamper-{tag}"));
    let f = footage();
    let path = dir.path("clip.mjpeg");
    mjpeg(
        &path,
        (0..LEN).map(|i| {
            let frame = pingpong(&f, i);
            if (ONSET..BACK).contains(&i) {
                op(&frame, i - ONSET)
            } else {
                frame
            }
        }),
    );
    let run = run(&dir, GATED, &path, &[]);
    let ctx = &run.stderr;
    for l in ctx.lines().filter(|l| l.contains(" s: video tamper")) {
        eprintln!("{tag}: {l}");
    }

    let raised = run.of("tamper");
    assert_eq!(raised.len(), 1, "{ctx}");
    assert_eq!(raised[0]["detail"]["reason"], reason, "{ctx}");
    assert!(
        raised[0]["snapshot_bytes"].as_i64().unwrap_or(0) > 1000,
        "{ctx}"
    );
    let cleared = run.of("tamper_cleared");
    assert_eq!(cleared.len(), 1, "{ctx}");
    assert_eq!(cleared[0]["detail"]["reason"], reason, "{ctx}");
    assert!(cleared[0]["id"].as_i64() > raised[0]["id"].as_i64());

    let (onset, back) = (ONSET as f64 / FPS, BACK as f64 / FPS);
    let up = run.logged("tamper");
    assert_eq!(up.len(), 1, "{ctx}");
    assert_eq!(up[0].1, reason, "{ctx}");
    let after = up[0].0 - onset;
    assert!(
        (HOLD_S - 0.05..=HOLD_S + 1.0).contains(&after),
        "raised {after} s after: {ctx}"
    );
    let down = run.logged("tamper_cleared");
    assert_eq!(down.len(), 1, "{ctx}");
    let after = down[0].0 - back;
    assert!(
        (0.0..=CLEAR_S + 1.0).contains(&after),
        "cleared {after} s after: {ctx}"
    );
    // The journal's monotonic times agree with the frames' stamps.
    let held_ms = cleared[0]["mono_ms"].as_i64().unwrap() - raised[0]["mono_ms"].as_i64().unwrap();
    assert!(
        ((down[0].0 - up[0].0) * 1000.0 - held_ms as f64).abs() <= 2.0,
        "{held_ms} ms"
    );

    // The mapped output sounded, and inference was skipped on all but a few frames.
    assert!(!run.of("alarm_on").is_empty(), "{ctx}");
    assert!(ctx.contains("output siren: ON"), "{ctx}");
    let skipped = ctx
        .split_once(" skipped)")
        .and_then(|(h, _)| h.rsplit('(').next()?.parse::<usize>().ok());
    assert_eq!(skipped, Some(LEN - 1), "{ctx}");
}

#[test]
fn tamper_a_hand_growing_over_the_lens_is_covered() {
    // Over 1 s the hand grows from a corner to cover all but a sliver (over 90% of the view).
    assert_reason("hand", "covered", |f, k| {
        hand(f, (k as f64 / 10.0).min(1.0))
    });
}

#[test]
fn tamper_a_uniform_grey_view_is_covered() {
    assert_reason("grey", "covered", |f, _| {
        per_pixel(f, |_, _, _| [90, 90, 90])
    });
}

#[test]
fn tamper_a_torch_is_blinded() {
    assert_reason("torch", "blinded", |f, _| {
        per_pixel(f, |_, _, p| {
            p.map(|c| (u16::from(c) * 3 + 150).min(255) as u8)
        })
    });
}

#[test]
fn tamper_the_camera_turned_a_quarter_frame_is_moved() {
    assert_reason("turned", "moved", |f, _| turned(f));
}

#[test]
fn tamper_a_strong_blur_is_defocused() {
    assert_reason("blur", "defocused", |f, _| blurred(f, 10));
}

/// Dusk: 5 s of day, a 30 s ramp down to 20% brightness, an infrared switch-over's 0.5 s white
/// flash, and a 30 s ramp back up; then something 2× nearer than the walkway's people filling
/// the left half of the view for 2 s. Raw YUYV at 10 fps, 68 s; nothing may be raised.
#[test]
fn tamper_dusk_a_flash_and_a_near_passer_by_raise_nothing() {
    let dir = Scratch::new("tamper-dusk");
    let f = footage();
    let (w, h) = (f[0].width() as usize, f[0].height() as usize);
    let (day, ramp, flash) = (50, 300, 5);
    let len = day + ramp + flash + ramp + 30;
    let mut raw = Vec::new();
    for i in 0..len {
        let frame = pingpong(&f, i);
        let frame = match i {
            i if i < day => frame,
            i if i < day + ramp => scaled(&frame, 1.0 - 0.8 * (i - day) as f64 / ramp as f64),
            i if i < day + ramp + flash => per_pixel(&frame, |_, _, _| [255, 255, 255]),
            i if i < day + 2 * ramp + flash => {
                let k = (i - day - ramp - flash) as f64 / ramp as f64;
                scaled(&frame, 0.2 + 0.8 * k)
            }
            i if i >= len - 25 && i < len - 5 => {
                // The middle of the view, twice as large, over the left half.
                let src = frame.as_bytes().to_vec();
                per_pixel(&frame, |x, y, p| {
                    if x >= w / 2 {
                        return p;
                    }
                    let (sx, sy) = (w / 4 + x / 2, h / 4 + y / 2);
                    let j = 3 * (sy * w + sx);
                    [src[j], src[j + 1], src[j + 2]]
                })
            }
            _ => frame,
        };
        raw.extend(media::yuyv(frame.as_bytes(), w as u32));
    }
    let path = dir.path("dusk.yuyv");
    std::fs::write(&path, raw).unwrap();
    let size = format!("{w}x{h}");
    let run = run(&dir, GATED, &path, &["--format", "yuyv", "--size", &size]);
    assert!(
        run.stderr.contains(&format!("stopped: {len} frames")),
        "{}",
        run.stderr
    );
    // Every frame was judged (the YUYV frames' luma read straight from their bytes).
    let judged = run.stderr.matches(" s: tamper Stats").count();
    assert_eq!(judged, len, "{}", run.stderr);
    assert!(run.of("tamper").is_empty(), "{}", run.stderr);
    assert!(run.logged("tamper").is_empty(), "{}", run.stderr);
}
