//! Helpers for a crate's `build.rs`, so that adding or removing a migration file rebuilds the
//! crate that embeds the directory.
//!
//! `embed!()` already makes Cargo rebuild when an embedded file is edited. A new file is
//! something the compiler cannot see, so the crate's build script tells Cargo to watch the
//! directory. Add `jetbase` to `[build-dependencies]` and write `build.rs`:
//!
//! ```no_run
//! // build.rs
//! # #[allow(clippy::needless_doctest_main)]
//! fn main() {
//!     jetbase::build::rerun_if_migrations_change();
//! }
//! ```
//!
//! (Without the dependency, `println!("cargo:rerun-if-changed=jetbase/migrations");` does the
//! same.)

use std::path::Path;

/// Watches `jetbase/migrations`, the directory `embed!()` reads by default.
pub fn rerun_if_migrations_change() {
    rerun_if_changed_in("jetbase/migrations");
}

/// Watches `directory` (relative to the crate's `Cargo.toml`, as `embed!("...")` takes it):
/// Cargo re-runs the build script, and so rebuilds the crate, when any file below it is added,
/// removed or changed.
///
/// ```no_run
/// jetbase::build::rerun_if_changed_in("db/migrations");
/// ```
pub fn rerun_if_changed_in(directory: impl AsRef<Path>) {
    println!("{}", rerun_line(directory.as_ref()));
}

fn rerun_line(directory: &Path) -> String {
    format!("cargo:rerun-if-changed={}", directory.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_cargo_directive() {
        assert_eq!(
            rerun_line(Path::new("db/migrations")),
            "cargo:rerun-if-changed=db/migrations"
        );
    }
}
