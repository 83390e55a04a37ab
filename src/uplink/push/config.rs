//! `[[push]]`: the phone-push sinks `picket uplink` serves beside (or instead of) MQTT.
//!
//! ```toml
//! [[push]]
//! kind = "ntfy"
//! url = "https://ntfy.sh/porch-7f3a9c"
//! token_file = "/etc/picket/ntfy.token"   # mode 0600 or 0640
//! max_per_minute = 6
//!
//! [[push]]
//! name = "hooks"
//! kind = "webhook"
//! url = "https://hooks.lan/picket"
//! kinds = ["intrusion", "alarm_on"]
//! multipart = true
//! ```
//!
//! Validation is static (line and column from `picket check`); the token and CA files are read
//! when `picket uplink` starts.

use super::super::config::check_box_id;
use super::super::credentials::names_a_file;
use super::super::present::Snapshots;
use crate::event::EventKind;
use crate::validate::{join, Report};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The kinds a sink sends when `kinds` is left out: the rule kinds, `alarm_on`, and the health
/// faults.
pub const DEFAULT_KINDS: [&str; 12] = [
    "intrusion",
    "loiter",
    "line_cross",
    "wander",
    "crowd",
    "alarm_on",
    "camera_lost",
    "temp_high",
    "throttled",
    "disk_low",
    "fps_low",
    "tamper",
];

/// What a sink speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushKind {
    /// ntfy's HTTP publish: one request per message to the topic's URL.
    Ntfy,
    /// A JSON POST of the MQTT event object.
    Webhook,
}

/// One `[[push]]` sink.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushConfig {
    /// Names the sink in logs and in its cursor file; `[A-Za-z0-9_-]`. Default: its index.
    #[serde(default)]
    pub name: Option<String>,
    pub kind: PushKind,
    /// `http://` or `https://`: ntfy's server and topic, or the webhook's address.
    pub url: String,
    /// A file holding a bearer token (one line). Must not be group-writable or world-readable.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// Event kinds sent. Default: [`DEFAULT_KINDS`].
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
    /// Only rule events of these rules (others kinds are not affected). Default: all.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Rule events only while the box is armed.
    #[serde(default)]
    pub armed_only: bool,
    /// Messages per rolling minute, at most; a burst beyond it is folded into one summary.
    #[serde(default = "default_max_per_minute")]
    pub max_per_minute: u32,
    /// One request's time limit, seconds.
    #[serde(default = "default_timeout_s")]
    pub timeout_s: u32,
    /// PEM CA certificate(s) the server's must chain to (`https://`). Default: the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Send the snapshot with the event when it has one: `"drawn"` (the default, or `true`),
    /// `"raw"`, or `false` (`crate::uplink::present`).
    #[serde(default = "drawn")]
    pub snapshots: Snapshots,
    /// Webhook only: `multipart/form-data` with the event object and the JPEG as two parts,
    /// rather than one JSON body with the JPEG in base64.
    #[serde(default)]
    pub multipart: bool,
}

fn default_max_per_minute() -> u32 {
    6
}
fn default_timeout_s() -> u32 {
    10
}
fn drawn() -> Snapshots {
    Snapshots::Drawn
}

impl PushConfig {
    /// The sink's name in logs and file names: `name`, or its index in `[[push]]`.
    pub fn label(&self, index: usize) -> String {
        self.name.clone().unwrap_or_else(|| index.to_string())
    }

    /// The sink's cursor: `<state_file>.push-<name or index>`.
    pub fn cursor_file(&self, index: usize, state_file: &Path) -> PathBuf {
        let mut p = state_file.as_os_str().to_owned();
        p.push(format!(".push-{}", self.label(index)));
        PathBuf::from(p)
    }

    /// The kinds sent.
    pub fn kinds(&self) -> Vec<String> {
        self.kinds
            .clone()
            .unwrap_or_else(|| DEFAULT_KINDS.iter().map(|k| k.to_string()).collect())
    }
}

/// Validates every sink of `[[push]]`; `rules` are the configured rule names.
pub fn validate(sinks: &[PushConfig], rules: &[&str], at: &str, report: &mut Report) {
    let mut labels = Vec::new();
    for (i, s) in sinks.iter().enumerate() {
        let here = join(&join(at, "push"), i);
        s.check(rules, &here, report);
        let label = s.label(i);
        if labels.contains(&label) {
            report.error(join(&here, "name"), format!("`{label}` names two sinks"));
        }
        labels.push(label);
    }
}

impl PushConfig {
    fn check(&self, rules: &[&str], at: &str, report: &mut Report) {
        let key = |k: &str| join(at, k);
        if let Some(n) = &self.name {
            if let Err(e) = check_box_id(n) {
                report.error(key("name"), e);
            }
        }
        if let Err(e) = check_url(&self.url) {
            report.error(key("url"), e);
        }
        for (k, v) in [("token_file", &self.token_file), ("ca_file", &self.ca_file)] {
            if v.as_ref().is_some_and(|p| !names_a_file(p)) {
                report.error(key(k), "must name a file");
            }
        }
        if self.ca_file.is_some() && !self.url.starts_with("https://") {
            report.error(key("ca_file"), "only for an https:// url");
        }
        if let Some(kinds) = &self.kinds {
            if kinds.is_empty() {
                report.error(key("kinds"), "empty: the sink would send nothing");
            }
            for (i, k) in kinds.iter().enumerate() {
                if EventKind::parse(k).is_none() {
                    report.error(
                        join(&key("kinds"), i),
                        format!("`{k}` is no event kind (see `picket events list --help`)"),
                    );
                }
            }
        }
        for (i, r) in self.rules.iter().enumerate() {
            if !rules.contains(&r.as_str()) {
                report.error(join(&key("rules"), i), format!("no rule is named `{r}`"));
            }
        }
        if !(1..=600).contains(&self.max_per_minute) {
            report.error(key("max_per_minute"), "must be from 1 to 600");
        }
        if !(1..=300).contains(&self.timeout_s) {
            report.error(key("timeout_s"), "must be from 1 to 300 seconds");
        }
        if self.multipart && self.kind != PushKind::Webhook {
            report.error(key("multipart"), "only for kind = \"webhook\"");
        }
    }
}

/// An `http://` or `https://` URL with a host.
pub fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("`{url}`: must start with http:// or https://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(format!("`{url}`: no host"));
    }
    if url.contains(char::is_whitespace) {
        return Err(format!("`{url}`: spaces must be written %20"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sink(toml_text: &str) -> PushConfig {
        toml::from_str(toml_text).unwrap()
    }

    fn problems(sinks: &[PushConfig]) -> Report {
        let mut r = Report::default();
        validate(sinks, &["on_walkway"], "", &mut r);
        r
    }

    #[test]
    fn defaults_and_cursor_names() {
        let s = sink("kind = \"ntfy\"\nurl = \"http://127.0.0.1:9/t\"");
        assert_eq!(s.max_per_minute, 6);
        assert_eq!(s.timeout_s, 10);
        assert!(s.kinds().contains(&"alarm_on".to_string()));
        assert!(!s.kinds().contains(&"armed".to_string()));
        assert_eq!(
            s.cursor_file(2, Path::new("/var/lib/picket/events.db.uplink")),
            PathBuf::from("/var/lib/picket/events.db.uplink.push-2")
        );
        assert!(problems(&[s]).is_empty());
    }

    #[test]
    fn bad_values_are_named() {
        let s = sink(
            "name = \"a b\"\nkind = \"ntfy\"\nurl = \"ftp://x\"\nkinds = [\"intrusion\", \"nope\"]\n\
             rules = [\"gone\"]\nmax_per_minute = 0\ntimeout_s = 0\nmultipart = true\n\
             ca_file = \"/etc/ca.pem\"",
        );
        let text = format!("{:?}", problems(&[s]));
        for k in [
            "push.0.name",
            "push.0.url",
            "push.0.kinds.1",
            "push.0.rules.0",
            "push.0.max_per_minute",
            "push.0.timeout_s",
            "push.0.multipart",
            "push.0.ca_file",
        ] {
            assert!(text.contains(&format!("\"{k}\"")), "{k} in {text}");
        }
        assert!(!text.contains("push.0.kinds.0"), "{text}");
    }

    #[test]
    fn two_sinks_of_one_name_are_refused() {
        let a = sink("name = \"x\"\nkind = \"webhook\"\nurl = \"https://h/x\"");
        let text = format!("{:?}", problems(&[a.clone(), a]));
        assert!(text.contains("push.1.name"), "{text}");
    }
}
