//! `picket track-eval` as a user runs it: MOTChallenge detections in, tracks out, and a clear
//! message naming the file and line for a malformed input.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("picket-track-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn track_eval(det: &PathBuf, out: &PathBuf) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_picket"))
        .args(["track-eval", "--fps", "25", "--size", "640x480", "--det"])
        .arg(det)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn two_walkers_come_out_as_two_tracks_in_pixels() {
    let mut text = String::new();
    for f in 1..=20 {
        writeln!(text, "{f},-1,{},100,40,120,0.9,-1,-1,-1", 50 + 3 * f).unwrap();
        writeln!(text, "{f},-1,{},120,40,120,0.8,-1,-1,-1", 500 - 3 * f).unwrap();
    }
    let (det, out) = (scratch("walk-det.txt"), scratch("walk-out.txt"));
    std::fs::write(&det, text).unwrap();
    let run = track_eval(&det, &out);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let result = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<Vec<&str>> = result.lines().map(|l| l.split(',').collect()).collect();
    // Confirmed from the second frame: 19 frames of 2 tracks.
    assert_eq!(lines.len(), 38, "{result}");
    let ids: std::collections::BTreeSet<&str> = lines.iter().map(|l| l[1]).collect();
    assert_eq!(ids.into_iter().collect::<Vec<_>>(), ["1", "2"]);
    let last = lines.iter().find(|l| l[0] == "20" && l[1] == "1").unwrap();
    let x: f32 = last[2].parse().unwrap();
    assert!((x - 110.0).abs() < 2.0, "x {x}");
    assert_eq!(last[6..], ["0.900", "-1", "-1", "-1"]);
}

#[test]
fn a_malformed_line_is_reported_with_file_and_line() {
    let (det, out) = (scratch("bad-det.txt"), scratch("bad-out.txt"));
    std::fs::write(&det, "1,-1,10,10,40,120,0.9\n2,-1,10,ten,40,120,0.9\n").unwrap();
    let run = track_eval(&det, &out);
    assert_eq!(run.status.code(), Some(1));
    let err = String::from_utf8_lossy(&run.stderr);
    let want = format!("{}:2: field 4 (y) is not a number: `ten`", det.display());
    assert!(err.contains(&want), "{err}");
}

#[test]
fn a_file_in_pixels_without_size_is_refused_naming_the_line_and_value() {
    let (det, out) = (scratch("px-det.txt"), scratch("px-out.txt"));
    let _ = std::fs::remove_file(&out);
    std::fs::write(&det, "# pixels\n1,-1,53,100,40,120,0.9,-1,-1,-1\n").unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_picket"))
        .args(["track-eval", "--fps", "25", "--det"])
        .arg(&det)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let err = String::from_utf8_lossy(&run.stderr);
    let want = format!(
        "{}:2: field 3 (x) is 53, above 1, but without a frame size the boxes are read as \
         normalised (0 to 1); for a file in pixels, give its size: --size WxH",
        det.display()
    );
    assert!(err.contains(&want), "{err}");
    assert!(!out.exists(), "an output file was written");
}
