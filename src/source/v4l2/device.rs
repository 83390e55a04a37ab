//! One V4L2 node: format negotiation, and what `picket probe` shows (formats, sizes, frame
//! rates, controls).
//!
//! Controls are enumerated with `VIDIOC_QUERYCTRL` here rather than with the `v4l` crate's
//! `query_controls`, which panics on control types it does not know (vivid has several).

use crate::source::SourceError;
use picket_image::PixelFormat;
use std::io;
use std::path::{Path, PathBuf};
use v4l::capability::Flags;
use v4l::frameinterval::FrameIntervalEnum;
use v4l::framesize::FrameSizeEnum;
use v4l::v4l_sys::{v4l2_control, v4l2_queryctrl, v4l2_querymenu};
use v4l::video::capture::Parameters;
use v4l::video::Capture;
use v4l::{Device, Format, FourCC};

/// The pipeline format of a V4L2 fourcc, if picket can use it.
pub fn pixel_format(f: FourCC) -> Option<PixelFormat> {
    match &f.repr {
        b"YUYV" => Some(PixelFormat::Yuyv),
        b"MJPG" | b"JPEG" => Some(PixelFormat::Mjpeg),
        b"NV12" => Some(PixelFormat::Nv12),
        b"YU12" => Some(PixelFormat::I420),
        _ => None,
    }
}

/// The fourcc a camera uses for a pipeline format.
pub fn fourcc(p: PixelFormat) -> Option<FourCC> {
    match p {
        PixelFormat::Yuyv => Some(FourCC::new(b"YUYV")),
        PixelFormat::Mjpeg => Some(FourCC::new(b"MJPG")),
        PixelFormat::Nv12 => Some(FourCC::new(b"NV12")),
        PixelFormat::I420 => Some(FourCC::new(b"YU12")),
        PixelFormat::Rgb24 | PixelFormat::I422 => None,
    }
}

fn name(f: FourCC) -> String {
    f.repr.iter().map(|&b| b as char).collect()
}

/// What the driver granted.
#[derive(Debug, Clone, PartialEq)]
pub struct Negotiated {
    pub format: PixelFormat,
    pub fourcc: String,
    pub width: u32,
    pub height: u32,
    /// Bytes per line of the first plane.
    pub stride: usize,
    /// Bytes of one raw frame (`sizeimage`).
    pub size: usize,
    pub fps: Option<f64>,
    pub card: String,
    pub driver: String,
}

/// Sets the format: `want` when the device offers it, else the first it offers of MJPEG, YUYV,
/// NV12, I420 (logged). The size must be granted exactly; the rate is reported as given.
pub fn negotiate(
    dev: &Device,
    path: &Path,
    want: Option<PixelFormat>,
    (width, height): (u32, u32),
    fps: u32,
) -> Result<Negotiated, SourceError> {
    let io_err = |cause| SourceError::Open {
        path: path.to_owned(),
        cause,
    };
    let caps = dev.query_caps().map_err(io_err)?;
    if !caps
        .capabilities
        .contains(Flags::VIDEO_CAPTURE | Flags::STREAMING)
    {
        return Err(SourceError::Invalid(format!(
            "{}: {} ({}) is not a streaming capture device",
            path.display(),
            caps.card,
            caps.driver
        )));
    }
    let offered: Vec<FourCC> = dev
        .enum_formats()
        .map_err(io_err)?
        .into_iter()
        .map(|d| d.fourcc)
        .collect();
    let usable: Vec<FourCC> = crate::source::config::V4L2_FORMATS
        .iter()
        .filter_map(|&p| fourcc(p))
        .filter(|f| offered.contains(f))
        .collect();
    let pick = want
        .and_then(fourcc)
        .filter(|f| offered.contains(f))
        .or_else(|| usable.first().copied())
        .ok_or_else(|| SourceError::Unsupported {
            device: path.to_owned(),
            asked: format!("the formats it offers ({})", list(&offered)),
            supported: vec!["YUYV".into(), "MJPG".into(), "NV12".into(), "YU12".into()],
        })?;
    if let Some(w) = want.filter(|&w| fourcc(w) != Some(pick)) {
        log::warn!(
            "{}: {w} is not offered; using {} (offered: {})",
            path.display(),
            name(pick),
            list(&offered)
        );
    }
    let got = dev
        .set_format(&Format::new(width, height, pick))
        .map_err(io_err)?;
    let format = pixel_format(got.fourcc).ok_or_else(|| SourceError::Unsupported {
        device: path.to_owned(),
        asked: format!("the driver's choice {}", name(got.fourcc)),
        supported: usable.iter().map(|&f| name(f)).collect(),
    })?;
    if (got.width, got.height) != (width, height) {
        return Err(SourceError::Unsupported {
            device: path.to_owned(),
            asked: format!(
                "{width}x{height} {} (the driver offered {}x{})",
                name(pick),
                got.width,
                got.height
            ),
            supported: sizes(dev, pick),
        });
    }
    let fps = dev
        .set_params(&Parameters::with_fps(fps))
        .ok()
        .map(|p| p.interval)
        .filter(|i| i.numerator > 0)
        .map(|i| i.denominator as f64 / i.numerator as f64);
    Ok(Negotiated {
        format,
        fourcc: name(got.fourcc),
        width: got.width,
        height: got.height,
        stride: got.stride as usize,
        size: got.size as usize,
        fps,
        card: caps.card,
        driver: caps.driver,
    })
}

fn list(f: &[FourCC]) -> String {
    f.iter().map(|&f| name(f)).collect::<Vec<_>>().join(", ")
}

/// The sizes a device offers for a fourcc, as text (`640x480`, or a stepwise range).
pub fn sizes(dev: &Device, f: FourCC) -> Vec<String> {
    dev.enum_framesizes(f)
        .unwrap_or_default()
        .into_iter()
        .map(|s| match s.size {
            FrameSizeEnum::Discrete(d) => format!("{}x{}", d.width, d.height),
            FrameSizeEnum::Stepwise(s) => format!(
                "{}x{} to {}x{} in steps of {}x{}",
                s.min_width, s.min_height, s.max_width, s.max_height, s.step_width, s.step_height
            ),
        })
        .collect()
}

/// The frame rates a device offers for a fourcc and size, as text (`30`, `7.5`, or a range).
pub fn rates(dev: &Device, f: FourCC, width: u32, height: u32) -> Vec<String> {
    let fps = |n: u32, d: u32| {
        if n == 0 {
            "?".to_string()
        } else {
            format!("{}", (d as f64 / n as f64 * 100.0).round() / 100.0)
        }
    };
    dev.enum_frameintervals(f, width, height)
        .unwrap_or_default()
        .into_iter()
        .map(|i| match i.interval {
            FrameIntervalEnum::Discrete(x) => fps(x.numerator, x.denominator),
            FrameIntervalEnum::Stepwise(s) => format!(
                "{}–{}",
                fps(s.max.numerator, s.max.denominator),
                fps(s.min.numerator, s.min.denominator)
            ),
        })
        .collect()
}

/// One control as `VIDIOC_QUERYCTRL` describes it, with its current value when readable.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlInfo {
    pub id: u32,
    pub name: String,
    pub kind: &'static str,
    pub min: i32,
    pub max: i32,
    pub step: i32,
    pub default: i32,
    pub value: Option<i32>,
    /// Menu items as (value, label).
    pub menu: Vec<(u32, String)>,
}

const CTRL_TYPES: [(u32, &str); 9] = [
    (1, "int"),
    (2, "bool"),
    (3, "menu"),
    (4, "button"),
    (5, "int64"),
    (6, "class"),
    (7, "string"),
    (8, "bitmask"),
    (9, "intmenu"),
];

/// Every control of the device, in driver order; disabled ones and class headings left out.
pub fn controls(dev: &Device) -> io::Result<Vec<ControlInfo>> {
    const NEXT: u32 = 0x8000_0000; // V4L2_CTRL_FLAG_NEXT_CTRL
    const DISABLED: u32 = 0x0001;
    const WRITE_ONLY: u32 = 0x0040;
    let fd = dev.handle().fd();
    let mut out = Vec::new();
    let mut id = 0u32;
    loop {
        // SAFETY: v4l2_queryctrl is plain data, valid as all zeroes.
        let mut q: v4l2_queryctrl = unsafe { std::mem::zeroed() };
        q.id = id | NEXT;
        // SAFETY: `fd` is the open device and the ioctl writes only within `q`.
        let r = unsafe {
            v4l::v4l2::ioctl(
                fd,
                v4l::v4l2::vidioc::VIDIOC_QUERYCTRL,
                &mut q as *mut _ as *mut _,
            )
        };
        if r.is_err() {
            break; // EINVAL: no more controls
        }
        id = q.id;
        let kind = CTRL_TYPES
            .iter()
            .find(|(t, _)| *t == q.type_)
            .map_or("other", |(_, n)| *n);
        if q.flags & DISABLED != 0 || kind == "class" {
            continue;
        }
        let len = q.name.iter().position(|&b| b == 0).unwrap_or(q.name.len());
        let readable = matches!(kind, "int" | "bool" | "menu" | "intmenu" | "bitmask")
            && q.flags & WRITE_ONLY == 0;
        let value = if readable {
            get_control(dev, id).ok()
        } else {
            None
        };
        let menu = if kind == "menu" {
            menu_items(fd, id, q.minimum, q.maximum)
        } else {
            Vec::new()
        };
        out.push(ControlInfo {
            id,
            name: String::from_utf8_lossy(&q.name[..len]).into_owned(),
            kind,
            min: q.minimum,
            max: q.maximum,
            step: q.step,
            default: q.default_value,
            value,
            menu,
        });
    }
    Ok(out)
}

fn menu_items(fd: i32, id: u32, min: i32, max: i32) -> Vec<(u32, String)> {
    let mut items = Vec::new();
    for index in min.max(0) as u32..=max.clamp(0, 255) as u32 {
        // SAFETY: as in `controls`: plain data, valid as all zeroes.
        let mut m: v4l2_querymenu = unsafe { std::mem::zeroed() };
        m.id = id;
        m.index = index;
        // SAFETY: `fd` is the open device and the ioctl writes only within `m`.
        let r = unsafe {
            v4l::v4l2::ioctl(
                fd,
                v4l::v4l2::vidioc::VIDIOC_QUERYMENU,
                &mut m as *mut _ as *mut _,
            )
        };
        if r.is_ok() {
            // SAFETY: for a (non-integer) menu the union holds the item's name.
            let name = unsafe { m.__bindgen_anon_1.name };
            let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
            items.push((index, String::from_utf8_lossy(&name[..len]).into_owned()));
        }
    }
    items
}

/// The value of one control.
pub fn get_control(dev: &Device, id: u32) -> io::Result<i32> {
    let mut c = v4l2_control { id, value: 0 };
    // SAFETY: v4l2_control is plain data for VIDIOC_G_CTRL.
    unsafe {
        v4l::v4l2::ioctl(
            dev.handle().fd(),
            v4l::v4l2::vidioc::VIDIOC_G_CTRL,
            &mut c as *mut _ as *mut _,
        )?;
    }
    Ok(c.value)
}

/// Sets one control (for a button, presses it).
pub fn set_control(dev: &Device, id: u32, value: i32) -> io::Result<()> {
    let mut c = v4l2_control { id, value };
    // SAFETY: as in `get_control`.
    unsafe {
        v4l::v4l2::ioctl(
            dev.handle().fd(),
            v4l::v4l2::vidioc::VIDIOC_S_CTRL,
            &mut c as *mut _ as *mut _,
        )
    }
}

/// The control called `name` (case-insensitive).
pub fn find_control(dev: &Device, name: &str) -> io::Result<Option<ControlInfo>> {
    Ok(controls(dev)?
        .into_iter()
        .find(|c| c.name.eq_ignore_ascii_case(name)))
}

/// The `/dev/video*` nodes, in number order.
pub fn nodes() -> Vec<PathBuf> {
    let mut v: Vec<(u32, PathBuf)> = std::fs::read_dir("/dev")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let n = e
                        .file_name()
                        .to_str()?
                        .strip_prefix("video")?
                        .parse()
                        .ok()?;
                    Some((n, e.path()))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v.into_iter().map(|(_, p)| p).collect()
}
