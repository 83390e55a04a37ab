//! What the push sinks' tests run against: `tests/data/push/server.py`, a real HTTP server on
//! 127.0.0.1 at a free port that records every request (and answers the status the test sets),
//! and the journal's events and snapshots read back to compare with.

#![allow(dead_code)]

use super::uplink::free_port;
use base64::Engine;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Request {
    pub t: f64,
    pub method: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    pub status: u16,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {:?}", self.body))
    }
}

/// The recording server, a child process; killed when dropped.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    log: PathBuf,
    status: PathBuf,
    /// The certificate and key it serves HTTPS with, if it does.
    tls: Option<(PathBuf, PathBuf)>,
}

impl Server {
    pub fn start(dir: &Path) -> Self {
        Self::start_with(dir, None)
    }

    /// An HTTPS server with `cert` and `key`.
    pub fn start_tls(dir: &Path, cert: &Path, key: &Path) -> Self {
        Self::start_with(dir, Some((cert.to_owned(), key.to_owned())))
    }

    fn start_with(dir: &Path, tls: Option<(PathBuf, PathBuf)>) -> Self {
        let mut s = Server {
            child: None,
            port: free_port(),
            log: dir.join("requests.jsonl"),
            status: dir.join("status"),
            tls,
        };
        s.restart();
        s
    }

    /// Starts it (again) on its port, waiting until it accepts connections.
    pub fn restart(&mut self) {
        self.kill();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/push/server.py");
        let child = Command::new("python3")
            .arg(script)
            .arg(self.port.to_string())
            .arg(&self.log)
            .arg(&self.status)
            .args(self.tls.iter().flat_map(|(c, k)| [c, k]))
            .stdin(Stdio::null())
            .spawn()
            .expect("start python3 tests/data/push/server.py");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the push test server did not start"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL, like a crash.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The status answered from now on.
    pub fn answer(&self, status: u16) {
        std::fs::write(&self.status, status.to_string()).unwrap();
    }

    /// `http://127.0.0.1:<port><path>` (`https://` when it serves HTTPS).
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}{path}", self.port)
    }

    /// Every request recorded so far, oldest first.
    pub fn requests(&self) -> Vec<Request> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            // A line the killed server left half-written is no request it answered.
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| Request {
                t: v["t"].as_f64().unwrap(),
                method: v["method"].as_str().unwrap().to_owned(),
                path: v["path"].as_str().unwrap().to_owned(),
                headers: v["headers"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                    .collect(),
                body: base64::engine::general_purpose::STANDARD
                    .decode(v["body"].as_str().unwrap())
                    .unwrap(),
                status: v["status"].as_u64().unwrap() as u16,
            })
            .collect()
    }

    /// The requests to `path` answered with a 2xx.
    pub fn delivered(&self, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path && (200..300).contains(&r.status))
            .collect()
    }

    /// Waits up to `timeout` for `done` to hold of the requests.
    pub fn wait(&self, timeout: Duration, done: impl Fn(&[Request]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if done(&self.requests()) {
                return true;
            }
            thread::sleep(Duration::from_millis(50));
        }
        done(&self.requests())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A journal event as the test reads it back.
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: i64,
    pub kind: String,
    pub place: String,
    pub jpeg: Option<Vec<u8>>,
}

/// Every event of the journal at `db` with its snapshot, by id.
pub fn stored(db: &Path) -> BTreeMap<i64, Stored> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let mut stmt = c
        .prepare(
            "SELECT e.id, e.kind, e.place, s.jpeg FROM events e \
             LEFT JOIN snapshots s ON s.event_id = e.id ORDER BY e.id",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok(Stored {
                id: r.get(0)?,
                kind: r.get(1)?,
                place: r.get(2)?,
                jpeg: r.get(3)?,
            })
        })
        .unwrap();
    rows.map(|r| r.unwrap()).map(|s| (s.id, s)).collect()
}

/// A config with `[journal] path = db`, `[uplink]` (`uplink`, without its header; its cursor
/// `dir/cursor`) and `push` (whole `[[push]]` sections), written to `dir/picket.toml`.
pub fn config(dir: &Path, db: &Path, uplink: &str, push: &str) -> PathBuf {
    let p = dir.join("picket.toml");
    let text = format!(
        "[journal]\npath = \"{}\"\n\n[uplink]\nbox_id = \"porch\"\nstate_file = \"{}\"\n{uplink}\n{push}",
        db.display(),
        dir.join("cursor").display()
    );
    std::fs::write(&p, text).unwrap();
    p
}
