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
use crate::source::file::StreamSource;
use crate::source::{FrameSource, Next, Pacing};
use crate::track::mot::{self, Scale};
use picket_image::jpeg::{self, JpegDecoder};
use picket_image::{convert, PixelFormat, RgbImage};
use std::io::Cursor;
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
