//! Files the command creates: written whole or not at all.

use std::io::Write;
use std::path::Path;

/// Who may read a new file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Everyone may read it (0644 before the umask), as an editor would create it.
    Shared,
    /// Only the owner (0600): the file holds a secret, such as a database password.
    Private,
}

/// Creates `path` with `contents`, never over an existing file, and never leaves a partial one:
/// the text goes to a hidden temporary file beside it, is flushed to disk, and the temporary
/// file is then linked in under its name. A full disk or any other failure leaves nothing
/// behind (an empty `V3__x.sql` would break every later command; an empty `jetbase.toml`
/// every command of the project).
///
/// # Errors
///
/// The operating system's error: the directory cannot be written, the disk is full,
/// `path` exists already (`ErrorKind::AlreadyExists`).
pub fn create_new(path: &Path, contents: &[u8], access: Access) -> std::io::Result<()> {
    let file = written_beside(path, contents)?;
    if access == Access::Shared {
        make_shared(file.as_file())?;
    }
    file.persist_noclobber(path).map_err(|error| error.error)?;
    Ok(())
}

/// Replaces `path` (or creates it) with `contents`, never leaving it half written: the text goes
/// to a hidden temporary file beside it, is flushed, takes the old file's permissions, and is
/// renamed over it (`Cargo.toml` and `build.rs` of `init --write-build`).
///
/// # Errors
///
/// The operating system's error: the directory cannot be written, the disk is full.
pub fn replace(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let file = written_beside(path, contents)?;
    match std::fs::metadata(path) {
        Ok(old) => file.as_file().set_permissions(old.permissions())?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => make_shared(file.as_file())?,
        Err(error) => return Err(error),
    }
    file.persist(path).map_err(|error| error.error)?;
    Ok(())
}

/// `contents` in a hidden temporary file in `path`'s directory, flushed to disk. tempfile
/// creates it 0600 and deletes it when dropped, so every error path leaves nothing behind.
fn written_beside(path: &Path, contents: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
    let directory = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::Builder::new()
        .prefix(".jetbase-")
        .suffix(".tmp")
        .tempfile_in(directory)?;
    file.write_all(contents)?;
    file.as_file().sync_all()?;
    Ok(file)
}

/// Readable by everyone, as an editor makes a file (0644 under the umask).
fn make_shared(file: &std::fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644 & !current_umask()))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// The process's umask, read from `/proc` where it is shown (Linux), else the usual 022.
#[cfg(unix)]
fn current_umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Umask:"))
                .and_then(|value| u32::from_str_radix(value.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_over_an_existing_file_and_nothing_left_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("V1__a.sql");
        create_new(&path, b"SELECT 1;", Access::Shared).unwrap();
        let error = create_new(&path, b"SELECT 2;", Access::Shared).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"SELECT 1;");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["V1__a.sql"], "no temporary file is left");
    }

    #[test]
    fn a_replaced_file_keeps_its_permissions_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Cargo.toml");
        std::fs::write(&path, b"[package]").unwrap();
        let before = std::fs::metadata(&path).unwrap().permissions();
        replace(&path, b"[package]\nname = \"x\"").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"[package]\nname = \"x\"");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions(), before);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["Cargo.toml"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_private_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("private.toml");
        create_new(&private, b"x", Access::Private).unwrap();
        let mode = std::fs::metadata(&private).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let shared = dir.path().join("shared.toml");
        create_new(&shared, b"x", Access::Shared).unwrap();
        let mode = std::fs::metadata(&shared).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644 & !current_umask());
    }
}
