//! `picket hub`: every box's events, collected from the MQTT broker into one hub journal,
//! exactly once.
//!
//! - [`config`]: the `[hub]` section.
//! - the hub journal is `crate::journal::HubWriter`: the box journal's design with each
//!   event's origin (`box`, `box_event`) unique.
//! - [`inbox`]: one received message checked and made into a journal row, or rejected.
//! - [`ledger`]: which ids of each box the hub holds, and the holes it asks to have again
//!   on `<prefix>/<box>/replay` (answered by the box's uplink, `crate::uplink::replay`).
//! - `run.rs`: the connection (manual acknowledgements: a message is acknowledged only once
//!   its row is committed), reconnecting with the uplink's backoff.

pub mod config;

pub use config::HubConfig;
pub mod inbox;
pub mod ledger;
mod run;

pub use run::{run, Counts};

use crate::journal::{JournalConfig, JournalError};
use crate::uplink::credentials::Resolved;
use crate::uplink::UplinkError;
use std::time::Duration;

/// Why `picket hub` cannot run. Network trouble is never one of these: it is retried.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error(transparent)]
    Connection(#[from] UplinkError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("start the network runtime: {cause}")]
    Runtime { cause: std::io::Error },
}

/// Everything the hub needs, resolved from the config with its files read.
#[derive(Debug, Clone)]
pub struct Settings {
    pub connection: Resolved,
    pub client_id: String,
    pub topic_prefix: String,
    pub keepalive: Duration,
    pub silence: Duration,
    /// The hub journal.
    pub journal: JournalConfig,
}

impl Settings {
    /// Resolves `cfg` (already validated) for the hub journal `journal`.
    pub fn resolve(cfg: &HubConfig, journal: &JournalConfig) -> Result<Self, HubError> {
        Ok(Self {
            connection: cfg.credentials().resolve()?,
            client_id: cfg.client_id(),
            topic_prefix: cfg.topic_prefix.clone(),
            keepalive: Duration::from_secs(u64::from(cfg.keepalive_s)),
            silence: Duration::from_secs(u64::from(cfg.silence_s)),
            journal: journal.clone(),
        })
    }
}
