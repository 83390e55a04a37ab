//! The uplink's life: wait for the journal, take up the cursor, then connect, and reconnect
//! with backoff, until SIGTERM or SIGINT.
//!
//! Only a file that is not a picket journal (or a state file that cannot be written) ends it
//! with an error; network and broker trouble is retried forever, from 0.5 s doubling to 30 s,
//! and logged once per change of state (connected, or a new reason for failing).

use super::outbox::{Opened, Outbox};
use super::session::{End, Link};
use super::window::Window;
use super::{Cursor, CursorError, Settings, UplinkError};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The first retry's delay; each failure doubles it up to [`BACKOFF_MAX`].
pub const BACKOFF_MIN: Duration = Duration::from_millis(500);
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A connection that stayed up this long starts the backoff over.
const STABLE: Duration = Duration::from_secs(10);
/// How often a missing journal is looked for.
const JOURNAL_POLL: Duration = Duration::from_millis(500);

/// Retry delays: 0.5 s, doubling, capped at 30 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff(Duration);

impl Default for Backoff {
    fn default() -> Self {
        Self(BACKOFF_MIN)
    }
}

impl Backoff {
    /// The delay before the next attempt, doubling the one after.
    pub fn next_delay(&mut self) -> Duration {
        let d = self.0;
        self.0 = (self.0 * 2).min(BACKOFF_MAX);
        d
    }
}

/// Runs the uplink until `stop` is set. Returns an error only for what retrying cannot fix.
pub fn run(s: &Settings, stop: &AtomicBool) -> Result<(), UplinkError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(UplinkError::Runtime)?;
    rt.block_on(main(s, stop))
}

async fn main(s: &Settings, stop: &AtomicBool) -> Result<(), UplinkError> {
    let Some(outbox) = wait_for_journal(s, stop).await? else {
        return Ok(());
    };
    let cursor = take_up_cursor(&s.state_file, &outbox)?;
    log::info!(
        "uplink: {} → {}, topic {}, from journal event {}",
        s.journal.display(),
        s.connection.broker,
        s.topic("events"),
        cursor.acked_through + 1
    );
    let mut link = Link {
        s,
        stop,
        outbox,
        window: Window::new(cursor.acked_through),
        cursor,
        stored_at: Instant::now(),
        cursor_trouble: None,
        journal_trouble: None,
        more: true,
        checked_file_at: Instant::now(),
        rediscover_at: None,
        state: Default::default(),
        replay: None,
    };
    let mut backoff = Backoff::default();
    let mut state: Option<String> = None;
    for attempt in 1.. {
        match link.session(attempt).await {
            End::Stopped => break,
            End::Fatal(e) => {
                link.store_cursor(true);
                return Err(e);
            }
            End::Lost { why, connected } => {
                match connected {
                    Some(up) => {
                        if up >= STABLE {
                            backoff = Backoff::default();
                        }
                        log::warn!(
                            "uplink: connection to {} lost: {why}; reconnecting",
                            s.connection.broker
                        );
                    }
                    None if state.as_ref() != Some(&why) => log::error!(
                        "uplink: cannot connect to {}: {why}; retrying, at most every {} s",
                        s.connection.broker,
                        BACKOFF_MAX.as_secs()
                    ),
                    None => log::debug!("uplink: attempt {attempt} failed: {why}"),
                }
                state = Some(why);
                if !sleep_unless_stopped(backoff.next_delay(), stop).await {
                    break;
                }
            }
        }
    }
    link.store_cursor(true);
    log::info!(
        "uplink: stopped; the broker has every event up to {}",
        link.cursor.acked_through
    );
    Ok(())
}

/// Opens the journal, waiting (and saying so once) while it does not exist yet. `None` when
/// stopped while waiting.
async fn wait_for_journal(s: &Settings, stop: &AtomicBool) -> Result<Option<Outbox>, UplinkError> {
    let mut waiting = false;
    loop {
        match Outbox::open(&s.journal, s.snapshots)? {
            Opened::Ready(o) => {
                if waiting {
                    log::info!("uplink: journal {} is there now", s.journal.display());
                }
                return Ok(Some(o));
            }
            Opened::NotYet(why) => {
                if !waiting {
                    log::warn!(
                        "uplink: journal {}: {why}; waiting for picket run",
                        s.journal.display()
                    );
                    waiting = true;
                }
            }
        }
        if !sleep_unless_stopped(JOURNAL_POLL, stop).await {
            return Ok(None);
        }
    }
}

/// The cursor to start from: the stored one when it belongs to this journal; else one before
/// the journal's oldest event (for the MQTT side, or a push sink). Stored at once, so that an unwritable state file is found now.
pub(super) fn take_up_cursor(state_file: &Path, outbox: &Outbox) -> Result<Cursor, UplinkError> {
    let created = outbox.created_ms()?;
    let bounds = outbox.bounds()?;
    let from_oldest = Cursor {
        acked_through: bounds.map_or(0, |(min, _)| min - 1),
        ..Cursor::start(created)
    };
    let path = state_file.display();
    let cursor = match Cursor::load(state_file) {
        Ok(Some(c)) if c.belongs_to(created) => match bounds {
            Some((_, max)) if max < c.acked_through => {
                log::warn!(
                    "uplink: state_file {path} is past the journal's newest event {max} \
                         (a journal restored from a backup?); continuing after {max}"
                );
                Cursor {
                    acked_through: max,
                    journal_created_ms: created,
                    ..c
                }
            }
            _ => Cursor {
                journal_created_ms: created,
                ..c
            },
        },
        Ok(Some(_)) => {
            log::warn!(
                "uplink: state_file {path} belongs to an earlier journal; publishing this one \
                 from its oldest event"
            );
            from_oldest
        }
        Ok(None) => {
            log::info!(
                "uplink: no state_file {path} yet; publishing the journal from its oldest event"
            );
            from_oldest
        }
        Err(e @ CursorError::Syntax { .. }) => {
            log::warn!("uplink: {e}; publishing the journal from its oldest event");
            from_oldest
        }
        Err(e) => return Err(e.into()),
    };
    let stored = Cursor {
        updated_ms: crate::journal::time_now_ms(),
        ..cursor
    };
    stored.store(state_file)?;
    Ok(stored)
}

/// Sleeps `d` in short steps; `false` when the stop flag was set meanwhile.
pub(crate) async fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) -> bool {
    let until = tokio::time::Instant::now() + d;
    loop {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        let now = tokio::time::Instant::now();
        if now >= until {
            return true;
        }
        tokio::time::sleep((until - now).min(Duration::from_millis(100))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_half_a_second_to_thirty() {
        let mut b = Backoff::default();
        let ms: Vec<u128> = (0..9).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(
            ms,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
        );
    }
}
