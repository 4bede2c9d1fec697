//! Helpers for the end-to-end tests and benchmarks: a throw-away crate that depends on this
//! workspace's `jetbase`, built with the real `cargo`.

pub mod bench;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

/// The workspace root (the directory holding `Cargo.lock`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is inside the workspace")
        .to_path_buf()
}

/// A small binary crate in a temporary directory, depending on the workspace's `jetbase` by path.
pub struct TempCrate {
    directory: tempfile::TempDir,
    target: PathBuf,
    name: String,
}

impl TempCrate {
    /// Creates the crate `name` with `main.rs` as its source and, if given, `build.rs`. Builds go
    /// to `target/<target_name>` under the workspace, so that dependencies are compiled once for
    /// every run of the tests.
    ///
    /// # Panics
    ///
    /// If the files cannot be written (this is test support code).
    pub fn new(name: &str, target_name: &str, main_rs: &str, build_rs: Option<&str>) -> Self {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let root = workspace_root();
        let jetbase = root.join("jetbase");
        let build_dependencies = if build_rs.is_some() {
            format!("[build-dependencies]\njetbase = {{ path = {jetbase:?} }}\n")
        } else {
            String::new()
        };
        let manifest = format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\njetbase = {{ path = {jetbase:?} }}\n\n{build_dependencies}\n[workspace]\n"
        );
        let crate_dir = directory.path();
        std::fs::create_dir_all(crate_dir.join("src")).expect("create src/");
        std::fs::write(crate_dir.join("Cargo.toml"), manifest).expect("write Cargo.toml");
        std::fs::write(crate_dir.join("src/main.rs"), main_rs).expect("write main.rs");
        if let Some(build_rs) = build_rs {
            std::fs::write(crate_dir.join("build.rs"), build_rs).expect("write build.rs");
        }
        // The workspace's lock file pins the same versions, so `--offline` finds them all.
        std::fs::copy(root.join("Cargo.lock"), crate_dir.join("Cargo.lock"))
            .expect("copy Cargo.lock");
        Self {
            directory,
            target: root.join("target").join(target_name),
            name: name.to_owned(),
        }
    }

    /// The crate's directory.
    pub fn path(&self) -> &Path {
        self.directory.path()
    }

    /// Writes a file below the crate's directory, creating directories, and dates it `age_offset`
    /// into the future so that Cargo's modification-time check cannot miss it.
    ///
    /// # Panics
    ///
    /// If the file cannot be written.
    pub fn write(&self, relative: &str, content: &str) {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().expect("a parent directory"))
            .expect("create directories");
        std::fs::write(&path, content).expect("write a file");
        touch_later(&path);
    }

    /// Runs `cargo build --offline` and returns how long it took.
    ///
    /// # Panics
    ///
    /// If the build fails; the panic message holds cargo's output.
    pub fn build(&self) -> Duration {
        let started = Instant::now();
        let output = Command::new(env!("CARGO"))
            .args(["build", "--offline", "--quiet"])
            .current_dir(self.path())
            .env("CARGO_TARGET_DIR", &self.target)
            .env_remove("JETBASE_MANIFEST_DIR")
            .output()
            .expect("run cargo");
        let elapsed = started.elapsed();
        assert!(
            output.status.success(),
            "cargo build failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        elapsed
    }

    /// Runs the built binary and returns its standard output.
    ///
    /// # Panics
    ///
    /// If the binary cannot run or fails.
    pub fn run(&self) -> String {
        let output = Command::new(self.target.join("debug").join(&self.name))
            .output()
            .expect("run the built binary");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("UTF-8 output")
    }
}

/// Moves a file's modification time two seconds ahead of now.
///
/// # Panics
///
/// If the file cannot be opened or its time set.
pub fn touch_later(path: &Path) {
    let file = std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open for touching");
    file.set_modified(SystemTime::now() + Duration::from_secs(2))
        .expect("set the modification time");
}

/// An example program run on a SQLite file of its own: set `DATABASE_URL`, run `binary` with
/// `args`, expect success, return its standard output.
pub struct ExampleRun {
    binary: PathBuf,
    database: tempfile::TempDir,
}

impl ExampleRun {
    /// The example `binary` (`env!("CARGO_BIN_EXE_<name>")`) on a new `notes.db`.
    ///
    /// # Panics
    ///
    /// If no temporary directory can be made (this is test support code).
    pub fn new(binary: &str) -> Self {
        Self {
            binary: PathBuf::from(binary),
            database: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// Runs the example with `args` on the same database every time.
    ///
    /// # Panics
    ///
    /// If it cannot start, fails, or prints something that is not UTF-8.
    pub fn run(&self, args: &[&str]) -> String {
        let output = Command::new(&self.binary)
            .args(args)
            .env(
                "DATABASE_URL",
                format!(
                    "sqlite://{}/notes.db?mode=rwc",
                    self.database.path().display()
                ),
            )
            .output()
            .expect("the example runs");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).expect("UTF-8")
    }
}
