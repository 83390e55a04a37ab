//! Picket: one camera in, people found and followed, behaviour judged, GPIO alarms and a SQLite
//! journal out. The binary in `main.rs` is a thin command line over this library.
//!
//! One frame's path is `pipeline.rs`, drawn in `DESIGN.md` with the threads around it and the
//! layers the modules keep to (an architecture test holds them).
//! Geometry, pixels and the model runtime are leaf crates of the workspace that know nothing of
//! the appliance: [`picket_geom`], [`picket_image`] and [`picket_runtime`] (`crates/`).

pub mod alarm;
pub mod alloc_count;
pub mod arming;
pub mod cli;
pub mod config;
pub mod detect;
pub mod event;
#[cfg(feature = "fuzzing")]
pub mod fuzz_targets;
pub mod health;
pub mod hub;
pub mod journal;
pub mod live;
pub mod metrics;
pub mod motion;
pub mod notify;
pub mod pipeline;
pub mod preview;
pub mod rules;
pub mod source;
pub mod tamper;
pub mod track;
pub mod uplink;
pub mod validate;

#[cfg(test)]
mod testdir;

#[cfg(test)]
#[global_allocator]
static ALLOC: alloc_count::CountingAlloc = alloc_count::CountingAlloc;
