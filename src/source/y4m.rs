//! The YUV4MPEG2 (Y4M) stream header: `YUV4MPEG2 W640 H480 F30000:1001 Ip A1:1 C420jpeg`.
//!
//! Only the fields picket needs are read; an error names the field at fault. Colour spaces
//! `420`, `420jpeg`, `420paldv`, `420mpeg2` (all I420 here: the chroma siting differs by less
//! than the detector cares about) and `422` are accepted.

use picket_image::PixelFormat;

/// What a Y4M header says about its frames.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub width: u32,
    pub height: u32,
    pub format: PixelFormat,
    /// Frames per second, when the header gives a rate.
    pub fps: Option<f64>,
}

/// A header field that is missing or wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub problem: String,
}

fn bad(field: &'static str, problem: impl Into<String>) -> FieldError {
    FieldError {
        field,
        problem: problem.into(),
    }
}

/// Parses the header line, without its newline.
pub fn parse_header(line: &[u8]) -> Result<Header, FieldError> {
    let line = std::str::from_utf8(line).map_err(|_| bad("signature", "the header is not text"))?;
    let mut tokens = line.split(' ').filter(|t| !t.is_empty());
    if tokens.next() != Some("YUV4MPEG2") {
        return Err(bad(
            "signature",
            "the stream does not start with `YUV4MPEG2`",
        ));
    }
    let (mut width, mut height, mut fps) = (None, None, None);
    let mut format = PixelFormat::I420;
    for t in tokens {
        let mut chars = t.chars();
        let tag = chars.next().unwrap_or(' ');
        let value = chars.as_str();
        match tag {
            'W' => width = Some(dimension("W", value)?),
            'H' => height = Some(dimension("H", value)?),
            'F' => {
                let (n, d) = value
                    .split_once(':')
                    .ok_or_else(|| bad("F", format!("`{value}` is not a ratio like 30:1")))?;
                let n: u32 = n.parse().map_err(|_| bad("F", format!("`{value}`: bad numerator")))?;
                let d: u32 = d.parse().map_err(|_| bad("F", format!("`{value}`: bad denominator")))?;
                if n == 0 || d == 0 {
                    return Err(bad("F", format!("`{value}` is not a frame rate")));
                }
                fps = Some(n as f64 / d as f64);
            }
            'C' => {
                format = match value {
                    "420" | "420jpeg" | "420paldv" | "420mpeg2" => PixelFormat::I420,
                    "422" => PixelFormat::I422,
                    other => {
                        return Err(bad(
                            "C",
                            format!("`{other}` is not supported (supported: 420, 420jpeg, 420paldv, 420mpeg2, 422)"),
                        ))
                    }
                }
            }
            'I' if !matches!(value, "p" | "t" | "b" | "m" | "?") => {
                return Err(bad("I", format!("`{value}` is not an interlacing mode")))
            }
            _ => {} // I, A, X: nothing picket needs
        }
    }
    let width = width.ok_or_else(|| bad("W", "missing"))?;
    let height = height.ok_or_else(|| bad("H", "missing"))?;
    Ok(Header {
        width,
        height,
        format,
        fps,
    })
}

fn dimension(field: &'static str, value: &str) -> Result<u32, FieldError> {
    match value.parse::<u32>() {
        Ok(v) if (1..=16384).contains(&v) => Ok(v),
        _ => Err(bad(field, format!("`{value}` is not a size in 1..=16384"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typical_header_parses() {
        let h = parse_header(b"YUV4MPEG2 W768 H576 F10:1 Ip A0:0 C420jpeg XYSCSS=420JPEG").unwrap();
        assert_eq!(
            h,
            Header {
                width: 768,
                height: 576,
                format: PixelFormat::I420,
                fps: Some(10.0)
            }
        );
        let h = parse_header(b"YUV4MPEG2 C422 W4 H2").unwrap();
        assert_eq!((h.format, h.fps), (PixelFormat::I422, None));
    }

    #[test]
    fn errors_name_the_field() {
        let field = |line: &[u8]| parse_header(line).unwrap_err().field;
        assert_eq!(field(b"YUV4MPEG W4 H4"), "signature");
        assert_eq!(field(b"YUV4MPEG2 H4"), "W");
        assert_eq!(field(b"YUV4MPEG2 W4 Hx"), "H");
        assert_eq!(field(b"YUV4MPEG2 W4 H4 F30"), "F");
        assert_eq!(field(b"YUV4MPEG2 W4 H4 F30:0"), "F");
        assert_eq!(field(b"YUV4MPEG2 W4 H4 C444"), "C");
        assert_eq!(field(b"YUV4MPEG2 W4 H4 Iz"), "I");
        let e = parse_header(b"YUV4MPEG2 W4 H4 Cmono").unwrap_err();
        assert!(e.problem.contains("`mono` is not supported"), "{e:?}");
    }
}
