//! The fuzz targets: one plain function per parser that reads outside data, taking arbitrary
//! bytes. Each must return for any input without a panic, a hang or an allocation out of
//! proportion to the input; what it returns is not judged (bad input is an `Err` the caller
//! reports or a frame the source counts and skips).
//!
//! The same functions serve two callers: the coverage-guided fuzzer's binaries in `fuzz/`
//! (one `afl::fuzz!` line each, built with cargo-afl) and the host tests, which replay every
//! committed seed and crash input through them (`tests/fuzz_replay.rs`). Behind the `fuzzing`
//! feature, which the tests enable; a release never carries it.

use crate::journal::{JournalConfig, Reader, Writer};
use crate::preview::http::{self, HeadSource, Route};
use crate::source::file::StreamSource;
use crate::source::{FrameSource, Next, Pacing};
use crate::track::mot::{self, Scale};
use picket_image::jpeg::{self, JpegDecoder};
use picket_image::planar_resize::{PlanarResizer, YuvRange};
use picket_image::resize::CropBox;
use picket_image::{convert, PixelFormat, RgbImage};
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

/// A fuzz target: any bytes in, nothing out, never a panic.
pub type Target = fn(&[u8]);

/// Every target, by the name the fuzz binary, the corpus directories and `scripts/fuzz.sh`
/// use.
pub const TARGETS: &[(&str, Target)] = &[
    ("jpeg", jpeg),
    ("mjpeg", mjpeg),
    ("y4m", y4m),
    ("raw", raw),
    ("config", config),
    ("mot", mot),
    ("journal", journal),
    ("mqtt", mqtt),
    ("preview", preview),
    ("jpeg_scaled", jpeg_scaled),
];

/// The target named `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// More frames than any corpus input holds: a stream of tiny frames still ends quickly.
const MAX_FRAMES: usize = 4096;

/// The baseline JPEG decoder (with `zune-jpeg` behind it for what the baseline does not
/// support), twice through one decoder so that state left by a failed frame is exercised, and
/// the marker walkers the MJPEG framing and the DHT insertion use.
pub fn jpeg(data: &[u8]) {
    let mut decoder = JpegDecoder::new();
    let mut out = RgbImage::new(0, 0);
    if decoder.decode(data, &mut out).is_ok() {
        assert_eq!(
            out.as_bytes().len(),
            out.width() as usize * out.height() as usize * 3
        );
    }
    let stripped = jpeg::strip_huffman_tables(data);
    let _ = decoder.decode(&stripped, &mut out);
    let _ = jpeg::scan_length(data);
    let _ = jpeg::dimensions(data);
    let _ = jpeg::has_huffman_tables(data);
}

/// Pulls every frame out of `source` and makes it RGB, as the pipeline would: MJPEG frames
/// through one reused decoder, raw ones converted. At most [`MAX_FRAMES`].
fn drain(source: &mut dyn FrameSource) {
    let mut decoder = JpegDecoder::new();
    let mut out = RgbImage::new(0, 0);
    for _ in 0..MAX_FRAMES {
        match source.next() {
            Ok(Next::Frame(frame)) if frame.format == PixelFormat::Mjpeg => {
                let _ = decoder.decode(frame.data, &mut out);
            }
            Ok(Next::Frame(frame)) => {
                let _ = convert::to_rgb(&frame, &mut out);
            }
            Ok(Next::Status(s)) if s.is_end() => return,
            Ok(Next::Status(_)) => {}
            Err(_) => return,
        }
    }
}

fn reader(data: &[u8]) -> Box<dyn std::io::Read + Send> {
    Box::new(Cursor::new(data.to_vec()))
}

/// MJPEG stream framing: concatenated JPEGs with garbage, truncation and broken markers
/// between them, each frame decoded by one decoder (frames of different sizes and
/// subsamplings follow each other).
pub fn mjpeg(data: &[u8]) {
    let mut s = StreamSource::new(
        "fuzz",
        reader(data),
        PixelFormat::Mjpeg,
        (0, 0),
        10.0,
        Pacing::Fast,
    );
    drain(&mut s);
}

/// A Y4M file: its header line, then `FRAME` lines and frames, each converted to RGB.
pub fn y4m(data: &[u8]) {
    let path = Path::new("fuzz.y4m");
    if let Ok(mut s) = StreamSource::y4m(path, reader(data), 10.0, Pacing::Fast) {
        drain(&mut s);
    }
}

/// Raw frames of a fixed format and size, each converted to RGB. The first byte picks the
/// format (low two bits) and the size (width and height 1..=16 from the next two bytes), so
/// that odd sizes and partial frames are reached; the rest is the stream.
pub fn raw(data: &[u8]) {
    let [pick, w, h, rest @ ..] = data else {
        return;
    };
    let format = match pick & 3 {
        0 => PixelFormat::Rgb24,
        1 => PixelFormat::Yuyv,
        2 => PixelFormat::I420,
        _ => PixelFormat::Nv12,
    };
    let size = (u32::from(w % 16) + 1, u32::from(h % 16) + 1);
    let mut s = StreamSource::new("fuzz", reader(rest), format, size, 10.0, Pacing::Fast);
    drain(&mut s);
}

/// The config loader and validator: TOML text in, every problem (with line and column) or the
/// warnings out, rendered as the user would see them.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match crate::validate::check::<crate::config::Config>(text, "fuzz.toml") {
        Ok(c) => drop(c.warnings),
        Err(e) => drop(e.to_string()),
    }
}

/// The MOTChallenge reader of `picket track-eval`, normalised and in pixels.
pub fn mot(data: &[u8]) {
    let _ = mot::read_detections(data, "fuzz.txt", Scale::NORMALISED);
    let pixels = Scale {
        width: 640.0,
        height: 480.0,
    };
    let _ = mot::read_detections(data, "fuzz.txt", pixels);
}

/// A scratch directory for this process (the fuzzer runs one input at a time in a process).
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("picket-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// The journal opener: arbitrary bytes as the database file, opened by the writer (with the
/// integrity check on open) and by the reader, whose statistics and newest events are read.
pub fn journal(data: &[u8]) {
    let dir = scratch();
    let path = dir.join("events.db");
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(r) = Reader::open(&path) {
        let _ = r.stats();
    }
    let mut cfg = JournalConfig::at(&path);
    cfg.check_on_open = true;
    drop(Writer::open(&cfg));
}

/// What the hub and the uplink accept from MQTT: an event message on a box's topic (the
/// first line of the input is the topic, the rest the payload), and a replay request.
pub fn mqtt(data: &[u8]) {
    let (topic, payload) = match data.iter().position(|&b| b == b'\n') {
        Some(n) => (&data[..n], &data[n + 1..]),
        None => (&[][..], data),
    };
    let topic = String::from_utf8_lossy(topic);
    let box_id = match crate::hub::inbox::topic("picket", &topic) {
        crate::hub::inbox::Topic::Events(b) => b.to_owned(),
        _ => "box1".to_owned(),
    };
    if let Err(e) = crate::hub::inbox::event(&box_id, payload) {
        let _ = (e.reason(), e.to_string());
    }
    let _ = crate::uplink::replay::Request::parse(payload);
}

/// A request's bytes handed over `piece` at a time, as a socket may; their end is the client
/// closing. No deadline: the time-out is the socket's.
struct Pieces<'a> {
    data: &'a [u8],
    piece: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.piece.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

impl HeadSource for Pieces<'_> {
    fn time_left(&mut self, _: std::time::Duration) -> std::io::Result<()> {
        Ok(())
    }
}

/// The live view's request parser: the head read within its byte limit (arriving in pieces
/// of 1 to 256 bytes, picked by the first byte), then routed as the connection's thread
/// routes it (405, 421, 404, the pages, `/check`'s query decoded and checked as the zone
/// editor's text). Every status it picks has its reason phrase; `/check`'s answer is JSON.
pub fn preview(data: &[u8]) {
    let [pick, rest @ ..] = data else {
        return;
    };
    let mut source = Pieces {
        data: rest,
        piece: usize::from(*pick) + 1,
    };
    let mut buf = vec![0u8; crate::preview::HEADER_LIMIT];
    match http::request(&mut source, &mut buf) {
        Some(Route::Reply(code, ..)) => {
            assert!(!http::status_text(code).is_empty(), "status {code}")
        }
        Some(Route::Check(toml)) => {
            let body = http::check_body(crate::config::check_text, &toml);
            let json = serde_json::from_str::<serde_json::Value>(&body);
            assert!(json.is_ok(), "{body}");
        }
        Some(Route::Snapshot | Route::Stream) | None => {}
    }
}

/// The detector's input size for [`jpeg_scaled`]: small, so that a run stays fast.
const DETECTOR_INPUT: (u32, u32) = (16, 12);

/// The baseline decoder's reduced-size path as the preprocessor drives it: the frame decoded
/// to its Y, Cb and Cr planes at 1/1, 1/2, 1/4 and 1/8 by one reused decoder, each resized
/// (whole, and its centre as a region of interest would crop it) to the detector's input.
/// The planes a decode returns must always fit the resizer built from their own sizes.
pub fn jpeg_scaled(data: &[u8]) {
    let mut decoder = JpegDecoder::new();
    let mut dst = vec![0u8; (DETECTOR_INPUT.0 * DETECTOR_INPUT.1 * 3) as usize];
    for scale in [1, 2, 4, 8] {
        let Ok(p) = decoder.decode_planes(data, scale) else {
            assert!(
                decoder.last_planes().is_none(),
                "planes kept after an error"
            );
            continue;
        };
        let (w, h) = (f64::from(p.y.width), f64::from(p.y.height));
        let centre = CropBox {
            left: w / 4.0,
            top: h / 4.0,
            width: w / 2.0,
            height: h / 2.0,
        };
        for crop in [CropBox::full(p.y.width, p.y.height), centre] {
            let Ok(mut r) = PlanarResizer::new(
                (p.y.width, p.y.height),
                (p.cb.width, p.cb.height),
                (p.h_sub, p.v_sub),
                crop,
                DETECTOR_INPUT,
                YuvRange::Full,
            ) else {
                continue;
            };
            let done = r.resize(p.y.into(), p.cb.into(), p.cr.into(), &mut dst);
            assert!(done.is_ok(), "1/{scale}: {done:?}");
        }
    }
}
