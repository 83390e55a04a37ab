//! A window over a byte stream (a file or a pipe) whose buffer is reused for every frame, so
//! reading frames allocates only while the buffer grows to the largest frame.

use std::io::{self, Read};

pub(crate) struct Window {
    inner: Box<dyn Read + Send>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
}

impl Window {
    pub fn new(inner: Box<dyn Read + Send>, capacity: usize) -> Self {
        Self {
            inner,
            buf: vec![0; capacity.max(4096)],
            start: 0,
            end: 0,
            eof: false,
        }
    }

    /// The bytes read but not consumed yet.
    pub fn bytes(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// `len` bytes at `offset` into the window, as they were before later calls to `consume`.
    pub fn slice(&self, offset: usize, len: usize) -> &[u8] {
        &self.buf[offset..offset + len]
    }

    /// The buffer offset of the window's first byte, for [`Window::slice`].
    pub fn offset(&self) -> usize {
        self.start
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    /// Reads more bytes. Returns false at the end of the stream.
    pub fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let bigger = self.buf.len() * 2;
            self.buf.resize(bigger, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Makes the window at least `n` bytes long; false if the stream ended first.
    pub fn ensure(&mut self, n: usize) -> io::Result<bool> {
        while self.len() < n {
            if !self.fill()? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most 3 bytes per call, as a pipe may.
    struct Dribble(Vec<u8>, usize);

    impl Read for Dribble {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = out.len().min(3).min(self.0.len() - self.1);
            out[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
    }

    #[test]
    fn ensure_gathers_short_reads_and_grows_the_buffer() {
        let data: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let mut w = Window::new(Box::new(Dribble(data.clone(), 0)), 16);
        assert!(w.ensure(5000).unwrap());
        assert_eq!(&w.bytes()[..5000], &data[..5000]);
        w.consume(4999);
        assert!(w.ensure(5001).unwrap());
        assert_eq!(w.bytes(), &data[4999..]);
        w.consume(5001);
        assert!(!w.ensure(1).unwrap());
        assert_eq!(w.len(), 0);
    }
}
