//! File modes and ownership of the journal: the directory 0750 and the files 0640, owned, when
//! picket runs as root, by the owner and group of the directory they are made in (`picket:picket`
//! in the package's state directory), so that admins in group `picket` can read the journal
//! over ssh and nobody else can.
//!
//! SQLite creates `-wal` and `-shm` with the mode (and, as root, the owner) of the database
//! file, so creating the database file ourselves with the right mode is enough.

use super::{io, JournalError};
use std::fs;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
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
    chown_to_parent_owner(dir)
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
    chown_to_parent_owner(path)
}

/// As root, hands `path` to the owner and group of the directory it was made in, so that a
/// journal made by root in picket's state directory (`picket:picket`, from the package) is
/// picket's. Outside such a directory root's files stay root's. Taking the owner from the
/// directory, not from the user database, keeps the NSS modules (0.3 MiB resident) out of the
/// process.
fn chown_to_parent_owner(path: &Path) -> Result<(), JournalError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(());
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let owner = fs::metadata(parent).map_err(io(parent, "stat"))?;
    std::os::unix::fs::chown(path, Some(owner.uid()), Some(owner.gid()))
        .map_err(io(path, "chown to its directory's owner"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdir::TestDir;

    #[test]
    fn new_directories_and_files_get_their_modes() {
        let base = TestDir::new("fsperm");
        let dir = base.path().join("state");
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
    }

    #[test]
    fn as_root_new_directories_and_files_take_their_directorys_owner() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return; // only root can give files away
        }
        let base = TestDir::new("owner");
        std::os::unix::fs::chown(base.path(), Some(4321), Some(4322)).unwrap();
        let dir = base.path().join("state");
        ensure_dir(&dir).unwrap();
        let file = dir.join("events.db");
        create_file(&file).unwrap();
        for path in [&dir, &file] {
            let m = fs::metadata(path).unwrap();
            assert_eq!((m.uid(), m.gid()), (4321, 4322), "{}", path.display());
        }
    }
}
