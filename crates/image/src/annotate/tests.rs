//! Annotation checked in pixels: on a known grey frame, outlines and boxes are sampled where the
//! geometry says they are, and labels are checked for ink inside their boxes.

use super::*;

const W: u32 = 640;
const H: u32 = 480;
const BG: [u8; 3] = [60, 60, 60];

fn grey() -> RgbImage {
    RgbImage::from_vec(W, H, BG.repeat((W * H) as usize)).unwrap()
}

fn at(img: &RgbImage, x: i32, y: i32) -> [u8; 3] {
    let i = (y as usize * W as usize + x as usize) * 3;
    img.as_bytes()[i..i + 3].try_into().unwrap()
}

/// Pixels of `(x, y, w, h)` that have colour `c`.
fn count(img: &RgbImage, (x, y, w, h): (i32, i32, i32, i32), c: [u8; 3]) -> usize {
    (y..y + h)
        .flat_map(|yy| (x..x + w).map(move |xx| (xx, yy)))
        .filter(|&(xx, yy)| at(img, xx, yy) == c)
        .count()
}

/// Pixel of a normalised point.
fn px(x: f32, y: f32) -> (i32, i32) {
    ((x * W as f32).round() as i32, (y * H as f32).round() as i32)
}

fn scene() -> Overlay {
    let p = NormPoint::new;
    Overlay {
        marks: vec![Mark {
            rect: NormRect::new(0.2, 0.55, 0.35, 0.95),
            track: Some(7),
            score: 0.91,
            firing: false,
        }],
        shapes: vec![
            Shape {
                name: "door".into(),
                points: vec![p(0.1, 0.1), p(0.5, 0.1), p(0.5, 0.5), p(0.1, 0.5)],
                closed: true,
                firing: false,
                counts: None,
            },
            Shape {
                name: "gate".into(),
                points: vec![p(0.6, 0.2), p(0.9, 0.8)],
                closed: false,
                firing: true,
                counts: Some((3, 1)),
            },
        ],
        mask: None,
        status: Some(Status {
            armed: true,
            fps: 5.0,
            infer_ms: 23.0,
            clock_synced: true,
        }),
    }
}

#[test]
fn zone_line_and_box_are_where_the_geometry_says() {
    let mut img = grey();
    img.annotate(&scene());
    // The zone's four edges, at their midpoints; its inside untouched.
    for (x, y) in [(0.3, 0.1), (0.5, 0.3), (0.3, 0.5), (0.1, 0.3)] {
        let (px, py) = px(x, y);
        assert_eq!(at(&img, px, py), colour::ZONE, "zone edge at ({x}, {y})");
    }
    let (cx, cy) = px(0.3, 0.3);
    assert_eq!(at(&img, cx, cy), BG, "inside the zone");
    // The firing line, along its length.
    for t in [0.25, 0.5, 0.75] {
        let (lx, ly) = px(0.6 + 0.3 * t, 0.2 + 0.6 * t);
        assert_eq!(at(&img, lx, ly), colour::FIRING, "line at t={t}");
    }
    // The track's box: both vertical edges at mid height, its inside untouched.
    let b = NormRect::new(0.2, 0.55, 0.35, 0.95).to_pixels(W, H);
    let mid = ((b.y0 + b.y1) / 2) as i32;
    assert_eq!(at(&img, b.x0 as i32, mid), colour::TRACK);
    assert_eq!(at(&img, b.x1 as i32 - 1, mid), colour::TRACK);
    assert_eq!(at(&img, ((b.x0 + b.x1) / 2) as i32, mid), BG);
    // Off every shape: untouched.
    assert_eq!(at(&img, 600, 100), BG);
}

#[test]
fn labels_hold_text_in_their_boxes() {
    let mut img = grey();
    let o = scene();
    img.annotate(&o);
    let s = Sizes::for_image(W, H);
    let b = o.marks[0].rect.to_pixels(W, H);
    let track = label_box(b.x0 as i32, b.y0 as i32, "#7 0.91", s, W);
    let (tx, ty, tw, th) = track;
    assert!(ty + th <= b.y0 as i32, "the label sits above the box");
    let ink = count(&img, track, colour::INK);
    let fill = count(&img, track, colour::TRACK);
    assert!(ink > 30, "text drawn in the track label: {ink} pixels");
    assert_eq!(
        ink + fill,
        (tw * th) as usize,
        "the label is ink on the box's colour"
    );
    assert!(tx >= 0 && tw > 0);

    let (zx, zy) = px(0.1, 0.1);
    let zone = label_box(zx, zy, "door", s, W);
    assert!(
        count(&img, zone, colour::INK) > 20,
        "the zone's name is written"
    );
    let (lx, ly) = px(0.6, 0.2);
    let line = label_box(lx, ly, "gate >3 <1", s, W);
    assert!(
        count(&img, line, colour::INK) > 40,
        "the line's counters are written"
    );

    let sh = s.label_height() as i32;
    let strip = (0, H as i32 - sh, W as i32, sh);
    let white = count(&img, strip, colour::STRIP_TEXT);
    assert!(white > 100, "the status strip has text: {white} pixels");
    assert_eq!(
        white + count(&img, strip, colour::INK),
        (W as i32 * sh) as usize
    );
}

#[test]
fn the_motion_mask_tints_masked_cells_only() {
    let mut img = grey();
    let mut masked = vec![false; 12];
    masked[5] = true; // column 1, row 1 of a 4×3 grid
    img.annotate(&Overlay {
        mask: Some(Mask {
            cols: 4,
            rows: 3,
            masked,
        }),
        ..Overlay::default()
    });
    let tinted = at(&img, 160 + 80, 160 + 80);
    assert!(
        tinted[2] > BG[2] + 50 && tinted[0] < BG[0] + 5,
        "blue mixed in: {tinted:?}"
    );
    assert_eq!(at(&img, 80, 80), BG, "a watched cell stays");
    assert_eq!(at(&img, 159, 240), BG, "the cell's left neighbour stays");
    assert_eq!(
        at(&img, 160, 240),
        tinted,
        "the cell's first column is tinted"
    );
}

#[test]
fn a_firing_box_is_red_and_labels_stay_inside_the_image() {
    let mut img = grey();
    img.annotate(&Overlay {
        marks: vec![Mark {
            rect: NormRect::new(0.9, 0.0, 1.0, 0.3),
            track: Some(123_456),
            score: 0.5,
            firing: true,
        }],
        ..Overlay::default()
    });
    let s = Sizes::for_image(W, H);
    let (x, y, w, h) = label_box(576, 0, "#123456 0.50", s, W);
    assert_eq!(
        (x + w, y),
        (W as i32, 0),
        "pushed left and below the top edge"
    );
    assert!(count(&img, (x, y, w, h), colour::INK) > 50);
    assert_eq!(at(&img, 576, 100), colour::FIRING);
}
