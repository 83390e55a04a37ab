//! The event journal: a crash-safe SQLite ring buffer of [`Event`](crate::event::Event)s and
//! their snapshot JPEGs, written by one worker thread and read by `picket events`.
//!
//! - [`Journal`] (in `worker.rs`) is the running writer and its contract; the pipeline holds it.
//! - [`Writer`] is the synchronous core: open or create the file, append a batch in one
//!   transaction, prune to the caps in the same transaction.
//! - [`Reader`] is the read-only side used by the CLI: list, show, export, stats and backup.
//! - [`cursor`] reads `picket uplink`'s cursor, so that pruning keeps what it has not sent.
//! - [`origin`]: the hub journal, the same file with each event's box and id in that box.
//! - `schema.sql` is the schema; `schema.rs` recognises, creates and upgrades the file.
//! - [`cursor`] is `picket uplink`'s position in the journal, and the [`cursor::Backlog`] it
//!   leaves, which `picket status` and the metrics show.

mod config;
pub mod cursor;
mod fsperm;
pub mod origin;
#[cfg(test)]
mod prune_tests;
pub(crate) mod reader;
pub mod sample;
pub(crate) mod schema;
#[cfg(test)]
mod tests;
pub mod time;
mod worker;
mod writer;

pub use config::{JournalConfig, OnCorrupt, DEFAULT_PATH, MIN_MAX_BYTES};
pub use origin::{BoxSummary, HubAppended, HubWriter, Origin};
pub use reader::{Backup, Filter, Head, Reader, Stats, StoredEvent};
pub use schema::{APPLICATION_ID, SCHEMA_VERSION};
pub use worker::{Journal, JournalItem, JournalSender, JournalStatus, QUEUE_LEN};
pub use writer::{Appended, Gap, Writer};

use std::path::{Path, PathBuf};

/// Why the journal could not do what was asked. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    // The cause is part of the message (the worker logs it as one line) and deliberately not
    // a `source`, which would print it twice in a chain.
    #[error("journal {}: {cause}", path.display())]
    Sqlite {
        path: PathBuf,
        cause: rusqlite::Error,
    },
    #[error("journal {}: {op}: {cause}", path.display())]
    Io {
        path: PathBuf,
        op: &'static str,
        cause: std::io::Error,
    },
    /// Corrupt, truncated, or some other program's file. It is left exactly where it was.
    #[error(
        "journal {}: not a usable picket journal ({why}); the file was left untouched. Move it \
         away, or set `on_corrupt = \"start_new\"` in [journal] to keep it aside under a \
         timestamped name and start a new journal",
        path.display()
    )]
    Unusable { path: PathBuf, why: String },
    /// Written by a newer picket. Never moved aside: the remedy is to upgrade picket.
    #[error(
        "journal {}: schema version {found} is newer than this picket understands (up to \
         {supported}); run a newer picket, or point [journal] path elsewhere",
        path.display()
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("journal {}: no journal there (check [journal] path or --db)", path.display())]
    Missing { path: PathBuf },
}

impl JournalError {
    /// Whether the cause is a full disk (`SQLITE_FULL` or `ENOSPC`).
    pub fn is_disk_full(&self) -> bool {
        match self {
            JournalError::Sqlite { cause, .. } => {
                cause.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
            }
            JournalError::Io { cause, .. } => cause.raw_os_error() == Some(libc::ENOSPC),
            _ => false,
        }
    }
}

/// A closure turning a SQLite error into a [`JournalError`] about `path`.
pub(crate) fn sql(path: &Path) -> impl Fn(rusqlite::Error) -> JournalError + '_ {
    move |cause| JournalError::Sqlite {
        path: path.to_owned(),
        cause,
    }
}

/// A closure turning an I/O error during `op` into a [`JournalError`] about `path`.
pub(crate) fn io<'a>(
    path: &'a Path,
    op: &'static str,
) -> impl Fn(std::io::Error) -> JournalError + 'a {
    move |cause| JournalError::Io {
        path: path.to_owned(),
        op,
        cause,
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn time_now_ms() -> i64 {
    schema::now_ms()
}
