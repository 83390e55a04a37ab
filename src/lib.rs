//! Picket: one camera in, people found and followed, behaviour judged, GPIO alarms and a SQLite
//! journal out. The binary in `main.rs` is a thin command line over this library.
//!
//! One frame's path is drawn in `DESIGN.md`; each stage is a module behind a small trait.

pub mod alarm;
pub mod alloc_count;
pub mod cli;
pub mod config;
pub mod detect;
pub mod event;
pub mod geom;
pub mod health;
pub mod image;
pub mod journal;
pub mod metrics;
pub mod motion;
pub mod notify;
pub mod pipeline;
pub mod rules;
pub mod source;
pub mod track;

#[cfg(test)]
mod testdir;

#[cfg(test)]
#[global_allocator]
static ALLOC: alloc_count::CountingAlloc = alloc_count::CountingAlloc;
