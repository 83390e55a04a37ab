//! The pipeline's side of annotation: a config's zones and lines, a scene's tracks and firing
//! rules, into an overlay; and a snapshot that carries its overlay drawn in pixels.

use super::*;
use picket_geom::NormRect;
use std::path::Path;

fn cfg() -> Config {
    let toml = r#"
[[zones]]
name = "door"
polygon = [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5], [0.1, 0.5]]

[[lines]]
name = "gate"
a = [0.6, 0.2]
b = [0.9, 0.8]

[[rules]]
name = "at_door"
kind = "intrusion"
zone = "door"

[[rules]]
name = "through_gate"
kind = "line_cross"
line = "gate"

[motion]
enabled = true
grid = [4, 3]
masks = [{ rect = [0.0, 0.0, 0.25, 0.34] }]
"#;
    toml::from_str(toml).unwrap()
}

fn scene() -> Scene {
    let mut s = Scene {
        firing: 0b10, // through_gate
        armed: true,
        clock_synced: true,
        ..Scene::default()
    };
    for (id, x) in [(7, 0.2), (8, 0.6)] {
        let _ = s.marks.push(Mark {
            rect: NormRect::new(x, 0.55, x + 0.15, 0.95),
            track: Some(id),
            score: 0.9,
            firing: false,
        });
    }
    let _ = s.counts.push([3, 1]);
    s
}

#[test]
fn the_overlay_joins_config_and_scene_and_marks_what_fires() {
    let mut scenery = Scenery::of(&cfg());
    scenery.pace = Pace {
        fps: 4.5,
        infer_ms: 31.0,
    };
    let o = scenery.overlay(&scene(), Some(("door", Some(8))));
    let names: Vec<(&str, bool, bool)> = o
        .shapes
        .iter()
        .map(|s| (s.name.as_str(), s.closed, s.firing))
        .collect();
    assert_eq!(names, [("door", true, true), ("gate", false, true)]);
    assert_eq!(o.shapes[0].points.len(), 4);
    assert_eq!(o.shapes[1].counts, Some((3, 1)));
    let firing: Vec<bool> = o.marks.iter().map(|m| m.firing).collect();
    assert_eq!(firing, [false, true], "the event's track, and only it");
    let m = o.mask.as_ref().unwrap();
    assert_eq!(
        m.masked,
        [true, false, false, false, false, false, false, false, false, false, false, false]
    );
    assert_eq!(
        o.status.unwrap().text(),
        "ARMED  4.5 fps  infer 31 ms  clock ok"
    );

    let quiet = scenery.overlay(&Scene::default(), None);
    assert!(quiet.shapes.iter().all(|s| !s.firing));
    assert!(quiet.marks.is_empty());
}

#[test]
fn a_snapshot_keeps_raw_pixels_and_draws_its_overlay_on_demand() {
    let (w, h) = (320u32, 240u32);
    let img = RgbImage::from_vec(w, h, [90u8, 90, 90].repeat((w * h) as usize)).unwrap();
    let raw = img.to_jpeg(90).unwrap();
    let o = Scenery::of(&cfg()).overlay(&scene(), Some(("door", Some(8))));
    let stored = attach(raw.clone(), &o);
    assert_eq!(attached(&stored).unwrap(), Some(o.clone()));
    assert_eq!(attached(&raw).unwrap(), None);
    assert_eq!(
        draw(&raw, Path::new("raw.jpg")).unwrap(),
        raw,
        "nothing to draw: as stored"
    );

    let at = |img: &RgbImage, x: u32, y: u32| {
        let i = ((y * w + x) * 3) as usize;
        img.as_bytes()[i..i + 3].to_vec()
    };
    let near = |a: &[u8], b: [u8; 3]| a.iter().zip(b).all(|(&x, y)| x.abs_diff(y) < 40);
    let plain = picket_image::still::decode(&stored, Path::new("s.jpg")).unwrap();
    let drawn = draw(&stored, Path::new("s.jpg")).unwrap();
    let drawn = picket_image::still::decode(&drawn, Path::new("d.jpg")).unwrap();
    // The zone's top edge at its middle: raw grey as stored, red (firing) when drawn.
    let (x, y) = ((0.3 * w as f32) as u32, (0.1 * h as f32) as u32);
    assert!(
        near(&at(&plain, x, y), [90, 90, 90]),
        "{:?}",
        at(&plain, x, y)
    );
    assert!(
        near(&at(&drawn, x, y), picket_image::annotate::colour::FIRING),
        "{:?}",
        at(&drawn, x, y)
    );
    // Track 7's left edge: green.
    let (x, y) = ((0.2 * w as f32) as u32, (0.75 * h as f32) as u32);
    assert!(
        near(&at(&drawn, x, y), picket_image::annotate::colour::TRACK),
        "{:?}",
        at(&drawn, x, y)
    );
}

#[test]
fn a_bad_overlay_is_an_error_naming_it() {
    let raw = RgbImage::new(8, 8).to_jpeg(80).unwrap();
    let bad = picket_image::comment::insert(&raw, TAG, b"{not json").unwrap();
    let e = draw(&bad, Path::new("x.jpg")).unwrap_err().to_string();
    assert!(e.starts_with("its overlay: "), "{e}");
}
