//! What the hot thread does besides frames: news from the source (a camera lost or back, the
//! end of a file) and SIGHUP's reload of zones and rules.

use super::scene::Scenery;
use super::{rules_of, Flow, Hot};
use crate::alarm;
use crate::config::{self, Config};
use crate::event::{EventKind, Value};
use crate::metrics::Counter;
use crate::source::Status;

impl Hot<'_> {
    /// News from the source: a camera lost or back is journalled (a loss sounds the alarms
    /// mapped to `camera_lost`), the end of a file ends the loop.
    pub(super) fn source_news(&mut self, status: Status) -> Flow {
        let kind = match status {
            Status::End => return Flow::End,
            Status::Lost { .. } => Some(EventKind::CameraLost),
            Status::Back { .. } => Some(EventKind::CameraBack),
            Status::Unavailable { .. } => None,
        };
        if let Some(kind) = kind {
            log::warn!("{status}");
            if kind == EventKind::CameraBack {
                self.out.metrics.inc(Counter::Reconnects);
                // The background learnt before the outage may no longer match the view.
                self.see.gate.reset();
            }
            if let Some(id) = alarm::Trigger::health(kind) {
                self.out.metrics.inc(Counter::Alarms);
                if let Err(e) = self.out.alarm.trigger(id) {
                    log::error!("alarm for {kind}: {e}");
                }
            }
            let ev = self
                .event(kind)
                .with_detail(&[("why", Value::Text(&status))]);
            self.out.event(ev, None);
        }
        if let Some(st) = &mut self.out.state {
            st.live.camera_ok = matches!(status, Status::Back { .. });
            st.live.mode = self.arming.inputs().mode;
        }
        // While no frame comes, the output thread's events (the lost camera's alarm) too.
        self.out.drain_notices();
        self.out.offer_state(self.epoch.elapsed(), false);
        // Keep the watchdog fed: reconnecting is progress, and the source backs off itself.
        self.out.alarm.heartbeat();
        self.out.notify.watchdog(self.epoch.elapsed());
        Flow::Next
    }

    /// SIGHUP: new zones and rules from the config file, if valid and mapped the same.
    pub(super) fn reload(&mut self, path: Option<&std::path::Path>) {
        let Some(path) = path else {
            log::warn!("SIGHUP: no config file to reload");
            return;
        };
        let new =
            config::load::<Config>(path)
                .map_err(|e| e.to_string())
                .and_then(|c| {
                    let roi = c.detector_roi();
                    let rules = rules_of(&c).map_err(|e| e.to_string())?;
                    Ok((rules, roi, Scenery::of(&c)))
                })
                .and_then(|(rules, roi, stage)| {
                    if rules.rule_names().eq(self.rules.rule_names()) {
                        Ok((rules, roi, stage))
                    } else {
                        Err("the rules' names or order changed, and the alarms are mapped by rule: \
                         restart picket to apply it"
                        .to_owned())
                    }
                });
        match new {
            Ok((rules, roi, stage)) => {
                self.see.look_at(roi);
                self.out.replace_scenery(stage);
                if let Some(st) = &mut self.out.state {
                    st.zones = Some(rules.zone_names().map(String::from).collect());
                }
                self.rules = rules;
                self.reloads += 1;
                log::info!("SIGHUP: zones and rules reloaded from {}", path.display());
            }
            Err(e) => log::error!("SIGHUP: keeping the current zones and rules: {e}"),
        }
    }
}
