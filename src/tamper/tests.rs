//! The tamper judge on synthetic luma planes: a textured scene, and the same scene covered,
//! blinded, shifted, blurred, darkened slowly and flashed. The planes are reduced to the motion
//! gate's default 64×48 grid of cell means, as the pipeline hands them over.

use super::*;
use crate::alloc_count::count;

const W: usize = 320;
const H: usize = 240;
const GRID: (usize, usize) = (64, 48);
/// 10 frames a second.
const STEP_MS: u64 = 100;

/// A scene with structure at several scales: random 8-pixel blocks over a gradient, with
/// a few larger bright and dark patches, like a yard with a path and a fence.
fn scene() -> Vec<u8> {
    let mut seed = 0x2545_f491_u32;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let blocks: Vec<u8> = (0..(W / 8 + 1) * (H / 8 + 1))
        .map(|_| (rand() % 120) as u8)
        .collect();
    let mut v = vec![0u8; W * H];
    for y in 0..H {
        for x in 0..W {
            let b = blocks[(y / 8) * (W / 8 + 1) + x / 8];
            let patch = if (x / 40 + y / 30) % 3 == 0 { 60 } else { 0 };
            v[y * W + x] = (30 + x / 8 + usize::from(b) + patch).min(230) as u8;
        }
    }
    v
}

/// `plane`'s grid of cell means.
fn grid(plane: &[u8]) -> Vec<f32> {
    let (gw, gh) = GRID;
    let (cw, ch) = (W / gw, H / gh);
    let mut cells = vec![0.0; gw * gh];
    for (i, c) in cells.iter_mut().enumerate() {
        let (x0, y0) = ((i % gw) * cw, (i / gw) * ch);
        let sum: u32 = (y0..y0 + ch)
            .flat_map(|y| (x0..x0 + cw).map(move |x| (x, y)))
            .map(|(x, y)| u32::from(plane[y * W + x]))
            .sum();
        *c = sum as f32 / (cw * ch) as f32;
    }
    cells
}

fn map(plane: &[u8], f: impl Fn(u8) -> f32) -> Vec<u8> {
    plane
        .iter()
        .map(|&p| f(p).round().clamp(0.0, 255.0) as u8)
        .collect()
}

/// `plane` shifted left by `dx` pixels, the right edge filled from the left (a turned camera
/// sees new things; this only needs them to differ).
fn shifted(plane: &[u8], dx: usize) -> Vec<u8> {
    let mut v = vec![0u8; W * H];
    for y in 0..H {
        for x in 0..W {
            v[y * W + x] = plane[y * W + (x + dx) % W];
        }
    }
    v
}

/// A box blur of radius `r`, twice (close to a Gaussian of σ ≈ 0.8 r).
fn blurred(plane: &[u8], r: usize) -> Vec<u8> {
    let mut a: Vec<f32> = plane.iter().map(|&p| f32::from(p)).collect();
    for _ in 0..2 {
        for horizontal in [true, false] {
            let src = a.clone();
            for y in 0..H {
                for x in 0..W {
                    let (mut s, mut n) = (0.0, 0.0);
                    for d in -(r as isize)..=r as isize {
                        let (xx, yy) = if horizontal {
                            (x as isize + d, y as isize)
                        } else {
                            (x as isize, y as isize + d)
                        };
                        if (0..W as isize).contains(&xx) && (0..H as isize).contains(&yy) {
                            s += src[yy as usize * W + xx as usize];
                            n += 1.0;
                        }
                    }
                    a[y * W + x] = s / n;
                }
            }
        }
    }
    a.iter().map(|&v| v.round() as u8).collect()
}

fn cfg() -> TamperConfig {
    TamperConfig {
        enabled: true,
        ..TamperConfig::default()
    }
}

/// Feeds `frames` grids from `frame(i)` from time `t0`; returns each change with its time.
fn feed(
    t: &mut Tamper,
    t0: u64,
    frames: u64,
    frame: impl Fn(u64) -> Vec<f32>,
) -> Vec<(u64, Change)> {
    let mut changes = Vec::new();
    for i in 0..frames {
        let ms = t0 + i * STEP_MS;
        let cells = frame(i);
        if let Some(c) = t.observe(Duration::from_millis(ms), &cells, GRID, true) {
            changes.push((ms, c));
        }
    }
    changes
}

/// Learns the scene for 5 s, shows `tampered` for 6 s from t = 5 s, then the scene again for
/// 5 s; returns the changes.
fn episode(tampered: &[u8]) -> Vec<(u64, Change)> {
    let (normal, bad) = (grid(&scene()), grid(tampered));
    let mut t = Tamper::new(&cfg());
    let mut all = feed(&mut t, 0, 50, |_| normal.clone());
    all.extend(feed(&mut t, 5_000, 60, |_| bad.clone()));
    all.extend(feed(&mut t, 11_000, 50, |_| normal.clone()));
    all
}

/// The episode raises `reason` after `hold_s` (3 s) and clears after `clear_s` (2 s).
fn assert_episode(tampered: &[u8], reason: Reason) {
    assert_eq!(
        episode(tampered),
        vec![
            (8_000, Change::Raised(reason)),
            (13_000, Change::Cleared(reason))
        ]
    );
}

#[test]
fn the_scene_itself_raises_nothing_and_has_structure() {
    let s = grid(&scene());
    let mut t = Tamper::new(&cfg());
    assert!(feed(&mut t, 0, 100, |_| s.clone()).is_empty());
    let st = t.stats();
    assert!(st.structure > 0.3, "{st:?}");
    assert!((st.correlation - 1.0).abs() < 1e-4, "{st:?}");
}

#[test]
fn a_black_frame_and_a_grey_card_are_covered() {
    assert_episode(&vec![4u8; W * H], Reason::Covered);
    assert_episode(&vec![128u8; W * H], Reason::Covered);
}

#[test]
fn a_dark_hand_over_most_of_the_view_is_covered() {
    // A dark, softly shaded blob over all but a strip on the right (92% of the view).
    let s = scene();
    let mut hand = s.clone();
    for y in 0..H {
        for x in 0..W * 92 / 100 {
            hand[y * W + x] = (18 + (x + y) / 40) as u8;
        }
    }
    assert_episode(&hand, Reason::Covered);
}

#[test]
fn saturation_over_most_of_the_frame_is_blinded() {
    assert_episode(&vec![255u8; W * H], Reason::Blinded);
    // A torch: the scene pushed to white but for a dim edge.
    let torch = map(&scene(), |p| f32::from(p) * 3.0 + 120.0);
    assert_episode(&torch, Reason::Blinded);
}

#[test]
fn the_view_shifted_by_a_quarter_frame_is_moved() {
    assert_episode(&shifted(&scene(), W / 4), Reason::Moved);
}

#[test]
fn a_strong_blur_is_defocused() {
    assert_episode(&blurred(&scene(), 8), Reason::Defocused);
}

#[test]
fn a_slow_dusk_ramp_and_a_short_flash_raise_nothing() {
    let s = scene();
    let mut t = Tamper::new(&cfg());
    // 5 s of day, a 30 s ramp down to 20% and back up, with an IR switch-over's 0.5 s white
    // flash at the bottom.
    let frames = 50 + 300 + 50;
    let changes = feed(&mut t, 0, frames, |i| {
        if (200..205).contains(&i) {
            return grid(&vec![255u8; W * H]);
        }
        let k = match i {
            0..50 => 1.0,
            50..200 => 1.0 - 0.8 * (i - 50) as f32 / 150.0,
            200..350 => 0.2 + 0.8 * (i - 200) as f32 / 150.0,
            _ => 1.0,
        };
        grid(&map(&s, |p| f32::from(p) * k))
    });
    assert!(changes.is_empty(), "{changes:?}");
}

#[test]
fn a_flash_longer_than_hold_is_blinded() {
    // The flash test's counterpart: the same white held past hold_s does raise.
    let (s, white) = (grid(&scene()), grid(&vec![255u8; W * H]));
    let mut t = Tamper::new(&cfg());
    feed(&mut t, 0, 50, |_| s.clone());
    let c = feed(&mut t, 5_000, 29, |_| white.clone());
    assert!(c.is_empty(), "2.8 s is under hold_s: {c:?}");
    let c = feed(&mut t, 7_900, 2, |_| white.clone());
    assert_eq!(c, vec![(8_000, Change::Raised(Reason::Blinded))]);
}

#[test]
fn a_person_filling_half_the_view_for_two_seconds_raises_nothing() {
    let s = scene();
    let mut near = s.clone();
    for y in 0..H {
        for x in W / 4..W * 3 / 4 {
            near[y * W + x] = (70 + (x % 23) + (y % 17)) as u8;
        }
    }
    let (s, near) = (grid(&s), grid(&near));
    let mut t = Tamper::new(&cfg());
    let c = feed(&mut t, 0, 120, |i| {
        if (50..70).contains(&i) {
            near.clone()
        } else {
            s.clone()
        }
    });
    assert!(c.is_empty(), "{c:?}");
}

#[test]
fn armed_only_raises_nothing_while_disarmed_and_reasons_can_be_turned_off() {
    let (s, black) = (grid(&scene()), grid(&vec![0u8; W * H]));
    let mut t = Tamper::new(&cfg());
    for i in 0..150u64 {
        let cells = if i < 50 { &s } else { &black };
        let c = t.observe(Duration::from_millis(i * STEP_MS), cells, GRID, false);
        assert_eq!(c, None, "frame {i}");
    }
    // Watching again: the hold starts then.
    let c = feed(&mut t, 15_000, 31, |_| black.clone());
    assert_eq!(c, vec![(18_000, Change::Raised(Reason::Covered))]);

    let mut c = cfg();
    c.reasons = vec!["moved".into()];
    let mut t = Tamper::new(&c);
    feed(&mut t, 0, 50, |_| s.clone());
    assert!(feed(&mut t, 5_000, 60, |_| black.clone()).is_empty());
}

#[test]
fn a_covered_lens_is_not_learnt_as_the_scene() {
    // Covered for ten times learn_s: still covered, and the scene still clears it.
    let mut c = cfg();
    c.learn_s = 1.0;
    let (s, black) = (grid(&scene()), grid(&vec![0u8; W * H]));
    let mut t = Tamper::new(&c);
    feed(&mut t, 0, 50, |_| s.clone());
    let changes = feed(&mut t, 5_000, 100, |_| black.clone());
    assert_eq!(changes, vec![(8_000, Change::Raised(Reason::Covered))]);
    assert_eq!(t.raised(), Some(Reason::Covered));
    let changes = feed(&mut t, 15_000, 30, |_| s.clone());
    assert_eq!(changes, vec![(17_000, Change::Cleared(Reason::Covered))]);
}

#[test]
fn observing_never_allocates() {
    let (s, black) = (grid(&scene()), grid(&vec![0u8; W * H]));
    let mut t = Tamper::new(&cfg());
    t.observe(Duration::ZERO, &s, GRID, true);
    let (_, n) = count(|| {
        for i in 1..200u64 {
            let cells = if i % 50 < 40 { &s } else { &black };
            t.observe(Duration::from_millis(i * STEP_MS), cells, GRID, true);
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn bad_values_are_reported_at_their_keys() {
    let mut c = cfg();
    c.hold_s = -1.0;
    c.learn_s = 0.0;
    c.reasons = vec!["covered".into(), "sprayed".into()];
    c.moved_correlation = 1.5;
    let mut report = Report::default();
    c.validate("tamper", &mut report);
    let text = format!("{report:?}");
    for key in [
        "tamper.hold_s",
        "tamper.learn_s",
        "tamper.reasons.1",
        "tamper.moved_correlation",
    ] {
        assert!(text.contains(key), "{key} in {text}");
    }
    assert!(text.contains("unknown reason `sprayed`"), "{text}");
    assert!(!text.contains("tamper.reasons.0"), "{text}");
    let mut report = Report::default();
    cfg().validate("tamper", &mut report);
    assert!(format!("{report:?}").matches("tamper.").count() == 0);
}
