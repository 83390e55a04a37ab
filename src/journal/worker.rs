//! The journal's worker thread and the bounded queue that feeds it.
//!
//! The queue is std's `sync_channel`, used only with `try_send` and `try_recv`: neither blocks,
//! and `try_send` does not allocate (a counting-allocator test holds it to that). Its producer
//! is the pipeline's worker thread, which allocates each snapshot's JPEG anyway, so a lock-free
//! queue of our own would buy nothing worth its `unsafe`.

use super::{JournalConfig, JournalError, Writer};
use crate::event::{Event, EventKind};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::*};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

/// Items the queue to the journal's thread holds. At one commit a second that is 256 events a
/// second before anything is dropped; the producer also wakes the journal's thread early when
/// the queue is half full.
pub const QUEUE_LEN: usize = 256;

/// One event for the journal, with its snapshot JPEG if any.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalItem {
    pub event: Event,
    pub snapshot: Option<Vec<u8>>,
    /// Commit at once rather than at the next batch; alarm events are urgent by default.
    pub urgent: bool,
}

impl JournalItem {
    pub fn new(event: Event) -> Self {
        let urgent = matches!(
            event.kind,
            EventKind::AlarmOn | EventKind::AlarmOff | EventKind::AlarmReset
        );
        Self {
            event,
            snapshot: None,
            urgent,
        }
    }

    pub fn with_snapshot(mut self, jpeg: Vec<u8>) -> Self {
        self.snapshot = Some(jpeg);
        self
    }

    pub fn urgent(mut self, urgent: bool) -> Self {
        self.urgent = urgent;
        self
    }
}

/// Counters of a running journal; a snapshot, taken with [`Journal::status`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JournalStatus {
    /// Items the producer handed over.
    pub sent: u64,
    /// Items the producer could not hand over because the queue was full.
    pub dropped: u64,
    /// Events committed since the journal was spawned.
    pub committed: u64,
    /// The id of the newest committed event.
    pub last_id: Option<i64>,
    /// Events taken off the queue and not yet committed.
    pub pending: u64,
    /// Whether the last commit attempt failed (disk full, I/O error); writing resumes by itself.
    pub failing: bool,
    /// The last error, as it was logged.
    pub last_error: Option<String>,
    /// Snapshots thrown away to keep memory bounded while the disk refused writes.
    pub snapshots_dropped: u64,
    /// Events still uncommitted when the worker stopped (the disk refused them to the end).
    pub unwritten: u64,
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    urgent: AtomicBool,
    sent: AtomicU64,
    /// Items the journal's thread took off the queue; `sent - taken` are queued.
    taken: AtomicU64,
    dropped: AtomicU64,
    committed: AtomicU64,
    last_id: AtomicI64,
    pending: AtomicU64,
    failing: AtomicBool,
    snapshots_dropped: AtomicU64,
    unwritten: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl Shared {
    /// Items on the queue now (a moment's view: both ends move).
    fn queued(&self) -> u64 {
        self.sent
            .load(Acquire)
            .saturating_sub(self.taken.load(Acquire))
    }
}

/// The producer's end of the journal. [`try_send`](Self::try_send) never blocks and never
/// allocates: a full queue gives the item back and counts a drop.
pub struct JournalSender {
    tx: SyncSender<JournalItem>,
    shared: Arc<Shared>,
    worker: Thread,
}

impl JournalSender {
    /// Queues `item` for the next commit (at once if it is urgent). When the queue is full the
    /// item is handed back, and counted in [`JournalStatus::dropped`].
    // Handing the item back by value, not boxed, keeps the producer free of allocation.
    #[allow(clippy::result_large_err)]
    pub fn try_send(&mut self, item: JournalItem) -> Result<(), JournalItem> {
        let urgent = item.urgent;
        match self.tx.try_send(item) {
            Ok(()) => {
                self.shared.sent.fetch_add(1, Release);
                if urgent {
                    self.shared.urgent.store(true, Release);
                }
                if urgent || self.shared.queued() >= QUEUE_LEN as u64 / 2 {
                    // unpark is an atomic swap and, when the worker sleeps, one futex wake.
                    self.worker.unpark();
                }
                Ok(())
            }
            Err(TrySendError::Full(item) | TrySendError::Disconnected(item)) => {
                self.shared.dropped.fetch_add(1, Relaxed);
                Err(item)
            }
        }
    }

    /// Items dropped so far because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Relaxed)
    }

    /// The id of the newest committed event; `None` before the first commit.
    pub fn last_id(&self) -> Option<i64> {
        let last = self.shared.last_id.load(Acquire);
        (last >= 0).then_some(last)
    }
}

/// The event journal while picket runs: a thread that owns the one [`Writer`] and commits what
/// is queued through its [`JournalSender`].
///
/// - **Ownership.** The pipeline's controlling thread calls [`Journal::spawn`] once, keeps the
///   `Journal`, and gives the `JournalSender` to the pipeline's worker thread, the only
///   producer.
///   Readers (`picket events`) use their own read-only connections in other processes and never
///   block the writer, nor it them (WAL).
/// - **Visibility.** An event becomes visible to readers, and durable, when the transaction
///   holding it commits: at most [`JournalConfig::batch_interval_ms`] after the previous commit,
///   and at once for an urgent item (alarms). Commits are therefore at most one per interval
///   plus one per urgent item; each costs one fsync of the WAL. A batch whose snapshots are
///   more than one commit may add to the WAL ([`Writer::commit_len`]) commits in parts, in
///   order, so that the database and its WAL stay within `max_bytes`.
/// - **Falling behind.** The producer never waits. If the worker is slow the queue fills and
///   further items are dropped and counted ([`JournalSender::dropped`]). If the disk refuses
///   writes (full, failing), the worker logs it once, keeps up to
///   [`JournalConfig::max_pending`] events in memory (dropping snapshots past
///   `max_pending_snapshot_bytes`), retries every interval, and says so when writing resumes.
/// - **The ring buffer.** Each commit prunes the oldest events and snapshots to the caps in
///   the same transaction, so a reader never sees the journal over its caps. With an uplink
///   configured, the count cap waits for the uplink's cursor (read at most once a second, on
///   this thread) and the byte cap journals an `uplink_gap` when it prunes past it.
/// - **Crashes.** A crash or power cut loses at most what was not yet committed: the queue and
///   the pending batch. Committed events survive (`synchronous=FULL`), the file is never left
///   corrupt, and ids are never reused.
/// - **Shutdown.** [`Journal::shutdown`] (or dropping the `Journal`) drains the queue, commits,
///   checkpoints the WAL and joins the thread.
pub struct Journal {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Journal {
    /// Opens the journal (see [`Writer::open`]; errors are returned here, before any thread
    /// starts) and starts the worker thread.
    pub fn spawn(cfg: &JournalConfig) -> Result<(Journal, JournalSender), JournalError> {
        let writer = Writer::open(cfg)?;
        let (tx, rx) = mpsc::sync_channel(QUEUE_LEN);
        let shared = Arc::new(Shared::default());
        shared.last_id.store(-1, Relaxed);
        let policy = Policy::from(cfg);
        let worker_shared = shared.clone();
        let thread = thread::Builder::new()
            .name("journal".into())
            .spawn(move || run(writer, rx, &worker_shared, policy))
            .map_err(super::io(&cfg.path, "spawn the journal thread"))?;
        let sender = JournalSender {
            tx,
            shared: shared.clone(),
            worker: thread.thread().clone(),
        };
        Ok((
            Journal {
                shared,
                thread: Some(thread),
            },
            sender,
        ))
    }

    pub fn status(&self) -> JournalStatus {
        let s = &self.shared;
        let last = s.last_id.load(Acquire);
        JournalStatus {
            sent: s.sent.load(Relaxed),
            dropped: s.dropped.load(Relaxed),
            committed: s.committed.load(Acquire),
            last_id: (last >= 0).then_some(last),
            pending: s.pending.load(Relaxed),
            failing: s.failing.load(Relaxed),
            last_error: s.last_error.lock().map(|e| e.clone()).unwrap_or(None),
            snapshots_dropped: s.snapshots_dropped.load(Relaxed),
            unwritten: s.unwritten.load(Relaxed),
        }
    }

    /// Drains the queue, commits, checkpoints, stops the worker and returns the final counters.
    /// Items sent after this began may or may not be committed.
    pub fn shutdown(mut self) -> JournalStatus {
        self.stop();
        self.status()
    }

    fn stop(&mut self) {
        self.shared.stop.store(true, Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            if t.join().is_err() {
                log::error!("journal: the worker thread panicked");
            }
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.stop();
    }
}

const DROP_LOG_EVERY: Duration = Duration::from_secs(10);

#[derive(Clone, Copy)]
struct Policy {
    interval: Duration,
    max_pending: usize,
    max_snapshot_bytes: usize,
}

impl From<&JournalConfig> for Policy {
    fn from(c: &JournalConfig) -> Self {
        Self {
            interval: c.batch_interval(),
            max_pending: c.max_pending,
            max_snapshot_bytes: c.max_pending_snapshot_bytes,
        }
    }
}

/// The worker loop: take what is queued, commit when the batch is due, sleep until it is.
fn run(mut writer: Writer, rx: Receiver<JournalItem>, shared: &Shared, p: Policy) {
    let mut pending: Vec<JournalItem> = Vec::with_capacity(QUEUE_LEN);
    let mut snapshot_bytes = 0usize;
    let mut last_attempt = Instant::now();
    let (mut drops_logged, mut drops_logged_at) = (0, None::<Instant>);
    loop {
        let stopping = shared.stop.load(Acquire);
        // Past `max_pending` the items stay queued, so the producer's drops show the loss.
        while pending.len() < p.max_pending {
            let Ok(mut item) = rx.try_recv() else {
                break;
            };
            shared.taken.fetch_add(1, Release);
            if let Some(len) = item.snapshot.as_ref().map(Vec::len) {
                if snapshot_bytes + len > p.max_snapshot_bytes {
                    item.snapshot = None;
                    shared.snapshots_dropped.fetch_add(1, Relaxed);
                } else {
                    snapshot_bytes += len;
                }
            }
            pending.push(item);
        }
        shared.pending.store(pending.len() as u64, Relaxed);
        // The producer only counts its drops; saying so is this thread's job, every 10 s at most.
        let dropped = shared.dropped.load(Relaxed);
        if dropped > drops_logged && drops_logged_at.map_or(true, |t| t.elapsed() >= DROP_LOG_EVERY)
        {
            log::warn!(
                "journal {}: {} events dropped because the queue was full ({dropped} in all)",
                writer.path().display(),
                dropped - drops_logged
            );
            (drops_logged, drops_logged_at) = (dropped, Some(Instant::now()));
        }
        let urgent = shared.urgent.swap(false, AcqRel);
        let due = last_attempt + p.interval;
        if !pending.is_empty() && (urgent || stopping || Instant::now() >= due) {
            last_attempt = Instant::now();
            if commit(&mut writer, &mut pending, shared) {
                snapshot_bytes = 0;
            }
        }
        // Stopping with a disk that refuses writes: give up rather than hang the shutdown.
        if stopping && (shared.queued() == 0 || shared.failing.load(Relaxed)) {
            break;
        }
        let wait = due.saturating_duration_since(Instant::now());
        let wait = if wait.is_zero() { p.interval } else { wait };
        thread::park_timeout(wait);
    }
    let unwritten = pending.len() + rx.try_iter().count();
    if unwritten > 0 {
        shared.unwritten.store(unwritten as u64, Relaxed);
        log::error!(
            "journal {}: stopping with {unwritten} events that the disk would not take; they \
             are lost",
            writer.path().display(),
        );
    }
    if let Err(e) = writer.checkpoint() {
        log::warn!("{e}");
    }
}

/// Commits `pending`, in parts when its snapshots are more than one commit should add to the
/// WAL ([`Writer::commit_len`]); on success clears it and returns true. What a failed part
/// leaves stays pending. Failures are logged when they start and when they end, not on every
/// retry.
fn commit(writer: &mut Writer, pending: &mut Vec<JournalItem>, shared: &Shared) -> bool {
    while !pending.is_empty() {
        let n = writer.commit_len(pending);
        if !commit_part(writer, pending, n, shared) {
            return false;
        }
    }
    true
}

/// Commits the first `n` items of `pending` in one transaction and removes them from it.
fn commit_part(
    writer: &mut Writer,
    pending: &mut Vec<JournalItem>,
    n: usize,
    shared: &Shared,
) -> bool {
    match writer.append(&pending[..n]) {
        Ok(done) => {
            let n = n as u64;
            if shared.failing.swap(false, Relaxed) {
                log::info!(
                    "journal {}: writing again; committed {n} events held in memory ({} \
                     dropped meanwhile)",
                    writer.path().display(),
                    shared.dropped.load(Relaxed)
                );
            }
            pending.drain(..n as usize);
            shared.pending.store(pending.len() as u64, Relaxed);
            if let Some((first, last)) = done.ids {
                // What a power-cut test holds the journal to: these ids are on the disk.
                log::debug!("journal: committed events {first} to {last}");
                shared.last_id.store(last, Release);
            }
            if let Some(gap) = done.gap {
                shared.last_id.store(gap.id, Release);
            }
            shared.committed.fetch_add(n, Release);
            true
        }
        Err(e) => {
            let what = if e.is_disk_full() {
                format!("{e} (disk full)")
            } else {
                e.to_string()
            };
            if !shared.failing.swap(true, Relaxed) {
                log::error!(
                    "{what}: could not commit {} events; holding them in memory and retrying; \
                     detection and alarms go on",
                    pending.len()
                );
            }
            if let Ok(mut last) = shared.last_error.lock() {
                *last = Some(what);
            }
            false
        }
    }
}
