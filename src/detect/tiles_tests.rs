//! Tests of the tile grid (coverage, overlap, edge tiles, refusals) and of the merge across
//! tiles (a person cut by a tile edge comes out as one box).

use super::*;

const INPUT: (u32, u32) = (300, 300);

fn grid(spec: &str, w: u32, h: u32) -> Result<TileGrid, TileError> {
    TileGrid::new(
        spec.parse().unwrap(),
        CropBox::full(w, h),
        (w, h),
        INPUT,
        0.2,
    )
}

/// Which tiles hold pixel (x, y)'s centre.
fn holders(g: &TileGrid, x: u32, y: u32) -> usize {
    let (px, py) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
    g.tiles
        .iter()
        .filter(|t| {
            let c = t.crop;
            px >= c.left && px <= c.left + c.width && py >= c.top && py <= c.top + c.height
        })
        .count()
}

#[test]
fn specs_parse_and_bad_ones_say_what_is_allowed() {
    assert_eq!("auto".parse::<TileSpec>(), Ok(TileSpec::Auto));
    assert_eq!("1x1".parse::<TileSpec>(), Ok(TileSpec::WHOLE));
    assert_eq!(
        "2x1".parse::<TileSpec>(),
        Ok(TileSpec::Grid { cols: 2, rows: 1 })
    );
    assert_eq!("2X2".parse::<TileSpec>().unwrap().to_string(), "2x2");
    for bad in ["0x1", "5x1", "2", "2x", "x2", "big", "2x2x2"] {
        let e = bad.parse::<TileSpec>().unwrap_err();
        assert!(
            e.contains(&format!("`{bad}`")) && e.contains("\"2x2\""),
            "{e}"
        );
    }
}

#[test]
fn every_pixel_lies_in_a_tile_and_the_seams_in_two() {
    let g = grid("2x2", 768, 576).unwrap();
    assert_eq!(g.tiles.len(), 4);
    let mut min = usize::MAX;
    for y in 0..576 {
        for x in 0..768 {
            let n = holders(&g, x, y);
            min = min.min(n);
        }
    }
    assert_eq!(min, 1, "some pixel is in no tile");
    // The middle of the frame is in the overlap of all four.
    assert_eq!(holders(&g, 384, 288), 4);
    // A corner is in one.
    assert_eq!(holders(&g, 0, 0), 1);
    assert_eq!(holders(&g, 767, 575), 1);
}

#[test]
fn neighbours_overlap_by_the_configured_share_and_edge_tiles_touch_the_frame() {
    let g = grid("2x1", 768, 576).unwrap();
    let (a, b) = (g.tiles[0].crop, g.tiles[1].crop);
    // Two tiles of 768 / 1.8 px overlapping by 20 % of a tile.
    let tile = 768.0 / 1.8;
    assert!((a.width - tile).abs() < 1e-3 && (b.width - tile).abs() < 1e-3);
    let overlap = a.left + a.width - b.left;
    assert!((overlap - 0.2 * tile).abs() < 1e-3, "{overlap}");
    assert_eq!(a.left, 0.0);
    assert_eq!(b.left + b.width, 768.0);
    assert_eq!((a.top, a.height), (0.0, 576.0));
    // Only the inner edges can cut a box.
    assert_eq!(g.tiles[0].inner, [false, false, true, false]);
    assert_eq!(g.tiles[1].inner, [true, false, false, false]);
    assert_eq!(g.tiles[1].rect.x1, 1.0);
}

#[test]
fn a_grid_over_a_region_stays_inside_it() {
    let region = CropBox {
        left: 100.0,
        top: 50.0,
        width: 1000.0,
        height: 600.0,
    };
    let g = TileGrid::new(
        TileSpec::Grid { cols: 3, rows: 2 },
        region,
        (1280, 720),
        INPUT,
        0.1,
    )
    .unwrap();
    assert_eq!(g.tiles.len(), 6);
    let last = g.tiles[5].crop;
    assert!((last.left + last.width - 1100.0).abs() < 1e-9);
    assert!((last.top + last.height - 650.0).abs() < 1e-9);
    assert_eq!((g.tiles[0].crop.left, g.tiles[0].crop.top), (100.0, 50.0));
    assert_eq!(g.tiles[4].inner, [true, true, true, false]);
}

#[test]
fn auto_tiles_only_frames_well_above_the_model_input() {
    assert_eq!(TileSpec::Auto.resolve(768.0, 576.0, INPUT), (2, 1));
    assert_eq!(TileSpec::Auto.resolve(576.0, 768.0, INPUT), (1, 2));
    assert_eq!(TileSpec::Auto.resolve(640.0, 360.0, INPUT), (1, 1));
    assert_eq!(TileSpec::Auto.resolve(1920.0, 1080.0, INPUT), (2, 1));
    assert!(!grid("auto", 640, 360).unwrap().is_tiled());
    assert!(grid("auto", 640, 480).unwrap().is_tiled());
    assert!(grid("auto", 768, 576).unwrap().is_tiled());
    assert!(!grid("1x1", 1920, 1080).unwrap().is_tiled());
}

#[test]
fn a_grid_finer_than_the_model_input_is_refused_with_the_sizes() {
    let e = grid("2x2", 640, 480).unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("2x2 on a 640×480 region gives 356×267 tiles"),
        "{m}"
    );
    assert!(m.contains("model's 300×300 input"), "{m}");
    assert!(grid("2x2", 768, 576).is_ok());
    // The whole frame is never refused, however small.
    assert!(grid("1x1", 160, 120).is_ok());
}

fn piece(x0: f32, y0: f32, x1: f32, y1: f32, score: f32, cut: bool) -> Piece {
    Piece {
        det: Detection {
            bbox: NormRect::new(x0, y0, x1, y1),
            score,
            class: 1,
        },
        cut,
    }
}

#[test]
fn a_person_cut_by_a_tile_edge_comes_out_as_one_box() {
    let g = grid("2x1", 1000, 600).unwrap();
    // The left tile spans x 0..555.6 px. A person at x 520..580 px, y 200..400 px: the left
    // tile sees x 520..555.6 (ending on its inner edge), the right tile sees all of them.
    let (left, right) = (&g.tiles[0], &g.tiles[1]);
    let lx = |px: f32| (px / 1000.0 - left.rect.x0) / left.rect.width();
    let (in_frame, cut) = left.to_frame(&NormRect::new(lx(520.0), 1.0 / 3.0, 0.995, 2.0 / 3.0));
    assert!(cut, "a box ending on the inner edge is cut");
    assert!((in_frame.x0 - 0.52).abs() < 1e-4 && (in_frame.y1 - 2.0 / 3.0).abs() < 1e-4);
    let rx = |px: f32| (px / 1000.0 - right.rect.x0) / right.rect.width();
    let (whole, whole_cut) =
        right.to_frame(&NormRect::new(rx(520.0), 1.0 / 3.0, rx(580.0), 2.0 / 3.0));
    assert!(!whole_cut);
    // The cut half scored better than the whole person: still one box, the whole person's.
    let mut pieces = [
        Piece {
            det: Detection {
                bbox: in_frame,
                score: 0.6,
                class: 1,
            },
            cut: true,
        },
        Piece {
            det: Detection {
                bbox: whole,
                score: 0.5,
                class: 1,
            },
            cut: false,
        },
    ];
    assert_eq!(merge(&mut pieces, 0.4), 1);
    let b = pieces[0].det.bbox;
    assert!(
        (b.x0 - 0.52).abs() < 1e-4 && (b.x1 - 0.58).abs() < 1e-4,
        "{b:?}"
    );
    assert_eq!(pieces[0].det.score, 0.6);
}

#[test]
fn two_halves_cut_by_the_same_seam_are_joined() {
    // Neither tile saw the whole person: the halves overlap in the band and join.
    let mut pieces = [
        piece(0.40, 0.2, 0.55, 0.6, 0.5, true),
        piece(0.45, 0.2, 0.62, 0.6, 0.45, true),
    ];
    assert_eq!(merge(&mut pieces, 0.4), 1);
    assert_eq!(pieces[0].det.bbox, NormRect::new(0.40, 0.2, 0.62, 0.6));
}

#[test]
fn uncut_neighbours_are_kept_and_plain_duplicates_suppressed() {
    let mut pieces = [
        // Two people side by side, touching: neither cut, little overlap.
        piece(0.10, 0.2, 0.20, 0.6, 0.5, false),
        piece(0.19, 0.2, 0.29, 0.6, 0.45, false),
        // The first one again, from the whole-frame pass: suppressed, not joined.
        piece(0.105, 0.21, 0.205, 0.62, 0.4, false),
        // A small box inside a person but not cut: another object (a child), kept.
        piece(0.12, 0.4, 0.16, 0.58, 0.38, false),
    ];
    assert_eq!(merge(&mut pieces, 0.4), 3);
    assert_eq!(pieces[0].det.bbox, NormRect::new(0.10, 0.2, 0.20, 0.6));
    let scores: Vec<f32> = pieces[..3].iter().map(|p| p.det.score).collect();
    assert_eq!(scores, [0.5, 0.45, 0.38]);
}

#[test]
fn other_classes_never_merge() {
    let mut pieces = [
        piece(0.4, 0.2, 0.55, 0.6, 0.5, true),
        Piece {
            det: Detection {
                class: 2,
                ..piece(0.4, 0.2, 0.55, 0.6, 0.5, true).det
            },
            cut: true,
        },
    ];
    assert_eq!(merge(&mut pieces, 0.4), 2);
}
