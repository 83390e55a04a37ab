//! One connection of the live view: the request's head read within the limits, then one
//! response (`Connection: close`). GET only; nothing changes state. Reading and routing the
//! head ([`request`]) need no socket, so the fuzzer and the tests drive them with bytes.

use super::{Shared, HEADER_LIMIT, HEADER_TIMEOUT, SNAPSHOT_WAIT, STALL};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("page.js");
const STYLE: &str = include_str!("page.css");
const BOUNDARY: &str = "picketframe";

/// Counts itself in `n` while it lives.
struct Counted<'a>(&'a AtomicUsize);

impl<'a> Counted<'a> {
    fn new(n: &'a AtomicUsize) -> Self {
        n.fetch_add(1, Ordering::AcqRel);
        Counted(n)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Why a request's head could not be read.
enum Head {
    Ok(usize),
    TooLarge,
    TimedOut,
    Closed,
}

/// What a request asks for, decided from its head before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A fixed reply: status, content type, body.
    Reply(u16, &'static str, &'static [u8]),
    Snapshot,
    Stream,
    /// `/check`: the config text decoded from the query's `toml=`.
    Check(String),
}

/// Where a request's head comes from: a socket with a read deadline, or (for the fuzzer and
/// the tests) bytes handed over in pieces.
pub trait HeadSource: Read {
    /// Bounds the next read to `left`.
    fn time_left(&mut self, left: Duration) -> std::io::Result<()>;
}

impl HeadSource for UnixStream {
    fn time_left(&mut self, left: Duration) -> std::io::Result<()> {
        self.set_read_timeout(Some(left))
    }
}

/// Bytes already at hand: never late.
impl HeadSource for &[u8] {
    fn time_left(&mut self, _: Duration) -> std::io::Result<()> {
        Ok(())
    }
}

pub(super) fn serve<T>(mut s: UnixStream, sh: &Shared<T>) {
    let _ = s.set_nonblocking(false);
    let _ = s.set_write_timeout(Some(STALL));
    let mut buf = vec![0u8; HEADER_LIMIT];
    let Some(route) = request(&mut s, &mut buf) else {
        return;
    };
    match route {
        Route::Reply(code, ctype, body) => reply(&mut s, code, ctype, body),
        Route::Snapshot => snapshot(&mut s, sh),
        Route::Stream => stream(&mut s, sh),
        Route::Check(toml) => reply(
            &mut s,
            200,
            "application/json",
            check_body(sh.check, &toml).as_bytes(),
        ),
    }
}

/// Reads a request's head from `s` into `buf` (whose length is the limit) and routes it;
/// `None` when the client closed the connection before the head's end.
pub fn request<S: HeadSource>(s: &mut S, buf: &mut [u8]) -> Option<Route> {
    match read_head(s, buf) {
        Head::Ok(n) => Some(route(&buf[..n])),
        Head::TooLarge => Some(Route::Reply(
            431,
            "text/plain",
            b"request head over 8 KiB\n",
        )),
        Head::TimedOut => Some(Route::Reply(
            408,
            "text/plain",
            b"request head not sent within 5 s\n",
        )),
        Head::Closed => None,
    }
}

/// Routes a request by its head (without the blank line that ends it): the method, the Host
/// header, the path and the `/check` query.
pub fn route(head: &[u8]) -> Route {
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split("\r\n");
    let mut parts = lines.next().unwrap_or("").split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method != "GET" {
        return Route::Reply(405, "text/plain", b"GET only\n");
    }
    let host = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.trim());
    if !host.is_some_and(is_loopback) {
        return Route::Reply(
            421,
            "text/plain",
            b"Host must be localhost, 127.0.0.1 or [::1] (open the view through ssh -L)\n",
        );
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    match path {
        "/" => Route::Reply(200, "text/html; charset=utf-8", PAGE.as_bytes()),
        "/page.js" => Route::Reply(200, "text/javascript; charset=utf-8", SCRIPT.as_bytes()),
        "/page.css" => Route::Reply(200, "text/css; charset=utf-8", STYLE.as_bytes()),
        "/snapshot.jpg" => Route::Snapshot,
        "/stream.mjpeg" => Route::Stream,
        "/check" => Route::Check(
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix("toml="))
                .map(percent_decode)
                .unwrap_or_default(),
        ),
        _ => Route::Reply(404, "text/plain", b"not found\n"),
    }
}

/// The JSON answer of `/check` for `toml`.
pub fn check_body(check: super::Checker, toml: &str) -> String {
    let body = match check(toml) {
        Ok(warnings) => serde_json::json!({"ok": true, "warnings": warnings}),
        Err(error) => serde_json::json!({"ok": false, "error": error}),
    };
    body.to_string()
}

/// Reads until the blank line that ends the head, within [`HEADER_TIMEOUT`] in all and
/// [`HEADER_LIMIT`] bytes.
fn read_head<S: HeadSource>(s: &mut S, buf: &mut [u8]) -> Head {
    let deadline = Instant::now() + HEADER_TIMEOUT;
    let mut n = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || s.time_left(left).is_err() {
            return Head::TimedOut;
        }
        if n == buf.len() {
            return Head::TooLarge;
        }
        match s.read(&mut buf[n..]) {
            Ok(0) => return Head::Closed,
            Ok(k) => {
                let from = n.saturating_sub(3);
                n += k;
                if let Some(i) = buf[from..n].windows(4).position(|w| w == b"\r\n\r\n") {
                    return Head::Ok(from + i);
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Head::TimedOut
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Head::Closed,
        }
    }
}

/// `localhost`, `127.0.0.1` or `[::1]`, with or without a port: what a browser sends through
/// `ssh -L`. Anything else may be a DNS name rebound to the laptop.
fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    matches!(
        name.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "::1"
    )
}

pub fn status_text(code: u16) -> &'static str {
    match code {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        421 => "Misdirected Request",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "",
    }
}

fn head(code: u16, ctype: &str, len: Option<usize>) -> String {
    let mut h = format!(
        "HTTP/1.1 {code} {}\r\nContent-Type: {ctype}\r\nContent-Security-Policy: default-src 'self'\r\n\
         X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nConnection: close\r\n",
        status_text(code)
    );
    if code == 405 {
        h.push_str("Allow: GET\r\n");
    }
    if let Some(n) = len {
        h.push_str(&format!("Content-Length: {n}\r\n"));
    }
    h.push_str("\r\n");
    h
}

fn reply(s: &mut UnixStream, code: u16, ctype: &str, body: &[u8]) {
    let _ = s
        .write_all(head(code, ctype, Some(body.len())).as_bytes())
        .and_then(|()| s.write_all(body));
}

/// The newest frame after `seen`, waiting until `deadline`; `None` at the deadline or a stop.
fn next_frame<T>(sh: &Shared<T>, seen: u64, deadline: Instant) -> Option<(u64, Arc<Vec<u8>>)> {
    let mut j = sh.jpeg.lock().unwrap_or_else(|p| p.into_inner());
    while j.0 <= seen {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || sh.stop.load(Ordering::Acquire) {
            return None;
        }
        j = sh
            .jpeg_ready
            .wait_timeout(j, left.min(Duration::from_millis(500)))
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
    Some((j.0, j.1.clone()))
}

fn snapshot<T>(s: &mut UnixStream, sh: &Shared<T>) {
    let _want = Counted::new(&sh.wanting);
    let seen = sh.jpeg.lock().unwrap_or_else(|p| p.into_inner()).0;
    match next_frame(sh, seen, Instant::now() + SNAPSHOT_WAIT) {
        Some((_, jpeg)) => reply(s, 200, "image/jpeg", &jpeg),
        None => reply(s, 503, "text/plain", b"no frame within 5 s\n"),
    }
}

fn stream<T>(s: &mut UnixStream, sh: &Shared<T>) {
    let viewer = Counted::new(&sh.viewers);
    if sh.viewers.load(Ordering::Acquire) > sh.max_viewers {
        drop(viewer);
        return reply(s, 503, "text/plain", b"too many viewers\n");
    }
    let _want = Counted::new(&sh.wanting);
    let ctype = format!("multipart/x-mixed-replace; boundary={BOUNDARY}");
    if s.write_all(head(200, &ctype, None).as_bytes()).is_err() {
        return;
    }
    let mut seen = 0;
    while !sh.stop.load(Ordering::Acquire) {
        // A long wait is no stall: frames may be slow to come (a skipped camera, a slow box).
        let Some((n, jpeg)) = next_frame(sh, seen, Instant::now() + Duration::from_secs(1)) else {
            continue;
        };
        seen = n;
        let part = format!(
            "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
            jpeg.len()
        );
        let sent = s
            .write_all(part.as_bytes())
            .and_then(|()| s.write_all(&jpeg))
            .and_then(|()| s.write_all(b"\r\n"));
        if let Err(e) = sent {
            log::info!("preview: a viewer is gone ({e})");
            return;
        }
    }
}

/// `application/x-www-form-urlencoded` text: `+` is a space, `%XX` a byte; bad escapes stay.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                b.get(i + 1).and_then(|&c| hex(c)),
                b.get(i + 2).and_then(|&c| hex(c)),
            ) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_pass() {
        for ok in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:80",
            "[::1]:8080",
            "LOCALHOST",
        ] {
            assert!(is_loopback(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "localhost.evil.example:8080",
            "10.0.0.2",
            "",
            "[::2]",
        ] {
            assert!(!is_loopback(bad), "{bad}");
        }
    }

    #[test]
    fn form_text_decodes() {
        assert_eq!(percent_decode("a+b%5B%5Bzones%5D%5D%0A"), "a b[[zones]]\n");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
