//! The fuzzer's committed inputs as ordinary tests: every seed under `fuzz/corpus/TARGET/` and
//! every crash or hang the fuzzer found under `fuzz/regressions/TARGET/` goes through its target
//! in `picket::fuzz_targets`, which must return without a panic. The JPEG seeds are checked to
//! cover what the baseline decoder accepts. `write_seed_corpus` (ignored) rewrites the generated
//! seeds.

use crate::util::root;
use jpeg_encoder::SamplingFactor;
use picket::event::{Event, EventKind};
use picket::fuzz_targets::TARGETS;
use picket::journal::{JournalConfig, JournalItem, Writer};
use picket_image::jpeg::{self, JpegDecoder};
use picket_image::RgbImage;
use picket_testkit::media;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = root().join("fuzz").join(kind).join(target);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    };
    files.retain(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"));
    files.sort();
    files
}

/// Runs every input of `kind` through its target; returns the inputs that panicked, and the
/// count run per target.
fn replay(kind: &str) -> (Vec<String>, Vec<(&'static str, usize)>) {
    let mut panicked = Vec::new();
    let mut counts = Vec::new();
    for (name, target) in TARGETS {
        let files = inputs(kind, name);
        for file in &files {
            let data = std::fs::read(file).unwrap();
            if catch_unwind(AssertUnwindSafe(|| target(&data))).is_err() {
                panicked.push(file.display().to_string());
            }
        }
        counts.push((*name, files.len()));
    }
    (panicked, counts)
}

#[test]
fn fuzz_every_seed_of_every_target_runs_without_a_panic() {
    let (panicked, counts) = replay("corpus");
    assert!(panicked.is_empty(), "these seeds panicked: {panicked:?}");
    for (name, n) in counts {
        assert!(
            n >= 2,
            "fuzz/corpus/{name} has {n} seeds, expected at least 2"
        );
    }
}

#[test]
fn fuzz_every_crash_found_so_far_is_a_clear_error_now() {
    let (panicked, counts) = replay("regressions");
    assert!(
        panicked.is_empty(),
        "these regression inputs panicked: {panicked:?}"
    );
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    assert!(total >= 1, "fuzz/regressions holds no input: {counts:?}");
}

/// The JPEG seeds: every subsampling the baseline decoder takes, with and without DHT, with
/// restart markers, in grey; and two it hands to the general decoder.
fn jpeg_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let (w, h) = (24, 16);
    let rgb = media::scene(w, h, 0);
    let sampled = |s| media::jpeg(&rgb, w, h, 75, s);
    let grey: Vec<u8> = rgb.chunks_exact(3).map(|p| p[1]).collect();
    vec![
        ("444.jpg", sampled(SamplingFactor::F_1_1)),
        ("422.jpg", sampled(SamplingFactor::F_2_1)),
        ("420.jpg", sampled(SamplingFactor::F_2_2)),
        ("440.jpg", sampled(SamplingFactor::F_1_2)),
        ("grey.jpg", media::jpeg_grey(&grey, w, h)),
        (
            "420-nodht.jpg",
            jpeg::strip_huffman_tables(&sampled(SamplingFactor::F_2_2)),
        ),
        (
            "422-nodht.jpg",
            jpeg::strip_huffman_tables(&sampled(SamplingFactor::F_2_1)),
        ),
        (
            "420-restart.jpg",
            media::jpeg_with(&rgb, w, h, 75, |e| {
                e.set_sampling_factor(SamplingFactor::F_2_2);
                e.set_restart_interval(1);
            }),
        ),
        (
            "444-restart-nodht.jpg",
            jpeg::strip_huffman_tables(&media::jpeg_with(&rgb, w, h, 75, |e| {
                e.set_restart_interval(2);
            })),
        ),
        ("general-411.jpg", sampled(SamplingFactor::F_4_1)),
        (
            "general-progressive.jpg",
            media::jpeg_with(&rgb, w, h, 75, |e| e.set_progressive(true)),
        ),
    ]
}

fn frame_jpeg(t: u32) -> Vec<u8> {
    media::jpeg(&media::scene(16, 8, t), 16, 8, 50, SamplingFactor::F_2_1)
}

fn mjpeg_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let two = [frame_jpeg(0), frame_jpeg(1)].concat();
    let mut garbage = b"xx\xff".to_vec();
    garbage.extend_from_slice(&frame_jpeg(0));
    garbage.extend_from_slice(b"\xff\xd8\xff\xd9 noise");
    garbage.extend_from_slice(&jpeg::strip_huffman_tables(&frame_jpeg(1)));
    let mut truncated = frame_jpeg(0);
    truncated.extend_from_slice(&frame_jpeg(1)[..40]);
    vec![
        ("two.mjpeg", two),
        ("garbage-nodht.mjpeg", garbage),
        ("truncated.mjpeg", truncated),
    ]
}

fn y4m_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut mono = b"YUV4MPEG2 W4 H2 F30000:1001 Cmono\nFRAME\n".to_vec();
    mono.extend_from_slice(&[16, 60, 120, 235, 0, 255, 128, 64]);
    mono.extend_from_slice(b"FRAME Ixyz\n\x10\x10");
    vec![
        ("420.y4m", media::y4m(8, 4, 2, false)),
        ("422.y4m", media::y4m(6, 2, 2, true)),
        ("mono.y4m", mono),
    ]
}

fn raw_seeds() -> Vec<(&'static str, Vec<u8>)> {
    // The first byte picks the format, the next two the size less one (fuzz_targets::raw).
    let frames = |pick: u8, w: u8, h: u8, len: usize| {
        let mut v = vec![pick, w - 1, h - 1];
        v.extend((0..len).map(|i| (i * 37 % 256) as u8));
        v
    };
    vec![
        ("rgb24-4x2.raw", frames(0, 4, 2, 2 * 24 + 5)),
        ("yuyv-3x3.raw", frames(1, 3, 3, 2 * 24)),
        ("i420-5x3.raw", frames(2, 5, 3, 2 * 27)),
        ("nv12-4x4.raw", frames(3, 4, 4, 24 + 7)),
    ]
}

fn mot_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let det = "# frame,id,x,y,w,h,score\n1,-1,10.5,20,30,60,0.91\n1,-1,100,20,28,55,0.4,-1,-1,-1\n\
               \n2,-1,12,21,30,60,0.88\n";
    let norm = "1,-1,0.1,0.2,0.05,0.3,0.9\n2,3,0.11,0.2,0.05,0.3,1\n";
    vec![
        ("pixels.txt", det.as_bytes().to_vec()),
        ("normalised.txt", norm.as_bytes().to_vec()),
    ]
}

fn mqtt_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let event = r#"{"v":1,"box":"porch","id":4,"kind":"intrusion","ts":"2026-12-04T21:49:03.557Z","clock_synced":true,"place":"walkway","track":1,"score":0.5,"direction":"in","detail":{"rule":"on_walkway"},"snapshot":"/9j/2Q=="}"#;
    vec![
        (
            "event.msg",
            format!("picket/porch/events\n{event}").into_bytes(),
        ),
        (
            "replay.msg",
            b"picket/porch/replay\n{\"from\":3,\"to\":9}".to_vec(),
        ),
    ]
}

/// Requests for the live view, each behind the byte that picks how many bytes a read hands
/// over (less one): the status each reaches is in its name (`route` for a page, a stream or a
/// check).
fn preview_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let toml = "[[zones]]\nname = \"door\"\npolygon = [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5], [0.1, 0.5]]\n\n\
                [[rules]]\nname = \"at the door\"\nkind = \"intrusion\"\nzone = \"door\"\n";
    // As the page's encodeURIComponent, and as a form would (`+` for a space).
    let uri: String = toml
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'!' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    let form = uri.replace("%20", "+");
    let req = |piece: u8, head: String| {
        let mut v = vec![piece - 1];
        v.extend_from_slice(head.as_bytes());
        v
    };
    let get = |target: &str, host: &str| {
        format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n")
    };
    vec![
        ("route-page.http", req(64, get("/", "localhost:8080"))),
        (
            "route-script.http",
            req(1, get("/page.js", "127.0.0.1:8080")),
        ),
        (
            "route-stream.http",
            req(7, get("/stream.mjpeg", "[::1]:8080")),
        ),
        (
            "route-check.http",
            req(200, get(&format!("/check?toml={uri}"), "localhost:8080")),
        ),
        (
            "route-check-form.http",
            req(3, get(&format!("/check?x=1&toml={form}&y"), "LOCALHOST")),
        ),
        ("404.http", req(16, get("/etc/passwd", "localhost"))),
        (
            "405.http",
            req(64, "POST / HTTP/1.1\r\nHost: localhost\r\n\r\n".into()),
        ),
        ("421.http", req(64, get("/", "evil.example:8080"))),
        ("421-no-host.http", req(64, "GET / HTTP/1.0\r\n\r\n".into())),
    ]
}

/// The JPEG seeds the reduced-size decoder takes (every subsampling, without DHT, with restart
/// markers; grey, which it refuses), and one large enough to stay bigger than a block at 1/8.
fn jpeg_scaled_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut seeds: Vec<_> = jpeg_seeds()
        .into_iter()
        .filter(|(name, _)| !name.starts_with("general-"))
        .collect();
    let (w, h) = (64, 48);
    let rgb = media::scene(w, h, 3);
    seeds.push((
        "420-64x48.jpg",
        media::jpeg(&rgb, w, h, 50, SamplingFactor::F_2_2),
    ));
    seeds
}

/// A small journal with a few events, and one with only the schema (not named `.db`, which the
/// repository ignores).
fn journal_seeds(dir: &Path) -> Vec<(&'static str, Vec<u8>)> {
    let make = |name: &str, events: usize| {
        let path = dir.join(name);
        let mut w = Writer::open(&JournalConfig::at(&path)).unwrap();
        let items: Vec<JournalItem> = (0..events)
            .map(|i| {
                let e = Event::new(EventKind::Intrusion, 1_700_000_000_000 + i as i64, 5, true);
                JournalItem::new(e.with_place("door"))
            })
            .collect();
        w.append(&items).unwrap();
        w.checkpoint().unwrap();
        drop(w);
        std::fs::read(&path).unwrap()
    };
    vec![
        ("three.journal", make("three.db", 3)),
        ("empty.journal", make("empty.db", 0)),
    ]
}

#[test]
fn fuzz_jpeg_seeds_cover_the_baseline_decoder() {
    let dir = root().join("fuzz/corpus/jpeg");
    let mut decoder = JpegDecoder::new();
    let mut out = RgbImage::new(0, 0);
    for (name, generated) in jpeg_seeds() {
        let data = std::fs::read(dir.join(name)).unwrap();
        assert_eq!(
            data, generated,
            "{name} is not what write_seed_corpus makes"
        );
        let general = decoder.general_path_frames();
        decoder.decode(&data, &mut out).unwrap();
        assert_eq!((out.width(), out.height()), (24, 16), "{name}");
        let went_general = decoder.general_path_frames() > general;
        assert_eq!(went_general, name.starts_with("general-"), "{name}");
        assert_eq!(
            jpeg::has_huffman_tables(&data),
            !name.contains("nodht"),
            "{name}"
        );
        let dri = data.windows(2).any(|w| w == [0xFF, 0xDD]);
        assert_eq!(dri, name.contains("restart"), "{name}");
    }
}

#[test]
fn fuzz_preview_seeds_reach_what_their_names_say() {
    use picket::preview::http::{request, Route};
    for (name, data) in preview_seeds() {
        let committed = std::fs::read(root().join("fuzz/corpus/preview").join(name)).unwrap();
        assert_eq!(
            committed, data,
            "{name} is not what write_seed_corpus makes"
        );
        let mut source = &data[1..];
        let mut buf = vec![0u8; picket::preview::HEADER_LIMIT];
        let got = request(&mut source, &mut buf);
        let want = name.trim_end_matches(".http");
        match got {
            Some(Route::Reply(200, ..)) => assert!(want.starts_with("route-"), "{name}"),
            Some(Route::Reply(code, ..)) => {
                assert!(want.starts_with(&code.to_string()), "{name}: {code}")
            }
            Some(Route::Check(toml)) => {
                assert!(want.starts_with("route-check"), "{name}");
                assert!(
                    toml.starts_with("[[zones]]\nname = \"door\""),
                    "{name}: {toml:?}"
                );
                let body = picket::preview::http::check_body(picket::config::check_text, &toml);
                let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                assert_eq!(v["ok"], true, "{name}: {body}");
            }
            other => assert!(want.starts_with("route-"), "{name}: {other:?}"),
        }
    }
}

#[test]
#[ignore = "rewrites the generated seeds under fuzz/corpus; run by hand"]
fn write_seed_corpus() {
    let tmp = std::env::temp_dir().join(format!("picket-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let sets = [
        ("jpeg", jpeg_seeds()),
        ("mjpeg", mjpeg_seeds()),
        ("y4m", y4m_seeds()),
        ("raw", raw_seeds()),
        ("mot", mot_seeds()),
        ("mqtt", mqtt_seeds()),
        ("preview", preview_seeds()),
        ("jpeg_scaled", jpeg_scaled_seeds()),
        ("journal", journal_seeds(&tmp)),
    ];
    for (target, seeds) in sets {
        let dir = root().join("fuzz/corpus").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, data) in seeds {
            std::fs::write(dir.join(name), data).unwrap();
        }
    }
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn fuzz_a_small_jpeg_claiming_a_huge_frame_is_refused_before_it_is_allocated() {
    // Found by the fuzzer: 767 bytes whose header claims 32768x65535 (with its broken DHT
    // stripped, so that the standard tables apply) made the baseline decoder allocate 6.4 GB
    // for its output and abort.
    let found =
        std::fs::read(root().join("fuzz/regressions/jpeg/32768x65535-in-767-bytes.jpg")).unwrap();
    let data = jpeg::strip_huffman_tables(&found);
    let mut out = RgbImage::new(0, 0);
    let got = JpegDecoder::new().decode(&data, &mut out);
    let refused = jpeg::JpegError::Truncated("less data than the frame's size needs");
    assert_eq!(got, Err(refused));
    assert_eq!(out.as_bytes().len(), 0, "nothing was allocated");
    let general = jpeg::decode_general(&data, &mut out);
    assert!(general.is_err(), "{general:?}");
}

/// A frame the general decoder asserts on (`fuzz/regressions/mjpeg/`, found by the fuzzer:
/// `zune-jpeg` panics inside instead of returning an error) between good frames: `picket run`
/// counts it bad and goes on with the frames after it, where the panic once ended the process
/// through the safety hook (outputs off, exit 101). Host only: it runs `picket` as a process.
#[test]
fn a_frame_a_library_panics_on_is_skipped_and_picket_run_goes_on() {
    let root = root();
    let scratch = crate::util::Scratch::new("contained");
    let dir = &scratch.0;
    let clip = std::fs::read(root.join("tests/data/clip/vtest-460-539.mjpeg")).unwrap();
    let starts: Vec<usize> = (0..clip.len().saturating_sub(2))
        .filter(|&i| clip[i..i + 3] == [0xFF, 0xD8, 0xFF])
        .collect();
    let mut stream = clip[..starts[5]].to_vec();
    stream.extend_from_slice(
        &std::fs::read(root.join("fuzz/regressions/mjpeg/zune-panic-00")).unwrap(),
    );
    stream.extend_from_slice(&clip[starts[5]..starts[10]]);
    let source = dir.join("stream.mjpeg");
    std::fs::write(&source, stream).unwrap();
    let cfg = dir.join("picket.toml");
    std::fs::write(
        &cfg,
        "[motion]\nenabled = false\n\n[health]\nfps_floor = 0.0\n",
    )
    .unwrap();
    let o = std::process::Command::new(crate::util::picket_bin())
        .args(["run", "--fast", "-c"])
        .arg(&cfg)
        .arg("--source")
        .arg(&source)
        .arg("--journal")
        .arg(dir.join("events.db"))
        .arg("--state-file")
        .arg(dir.join("arming.toml"))
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "picket run: {:?}\n{log}", o.status);
    let frames: u64 = log
        .split("stopped: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no `stopped:` line in\n{log}"));
    assert!(
        frames > 10,
        "{frames} frames: the ten good ones and the bad"
    );
}
