//! The `[source]` section of the config: which camera or file, and how to read it.
//!
//! ```toml
//! [source]
//! kind = "v4l2"                # or "file" (Y4M, MJPEG stream, image directory), "stdin"
//! device = "/dev/v4l/by-id/usb-046d_0825-video-index0"
//! format = "mjpeg"             # preferred fourcc: yuyv, mjpeg, nv12, i420; required for stdin
//! width = 640
//! height = 480
//! fps = 15
//! roi = [0.0, 0.25, 1.0, 1.0]  # x0, y0, x1, y1 of the frame that goes to the detector
//! ```

use crate::validate::{join, Report, Validate};
use picket_image::PixelFormat;
use serde::{Deserialize, Deserializer};
use std::path::PathBuf;
use std::time::Duration;

/// Which kind of source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    #[default]
    V4l2,
    File,
    Stdin,
}

/// How a replay is paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pacing {
    /// At the file's own rate, as a camera would deliver it.
    #[default]
    Realtime,
    /// As fast as the pipeline takes frames.
    Fast,
}

/// The `[source]` section; every field has a default.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourceConfig {
    pub kind: SourceKind,
    /// The V4L2 node: `/dev/videoN` or a stable `/dev/v4l/by-id/...` link.
    pub device: PathBuf,
    /// For `kind = "file"`: a `.y4m` file, an MJPEG stream, raw frames, or a directory.
    pub path: Option<PathBuf>,
    /// The preferred V4L2 format, or the format of raw frames on a pipe or in a file.
    #[serde(deserialize_with = "format_name")]
    pub format: Option<PixelFormat>,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// V4L2 mmap buffers.
    pub buffers: u32,
    /// How long a V4L2 dequeue may wait before the camera counts as lost.
    pub timeout_ms: u64,
    /// The longest wait between reconnection attempts (the backoff doubles up to it).
    pub reconnect_max_ms: u64,
    pub pacing: Pacing,
    /// The region of the frame that goes to the detector, `[x0, y0, x1, y1]` in 0..=1.
    pub roi: Option<[f32; 4]>,
}

impl Default for SourceConfig {
    fn default() -> Self {
        Self {
            kind: SourceKind::V4l2,
            device: PathBuf::from("/dev/video0"),
            path: None,
            format: None,
            width: 640,
            height: 480,
            fps: 15,
            buffers: 4,
            timeout_ms: 2000,
            reconnect_max_ms: 5000,
            pacing: Pacing::Realtime,
            roi: None,
        }
    }
}

impl SourceConfig {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    pub fn reconnect_max(&self) -> Duration {
        Duration::from_millis(self.reconnect_max_ms)
    }

    /// The region of interest as a normalised rectangle.
    pub fn roi_rect(&self) -> Option<picket_geom::NormRect> {
        self.roi
            .map(|[x0, y0, x1, y1]| picket_geom::NormRect::new(x0, y0, x1, y1))
    }
}

fn format_name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PixelFormat>, D::Error> {
    let name = String::deserialize(d)?;
    name.parse().map(Some).map_err(serde::de::Error::custom)
}

/// `640x480` as (640, 480).
pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("size `{s}`: expected WIDTHxHEIGHT, e.g. 640x480"))?;
    let num = |v: &str| {
        v.trim()
            .parse::<u32>()
            .map_err(|_| format!("size `{s}`: `{v}` is not a whole number"))
    };
    Ok((num(w)?, num(h)?))
}

impl Validate for SourceConfig {
    fn validate(&self, at: &str, report: &mut Report) {
        for (name, v) in [("width", self.width), ("height", self.height)] {
            if !(16..=8192).contains(&v) || v % 2 != 0 {
                report.error(join(at, name), format!("{v} must be even and in 16..=8192"));
            }
        }
        if !(1..=240).contains(&self.fps) {
            report.error(join(at, "fps"), format!("{} must be in 1..=240", self.fps));
        }
        if !(2..=32).contains(&self.buffers) {
            report.error(
                join(at, "buffers"),
                format!("{} must be in 2..=32", self.buffers),
            );
        }
        for (name, v) in [
            ("timeout_ms", self.timeout_ms),
            ("reconnect_max_ms", self.reconnect_max_ms),
        ] {
            if !(100..=600_000).contains(&v) {
                report.error(join(at, name), format!("{v} must be in 100..=600000"));
            }
        }
        match self.kind {
            SourceKind::File if self.path.is_none() => {
                report.error(join(at, "path"), "required when kind = \"file\"")
            }
            SourceKind::Stdin if self.format.is_none() => report.error(
                join(at, "format"),
                "required when kind = \"stdin\" (rgb24, yuyv, i420, nv12 or mjpeg)",
            ),
            SourceKind::V4l2 if self.format.is_some_and(|f| !V4L2_FORMATS.contains(&f)) => report
                .error(
                    join(at, "format"),
                    "a camera delivers yuyv, mjpeg, nv12 or i420",
                ),
            _ => {}
        }
        if let Some([x0, y0, x1, y1]) = self.roi {
            let ok = (0.0..=1.0).contains(&x0)
                && (0.0..=1.0).contains(&y0)
                && (0.0..=1.0).contains(&x1)
                && (0.0..=1.0).contains(&y1)
                && x0 < x1
                && y0 < y1;
            if !ok {
                report.error(
                    join(at, "roi"),
                    "must be [x0, y0, x1, y1] within 0..=1 with x0 < x1 and y0 < y1",
                );
            }
        }
    }
}

/// The formats a V4L2 source can deliver to the pipeline.
pub(crate) const V4L2_FORMATS: [PixelFormat; 4] = [
    PixelFormat::Mjpeg,
    PixelFormat::Yuyv,
    PixelFormat::Nv12,
    PixelFormat::I420,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("640x480"), Ok((640, 480)));
        assert!(parse_size("640").unwrap_err().contains("WIDTHxHEIGHT"));
        assert!(parse_size("axb").unwrap_err().contains("`a`"));
    }
}
