//! The whole config through [`Config`], section by section: defaults, every problem located
//! by line and column, warnings, and the checks that cross sections (rules named by alarms, the
//! tracker's scores against the detector's threshold). Each section's own logic is tested
//! beside it.

use super::*;

mod journal {
    use super::*;
    use crate::journal::{JournalConfig, OnCorrupt};

    #[test]
    fn defaults_apply_when_the_section_is_absent() {
        let c: Config = parse("", "p.toml").unwrap();
        assert_eq!(c.journal, JournalConfig::default());
        assert_eq!(c.journal.batch_interval_ms, 1000);
        assert_eq!(c.journal.on_corrupt, OnCorrupt::Fail);
    }

    #[test]
    fn values_and_on_corrupt_parse() {
        let c: Config = parse(
            "[journal]\npath = \"/data/ev.db\"\nmax_events = 5000\non_corrupt = \"start_new\"\n",
            "p.toml",
        )
        .unwrap();
        assert_eq!(c.journal.path.to_str(), Some("/data/ev.db"));
        assert_eq!(c.journal.max_events, 5000);
        assert_eq!(c.journal.on_corrupt, OnCorrupt::StartNew);
        assert_eq!(c.journal.max_bytes, 256 * 1024 * 1024);
    }

    #[test]
    fn picket_run_s_journal_minds_the_uplink_s_state_file_only_with_an_uplink() {
        let journal = "[journal]\npath = \"/data/ev.db\"\n";
        let c: Config = parse(journal, "p.toml").unwrap();
        assert_eq!(c.run_journal().uplink_state, None);
        let text = format!("{journal}[uplink]\nurl = \"mqtt://127.0.0.1\"\n");
        let c: Config = parse(&text, "p.toml").unwrap();
        assert_eq!(
            c.run_journal().uplink_state.as_deref(),
            Some(std::path::Path::new("/data/ev.db.uplink"))
        );
        assert_eq!(c.run_journal().path, c.journal.path);
        let text = format!("{text}state_file = \"/var/lib/up/cursor\"\n");
        let c: Config = parse(&text, "p.toml").unwrap();
        assert_eq!(
            c.run_journal().uplink_state.as_deref(),
            Some(std::path::Path::new("/var/lib/up/cursor"))
        );
        let text = format!(
            "{journal}[uplink]\nstate_file = \"/s/c\"\n[[push]]\nkind = \"ntfy\"\n\
             url = \"http://h/t\"\n[[push]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"http://h/w\"\n"
        );
        let c: Config = parse(&text, "p.toml").unwrap();
        assert_eq!(c.run_journal().uplink_state, None, "no MQTT without url");
        assert_eq!(
            c.run_journal().push_states,
            [
                std::path::PathBuf::from("/s/c.push-0"),
                std::path::PathBuf::from("/s/c.push-hook")
            ]
        );
        let err = parse::<Config>("[journal]\nuplink_state = \"/x\"\n", "p.toml").unwrap_err();
        assert!(err.to_string().contains("uplink_state"), "not a key: {err}");
    }

    #[test]
    fn bad_values_are_reported_at_their_line_and_column() {
        let text = "[journal]\nmax_events = 0\nmax_bytes = 1000\n  batch_interval_ms = 5\n";
        let err = parse::<Config>(text, "p.toml").unwrap_err();
        let p = err.problems();
        assert_eq!(p.len(), 3, "{err}");
        assert_eq!((p[0].line, p[0].column), (2, 14), "{err}");
        assert_eq!((p[1].line, p[1].column), (3, 13), "{err}");
        assert_eq!((p[2].line, p[2].column), (4, 23), "{err}");
        assert!(
            err.to_string()
                .contains("p.toml:2:14: journal.max_events: must be at least 1"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_and_bad_on_corrupt_are_located() {
        let err = parse::<Config>("[journal]\nmax_rows = 3\n", "p.toml").unwrap_err();
        assert_eq!((err.problems()[0].line, err.problems()[0].column), (2, 1));
        assert!(
            err.to_string().contains("unknown field `max_rows`"),
            "{err}"
        );
        let err = parse::<Config>("[journal]\non_corrupt = \"delete\"\n", "p.toml").unwrap_err();
        assert_eq!(err.problems()[0].line, 2, "{err}");
        assert!(err.to_string().contains("start_new"), "{err}");
    }
}

mod source {
    use super::*;
    use crate::source::{Pacing, SourceConfig, SourceKind};
    use picket_image::PixelFormat;
    use std::path::PathBuf;

    #[test]
    fn an_empty_section_takes_the_defaults() {
        let c: Config = parse("[source]\n", "t.toml").unwrap();
        assert_eq!(c.source, SourceConfig::default());
        let c: Config = parse("", "t.toml").unwrap();
        assert_eq!(c.source.device, PathBuf::from("/dev/video0"));
    }

    #[test]
    fn a_full_section_parses() {
        let text = "[source]\nkind = \"stdin\"\nformat = \"I420\"\nwidth = 1280\nheight = 720\n\
                    fps = 30\npacing = \"fast\"\nroi = [0.0, 0.5, 1.0, 1.0]\n";
        let c: Config = parse(text, "t.toml").unwrap();
        let s = c.source;
        assert_eq!(s.kind, SourceKind::Stdin);
        assert_eq!(s.format, Some(PixelFormat::I420));
        assert_eq!((s.width, s.height, s.fps), (1280, 720, 30));
        assert_eq!(s.pacing, Pacing::Fast);
        assert_eq!(
            s.roi_rect(),
            Some(picket_geom::NormRect::new(0.0, 0.5, 1.0, 1.0))
        );
    }

    #[test]
    fn every_problem_is_located() {
        let text = "[source]\nkind = \"file\"\nwidth = 641\nfps = 0\nroi = [0.5, 0.0, 0.4, 1.0]\n";
        let err = parse::<Config>(text, "p.toml").unwrap_err();
        let p: Vec<_> = err
            .problems()
            .iter()
            .map(|p| (p.path.clone().unwrap_or_default(), p.line, p.column))
            .collect();
        assert_eq!(
            p,
            [
                ("source.width".to_string(), 3, 9),
                ("source.fps".to_string(), 4, 7),
                // A missing key points at its section.
                ("source.path".to_string(), 1, 1),
                ("source.roi".to_string(), 5, 7),
            ],
            "{err}"
        );
        assert!(err
            .to_string()
            .contains("p.toml:3:9: source.width: 641 must be even"));
    }

    #[test]
    fn unknown_formats_and_keys_are_rejected_with_their_position() {
        let err = parse::<Config>("[source]\nformat = \"h264\"\n", "p.toml").unwrap_err();
        let p = &err.problems()[0];
        assert_eq!((p.line, p.column), (2, 10), "{err}");
        assert!(
            err.to_string().contains("unknown pixel format `h264`"),
            "{err}"
        );
        let err = parse::<Config>("[source]\nfsp = 3\n", "p.toml").unwrap_err();
        assert_eq!(err.problems()[0].line, 2, "{err}");
        let err = parse::<Config>("[source]\nformat = \"rgb24\"\n", "p.toml").unwrap_err();
        assert_eq!(err.problems()[0].path.as_deref(), Some("source.format"));
    }
}

mod detect;

mod track {
    use super::*;
    use crate::track::TrackerConfig;
    use std::time::Duration;

    #[test]
    fn defaults_are_valid_and_an_empty_section_gives_them() {
        let c: Config = parse("[tracker]\n", "picket.toml").unwrap();
        assert_eq!(c.tracker, TrackerConfig::default());
        assert_eq!(c.tracker.max_age(), Duration::from_secs(2));
    }

    #[test]
    fn every_bad_value_is_located() {
        let text = "[tracker]\nmax_tracks = 0\nhigh_score = 0.4\nlow_score = 0.45\n\
                    confirm_hits = 0\nmax_age_s = -1.0\nnew_track_score = 1.5\n";
        let err = parse::<Config>(text, "picket.toml").unwrap_err();
        let at: Vec<(usize, usize, &str)> = err
            .problems()
            .iter()
            .map(|p| (p.line, p.column, p.path.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            at,
            [
                (2, 14, "tracker.max_tracks"),
                (7, 19, "tracker.new_track_score"),
                (5, 16, "tracker.confirm_hits"),
                (6, 13, "tracker.max_age_s"),
                (4, 13, "tracker.low_score"),
            ],
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("picket.toml:4:13: tracker.low_score: 0.45 is above high_score 0.4"),
            "{err}"
        );
    }

    #[test]
    fn a_value_left_to_its_default_points_at_the_section() {
        // new_track_score follows the detector's threshold (0.35 + 0.10), below this high_score.
        let err = parse::<Config>("\n[tracker]\nhigh_score = 0.5\n", "c.toml").unwrap_err();
        let p = &err.problems()[0];
        assert_eq!(p.path.as_deref(), Some("tracker.new_track_score"));
        assert_eq!((p.line, p.column), (2, 1), "{err}");
        assert!(
            err.to_string().contains("0.45 is below high_score 0.5"),
            "{err}"
        );
    }

    #[test]
    fn unset_score_thresholds_follow_the_detector() {
        let c: Config = parse("", "c.toml").unwrap();
        let s = c.tracker.scores(c.detector.threshold);
        assert_eq!((s.low, s.high, s.new_track), (0.35, 0.40, 0.45));
        // Raising the detector's threshold raises them all; a set value stays put.
        let c: Config = parse(
            "[detector]\nthreshold = 0.6\n[tracker]\nhigh_score = 0.7\n",
            "c.toml",
        )
        .unwrap();
        let s = c.tracker.scores(c.detector.threshold);
        assert_eq!((s.low, s.high, s.new_track), (0.6, 0.7, 0.7));
        assert_eq!(TrackerConfig::default().scores(0.95).new_track, 1.0);
    }

    /// The warnings of a config that loads, as `line:col: path`.
    fn warnings(text: &str) -> Vec<String> {
        let c = check::<Config>(text, "c.toml").unwrap();
        c.warnings
    }

    #[test]
    fn a_tracker_that_cannot_start_a_track_is_warned_about() {
        assert!(warnings("").is_empty());
        // ByteTrack's own thresholds: above every person score the shipped model gives.
        let w = warnings("[tracker]\nhigh_score = 0.5\nnew_track_score = 0.65\n");
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("c.toml:3:19: tracker.new_track_score: 0.65 is above 0.62"),
            "{w:?}"
        );
        // So is a detector threshold that pushes the derived new_track_score up there.
        let w = warnings("[detector]\nthreshold = 0.55\n");
        assert!(
            w[0].contains("tracker.new_track_score: 0.65 is above 0.62"),
            "{w:?}"
        );
        // A model of one's own has no known ceiling.
        let w = warnings(
            "[model]\npath = \"Cargo.toml\"\nlabels = \"Cargo.toml\"\n\
             [tracker]\nnew_track_score = 0.65\n",
        );
        assert!(w.is_empty(), "{w:?}");
        // Thresholds below the detector's do nothing: the detector dropped those boxes first.
        let w = warnings("[tracker]\nlow_score = 0.1\n");
        assert_eq!(
            w,
            [
                "c.toml:2:13: tracker.low_score: 0.1 is below [detector] threshold 0.35, which \
              drops such detections first; leave it unset to follow the threshold"
            ]
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = parse::<Config>("[tracker]\nmax_age = 3\n", "c.toml").unwrap_err();
        assert_eq!(err.problems()[0].line, 2, "{err}");
        assert!(err.to_string().contains("unknown field `max_age`"), "{err}");
    }
}

mod motion {
    use super::*;
    use crate::motion::MotionConfig;

    #[test]
    fn the_full_config_takes_motion_defaults_and_values() {
        let c: Config = parse("", "c.toml").unwrap();
        assert_eq!(c.motion, MotionConfig::default());
        assert!(!c.motion.enabled);
        let c: Config = parse("[motion]\nenabled = true\nkeepalive_s = 2.5\n", "c.toml").unwrap();
        assert!(c.motion.enabled);
        assert_eq!(c.motion.keepalive_s, 2.5);
        assert_eq!(c.motion.grid, [64, 48]);
    }
}

mod metrics {
    use super::*;
    use std::path::Path;

    #[test]
    fn bad_metrics_config_is_located() {
        let text = "[metrics]\ntextfile = \"/var/lib/node_exporter/picket.txt\"\ninterval_s = 0.5\nwindow = 8\n";
        let err = parse::<Config>(text, "picket.toml").unwrap_err();
        let got: Vec<(usize, usize)> = err.problems().iter().map(|p| (p.line, p.column)).collect();
        assert_eq!(got, [(2, 12), (3, 14), (4, 10)], "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("picket.toml:3:14: metrics.interval_s: must be in 1..=3600 seconds"),
            "{msg}"
        );
        assert!(
            msg.contains("metrics.textfile: must name a `.prom` file"),
            "{msg}"
        );
        let err = parse::<Config>("[metrics]\nlog_interval_s = 5\n", "c.toml").unwrap_err();
        assert!(
            err.to_string()
                .contains("c.toml:2:18: metrics.log_interval_s: must be 0 (off)"),
            "{err}"
        );
        let c: Config = parse("[metrics]\ntextfile = \"/run/picket.prom\"\n", "c.toml").unwrap();
        assert_eq!(
            c.metrics.textfile.as_deref(),
            Some(Path::new("/run/picket.prom"))
        );
        assert_eq!(c.metrics.interval_s, 10.0);
    }
}

mod health {
    use super::*;
    use crate::health::HealthConfig;

    #[test]
    fn bad_health_config_is_located() {
        let text =
        "[health]\ntemp_limit_c = 70\ntemp_clear_c = 72\ndisk_min_free_mb = 500\nfps_floor = 5\n";
        let err = parse::<Config>(text, "picket.toml").unwrap_err();
        let got: Vec<(usize, usize)> = err.problems().iter().map(|p| (p.line, p.column)).collect();
        assert_eq!(got, [(3, 16), (1, 1), (1, 1)], "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("picket.toml:3:16: health.temp_clear_c: must be below temp_limit_c"),
            "{msg}"
        );
        assert!(
            msg.contains("picket.toml:1:1: health.disk_clear_mb: must be above disk_min_free_mb"),
            "{msg}"
        );
        assert!(
            msg.contains("health.fps_clear: must be above fps_floor"),
            "{msg}"
        );
        let err = parse::<Config>("[health]\ninterval_s = 0\n", "c.toml").unwrap_err();
        assert!(
            err.to_string()
                .contains("c.toml:2:14: health.interval_s: must be in 1..=3600"),
            "{err}"
        );
        let c: Config = parse("", "c.toml").unwrap();
        assert_eq!(c.health, HealthConfig::default());
    }
}

mod rules {
    use super::*;

    #[test]
    fn bad_config_is_reported_with_its_location() {
        let text = r#"[[zones]]
name = "two"
polygon = [[0,0],[1,1]]

[[zones]]
name = "bowtie"
polygon = [[0,0],[1,1],[1,0],[0,1]]

[[zones]]
name = "big"
polygon = [[0,0],[1.5,0],[1,1]]

[[lines]]
name = "dot"
a = [0.5, 0.5]
b = [0.5, 0.5]

[arming]
schedule = ["daily 18:00-07:00", "weekdays 18:00-07:00"]
"#;
        let err = parse::<Config>(text, "picket.toml").unwrap_err();
        let msg = err.to_string();
        let want = [
        "picket.toml:3:11: zones.0.polygon: zone `two`: polygon has 2 points (needs ≥ 3)",
        "picket.toml:7:11: zones.1.polygon: zone `bowtie`: polygon edges",
        "picket.toml:11:18: zones.2.polygon.1: zone `big`: coordinates must be within [0, 1]",
        "picket.toml:16:5: lines.0.b: line `dot` has zero length",
        "picket.toml:19:34: arming.schedule.1: schedule entry `weekdays 18:00-07:00`: unknown day",
    ];
        for w in want {
            assert!(msg.contains(w), "missing {w:?} in\n{msg}");
        }
        assert_eq!(err.problems().len(), want.len(), "{msg}");
    }
}

mod alarm {
    use super::*;

    #[test]
    fn bad_alarm_config_is_reported_with_its_location() {
        let text = r#"[[rules]]
name = "r"
kind = "crowd"
zone = "z"
min_people = 2

[[zones]]
name = "z"
polygon = [[0,0],[1,0],[1,1]]

[[outputs]]
name = "siren"
kind = "gpiocdev"
chip = "gpiochip0"
offset = 17

[[outputs]]
name = "strobe"
kind = "gpiocdev"
chip = "/dev/gpiochip0"
offset = 17

[[alarms]]
rules = ["r", "nope"]
outputs = ["siren", "horn"]
pattern = "blink"
"#;
        let err = parse::<Config>(text, "p.toml").unwrap_err();
        let msg = err.to_string();
        let want = [
        "p.toml:21:10: outputs.1.offset: GPIO line (gpiochip0 17) is already used by output `siren`",
        "p.toml:25:21: alarms.0.outputs.1: unknown output `horn`",
        "p.toml:24:15: alarms.0.rules.1: unknown rule `nope`",
        "p.toml:26:11: alarms.0.pattern: pattern `blink`",
    ];
        for w in want {
            assert!(msg.contains(w), "missing {w:?} in\n{msg}");
        }
        assert_eq!(err.problems().len(), want.len(), "{msg}");
    }
}
