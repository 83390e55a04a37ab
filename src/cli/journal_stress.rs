//! `picket journal-stress` (hidden): append events to a journal as fast as the disk allows and
//! print each id on stdout once the commit holding it has returned.
//!
//! The crash and power-cut tests run it, kill it (or the machine) at a random moment, and then
//! check that every printed id is still in the journal. The cap test and the benchmark use it
//! to fill a journal quickly. With `--interval-ms` and `--timestamps` it is a paced producer
//! that says when each commit returned (`scripts/bench-uplink-latency.sh`).

use crate::journal::sample::{sample_event, sample_jpeg};
use crate::journal::{JournalConfig, JournalItem, OnCorrupt, Writer};
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The journal file (created when missing).
    #[arg(long)]
    pub db: PathBuf,
    /// Events to write; 0 writes until killed.
    #[arg(long, default_value_t = 0)]
    pub count: u64,
    /// Events per commit.
    #[arg(long, default_value_t = 10)]
    pub batch: usize,
    /// Give every Nth event a snapshot; 0 for none.
    #[arg(long, default_value_t = 0)]
    pub snapshot_every: u64,
    /// Bytes per snapshot.
    #[arg(long, default_value_t = 20_000)]
    pub snapshot_bytes: usize,
    #[arg(long)]
    pub max_events: Option<u64>,
    #[arg(long)]
    pub max_bytes: Option<u64>,
    /// Prune as `picket run` does with an uplink whose cursor is this `[uplink] state_file`.
    #[arg(long)]
    pub uplink_state: Option<PathBuf>,
    /// Do not print ids (for benchmarks).
    #[arg(long)]
    pub quiet: bool,
    /// Sleep this long after each commit.
    #[arg(long, default_value_t = 0)]
    pub interval_ms: u64,
    /// Print `ID UNIX_SECONDS KIND`: when the commit holding the event returned (nanosecond
    /// resolution), and the event's kind.
    #[arg(long)]
    pub timestamps: bool,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let defaults = JournalConfig::default();
    let cfg = JournalConfig {
        path: a.db.clone(),
        max_events: a.max_events.unwrap_or(defaults.max_events),
        max_bytes: a.max_bytes.unwrap_or(defaults.max_bytes),
        on_corrupt: OnCorrupt::Fail,
        uplink_state: a.uplink_state.clone(),
        ..defaults
    };
    let mut writer = Writer::open(&cfg)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let batch = a.batch.max(1);
    let mut items = Vec::with_capacity(batch);
    let mut n: u64 = 0;
    let t0 = std::time::Instant::now();
    while a.count == 0 || n < a.count {
        items.clear();
        while items.len() < batch && (a.count == 0 || n < a.count) {
            n += 1;
            let mut item = JournalItem::new(sample_event(n, t0.elapsed().as_millis() as u64));
            if a.snapshot_every > 0 && n % a.snapshot_every == 0 {
                item = item.with_snapshot(sample_jpeg(n, a.snapshot_bytes));
            }
            items.push(item);
        }
        let done = writer.append(&items)?;
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        if let (Some((first, last)), false) = (done.ids, a.quiet) {
            for (id, item) in (first..=last).zip(&items) {
                if a.timestamps {
                    let (s, ns) = (at.as_secs(), at.subsec_nanos());
                    let kind = item.event.kind.as_str();
                    writeln!(out, "{id} {s}.{ns:09} {kind}").context("write ids")?;
                } else {
                    writeln!(out, "{id}").context("write ids")?;
                }
            }
            out.flush().context("write ids")?;
        }
        if a.interval_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(a.interval_ms));
        }
    }
    writer.checkpoint()?;
    Ok(())
}
