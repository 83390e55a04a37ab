//! `[[push]]`: the journal's events to phones, through ntfy or a webhook, served by
//! `picket uplink` beside MQTT (or alone, without `[uplink] url`).
//!
//! Each sink runs on its own thread with its own read-only view of the journal and its own
//! durable cursor, `<state_file>.push-<name or index>` ([`PushConfig::cursor_file`]), moved
//! only over events the server answered with a 2xx: at least once, as for MQTT.
//!
//! - [`config`]: the `[[push]]` sections; [`format`](mod@format): what goes on the wire, as pure functions;
//! - `http.rs`: the client (ureq on the sink's thread; rustls as the MQTT side uses it);
//! - `rate.rs`: `max_per_minute`; `sink.rs`: the sink's loop, folding and retrying.

pub mod config;
pub mod format;
mod http;
mod rate;
mod sink;

pub use config::{PushConfig, PushKind};

use super::present::Snapshots;
use super::{files, UplinkError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// One sink, resolved from its config with its files read and checked.
pub struct Sink {
    pub label: String,
    pub kind: PushKind,
    pub url: String,
    pub box_id: String,
    pub journal: PathBuf,
    pub cursor_file: PathBuf,
    pub kinds: Vec<String>,
    pub rules: Vec<String>,
    pub armed_only: bool,
    pub max_per_minute: u32,
    pub snapshots: Snapshots,
    pub multipart: bool,
    http: http::Http,
}

/// Resolves every `[[push]]` sink (already validated): reads each token and CA file. A missing
/// or too-open token file is an error naming the sink.
pub fn resolve(
    sinks: &[PushConfig],
    box_id: &str,
    journal: &Path,
    state_file: &Path,
) -> Result<Vec<Sink>, UplinkError> {
    sinks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let label = c.label(i);
            let named = |e: UplinkError| UplinkError::Push {
                sink: label.clone(),
                cause: match e {
                    UplinkError::File { key, path, why } => {
                        format!("{key} {}: {why}", path.display())
                    }
                    e => e.to_string(),
                },
            };
            let token = c
                .token_file
                .as_deref()
                .map(|p| files::read_token(p).map_err(named))
                .transpose()?;
            let tls = if c.url.starts_with("https://") {
                Some(files::tls_config(c.ca_file.as_deref(), None).map_err(named)?)
            } else {
                None
            };
            let timeout = Duration::from_secs(u64::from(c.timeout_s));
            Ok(Sink {
                http: http::Http::new(&c.url, token, tls, timeout),
                kind: c.kind,
                url: c.url.clone(),
                box_id: box_id.to_owned(),
                journal: journal.to_owned(),
                cursor_file: c.cursor_file(i, state_file),
                kinds: c.kinds(),
                rules: c.rules.clone(),
                armed_only: c.armed_only,
                max_per_minute: c.max_per_minute,
                snapshots: c.snapshots,
                multipart: c.multipart,
                label,
            })
        })
        .collect()
}

/// Runs `sinks`, each on its own thread, and `mqtt` (the MQTT uplink, when there is one) on
/// this one, until `stop` is set or one of them fails for good, which stops the others.
pub fn serve(
    sinks: &[Sink],
    stop: &AtomicBool,
    mqtt: impl FnOnce(&AtomicBool) -> Result<(), UplinkError>,
) -> Result<(), UplinkError> {
    let halt = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let halt = &halt;
        let threads: Vec<_> = sinks
            .iter()
            .map(|s| {
                std::thread::Builder::new()
                    .name(format!("push-{}", s.label))
                    .spawn_scoped(scope, move || {
                        let end = sink::run(s, halt);
                        if end.is_err() {
                            halt.store(true, Ordering::SeqCst);
                        }
                        end
                    })
            })
            .collect();
        let watcher = scope.spawn(move || {
            while !halt.load(Ordering::SeqCst) {
                if stop.load(Ordering::SeqCst) {
                    halt.store(true, Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let mut end = mqtt(halt);
        halt.store(true, Ordering::SeqCst);
        for t in threads {
            let r = match t {
                Ok(h) => h.join().unwrap_or_else(|_| {
                    Err(UplinkError::Push {
                        sink: "?".into(),
                        cause: "its thread panicked".into(),
                    })
                }),
                Err(e) => Err(UplinkError::Runtime(e)),
            };
            if end.is_ok() {
                end = r;
            }
        }
        let _ = watcher.join();
        end
    })
}

/// Waits for `stop`: the uplink's part when it has no MQTT broker.
pub fn no_mqtt(stop: &AtomicBool) -> Result<(), UplinkError> {
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}
