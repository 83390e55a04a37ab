//! The `[uplink]` section of the config: the MQTT broker `picket uplink` publishes to, as whom,
//! and what it publishes besides the events.
//!
//! ```toml
//! [uplink]
//! url = "mqtts://hub.lan:8883"
//! username = "picket-porch"
//! password_file = "/etc/picket/uplink.password"   # mode 0600 or 0640
//! ca_file = "/etc/picket/hub-ca.pem"
//! homeassistant = true
//! ```
//!
//! Validation here is static, so `picket check` reports it with line and column. The files the
//! section names (password, CA, client certificate and key) belong to the uplink's user, so they
//! are read and checked when `picket uplink` starts (see `files.rs`), never by `picket run`.

use super::broker_url::BrokerUrl;
use super::credentials::{names_a_file, Credentials};
use super::present::Snapshots;
use crate::validate::{join, Report, Validate};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// `[uplink]`. Absent means no uplink. `picket run` reads only `state_file` of it, to prune
/// the journal no further than the uplink's cursor while under `max_bytes`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UplinkConfig {
    /// `mqtt://host:port` or `mqtts://host:port`. Required unless there are `[[push]]` sinks.
    pub url: String,
    /// This box's name in topics and in Home Assistant; `[A-Za-z0-9_-]`, at most 64. Default:
    /// the host name, with other characters replaced by `_`.
    pub box_id: Option<String>,
    /// The first topic level(s): events go to `<topic_prefix>/<box_id>/events`.
    pub topic_prefix: String,
    pub username: Option<String>,
    /// A file holding the password (one line). Must not be group-writable or world-readable.
    pub password_file: Option<PathBuf>,
    /// PEM CA certificate(s) the broker's certificate must chain to (`mqtts://` only). Without
    /// it, the system's trusted CAs (`/etc/ssl/certs`) are used.
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate and its key, for brokers that require one (`mqtts://` only).
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// MQTT keep-alive, seconds: the broker declares the box offline after 1.5× this silence.
    pub keepalive_s: u16,
    /// Events published and not yet acknowledged by the broker, at most.
    pub inflight: u16,
    /// The uplink's cursor. Default: [`PACKAGED_STATE_FILE`] with the package's journal
    /// ([`crate::journal::DEFAULT_PATH`]), else the journal's path with `.uplink` appended.
    pub state_file: Option<PathBuf>,
    /// The state topic is republished at least this often, seconds.
    pub heartbeat_s: u32,
    /// Put each event's snapshot (base64 JPEG) in its message and on `…/snapshot`: `false`
    /// (the default), `"drawn"` (or `true`), `"raw"` (`super::present`).
    pub snapshots: Snapshots,
    /// Publish Home Assistant MQTT discovery configs.
    pub homeassistant: bool,
    pub discovery_prefix: String,
    /// Accept arm/disarm commands over MQTT (needs `mqtts://`, a username and `code_file`).
    pub commands: bool,
    /// A file holding the code a command must carry (one line). Must not be group-writable or
    /// world-readable.
    pub code_file: Option<PathBuf>,
    /// Where `picket run` writes the box's state for the uplink (`crate::live::BoxState`).
    pub state_json: PathBuf,
}

impl Default for UplinkConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            box_id: None,
            topic_prefix: "picket".into(),
            username: None,
            password_file: None,
            ca_file: None,
            client_cert: None,
            client_key: None,
            keepalive_s: 30,
            inflight: 32,
            state_file: None,
            heartbeat_s: 60,
            snapshots: Snapshots::Off,
            homeassistant: false,
            discovery_prefix: "homeassistant".into(),
            commands: false,
            code_file: None,
            state_json: PathBuf::from("/run/picket/state.json"),
        }
    }
}

/// The uplink's cursor by default when the journal is the package's: in the uplink unit's own
/// state directory (`StateDirectory=picket-uplink`, 0770 `picket-uplink:picket`), since the
/// uplink's user may not write beside the journal.
pub const PACKAGED_STATE_FILE: &str = "/var/lib/picket-uplink/cursor";

/// Longest `box_id`.
pub const BOX_ID_MAX: usize = 64;

impl UplinkConfig {
    /// The broker's URL; `None` when it does not parse (validation reports why).
    pub fn broker(&self) -> Option<BrokerUrl> {
        BrokerUrl::parse(&self.url).ok()
    }

    /// `box_id`, or the host name made fit for a topic level.
    pub fn box_id(&self) -> String {
        match &self.box_id {
            Some(b) => b.clone(),
            None => sanitized_box_id(&hostname()),
        }
    }

    /// `state_file`; by default [`PACKAGED_STATE_FILE`] for the package's journal, else
    /// `<journal>.uplink`.
    pub fn state_file(&self, journal: &Path) -> PathBuf {
        self.state_file.clone().unwrap_or_else(|| {
            if journal == Path::new(crate::journal::DEFAULT_PATH) {
                return PathBuf::from(PACKAGED_STATE_FILE);
            }
            let mut p = journal.as_os_str().to_owned();
            p.push(".uplink");
            PathBuf::from(p)
        })
    }

    /// Where the uplink drops an arming request for `picket run`: beside its cursor,
    /// `<state_file>.request`.
    pub fn request_file(&self, journal: &Path) -> PathBuf {
        let mut p = self.state_file(journal).into_os_string();
        p.push(".request");
        PathBuf::from(p)
    }
}

impl UplinkConfig {
    /// The connection keys this section shares with `[hub]`.
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
}

impl Validate for UplinkConfig {
    fn validate(&self, at: &str, report: &mut Report) {
        self.validate_with(at, false, report);
    }
}

impl UplinkConfig {
    /// Validates the section; `url` may be left out when there are `[[push]]` sinks (`push`),
    /// unless what only MQTT does is asked for.
    pub fn validate_with(&self, at: &str, push: bool, report: &mut Report) {
        let key = |k: &str| join(at, k);
        let broker = if self.url.is_empty() && push {
            for (k, on) in [
                ("homeassistant", self.homeassistant),
                ("commands", self.commands),
            ] {
                if on {
                    report.error(key(k), "needs `url`: it is done over MQTT");
                }
            }
            None
        } else {
            self.credentials().validate(at, report)
        };
        if let Some(b) = &self.box_id {
            if let Err(e) = check_box_id(b) {
                report.error(key("box_id"), e);
            }
        }
        for (k, v) in [
            ("topic_prefix", &self.topic_prefix),
            ("discovery_prefix", &self.discovery_prefix),
        ] {
            if let Err(e) = check_topic_prefix(v) {
                report.error(key(k), e);
            }
        }
        for (k, v) in [
            ("state_file", &self.state_file),
            ("code_file", &self.code_file),
            ("state_json", &Some(self.state_json.clone())),
        ] {
            if v.as_ref().is_some_and(|p| !names_a_file(p)) {
                report.error(key(k), "must name a file");
            }
        }
        if let Some(b) = &broker {
            check_commands(self, b, at, report);
        }
        if !(5..=3600).contains(&self.keepalive_s) {
            report.error(key("keepalive_s"), "must be from 5 to 3600 seconds");
        }
        if !(1..=1000).contains(&self.inflight) {
            report.error(key("inflight"), "must be from 1 to 1000");
        }
        if !(5..=3600).contains(&self.heartbeat_s) {
            report.error(key("heartbeat_s"), "must be from 5 to 3600 seconds");
        }
    }
}

/// Commands need TLS, a username and a code.
fn check_commands(c: &UplinkConfig, b: &BrokerUrl, at: &str, report: &mut Report) {
    let key = |k: &str| join(at, k);
    if c.commands {
        if !b.tls {
            report.error(key("commands"), "commands need mqtts://, not plain mqtt://");
        }
        if c.username.is_none() {
            report.error(
                key("commands"),
                "commands need a `username`, so that the broker can restrict who may send them",
            );
        }
        if c.code_file.is_none() {
            report.error(
                key("commands"),
                "commands need a `code_file`: the code Home Assistant asks for and the box checks",
            );
        }
    } else if c.code_file.is_some() {
        report.error(key("code_file"), "only used with `commands = true`");
    }
}

/// `[A-Za-z0-9_-]{1,64}`: one topic level, and a Home Assistant node id.
pub fn check_box_id(b: &str) -> Result<(), String> {
    if b.is_empty() || b.len() > BOX_ID_MAX {
        return Err(format!("must be 1 to {BOX_ID_MAX} characters"));
    }
    if let Some(c) = b
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(format!(
            "`{b}` has `{c}`; use letters, digits, `_` and `-` (it is a topic level and a Home \
             Assistant node id)"
        ));
    }
    Ok(())
}

/// Topic levels to publish under: no wildcards, no empty level, not a `$` system topic.
pub fn check_topic_prefix(p: &str) -> Result<(), String> {
    if p.is_empty() || p.len() > 128 {
        return Err("must be 1 to 128 characters, e.g. `picket`".into());
    }
    if p.contains(['+', '#', '\0']) {
        return Err(format!(
            "`{p}`: `+`, `#` and NUL are not allowed in a topic"
        ));
    }
    if p.starts_with('$') {
        return Err(format!("`{p}`: topics starting with `$` are the broker's"));
    }
    if p.split('/').any(str::is_empty) {
        return Err(format!(
            "`{p}`: no empty topic level (a leading, trailing or doubled `/`)"
        ));
    }
    Ok(())
}

/// `name` with every character outside `[A-Za-z0-9_-]` replaced by `_`, cut to
/// [`BOX_ID_MAX`]; `picket` if nothing is left.
pub fn sanitized_box_id(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(BOX_ID_MAX)
        .collect();
    if s.is_empty() {
        "picket".into()
    } else {
        s
    }
}

/// This machine's host name (gethostname), or empty if it has none.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates when it fits.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::parse;

    /// A config file with only an `[uplink]` section, validated as the whole config validates it.
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        uplink: Option<UplinkConfig>,
        /// Beside `[uplink]` in the cases below, as in a real file; not checked here.
        #[serde(default)]
        #[allow(dead_code)]
        journal: Option<toml::Table>,
    }

    impl Validate for File {
        fn validate(&self, at: &str, report: &mut Report) {
            if let Some(u) = &self.uplink {
                u.validate(&join(at, "uplink"), report);
            }
        }
    }

    fn uplink(text: &str) -> UplinkConfig {
        let c: File = parse(text, "p.toml").unwrap_or_else(|e| panic!("{e}"));
        c.uplink.expect("an [uplink] section")
    }

    /// The one problem `text` has: its line, column and message.
    fn problem(text: &str) -> (usize, usize, String) {
        let err = parse::<File>(text, "p.toml").unwrap_err();
        let p = err.problems();
        assert_eq!(p.len(), 1, "{err}");
        (p[0].line, p[0].column, err.to_string())
    }

    #[test]
    fn defaults_fill_in_around_the_url() {
        let c: File = parse("", "p.toml").unwrap();
        assert!(c.uplink.is_none());
        let u = uplink("[uplink]\nurl = \"mqtt://127.0.0.1:1883\"\n");
        assert_eq!(
            u,
            UplinkConfig {
                url: "mqtt://127.0.0.1:1883".into(),
                ..UplinkConfig::default()
            }
        );
        assert_eq!((u.keepalive_s, u.inflight, u.heartbeat_s), (30, 32, 60));
        assert_eq!(u.topic_prefix, "picket");
        assert_eq!(u.discovery_prefix, "homeassistant");
        assert!(!u.snapshots.on() && !u.homeassistant && !u.commands);
        assert_eq!(u.state_json, PathBuf::from("/run/picket/state.json"));
        assert_eq!(
            u.state_file(Path::new("/var/lib/picket/events.db")),
            PathBuf::from("/var/lib/picket-uplink/cursor")
        );
        assert_eq!(
            u.request_file(Path::new("/var/lib/picket/events.db")),
            PathBuf::from("/var/lib/picket-uplink/cursor.request")
        );
        assert_eq!(
            u.state_file(Path::new("/data/events.db")),
            PathBuf::from("/data/events.db.uplink")
        );
        assert!(check_box_id(&u.box_id()).is_ok(), "{}", u.box_id());
    }

    #[test]
    fn a_full_tls_section_parses() {
        let u = uplink(
            "[uplink]\nurl = \"mqtts://hub.lan\"\nbox_id = \"porch-1\"\ntopic_prefix = \"home/picket\"\n\
             username = \"porch\"\npassword_file = \"/etc/picket/pw\"\nca_file = \"/etc/picket/ca.pem\"\n\
             client_cert = \"/etc/picket/c.pem\"\nclient_key = \"/etc/picket/k.pem\"\nkeepalive_s = 10\n\
             inflight = 4\nstate_file = \"/var/lib/picket-uplink/cursor\"\nheartbeat_s = 30\n\
             snapshots = true\nhomeassistant = true\ndiscovery_prefix = \"ha\"\ncommands = true\n\
             code_file = \"/etc/picket/code\"\nstate_json = \"/run/p/state.json\"\n",
        );
        assert_eq!(u.box_id(), "porch-1");
        assert_eq!(u.broker().map(|b| b.port), Some(8883));
        assert_eq!(
            u.state_file(Path::new("/x.db")),
            PathBuf::from("/var/lib/picket-uplink/cursor")
        );
        assert!(u.commands && u.snapshots == Snapshots::Drawn && u.homeassistant);
        assert_eq!(u.state_json, PathBuf::from("/run/p/state.json"));
        assert_eq!(
            u.request_file(Path::new("/x.db")),
            PathBuf::from("/var/lib/picket-uplink/cursor.request")
        );
    }

    #[test]
    fn each_bad_value_is_located_and_explained() {
        let head = "[journal]\npath = \"/tmp/x.db\"\n\n[uplink]\n";
        let cases: &[(&str, (usize, usize), &str)] = &[
            ("username = \"u\"\n", (4, 1), "uplink.url: required"),
            ("url = \"http://hub\"\n", (5, 7), "uplink.url: `http://hub` is not an MQTT URL"),
            ("url = \"mqtt://hub:70000\"\n", (5, 7), "port `70000`"),
            (
                "url = \"mqtt://hub\"\nbox_id = \"my box\"\n",
                (6, 10),
                "uplink.box_id: `my box` has ` `",
            ),
            (
                "url = \"mqtt://hub\"\ntopic_prefix = \"a/+/b\"\n",
                (6, 16),
                "uplink.topic_prefix: `a/+/b`",
            ),
            (
                "url = \"mqtt://hub\"\ndiscovery_prefix = \"ha/\"\n",
                (6, 20),
                "uplink.discovery_prefix: `ha/`: no empty topic level",
            ),
            (
                "url = \"mqtt://10.0.0.2\"\nusername = \"u\"\npassword_file = \"/p\"\n",
                (7, 17),
                "uplink.password_file: the password would cross the network in clear text to 10.0.0.2",
            ),
            (
                "url = \"mqtt://127.0.0.1\"\npassword_file = \"/p\"\n",
                (6, 17),
                "uplink.password_file: a password needs a `username`",
            ),
            (
                "url = \"mqtt://hub\"\nca_file = \"/ca.pem\"\n",
                (6, 11),
                "uplink.ca_file: only used with mqtts://",
            ),
            (
                "url = \"mqtts://hub\"\nca_file = \"/ca.pem\"\nclient_cert = \"/c.pem\"\n",
                (7, 15),
                "uplink.client_cert: needs `client_key` too",
            ),
            (
                "url = \"mqtt://127.0.0.1\"\nusername = \"u\"\ncode_file = \"/c\"\ncommands = true\n",
                (8, 12),
                "uplink.commands: commands need mqtts://",
            ),
            (
                "url = \"mqtts://hub\"\ncode_file = \"/c\"\ncommands = true\n",
                (7, 12),
                "uplink.commands: commands need a `username`",
            ),
            (
                "url = \"mqtts://hub\"\nusername = \"u\"\ncommands = true\n",
                (7, 12),
                "uplink.commands: commands need a `code_file`",
            ),
            (
                "url = \"mqtts://hub\"\nusername = \"u\"\ncode_file = \"/c\"\n",
                (7, 13),
                "uplink.code_file: only used with `commands = true`",
            ),
            ("url = \"mqtt://hub\"\nstate_json = \"/run/\"\n", (6, 14), "uplink.state_json: must name a file"),
            ("url = \"mqtt://hub\"\nkeepalive_s = 0\n", (6, 15), "uplink.keepalive_s"),
            ("url = \"mqtt://hub\"\ninflight = 0\n", (6, 12), "uplink.inflight"),
            ("url = \"mqtt://hub\"\nheartbeat_s = 1\n", (6, 15), "uplink.heartbeat_s"),
            ("url = \"mqtt://hub\"\nstate_file = \"\"\n", (6, 14), "uplink.state_file: must name a file"),
            ("url = \"mqtt://hub\"\nusername = \"\"\n", (6, 12), "uplink.username: must not be empty"),
            ("url = \"mqtt://hub\"\npassword = \"x\"\n", (6, 1), "unknown field `password`"),
            ("url = \"mqtt://hub\"\ninflight = -1\n", (6, 12), "invalid value"),
        ];
        for (body, at, want) in cases {
            let (line, col, text) = problem(&format!("{head}{body}"));
            assert_eq!((line, col), *at, "{body}: {text}");
            assert!(text.contains(want), "{body}: {text}");
        }
    }

    #[test]
    fn a_loopback_broker_may_take_a_password_in_clear() {
        for host in ["127.0.0.1", "localhost", "[::1]"] {
            let u = uplink(&format!(
                "[uplink]\nurl = \"mqtt://{host}:1883\"\nusername = \"u\"\npassword_file = \"/p\"\n"
            ));
            assert!(u.broker().is_some_and(|b| b.is_loopback()), "{host}");
        }
    }

    #[test]
    fn host_names_become_box_ids() {
        assert_eq!(sanitized_box_id("pi-porch"), "pi-porch");
        assert_eq!(sanitized_box_id("pi.local"), "pi_local");
        assert_eq!(sanitized_box_id(""), "picket");
        assert_eq!(sanitized_box_id(&"x".repeat(100)).len(), BOX_ID_MAX);
        assert!(check_box_id(&"x".repeat(65)).is_err());
    }
}
