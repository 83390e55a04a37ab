//! `picket probe [DEVICE]`: the V4L2 cameras, with their formats, sizes, frame rates and
//! controls, on one screen, to choose the `[source]` settings from.

use crate::source::v4l2::device::{self, ControlInfo};
use anyhow::Context;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use v4l::video::Capture;
use v4l::Device;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A node such as /dev/video0 or /dev/v4l/by-id/...; all /dev/video* when left out.
    pub device: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let nodes = match args.device {
        Some(d) => vec![d],
        None => device::nodes(),
    };
    if nodes.is_empty() {
        println!("no V4L2 devices (/dev/video*)");
        return Ok(());
    }
    let single = nodes.len() == 1;
    for path in nodes {
        match report(&path) {
            Ok(text) => print!("{text}"),
            Err(e) if single => return Err(e),
            Err(e) => println!("{}: {e:#}\n", path.display()),
        }
    }
    Ok(())
}

/// Everything about one node, as text.
pub fn report(path: &Path) -> anyhow::Result<String> {
    let dev = Device::with_path(path).with_context(|| format!("open {}", path.display()))?;
    let caps = dev
        .query_caps()
        .with_context(|| format!("query {}", path.display()))?;
    let mut out = String::new();
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let alias = if real != path {
        format!(" → {}", real.display())
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{}{alias}: {} ({}, {})",
        path.display(),
        caps.card,
        caps.driver,
        caps.bus
    );
    if let Ok(f) = dev.format() {
        let _ = writeln!(
            out,
            "  current: {} {}x{}, {} bytes per line",
            f.fourcc, f.width, f.height, f.stride
        );
    }
    let formats = dev.enum_formats().unwrap_or_default();
    if formats.is_empty() {
        let _ = writeln!(out, "  no capture formats (not a camera node)");
    }
    for f in formats {
        let usable = match device::pixel_format(f.fourcc) {
            Some(p) => format!("picket: {p}"),
            None => "not usable by picket".into(),
        };
        let _ = writeln!(out, "  {} {} [{usable}]", f.fourcc, f.description);
        for size in device::sizes(&dev, f.fourcc) {
            let rates = crate::source::parse_size(&size)
                .map(|(w, h)| device::rates(&dev, f.fourcc, w, h).join(" "))
                .unwrap_or_default();
            let sep = if rates.is_empty() { "" } else { " @ " };
            let _ = writeln!(out, "    {size}{sep}{rates}");
        }
    }
    match device::controls(&dev) {
        Ok(controls) if !controls.is_empty() => {
            let _ = writeln!(out, "  controls:");
            for c in &controls {
                let _ = writeln!(out, "    {}", control_line(c));
            }
        }
        Ok(_) => {}
        Err(e) => {
            let _ = writeln!(out, "  controls: {e}");
        }
    }
    out.push('\n');
    Ok(out)
}

fn control_line(c: &ControlInfo) -> String {
    let value = c.value.map_or(String::new(), |v| format!(" = {v}"));
    match c.kind {
        "bool" => format!("{} (bool){value}, default {}", c.name, c.default),
        "button" => format!("{} (button)", c.name),
        "menu" | "intmenu" => {
            let items: Vec<String> = c.menu.iter().map(|(i, n)| format!("{i}:{n}")).collect();
            format!("{} (menu){value}: {}", c.name, items.join(", "))
        }
        "int" | "int64" | "bitmask" => format!(
            "{} ({}){value}, {}..={} step {}, default {}",
            c.name, c.kind, c.min, c.max, c.step, c.default
        ),
        other => format!("{} ({other})", c.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_read_on_one_line() {
        let c = ControlInfo {
            id: 0x00980900,
            name: "Brightness".into(),
            kind: "int",
            min: 0,
            max: 255,
            step: 1,
            default: 128,
            value: Some(130),
            menu: vec![],
        };
        assert_eq!(
            control_line(&c),
            "Brightness (int) = 130, 0..=255 step 1, default 128"
        );
        let m = ControlInfo {
            kind: "menu",
            name: "Power Line Frequency".into(),
            menu: vec![(0, "Disabled".into()), (1, "50 Hz".into())],
            value: Some(1),
            ..c.clone()
        };
        assert_eq!(
            control_line(&m),
            "Power Line Frequency (menu) = 1: 0:Disabled, 1:50 Hz"
        );
    }

    #[test]
    fn a_missing_device_is_an_error_naming_it() {
        let e = report(Path::new("/dev/video-none")).unwrap_err();
        assert!(format!("{e:#}").contains("open /dev/video-none"), "{e:#}");
    }
}
