//! The `[hub]` section: the broker `picket hub` collects every box's events from.
//!
//! ```toml
//! [hub]
//! url = "mqtts://broker.lan:8883"
//! username = "picket-hub"
//! password_file = "/etc/picket/hub.password"
//! ca_file = "/etc/picket/broker-ca.pem"
//! ```
//!
//! The connection keys are `[uplink]`'s, checked by the same code
//! ([`crate::uplink::credentials`]); `[journal]` names the hub journal.

use crate::uplink::config::{check_topic_prefix, hostname, sanitized_box_id};
use crate::uplink::credentials::Credentials;
use crate::validate::{join, Report, Validate};
use serde::Deserialize;
use std::path::PathBuf;

/// `[hub]`. Absent means `picket hub` has nothing to do.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HubConfig {
    /// `mqtt://host:port` or `mqtts://host:port`. Required.
    pub url: String,
    /// The boxes' `[uplink] topic_prefix`: the hub reads `<topic_prefix>/+/…`.
    pub topic_prefix: String,
    /// The hub's MQTT client id; its session is kept by the broker (clean session off), so
    /// it must stay the same across restarts. Default: `picket-hub-<host name>`.
    pub client_id: Option<String>,
    /// A box that sends nothing (no state, no heartbeat) for this long is journalled as
    /// silent (`box_offline`), seconds.
    pub silence_s: u32,
    pub username: Option<String>,
    pub password_file: Option<PathBuf>,
    pub ca_file: Option<PathBuf>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// MQTT keep-alive, seconds.
    pub keepalive_s: u16,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            topic_prefix: "picket".into(),
            client_id: None,
            silence_s: 180,
            username: None,
            password_file: None,
            ca_file: None,
            client_cert: None,
            client_key: None,
            keepalive_s: 30,
        }
    }
}

impl HubConfig {
    /// The connection keys, shared with `[uplink]`.
    pub fn credentials(&self) -> Credentials<'_> {
        Credentials {
            url: &self.url,
            username: self.username.as_deref(),
            password_file: self.password_file.as_deref(),
            ca_file: self.ca_file.as_deref(),
            client_cert: self.client_cert.as_deref(),
            client_key: self.client_key.as_deref(),
        }
    }

    /// `client_id`, or `picket-hub-<host name>`.
    pub fn client_id(&self) -> String {
        self.client_id
            .clone()
            .unwrap_or_else(|| format!("picket-hub-{}", sanitized_box_id(&hostname())))
    }
}

impl Validate for HubConfig {
    fn validate(&self, at: &str, report: &mut Report) {
        let key = |k: &str| join(at, k);
        self.credentials().validate(at, report);
        if let Err(e) = check_topic_prefix(&self.topic_prefix) {
            report.error(key("topic_prefix"), e);
        }
        if let Some(id) = &self.client_id {
            if id.is_empty() || id.len() > 128 || id.contains(['+', '#', '/', '\0']) {
                report.error(
                    key("client_id"),
                    "must be 1 to 128 characters without `+`, `#`, `/` or NUL",
                );
            }
        }
        if !(10..=86_400).contains(&self.silence_s) {
            report.error(key("silence_s"), "must be from 10 to 86400 seconds");
        }
        if !(5..=3600).contains(&self.keepalive_s) {
            report.error(key("keepalive_s"), "must be from 5 to 3600 seconds");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::parse;

    /// A config file with only a `[hub]` section, validated as the whole config validates it.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Config {
        hub: Option<HubConfig>,
    }

    impl Validate for Config {
        fn validate(&self, at: &str, report: &mut Report) {
            if let Some(h) = &self.hub {
                h.validate(&join(at, "hub"), report);
            }
        }
    }

    #[test]
    fn defaults_and_a_client_id_from_the_host() {
        let c: Config = parse("[hub]\nurl = \"mqtt://127.0.0.1:1883\"\n", "p.toml").unwrap();
        let h = c.hub.expect("[hub]");
        assert_eq!((h.silence_s, h.keepalive_s), (180, 30));
        assert_eq!(h.topic_prefix, "picket");
        assert!(
            h.client_id().starts_with("picket-hub-"),
            "{}",
            h.client_id()
        );
    }

    #[test]
    fn problems_are_reported_with_line_and_column_through_the_shared_checks() {
        let text = "[hub]\nurl = \"mqtt://broker.lan:1883\"\nusername = \"hub\"\n\
                    password_file = \"/etc/picket/pw\"\nsilence_s = 1\n";
        let err = parse::<Config>(text, "p.toml").unwrap_err();
        let p = err.problems();
        assert_eq!(p.len(), 2, "{err}");
        assert_eq!((p[0].line, p[0].column), (4, 17), "{err}");
        assert!(err.to_string().contains("clear text"), "{err}");
        assert_eq!(p[1].line, 5, "{err}");
        assert!(err.to_string().contains("silence_s"), "{err}");
    }
}
