//! Home Assistant MQTT discovery: the retained config messages that make one box appear in
//! Home Assistant as one device with its entities, generated from the config alone.
//!
//! Each config goes to `<discovery_prefix>/<component>/<box_id>/<object>/config`:
//!
//! | component | object | what |
//! |---|---|---|
//! | `binary_sensor` | `rule_<name>` | one per rule: on while the rule fires |
//! | `sensor` | `people` | people in view |
//! | `binary_sensor` | `camera` | camera health (`problem`: on when the camera is lost) |
//! | `image` | `snapshot` | the latest rule event's JPEG, drawn or raw (`snapshots` on) |
//! | `alarm_control_panel` | `alarm` | arm and disarm (`commands = true`) |
//!
//! All of them read the retained `<prefix>/<box_id>/state` JSON through value templates (the
//! image reads `<prefix>/<box_id>/snapshot`), and all carry the same `device` block (with its
//! `name`, so that entity names do not depend on which config Home Assistant reads first) and
//! the box's availability topic. The keys used are those both Home Assistant 2024.3 and 2026.2
//! accept (`tests/data/homeassistant/keys.json` says where they come from). An entity that is
//! switched off in the config gets an empty retained message, which removes it.

use super::config::UplinkConfig;
use crate::rules::{RuleConfig, RuleKind};
use serde_json::{json, Value};
use std::fmt::Write;

/// The fields of the state JSON the templates read.
pub mod state_fields {
    /// `true` while the box is armed.
    pub const ARMED: &str = "armed";
    /// The names of the rules firing now, a list.
    pub const FIRING: &str = "firing";
    /// People in view now.
    pub const PEOPLE: &str = "people";
    /// `false` while the camera is lost.
    pub const CAMERA_OK: &str = "camera_ok";
}

/// What discovery needs to know about one box.
#[derive(Debug, Clone)]
pub struct Device<'a> {
    pub id: &'a str,
    pub topic_prefix: &'a str,
    pub discovery_prefix: &'a str,
    pub snapshots: bool,
    pub commands: bool,
    /// Picket's version, for `sw_version`.
    pub version: &'a str,
    pub rules: &'a [RuleConfig],
}

impl<'a> Device<'a> {
    /// The box as `cfg` describes it, with `id` resolved.
    pub fn new(cfg: &'a UplinkConfig, id: &'a str, rules: &'a [RuleConfig]) -> Self {
        Self {
            id,
            topic_prefix: &cfg.topic_prefix,
            discovery_prefix: &cfg.discovery_prefix,
            snapshots: cfg.snapshots.on(),
            commands: cfg.commands,
            version: env!("CARGO_PKG_VERSION"),
            rules,
        }
    }

    fn topic(&self, leaf: &str) -> String {
        format!("{}/{}/{leaf}", self.topic_prefix, self.id)
    }

    /// Where Home Assistant announces itself (`online` after it starts).
    pub fn status_topic(&self) -> String {
        format!("{}/status", self.discovery_prefix)
    }
}

/// One retained discovery message: a config, or `None` to remove the entity.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub topic: String,
    pub config: Option<Value>,
}

impl Message {
    /// The payload: compact JSON, or empty for a removal.
    pub fn payload(&self) -> Vec<u8> {
        self.config
            .as_ref()
            .map_or_else(Vec::new, |c| serde_json::to_vec(c).unwrap_or_default())
    }
}

/// Every discovery message for the box, in a fixed order.
pub fn messages(b: &Device<'_>) -> Vec<Message> {
    let state = b.topic("state");
    let mut out = Vec::new();
    let mut put = |component: &str, object: &str, config: Option<Value>| {
        let topic = format!(
            "{}/{component}/{}/{object}/config",
            b.discovery_prefix, b.id
        );
        let config = config.map(|mut c| {
            common(b, object, &mut c);
            c
        });
        out.push(Message { topic, config });
    };
    for rule in b.rules {
        let object = format!("rule_{}", slug(&rule.name));
        let class = match rule.kind {
            RuleKind::Intrusion | RuleKind::Loiter | RuleKind::Crowd => "occupancy",
            RuleKind::LineCross | RuleKind::Wander => "motion",
        };
        put(
            "binary_sensor",
            &object,
            Some(json!({
                "name": format!("Rule {}", rule.name),
                "state_topic": state,
                "value_template": format!(
                    "{{{{ 'ON' if {} in value_json.{} else 'OFF' }}}}",
                    jinja_string(&rule.name),
                    state_fields::FIRING
                ),
                "payload_on": "ON",
                "payload_off": "OFF",
                "device_class": class,
            })),
        );
    }
    put(
        "sensor",
        "people",
        Some(json!({
            "name": "People in view",
            "state_topic": state,
            "value_template": format!("{{{{ value_json.{} }}}}", state_fields::PEOPLE),
            "unit_of_measurement": "people",
            "state_class": "measurement",
            "icon": "mdi:account-multiple",
        })),
    );
    put(
        "binary_sensor",
        "camera",
        Some(json!({
            "name": "Camera",
            "state_topic": state,
            "value_template": format!(
                "{{{{ 'OFF' if value_json.{} else 'ON' }}}}",
                state_fields::CAMERA_OK
            ),
            "payload_on": "ON",
            "payload_off": "OFF",
            "device_class": "problem",
            "entity_category": "diagnostic",
        })),
    );
    put(
        "image",
        "snapshot",
        b.snapshots.then(|| {
            json!({
                "name": "Snapshot",
                "image_topic": b.topic("snapshot"),
                "content_type": "image/jpeg",
            })
        }),
    );
    put(
        "alarm_control_panel",
        "alarm",
        b.commands.then(|| {
            json!({
                "name": "Alarm",
                "state_topic": state,
                "value_template": format!(
                    "{{{{ 'armed_away' if value_json.{} else 'disarmed' }}}}",
                    state_fields::ARMED
                ),
                "command_topic": b.topic("command"),
                // Home Assistant asks for a code and sends it; the box checks it.
                "code": "REMOTE_CODE",
                "command_template": "{{ {'action': action, 'code': code} | tojson }}",
                "code_arm_required": true,
                "code_disarm_required": true,
                "supported_features": ["arm_away"],
                "payload_arm_away": "ARM_AWAY",
                "payload_disarm": "DISARM",
            })
        }),
    );
    out
}

/// What every config carries: identity, the device, the origin and availability.
fn common(b: &Device<'_>, object: &str, config: &mut Value) {
    let Value::Object(map) = config else { return };
    map.insert(
        "unique_id".into(),
        Value::String(format!("picket_{}_{object}", b.id)),
    );
    map.insert(
        "availability_topic".into(),
        Value::String(b.topic("availability")),
    );
    map.insert("payload_available".into(), json!("online"));
    map.insert("payload_not_available".into(), json!("offline"));
    map.insert(
        "device".into(),
        json!({
            "identifiers": [format!("picket_{}", b.id)],
            "name": format!("Picket {}", b.id),
            "manufacturer": "Picket",
            "model": "Picket security appliance",
            "sw_version": b.version,
        }),
    );
    map.insert(
        "origin".into(),
        json!({ "name": "picket", "sw_version": b.version }),
    );
}

/// `name` as an object id, `[A-Za-z0-9_-]`: itself when it already is one, else with every
/// other character replaced by `_` and a hash of the exact name appended, so that two names
/// never share an id.
pub fn slug(name: &str) -> String {
    let clean = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if !name.is_empty() && name.chars().all(clean) {
        return name.to_owned();
    }
    let mut s: String = name
        .chars()
        .map(|c| if clean(c) { c } else { '_' })
        .collect();
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let _ = write!(s, "_{:08x}", hash as u32);
    s
}

/// `s` as a Jinja string literal: double-quoted, with everything but plain ASCII letters,
/// digits and `_ -.:/` escaped as `\uXXXX` (or `\UXXXXXXXX`), so that no name can end the
/// literal, the expression or the template.
pub fn jinja_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || " _-.:/".contains(c) {
            out.push(c);
        } else if (c as u32) <= 0xFFFF {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            let _ = write!(out, "\\U{:08x}", c as u32);
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_keep_clean_names_and_never_collide() {
        assert_eq!(slug("on_walkway"), "on_walkway");
        assert_eq!(slug("Gate-2"), "Gate-2");
        let (a, b) = (slug("front door"), slug("front_door?"));
        assert!(
            a.starts_with("front_door_") && b.starts_with("front_door__"),
            "{a} {b}"
        );
        assert_ne!(slug("a b"), slug("a_b"));
        assert_ne!(slug("a b"), slug("a.b"));
        assert_eq!(slug("a b"), slug("a b"), "stable");
        assert!(slug("é")
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_'));
    }

    #[test]
    fn jinja_strings_escape_everything_that_could_break_out() {
        assert_eq!(jinja_string("on_walkway"), "\"on_walkway\"");
        assert_eq!(
            jinja_string("a\"}} {%x"),
            "\"a\\u0022\\u007d\\u007d \\u007b\\u0025x\""
        );
        assert_eq!(jinja_string("é🙂"), "\"\\u00e9\\U0001f642\"");
    }
}
