//! A TCP relay between two test processes (a site broker's bridge and the central broker),
//! which the test stops to cut the link and starts again on the same port.

#![allow(dead_code)]

use std::io::ErrorKind;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

pub struct Relay {
    pub port: u16,
    to: u16,
    stop: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    accept: Option<thread::JoinHandle<()>>,
}

impl Relay {
    /// Relays 127.0.0.1:`port` (free, or 0 for any) to 127.0.0.1:`to`.
    pub fn start(port: u16, to: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the relay");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (s, o) = (stop.clone(), open.clone());
        let accept = thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((a, _)) => {
                        a.set_nonblocking(false).unwrap();
                        let Ok(b) = TcpStream::connect(("127.0.0.1", to)) else {
                            continue;
                        };
                        for (mut from, mut into) in [
                            (a.try_clone().unwrap(), b.try_clone().unwrap()),
                            (b.try_clone().unwrap(), a.try_clone().unwrap()),
                        ] {
                            thread::spawn(move || {
                                let _ = std::io::copy(&mut from, &mut into);
                                let _ = into.shutdown(Shutdown::Both);
                            });
                        }
                        o.lock().unwrap().extend([a, b]);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(10))
                    }
                    Err(_) => break,
                }
            }
        });
        Relay {
            port,
            to,
            stop,
            open,
            accept: Some(accept),
        }
    }

    /// Cuts every connection and stops listening.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.accept.take() {
            t.join().unwrap();
        }
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// Listens again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        *self = Relay::start(self.port, self.to);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop();
    }
}
