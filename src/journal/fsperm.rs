//! File modes and ownership of the journal: the directory 0750 and the files 0640, owned by
//! `picket:picket` when picket runs as root and that user exists, so that admins in group
//! `picket` can read the journal over ssh and nobody else can.
//!
//! SQLite creates `-wal` and `-shm` with the mode (and, as root, the owner) of the database
//! file, so creating the database file ourselves with the right mode is enough.

use super::{io, JournalError};
use std::fs;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub const DIR_MODE: u32 = 0o750;
pub const FILE_MODE: u32 = 0o640;

/// Creates `dir` (and missing parents) with [`DIR_MODE`]. An existing directory is left as it
/// is: it may be shared, and its owner chose its mode.
pub fn ensure_dir(dir: &Path) -> Result<(), JournalError> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(io(dir, "create directory"))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))
        .map_err(io(dir, "set directory mode"))?;
    chown_to_picket(dir)
}

/// Creates an empty file at `path` with [`FILE_MODE`]; fails if it exists.
pub fn create_file(path: &Path) -> Result<(), JournalError> {
    let f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
        .map_err(io(path, "create"))?;
    // The umask may have taken bits away; set the mode exactly.
    f.set_permissions(fs::Permissions::from_mode(FILE_MODE))
        .map_err(io(path, "set file mode"))?;
    drop(f);
    chown_to_picket(path)
}

/// As root, hands `path` to `picket:picket` if that user exists; otherwise does nothing.
fn chown_to_picket(path: &Path) -> Result<(), JournalError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(());
    }
    let Some((uid, gid)) = picket_ids() else {
        return Ok(());
    };
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(io(path, "chown to picket"))
}

/// The uid and primary gid of user `picket`, if it exists.
fn picket_ids() -> Option<(u32, u32)> {
    // SAFETY: `passwd` is plain data (integers and pointers), valid as all zeroes.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 4096];
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call and `buf` outlives it; the reentrant variant
    // writes only into `pwd` and `buf`.
    let rc = unsafe {
        libc::getpwnam_r(
            c"picket".as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut out,
        )
    };
    (rc == 0 && !out.is_null()).then_some((pwd.pw_uid, pwd.pw_gid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_directories_and_files_get_their_modes() {
        let base = std::env::temp_dir().join(format!("picket-fsperm-{}", std::process::id()));
        let dir = base.join("state");
        ensure_dir(&dir).unwrap();
        let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, DIR_MODE);
        let file = dir.join("events.db");
        create_file(&file).unwrap();
        let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, FILE_MODE);
        assert!(
            create_file(&file).is_err(),
            "an existing file is never replaced"
        );
        fs::remove_dir_all(&base).unwrap();
    }
}
