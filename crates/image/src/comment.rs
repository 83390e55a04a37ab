//! A JPEG's comment segments (COM, `FF FE`) as a carrier for a few kilobytes of picket's own
//! data beside the picture: a snapshot keeps its pixels raw and carries what to draw on them.
//! Viewers ignore comments, so the file still opens anywhere as the plain picture.
//!
//! A picket comment starts with a tag (such as `picket-overlay\0`) so that comments written by
//! cameras or other tools are never mistaken for it.

/// The most bytes a comment segment holds (its length field counts itself).
pub const MAX: usize = 65533;

/// `jpeg` with a comment `tag` + `body` right after its start-of-image marker; `None` when
/// `jpeg` does not start with one or the comment is over [`MAX`].
pub fn insert(jpeg: &[u8], tag: &[u8], body: &[u8]) -> Option<Vec<u8>> {
    let n = tag.len() + body.len();
    if !jpeg.starts_with(&[0xFF, 0xD8]) || n > MAX {
        return None;
    }
    let mut out = Vec::with_capacity(jpeg.len() + n + 4);
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&((n + 2) as u16).to_be_bytes());
    out.extend_from_slice(tag);
    out.extend_from_slice(body);
    out.extend_from_slice(&jpeg[2..]);
    Some(out)
}

/// The body of the first comment starting with `tag`, looked for among the segments before
/// the image data; `None` if there is none or the segments are malformed.
pub fn find<'a>(jpeg: &'a [u8], tag: &[u8]) -> Option<&'a [u8]> {
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut i = 2;
    loop {
        if *jpeg.get(i)? != 0xFF {
            return None;
        }
        let marker = *jpeg.get(i + 1)?;
        match marker {
            0xFF => {
                i += 1; // a fill byte
                continue;
            }
            0xDA | 0xD9 => return None, // image data or the end: no more headers
            0x01 | 0xD0..=0xD7 => {
                i += 2;
                continue;
            }
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*jpeg.get(i + 2)?, *jpeg.get(i + 3)?]));
        let payload = jpeg.get(i + 4..(i + 2 + len).max(i + 4))?;
        if marker == 0xFE && payload.starts_with(tag) {
            return Some(&payload[tag.len()..]);
        }
        i += 2 + len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RgbImage;

    #[test]
    fn a_comment_goes_in_comes_back_and_the_picture_still_decodes() {
        let jpeg = RgbImage::new(16, 8).to_jpeg(80).unwrap();
        assert_eq!(find(&jpeg, b"t\0"), None);
        let with = insert(&jpeg, b"t\0", br#"{"a":1}"#).unwrap();
        assert_eq!(find(&with, b"t\0"), Some(&br#"{"a":1}"#[..]));
        assert_eq!(find(&with, b"other\0"), None, "another tag is not ours");
        let back = crate::still::decode(&with, std::path::Path::new("c.jpg")).unwrap();
        assert_eq!((back.width(), back.height()), (16, 8));
    }

    #[test]
    fn bad_input_finds_nothing_and_too_long_is_refused() {
        assert_eq!(insert(b"GIF89a", b"t", b"x"), None);
        assert_eq!(insert(&[0xFF, 0xD8], b"t", &vec![0; MAX]), None);
        for bad in [
            &b""[..],
            &[0xFF, 0xD8, 0xFF, 0xFE, 0xFF],
            &[0xFF, 0xD8, 0, 0],
            &[0xFF, 0xD8],
        ] {
            assert_eq!(find(bad, b"t"), None, "{bad:?}");
        }
        // A truncated comment: its length says more than the file has.
        assert_eq!(
            find(&[0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x20, b't'], b"t"),
            None
        );
    }
}
