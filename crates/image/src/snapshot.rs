//! An event snapshot as the journal stores it: the camera's pixels as they were, JPEG-encoded,
//! with the [`Overlay`] that was drawn on the frame carried as JSON in a comment segment
//! ([`crate::comment`]). [`draw`] turns one into the picture an owner looks at; everyone who
//! shows a snapshot (`picket events show --snapshot`, the uplink's messages and push sinks)
//! draws through it, so they all show the same thing.
//!
//! Cost: [`draw`] decodes, draws and re-encodes the whole picture, allocating. At 768×576 with a
//! busy overlay (four people, a zone, a line, the status strip) it took a median 5.9–9.9 ms on
//! a shared 2-core x86-64 build host (three runs of 31 alternating rounds, the host's load
//! varying), against 5.6–9.7 ms for decode+encode alone in the same runs: drawing adds 2–6%,
//! the rest is the codec (`cargo bench -p picket-image --bench snapshot`). It runs where an
//! event is shown or sent, never on the hot thread.

use crate::annotate::Overlay;
use crate::comment;
use crate::RgbImage;
use std::path::Path;

/// The tag of the JPEG comment that carries an overlay.
pub const TAG: &[u8] = b"picket-overlay\0";
/// JPEG quality of drawn snapshots.
const QUALITY: u8 = 85;

/// `jpeg` carrying `o` in a comment; `jpeg` alone (said in the log) if the overlay does not fit.
pub fn attach(jpeg: Vec<u8>, o: &Overlay) -> Vec<u8> {
    let body = serde_json::to_vec(o).unwrap_or_default();
    match comment::insert(&jpeg, TAG, &body) {
        Some(with) => with,
        None => {
            log::warn!(
                "snapshot: overlay of {} bytes left out (too long)",
                body.len()
            );
            jpeg
        }
    }
}

/// The overlay a snapshot carries: `None` for one without (older snapshots, drawn already).
pub fn attached(jpeg: &[u8]) -> Result<Option<Overlay>, serde_json::Error> {
    comment::find(jpeg, TAG)
        .map(serde_json::from_slice)
        .transpose()
}

/// Why a snapshot could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum DrawError {
    #[error("its overlay: {cause}")]
    Overlay { cause: serde_json::Error },
    #[error("{cause}")]
    Decode { cause: crate::still::StillError },
    #[error("{cause}")]
    Encode { cause: crate::draw::EncodeError },
}

/// The stored snapshot `jpeg` with its overlay drawn; as stored when it carries none. `origin`
/// names it in errors.
pub fn draw(jpeg: &[u8], origin: &Path) -> Result<Vec<u8>, DrawError> {
    let Some(o) = attached(jpeg).map_err(|cause| DrawError::Overlay { cause })? else {
        return Ok(jpeg.to_vec());
    };
    let mut img =
        crate::still::decode(jpeg, origin).map_err(|cause| DrawError::Decode { cause })?;
    annotate_and_encode(&mut img, &o)
}

/// `img` with `o` drawn, as a JPEG.
pub fn annotate_and_encode(img: &mut RgbImage, o: &Overlay) -> Result<Vec<u8>, DrawError> {
    img.annotate(o);
    img.to_jpeg(QUALITY)
        .map_err(|cause| DrawError::Encode { cause })
}
