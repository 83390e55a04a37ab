//! Frame sources: where the pipeline's frames come from.
//!
//! One trait, [`FrameSource`], and its implementations:
//! - [`v4l2::V4l2Source`]: a camera through V4L2 (mmap streaming, format negotiation, driver
//!   timestamps, dequeue timeouts, reconnection with capped backoff);
//! - [`file`]: recorded footage (MJPEG streams, Y4M, a directory of JPEG/PNG images) and raw or
//!   MJPEG frames on a pipe such as stdin, paced in real time or as fast as possible.
//!
//! [`open`] builds the one a [`SourceConfig`] asks for.

mod config;
mod dir;
pub mod file;
mod pacing;
mod stream;
pub mod v4l2;
mod y4m;

pub use config::{parse_size, Pacing, SourceConfig, SourceKind};
pub use pacing::Pacer;

use crate::event::EventKind;
use crate::image::{FrameRef, PixelFormat};
use std::path::PathBuf;
use std::time::Duration;

/// A producer of frames, owned and driven by the hot thread.
///
/// `next` blocks until a frame is available (or, for live sources, until a dequeue times out)
/// and returns it borrowed: the bytes stay valid until the next call. After warm-up a call does
/// not allocate (the directory replay excepted, which opens one file per frame).
///
/// Errors are of three kinds, told apart by [`SourceError::event_kind`] and
/// [`SourceError::is_end`]:
/// - **health** ([`SourceError::CameraLost`], [`SourceError::CameraBack`]): not failures but news
///   for the journal; keep calling `next`, the source reconnects by itself;
/// - **end** ([`SourceError::End`]): a file or pipe is exhausted;
/// - anything else: the source cannot go on (or, for [`SourceError::Unavailable`], cannot yet;
///   calling again retries).
pub trait FrameSource {
    fn next(&mut self) -> Result<FrameRef<'_>, SourceError>;

    /// What the source delivers, after any negotiation with a device.
    fn info(&self) -> &SourceInfo;

    /// Counters since the source was opened.
    fn stats(&self) -> SourceStats;
}

/// What a source delivers. For V4L2 this is what the driver granted, which may differ from what
/// the config asked for in frame rate.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    /// One line for logs: kind, path, driver, format, size and rate.
    pub description: String,
    pub format: PixelFormat,
    pub width: u32,
    pub height: u32,
    /// Frames per second, when the source knows it.
    pub fps: Option<f64>,
}

/// Counters of one source. Frames that were skipped are not handed out at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// Frames handed out.
    pub frames: u64,
    /// Frames skipped because they were short (a short read, a partial last frame, a V4L2
    /// buffer with fewer bytes than the format needs) or unreadable.
    pub skipped: u64,
    /// Bytes of garbage skipped between JPEGs of an MJPEG stream.
    pub garbage_bytes: u64,
    /// Times the camera was lost, and times it came back.
    pub lost: u64,
    pub reconnected: u64,
    /// Frames the driver dropped, from gaps in its sequence numbers.
    pub driver_dropped: u64,
}

/// Why [`FrameSource::next`] returned no frame; see [`FrameSource`] for the three kinds.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("end of stream")]
    End,
    #[error("camera {} lost: {cause}", device.display())]
    CameraLost {
        device: PathBuf,
        #[source]
        cause: std::io::Error,
    },
    #[error("camera {} back after {down:.1?}", device.display())]
    CameraBack { device: PathBuf, down: Duration },
    #[error("camera {} unavailable (attempt {attempt}, retrying in {retry_in:.1?}): {cause}", device.display())]
    Unavailable {
        device: PathBuf,
        attempt: u32,
        retry_in: Duration,
        cause: String,
    },
    #[error("open {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("read {what}: {source}")]
    Read {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: bad Y4M header: field `{field}`: {problem}", path.display())]
    Y4mHeader {
        path: PathBuf,
        field: &'static str,
        problem: String,
    },
    #[error("{}: {asked} is not supported; supported: {}", device.display(), supported.join(", "))]
    Unsupported {
        device: PathBuf,
        asked: String,
        supported: Vec<String>,
    },
    #[error("{0}")]
    Invalid(String),
}

impl SourceError {
    /// The journal event this error stands for, if it is health news.
    pub fn event_kind(&self) -> Option<EventKind> {
        match self {
            SourceError::CameraLost { .. } => Some(EventKind::CameraLost),
            SourceError::CameraBack { .. } => Some(EventKind::CameraBack),
            _ => None,
        }
    }

    /// Whether the stream is simply over.
    pub fn is_end(&self) -> bool {
        matches!(self, SourceError::End)
    }

    /// Whether calling `next` again may succeed: health news and a camera still unavailable.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SourceError::CameraLost { .. }
                | SourceError::CameraBack { .. }
                | SourceError::Unavailable { .. }
        )
    }
}

/// Opens the source `cfg` describes. `cfg` should have passed validation.
pub fn open(cfg: &SourceConfig) -> Result<Box<dyn FrameSource + Send>, SourceError> {
    match cfg.kind {
        SourceKind::V4l2 => Ok(Box::new(v4l2::V4l2Source::open(cfg)?)),
        SourceKind::File => {
            let path = cfg
                .path
                .as_deref()
                .ok_or_else(|| SourceError::Invalid("source.path is required for files".into()))?;
            file::open_path(path, cfg)
        }
        SourceKind::Stdin => Ok(Box::new(file::StreamSource::stdin(cfg)?)),
    }
}

/// Frame timestamps of replays: frame `n` of a `fps` stream.
pub(crate) fn replay_timestamp(sequence: u64, fps: f64) -> Duration {
    if fps > 0.0 {
        Duration::from_secs_f64(sequence as f64 / fps)
    } else {
        Duration::ZERO
    }
}
