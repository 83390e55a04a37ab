//! `picket events …`: read the journal on the box, or copy it off. Every subcommand opens its
//! own read-only connection, so it never blocks the running writer (nor waits for it).

use super::ConfigArg;
use crate::config::{self, Config};
use crate::event::EventKind;
use crate::journal::{self, time, Backup, Filter, Reader, Stats, StoredEvent};
use anyhow::{bail, Context};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The journal is the config's `[journal] path` (the default config's only if it exists).
    #[command(flatten)]
    pub config: ConfigArg,
    /// The journal file itself; with it, no config is read.
    #[arg(long, global = true)]
    pub db: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// The newest events, oldest first.
    List {
        #[command(flatten)]
        filter: FilterArgs,
        /// The most events shown.
        #[arg(long, default_value_t = 100)]
        limit: u64,
        /// A JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One event in full; `--snapshot FILE` writes its JPEG with what picket saw drawn on it
    /// (tracks, zones, lines, status).
    Show {
        id: i64,
        #[arg(long, value_name = "FILE")]
        snapshot: Option<PathBuf>,
        /// Write the snapshot as stored: the camera's picture, nothing drawn.
        #[arg(long, requires = "snapshot")]
        raw: bool,
    },
    /// Every matching event, oldest first, as CSV or JSON lines on stdout.
    Export {
        #[arg(long, value_enum, default_value = "jsonl")]
        format: Format,
        #[command(flatten)]
        filter: FilterArgs,
        #[arg(long)]
        limit: Option<u64>,
    },
    /// Counts per kind and per day, the size against the cap, and the oldest event.
    Stats {
        #[arg(long)]
        json: bool,
        /// Also run `PRAGMA integrity_check` (reads the whole file).
        #[arg(long)]
        check: bool,
    },
    /// A hub journal's boxes: last seen, availability, events today, gaps.
    Boxes {
        #[arg(long)]
        json: bool,
    },
    /// A consistent copy of the journal to PATH, or to stdout with `-`:
    /// `ssh pi picket events backup - > events.db` is safe while picket runs.
    Backup {
        #[arg(value_name = "PATH|-")]
        dest: PathBuf,
        /// Where the copy is staged before it is streamed to stdout.
        #[arg(long, value_name = "DIR")]
        tmp_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
}

#[derive(Debug, Clone, clap::Args)]
pub struct FilterArgs {
    /// Events at or after T: RFC 3339 (2026-11-27T10:00:00Z), a date, or a duration ago (2h, 1d).
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Events before T, in the same forms as --since.
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// Only this kind, e.g. intrusion or alarm_on.
    #[arg(long, value_name = "K")]
    pub kind: Option<String>,
    /// Only this zone (or line, or output).
    #[arg(long, value_name = "Z")]
    pub zone: Option<String>,
    /// A hub journal's events from this box only.
    #[arg(long = "box", value_name = "NAME")]
    pub box_id: Option<String>,
}

impl FilterArgs {
    fn to_filter(&self, limit: Option<u64>) -> anyhow::Result<Filter> {
        let now = journal::time_now_ms();
        let at = |s: &Option<String>, flag: &str| -> anyhow::Result<Option<i64>> {
            s.as_deref()
                .map(|s| time::parse(s, now).with_context(|| format!("--{flag}")))
                .transpose()
        };
        if let Some(k) = &self.kind {
            if EventKind::parse(k).is_none() {
                let all: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
                bail!("--kind: unknown kind `{k}`; one of: {}", all.join(", "));
            }
        }
        Ok(Filter {
            since_ms: at(&self.since, "since")?,
            until_ms: at(&self.until, "until")?,
            kind: self.kind.clone(),
            place: self.zone.clone(),
            box_id: self.box_id.clone(),
            limit,
        })
    }
}

/// The journal file: `--db`, else `--config`'s [journal] path, else the default config's,
/// else the built-in default.
pub fn journal_path(config: &ConfigArg, db: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(db) = db {
        return Ok(db.to_owned());
    }
    Ok(match config.given_or_existing_default() {
        Some(c) => config::load::<Config>(c)?.journal.path,
        None => journal::JournalConfig::default().path,
    })
}

pub fn run(a: Args) -> anyhow::Result<()> {
    match run_inner(a) {
        // `picket events export | head` closes the pipe early; that is not an error.
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    let io = e.chain().find_map(|c| {
        c.downcast_ref::<std::io::Error>()
            .or(match c.downcast_ref() {
                Some(journal::JournalError::Io { cause, .. }) => Some(cause),
                _ => None,
            })
    });
    io.is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

fn run_inner(a: Args) -> anyhow::Result<()> {
    let path = journal_path(&a.config, a.db.as_deref())?;
    // Parse the filter before opening, so a bad flag is reported as such.
    if let Sub::List { filter, .. } | Sub::Export { filter, .. } = &a.command {
        filter.to_filter(None)?;
    }
    let reader = Reader::open(&path)?;
    let hub = reader.is_hub()?;
    if let Sub::List { filter, .. } | Sub::Export { filter, .. } = &a.command {
        if filter.box_id.is_some() && !hub {
            bail!("--box: journal {} is not a hub journal", path.display());
        }
    }
    // A hub journal's rows carry their box and their id in its journal.
    let json_of = |e: &StoredEvent| -> std::io::Result<serde_json::Value> {
        let mut v = e.to_json();
        if hub {
            let (b, n) = reader.origin(e.id).map_err(std::io::Error::other)?.unzip();
            v["box"] = json!(b);
            v["box_event"] = json!(n.flatten());
        }
        Ok(v)
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match a.command {
        Sub::List {
            filter,
            limit,
            json,
        } => {
            let f = filter.to_filter(Some(limit))?;
            if json {
                let mut all = Vec::new();
                reader.for_each(&f, true, |e| {
                    all.push(json_of(&e)?);
                    Ok(())
                })?;
                serde_json::to_writer_pretty(&mut out, &all)?;
                writeln!(out)?;
            } else {
                reader.for_each(&f, true, |e| {
                    if hub {
                        let b = reader.origin(e.id).map_err(std::io::Error::other)?;
                        write!(out, "{:<16} ", b.map(|b| b.0).unwrap_or_default())?;
                    }
                    writeln!(out, "{}", line(&e))
                })?;
            }
        }
        Sub::Show { id, snapshot, raw } => {
            let Some((ev, jpeg)) = reader.show(id)? else {
                bail!(
                    "journal {}: no event {id} (pruned, or not yet written)",
                    path.display()
                );
            };
            serde_json::to_writer_pretty(&mut out, &json_of(&ev)?)?;
            writeln!(out)?;
            if let Some(dest) = snapshot {
                let Some(mut jpeg) = jpeg else {
                    bail!("event {id} has no snapshot");
                };
                if !raw {
                    jpeg = crate::pipeline::scene::draw(&jpeg, &dest)
                        .with_context(|| format!("event {id}'s snapshot"))?;
                }
                std::fs::write(&dest, &jpeg)
                    .with_context(|| format!("write {}", dest.display()))?;
                eprintln!("wrote {} ({} bytes)", dest.display(), jpeg.len());
            }
        }
        Sub::Export {
            format,
            filter,
            limit,
        } => {
            let f = filter.to_filter(limit)?;
            match format {
                Format::Jsonl => {
                    reader.for_each(&f, false, |e| writeln!(out, "{}", json_of(&e)?))?
                }
                Format::Csv => {
                    writeln!(out, "{CSV_HEADER}")?;
                    reader.for_each(&f, false, |e| writeln!(out, "{}", csv_row(&e)))?;
                }
            }
        }
        Sub::Stats { json, check } => {
            let s = reader.stats()?;
            let integrity = check.then(|| reader.integrity_check()).transpose()?;
            if json {
                let mut v = stats_json(&s);
                if let Some(i) = &integrity {
                    v["integrity"] = json!(i);
                }
                serde_json::to_writer_pretty(&mut out, &v)?;
                writeln!(out)?;
            } else {
                write_stats(&mut out, &path, &s)?;
                if let Some(i) = &integrity {
                    writeln!(out, "integrity {i}")?;
                }
            }
            if integrity.is_some_and(|i| i != "ok") {
                bail!("journal {}: integrity_check failed", path.display());
            }
        }
        Sub::Boxes { json } => {
            if !hub {
                bail!(
                    "journal {} is not a hub journal (`picket hub` writes one)",
                    path.display()
                );
            }
            let now = journal::time_now_ms();
            let boxes = reader.boxes(now - now.rem_euclid(86_400_000))?;
            if json {
                serde_json::to_writer_pretty(&mut out, &boxes)?;
                writeln!(out)?;
            } else {
                writeln!(out, "box              last seen                 availability  today  events  gaps (on replay)")?;
                for b in boxes {
                    writeln!(
                        out,
                        "{:<16} {:<25} {:<13} {:>5}  {:>6}  {} ({})",
                        b.box_id,
                        b.last_seen_ms.map(time::rfc3339).unwrap_or_default(),
                        b.availability,
                        b.events_today,
                        b.events,
                        b.gaps,
                        b.gaps_on_replay
                    )?;
                }
            }
        }
        Sub::Backup { dest, tmp_dir } => {
            let tmp = tmp_dir.unwrap_or_else(std::env::temp_dir);
            if dest.as_os_str() == "-" {
                reader.backup(Backup::Stream(&mut out), &tmp)?;
            } else {
                let n = reader.backup(Backup::File(&dest), &tmp)?;
                eprintln!("wrote {} ({n} bytes)", dest.display());
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn line(e: &StoredEvent) -> String {
    let mut s = format!(
        "{:>8}  {}  {:<13} {:<12}",
        e.id,
        time::rfc3339(e.ts_ms),
        e.kind,
        e.place
    );
    if let Some(t) = e.track_id {
        s += &format!(" track={t}");
    }
    if let Some(sc) = e.score {
        s += &format!(" score={sc:.2}");
    }
    if let Some(d) = &e.direction {
        s += &format!(" {d}");
    }
    if let Some(n) = e.snapshot_bytes {
        s += &format!(" snapshot={n}B");
    }
    if !e.clock_synced {
        s += " (clock unsynced)";
    }
    s
}

const CSV_HEADER: &str = "id,ts,ts_ms,mono_ms,clock_synced,kind,place,track_id,score,\
bbox_x0,bbox_y0,bbox_x1,bbox_y1,direction,detail,snapshot_bytes";

fn csv_row(e: &StoredEvent) -> String {
    fn opt<T: ToString>(v: &Option<T>) -> String {
        v.as_ref().map(T::to_string).unwrap_or_default()
    }
    let b = |i: usize| e.bbox.map(|b| b[i].to_string()).unwrap_or_default();
    let fields = [
        e.id.to_string(),
        time::rfc3339(e.ts_ms),
        e.ts_ms.to_string(),
        e.mono_ms.to_string(),
        u8::from(e.clock_synced).to_string(),
        e.kind.clone(),
        e.place.clone(),
        opt(&e.track_id),
        opt(&e.score),
        b(0),
        b(1),
        b(2),
        b(3),
        opt(&e.direction),
        opt(&e.detail),
        opt(&e.snapshot_bytes),
    ];
    fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",")
}

/// RFC 4180 quoting: fields with a comma, quote or line break are quoted, quotes doubled.
fn csv_field(f: &str) -> String {
    if f.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f.to_owned()
    }
}

fn stats_json(s: &Stats) -> serde_json::Value {
    let pairs = |v: &[(String, i64)]| {
        v.iter()
            .map(|(k, n)| (k.clone(), json!(n)))
            .collect::<serde_json::Map<_, _>>()
    };
    json!({
        "events": s.events,
        "per_kind": pairs(&s.per_kind),
        "per_day": pairs(&s.per_day),
        "snapshots": s.snapshots,
        "snapshot_bytes": s.snapshot_bytes,
        "oldest": s.oldest.as_ref().map(StoredEvent::to_json),
        "newest_id": s.newest_id,
        "db_bytes": s.db_bytes,
        "wal_bytes": s.wal_bytes,
        "total_bytes": s.db_bytes + s.wal_bytes,
        "max_events": s.max_events,
        "max_bytes": s.max_bytes,
    })
}

fn write_stats(out: &mut impl Write, path: &Path, s: &Stats) -> std::io::Result<()> {
    let cap = |v: Option<i64>| v.map_or_else(|| "unknown".to_owned(), |v| v.to_string());
    let total = s.db_bytes + s.wal_bytes;
    writeln!(out, "journal   {}", path.display())?;
    writeln!(out, "events    {} (cap {})", s.events, cap(s.max_events))?;
    let pct = s.max_bytes.filter(|m| *m > 0).map_or(String::new(), |m| {
        format!(", {:.0}% of cap", total as f64 * 100.0 / m as f64)
    });
    writeln!(
        out,
        "size      {total} bytes: database {} + WAL {} (cap {}{pct})",
        s.db_bytes,
        s.wal_bytes,
        cap(s.max_bytes)
    )?;
    writeln!(
        out,
        "snapshots {} ({} bytes)",
        s.snapshots, s.snapshot_bytes
    )?;
    match &s.oldest {
        Some(o) => writeln!(
            out,
            "oldest    #{} at {} ({})",
            o.id,
            time::rfc3339(o.ts_ms),
            o.kind
        )?,
        None => writeln!(out, "oldest    none: the journal is empty")?,
    }
    writeln!(out, "per kind")?;
    for (k, n) in &s.per_kind {
        writeln!(out, "  {k:<14} {n}")?;
    }
    writeln!(out, "per day (UTC)")?;
    for (d, n) in &s.per_day {
        writeln!(out, "  {d}     {n}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("door"), "door");
        assert_eq!(
            csv_field("{\"a\":1,\"b\":2}"),
            "\"{\"\"a\"\":1,\"\"b\"\":2}\""
        );
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn a_bad_since_names_the_flag_and_the_accepted_forms() {
        let f = FilterArgs {
            since: Some("yesterday".into()),
            until: None,
            kind: None,
            zone: None,
            box_id: None,
        };
        let err = format!("{:#}", f.to_filter(None).unwrap_err());
        assert!(err.starts_with("--since: bad time `yesterday`"), "{err}");
        assert!(err.contains("RFC 3339"), "{err}");
    }
}
