//! `picket uplink`: every journal event to an MQTT broker, at least once, and the box's
//! availability and Home Assistant discovery beside it.
//!
//! A separate process from `picket run`, which stays the journal's only writer. The journal is
//! the outbox: the uplink reads the events after its cursor through a read-only connection
//! ([`outbox`]), publishes each at QoS 1 ([`message`] is the wire format), and moves the cursor
//! ([`cursor`], kept beside the journal's code because `picket run` and `picket status` read it
//! too) only over events the broker acknowledged ([`window`]). Whatever happens to
//! either process or to the broker, an event is published again until it is acknowledged.
//!
//! - [`config`]: the `[uplink]` section; [`files`]: the password and TLS files it names.
//! - `run.rs`: waiting for the journal, the cursor, and reconnecting with backoff.
//! - `session.rs`: one connection to the broker (rumqttc): announce, publish, acknowledge.
//! - [`push`]: `[[push]]`, ntfy and webhook sinks served beside MQTT, each with its cursor.
//! - [`discovery`]: Home Assistant's discovery configs, as pure functions.
//! - `state.rs`: `picket run`'s state file to the retained `…/state` topic; arming commands
//!   from `…/command`, checked and handed to `picket run` as a request file.
//! - [`replay`]: the hub's requests on `…/replay`, answered from the journal.

pub mod broker_url;
pub mod config;
pub mod credentials;
pub(crate) mod describe;
pub mod discovery;
pub mod files;
pub mod message;
pub mod outbox;
pub mod present;
pub mod push;
pub mod replay;
pub(crate) mod run;
pub(crate) mod session;
mod state;
#[cfg(test)]
mod tests;
pub mod window;

pub use crate::journal::cursor::{self, Cursor, CursorError};
pub use broker_url::BrokerUrl;
pub use config::UplinkConfig;
pub use run::run;

use crate::journal::JournalError;
use crate::rules::RuleConfig;
use files::Password;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why `picket uplink` cannot run. Network trouble is never one of these: it is retried.
#[derive(Debug, thiserror::Error)]
pub enum UplinkError {
    #[error("[uplink] {key} {}: {why}", path.display())]
    File {
        key: &'static str,
        path: PathBuf,
        why: String,
    },
    #[error("[uplink] TLS: {0}")]
    Tls(String),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Cursor(#[from] CursorError),
    #[error("[[push]] {sink}: {cause}")]
    Push { sink: String, cause: String },
    #[error("start the network runtime: {0}")]
    Runtime(std::io::Error),
}

/// Everything the uplink needs, resolved from the config and with its files read and checked.
/// Built once at start; read-only afterwards.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The broker, and the credentials and TLS to reach it with.
    pub connection: credentials::Resolved,
    pub box_id: String,
    pub topic_prefix: String,
    pub keepalive: Duration,
    /// Events published and not yet acknowledged, at most.
    pub inflight: usize,
    pub journal: PathBuf,
    pub state_file: PathBuf,
    pub snapshots: present::Snapshots,
    /// Home Assistant's status topic and the discovery messages, when enabled.
    pub homeassistant: Option<(String, Vec<discovery::Message>)>,
    /// `picket run`'s state file, published on `…/state`.
    pub state_json: PathBuf,
    /// The state is published again at least this often.
    pub heartbeat: Duration,
    /// Arming commands, when enabled.
    pub commands: Option<Commands>,
}

/// What accepting arming commands needs (`commands = true`).
#[derive(Debug, Clone)]
pub struct Commands {
    /// `<prefix>/<box_id>/command`, as the alarm panel's discovery config names it.
    pub topic: String,
    /// The code a command must carry.
    pub code: Password,
    /// Where an accepted command goes for `picket run` (`UplinkConfig::request_file`).
    pub request_file: PathBuf,
}

impl Settings {
    /// Resolves `cfg` (already validated) for the journal at `journal`, reading the files it
    /// names. A missing or too-open password file, or unreadable TLS material, is an error.
    pub fn resolve(
        cfg: &UplinkConfig,
        journal: &Path,
        rules: &[RuleConfig],
    ) -> Result<Self, UplinkError> {
        let connection = cfg.credentials().resolve()?;
        let box_id = cfg.box_id();
        let commands = match (&cfg.code_file, cfg.commands) {
            (Some(code), true) => Some(Commands {
                topic: format!("{}/{box_id}/command", cfg.topic_prefix),
                code: files::read_code(code)?,
                request_file: cfg.request_file(journal),
            }),
            _ => None,
        };
        let homeassistant = cfg.homeassistant.then(|| {
            let device = discovery::Device::new(cfg, &box_id, rules);
            (device.status_topic(), discovery::messages(&device))
        });
        Ok(Self {
            connection,
            topic_prefix: cfg.topic_prefix.clone(),
            keepalive: Duration::from_secs(u64::from(cfg.keepalive_s)),
            inflight: usize::from(cfg.inflight),
            journal: journal.to_owned(),
            state_file: cfg.state_file(journal),
            snapshots: cfg.snapshots,
            homeassistant,
            state_json: cfg.state_json.clone(),
            heartbeat: Duration::from_secs(u64::from(cfg.heartbeat_s)),
            commands,
            box_id,
        })
    }

    /// `<prefix>/<box_id>/<leaf>`.
    pub fn topic(&self, leaf: &str) -> String {
        format!("{}/{}/{leaf}", self.topic_prefix, self.box_id)
    }
}
