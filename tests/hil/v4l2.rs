//! The V4L2 source on a real driver: vivid in the arm64 kernel VM (`scripts/hil/`), found
//! through `HIL_VIVID`.
//!
//! The two tests share the one vivid node, so they take turns through a lock.

use crate::vm;
use picket::source::v4l2::V4l2Source;
use picket::source::{FrameSource, Next, SourceConfig, SourceKind, Status};
use picket_image::{convert, FrameRef, PixelFormat, RgbImage};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

static VIVID: Mutex<()> = Mutex::new(());

fn config(dev: PathBuf) -> SourceConfig {
    SourceConfig {
        kind: SourceKind::V4l2,
        device: dev,
        format: Some(PixelFormat::Yuyv),
        width: 640,
        height: 480,
        fps: 30,
        buffers: 4,
        timeout_ms: 2000,
        reconnect_max_ms: 500,
        ..SourceConfig::default()
    }
}

/// The next frame, or a panic saying what came instead.
fn frame<'a>(src: &'a mut V4l2Source, what: &str) -> FrameRef<'a> {
    match src.next() {
        Ok(Next::Frame(f)) => f,
        Ok(Next::Status(s)) => panic!("{what}: {s}"),
        Err(e) => panic!("{what}: {e}"),
    }
}

#[test]
#[ignore = "needs the arm64 kernel VM: scripts/test.d/90-hil.sh runs it there"]
fn vivid_delivers_100_yuyv_frames_at_640x480_with_rising_timestamps() {
    let dev = vm::device("HIL_VIVID");
    let _turn = VIVID.lock().unwrap_or_else(|e| e.into_inner());
    let mut src = V4l2Source::open(&config(dev)).expect("open vivid");
    let got = src.negotiated().expect("streaming").clone();
    assert_eq!(got.fourcc, "YUYV");
    assert_eq!((got.width, got.height), (640, 480));
    assert_eq!(src.info().format, PixelFormat::Yuyv);
    eprintln!("{}", src.info().description);

    let mut last: Option<Duration> = None;
    let mut rgb = RgbImage::default();
    for i in 0..100u64 {
        let f = frame(&mut src, &format!("frame {i}"));
        assert_eq!((f.format, f.width, f.height), (PixelFormat::Yuyv, 640, 480));
        assert_eq!(f.sequence, i);
        assert!(f.stride >= 1280, "stride {}", f.stride);
        assert!(f.data.len() >= f.stride * 479 + 1280);
        if let Some(t) = last {
            assert!(f.timestamp > t, "frame {i}: {:?} after {t:?}", f.timestamp);
        }
        last = Some(f.timestamp);
        if i == 99 {
            convert::to_rgb(&f, &mut rgb).unwrap();
        }
    }
    // vivid's default pattern is eight vertical colour bars: across the middle row, the bars'
    // centres differ from their neighbours, and the first (white) is brighter than the last.
    let row = &rgb.as_bytes()[240 * 640 * 3..][..640 * 3];
    let bars: Vec<[u8; 3]> = (0..8)
        .map(|b| {
            let x = b * 80 + 40;
            [row[x * 3], row[x * 3 + 1], row[x * 3 + 2]]
        })
        .collect();
    for pair in bars.windows(2) {
        assert_ne!(pair[0], pair[1], "bars {bars:?}");
    }
    let luma = |p: [u8; 3]| p.iter().map(|&c| c as u32).sum::<u32>();
    assert!(luma(bars[0]) > luma(bars[7]) + 200, "bars {bars:?}");
    let s = src.stats();
    assert_eq!((s.frames, s.lost, s.skipped), (100, 0, 0));
}

#[test]
#[ignore = "needs the arm64 kernel VM: scripts/test.d/90-hil.sh runs it there"]
fn vivid_disconnect_mid_stream_is_lost_then_back_without_a_restart() {
    let dev = vm::device("HIL_VIVID");
    let _turn = VIVID.lock().unwrap_or_else(|e| e.into_inner());
    let mut src = V4l2Source::open(&config(dev.clone())).expect("open vivid");
    for i in 0..10 {
        frame(&mut src, &format!("frame {i}"));
    }

    vm::press_disconnect(&dev);

    let mut lost = false;
    for _ in 0..10 {
        match src.next() {
            Ok(Next::Frame(_)) => continue, // a frame dequeued before the press
            Ok(Next::Status(s)) => {
                assert!(matches!(s, Status::Lost { .. }), "{s}");
                lost = true;
                break;
            }
            Err(e) => panic!("while losing the camera: {e}"),
        }
    }
    assert!(lost, "no CameraLost after Disconnect");

    let mut back = false;
    for _ in 0..40 {
        match src.next() {
            Ok(Next::Status(Status::Back { .. })) => {
                back = true;
                break;
            }
            Ok(Next::Status(Status::Unavailable { attempt, .. })) => eprintln!("attempt {attempt}"),
            other => panic!("while reconnecting: {other:?}"),
        }
    }
    assert!(back, "no CameraBack within 40 attempts");

    for i in 0..10u64 {
        let f = frame(&mut src, &format!("frame {i} after reconnecting"));
        assert_eq!((f.format, f.width, f.height), (PixelFormat::Yuyv, 640, 480));
        assert_eq!(
            f.sequence,
            10 + i,
            "sequence numbers continue across the reconnection"
        );
    }
    let s = src.stats();
    assert_eq!((s.lost, s.reconnected), (1, 1));
}
