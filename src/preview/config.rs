//! `[preview]`: the live view over a Unix socket. The section's presence turns it on.

use crate::validate::{join, Report, Validate};
use serde::Deserialize;
use std::path::PathBuf;

/// The `[preview]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PreviewConfig {
    /// `false` keeps the section but serves nothing.
    pub enabled: bool,
    /// The Unix socket `picket run` listens on (mode 0660, the process's group).
    pub socket: PathBuf,
    /// The most frames a second a stream sends.
    pub fps: f32,
    /// `/stream.mjpeg` viewers at once; one more gets `503`.
    pub max_viewers: u32,
}

impl Default for PreviewConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            socket: PathBuf::from("/run/picket/preview.sock"),
            fps: 2.0,
            max_viewers: 2,
        }
    }
}

impl Validate for PreviewConfig {
    fn validate(&self, at: &str, report: &mut Report) {
        if !(self.fps > 0.0 && self.fps <= 30.0) {
            report.error(join(at, "fps"), "must be more than 0 and at most 30");
        }
        if !(1..=super::MAX_CONNECTIONS as u32 - 1).contains(&self.max_viewers) {
            report.error(
                join(at, "max_viewers"),
                format!("must be in 1..={}", super::MAX_CONNECTIONS - 1),
            );
        }
        if self.socket.as_os_str().len() > 100 || !self.socket.is_absolute() {
            report.error(
                join(at, "socket"),
                "must be an absolute path of at most 100 bytes (a Unix socket's limit)",
            );
        }
    }
}
