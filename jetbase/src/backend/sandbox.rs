//! Temporary files of a [`SandboxCopy`](super::SandboxCopy): a database file copied for a
//! rehearsal, deleted with everything SQLite creates beside it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A temporary database file and its companions (`-wal`, `-shm`, `-journal`), deleted on drop.
#[derive(Debug)]
pub struct TempFiles {
    path: PathBuf,
}

impl TempFiles {
    /// A new name in the system's temporary directory, unique to this process and call.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub fn new(prefix: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "{prefix}-{}-{}-{}.db",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            fastrand::u64(..)
        );
        Self {
            path: std::env::temp_dir().join(name),
        }
    }

    /// The database file.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut companion = self.path.clone().into_os_string();
            companion.push(suffix);
            let _ = std::fs::remove_file(companion);
        }
    }
}
