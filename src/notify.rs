//! systemd's `sd_notify` protocol, spoken directly: `READY=1`, `WATCHDOG=1` and `STOPPING=1` as
//! datagrams to `$NOTIFY_SOCKET`. No crate and no libsystemd: the protocol is one line a packet.
//!
//! The hot loop calls [`Notifier::watchdog`] once per frame; it sends at most one ping per half
//! of `$WATCHDOG_USEC`, so a loop that stops making progress stops the pings and systemd restarts
//! picket. Outside systemd (no `$NOTIFY_SOCKET`) every call does nothing. Sending never
//! allocates: the address is resolved once, and the messages are static bytes.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// The service manager's socket, if any, and the watchdog period it asked for.
#[derive(Debug)]
pub struct Notifier {
    socket: Option<(UnixDatagram, SocketAddr)>,
    /// Half the watchdog timeout: the longest gap between pings.
    every: Option<Duration>,
    last: Option<Duration>,
}

impl Notifier {
    /// From `$NOTIFY_SOCKET` (a path, or `@name` for an abstract socket) and `$WATCHDOG_USEC`.
    /// A socket that cannot be used is logged and ignored: picket runs on without systemd.
    pub fn from_env() -> Self {
        let socket = std::env::var_os("NOTIFY_SOCKET").and_then(|p| {
            let open = || -> std::io::Result<(UnixDatagram, SocketAddr)> {
                let bytes = std::os::unix::ffi::OsStrExt::as_bytes(p.as_os_str());
                let addr = match bytes.strip_prefix(b"@") {
                    Some(name) => SocketAddr::from_abstract_name(name)?,
                    None => SocketAddr::from_pathname(&p)?,
                };
                Ok((UnixDatagram::unbound()?, addr))
            };
            open()
                .map_err(|e| log::warn!("NOTIFY_SOCKET {}: {e}", p.to_string_lossy()))
                .ok()
        });
        let every = std::env::var("WATCHDOG_USEC")
            .ok()
            .and_then(|v| watchdog_period(&v));
        Self {
            socket,
            every,
            last: None,
        }
    }

    /// A notifier that sends nothing.
    pub fn none() -> Self {
        Self {
            socket: None,
            every: None,
            last: None,
        }
    }

    /// Whether a watchdog period was asked for.
    pub fn watchdog_period(&self) -> Option<Duration> {
        self.every
    }

    fn send(&self, msg: &[u8]) {
        if let Some((sock, addr)) = &self.socket {
            if let Err(e) = sock.send_to_addr(msg, addr) {
                log::debug!("sd_notify: {e}");
            }
        }
    }

    /// Start-up is done: the first frame went through.
    pub fn ready(&self) {
        self.send(b"READY=1");
    }

    /// Shutdown has begun.
    pub fn stopping(&self) {
        self.send(b"STOPPING=1");
    }

    /// The hot loop made progress at monotonic time `now`; pings at most once per fifth of the
    /// period (a tenth of `WatchdogSec`). Pinging only once the whole period had passed let the
    /// gap between pings grow to the period plus one frame: with frames of seconds (a loaded
    /// board, or the arm64 VM under emulation, where a frame takes 3–5 s) that passed
    /// `WatchdogSec` while the loop was making progress, and systemd restarted a working picket.
    pub fn watchdog(&mut self, now: Duration) {
        let Some(every) = self.every else { return };
        if self.last.is_some_and(|l| now.saturating_sub(l) < every / 5) {
            return;
        }
        self.last = Some(now);
        self.send(b"WATCHDOG=1");
    }
}

/// Half of `$WATCHDOG_USEC` (microseconds), the ping period systemd recommends; `None` for
/// zero or garbage.
pub fn watchdog_period(usec: &str) -> Option<Duration> {
    match usec.trim().parse::<u64>() {
        Ok(us) if us > 0 => Some(Duration::from_micros(us) / 2),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watchdog_period_is_half_the_timeout() {
        assert_eq!(watchdog_period("30000000"), Some(Duration::from_secs(15)));
        assert_eq!(watchdog_period("0"), None);
        assert_eq!(watchdog_period("soon"), None);
    }

    #[test]
    fn pings_reach_the_socket_at_most_once_per_fifth_of_the_period() {
        let dir = crate::testdir::TestDir::new("notify");
        let path = dir.path().join("notify.sock");
        let server = UnixDatagram::bind(&path).unwrap();
        server.set_nonblocking(true).unwrap();
        let mut n = Notifier {
            socket: Some((
                UnixDatagram::unbound().unwrap(),
                SocketAddr::from_pathname(&path).unwrap(),
            )),
            every: Some(Duration::from_secs(5)),
            last: None,
        };
        n.ready();
        // Every 5 s: at most one ping a second, so a frame that takes 3 s still pings each time.
        n.watchdog(Duration::from_secs(1));
        n.watchdog(Duration::from_millis(1500));
        n.watchdog(Duration::from_secs(4));
        n.watchdog(Duration::from_millis(4900));
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        while let Ok(len) = server.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..len]).into_owned());
        }
        assert_eq!(got, ["READY=1", "WATCHDOG=1", "WATCHDOG=1"]);
    }
}
