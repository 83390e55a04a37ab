//! Every section of the config refuses a bad value with a message that names the file, line,
//! column and key, as `picket check` shows it.

use std::process::Command;

/// One bad snippet per section, and what `picket check` must say about it.
const CASES: &[(&str, &str)] = &[
    (
        "[source]\nkind = \"file\"\n",
        "1:1: source.path: required when kind = \"file\"",
    ),
    (
        "[model]\nthreads = 0\n",
        "2:11: model.threads: must be between 1 and 16, not 0",
    ),
    (
        "[model]\nruntime = \"litert\"\nlitert_library = \"/nowhere/libLiteRt.so\"\n",
        "2:11: model.runtime: \"litert\": LiteRT library /nowhere/libLiteRt.so: it could not be \
         loaded: /nowhere/libLiteRt.so: cannot open shared object file",
    ),
    (
        "[model]\nruntime = \"fast\"\n",
        "2:11: unknown variant `fast`, expected one of `auto`, `litert`, `tflite`",
    ),
    (
        "[model]\nweight_cache = \"/nowhere/xnnpack.cache\"\n",
        "2:16: model.weight_cache: no directory for the weight cache at /nowhere/xnnpack.cache",
    ),
    (
        "[detector]\nthreshold = 1.5\n",
        "2:13: detector.threshold: must be in (0, 1], not 1.5",
    ),
    (
        "[motion]\ncoast_every = 0\n",
        "2:15: motion.coast_every: must be at least 1",
    ),
    (
        "[tamper]\nhold_s = -1\n",
        "2:10: tamper.hold_s: must be in [0, 3600] seconds",
    ),
    (
        "[tamper]\nreasons = [\"covered\", \"sprayed\"]\n",
        "2:23: tamper.reasons.1: unknown reason `sprayed` (covered, blinded, moved, defocused)",
    ),
    (
        "[tamper]\nwhen = \"sometimes\"\n",
        "2:8: unknown variant `sometimes`, expected `always` or `armed`",
    ),
    (
        "[tracker]\nmatch_iou = 2.0\n",
        "2:13: tracker.match_iou: 2 is not in 0..=1",
    ),
    (
        "[[zones]]\nname = \"door\"\npolygon = [[0,0],[1,1]]\n",
        "3:11: zones.0.polygon: zone `door`: polygon has 2 points (needs ≥ 3)",
    ),
    (
        "[[lines]]\nname = \"gate\"\na = [0.5, 0.5]\nb = [0.5, 0.5]\n",
        "4:5: lines.0.b: line `gate` has zero length (a = b)",
    ),
    (
        "[[rules]]\nname = \"r\"\nkind = \"intrusion\"\nzone = \"nowhere\"\n",
        "4:8: rules.0.zone: rule `r`: unknown zone `nowhere`",
    ),
    (
        "[arming]\nschedule = [\"someday 25:00-26:00\"]\n",
        "2:13: arming.schedule.0: schedule entry `someday 25:00-26:00`: unknown day `someday`",
    ),
    (
        "[inputs.tamper]\ndebounce_ms = 5\n",
        "1:1: inputs.tamper: needs `line` (a line name) or `chip` with `offset`",
    ),
    (
        "[[outputs]]\nname = \"siren\"\nkind = \"gpiocdev\"\n",
        "1:1: outputs.0: needs `line` (a line name) or `chip` with `offset`",
    ),
    (
        "[[alarms]]\nrules = [\"ghost\"]\noutputs = [\"nothing\"]\n",
        "2:10: alarms.0.rules.0: unknown rule `ghost`",
    ),
    (
        "[healthy]\noutput = \"led\"\n",
        "2:10: healthy.output: unknown output `led`",
    ),
    (
        "[[push]]\nkind = \"ntfy\"\nurl = \"ftp://x\"\n",
        "3:7: push.0.url: `ftp://x`: must start with http:// or https://",
    ),
    (
        "[[push]]\nkind = \"webhook\"\nurl = \"http://h/x\"\nmax_per_minute = 0\n",
        "4:18: push.0.max_per_minute: must be from 1 to 600",
    ),
    (
        "[[push]]\nkind = \"ntfy\"\nurl = \"http://h/x\"\nkinds = [\"intrusion\", \"nope\"]\n",
        "4:23: push.0.kinds.1: `nope` is no event kind",
    ),
    (
        "[journal]\npath = \"/var/lib/picket/\"\n",
        "2:8: journal.path: must name a file",
    ),
    (
        "[metrics]\ninterval_s = 0\n",
        "2:14: metrics.interval_s: must be in 1..=3600 seconds",
    ),
    (
        "[health]\ntemp_clear_c = 90\n",
        "2:16: health.temp_clear_c: must be below temp_limit_c",
    ),
];

#[test]
fn each_section_reports_its_bad_value_with_its_place() {
    let dir = std::env::temp_dir().join(format!("picket-bad-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    for (text, want) in CASES {
        std::fs::write(&path, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_picket"))
            .arg("check")
            .arg("--config")
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text}\n{stderr}");
        let want = format!("{}:{want}", path.display());
        assert!(stderr.contains(&want), "{text}\nwant {want}\ngot {stderr}");
    }
    // `picket run` refuses the same config before opening anything.
    let out = Command::new(env!("CARGO_BIN_EXE_picket"))
        .args(["run", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("health.temp_clear_c"));
    let _ = std::fs::remove_dir_all(dir);
}
