//! File and pipe sources as a user feeds them: MJPEG streams with garbage and a cut-off end,
//! Y4M 4:2:0 and 4:2:2, raw frames with a short last read, image directories in name order, and
//! the errors for bad headers and unknown files.

use picket_testkit::media;

use jpeg_encoder::SamplingFactor;
use picket::source::file::{open_path, StreamSource};
use picket::source::{FrameSource, Next, Pacing, SourceConfig, SourceError, SourceKind, Status};
use picket_image::{FrameRef, PixelFormat, Preprocessor};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("picket-sources-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn file_cfg(path: &Path) -> SourceConfig {
    SourceConfig {
        kind: SourceKind::File,
        path: Some(path.to_owned()),
        pacing: Pacing::Fast,
        fps: 10,
        ..SourceConfig::default()
    }
}

/// What `drain` keeps of a frame: format, width, height, sequence and timestamp.
type Seen = (PixelFormat, u32, u32, u64, Duration);

/// Drains a source: what each frame was, and how the stream ended.
fn drain(src: &mut dyn FrameSource) -> (Vec<Seen>, Status) {
    let mut seen = Vec::new();
    loop {
        match src.next().unwrap() {
            Next::Frame(f) => seen.push((f.format, f.width, f.height, f.sequence, f.timestamp)),
            Next::Status(s) => return (seen, s),
        }
    }
}

#[test]
fn an_mjpeg_stream_skips_garbage_and_counts_a_cut_off_last_frame() {
    let mut stream = b"junk before".to_vec();
    let mut jpegs = Vec::new();
    for t in 0..3 {
        let j = media::jpeg(&media::scene(64, 48, t), 64, 48, 80, SamplingFactor::F_2_1);
        stream.extend_from_slice(&j);
        stream.extend_from_slice(b"\x00\x00garbage");
        jpegs.push(j);
    }
    let last = &jpegs[0];
    stream.extend_from_slice(&last[..last.len() / 2]);
    let mut src = StreamSource::new(
        "test",
        Box::new(Cursor::new(stream)),
        PixelFormat::Mjpeg,
        (64, 48),
        10.0,
        Pacing::Fast,
    );
    for (i, want) in jpegs.iter().enumerate() {
        let f = src.next().unwrap().frame().unwrap();
        assert_eq!(f.data, &want[..], "frame {i}");
        assert_eq!((f.format, f.width, f.height), (PixelFormat::Mjpeg, 64, 48));
        assert_eq!(f.timestamp, Duration::from_millis(100 * i as u64));
    }
    assert!(src.next().unwrap().is_end());
    let s = src.stats();
    assert_eq!(s.frames, 3);
    assert_eq!(s.skipped, 1, "the cut-off frame");
    assert_eq!(s.garbage_bytes, 11 + 3 * 9);
}

#[test]
fn y4m_420_and_422_files_replay_with_their_rate() {
    let dir = tmpdir("y4m");
    for (c422, format) in [(false, PixelFormat::I420), (true, PixelFormat::I422)] {
        let path = dir.join(format!("clip-{format}.y4m"));
        std::fs::write(&path, media::y4m(32, 24, 4, c422)).unwrap();
        let mut src = open_path(&path, &file_cfg(&path)).unwrap();
        assert_eq!(src.info().fps, Some(25.0));
        let (frames, end) = drain(src.as_mut());
        assert!(end.is_end(), "{end}");
        assert_eq!(frames.len(), 4);
        for (i, f) in frames.iter().enumerate() {
            assert_eq!((f.0, f.1, f.2, f.3), (format, 32, 24, i as u64));
            assert_eq!(f.4, Duration::from_millis(40 * i as u64));
        }
    }
    // The picture survives: the first 4:2:0 frame converts back close to the scene.
    let path = dir.join("clip-i420.y4m");
    let mut src = open_path(&path, &file_cfg(&path)).unwrap();
    let f = src.next().unwrap().frame().unwrap();
    let mut p = Preprocessor::new(32, 24, None);
    let mut out = vec![0; 32 * 24 * 3];
    p.run(&f, &mut out).unwrap();
    let (_, mean) = media::diff(&out, &media::scene(32, 24, 0));
    assert!(mean < 12.0, "mean {mean}");
}

#[test]
fn a_bad_y4m_header_names_the_field_and_a_cut_frame_is_counted() {
    let dir = tmpdir("bady4m");
    let cases: [(&[u8], &str); 3] = [
        (b"YUV4MPEG2 W32 Hfoo F25:1\nFRAME\n", "H"),
        (b"YUV4MPEG2 W32 H24 F25:1 C444\nFRAME\n", "C"),
        (b"YUV4MPEG2 H24 F25:1\n", "W"),
    ];
    for (text, field) in cases {
        let path = dir.join("bad.y4m");
        std::fs::write(&path, text).unwrap();
        let err = open_path(&path, &file_cfg(&path))
            .err()
            .expect("a header error");
        match &err {
            SourceError::Y4mHeader { field: f, .. } => assert_eq!(*f, field, "{err}"),
            other => panic!("{other}"),
        }
        assert!(
            err.to_string().contains(&format!("field `{field}`")),
            "{err}"
        );
    }
    let mut data = media::y4m(32, 24, 2, false);
    data.truncate(data.len() - 100);
    let path = dir.join("cut.y4m");
    std::fs::write(&path, data).unwrap();
    let mut src = open_path(&path, &file_cfg(&path)).unwrap();
    let (frames, end) = drain(src.as_mut());
    assert!(end.is_end());
    assert_eq!(frames.len(), 1);
    assert_eq!(src.stats().skipped, 1);
}

#[test]
fn raw_frames_on_a_pipe_end_with_a_counted_short_read() {
    let (w, h) = (16u32, 8u32);
    let mut data = Vec::new();
    for t in 0..3 {
        data.extend_from_slice(&media::yuyv(&media::scene(w, h, t), w));
    }
    data.extend_from_slice(&[16; 100]); // less than a frame (256 bytes)
    let mut src = StreamSource::new(
        "pipe",
        Box::new(Cursor::new(data.clone())),
        PixelFormat::Yuyv,
        (w, h),
        30.0,
        Pacing::Fast,
    );
    for i in 0..3 {
        let f: FrameRef<'_> = src.next().unwrap().frame().unwrap();
        assert_eq!(f.data, &data[i * 256..(i + 1) * 256]);
        assert_eq!((f.width, f.height, f.sequence), (w, h, i as u64));
    }
    assert!(src.next().unwrap().is_end());
    assert_eq!(src.stats().skipped, 1);
}

#[test]
fn a_directory_replays_jpeg_and_png_in_name_order() {
    let dir = tmpdir("dir");
    let j = |t| media::jpeg(&media::scene(40, 30, t), 40, 30, 90, SamplingFactor::F_2_2);
    std::fs::write(dir.join("b.JPG"), j(1)).unwrap();
    std::fs::write(dir.join("a.jpeg"), j(0)).unwrap();
    let rgb = media::scene(20, 10, 0);
    let mut png = Vec::new();
    let opts = zune_core::options::EncoderOptions::new(
        20,
        10,
        zune_core::colorspace::ColorSpace::RGB,
        zune_core::bit_depth::BitDepth::Eight,
    );
    zune_png::PngEncoder::new(&rgb, opts)
        .encode(&mut png)
        .unwrap();
    std::fs::write(dir.join("c.png"), png).unwrap();
    std::fs::write(dir.join("d.png"), b"not a png").unwrap();
    std::fs::write(dir.join("notes.txt"), b"ignored").unwrap();

    let mut src = open_path(&dir, &file_cfg(&dir)).unwrap();
    let first = src.next().unwrap().frame().unwrap();
    assert_eq!(first.data, &j(0)[..]);
    let (rest, end) = drain(src.as_mut());
    assert!(end.is_end());
    let kinds: Vec<_> = rest.iter().map(|f| (f.0, f.1, f.2)).collect();
    assert_eq!(
        kinds,
        [(PixelFormat::Mjpeg, 40, 30), (PixelFormat::Rgb24, 20, 10)]
    );
    assert_eq!(src.stats().skipped, 1, "d.png");
}

#[test]
fn unknown_files_need_a_format_and_raw_files_use_it() {
    let dir = tmpdir("raw");
    let path = dir.join("clip.rgb");
    let rgb: Vec<u8> = (0..2).flat_map(|t| media::scene(16, 16, t)).collect();
    std::fs::write(&path, &rgb).unwrap();
    let err = open_path(&path, &file_cfg(&path)).err().expect("an error");
    assert!(err.to_string().contains("set source.format"), "{err}");
    let cfg = SourceConfig {
        format: Some(PixelFormat::Rgb24),
        width: 16,
        height: 16,
        ..file_cfg(&path)
    };
    let mut src = open_path(&path, &cfg).unwrap();
    let (frames, _) = drain(src.as_mut());
    assert_eq!(frames.len(), 2);
    let missing = dir.join("missing.y4m");
    let err = open_path(&missing, &file_cfg(&missing))
        .err()
        .expect("an error");
    assert!(matches!(err, SourceError::Open { .. }), "{err}");
}
