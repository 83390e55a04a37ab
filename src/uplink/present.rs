//! What an owner sees of an event's snapshot: `snapshots` in `[uplink]` and in each `[[push]]`
//! sink. The journal stores the camera's picture raw with its overlay (boxes, zones, lines,
//! status) beside it (`picket_image::snapshot`); by default the uplink sends it drawn, as
//! `picket events show --snapshot` writes it, so a phone shows who tripped the alarm.
//!
//! ```toml
//! [uplink]
//! snapshots = "drawn"   # or "raw": the picture as stored; true means "drawn"; default false
//! ```
//!
//! Drawing decodes, draws and re-encodes the picture on the uplink's (or sink's) own thread,
//! never on `picket run`'s hot thread: 6–10 ms per 768×576 snapshot on a shared x86-64 host
//! (`picket_image::snapshot` has the figures and `crates/image/benches/snapshot.rs` the bench). A snapshot that cannot be drawn (a corrupt
//! overlay or JPEG) is sent as stored, so its event is never held back; it is logged and
//! counted once per reader, however often a retry reads it again.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::cell::Cell;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Whether snapshots are sent, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Snapshots {
    /// Not sent (`false`).
    #[default]
    Off,
    /// With what picket saw drawn on them (`true` or `"drawn"`).
    Drawn,
    /// As stored: the camera's picture, nothing drawn (`"raw"`).
    Raw,
}

impl Snapshots {
    /// Whether snapshots are sent at all.
    pub fn on(self) -> bool {
        self != Snapshots::Off
    }
}

impl<'de> Deserialize<'de> for Snapshots {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Snapshots;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(r#"true, false, "drawn" or "raw""#)
            }
            fn visit_bool<E: de::Error>(self, on: bool) -> Result<Snapshots, E> {
                Ok(if on { Snapshots::Drawn } else { Snapshots::Off })
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Snapshots, E> {
                match s {
                    "drawn" => Ok(Snapshots::Drawn),
                    "raw" => Ok(Snapshots::Raw),
                    _ => Err(E::invalid_value(de::Unexpected::Str(s), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// Snapshots that could not be drawn and were sent as stored, in this process.
static UNDRAWN: AtomicU64 = AtomicU64::new(0);

/// Snapshots sent as stored because they could not be drawn, so far in this process.
pub fn undrawn() -> u64 {
    UNDRAWN.load(Ordering::Relaxed)
}

/// Turns stored snapshots into the ones sent, for one reader of the journal (the MQTT session
/// or one push sink).
#[derive(Debug)]
pub struct Presenter {
    mode: Snapshots,
    /// The newest event whose failure was logged: a retry reads events again, and says nothing.
    logged_through: Cell<i64>,
}

impl Presenter {
    pub fn new(mode: Snapshots) -> Self {
        Self {
            mode,
            logged_through: Cell::new(0),
        }
    }

    pub fn mode(&self) -> Snapshots {
        self.mode
    }

    /// Event `id`'s stored snapshot `jpeg` as it is sent: drawn when asked for and it carries
    /// an overlay, else as stored.
    pub fn present(&self, id: i64, jpeg: Vec<u8>) -> Vec<u8> {
        if self.mode != Snapshots::Drawn {
            return jpeg;
        }
        let origin = format!("event {id}'s snapshot");
        match picket_image::snapshot::draw(&jpeg, Path::new(&origin)) {
            Ok(drawn) => drawn,
            Err(e) => {
                if id > self.logged_through.get() {
                    self.logged_through.set(id);
                    let n = UNDRAWN.fetch_add(1, Ordering::Relaxed) + 1;
                    // One line: a decoder's message may span several.
                    let why = e
                        .to_string()
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ");
                    log::warn!(
                        "uplink: event {id}: its snapshot cannot be drawn ({why}); sent as \
                         stored ({n} so far)"
                    );
                }
                jpeg
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use picket_geom::NormRect;
    use picket_image::annotate::{colour, Mark, Overlay};
    use picket_image::RgbImage;

    fn stored() -> Vec<u8> {
        let mut img = RgbImage::new(64, 48);
        img.as_bytes_mut().fill(90);
        let o = Overlay {
            marks: vec![Mark {
                rect: NormRect::new(0.25, 0.25, 0.75, 0.75),
                track: Some(3),
                score: 0.9,
                firing: true,
            }],
            ..Overlay::default()
        };
        picket_image::snapshot::attach(img.to_jpeg(90).unwrap(), &o)
    }

    fn pixel(jpeg: &[u8], x: u32, y: u32) -> [u8; 3] {
        let img = picket_image::still::decode(jpeg, Path::new("t")).unwrap();
        let i = ((y * img.width() + x) * 3) as usize;
        img.as_bytes()[i..i + 3].try_into().unwrap()
    }

    fn near(a: [u8; 3], b: [u8; 3]) -> bool {
        a.iter().zip(b).all(|(&a, b)| a.abs_diff(b) < 48)
    }

    #[test]
    fn drawn_shows_the_firing_box_and_raw_is_as_stored() {
        let jpeg = stored();
        let drawn = Presenter::new(Snapshots::Drawn).present(1, jpeg.clone());
        // The box's left edge, halfway down, and the middle of the box (untouched).
        assert!(
            near(pixel(&drawn, 16, 24), colour::FIRING),
            "{:?}",
            pixel(&drawn, 16, 24)
        );
        assert!(near(pixel(&drawn, 32, 30), [90; 3]));
        assert_eq!(
            Presenter::new(Snapshots::Raw).present(1, jpeg.clone()),
            jpeg
        );
        assert!(near(pixel(&jpeg, 16, 24), [90; 3]));
    }

    #[test]
    fn a_snapshot_that_cannot_be_drawn_is_sent_as_stored_and_counted_once() {
        let p = Presenter::new(Snapshots::Drawn);
        let mut bad = picket_image::comment::insert(
            &RgbImage::new(8, 8).to_jpeg(80).unwrap(),
            picket_image::snapshot::TAG,
            b"{not json",
        )
        .unwrap();
        let before = undrawn();
        assert_eq!(p.present(7, bad.clone()), bad);
        assert_eq!(p.present(7, bad.clone()), bad, "a retry");
        // A good overlay on a picture cut short.
        let mut cut = stored();
        cut.truncate(cut.len() / 2);
        assert_eq!(p.present(8, cut.clone()), cut);
        bad.clear();
        assert_eq!(
            p.present(9, bad.clone()),
            bad,
            "empty: no overlay, as stored"
        );
        assert!(undrawn() >= before + 2);
        assert_eq!(p.logged_through.get(), 8);
    }

    #[test]
    fn the_key_reads_booleans_and_names() {
        #[derive(Deserialize)]
        struct T {
            s: Snapshots,
        }
        let read = |v: &str| toml::from_str::<T>(&format!("s = {v}")).map(|t| t.s);
        assert_eq!(read("true").unwrap(), Snapshots::Drawn);
        assert_eq!(read("false").unwrap(), Snapshots::Off);
        assert_eq!(read("\"drawn\"").unwrap(), Snapshots::Drawn);
        assert_eq!(read("\"raw\"").unwrap(), Snapshots::Raw);
        let e = read("\"boxes\"").unwrap_err().to_string();
        assert!(
            e.contains(r#"expected true, false, "drawn" or "raw""#),
            "{e}"
        );
    }
}
