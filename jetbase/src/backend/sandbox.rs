//! Temporary files of a [`SandboxCopy`](super::SandboxCopy): a database file copied for a
//! rehearsal, deleted with everything SQLite creates beside it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A temporary database file and its companions (`-wal`, `-shm`, `-journal`), in a directory
/// of its own that only this user may enter (0700; the file itself is created 0600): the copy
/// holds the whole database. Deleted, directory and all, on drop.
#[derive(Debug)]
pub struct TempFiles {
    directory: PathBuf,
    path: PathBuf,
}

impl TempFiles {
    /// A new private directory in the system's temporary directory, unique to this process and
    /// call, with an empty database file in it.
    ///
    /// # Errors
    ///
    /// The operating system's error when the directory or the file cannot be created.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub fn new(prefix: &str) -> std::io::Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "{prefix}-{}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            fastrand::u64(..)
        );
        let directory = std::env::temp_dir().join(name);
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&directory)?;
        let files = Self {
            path: directory.join("copy.db"),
            directory,
        };
        // Empty, as `VACUUM INTO` requires, and private before anything is written to it.
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(&files.path)?;
        Ok(files)
    }

    /// The database file.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}
