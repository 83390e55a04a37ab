//! A directory of JPEG and PNG images, replayed in file-name order.
//!
//! Names are listed and sorted once, when the source opens. JPEGs are handed out as MJPEG
//! frames (decoded by the preprocess stage); PNGs are decoded here into RGB24 frames. Each frame
//! opens a file, which allocates its path; this source is for tuning and tests, not the hot path
//! of a deployed camera. Unreadable files and other names are skipped and counted.

use super::pacing::Pacer;
use super::{
    replay_timestamp, FrameSource, Next, Pacing, SourceError, SourceInfo, SourceStats, Status,
};
use picket_image::still::{decode_png, StillKind};
use picket_image::{FrameRef, PixelFormat, RgbImage};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Images of a directory in name order; see the module doc.
pub struct DirSource {
    files: Vec<PathBuf>,
    next_file: usize,
    bytes: Vec<u8>,
    rgb: RgbImage,
    info: SourceInfo,
    pacer: Pacer,
    fps: f64,
    sequence: u64,
    stats: SourceStats,
}

impl DirSource {
    /// Lists `dir`'s `.jpg`, `.jpeg` and `.png` files (any case), to replay at `fps`.
    pub fn open(dir: &Path, fps: f64, pacing: Pacing) -> Result<Self, SourceError> {
        let open_error = |cause| SourceError::Open {
            path: dir.to_owned(),
            cause,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(open_error)? {
            let path = entry.map_err(open_error)?.path();
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            if matches!(ext.as_deref(), Some("jpg" | "jpeg" | "png")) && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        if files.is_empty() {
            return Err(SourceError::Invalid(format!(
                "{}: no .jpg, .jpeg or .png files",
                dir.display()
            )));
        }
        Ok(Self {
            info: SourceInfo {
                description: format!("{}: {} images at {fps} fps", dir.display(), files.len()),
                format: PixelFormat::Mjpeg,
                width: 0,
                height: 0,
                fps: Some(fps),
            },
            files,
            next_file: 0,
            bytes: Vec::new(),
            rgb: RgbImage::default(),
            pacer: Pacer::new(pacing),
            fps,
            sequence: 0,
            stats: SourceStats::default(),
        })
    }

    /// Reads the next file into `bytes`; its kind, or `None` when the directory is done.
    fn load_next(&mut self) -> Option<StillKind> {
        while let Some(path) = self.files.get(self.next_file) {
            self.next_file += 1;
            self.bytes.clear();
            let read = std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut self.bytes));
            let kind = StillKind::sniff(&self.bytes);
            match (read, kind) {
                (Ok(_), Some(StillKind::Png)) => match decode_png(&self.bytes, &mut self.rgb) {
                    Ok(()) => return Some(StillKind::Png),
                    Err(e) => log::warn!("{}: skipped: {e}", path.display()),
                },
                (Ok(_), Some(kind)) => return Some(kind),
                (Ok(_), None) => log::warn!("{}: skipped: not a JPEG or PNG", path.display()),
                (Err(e), _) => log::warn!("{}: skipped: {e}", path.display()),
            }
            self.stats.skipped += 1;
        }
        None
    }
}

impl FrameSource for DirSource {
    fn next(&mut self) -> Result<Next<'_>, SourceError> {
        let Some(kind) = self.load_next() else {
            return Ok(Next::Status(Status::End));
        };
        let timestamp = replay_timestamp(self.sequence, self.fps);
        self.pacer.wait(timestamp);
        let sequence = self.sequence;
        self.sequence += 1;
        self.stats.frames += 1;
        let frame = match kind {
            StillKind::Png => FrameRef {
                format: PixelFormat::Rgb24,
                width: self.rgb.width(),
                height: self.rgb.height(),
                stride: 0,
                data: self.rgb.as_bytes(),
                timestamp,
                sequence,
            },
            StillKind::Jpeg => {
                let (width, height) = picket_image::jpeg::dimensions(&self.bytes).unwrap_or((0, 0));
                FrameRef {
                    format: PixelFormat::Mjpeg,
                    width,
                    height,
                    stride: 0,
                    data: &self.bytes,
                    timestamp,
                    sequence,
                }
            }
        };
        Ok(Next::Frame(frame))
    }

    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn stats(&self) -> SourceStats {
        self.stats
    }
}
