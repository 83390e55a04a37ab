//! The board profiles (`board/rpi4.toml`, `board/rpi5.toml`, `board/jetson-nano.toml`) are
//! complete configs that `picket check` accepts as they stand, and still pass once laid over
//! the example config (the profile's keys win, arrays of tables are the profile's), which is how
//! an owner who started from the example adopts a profile.

use std::path::{Path, PathBuf};
use std::process::Command;

const PROFILES: [&str; 3] = ["rpi4", "rpi5", "jetson-nano"];

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn check(path: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_picket"))
        .args(["check", "--config"])
        .arg(path)
        .output()
        .expect("run picket check");
    assert!(
        out.status.success(),
        "picket check {}: {}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Lays `over` onto `base`: tables merge key by key, anything else is replaced.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn read_table(path: &Path) -> toml::Table {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn each_profile_passes_picket_check_as_it_stands() {
    for p in PROFILES {
        check(&repo(&format!("board/{p}.toml")));
    }
}

#[test]
fn each_profile_laid_over_the_example_passes_picket_check() {
    let dir = std::env::temp_dir().join(format!("picket-profiles-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for p in PROFILES {
        let mut cfg = read_table(&repo("board/config/example.toml"));
        merge(&mut cfg, read_table(&repo(&format!("board/{p}.toml"))));
        let path = dir.join(format!("{p}.toml"));
        std::fs::write(&path, toml::to_string(&cfg).unwrap()).unwrap();
        check(&path);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn each_profile_drives_a_siren_and_reads_a_keyswitch() {
    for p in PROFILES {
        let cfg = read_table(&repo(&format!("board/{p}.toml")));
        let outputs = cfg["outputs"].as_array().expect("[[outputs]]");
        let names: Vec<&str> = outputs
            .iter()
            .filter_map(|o| o.get("name").and_then(|n| n.as_str()))
            .collect();
        assert!(names.contains(&"siren"), "{p}: {names:?}");
        assert!(cfg["inputs"].get("keyswitch").is_some(), "{p}");
        // A dead board must leave the siren silent: external pull-downs, active-high drive.
        for o in outputs {
            assert_eq!(
                o.get("active_low").and_then(|v| v.as_bool()),
                Some(false),
                "{p}: {o:?}"
            );
        }
    }
}
