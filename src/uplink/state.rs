//! Beside the events, both ways between the broker and `picket run`, never touching the outputs:
//!
//! - **State.** `picket run` writes the box's state ([`BoxState`]) to `state_json` when it
//!   changes (at most once a second). The uplink looks at the file every [`STATE_POLL`] and
//!   publishes it, retained, on `<prefix>/<box_id>/state` when its bytes changed, at every
//!   connect, and at least every `heartbeat_s` (the last good copy, if the file is gone). A
//!   file that is not a state is logged once and not published.
//! - **Commands** (`commands = true`). A message on `<prefix>/<box_id>/command`, as Home
//!   Assistant's alarm panel sends it (`{"action": "ARM_AWAY"|"DISARM", "code": "…"}`), with
//!   the right code becomes a [`Request`] file beside the cursor, which `picket run` applies as
//!   `picket arm`/`disarm` would and removes. A wrong code, an unknown action, a retained or a
//!   malformed message is logged and dropped: nothing is written, nothing is published.

use super::session::Link;
use crate::live::{Action, BoxState, Request, Source, REQUEST_VERSION};
use rumqttc::{AsyncClient, QoS};
use serde::Deserialize;
use std::time::{Duration, Instant};

/// How often the state file is looked at.
pub const STATE_POLL: Duration = Duration::from_millis(250);

/// The state as last published, and what was last logged about it.
#[derive(Debug, Default)]
pub(super) struct StateMemo {
    /// The file's bytes as last published (they are what is published again at the heartbeat).
    bytes: Option<Vec<u8>>,
    published_at: Option<Instant>,
    checked_at: Option<Instant>,
    trouble: Option<String>,
}

impl StateMemo {
    /// Publish at the next look, whatever changed (a new connection).
    pub fn republish(&mut self) {
        self.published_at = None;
        self.checked_at = None;
    }
}

/// A command as Home Assistant's alarm panel sends it (its `command_template`).
#[derive(Debug, Deserialize)]
struct Command {
    action: String,
    #[serde(default)]
    code: Option<String>,
}

impl Link<'_> {
    /// Subscribes to the command topic, when commands are on.
    pub(super) fn subscribe_commands(&mut self, client: &AsyncClient) {
        if let Some(c) = &self.s.commands {
            if let Err(e) = client.try_subscribe(c.topic.clone(), QoS::AtLeastOnce) {
                log::warn!("uplink: cannot subscribe to {}: {e}", c.topic);
            }
        }
    }

    /// Publishes the state when it changed or the heartbeat is due. Called every tick.
    pub(super) fn tick_state(&mut self, client: &AsyncClient) {
        let now = Instant::now();
        if self
            .state
            .checked_at
            .is_some_and(|t| now.duration_since(t) < STATE_POLL)
        {
            return;
        }
        self.state.checked_at = Some(now);
        let heartbeat = self
            .state
            .published_at
            .map_or(true, |t| now.duration_since(t) >= self.s.heartbeat);
        let bytes = match std::fs::read(&self.s.state_json) {
            Ok(b) => match BoxState::parse(&b) {
                Ok(_) => Some(b),
                Err(why) => {
                    self.state_trouble(format!("is not picket run's state ({why}); not published"));
                    None
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.state_trouble("is not there (is picket run running?)".into());
                None
            }
            Err(e) => {
                self.state_trouble(format!("cannot be read: {e}"));
                None
            }
        };
        let payload = match bytes {
            Some(b) => {
                if let Some(was) = self.state.trouble.take() {
                    log::info!(
                        "uplink: state_json {} is readable again (it {was})",
                        self.s.state_json.display()
                    );
                }
                if !heartbeat && self.state.bytes.as_ref() == Some(&b) {
                    return;
                }
                b
            }
            None if heartbeat => match &self.state.bytes {
                Some(b) => b.clone(),
                None => return,
            },
            None => return,
        };
        let trimmed = payload.trim_ascii().to_vec();
        self.publish(client, &self.s.topic("state"), true, trimmed);
        self.state.bytes = Some(payload);
        self.state.published_at = Some(now);
    }

    fn state_trouble(&mut self, why: String) {
        if self.state.trouble.as_ref() != Some(&why) {
            log::warn!("uplink: state_json {} {why}", self.s.state_json.display());
            self.state.trouble = Some(why);
        }
    }

    /// Whether `topic` is the command topic.
    pub(super) fn is_command(&self, topic: &str) -> bool {
        self.s.commands.as_ref().is_some_and(|c| c.topic == topic)
    }

    /// A message on the command topic: checked, and handed to `picket run` if it holds.
    pub(super) fn command(&mut self, payload: &[u8], retained: bool) {
        let Some(c) = &self.s.commands else { return };
        let refuse = |why: &str| log::warn!("uplink: a command on {}: {why}; ignored", c.topic);
        if retained {
            refuse("it is retained, so it would be applied again at every connect");
            return;
        }
        let cmd: Command = match serde_json::from_slice(payload) {
            Ok(cmd) => cmd,
            Err(e) => {
                refuse(&format!("not a JSON object {{\"action\", \"code\"}} ({e})"));
                return;
            }
        };
        if !cmd.code.as_deref().is_some_and(|code| c.code.matches(code)) {
            refuse("wrong code");
            return;
        }
        let request = match cmd.action.as_str() {
            "ARM_AWAY" => Action::Arm,
            "DISARM" => Action::Disarm,
            other => {
                refuse(&format!(
                    "unknown action `{}` (ARM_AWAY or DISARM)",
                    other.escape_debug()
                ));
                return;
            }
        };
        let r = Request {
            version: REQUEST_VERSION,
            request,
            source: Source::Mqtt,
            at_ms: crate::journal::time_now_ms(),
        };
        let path = &c.request_file;
        match super::cursor::write_durably(path, r.to_text().as_bytes()) {
            Ok(()) => log::info!(
                "uplink: {} requested over MQTT; handed to picket run ({})",
                cmd.action,
                path.display()
            ),
            Err((op, e)) => log::error!(
                "uplink: {} requested over MQTT, but {op} {} failed: {e}; not applied",
                cmd.action,
                path.display()
            ),
        }
    }
}
