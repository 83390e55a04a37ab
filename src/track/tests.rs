//! Scenario tests of the tracker: crossing people, occlusion, removal, id uniqueness over a long
//! run, and no allocation per update.

use super::{Track, TrackState, Tracker, TrackerConfig};
use crate::detect::{Detection, Detections};
use picket_geom::NormRect;
use std::time::Duration;

const FPS: u32 = 25;

/// The scenarios score people 0.9 and weak boxes 0.2–0.55, as ByteTrack's detector does, so
/// they run at ByteTrack's thresholds: `high_score` 0.5, `low_score` 0.1, `new_track_score` 0.6.
fn bytetrack() -> TrackerConfig {
    TrackerConfig {
        high_score: Some(0.5),
        low_score: Some(0.1),
        new_track_score: Some(0.6),
        ..TrackerConfig::default()
    }
}

fn tracker(cfg: TrackerConfig) -> Tracker {
    Tracker::new(cfg, 0.1)
}

fn at(frame: u32) -> Duration {
    Duration::from_secs(1) * frame / FPS
}

fn person(cx: f32, score: f32) -> Detection {
    Detection {
        bbox: NormRect::from_center(cx, 0.5, 0.08, 0.3),
        score,
        class: 0,
    }
}

fn frame(dets: &mut Detections, people: &[Detection]) {
    dets.clear();
    for p in people {
        assert!(dets.push(*p));
    }
}

/// Feeds one confident walker at `x(f)` for `frames`; returns the id of the first track.
fn walk(tr: &mut Tracker, x: impl Fn(u32) -> f32, frames: std::ops::Range<u32>) -> u64 {
    let mut dets = Detections::with_capacity(1);
    for f in frames {
        frame(&mut dets, &[person(x(f), 0.9)]);
        tr.update(&dets, at(f));
    }
    tr.tracks()[0].id
}

/// The confirmed track whose box centre is nearest `cx`.
fn near(tracks: &[Track], cx: f32) -> &Track {
    tracks
        .iter()
        .filter(|k| k.is_confirmed())
        .min_by(|a, b| {
            let da = (a.bbox.center().x - cx).abs();
            let db = (b.bbox.center().x - cx).abs();
            da.total_cmp(&db)
        })
        .expect("a confirmed track")
}

#[test]
fn a_crossing_pair_keeps_its_ids() {
    let mut tr = tracker(bytetrack());
    let mut dets = Detections::with_capacity(8);
    // Two people 0.6 apart walk toward each other at 0.3 widths per second and pass. While
    // they overlap, the one behind is seen only weakly, then not at all.
    let (mut left_id, mut right_id) = (0, 0);
    for f in 0..100 {
        let s = f as f32 / FPS as f32;
        let (a, b) = (0.2 + 0.3 * s, 0.8 - 0.3 * s);
        let overlap = (a - b).abs() < 0.08;
        let behind = if (a - b).abs() < 0.03 {
            None
        } else if overlap {
            Some(person(b, 0.3))
        } else {
            Some(person(b, 0.9))
        };
        let people: Vec<Detection> = std::iter::once(person(a, 0.9)).chain(behind).collect();
        frame(&mut dets, &people);
        let tracks = tr.update(&dets, at(f));
        if f == 10 {
            left_id = near(tracks, a).id;
            right_id = near(tracks, b).id;
            assert_ne!(left_id, right_id);
        }
        if f > 10 && !overlap {
            assert_eq!(near(tracks, a).id, left_id, "frame {f}: the left walker");
            assert_eq!(near(tracks, b).id, right_id, "frame {f}: the right walker");
        }
    }
    // They crossed: the first walker is now on the right.
    let tracks = tr.tracks();
    assert!(near(tracks, 0.99).id == left_id && near(tracks, 0.01).id == right_id);
}

#[test]
fn a_one_second_occlusion_is_bridged() {
    let mut tr = tracker(bytetrack());
    let mut dets = Detections::with_capacity(4);
    let x = |f: u32| 0.1 + 0.2 * f as f32 / FPS as f32;
    let mut id = 0;
    for f in 0..100 {
        // Hidden from 1 s to 2 s, walking on all the while.
        let hidden = (FPS..2 * FPS).contains(&f);
        if hidden {
            dets.clear();
        } else {
            frame(&mut dets, &[person(x(f), 0.9)]);
        }
        let tracks = tr.update(&dets, at(f));
        assert_eq!(tracks.len(), 1, "frame {f}: one track throughout");
        let k = &tracks[0];
        if f == FPS - 1 {
            id = k.id;
            assert_eq!(k.state, TrackState::Confirmed);
        }
        if hidden && at(f) - k.last_seen > TrackerConfig::default().coast() {
            assert_eq!(k.state, TrackState::Lost, "frame {f}");
        } else if f >= FPS {
            assert_eq!((k.id, k.state), (id, TrackState::Confirmed), "frame {f}");
        }
    }
    let k = &tr.tracks()[0];
    assert_eq!(k.first_seen, Duration::ZERO);
    assert_eq!(k.hits, 100 - FPS);
    // History holds only matched frames: the newest foot is the last detection's.
    let newest = k.history.recent().unwrap();
    assert_eq!(newest.t, at(99));
    assert!((newest.at.x - x(99)).abs() < 0.01);
}

#[test]
fn a_track_is_removed_after_its_max_age() {
    let cfg = TrackerConfig {
        max_age_s: 0.5,
        ..bytetrack()
    };
    let mut tr = tracker(cfg);
    let mut dets = Detections::with_capacity(4);
    frame(&mut dets, &[person(0.5, 0.9)]);
    for f in 0..5 {
        tr.update(&dets, at(f));
    }
    assert_eq!(tr.tracks()[0].last_seen, at(4));
    dets.clear();
    // 0.5 s after last seen is frame 4 + 12.5: still kept at 16, gone at 17.
    for f in 5..=16 {
        assert_eq!(tr.update(&dets, at(f)).len(), 1, "frame {f}");
    }
    assert!(tr.update(&dets, at(17)).is_empty());
    // The same place later gives a new person, with a new id.
    frame(&mut dets, &[person(0.5, 0.9)]);
    assert_eq!(tr.update(&dets, at(18))[0].id, 2);
}

#[test]
fn a_tentative_track_that_misses_is_dropped_and_a_weak_box_starts_nothing() {
    let mut tr = tracker(bytetrack());
    let mut dets = Detections::with_capacity(4);
    frame(&mut dets, &[person(0.5, 0.9), person(0.2, 0.55)]);
    let tracks = tr.update(&dets, at(0));
    assert_eq!(tracks.len(), 1, "0.55 is high but below new_track_score");
    assert_eq!(tracks[0].state, TrackState::Tentative);
    dets.clear();
    assert!(tr.update(&dets, at(1)).is_empty());
}

#[test]
fn ids_never_collide_over_a_million_frames() {
    // Tracks are born and die constantly: a person appears for 3 frames at one of four places,
    // then vanishes for longer than the max age.
    let cfg = TrackerConfig {
        max_age_s: 0.05,
        max_tracks: 4,
        ..bytetrack()
    };
    let mut tr = tracker(cfg);
    let mut dets = Detections::with_capacity(4);
    let mut newest = 0u64;
    let mut births = 0u64;
    for f in 0..1_000_000u32 {
        let phase = f % 6;
        if phase < 3 {
            frame(&mut dets, &[person(0.2 + 0.2 * ((f / 6) % 4) as f32, 0.9)]);
        } else {
            dets.clear();
        }
        let tracks = tr.update(&dets, at(f));
        for k in tracks {
            // A track never seen before must have an id above every earlier one.
            if k.first_seen == at(f) {
                assert!(k.id > newest, "frame {f}: id {} reused", k.id);
                newest = k.id;
                births += 1;
            }
        }
        if let [a, b, ..] = tracks {
            assert_ne!(a.id, b.id);
        }
    }
    assert_eq!(births, 1_000_000u64.div_ceil(6));
    assert_eq!(newest, births);
}

#[test]
fn update_does_not_allocate_after_warm_up() {
    let mut tr = tracker(bytetrack());
    let mut dets = Detections::with_capacity(128);
    let scene = |f: u32, dets: &mut Detections| {
        dets.clear();
        for i in 0..40u32 {
            // Forty walkers, a few missing or weak each frame, plus clutter.
            let cx = 0.05 + 0.022 * i as f32 + 0.001 * (f % 50) as f32;
            let cy = 0.1 + 0.02 * (i % 30) as f32;
            let score = match (f + i) % 11 {
                0 => continue,
                1 => 0.3,
                _ => 0.85,
            };
            let bbox = NormRect::from_center(cx, cy, 0.02, 0.06);
            dets.push(Detection {
                bbox,
                score,
                class: 0,
            });
        }
        let clutter = NormRect::from_center(0.01 * (f % 97) as f32, 0.9, 0.03, 0.05);
        dets.push(Detection {
            bbox: clutter,
            score: 0.7,
            class: 0,
        });
    };
    for f in 0..50 {
        scene(f, &mut dets);
        tr.update(&dets, at(f));
    }
    let mut total = 0;
    for f in 50..300 {
        scene(f, &mut dets);
        let (n, allocs) = crate::alloc_count::count(|| tr.update(&dets, at(f)).len());
        assert!(n >= 30, "frame {f}: {n} tracks");
        total += allocs;
    }
    assert_eq!(total, 0);
}

#[test]
fn a_full_tracker_evicts_the_longest_lost_then_refuses() {
    let cfg = TrackerConfig {
        max_tracks: 2,
        confirm_hits: 1,
        coast_s: 0.0,
        ..bytetrack()
    };
    let mut tr = tracker(cfg);
    let mut dets = Detections::with_capacity(4);
    frame(&mut dets, &[person(0.2, 0.9), person(0.5, 0.9)]);
    tr.update(&dets, at(0));
    // The person at 0.2 leaves; a third arrives: the lost track makes room.
    frame(&mut dets, &[person(0.5, 0.9), person(0.8, 0.9)]);
    tr.update(&dets, at(1));
    frame(
        &mut dets,
        &[person(0.5, 0.9), person(0.8, 0.9), person(0.1, 0.9)],
    );
    let ids: Vec<u64> = tr.update(&dets, at(2)).iter().map(|k| k.id).collect();
    assert_eq!(ids, [2, 3]);
    let s = tr.stats();
    assert_eq!((s.evicted, s.refused_births), (1, 1));
}

/// A walker whose own box goes missing while a bystander's box overlaps its prediction by
/// half a width: the motion gate refuses the bystander; without it the track jumps.
fn bystander_run(motion_gate: f32) -> (u64, Vec<(u64, TrackState, Duration)>) {
    let cfg = TrackerConfig {
        motion_gate,
        ..bytetrack()
    };
    let mut tr = tracker(cfg);
    let mut dets = Detections::with_capacity(4);
    let x = |f: u32| 0.1 + 0.2 * f as f32 / FPS as f32;
    let walker = walk(&mut tr, x, 0..25);
    frame(&mut dets, &[person(x(25) + 0.04, 0.9)]);
    let after = tr.update(&dets, at(25));
    (
        walker,
        after.iter().map(|k| (k.id, k.state, k.last_seen)).collect(),
    )
}

#[test]
fn the_motion_gate_keeps_a_bystander_from_taking_over_a_track() {
    let (walker, tracks) = bystander_run(TrackerConfig::default().motion_gate);
    // The walker coasts (still confirmed: one frame is within coast_s); the bystander starts anew.
    assert!(
        tracks.contains(&(walker, TrackState::Confirmed, at(24))),
        "{tracks:?}"
    );
    assert!(
        tracks.contains(&(walker + 1, TrackState::Tentative, at(25))),
        "{tracks:?}"
    );
    let (walker, tracks) = bystander_run(f32::MAX);
    assert_eq!(tracks, [(walker, TrackState::Confirmed, at(25))]);
}

#[test]
fn broken_boxes_are_ignored() {
    let mut tr = tracker(bytetrack());
    let mut dets = Detections::with_capacity(4);
    let nan = Detection {
        bbox: NormRect::new(f32::NAN, 0.1, 0.2, 0.3),
        score: 0.9,
        class: 0,
    };
    let empty = Detection {
        bbox: NormRect::new(0.3, 0.3, 0.3, 0.5),
        score: 0.9,
        class: 0,
    };
    frame(&mut dets, &[nan, empty, person(0.7, 0.9)]);
    let tracks = tr.update(&dets, at(0));
    assert_eq!(tracks.len(), 1);
    assert!((tracks[0].bbox.center().x - 0.7).abs() < 1e-6);
}

#[test]
fn weak_boxes_continue_a_track_but_never_start_one() {
    let mut tr = tracker(bytetrack());
    let mut dets = Detections::with_capacity(4);
    let x = |f: u32| 0.2 + 0.2 * f as f32 / FPS as f32;
    let id = walk(&mut tr, x, 0..10);
    // Half hidden for a second: the detector still sees the walker, at 0.3. A weak box far
    // from anyone appears too.
    for f in 10..35 {
        frame(&mut dets, &[person(x(f), 0.3), person(0.9, 0.3)]);
        let tracks = tr.update(&dets, at(f));
        assert_eq!(tracks.len(), 1, "frame {f}");
        assert_eq!((tracks[0].id, tracks[0].state), (id, TrackState::Confirmed));
        assert_eq!(tracks[0].last_seen, at(f));
        assert_eq!(tracks[0].score, 0.3);
    }
}

/// A person of a group standing on a line at x = 0.5 (PETS09-S2L1 frames 24–100, at its 7 fps):
/// two stand on the line, the third stands on its right, then walks off to the left, hidden
/// behind the other two until past the line. Returns the third person's track id at the start,
/// and the tracks that followed them after they reappeared (id, foot x of every sample).
fn leave_a_group_across_a_line() -> (u64, Vec<(u64, Vec<f32>)>) {
    const FPS: u32 = 7;
    let at = |f: u32| Duration::from_secs(1) * f / FPS;
    let cfg = TrackerConfig::default();
    let mut tr = Tracker::new(cfg, 0.35);
    let mut dets = Detections::with_capacity(4);
    let body = |cx: f32| Detection {
        bbox: NormRect::new(cx - 0.022, 0.3, cx + 0.022, 0.45),
        score: 0.55,
        class: 0,
    };
    let group = [body(0.505), body(0.535)];
    // Standing at 0.565 for 3 s, then walking left at 0.07 of the frame per second.
    let x = |f: u32| 0.565 - 0.01 * f.saturating_sub(21) as f32;
    let mut leaver = 0;
    let mut after = Vec::new();
    for f in 0..40 {
        let hidden = (0.475..0.555).contains(&x(f));
        frame(&mut dets, &group);
        if !hidden {
            assert!(dets.push(body(x(f))));
        }
        let tracks = tr.update(&dets, at(f));
        if f == 20 {
            leaver = near(tracks, x(f)).id;
        }
        if f >= 21 && !hidden {
            let off = |k: &&Track| (k.bbox.center().x - x(f)).abs();
            let k = tracks
                .iter()
                .min_by(|a, b| off(a).total_cmp(&off(b)))
                .expect("a track");
            let foot = k.history.oldest_ordered().map(|s| s.at.x).collect();
            after.push((k.id, foot));
        }
    }
    (leaver, after)
}

#[test]
fn a_person_leaving_a_group_unseen_across_a_line_keeps_their_track() {
    let (leaver, after) = leave_a_group_across_a_line();
    assert!(after.len() > 10, "{after:?}");
    // Hidden for 8 frames (1.1 s) while walking 0.08: their box no longer overlaps where the
    // lost track, which last saw them standing, expects them; the motion gate still does.
    for (id, foot) in &after {
        assert_eq!(*id, leaver, "{after:?}");
        // So one track holds them firmly on both sides of the line, as a line rule needs.
        assert!(foot.iter().any(|&x| x > 0.52), "{foot:?}");
    }
    let last = &after.last().unwrap().1;
    assert!(*last.last().unwrap() < 0.48, "{last:?}");
}
