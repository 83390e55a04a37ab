//! The gate as the pipeline uses it: synthetic clips, counted skips, allocations, and the
//! `[motion]` config's validation messages with their locations.

use super::*;
use crate::alloc_count::count;
use crate::validate::parse;

const W: u32 = 160;
const H: u32 = 120;

/// A tiny deterministic generator for sensor noise (xorshift32).
struct Noise(u32);

impl Noise {
    /// Roughly triangular noise in -4..=4 levels.
    fn next(&mut self) -> i16 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        (x & 7) as i16 + ((x >> 8) & 7) as i16 / 2 - 5
    }
}

/// A textured still scene, plus noise, into `out` (RGB), with a dark 16-px square at `blob`.
fn frame(out: &mut [u8], noise: &mut Noise, blob: Option<(u32, u32)>) {
    for y in 0..H {
        for x in 0..W {
            let base = 60 + ((x * 7 + y * 3) % 90) as i16;
            let dark = blob
                .is_some_and(|(bx, by)| (bx..bx + 16).contains(&x) && (by..by + 16).contains(&y));
            let l = if dark { 10 } else { base } + noise.next();
            let i = ((y * W + x) * 3) as usize;
            out[i..i + 3].fill(l.clamp(0, 255) as u8);
        }
    }
}

fn gated() -> MotionConfig {
    MotionConfig {
        enabled: true,
        ..MotionConfig::default()
    }
}

#[test]
fn a_still_noisy_clip_skips_most_inferences() {
    let mut gate = MotionGate::new(&gated()).unwrap();
    let mut noise = Noise(0x1234_5678);
    let mut buf = vec![0u8; (W * H * 3) as usize];
    let frames = 300u64; // 30 s at 10 fps
    let mut runs = 0;
    for i in 0..frames {
        frame(&mut buf, &mut noise, None);
        let now = Duration::from_millis(i * 100);
        let d = gate.decide(
            now,
            Tracks::None,
            LumaInput::rgb(&buf, W, H, W as usize * 3),
        );
        runs += u64::from(d.unwrap().runs());
    }
    // The first frame, then one keepalive every 5 s.
    assert_eq!(runs, 1 + 5);
    assert_eq!(gate.skipped(), frames - runs);
    assert!(gate.skipped() as f64 >= 0.8 * frames as f64);
}

#[test]
fn a_moving_blob_runs_every_frame_it_moves() {
    let mut gate = MotionGate::new(&gated()).unwrap();
    let mut noise = Noise(7);
    let mut buf = vec![0u8; (W * H * 3) as usize];
    let mut decisions = Vec::new();
    for i in 0..40u32 {
        // Still for 2 s, then a blob walks right at 4 px a frame.
        let blob = (i >= 20).then(|| (10 + (i - 20) * 4, 50));
        frame(&mut buf, &mut noise, blob);
        let now = Duration::from_millis(u64::from(i) * 100);
        let d = gate.decide(
            now,
            Tracks::None,
            LumaInput::rgb(&buf, W, H, W as usize * 3),
        );
        decisions.push(d.unwrap());
    }
    assert!(
        decisions[1..20].iter().all(|d| *d == Decision::Skip),
        "{decisions:?}"
    );
    assert!(
        decisions[20..]
            .iter()
            .all(|d| *d == Decision::Run(Reason::Motion)),
        "{decisions:?}"
    );
    assert!(gate.last_motion().unwrap().changed_fraction > 0.003);
}

#[test]
fn a_masked_blob_is_not_motion_and_confirmed_tracks_still_run() {
    let mut cfg = gated();
    cfg.masks = vec![MaskRegion::rect([0.0, 0.3, 1.0, 0.7])];
    let mut gate = MotionGate::new(&cfg).unwrap();
    let mut noise = Noise(99);
    let mut buf = vec![0u8; (W * H * 3) as usize];
    let mut runs = Vec::new();
    for i in 0..30u32 {
        // The blob walks inside the masked band (y 50..66 of 120).
        frame(&mut buf, &mut noise, Some((10 + i * 4, 50)));
        let tracks = if i >= 25 {
            Tracks::Confirmed
        } else {
            Tracks::None
        };
        let now = Duration::from_millis(u64::from(i) * 100);
        let input = LumaInput::rgb(&buf, W, H, W as usize * 3);
        runs.push(gate.decide(now, tracks, input).unwrap().runs());
    }
    let ran: Vec<usize> = (0..30).filter(|&i| runs[i]).collect();
    assert_eq!(ran, [0, 25, 26, 27, 28, 29]);
}

#[test]
fn disabled_gating_runs_every_frame_without_reading_pixels() {
    let mut gate = MotionGate::new(&MotionConfig::default()).unwrap();
    assert!(!gate.enabled());
    // An empty buffer would be an error if the gate read it.
    let d = gate.decide(
        Duration::ZERO,
        Tracks::None,
        LumaInput::rgb(&[], 640, 480, 1920),
    );
    assert_eq!(d.unwrap(), Decision::Run(Reason::Disabled));
    assert_eq!(gate.skipped(), 0);
}

#[test]
fn gating_yuyv_frames_does_not_allocate() {
    let mut gate = MotionGate::new(&gated()).unwrap();
    let (w, h) = (640u32, 480u32);
    let still = vec![100u8; (w * h * 2) as usize];
    let mut moved = still.clone();
    moved[..(w * 2 * 100) as usize].fill(200);
    let mut t = 0u64;
    let mut step = |gate: &mut MotionGate, f: &[u8]| {
        t += 100;
        let input = LumaInput::yuyv(f, w, h, w as usize * 2);
        gate.decide(Duration::from_millis(t), Tracks::Coasting, input)
            .unwrap()
    };
    step(&mut gate, &still);
    let (_, n) = count(|| {
        for i in 0..300 {
            step(&mut gate, if i % 7 == 0 { &moved } else { &still });
        }
    });
    assert_eq!(n, 0);
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    #[serde(default)]
    motion: MotionConfig,
}

impl Validate for Doc {
    fn validate(&self, at: &str, report: &mut Report) {
        self.motion.validate(&join(at, "motion"), report);
    }
}

#[test]
fn bad_motion_config_is_located() {
    let text = "[motion]\nenabled = true\nchanged_fraction = 1.5\ncoast_every = 0\n\n[[motion.masks]]\nname = \"tree\"\npolygon = [[0.1, 0.1], [0.2, 0.2]]\n\n[[motion.masks]]\nrect = [0.5, 0.5, 0.4, 0.9]\n";
    let err = parse::<Doc>(text, "picket.toml").unwrap_err();
    let got: Vec<(usize, usize)> = err.problems().iter().map(|p| (p.line, p.column)).collect();
    assert_eq!(got, [(3, 20), (4, 15), (8, 11), (11, 8)], "{err}");
    let text = err.to_string();
    assert!(
        text.contains("picket.toml:8:11: motion.masks.0.polygon: mask `tree`: polygon has 2 points (needs ≥ 3)"),
        "{text}"
    );
    assert!(
        text.contains("picket.toml:3:20: motion.changed_fraction: must be in (0, 1]"),
        "{text}"
    );
}

#[test]
fn a_mask_needs_exactly_one_shape_and_must_leave_something_to_watch() {
    let err = parse::<Doc>("[[motion.masks]]\nname = \"x\"\n", "c.toml").unwrap_err();
    assert!(
        err.to_string().contains(
            "c.toml:1:1: motion.masks.0: mask `x`: give exactly one of `rect` or `polygon`"
        ),
        "{err}"
    );
    let err = parse::<Doc>("[[motion.masks]]\nrect = [0, 0, 1, 1]\n", "c.toml").unwrap_err();
    assert!(
        err.to_string()
            .contains("motion.masks: the masks hide the whole frame"),
        "{err}"
    );
    let err = parse::<Doc>("[motion]\nenabled = \"yes\"\n", "c.toml").unwrap_err();
    assert_eq!(
        (err.problems()[0].line, err.problems()[0].column),
        (2, 11),
        "{err}"
    );
}
