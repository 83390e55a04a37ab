//! Home Assistant discovery against Home Assistant's own schemas and documentation
//! (`tests/data/homeassistant/`, whose README says where each file comes from).
//!
//! Home Assistant drops unknown discovery keys without a word, so a misspelt key would only
//! show as an entity that does not work. These tests hold every key picket sends to the keys
//! both Home Assistant 2024.3 and 2026.2 accept, check required keys and enumerated values,
//! run the same check over the documentation's own examples (so the key table is known to
//! cover them), and compare the configs for a sample box with the committed ones.

use super::discovery::{self, Device, Message};
use super::UplinkConfig;
use crate::rules::RuleConfig;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/homeassistant")
        .join(rel)
}

fn json_file(rel: &str) -> Value {
    let p = data(rel);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// What is wrong with `config` as a discovery config of `component`: unknown keys, missing
/// required ones, values outside Home Assistant's enumerations, a bad device or origin block.
/// `newer` also allows the keys only newer Home Assistant releases know.
fn problems(component: &str, config: &Value, newer: bool) -> Vec<String> {
    let keys = json_file("keys.json");
    let allowed = |section: &str| {
        let mut k = strings(&keys[section]["keys"]);
        if newer {
            k.extend(strings(&keys[section]["newer_keys"]));
        }
        k
    };
    let mut out = Vec::new();
    let Some(map) = config.as_object() else {
        return vec!["not an object".into()];
    };
    let known = allowed(component);
    for k in map.keys() {
        if !known.contains(k) {
            out.push(format!("{component}: unknown key `{k}`"));
        }
    }
    for k in strings(&keys[component]["required"]) {
        if !map.contains_key(&k) {
            out.push(format!("{component}: `{k}` is required"));
        }
    }
    for group in keys[component]["one_of"].as_array().into_iter().flatten() {
        if strings(group)
            .iter()
            .filter(|k| map.contains_key(*k))
            .count()
            != 1
        {
            out.push(format!("{component}: exactly one of {group}"));
        }
    }
    for (key, value) in map {
        let allowed_values = strings(&keys["values"][format!("{component}.{key}")])
            .into_iter()
            .chain(strings(&keys["values"][key.as_str()]))
            .collect::<BTreeSet<_>>();
        if allowed_values.is_empty() {
            continue;
        }
        let given: Vec<&str> = match value {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        for g in given {
            if !allowed_values.contains(g) {
                out.push(format!(
                    "{component}.{key}: `{g}` is not one of Home Assistant's"
                ));
            }
        }
    }
    for (block, section) in [("device", "device"), ("origin", "origin")] {
        let Some(b) = map.get(block) else { continue };
        let known = allowed(section);
        for k in b.as_object().into_iter().flat_map(|o| o.keys()) {
            if !known.contains(k) {
                out.push(format!("{block}: unknown key `{k}`"));
            }
        }
        for k in strings(&keys[section]["required"]) {
            if b.get(&k).is_none() {
                out.push(format!("{block}: `{k}` is required"));
            }
        }
    }
    out
}

const SAMPLE: &str = r#"
[[zones]]
name = "walkway"
polygon = [[0.0, 0.3], [1.0, 0.3], [1.0, 0.9], [0.0, 0.9]]

[[lines]]
name = "midline"
a = [0.7, 0.2]
b = [0.7, 0.9]

[[rules]]
name = "on_walkway"
kind = "intrusion"
zone = "walkway"

[[rules]]
name = "crossed"
kind = "line_cross"
line = "midline"

[[rules]]
name = "front door"
kind = "loiter"
zone = "walkway"
min_seconds = 30

[uplink]
url = "mqtts://hub.lan"
box_id = "porch"
username = "porch"
snapshots = true
homeassistant = true
commands = true
"#;

/// The sections of [`SAMPLE`] that discovery reads.
#[derive(serde::Deserialize)]
struct Sample {
    uplink: Option<UplinkConfig>,
    rules: Vec<RuleConfig>,
}

fn sample(edit: impl FnOnce(&mut Sample)) -> Vec<Message> {
    let mut cfg: Sample = toml::from_str(SAMPLE).unwrap_or_else(|e| panic!("{e}"));
    edit(&mut cfg);
    let up = cfg.uplink.as_ref().unwrap();
    let mut device = Device::new(up, "porch", &cfg.rules);
    device.version = "0.1.0";
    discovery::messages(&device)
}

/// `homeassistant/binary_sensor/porch/rule_crossed/config` → `binary_sensor`.
fn component(topic: &str) -> &str {
    topic.split('/').nth(1).unwrap()
}

#[test]
fn the_documentation_examples_pass_the_key_check() {
    for c in ["binary_sensor", "sensor", "image", "alarm_control_panel"] {
        let example = json_file(&format!("docs/{c}.json"));
        assert_eq!(problems(c, &example, true), Vec::<String>::new(), "{c}");
    }
    // The sensor example's device has `model_id`, which 2024.3 does not know.
    let sensor = json_file("docs/sensor.json");
    assert_eq!(
        problems("sensor", &sensor, false),
        vec!["device: unknown key `model_id`".to_owned()]
    );
}

#[test]
fn the_key_check_catches_misspelt_keys_missing_keys_and_bad_values() {
    let mut bad = json_file("docs/binary_sensor.json");
    let m = bad.as_object_mut().unwrap();
    let topic = m.remove("state_topic").unwrap();
    m.insert("state_topc".into(), topic);
    m.insert("device_class".into(), "burglar".into());
    let p = problems("binary_sensor", &bad, true);
    assert_eq!(p.len(), 3, "{p:?}");
    assert!(
        p.iter().any(|s| s.contains("unknown key `state_topc`")),
        "{p:?}"
    );
    assert!(
        p.iter().any(|s| s.contains("`state_topic` is required")),
        "{p:?}"
    );
    assert!(p.iter().any(|s| s.contains("`burglar`")), "{p:?}");
    let both = serde_json::json!({"image_topic": "a", "url_topic": "b"});
    assert_eq!(problems("image", &both, true).len(), 1);
}

#[test]
fn every_config_picket_sends_uses_only_keys_both_releases_accept() {
    let messages = sample(|_| {});
    assert_eq!(messages.len(), 3 + 3 + 1);
    for m in &messages {
        let config = m.config.as_ref().expect("everything on in the sample");
        let p = problems(component(&m.topic), config, false);
        assert_eq!(p, Vec::<String>::new(), "{}", m.topic);
    }
}

#[test]
fn one_device_with_unique_entities_and_the_box_availability() {
    let messages = sample(|_| {});
    let configs: Vec<&Value> = messages.iter().filter_map(|m| m.config.as_ref()).collect();
    let device = &configs[0]["device"];
    assert_eq!(device["name"], "Picket porch");
    assert_eq!(device["identifiers"], serde_json::json!(["picket_porch"]));
    let mut ids = BTreeSet::new();
    for (m, c) in messages.iter().zip(&configs) {
        assert_eq!(&c["device"], device, "{}", m.topic);
        assert_eq!(c["availability_topic"], "picket/porch/availability");
        assert!(
            ids.insert(c["unique_id"].as_str().unwrap().to_owned()),
            "{}",
            m.topic
        );
        let object = m.topic.split('/').nth(3).unwrap();
        assert_eq!(c["unique_id"], format!("picket_porch_{object}"));
        assert!(m.topic.starts_with("homeassistant/") && m.topic.ends_with("/config"));
        assert!(object
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c)));
        if let Some(t) = c.get("state_topic") {
            assert_eq!(t, "picket/porch/state");
        }
    }
}

#[test]
fn switched_off_entities_are_removed_with_empty_configs() {
    let messages = sample(|c| {
        let u = c.uplink.as_mut().unwrap();
        u.snapshots = super::present::Snapshots::Off;
        u.commands = false;
    });
    let removed: Vec<&str> = messages
        .iter()
        .filter(|m| m.config.is_none())
        .map(|m| m.topic.as_str())
        .collect();
    assert_eq!(
        removed,
        [
            "homeassistant/image/porch/snapshot/config",
            "homeassistant/alarm_control_panel/porch/alarm/config"
        ]
    );
    assert!(messages
        .iter()
        .filter(|m| m.config.is_none())
        .all(|m| m.payload().is_empty()));
}

/// The configs for the sample box, one file per message under `picket/`. With
/// `PICKET_BLESS=1` the files are written instead (review the diff before committing).
#[test]
fn the_sample_box_configs_match_the_committed_ones() {
    let bless = std::env::var_os("PICKET_BLESS").is_some();
    for m in sample(|_| {}) {
        let name = m.topic.split('/').skip(1).collect::<Vec<_>>()[..3].join("-") + ".json";
        let path = data(&format!("picket/{name}"));
        let config = m.config.unwrap();
        if bless {
            let text = serde_json::to_string_pretty(&config).unwrap() + "\n";
            std::fs::write(&path, text).unwrap();
            continue;
        }
        assert_eq!(
            json_file(&format!("picket/{name}")),
            config,
            "{}",
            path.display()
        );
    }
}

/// The fields the entities' templates read are fields of the state `picket run` writes.
#[test]
fn the_templates_read_fields_the_state_has() {
    use discovery::state_fields::{ARMED, CAMERA_OK, FIRING, PEOPLE};
    let state = crate::live::BoxState {
        v: 1,
        ts: "2026-12-05T00:30:00.000Z".into(),
        armed: true,
        mode: "auto".into(),
        outputs_on: vec![],
        people: 1,
        zones: Default::default(),
        firing: vec!["on_walkway".into()],
        fps: None,
        camera_ok: true,
        last_id: None,
    };
    let v = serde_json::to_value(&state).unwrap();
    assert_eq!(v[ARMED], true);
    assert_eq!(v[FIRING], serde_json::json!(["on_walkway"]));
    assert_eq!(v[PEOPLE], 1);
    assert_eq!(v[CAMERA_OK], true);
}
