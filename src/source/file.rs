//! Recorded footage and pipes: Y4M files, MJPEG streams (concatenated JPEGs, as
//! `ffmpeg -f mjpeg` or `rpicam-vid --codec mjpeg` write them), raw frames of a fixed format and
//! size (`ffmpeg -f rawvideo -pix_fmt rgb24 -`, `rpicam-vid --codec yuv420 -o -`), and
//! directories of JPEG/PNG images.
//!
//! Streams are read through one reused buffer. A partial last frame, garbage between JPEGs and
//! a JPEG whose marker structure is broken are counted in [`SourceStats`] and skipped.

pub use super::dir::DirSource;

use super::pacing::Pacer;
use super::stream::Window;
use super::y4m;
use super::{
    replay_timestamp, FrameSource, Next, Pacing, SourceConfig, SourceError, SourceInfo,
    SourceStats, Status,
};
use picket_image::jpeg::{self, Extent};
use picket_image::{FrameRef, PixelFormat};
use std::io::Read;
use std::path::Path;
use std::time::Instant;

/// A JPEG larger than this is taken for a broken stream and resynchronised past.
const MAX_JPEG: usize = 32 << 20;
/// The longest Y4M frame header line (`FRAME` plus parameters).
const MAX_LINE: usize = 4096;

/// How the bytes of a stream divide into frames.
#[derive(Debug, Clone, Copy)]
enum Framing {
    Raw { len: usize },
    Mjpeg,
    Y4m { len: usize },
}

/// Frames from a byte stream: a file or a pipe; see the module doc.
pub struct StreamSource {
    input: Window,
    framing: Framing,
    info: SourceInfo,
    pacer: Pacer,
    /// Live pipes are stamped by the clock, files by their frame rate.
    live: Option<Instant>,
    fps: f64,
    sequence: u64,
    stats: SourceStats,
}

impl StreamSource {
    /// Raw or MJPEG frames of `cfg.format` and `cfg.width`×`cfg.height` on stdin, stamped by
    /// the clock as they arrive.
    pub fn stdin(cfg: &SourceConfig) -> Result<Self, SourceError> {
        let format = cfg.format.ok_or_else(|| {
            SourceError::Invalid(
                "stdin needs source.format (rgb24, yuyv, i420, nv12, mjpeg)".into(),
            )
        })?;
        let mut s = Self::new(
            "stdin",
            Box::new(std::io::stdin()),
            format,
            (cfg.width, cfg.height),
            cfg.fps as f64,
            Pacing::Fast,
        );
        s.live = Some(Instant::now());
        Ok(s)
    }

    /// Frames of `format` and `size` from `reader`, stamped at `fps`; `name` is for messages.
    /// For MJPEG the size is only the expected one: each frame reports its own.
    pub fn new(
        name: &str,
        reader: Box<dyn Read + Send>,
        format: PixelFormat,
        (width, height): (u32, u32),
        fps: f64,
        pacing: Pacing,
    ) -> Self {
        // Room for two raw frames; for MJPEG, 256 KiB holds several frames of a webcam's stream
        // and the window doubles for bigger ones. Each read fills the whole window, so all of it
        // is resident: a larger start is memory spent for nothing.
        let (framing, capacity) = match format.frame_len(width, height) {
            Some(len) => (Framing::Raw { len }, len * 2),
            None => (Framing::Mjpeg, 1 << 18),
        };
        let description = format!("{name}: {format} {width}x{height} at {fps} fps");
        let info = SourceInfo {
            description,
            format,
            width,
            height,
            fps: Some(fps),
        };
        Self::with(Window::new(reader, capacity), framing, info, pacing)
    }

    fn with(input: Window, framing: Framing, info: SourceInfo, pacing: Pacing) -> Self {
        Self {
            input,
            framing,
            fps: info.fps.unwrap_or(0.0),
            info,
            pacer: Pacer::new(pacing),
            live: None,
            sequence: 0,
            stats: SourceStats::default(),
        }
    }

    /// A Y4M stream; the header is read now. `default_fps` applies when it names no rate.
    pub fn y4m(
        path: &Path,
        reader: Box<dyn Read + Send>,
        default_fps: f64,
        pacing: Pacing,
    ) -> Result<Self, SourceError> {
        let mut input = Window::new(reader, 1 << 16);
        let line = read_line(&mut input).map_err(|cause| SourceError::Read {
            what: path.display().to_string(),
            cause,
        })?;
        let header_error = |field, problem| SourceError::Y4mHeader {
            path: path.to_owned(),
            field,
            problem,
        };
        let Some(len) = line else {
            return Err(header_error("signature", "no header line".into()));
        };
        let h = y4m::parse_header(&input.bytes()[..len])
            .map_err(|e| header_error(e.field, e.problem))?;
        input.consume(len + 1);
        let fps = h.fps.unwrap_or(default_fps);
        let len = h.format.frame_len(h.width, h.height).unwrap_or(0);
        let description = format!(
            "{}: Y4M {} {}x{} at {fps} fps",
            path.display(),
            h.format,
            h.width,
            h.height
        );
        let info = SourceInfo {
            description,
            format: h.format,
            width: h.width,
            height: h.height,
            fps: Some(fps),
        };
        Ok(Self::with(input, Framing::Y4m { len }, info, pacing))
    }

    fn read_error(&self, cause: std::io::Error) -> SourceError {
        SourceError::Read {
            what: self.info.description.clone(),
            cause,
        }
    }

    /// Finds the next frame; returns its buffer offset and length, already consumed, or `None`
    /// at the end of the stream.
    fn next_range(&mut self) -> Result<Option<(usize, usize)>, SourceError> {
        match self.framing {
            Framing::Raw { len } => self.fixed(len),
            Framing::Y4m { len } => {
                let line = read_line(&mut self.input).map_err(|e| self.read_error(e))?;
                match line {
                    None if self.input.len() < MAX_LINE => {
                        if self.input.len() > 0 {
                            self.stats.skipped += 1; // the stream ended inside a frame header
                            self.input.consume(self.input.len());
                        }
                        return Ok(None);
                    }
                    Some(n) if self.input.bytes().starts_with(b"FRAME") => {
                        self.input.consume(n + 1)
                    }
                    _ => {
                        return Err(SourceError::Invalid(format!(
                            "{}: frame {}: expected a FRAME line",
                            self.info.description, self.sequence
                        )))
                    }
                }
                self.fixed(len)
            }
            Framing::Mjpeg => self.jpeg(),
        }
    }

    /// The next `len` bytes as a frame; a partial last frame is counted and ends the stream.
    fn fixed(&mut self, len: usize) -> Result<Option<(usize, usize)>, SourceError> {
        if !self.input.ensure(len).map_err(|e| self.read_error(e))? {
            if self.input.len() > 0 {
                self.stats.skipped += 1; // a short read: the stream ended inside a frame
                self.input.consume(self.input.len());
            }
            return Ok(None);
        }
        let at = self.input.offset();
        self.input.consume(len);
        Ok(Some((at, len)))
    }

    fn jpeg(&mut self) -> Result<Option<(usize, usize)>, SourceError> {
        loop {
            // Skip to the next SOI, keeping a trailing FF that may start one.
            let bytes = self.input.bytes();
            let soi = bytes.windows(2).position(|w| w == [0xFF, 0xD8]);
            let skip = soi.unwrap_or(bytes.len().saturating_sub(1));
            if skip > 0 {
                self.stats.garbage_bytes += skip as u64;
                self.input.consume(skip);
            }
            if soi.is_some() {
                match jpeg::scan_length(self.input.bytes()) {
                    Extent::Complete(n) => {
                        let at = self.input.offset();
                        self.input.consume(n);
                        return Ok(Some((at, n)));
                    }
                    Extent::Corrupt => {
                        self.stats.skipped += 1;
                        self.input.consume(2);
                        continue;
                    }
                    Extent::Incomplete if self.input.len() > MAX_JPEG => {
                        self.stats.skipped += 1;
                        self.input.consume(2);
                        continue;
                    }
                    Extent::Incomplete => {}
                }
            }
            if !self.input.fill().map_err(|e| self.read_error(e))? {
                if self.input.len() > 2 {
                    self.stats.skipped += 1; // a truncated last JPEG
                }
                self.input.consume(self.input.len());
                return Ok(None);
            }
        }
    }
}

/// The length of the next line in the window (without its newline), or `None` at the end.
fn read_line(input: &mut Window) -> std::io::Result<Option<usize>> {
    loop {
        if let Some(n) = input
            .bytes()
            .iter()
            .take(MAX_LINE)
            .position(|&b| b == b'\n')
        {
            return Ok(Some(n));
        }
        if input.len() >= MAX_LINE || !input.fill()? {
            return Ok(None);
        }
    }
}

impl FrameSource for StreamSource {
    fn next(&mut self) -> Result<Next<'_>, SourceError> {
        let Some((at, len)) = self.next_range()? else {
            return Ok(Next::Status(Status::End));
        };
        let data = self.input.slice(at, len);
        let (width, height) = match self.framing {
            Framing::Mjpeg => jpeg::dimensions(data).unwrap_or((0, 0)),
            _ => (self.info.width, self.info.height),
        };
        let timestamp = match self.live {
            Some(t0) => t0.elapsed(),
            None => replay_timestamp(self.sequence, self.fps),
        };
        self.pacer.wait(timestamp);
        let sequence = self.sequence;
        self.sequence += 1;
        self.stats.frames += 1;
        Ok(Next::Frame(FrameRef {
            format: self.info.format,
            width,
            height,
            stride: 0,
            data,
            timestamp,
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

/// Opens a file or directory of footage, telling its kind by its content: a directory of
/// images, a Y4M file, an MJPEG stream, or (with `cfg.format` set) raw frames.
pub fn open_path(
    path: &Path,
    cfg: &SourceConfig,
) -> Result<Box<dyn FrameSource + Send>, SourceError> {
    let open_error = |cause| SourceError::Open {
        path: path.to_owned(),
        cause,
    };
    if path.is_dir() {
        return Ok(Box::new(DirSource::open(path, cfg.fps as f64, cfg.pacing)?));
    }
    let mut file = std::fs::File::open(path).map_err(open_error)?;
    let mut magic = [0u8; 10];
    let mut got = 0;
    while got < magic.len() {
        match file.read(&mut magic[got..]).map_err(open_error)? {
            0 => break,
            n => got += n,
        }
    }
    let reader: Box<dyn Read + Send> =
        Box::new(std::io::Cursor::new(magic[..got].to_vec()).chain(file));
    let fps = cfg.fps as f64;
    if magic[..got].starts_with(b"YUV4MPEG2") {
        return Ok(Box::new(StreamSource::y4m(path, reader, fps, cfg.pacing)?));
    }
    let name = path.display().to_string();
    let size = (cfg.width, cfg.height);
    match cfg.format {
        _ if magic[..got].starts_with(&[0xFF, 0xD8]) => Ok(Box::new(StreamSource::new(
            &name,
            reader,
            PixelFormat::Mjpeg,
            size,
            fps,
            cfg.pacing,
        ))),
        Some(format) => Ok(Box::new(StreamSource::new(
            &name, reader, format, size, fps, cfg.pacing,
        ))),
        None => Err(SourceError::Invalid(format!(
            "{name}: neither Y4M nor an MJPEG stream; for raw frames set source.format \
             (rgb24, yuyv, i420, nv12) and the size"
        ))),
    }
}
