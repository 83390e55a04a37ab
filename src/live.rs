//! What `picket run` and `picket uplink` hand each other beside the journal, as two small files:
//!
//! - [`BoxState`]: the box's state now (armed, outputs on, people per zone, rules firing, fps,
//!   camera, the journal's last id), which `picket run` writes as JSON (`[uplink] state_json`,
//!   default `/run/picket/state.json`) when it changes, at most once a second; the uplink
//!   publishes it, retained, on `<prefix>/<box_id>/state`.
//! - [`Request`]: an arming command the uplink accepted over MQTT, dropped as a TOML file beside
//!   its cursor; `picket run`'s input watcher applies it as `picket arm`/`disarm` would, and
//!   removes it. The uplink never touches the outputs itself.
//!
//! Both files are replaced whole (a temporary file renamed over them), so a reader sees the old
//! file or the new one. This module is a leaf: the shapes and their checks, no I/O policy.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The state JSON's format version.
pub const STATE_VERSION: u32 = 1;

/// The box's state, as `state.json` holds it and the `state` topic carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoxState {
    /// [`STATE_VERSION`].
    pub v: u32,
    /// When `picket run` wrote it: RFC 3339, UTC, milliseconds.
    pub ts: String,
    /// Whether rule events raise alarms now.
    pub armed: bool,
    /// The arming mode: `auto`, `armed` or `disarmed`.
    pub mode: String,
    /// The outputs driven now (`[[outputs]] name`), in config order.
    pub outputs_on: Vec<String>,
    /// People (confirmed tracks) in view now.
    pub people: u32,
    /// People whose foot is in each zone now, by zone name.
    pub zones: BTreeMap<String, u32>,
    /// The rules firing now, in config order.
    pub firing: Vec<String>,
    /// Frames per second over the last metrics interval; `null` before the first.
    pub fps: Option<f64>,
    /// `false` while the camera is lost.
    pub camera_ok: bool,
    /// The journal's newest committed event id; `null` before the first commit.
    pub last_id: Option<i64>,
}

impl BoxState {
    /// Checks `bytes` as a state file: a JSON object of this shape, of this version.
    pub fn parse(bytes: &[u8]) -> Result<BoxState, String> {
        let s: BoxState = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if s.v != STATE_VERSION {
            return Err(format!(
                "version {} (this picket reads {STATE_VERSION})",
                s.v
            ));
        }
        Ok(s)
    }
}

/// What a [`Request`] asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Arm,
    Disarm,
}

/// Who made a [`Request`]: only the uplink's MQTT commands so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Mqtt,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Mqtt => "mqtt",
        }
    }
}

/// The request file's format version.
pub const REQUEST_VERSION: u32 = 1;

/// An arming request from the uplink to `picket run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub version: u32,
    pub request: Action,
    pub source: Source,
    /// When the uplink accepted it, ms since the Unix epoch.
    pub at_ms: i64,
}

impl Request {
    /// The file's text.
    pub fn to_text(&self) -> String {
        let mut text = String::from(
            "# picket uplink: an arming request for picket run, which applies and removes it.\n",
        );
        // Four plain fields: serialising them cannot fail.
        text += &toml::to_string(self).unwrap_or_default();
        text
    }

    /// Reads a request file's text; anything but exactly a known request is an error.
    pub fn parse(text: &str) -> Result<Request, String> {
        let r: Request = toml::from_str(text).map_err(|e| e.message().to_owned())?;
        if r.version != REQUEST_VERSION {
            return Err(format!(
                "version {} (this picket reads {REQUEST_VERSION})",
                r.version
            ));
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_round_trips_and_nothing_else_parses() {
        let r = Request {
            version: 1,
            request: Action::Disarm,
            source: Source::Mqtt,
            at_ms: 1_796_419_740_656,
        };
        let text = r.to_text();
        assert!(
            text.contains("request = \"disarm\"\nsource = \"mqtt\""),
            "{text}"
        );
        assert_eq!(Request::parse(&text), Ok(r));
        for (bad, why) in [
            ("", "missing field `version`"),
            (
                "version = 1\nrequest = \"explode\"\nsource = \"mqtt\"\nat_ms = 1\n",
                "unknown variant `explode`",
            ),
            (
                "version = 1\nrequest = \"arm\"\nsource = \"web\"\nat_ms = 1\n",
                "unknown variant `web`",
            ),
            (
                "version = 2\nrequest = \"arm\"\nsource = \"mqtt\"\nat_ms = 1\n",
                "version 2",
            ),
            (
                "version = 1\nrequest = \"arm\"\nsource = \"mqtt\"\nat_ms = 1\nmode = \"x\"\n",
                "unknown field `mode`",
            ),
        ] {
            let got = Request::parse(bad).unwrap_err();
            assert!(got.contains(why), "{bad:?}: {got}");
        }
        assert!(Request::parse("[[[").is_err());
    }

    #[test]
    fn a_state_parses_only_in_its_shape_and_version() {
        let s = BoxState {
            v: 1,
            ts: "2026-12-05T00:30:00.000Z".into(),
            armed: true,
            mode: "auto".into(),
            outputs_on: vec!["siren".into()],
            people: 2,
            zones: [("walkway".to_owned(), 1)].into(),
            firing: vec!["on_walkway".into()],
            fps: Some(9.9),
            camera_ok: true,
            last_id: Some(7),
        };
        let json = serde_json::to_vec(&s).unwrap();
        assert_eq!(BoxState::parse(&json), Ok(s));
        assert!(BoxState::parse(b"{}")
            .unwrap_err()
            .contains("missing field"));
        assert!(BoxState::parse(b"not json").is_err());
        let v2 = String::from_utf8(json)
            .unwrap()
            .replace("\"v\":1", "\"v\":2");
        assert!(BoxState::parse(v2.as_bytes())
            .unwrap_err()
            .contains("version 2"));
    }
}
