//! MOTChallenge CSV, the text format of tracking benchmarks, for evaluating the tracker offline.
//!
//! One box per line: `frame,id,x,y,w,h,score[,x3d,y3d,z3d]`, frames from 1, `x,y` the top-left
//! corner. Detection files carry `id = -1`; result files carry the track id. Benchmark files are
//! in pixels: a [`Scale`] converts them to and from the pipeline's normalised coordinates.

use crate::detect::Detection;
use picket_geom::NormRect;
use std::io::{self, BufRead, Write};

/// Why a MOT file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum MotError {
    #[error("{origin}: {cause}")]
    Io { origin: String, cause: io::Error },
    #[error("{origin}:{line}: {message}")]
    Parse {
        origin: String,
        line: usize,
        message: String,
    },
}

/// Pixels per unit of normalised coordinates on each axis: the frame's size, or
/// [`Scale::NORMALISED`] (1×1, the default) when the file is normalised already. A normalised
/// file's coordinates are at most 1: reading one above 1 is an error, since the file is most
/// likely in pixels and its boxes would silently never track.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub width: f32,
    pub height: f32,
}

impl Scale {
    pub const NORMALISED: Scale = Scale {
        width: 1.0,
        height: 1.0,
    };
}

impl Default for Scale {
    fn default() -> Self {
        Scale::NORMALISED
    }
}

/// One detection read from a file, with its frame number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameDetection {
    pub frame: u32,
    pub det: Detection,
}

/// Reads every detection of a MOT file, in file order. Blank lines and `#` comments are
/// skipped; any other line that is not a box is an error naming `origin` and the line.
pub fn read_detections(
    input: impl BufRead,
    origin: &str,
    scale: Scale,
) -> Result<Vec<FrameDetection>, MotError> {
    let mut out = Vec::new();
    for (i, line) in input.lines().enumerate() {
        let line = line.map_err(|cause| MotError::Io {
            origin: origin.to_owned(),
            cause,
        })?;
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let fd = parse_line(text, scale).map_err(|message| MotError::Parse {
            origin: origin.to_owned(),
            line: i + 1,
            message,
        })?;
        out.push(fd);
    }
    Ok(out)
}

fn parse_line(text: &str, scale: Scale) -> Result<FrameDetection, String> {
    let fields: Vec<&str> = text.split(',').map(str::trim).collect();
    if fields.len() < 7 {
        return Err(format!(
            "expected at least 7 comma-separated fields (frame,id,x,y,w,h,score), found {}",
            fields.len()
        ));
    }
    let num = |k: usize, name: &str| -> Result<f32, String> {
        match fields[k].parse::<f32>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(format!(
                "field {} ({name}) is not a number: `{}`",
                k + 1,
                fields[k]
            )),
        }
    };
    let frame = fields[0]
        .parse::<u32>()
        .ok()
        .filter(|&f| f >= 1)
        .ok_or_else(|| format!("field 1 (frame) is not a frame number ≥ 1: `{}`", fields[0]))?;
    let (x, y, w, h) = (num(2, "x")?, num(3, "y")?, num(4, "w")?, num(5, "h")?);
    if scale == Scale::NORMALISED {
        let coords = [(3, "x", x), (4, "y", y), (5, "w", w), (6, "h", h)];
        if let Some((k, name, v)) = coords.into_iter().find(|c| c.2 > 1.0) {
            return Err(format!(
                "field {k} ({name}) is {v}, above 1, but without a frame size the boxes are read \
                 as normalised (0 to 1); for a file in pixels, give its size: --size WxH"
            ));
        }
    }
    if w <= 0.0 || h <= 0.0 {
        return Err(format!("box has no area: w {w}, h {h}"));
    }
    let score = num(6, "score")?;
    let bbox = NormRect::new(
        x / scale.width,
        y / scale.height,
        (x + w) / scale.width,
        (y + h) / scale.height,
    );
    Ok(FrameDetection {
        frame,
        det: Detection {
            bbox,
            score,
            class: 0,
        },
    })
}

/// Writes one result line: `frame,id,x,y,w,h,score,-1,-1,-1`, in the file's pixels.
pub fn write_result(
    out: &mut impl Write,
    frame: u32,
    id: u64,
    bbox: &NormRect,
    score: f32,
    scale: Scale,
) -> io::Result<()> {
    let (x, y) = (bbox.x0 * scale.width, bbox.y0 * scale.height);
    let (w, h) = (bbox.width() * scale.width, bbox.height() * scale.height);
    writeln!(
        out,
        "{frame},{id},{x:.2},{y:.2},{w:.2},{h:.2},{score:.3},-1,-1,-1"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const PX: Scale = Scale {
        width: 640.0,
        height: 480.0,
    };

    #[test]
    fn reads_pixels_into_normalised_boxes() {
        let text = "# comment\n1,-1,64,48,32,96,0.9,-1,-1,-1\n\n2,-1,0,0,640,480,0.25\n";
        let d = read_detections(text.as_bytes(), "det.txt", PX).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].frame, 1);
        assert_eq!(d[0].det.bbox, NormRect::new(0.1, 0.1, 0.15, 0.3));
        assert_eq!(d[0].det.score, 0.9);
        assert_eq!(d[1].det.bbox, NormRect::new(0.0, 0.0, 1.0, 1.0));
    }

    #[test]
    fn a_malformed_line_names_the_file_and_line() {
        for (text, want) in [
            (
                "1,-1,1,1,5,5,0.9\n1,-1,1,x,5,5,0.9\n",
                "det.txt:2: field 4 (y) is not a number: `x`",
            ),
            ("1,-1,1,1,5\n", "det.txt:1: expected at least 7"),
            (
                "0,-1,1,1,5,5,1\n",
                "det.txt:1: field 1 (frame) is not a frame number",
            ),
            ("\n3,-1,1,1,0,5,1\n", "det.txt:2: box has no area"),
            ("1,-1,1,1,5,5,NaN\n", "det.txt:1: field 7 (score)"),
        ] {
            let err = read_detections(text.as_bytes(), "det.txt", PX).unwrap_err();
            assert!(err.to_string().starts_with(want), "{err}");
        }
    }

    #[test]
    fn a_file_in_pixels_read_as_normalised_is_refused_at_its_first_coordinate_above_1() {
        let text = "1,-1,0.1,0.2,0.3,0.4,0.9\n\n2,-1,0.5,0.25,64,1,0.9\n";
        let ok = read_detections(&text.as_bytes()[..26], "det.txt", Scale::NORMALISED).unwrap();
        assert_eq!(ok[0].det.bbox, NormRect::new(0.1, 0.2, 0.4, 0.6));
        let err = read_detections(text.as_bytes(), "det.txt", Scale::default()).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "det.txt:3: field 5 (w) is 64, above 1, but without a frame size the boxes are \
                 read as normalised (0 to 1); for a file in pixels, give its size: --size WxH"
            ),
            "{err}"
        );
        // With the frame size, the same file is pixels.
        let px = read_detections(text.as_bytes(), "det.txt", PX).unwrap();
        assert_eq!(px[1].det.bbox.x1, (0.5 + 64.0) / 640.0);
    }

    #[test]
    fn writes_pixels_back() {
        let mut out = Vec::new();
        let r = NormRect::new(0.1, 0.1, 0.15, 0.3);
        write_result(&mut out, 7, 3, &r, 0.5, PX).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "7,3,64.00,48.00,32.00,96.00,0.500,-1,-1,-1\n"
        );
    }
}
