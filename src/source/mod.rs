//! Frame sources: where the pipeline's frames come from.
//!
//! One trait, [`FrameSource`], and its implementations:
//! - [`v4l2::V4l2Source`]: a camera through V4L2 (mmap streaming, format negotiation, driver
//!   timestamps, dequeue timeouts, reconnection with capped backoff);
//! - [`file`](mod@file): recorded footage (MJPEG streams, Y4M, a directory of JPEG/PNG images) and raw or
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

use picket_image::{FrameRef, PixelFormat};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A producer of frames, owned and driven by the hot thread.
///
/// `next` blocks until a frame is available (or, for live sources, until a dequeue times out)
/// and returns it borrowed: the bytes stay valid until the next call. After warm-up a call does
/// not allocate (the directory replay excepted, which opens one file per frame).
///
/// What it returns is one of three things:
/// - [`Next::Frame`]: a frame;
/// - [`Next::Status`]: news that is not a failure: a camera [lost](Status::Lost), still
///   [unavailable](Status::Unavailable) or [back](Status::Back) (keep calling `next`: the source
///   reconnects by itself, backing off between attempts), or the [end](Status::End) of a file
///   or pipe;
/// - an error ([`SourceError`]): the source cannot go on.
pub trait FrameSource {
    fn next(&mut self) -> Result<Next<'_>, SourceError>;

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

/// What [`FrameSource::next`] gives when it does not fail: a frame, or news about the source.
#[derive(Debug)]
pub enum Next<'a> {
    Frame(FrameRef<'a>),
    Status(Status),
}

impl<'a> Next<'a> {
    /// The frame, if this is one.
    pub fn frame(self) -> Option<FrameRef<'a>> {
        match self {
            Next::Frame(f) => Some(f),
            Next::Status(_) => None,
        }
    }

    /// Whether the stream is simply over.
    pub fn is_end(&self) -> bool {
        matches!(self, Next::Status(s) if s.is_end())
    }
}

/// News from a source that is not a frame and not a failure. Its `Display` is one line for the
/// log, naming the device.
#[derive(Debug)]
pub enum Status {
    /// The camera stopped delivering (unplugged, an I/O error, no frame within the timeout);
    /// the source closed it and reconnects by itself.
    Lost {
        device: PathBuf,
        cause: std::io::Error,
    },
    /// A reconnection attempt failed; the next call waits out `retry_in` and tries again.
    Unavailable {
        device: PathBuf,
        attempt: u32,
        retry_in: Duration,
        cause: String,
    },
    /// The camera streams again, after `down`.
    Back { device: PathBuf, down: Duration },
    /// A file or pipe is exhausted.
    End,
}

impl Status {
    /// Whether the stream is simply over.
    pub fn is_end(&self) -> bool {
        matches!(self, Status::End)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Lost { device, cause } => {
                write!(f, "camera {} lost: {cause}", device.display())
            }
            Status::Unavailable {
                device,
                attempt,
                retry_in,
                cause,
            } => write!(
                f,
                "camera {} unavailable (attempt {attempt}, retrying in {retry_in:.1?}): {cause}",
                device.display()
            ),
            Status::Back { device, down } => {
                write!(f, "camera {} back after {down:.1?}", device.display())
            }
            Status::End => f.write_str("end of stream"),
        }
    }
}

/// Why a source could not be opened, or cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("open {}: {cause}", path.display())]
    Open {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("read {what}: {cause}")]
    Read { what: String, cause: std::io::Error },
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
