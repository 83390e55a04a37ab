//! `picket feed` (hidden): plays MJPEG footage into a V4L2 *output* device, such as
//! v4l2loopback's, at the footage's frame rate, so that `picket run` can watch real footage
//! through a real V4L2 driver. The hardware-in-the-loop tests feed the committed clip this way
//! (`docs/design/hil.md`).
//!
//! It sets the device's format with `VIDIOC_S_FMT` on the OUTPUT buffer type (MJPEG, the clip's
//! size) and its frame interval with `VIDIOC_S_PARM`, then `write()`s one JPEG per frame period.
//! `write()` carries no timestamp: v4l2loopback stamps each frame with CLOCK_MONOTONIC as it is
//! written, which is the moment a camera would have taken it. The JPEGs are read by picket's own
//! file source, so the frames are exactly the ones `picket run --source CLIP` would see.

use super::signal;
use crate::source::{self, Next, Pacing, SourceConfig, SourceKind, Status};
use anyhow::{bail, Context};
use picket_image::PixelFormat;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use v4l::video::Output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The V4L2 output node, e.g. v4l2loopback's /dev/videoN.
    #[arg(long)]
    pub device: PathBuf,
    /// MJPEG footage: concatenated JPEGs (or a directory of them).
    pub clip: PathBuf,
    /// Frames per second to write at (the committed clip's rate is 10).
    #[arg(long, default_value_t = 10)]
    pub fps: u32,
    /// The first frame of the clip to write (counting from 0).
    #[arg(long, default_value_t = 0)]
    pub from: u64,
    /// Stop before this frame of the clip (default: its end).
    #[arg(long)]
    pub to: Option<u64>,
    /// Play `from..to` this many times; 0 repeats it until SIGTERM.
    #[arg(long, default_value_t = 1)]
    pub loops: u32,
}

/// The clip's frames `from..to`, read once into memory.
fn frames(a: &Args) -> anyhow::Result<Vec<Vec<u8>>> {
    let cfg = SourceConfig {
        kind: SourceKind::File,
        path: Some(a.clip.clone()),
        format: Some(PixelFormat::Mjpeg),
        pacing: Pacing::Fast,
        ..SourceConfig::default()
    };
    let mut src = source::file::open_path(&a.clip, &cfg)?;
    let mut out = Vec::new();
    let mut i = 0u64;
    let mut ended = false;
    loop {
        if a.to.is_some_and(|to| i >= to) {
            break;
        }
        match src.next() {
            Ok(Next::Frame(f)) if f.format != PixelFormat::Mjpeg => {
                bail!("{}: frame {i} is {}, not MJPEG", a.clip.display(), f.format)
            }
            Ok(Next::Frame(f)) if i >= a.from => out.push(f.data.to_vec()),
            Ok(Next::Frame(_)) => {}
            Ok(Next::Status(Status::End)) => {
                ended = true;
                break;
            }
            Ok(Next::Status(s)) => bail!("{}: frame {i}: {s}", a.clip.display()),
            Err(e) => return Err(e).with_context(|| format!("{}: frame {i}", a.clip.display())),
        }
        i += 1;
    }
    if i == 0 {
        bail!("{}: no JPEG frames in it", a.clip.display());
    }
    if out.is_empty() {
        let to = a.to.map_or("its end".to_owned(), |t| t.to_string());
        let length = if ended {
            format!(" (the clip has {i})")
        } else {
            String::new()
        };
        bail!(
            "{}: no frames in {}..{to}{length}",
            a.clip.display(),
            a.from
        );
    }
    Ok(out)
}

pub fn run(a: Args) -> anyhow::Result<()> {
    if !(1..=240).contains(&a.fps) {
        bail!("--fps {} must be in 1..=240", a.fps);
    }
    let frames = frames(&a)?;
    let (w, h) = picket_image::jpeg::dimensions(&frames[0]).with_context(|| {
        format!(
            "{}: frame {}: no JPEG frame header",
            a.clip.display(),
            a.from
        )
    })?;
    let dev = v4l::Device::with_path(&a.device)
        .with_context(|| format!("open {}", a.device.display()))?;
    let mut fmt = v4l::Format::new(w, h, v4l::FourCC::new(b"MJPG"));
    // The largest frame the driver must hold; v4l2loopback sizes its buffers from this.
    fmt.size = frames.iter().map(Vec::len).max().unwrap_or(0) as u32 * 2;
    let got = Output::set_format(&dev, &fmt).with_context(|| {
        format!(
            "{}: VIDIOC_S_FMT (output, MJPEG {w}x{h})",
            a.device.display()
        )
    })?;
    if got.fourcc != fmt.fourcc || (got.width, got.height) != (w, h) {
        bail!(
            "{}: asked for MJPG {w}x{h}, the driver set {} {}x{}",
            a.device.display(),
            got.fourcc,
            got.width,
            got.height
        );
    }
    let params = v4l::video::output::Parameters::with_fps(a.fps);
    if let Err(e) = Output::set_params(&dev, &params) {
        log::warn!("{}: VIDIOC_S_PARM: {e}", a.device.display());
    }
    // Said once the first frame is in, when a reader can open the capture side.
    let started = format!(
        "feeding {}: MJPG {w}x{h} at {} fps, clip frames {}..{}, {}",
        a.device.display(),
        a.fps,
        a.from,
        a.from + frames.len() as u64,
        match a.loops {
            0 => "looped until stopped".to_owned(),
            n => format!("{n} times"),
        }
    );
    let fd = dev.handle().fd();
    let stop = signal::stop_flag();
    let period = Duration::from_secs(1) / a.fps;
    let t0 = Instant::now();
    let mut written = 0u64;
    let mut round = 0;
    'play: while a.loops == 0 || round < a.loops {
        round += 1;
        for jpeg in &frames {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                break 'play;
            }
            // SAFETY: `jpeg` is a live buffer of `jpeg.len()` bytes; `fd` is the device's open
            // handle, which `dev` keeps alive.
            let n = unsafe { libc::write(fd, jpeg.as_ptr().cast(), jpeg.len()) };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                return Err(e).with_context(|| format!("write to {}", a.device.display()));
            }
            written += 1;
            if written == 1 {
                println!("{started}");
            }
            if let Some(left) =
                (t0 + period * written as u32).checked_duration_since(Instant::now())
            {
                std::thread::sleep(left);
            }
        }
    }
    println!(
        "fed {written} frames in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
