//! What the uplink's tests run against: a real Mosquitto on 127.0.0.1 at a free port with its
//! own config and persistence directory, a persistent QoS 1 consumer (rumqttc, clean session
//! off), `picket uplink` as a child process, a producer appending to the journal through
//! `picket journal-stress`, and a test PKI made with `openssl`.

#![allow(dead_code)]

use rumqttc::{Client, Event, MqttOptions, Outgoing, Packet, QoS};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::OpenOptions;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub use crate::util::{Scratch, PICKET};

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A Mosquitto broker of the test's own. Its log (everything, to stderr) goes to `broker.log`
/// in its directory, across restarts.
pub struct Broker {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl Broker {
    /// Starts Mosquitto on a free port with persistence in `dir`; `extra` is appended to its
    /// config (TLS, passwords). Returns once it accepts connections.
    pub fn start(dir: &Path, extra: &str) -> Self {
        let port = free_port();
        // As root Mosquitto drops to user `mosquitto`, which could not write here.
        let user = if is_root() { "user root\n" } else { "" };
        let conf = format!(
            "listener {port} 127.0.0.1\npersistence true\npersistence_location {}/\n\
             log_dest stderr\nlog_type all\nmax_queued_messages 0\n{user}{extra}",
            dir.display()
        );
        let anonymous = !extra.contains("password_file");
        let conf = format!("{conf}allow_anonymous {anonymous}\n");
        std::fs::write(dir.join("mosquitto.conf"), conf).unwrap();
        let mut b = Broker {
            port,
            dir: dir.to_owned(),
            child: None,
        };
        b.restart();
        b
    }

    /// Starts the broker again on the same port, with the same persistence.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the broker is running");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("broker.log"))
            .unwrap();
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(self.dir.join("mosquitto.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start mosquitto (apt-get install mosquitto)");
        self.child = Some(child);
        let before = self.connections();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "mosquitto did not listen:\n{}",
                self.log()
            );
            thread::sleep(Duration::from_millis(20));
        }
        // The probe is in the log before anyone counts connections after it.
        while self.connections() == before {
            assert!(
                Instant::now() < deadline,
                "probe not logged:\n{}",
                self.log()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, sig: libc::c_int) {
        let pid = self.child.as_ref().expect("the broker is running").id();
        // SAFETY: kill(2) of our own child, not reaped yet.
        assert_eq!(unsafe { libc::kill(pid as i32, sig) }, 0);
    }

    /// Asks the broker to write its persistence database now (SIGUSR1).
    pub fn save(&self) {
        let before = self.count("Saving in-memory database");
        self.signal(libc::SIGUSR1);
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.count("Saving in-memory database") == before {
            assert!(Instant::now() < deadline, "no save:\n{}", self.log());
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM: Mosquitto saves its sessions and queued messages and exits.
    pub fn stop(&mut self) {
        self.signal(libc::SIGTERM);
        let status = self.child.take().unwrap().wait().unwrap();
        assert!(status.success(), "mosquitto: {status}");
    }

    /// SIGKILL: whatever was not saved yet is gone.
    pub fn kill(&mut self) {
        self.signal(libc::SIGKILL);
        self.child.take().unwrap().wait().unwrap();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("broker.log")).unwrap_or_default()
    }

    /// How many connections the broker has accepted. On a TLS listener a handshake that ends
    /// while it is being accepted is logged as a failed connection instead of a new one.
    pub fn connections(&self) -> usize {
        self.log()
            .lines()
            .filter(|l| l.contains("New connection from") || l.contains("Client connection from"))
            .count()
    }

    /// How many log lines contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.log().lines().filter(|l| l.contains(needle)).count()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// What the consumer received.
#[derive(Debug, Default, Clone)]
pub struct Got {
    /// Every message on `…/events`, parsed, in arrival order (duplicates included).
    pub events: Vec<serde_json::Value>,
    /// Every payload on `…/availability`, in order.
    pub availability: Vec<String>,
    /// Everything else, by topic: (payload, retained).
    pub other: BTreeMap<String, Vec<(Vec<u8>, bool)>>,
    pub subacks: u32,
    /// Subscribed, or back in a session the broker kept.
    pub ready: bool,
}

impl Got {
    pub fn ids(&self) -> Vec<i64> {
        self.events
            .iter()
            .filter_map(|e| e["id"].as_i64())
            .collect()
    }
}

/// A persistent QoS 1 subscriber (clean session off) that reconnects by itself and
/// subscribes again whenever the broker has no session for it.
pub struct Consumer {
    client: Client,
    got: Arc<Mutex<Got>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Consumer {
    /// Connects as `id` and subscribes to `topics` (unless the broker kept its session);
    /// returns once the subscription holds.
    pub fn start(port: u16, id: &str, topics: &[&str]) -> Self {
        let mut o = MqttOptions::new(id, "127.0.0.1", port);
        o.set_clean_session(false);
        o.set_keep_alive(Duration::from_secs(5));
        o.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut conn) = Client::new(o, 64);
        let got = Arc::new(Mutex::new(Got::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let topics: Vec<String> = topics.iter().map(|t| t.to_string()).collect();
        let (c, g, s) = (client.clone(), got.clone(), stop.clone());
        let thread = thread::spawn(move || {
            for ev in conn.iter() {
                match ev {
                    Ok(Event::Incoming(Packet::ConnAck(ack))) if !ack.session_present => {
                        for t in &topics {
                            let _ = c.try_subscribe(t.as_str(), QoS::AtLeastOnce);
                        }
                    }
                    Ok(Event::Incoming(Packet::ConnAck(_))) => g.lock().unwrap().ready = true,
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let mut g = g.lock().unwrap();
                        g.subacks += 1;
                        g.ready = true;
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let mut g = g.lock().unwrap();
                        if p.topic.ends_with("/events") {
                            let v = serde_json::from_slice(&p.payload)
                                .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", p.payload));
                            g.events.push(v);
                        } else if p.topic.ends_with("/availability") {
                            g.availability
                                .push(String::from_utf8_lossy(&p.payload).into_owned());
                        } else {
                            g.other
                                .entry(p.topic.clone())
                                .or_default()
                                .push((p.payload.to_vec(), p.retain));
                        }
                    }
                    Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
                    Ok(_) => {}
                    Err(_) => {
                        if s.load(Ordering::SeqCst) {
                            break;
                        }
                        thread::sleep(Duration::from_millis(100));
                    }
                }
            }
        });
        let consumer = Consumer {
            client,
            got,
            stop,
            thread: Some(thread),
        };
        assert!(
            consumer.wait(Duration::from_secs(10), |g| g.ready),
            "the consumer could not subscribe"
        );
        consumer
    }

    pub fn got(&self) -> Got {
        self.got.lock().unwrap().clone()
    }

    /// Waits up to `timeout` for `done`; whether it came true.
    pub fn wait(&self, timeout: Duration, done: impl Fn(&Got) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if done(&self.got.lock().unwrap()) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until every id in `want` has arrived; the ones still missing after `timeout`.
    pub fn wait_for_ids(&self, want: &BTreeSet<i64>, timeout: Duration) -> BTreeSet<i64> {
        self.wait(timeout, |g| {
            let have: BTreeSet<i64> = g.ids().into_iter().collect();
            want.is_subset(&have)
        });
        let have: BTreeSet<i64> = self.got().ids().into_iter().collect();
        want.difference(&have).copied().collect()
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.client.try_disconnect();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `picket uplink` as a child, its log lines collected (and echoed for the CI log).
pub struct Uplink {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Uplink {
    pub fn start(config: &Path) -> Self {
        Self::command("uplink", config)
    }

    /// `picket hub -c config`, its log collected the same way.
    pub fn hub(config: &Path) -> Self {
        Self::command("hub", config)
    }

    /// `picket <sub> -c config` as a child, its log lines collected and echoed as `[<sub>]`.
    pub fn command(sub: &'static str, config: &Path) -> Self {
        let mut child = Command::new(PICKET)
            .arg(sub)
            .arg("-c")
            .arg(config)
            .env("RUST_LOG", "info,picket::uplink=debug,picket::hub=debug")
            .env("RUST_LOG_STYLE", "never")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start picket uplink");
        let lines = Arc::new(Mutex::new(Vec::new()));
        for out in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = lines.clone();
            thread::spawn(move || {
                for l in BufReader::new(out).lines().map_while(Result::ok) {
                    eprintln!("[{sub}] {l}");
                    lines.lock().unwrap().push(l);
                }
            });
        }
        Uplink { child, lines }
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// How many log lines contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.lines().iter().filter(|l| l.contains(needle)).count()
    }

    /// The lines logged at level ERROR.
    pub fn errors(&self) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| l.contains(" ERROR "))
            .collect()
    }

    /// Waits up to `timeout` for a line containing `needle`.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.count(needle) > 0 {
                return true;
            }
            thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Sends `sig` (e.g. SIGSTOP to freeze the process with its connection open).
    pub fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) of our own child, not reaped yet.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, sig) }, 0);
    }

    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, and the exit status (within 10 s).
    pub fn stop(self) -> ExitStatus {
        self.stop_with_log().0
    }

    /// [`Uplink::stop`], and every line logged up to the exit.
    pub fn stop_with_log(mut self) -> (ExitStatus, Vec<String>) {
        // SAFETY: kill(2) of our own child, not reaped yet.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                // Let the readers take the last lines.
                thread::sleep(Duration::from_millis(100));
                return (s, self.lines());
            }
            assert!(Instant::now() < deadline, "picket ignored SIGTERM");
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Uplink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cmd` to completion, asserting that it succeeded; its output.
pub fn checked(cmd: &mut Command, what: &str) -> std::process::Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Appends `count` events to `db` in one go (`picket journal-stress`); the ids committed.
pub fn append(db: &Path, count: u64) -> Vec<i64> {
    append_with(
        db,
        count,
        &["--snapshot-every", "7", "--snapshot-bytes", "3000"],
    )
}

/// [`append`] with `extra` arguments to `picket journal-stress` in place of the snapshot
/// defaults (caps, `--uplink-state`, other snapshots).
pub fn append_with(db: &Path, count: u64, extra: &[&str]) -> Vec<i64> {
    let out = checked(
        Command::new(PICKET)
            .args(["journal-stress", "--db"])
            .arg(db)
            .args(["--count", &count.to_string(), "--batch", "10"])
            .args(extra)
            .env("RUST_LOG", "warn"),
        "picket journal-stress",
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.parse().expect("an id per line"))
        .collect()
}

/// A stream of events: `per` more every `every`, until [`Producer::finish`].
pub struct Producer {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<i64>>,
}

impl Producer {
    pub fn start(db: &Path, per: u64, every: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (s, db) = (stop.clone(), db.to_owned());
        let thread = thread::spawn(move || {
            let mut ids = Vec::new();
            while !s.load(Ordering::SeqCst) {
                ids.extend(append(&db, per));
                thread::sleep(every);
            }
            ids
        });
        Producer { stop, thread }
    }

    /// Stops the stream; every id it committed.
    pub fn finish(self) -> Vec<i64> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap()
    }
}

/// Every id in the journal.
pub fn journal_ids(db: &Path) -> BTreeSet<i64> {
    crate::util::journal::ids(db).into_iter().collect()
}

/// The cursor's `acked_through`.
pub fn acked_through(state_file: &Path) -> i64 {
    let text = std::fs::read_to_string(state_file).unwrap();
    let v: toml::Value = toml::from_str(&text).unwrap();
    v["acked_through"].as_integer().unwrap()
}

/// A config with `[journal] path = db` and the `[uplink]` section `uplink` (without its
/// header), written to `dir/picket.toml`.
pub fn config(dir: &Path, db: &Path, uplink: &str) -> PathBuf {
    let p = dir.join("picket.toml");
    let text = format!(
        "[journal]\npath = \"{}\"\n\n[uplink]\nstate_file = \"{}\"\n{uplink}",
        db.display(),
        dir.join("cursor").display()
    );
    std::fs::write(&p, text).unwrap();
    p
}

/// The keys of an event object, as the uplink publishes it and the webhook posts it.
pub const EVENT_KEYS: [&str; 12] = [
    "v",
    "box",
    "id",
    "kind",
    "ts",
    "clock_synced",
    "place",
    "track",
    "score",
    "direction",
    "detail",
    "snapshot",
];

/// Asserts that `event` is an object with exactly [`EVENT_KEYS`].
pub fn assert_event_keys(event: &serde_json::Value) {
    let keys: BTreeSet<&str> = event
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {event}"))
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, EVENT_KEYS.into_iter().collect(), "{event}");
}

/// Asserts that every id in `journal` arrived at least once; returns the duplicates, printed.
pub fn assert_all_arrived(what: &str, journal: &BTreeSet<i64>, got: &Got) -> usize {
    let ids = got.ids();
    let have: BTreeSet<i64> = ids.iter().copied().collect();
    let missing: Vec<i64> = journal.difference(&have).copied().collect();
    assert!(
        missing.is_empty(),
        "{what}: {} of {} ids never arrived: {missing:?}",
        missing.len(),
        journal.len()
    );
    let dups = ids.len() - have.len();
    eprintln!(
        "{what}: all {} journal ids arrived in {} messages, {dups} duplicates",
        journal.len(),
        ids.len()
    );
    dups
}

/// A test CA, a second CA that signed nothing the broker has, a server certificate for
/// 127.0.0.1 and a client certificate, both signed by the first CA; made with `openssl` in
/// `dir`, the keys mode 0600.
pub struct Pki {
    pub ca: PathBuf,
    pub other_ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    checked(
        Command::new("openssl").args(args).current_dir(dir),
        &format!("openssl {args:?}"),
    );
}

/// A P-256 key `NAME.key` and a certificate `NAME.pem` for `subject`: self-signed with
/// `-x509`, else signed by `ca.pem` with the extensions `ext`.
fn certificate(dir: &Path, name: &str, subject: &str, ext: Option<&str>) {
    let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
    let (csr, ext_file) = (format!("{name}.csr"), format!("{name}.ext"));
    let mut req = vec![
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
    ];
    req.extend(["-nodes", "-keyout", &key, "-subj", subject]);
    match ext {
        None => {
            req.extend(["-x509", "-days", "2", "-out", &pem]);
            req.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
            req.extend(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
            openssl(dir, &req);
        }
        Some(ext) => {
            req.extend(["-out", &csr]);
            openssl(dir, &req);
            std::fs::write(dir.join(&ext_file), ext).unwrap();
            openssl(
                dir,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &csr,
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-days",
                    "2",
                    "-out",
                    &pem,
                    "-extfile",
                    &ext_file,
                ],
            );
        }
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::Permissions::from_mode(0o600);
    std::fs::set_permissions(dir.join(&key), mode).unwrap();
}

impl Pki {
    pub fn make(dir: &Path) -> Self {
        certificate(dir, "ca", "/CN=picket test CA", None);
        certificate(dir, "other-ca", "/CN=another CA", None);
        let leaf = "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n";
        certificate(
            dir,
            "server",
            "/CN=127.0.0.1",
            Some(&format!(
                "{leaf}subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
            )),
        );
        certificate(
            dir,
            "client",
            "/CN=porch",
            Some(&format!("{leaf}extendedKeyUsage=clientAuth\n")),
        );
        Pki {
            ca: dir.join("ca.pem"),
            other_ca: dir.join("other-ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client.key"),
        }
    }
}

/// A Mosquitto password file in `dir` for `user`:`password`.
pub fn mosquitto_passwd(dir: &Path, user: &str, password: &str) -> PathBuf {
    let p = dir.join("passwd");
    checked(
        Command::new("mosquitto_passwd")
            .args(["-c", "-b"])
            .arg(&p)
            .args([user, password]),
        "mosquitto_passwd",
    );
    p
}

/// Writes `text` to `path` with `mode`.
pub fn write_with_mode(path: &Path, text: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The usual setup: a broker of its own, a consumer subscribed to `topics`, a journal path,
/// and uplinks started on a plain config for them.
pub struct Rig {
    pub broker: Broker,
    pub consumer: Consumer,
    pub db: PathBuf,
    pub dir: Scratch,
}

impl Rig {
    pub fn new(tag: &str, topics: &[&str]) -> Self {
        let dir = Scratch::new(tag);
        let broker = Broker::start(&dir.0, "");
        let consumer = Consumer::start(broker.port, &format!("{tag}-consumer"), topics);
        Rig {
            db: dir.path("events.db"),
            broker,
            consumer,
            dir,
        }
    }

    /// Writes the config: `box_id = "porch"`, the broker, and `extra` in `[uplink]`.
    pub fn config(&self, extra: &str) -> PathBuf {
        let uplink = format!(
            "url = \"mqtt://127.0.0.1:{}\"\nbox_id = \"porch\"\n{extra}",
            self.broker.port
        );
        config(&self.dir.0, &self.db, &uplink)
    }

    /// Starts `picket uplink` on [`Rig::config`].
    pub fn uplink(&self, extra: &str) -> Uplink {
        Uplink::start(&self.config(extra))
    }

    pub fn cursor(&self) -> i64 {
        acked_through(&self.dir.path("cursor"))
    }
}
