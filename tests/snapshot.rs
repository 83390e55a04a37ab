//! `picket snapshot` as an installer runs it: one frame of the committed clip through the demo
//! config, written annotated; the zone, the line and the status strip are checked in pixels.

use crate::util::{picket, root, stderr, Scratch, CLIP};
use picket_image::annotate::colour;
use picket_image::RgbImage;

/// Whether `a` is within JPEG's error of `want`.
fn near(a: &[u8], want: [u8; 3]) -> bool {
    a.iter().zip(want).all(|(&x, y)| x.abs_diff(y) < 60)
}

fn at(img: &RgbImage, x: f32, y: f32) -> Vec<u8> {
    let (px, py) = (
        (x * img.width() as f32) as u32,
        (y * img.height() as f32) as u32,
    );
    let i = ((py * img.width() + px) * 3) as usize;
    img.as_bytes()[i..i + 3].to_vec()
}

/// Whether the pixel at (`x`, `y`) or one beside it (rounding, JPEG's blur of a 2-pixel pen)
/// is near `want`.
fn drawn(img: &RgbImage, x: f32, y: f32, want: [u8; 3]) -> bool {
    let (dx, dy) = (1.0 / img.width() as f32, 1.0 / img.height() as f32);
    [(0.0, 0.0), (0.0, -dy), (0.0, dy), (-dx, 0.0), (dx, 0.0)]
        .iter()
        .any(|(ox, oy)| near(&at(img, x + ox, y + oy), want))
}

#[test]
fn one_frame_of_the_clip_is_written_with_zones_lines_people_and_status() {
    let dir = Scratch::new("snapshot");
    let out = dir.path("first.jpg");
    let cfg = root().join("board/config/demo.toml");
    let clip = root().join(CLIP);
    let o = picket(&[
        "snapshot",
        "-c",
        cfg.to_str().unwrap(),
        "--source",
        clip.to_str().unwrap(),
        "--skip",
        "20",
        "--no-xnnpack",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let people: usize = err
        .split(", ")
        .find_map(|p| p.strip_suffix(" people"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of people in: {err}"));
    assert!(people >= 1, "{err}");

    let img = picket_image::still::load(&out).unwrap();
    // The clip's first frame: its bytes up to the first end-of-image marker.
    let bytes = std::fs::read(&clip).unwrap();
    let end = bytes.windows(2).position(|w| w == [0xFF, 0xD9]).unwrap() + 2;
    let clip_frame = picket_image::still::decode(&bytes[..end], &clip).unwrap();
    assert_eq!(
        (img.width(), img.height()),
        (clip_frame.width(), clip_frame.height())
    );
    // The walkway's top edge runs from (0, 0.32) to (1, 0.28); the midline is x = 0.7 from
    // y = 0.25 to 0.95. A person's box may cover a sample, so most, not all, must match.
    let zone = (1..10)
        .map(|i| i as f32 / 10.0)
        .filter(|&x| drawn(&img, x, 0.32 - 0.04 * x, colour::ZONE))
        .count();
    assert!(zone >= 6, "{zone} of 9 samples on the zone's edge");
    let line = (0..7)
        .map(|i| 0.3 + i as f32 / 10.0)
        .filter(|&y| drawn(&img, 0.7, y, colour::LINE))
        .count();
    assert!(line >= 4, "{line} of 7 samples on the line");
    let strip = (1..40)
        .map(|i| at(&img, i as f32 / 40.0, 0.995))
        .filter(|p| near(p, colour::INK))
        .count();
    assert!(strip >= 20, "the status strip is dark: {strip} of 39");
}

#[test]
fn a_missing_source_is_named() {
    let dir = Scratch::new("snapshot-missing");
    let cfg = root().join("board/config/demo.toml");
    let missing = dir.path("no-such.mjpeg");
    let out = dir.path("x.jpg");
    let o = picket(&[
        "snapshot",
        "-c",
        cfg.to_str().unwrap(),
        "--source",
        missing.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no-such.mjpeg"), "{}", stderr(&o));
    assert!(!out.exists());
}
