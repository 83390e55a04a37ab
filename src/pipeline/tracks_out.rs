//! `picket run --tracks-out FILE`: the tracker's output in MOTChallenge format, so the whole
//! pipeline (detector and tracker) can be scored with standard tools.
//!
//! One line per confirmed track matched in a frame, `frame,id,x,y,w,h,score,-1,-1,-1`, in the
//! frame's pixels, frames numbered from 1 in the source's order (the first frame read is 1). It
//! is written on the hot thread through a buffer, for evaluation runs: a write that fails is
//! logged once and the file is given up, never the run.

use crate::track::mot::{self, Scale};
use crate::track::{Track, TrackState};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The open tracks file.
pub(super) struct TracksOut {
    path: PathBuf,
    file: Option<BufWriter<File>>,
}

impl TracksOut {
    /// Creates (or truncates) `path`.
    pub(super) fn create(path: &Path) -> std::io::Result<Self> {
        let file = BufWriter::with_capacity(1 << 16, File::create(path)?);
        Ok(Self {
            path: path.to_owned(),
            file: Some(file),
        })
    }

    /// Writes the tracks of frame `sequence` (from 0, `size` pixels: a file's frames are known
    /// only once decoded) confirmed and matched at `mono`.
    pub(super) fn frame(
        &mut self,
        sequence: u64,
        size: (u32, u32),
        tracks: &[Track],
        mono: Duration,
    ) {
        let Some(out) = &mut self.file else {
            return;
        };
        let scale = Scale {
            width: size.0 as f32,
            height: size.1 as f32,
        };
        let frame = u32::try_from(sequence + 1).unwrap_or(u32::MAX);
        let mut matched = tracks
            .iter()
            .filter(|t| t.state == TrackState::Confirmed && t.last_seen == mono);
        let written =
            matched.try_for_each(|t| mot::write_result(out, frame, t.id, &t.bbox, t.score, scale));
        if let Err(e) = written {
            log::error!(
                "--tracks-out {}: {e}; no more tracks are written",
                self.path.display()
            );
            self.file = None;
        }
    }

    /// Flushes what is buffered.
    pub(super) fn finish(&mut self) {
        if let Some(out) = &mut self.file {
            if let Err(e) = out.flush() {
                log::error!("--tracks-out {}: {e}", self.path.display());
            }
        }
    }
}
