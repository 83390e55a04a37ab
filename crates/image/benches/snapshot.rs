//! What showing a stored snapshot costs: [`picket_image::snapshot::draw`] (decode, draw the
//! overlay, encode) on a frame of the committed clip, beside a plain decode+encode and beside
//! sending the bytes as stored, in alternating rounds of one run, so the figures are ratios
//! taken under the same load. The uplink pays this once per event with a snapshot, on its own
//! thread (`src/uplink/present.rs`).
//!
//! `cargo bench -p picket-image --bench snapshot [-- ROUNDS]` prints `case median_ms` lines.

// A benchmark: a panic here stops a measurement on its own fixtures, never the appliance.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use picket_geom::{NormPoint, NormRect};
use picket_image::annotate::{Mark, Overlay, Shape, Status};
use picket_image::{snapshot, RgbImage};
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

/// The first frame of the committed clip (384×288, a street with people), doubled to 768×576
/// and encoded at the snapshots' quality: the size the uplink's figure is quoted for.
fn frame() -> Vec<u8> {
    let clip =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/clip/vtest-000-079.mjpeg");
    let data = std::fs::read(&clip).unwrap();
    let next = data
        .windows(3)
        .skip(2)
        .position(|w| w == [0xFF, 0xD8, 0xFF])
        .map_or(data.len(), |i| i + 2);
    let small = picket_image::still::decode(&data[..next], &clip).unwrap();
    let (w, h) = (small.width() * 2, small.height() * 2);
    let mut big = RgbImage::new(w, h);
    let src = small.as_bytes();
    for (i, px) in big.as_bytes_mut().chunks_exact_mut(3).enumerate() {
        let (x, y) = (i as u32 % w / 2, i as u32 / w / 2);
        let j = ((y * small.width() + x) * 3) as usize;
        px.copy_from_slice(&src[j..j + 3]);
    }
    big.to_jpeg(85).unwrap()
}

/// What a busy event snapshot carries: four people (one firing), a zone, a line with its
/// counters, the status strip.
fn overlay() -> Overlay {
    let mark = |i: u64, firing| Mark {
        rect: NormRect::new(0.1 + 0.2 * i as f32, 0.3, 0.22 + 0.2 * i as f32, 0.8),
        track: Some(i + 1),
        score: 0.8,
        firing,
    };
    let p = NormPoint::new;
    Overlay {
        marks: (0..4).map(|i| mark(i, i == 1)).collect(),
        shapes: vec![
            Shape {
                name: "walkway".into(),
                points: vec![p(0.1, 0.5), p(0.6, 0.45), p(0.9, 0.9), p(0.05, 0.95)],
                closed: true,
                firing: true,
                counts: None,
            },
            Shape {
                name: "midline".into(),
                points: vec![p(0.5, 0.0), p(0.5, 1.0)],
                closed: false,
                firing: false,
                counts: Some((12, 9)),
            },
        ],
        mask: None,
        status: Some(Status {
            armed: true,
            fps: 9.8,
            infer_ms: 61.0,
            clock_synced: true,
        }),
    }
}

fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find(|a| a != "--bench")
        .map_or(31, |r| r.parse().unwrap());
    let stored = snapshot::attach(frame(), &overlay());
    let origin = Path::new("bench.jpg");
    let img = picket_image::still::decode(&stored, origin).unwrap();
    eprintln!(
        "{}x{}, {} bytes stored",
        img.width(),
        img.height(),
        stored.len()
    );
    type Case<'a> = (&'a str, Box<dyn Fn() -> usize + 'a>);
    let cases: [Case; 3] = [
        ("as_stored", Box::new(|| black_box(&stored).to_vec().len())),
        (
            "decode_encode",
            Box::new(|| {
                let img = picket_image::still::decode(black_box(&stored), origin).unwrap();
                img.to_jpeg(85).unwrap().len()
            }),
        ),
        (
            "drawn",
            Box::new(|| snapshot::draw(black_box(&stored), origin).unwrap().len()),
        ),
    ];
    let mut times = vec![Vec::with_capacity(rounds); cases.len()];
    for round in 0..rounds + 3 {
        for ((_, f), t) in cases.iter().zip(&mut times) {
            let start = Instant::now();
            black_box(f());
            if round >= 3 {
                t.push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    for ((name, _), t) in cases.iter().zip(&mut times) {
        t.sort_by(f64::total_cmp);
        println!("{name} {:.3}", t[t.len() / 2]);
    }
}
