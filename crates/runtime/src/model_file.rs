//! A model file's bytes as TFLite reads them: mapped from the file, not copied onto the heap.
//!
//! Why a mapping: TFLite keeps pointers into the flatbuffer for as long as the model lives, but
//! once the XNNPACK delegate has packed the weights into its own buffers, almost none of those
//! bytes are read again. A read-only private mapping of the file is backed by the page cache, so
//! its pages can be handed back to the kernel ([`ModelBytes::release_pages`]) without losing
//! anything: a page that TFLite does read again (the few constants of ops that stay on the CPU
//! kernels, such as the SSD post-processing's anchors) faults back in from the file. A copy on
//! the heap would hold all 5 MB of the file for the whole run, on top of the packed weights.
//!
//! The price of a mapping: the file must not be truncated or rewritten in place while picket
//! runs (a read past a truncated end is a `SIGBUS`). Replace a model by renaming a new file over
//! it, as package managers do; the running process keeps the old file until it exits.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::ptr::NonNull;

/// The bytes of a model, owned; they stay valid and unchanged until dropped.
pub enum ModelBytes {
    /// A private read-only mapping of the whole file.
    Mapped(Mapping),
    /// Bytes already in memory (an empty file, which cannot be mapped, or a caller's buffer).
    Owned(Vec<u8>),
}

impl ModelBytes {
    /// Maps the file at `path`.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let len = usize::try_from(file.metadata()?.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "file too large to map"))?;
        if len == 0 {
            return Ok(Self::Owned(Vec::new()));
        }
        Mapping::new(&file, len).map(Self::Mapped)
    }

    pub fn as_slice(&self) -> &[u8] {
        match self {
            Self::Mapped(m) => m.as_slice(),
            Self::Owned(v) => v,
        }
    }

    /// Drops the resident pages of a mapping from this process; the bytes stay readable and
    /// unchanged (the next read of a page fetches it from the page cache or the file). Does
    /// nothing for owned bytes.
    pub fn release_pages(&self) {
        if let Self::Mapped(m) = self {
            m.release_pages();
        }
    }
}

/// A private, read-only mapping of a whole file, unmapped on drop.
pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is read-only and owned by this value; moving it to another thread is like
// moving a `Box<[u8]>`.
unsafe impl Send for Mapping {}
// SAFETY: nothing writes through the mapping, so shared references from several threads only
// read, as with a `&[u8]`.
unsafe impl Sync for Mapping {}

impl Mapping {
    fn new(file: &File, len: usize) -> io::Result<Self> {
        // SAFETY: a fresh mapping of `len > 0` bytes of an open file; nothing else refers to it.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(p.cast::<u8>()).ok_or_else(|| io::Error::other("mmap gave null"))?;
        Ok(Self { ptr, len })
    }

    fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr..ptr + len` is mapped readable for as long as `self` lives, and nothing
        // writes to it (PROT_READ).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    fn release_pages(&self) {
        // SAFETY: the range is this mapping. MADV_DONTNEED on a private file mapping that was
        // never written drops only clean copies of file pages; later reads see the same bytes.
        let r = unsafe { libc::madvise(self.ptr.as_ptr().cast(), self.len, libc::MADV_DONTNEED) };
        if r != 0 {
            log::debug!(
                "madvise(MADV_DONTNEED) on the model: {}",
                io::Error::last_os_error()
            );
        }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the range was mapped in `new` and no slice of it outlives `self`.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_reads_the_file_before_and_after_releasing_its_pages() {
        let path = std::env::temp_dir().join(format!("picket-model-file-{}", std::process::id()));
        let want: Vec<u8> = (0..3 * 4096 + 17).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &want).unwrap();
        let m = ModelBytes::open(&path).unwrap();
        assert!(matches!(m, ModelBytes::Mapped(_)));
        assert_eq!(m.as_slice(), &want[..]);
        m.release_pages();
        assert_eq!(m.as_slice(), &want[..]);

        std::fs::write(&path, b"").unwrap();
        let empty = ModelBytes::open(&path).unwrap();
        assert!(empty.as_slice().is_empty());
        empty.release_pages();
        std::fs::remove_file(&path).unwrap();

        let e = ModelBytes::open(Path::new("no/such/model.tflite"))
            .err()
            .unwrap();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}
