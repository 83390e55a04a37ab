//! `picket hub`: every box's events, collected from the MQTT broker into one hub journal,
//! exactly once.
//!
//! - [`config`]: the `[hub]` section.
//! - [`store`]: the hub journal, the box journal's design with each event's origin
//!   (`box`, `box_event`) unique.
//! - [`inbox`]: one received message checked and made into a journal row, or rejected.
//! - `run.rs`: the connection (manual acknowledgements: a message is acknowledged only once
//!   its row is committed), reconnecting with the uplink's backoff.

pub mod config;

pub use config::HubConfig;
