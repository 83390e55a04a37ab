//! The live view: `picket run` serves HTTP/1.1 on a Unix socket (`[preview]`), reached from a
//! laptop with `ssh -L 8080:/run/picket/preview.sock pi`. It shows the camera through picket's
//! eyes (`/stream.mjpeg`, `/snapshot.jpg`) and a page to draw zones and lines (`/`).
//!
//! Threads and cost. The hot thread holds a [`Tap`]: with nobody watching, [`Tap::due`] is one
//! atomic load, so a frame costs nothing more and allocates nothing. While a viewer waits it
//! hands over at most `fps` frames a second ([`Tap::offer`]: a copy of the pixels and of the
//! drawing payload, skipped if the encoder still holds the last one; never a wait). The
//! encoder thread draws and JPEG-encodes them; one thread per connection writes them out.
//! A viewer that stops reading blocks only its own thread, which gives up after [`STALL`]; each
//! holds at most one encoded frame, so memory does not grow.
//!
//! Why hand-written HTTP rather than a server crate: the server is GET-only on a Unix socket,
//! with four routes and limits of its own (header size and time, connections, viewers, Host),
//! all of which a crate would need configuring or wrapping anyway; the common Rust servers
//! (hyper, axum, tiny_http) listen on TCP or pull in an async runtime for what is here a few
//! hundred lines of blocking code on `std::os::unix::net`.

mod config;
pub mod http;
mod socket;

pub use config::PreviewConfig;
pub use socket::{bind, SocketError};

use picket_image::{Rgb8View, RgbImage};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Connections at once, viewers and all; one more is closed at once.
pub const MAX_CONNECTIONS: usize = 8;
/// The most bytes of a request's head (request line and headers).
pub const HEADER_LIMIT: usize = 8 * 1024;
/// The longest a client may take to send its request's head.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// A viewer that takes no bytes for this long is dropped.
pub const STALL: Duration = Duration::from_secs(10);
/// The longest `/snapshot.jpg` waits for a frame.
pub const SNAPSHOT_WAIT: Duration = Duration::from_secs(5);
/// JPEG quality of the live view.
const QUALITY: u8 = 80;

/// Checks a config text as `picket check` does: its warnings, or its errors as one message.
pub type Checker = fn(&str) -> Result<Vec<String>, String>;

/// The last frame the hot thread handed over, not yet drawn.
struct Raw<T> {
    image: RgbImage,
    payload: T,
    fresh: bool,
}

/// What the threads share.
struct Shared<T> {
    stop: AtomicBool,
    /// Stream viewers and snapshot requests waiting: frames are made only while it is not 0.
    wanting: AtomicUsize,
    viewers: AtomicUsize,
    connections: AtomicUsize,
    raw: Mutex<Raw<T>>,
    raw_ready: Condvar,
    /// The newest encoded frame and its number (0: none yet).
    jpeg: Mutex<(u64, Arc<Vec<u8>>)>,
    jpeg_ready: Condvar,
    max_viewers: usize,
    check: Checker,
}

/// The running live view: its threads and its socket. [`Preview::stop`] ends them and removes
/// the socket.
pub struct Preview<T> {
    shared: Arc<Shared<T>>,
    threads: Vec<JoinHandle<()>>,
    path: PathBuf,
}

/// The hot thread's end: see the module docs.
pub struct Tap<T> {
    shared: Arc<Shared<T>>,
    every: Duration,
    next: Duration,
}

/// Binds the socket and starts the encoder and the acceptor. `draw` annotates a frame with its
/// payload on the encoder thread.
pub fn spawn<T, D>(
    cfg: &PreviewConfig,
    check: Checker,
    mut draw: D,
) -> Result<(Preview<T>, Tap<T>), SocketError>
where
    T: Clone + Default + Send + 'static,
    D: FnMut(&mut RgbImage, &T) + Send + 'static,
{
    let listener = socket::bind(&cfg.socket)?;
    let io = |cause| SocketError::Io {
        path: cfg.socket.clone(),
        cause,
    };
    listener.set_nonblocking(true).map_err(io)?;
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        wanting: AtomicUsize::new(0),
        viewers: AtomicUsize::new(0),
        connections: AtomicUsize::new(0),
        raw: Mutex::new(Raw {
            image: RgbImage::default(),
            payload: T::default(),
            fresh: false,
        }),
        raw_ready: Condvar::new(),
        jpeg: Mutex::new((0, Arc::new(Vec::new()))),
        jpeg_ready: Condvar::new(),
        max_viewers: cfg.max_viewers as usize,
        check,
    });
    let sh = shared.clone();
    let encoder = std::thread::Builder::new()
        .name("picket-preview".into())
        .spawn(move || encode_loop(&sh, &mut draw))
        .map_err(io)?;
    let sh = shared.clone();
    let acceptor = std::thread::Builder::new()
        .name("picket-preview-accept".into())
        .spawn(move || accept_loop(&listener, &sh))
        .map_err(io)?;
    log::info!("preview: serving on {}", cfg.socket.display());
    let tap = Tap {
        shared: shared.clone(),
        every: Duration::from_secs_f32(1.0 / cfg.fps.max(0.01)),
        next: Duration::ZERO,
    };
    let preview = Preview {
        shared,
        threads: vec![encoder, acceptor],
        path: cfg.socket.clone(),
    };
    Ok((preview, tap))
}

impl<T> Tap<T> {
    /// Whether to hand over this frame (at `now`, any monotonic clock): someone is waiting and
    /// the fps allows it. With nobody watching, one atomic load.
    pub fn due(&mut self, now: Duration) -> bool {
        if self.shared.wanting.load(Ordering::Relaxed) == 0 || now < self.next {
            return false;
        }
        self.next = now + self.every;
        true
    }

    /// Hands `frame` and `payload` to the encoder, unless it is busy with the last one.
    pub fn offer(&mut self, frame: Rgb8View<'_>, payload: &T)
    where
        T: Clone,
    {
        let Ok(mut raw) = self.shared.raw.try_lock() else {
            return;
        };
        if (raw.image.width(), raw.image.height()) != (frame.width, frame.height) {
            raw.image.set_size(frame.width, frame.height);
        }
        if raw.image.as_bytes().len() != frame.data.len() {
            return;
        }
        raw.image.as_bytes_mut().copy_from_slice(frame.data);
        raw.payload.clone_from(payload);
        raw.fresh = true;
        drop(raw);
        self.shared.raw_ready.notify_one();
    }
}

impl<T> Preview<T> {
    /// Stops the threads (a viewer's ends at its next frame or wait) and removes the socket.
    pub fn stop(mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.raw_ready.notify_all();
        self.shared.jpeg_ready.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

fn encode_loop<T: Clone + Default, D: FnMut(&mut RgbImage, &T)>(sh: &Shared<T>, draw: &mut D) {
    let mut work = RgbImage::default();
    let mut payload = T::default();
    loop {
        {
            let mut raw = sh.raw.lock().unwrap_or_else(|p| p.into_inner());
            while !raw.fresh && !sh.stop.load(Ordering::Acquire) {
                raw = sh
                    .raw_ready
                    .wait_timeout(raw, Duration::from_millis(200))
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            if sh.stop.load(Ordering::Acquire) {
                return;
            }
            if (work.width(), work.height()) != (raw.image.width(), raw.image.height()) {
                work.set_size(raw.image.width(), raw.image.height());
            }
            work.as_bytes_mut().copy_from_slice(raw.image.as_bytes());
            payload.clone_from(&raw.payload);
            raw.fresh = false;
        }
        draw(&mut work, &payload);
        match work.to_jpeg(QUALITY) {
            Ok(jpeg) => {
                let mut j = sh.jpeg.lock().unwrap_or_else(|p| p.into_inner());
                *j = (j.0 + 1, Arc::new(jpeg));
                drop(j);
                sh.jpeg_ready.notify_all();
            }
            Err(e) => log::warn!("preview: {e}"),
        }
    }
}

fn accept_loop<T: Send + 'static>(
    listener: &std::os::unix::net::UnixListener,
    sh: &Arc<Shared<T>>,
) {
    while !sh.stop.load(Ordering::Acquire) {
        match listener.accept() {
            Ok((stream, _)) => {
                if sh.connections.fetch_add(1, Ordering::AcqRel) >= MAX_CONNECTIONS {
                    sh.connections.fetch_sub(1, Ordering::AcqRel);
                    drop(stream); // over the limit: closed unanswered
                    continue;
                }
                let conn = sh.clone();
                let spawned = std::thread::Builder::new()
                    .name("picket-preview-conn".into())
                    .spawn(move || {
                        http::serve(stream, &conn);
                        conn.connections.fetch_sub(1, Ordering::AcqRel);
                    });
                if let Err(e) = spawned {
                    sh.connections.fetch_sub(1, Ordering::AcqRel);
                    log::warn!("preview: cannot start a connection's thread: {e}");
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => {
                log::warn!("preview: accept: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}
