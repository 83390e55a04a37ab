//! The preview's Unix socket: where it may be created, and what is at its path already.
//!
//! A socket left by a picket that died is replaced (nothing answers on it); one a running picket
//! answers on, or anything that is not a socket, is an error naming the path, never removed.

use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

/// Why the socket could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error("preview socket {}: its directory is missing (systemd's RuntimeDirectory=picket makes /run/picket)", path.display())]
    NoDirectory { path: PathBuf },
    #[error("preview socket {}: a {kind} is there, not a socket; remove it or choose another path", path.display())]
    NotASocket { path: PathBuf, kind: &'static str },
    #[error("preview socket {}: another process answers on it", path.display())]
    InUse { path: PathBuf },
    #[error("preview socket {}: {cause}", path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
}

/// Binds `path` (mode 0660), replacing a stale socket there.
pub fn bind(path: &Path) -> Result<UnixListener, SocketError> {
    let io = |cause| SocketError::Io {
        path: path.to_owned(),
        cause,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(SocketError::NoDirectory {
                path: path.to_owned(),
            });
        }
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            if UnixStream::connect(path).is_ok() {
                return Err(SocketError::InUse {
                    path: path.to_owned(),
                });
            }
            log::info!("preview socket {}: replacing a stale one", path.display());
            std::fs::remove_file(path).map_err(io)?;
        }
        Ok(m) => {
            let kind = if m.is_dir() {
                "directory"
            } else if m.file_type().is_symlink() {
                "symbolic link"
            } else {
                "regular file"
            };
            return Err(SocketError::NotASocket {
                path: path.to_owned(),
                kind,
            });
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let listener = UnixListener::bind(path).map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(io)?;
    Ok(listener)
}
