//! Sample events for filling a journal: `picket journal-stress`, the crash and cap tests, the
//! uplink's outbox tests and the benchmarks all write these.

use crate::event::{Event, EventKind};
use picket_geom::NormRect;

/// A plausible event: kinds, places and boxes vary with `n`.
pub fn sample_event(n: u64, mono_ms: u64) -> Event {
    let now = crate::journal::time_now_ms();
    let kinds = [
        EventKind::Intrusion,
        EventKind::Loiter,
        EventKind::LineCross,
        EventKind::AlarmOn,
        EventKind::Wander,
    ];
    let places = ["door", "yard", "gate", "drive"];
    let mut ev = Event::new(kinds[(n % 5) as usize], now, mono_ms, true)
        .with_place(places[(n % 4) as usize]);
    ev.track_id = Some(n / 7);
    ev.score = Some(0.5 + (n % 50) as f32 / 100.0);
    let x = (n % 10) as f32 / 20.0;
    ev.bbox = Some(NormRect::new(x, 0.2, x + 0.3, 0.9));
    ev.set_detail(&[("dwell_s", 31.5.into())]);
    ev
}

/// `len` bytes framed like a JPEG (SOI … EOI); the content does not matter to SQLite.
pub fn sample_jpeg(n: u64, len: usize) -> Vec<u8> {
    let mut v: Vec<u8> = (0..len.max(4)).map(|i| (i as u64 ^ n) as u8).collect();
    v[..2].copy_from_slice(&[0xFF, 0xD8]);
    let end = v.len();
    v[end - 2..].copy_from_slice(&[0xFF, 0xD9]);
    v
}
