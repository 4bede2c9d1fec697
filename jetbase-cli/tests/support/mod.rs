//! The harness of the CLI tests: a temporary project, the built binary run in it, and what the
//! run printed (never the URL's password).

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::TestDb;

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "{self:#?}");
        self
    }

    #[track_caller]
    pub fn fails_with(self, code: i32) -> Self {
        assert_eq!(self.code, code, "{self:#?}");
        self
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }
}

/// A project directory (`<root>/jetbase/migrations`) and the database URL its commands get.
pub struct Project {
    pub root: tempfile::TempDir,
    pub url: String,
}

impl Project {
    /// A project after `jetbase init`.
    pub fn new(url: &str) -> Self {
        let project = Self::empty(url);
        project.run(&["init"]).ok();
        project
    }

    /// A directory without a project.
    pub fn empty(url: &str) -> Self {
        Self {
            root: tempfile::tempdir().unwrap(),
            url: url.to_owned(),
        }
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    pub fn migrations(&self) -> PathBuf {
        self.root().join("jetbase/migrations")
    }

    pub fn write(&self, name: &str, body: &str) {
        std::fs::write(self.migrations().join(name), body).unwrap();
    }

    /// Runs `jetbase args` in the project root, the URL in JETBASE_DATABASE_URL.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_in(self.root(), args, &[("JETBASE_DATABASE_URL", &self.url)])
    }

    /// Runs `jetbase args` in `dir` with only `env` (and PATH) as configuration.
    pub fn run_in(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_jetbase"));
        command.args(args).current_dir(dir);
        for (name, _) in std::env::vars() {
            let colour = ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"].contains(&name.as_str());
            let logs = name == "RUST_LOG";
            if name.starts_with("JETBASE_") || name == "DATABASE_URL" || colour || logs {
                command.env_remove(name);
            }
        }
        command.envs(env.iter().copied());
        let output = command.output().unwrap();
        let run = Run {
            code: output.status.code().expect("an exit code, not a signal"),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        };
        // Whatever happened, the password of the URL never shows.
        if let Some(password) = password_of(&self.url) {
            assert!(
                !run.stdout.contains(password) && !run.stderr.contains(password),
                "the password was printed: {run:#?}"
            );
        }
        run
    }
}

/// The URL the CLI gets for a test database. SQLite paths follow SQLAlchemy in the CLI, so an
/// absolute path takes four slashes.
pub fn cli_url<P>(db: &TestDb<P>) -> String {
    match &db.sqlite_path {
        Some(path) => format!("sqlite:///{}", path.display()),
        None => db.url.clone(),
    }
}

pub fn password_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let credentials = rest[..rest.find('/').unwrap_or(rest.len())]
        .rsplit_once('@')?
        .0;
    credentials
        .split_once(':')
        .map(|(_, p)| p)
        .filter(|p| !p.is_empty())
}
