//! Video tamper in the pipeline: after the rules, the tamper judge reads the motion gate's luma
//! grid of the same frame (the gate samples it even with gating off when `[tamper]` is enabled,
//! and on frames whose inference it skips), and a change becomes a `tamper` or `tamper_cleared`
//! event with a snapshot; a raised tamper sounds the alarms mapped to `video_tamper`.

use super::outlets::Outlets;
use super::Seeing;
use crate::alarm::Trigger;
use crate::event::{Event, EventKind, Value};
use crate::metrics::Counter;
use crate::rules::Now;
use crate::tamper::{Change, Tamper, TamperConfig, When};
use picket_image::FrameRef;

/// The tamper judge and when it watches.
pub(super) struct Watch {
    judge: Tamper,
    when: When,
}

impl Watch {
    /// The judge of `[tamper]`, if enabled.
    pub(super) fn of(cfg: &TamperConfig) -> Option<Self> {
        cfg.enabled.then(|| Self {
            judge: Tamper::new(cfg),
            when: cfg.when,
        })
    }

    /// Judges `frame` on the grid the gate sampled from it (nothing when it sampled none), at
    /// `now`; `armed` is the rules' last finding.
    pub(super) fn frame(
        &mut self,
        see: &mut Seeing,
        out: &mut Outlets<'_>,
        frame: &FrameRef<'_>,
        now: &Now,
        armed: bool,
    ) {
        let Some((cells, grid)) = see.gate.cells() else {
            return;
        };
        let watching = self.when == When::Always || armed;
        let change = self.judge.observe(now.mono, cells, grid, watching);
        let s = *self.judge.stats();
        let (seq, stamp) = (frame.sequence, frame.timestamp.as_secs_f64());
        log::debug!("frame {seq} stamped {stamp:.6} s: tamper {s:?}");
        let Some(change) = change else {
            return;
        };
        let (kind, reason) = match change {
            Change::Raised(r) => (EventKind::Tamper, r),
            Change::Cleared(r) => (EventKind::TamperCleared, r),
        };
        // The frame's number and stamp, as for rule events: the tests time the hold from them.
        log::warn!(
            "frame {seq} stamped {stamp:.6} s: video {kind}: {reason} (structure {:.3} of {:.3}, \
             energy {:.3} of {:.3}, correlation {:.2}, saturated {:.2}, mean luma {:.0} of {:.0})",
            s.structure,
            s.ref_structure,
            s.energy,
            s.ref_energy,
            s.correlation,
            s.saturated,
            s.mean,
            s.ref_mean
        );
        if kind == EventKind::Tamper {
            out.metrics.inc(Counter::Alarms);
            if let Err(e) = out.alarm.trigger(Trigger::VideoTamper) {
                log::error!("alarm for video tamper: {e}");
            }
        }
        let round = |v: f32| Value::F64((f64::from(v) * 1000.0).round() / 1000.0);
        let event = Event::new(
            kind,
            now.wall_ms,
            now.mono.as_millis() as u64,
            now.clock_synced,
        )
        .with_detail(&[
            ("reason", Value::Str(reason.as_str())),
            ("structure", round(s.structure)),
            ("ref_structure", round(s.ref_structure)),
            ("energy", round(s.energy)),
            ("ref_energy", round(s.ref_energy)),
            ("correlation", round(s.correlation)),
            ("saturated", round(s.saturated)),
        ]);
        let shot = out.shots.fill(frame, &out.scene);
        out.event(event, shot);
    }
}
