//! A camera through V4L2: mmap streaming on the `v4l` crate, with reconnection.
//!
//! The node may be `/dev/videoN` or a stable `/dev/v4l/by-id/...` link (resolved again at every
//! reconnection, so a camera that comes back under another number is found). Frames carry the
//! driver's timestamp (CLOCK_MONOTONIC on current kernels) and are handed out straight from the
//! mmap buffer; nothing is copied or allocated per frame.
//!
//! **Reconnection.** When a dequeue fails (ENODEV after an unplug, EIO, or no frame within
//! `timeout_ms`), the source closes every handle on the device, returns [`Status::Lost`] once,
//! and from then on each call to `next` waits out a backoff (250 ms doubling up to
//! `reconnect_max_ms`) and tries to open and negotiate again, returning
//! [`Status::Unavailable`] on failure and [`Status::Back`] on success. These are statuses, not
//! errors: the process never exits over a lost camera.
//!
//! **MJPEG quirk.** Some drivers (v4l2loopback among them) report the whole buffer as used for
//! the first frame after stream-on, so that frame is dropped after every (re)start.

pub mod device;

use super::{FrameSource, Next, SourceConfig, SourceError, SourceInfo, SourceStats, Status};
use device::Negotiated;
use picket_image::{FrameRef, PixelFormat};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use v4l::buffer::Type;
use v4l::io::mmap::Stream;
use v4l::io::traits::CaptureStream;
use v4l::Device;

const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// What the source was asked for; kept to negotiate again after a reconnection.
#[derive(Debug, Clone)]
struct Wanted {
    path: PathBuf,
    format: Option<PixelFormat>,
    size: (u32, u32),
    fps: u32,
    buffers: u32,
    timeout: Duration,
    reconnect_max: Duration,
}

/// An open, streaming device. Field order matters: the stream (and its mappings) must go
/// before the device's handle.
struct Capture {
    stream: Stream<'static>,
    _device: Device,
    got: Negotiated,
    /// Frames still to drop after stream-on (the MJPEG quirk).
    drop_first: u32,
    last_driver_seq: Option<u32>,
}

impl Capture {
    fn open(w: &Wanted) -> Result<Self, SourceError> {
        use std::os::unix::ffi::OsStrExt;
        // The `v4l` crate panics on a path with a NUL byte (a TOML string can hold one).
        if w.path.as_os_str().as_bytes().contains(&0) {
            return Err(SourceError::Invalid(format!(
                "{}: a device path cannot contain a NUL byte",
                w.path.display()
            )));
        }
        let device = Device::with_path(&w.path).map_err(|cause| SourceError::Open {
            path: w.path.clone(),
            cause,
        })?;
        let got = device::negotiate(&device, &w.path, w.format, w.size, w.fps)?;
        let mut stream =
            Stream::with_buffers(&device, Type::VideoCapture, w.buffers).map_err(|cause| {
                SourceError::Open {
                    path: w.path.clone(),
                    cause,
                }
            })?;
        stream.set_timeout(w.timeout);
        Ok(Self {
            stream,
            _device: device,
            drop_first: u32::from(got.format == PixelFormat::Mjpeg),
            got,
            last_driver_seq: None,
        })
    }
}

/// Closes a capture. The `v4l` crate panics in `Drop` when unmapping fails for any reason other
/// than ENODEV; that must not take the hot thread down while a camera is being unplugged.
fn close(c: Capture) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(c))).is_err() {
        log::warn!("closing the camera failed; its buffers may stay mapped");
    }
}

/// Whether the camera is streaming, or being waited for.
enum Link {
    Up(Box<Capture>),
    Down {
        since: Instant,
        attempt: u32,
        next_try: Instant,
        backoff: Duration,
    },
}

/// A V4L2 camera; see the module doc. Owned by the hot thread.
pub struct V4l2Source {
    wanted: Wanted,
    link: Link,
    info: SourceInfo,
    sequence: u64,
    stats: SourceStats,
}

impl V4l2Source {
    /// Opens and negotiates the device of `cfg`. Fails at once if it cannot (a wrong path or an
    /// unsupported format is a configuration error); reconnection applies only once it ran.
    pub fn open(cfg: &SourceConfig) -> Result<Self, SourceError> {
        let wanted = Wanted {
            path: cfg.device.clone(),
            format: cfg.format,
            size: (cfg.width, cfg.height),
            fps: cfg.fps,
            buffers: cfg.buffers,
            // `v4l` panics on a timeout beyond i32::MAX ms; validation allows 10 minutes.
            timeout: cfg.timeout().min(Duration::from_secs(600)),
            reconnect_max: cfg.reconnect_max().max(FIRST_BACKOFF),
        };
        let capture = Capture::open(&wanted)?;
        let info = describe(&wanted, &capture.got);
        log::info!("{}", info.description);
        Ok(Self {
            wanted,
            link: Link::Up(Box::new(capture)),
            info,
            sequence: 0,
            stats: SourceStats::default(),
        })
    }

    /// The device path this source opens.
    pub fn device(&self) -> &std::path::Path {
        &self.wanted.path
    }

    /// What the driver granted at the last (re)connection.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        match &self.link {
            Link::Up(c) => Some(&c.got),
            Link::Down { .. } => None,
        }
    }

    fn lose(&mut self, cause: std::io::Error) -> Status {
        let old = std::mem::replace(
            &mut self.link,
            Link::Down {
                since: Instant::now(),
                attempt: 0,
                next_try: Instant::now() + FIRST_BACKOFF,
                backoff: FIRST_BACKOFF,
            },
        );
        if let Link::Up(c) = old {
            close(*c);
        }
        self.stats.lost += 1;
        log::warn!("camera {} lost: {cause}", self.wanted.path.display());
        Status::Lost {
            device: self.wanted.path.clone(),
            cause,
        }
    }

    fn reconnect(&mut self) -> Status {
        let Link::Down {
            since,
            attempt,
            next_try,
            backoff,
        } = &mut self.link
        else {
            unreachable!("reconnect() is called only while down");
        };
        let wait = next_try.saturating_duration_since(Instant::now());
        std::thread::sleep(wait);
        *attempt += 1;
        match Capture::open(&self.wanted) {
            Ok(c) => {
                let down = since.elapsed();
                self.info = describe(&self.wanted, &c.got);
                self.link = Link::Up(Box::new(c));
                self.stats.reconnected += 1;
                log::info!("camera back after {down:.1?}: {}", self.info.description);
                Status::Back {
                    device: self.wanted.path.clone(),
                    down,
                }
            }
            Err(e) => {
                *backoff = (*backoff * 2).min(self.wanted.reconnect_max);
                *next_try = Instant::now() + *backoff;
                log::debug!("camera still unavailable: {e}");
                Status::Unavailable {
                    device: self.wanted.path.clone(),
                    attempt: *attempt,
                    retry_in: *backoff,
                    cause: e.to_string(),
                }
            }
        }
    }
}

fn describe(w: &Wanted, g: &Negotiated) -> SourceInfo {
    let fps = g.fps.map_or("driver's".to_string(), |f| format!("{f:.2}"));
    SourceInfo {
        description: format!(
            "v4l2 {} ({}, {}): {} {}x{} at {fps} fps, {} buffers",
            w.path.display(),
            g.card,
            g.driver,
            g.fourcc,
            g.width,
            g.height,
            w.buffers
        ),
        format: g.format,
        width: g.width,
        height: g.height,
        fps: g.fps,
    }
}

impl FrameSource for V4l2Source {
    fn next(&mut self) -> Result<Next<'_>, SourceError> {
        let (ptr, len, meta) = loop {
            let capture = match &mut self.link {
                Link::Up(c) => c,
                Link::Down { .. } => return Ok(Next::Status(self.reconnect())),
            };
            let (ptr, len, meta) = match CaptureStream::next(&mut capture.stream) {
                Ok((buf, meta)) => (buf.as_ptr(), buf.len(), *meta),
                Err(e) => return Ok(Next::Status(self.lose(e))),
            };
            if let Some(prev) = capture.last_driver_seq {
                let gap = meta.sequence.wrapping_sub(prev).saturating_sub(1);
                self.stats.driver_dropped += u64::from(gap.min(1000));
            }
            capture.last_driver_seq = Some(meta.sequence);
            if capture.drop_first > 0 {
                capture.drop_first -= 1;
                continue;
            }
            let used = (meta.bytesused as usize).min(len);
            let need = match capture.got.format {
                PixelFormat::Mjpeg => 2,
                _ => capture.got.size.min(len),
            };
            if used < need {
                self.stats.skipped += 1; // a short buffer: count it and take the next
                continue;
            }
            let used = if capture.got.format == PixelFormat::Mjpeg {
                used
            } else {
                need
            };
            break (ptr, used, meta);
        };
        let Link::Up(capture) = &self.link else {
            unreachable!("the loop above breaks only while up");
        };
        // SAFETY: `ptr..ptr + len` lies in one of the stream's mmap buffers, which stay mapped
        // while `capture` lives. The returned frame borrows `self` mutably, so neither the
        // buffer's re-queueing (in the next call) nor the capture's closing can happen while
        // the frame is alive.
        let data = unsafe { std::slice::from_raw_parts(ptr, len) };
        let sequence = self.sequence;
        self.sequence += 1;
        self.stats.frames += 1;
        Ok(Next::Frame(FrameRef {
            format: capture.got.format,
            width: capture.got.width,
            height: capture.got.height,
            stride: if capture.got.format == PixelFormat::Mjpeg {
                0
            } else {
                capture.got.stride
            },
            data,
            timestamp: Duration::new(
                meta.timestamp.sec.max(0) as u64,
                (meta.timestamp.usec.clamp(0, 999_999) * 1000) as u32,
            ),
            sequence,
        }))
    }

    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn stats(&self) -> SourceStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_and_missing_device_paths_are_errors_not_panics() {
        let cfg = |device: &str| SourceConfig {
            device: PathBuf::from(device),
            ..SourceConfig::default()
        };
        let e = V4l2Source::open(&cfg("/dev/vid\0eo"))
            .err()
            .expect("an error");
        assert!(matches!(e, SourceError::Invalid(_)), "{e}");
        let e = V4l2Source::open(&cfg("/dev/video-missing"))
            .err()
            .expect("an error");
        assert!(matches!(e, SourceError::Open { .. }), "{e}");
        assert!(e.to_string().contains("/dev/video-missing"), "{e}");
    }
}
