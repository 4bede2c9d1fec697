//! Finding the project: the `jetbase/` directory that holds `migrations/` (and `jetbase.toml`,
//! `env.py`), found from `--dir` or from the working directory upwards, as Python Jetbase does.

use std::path::{Path, PathBuf};

use crate::error::CliError;

/// The project a command works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The `jetbase/` directory (holds `jetbase.toml`, `env.py` and `migrations/`).
    pub jetbase_dir: PathBuf,
    /// The directory above it (holds `.env`).
    pub root: PathBuf,
}

impl Project {
    /// The project of `jetbase_dir`.
    pub fn at(jetbase_dir: PathBuf) -> Self {
        let root = jetbase_dir
            .parent()
            .map_or_else(|| jetbase_dir.clone(), Path::to_path_buf);
        Self { jetbase_dir, root }
    }

    /// The migrations directory.
    pub fn migrations_dir(&self) -> PathBuf {
        self.jetbase_dir.join("migrations")
    }

    /// The project of `--dir`, or the first directory from `cwd` upwards that is a `jetbase/`
    /// directory holding `migrations/` or holds one.
    pub fn find(dir: Option<&Path>, cwd: &Path) -> Result<Self, CliError> {
        if let Some(dir) = dir {
            let dir = absolute(cwd, dir);
            if !dir.join("migrations").is_dir() {
                return Err(CliError::usage(format!(
                    "--dir {}: no migrations/ directory there; pass the jetbase/ directory \
                     (run `jetbase init` to create one)",
                    dir.display()
                )));
            }
            return Ok(Self::at(dir));
        }
        for directory in cwd.ancestors() {
            if directory.file_name().is_some_and(|name| name == "jetbase")
                && directory.join("migrations").is_dir()
            {
                return Ok(Self::at(directory.to_path_buf()));
            }
            let below = directory.join("jetbase");
            if below.join("migrations").is_dir() {
                return Ok(Self::at(below));
            }
        }
        Err(CliError::usage(format!(
            "no jetbase/ directory with migrations/ in {} or above it; run `jetbase init` in \
             the project root, or pass --dir",
            cwd.display()
        )))
    }
}

/// The directory `path` names, made absolute against `base`.
pub fn absolute(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        base.join(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_from_below_from_inside_and_by_flag() {
        let root = tempfile::tempdir().unwrap();
        let jetbase = root.path().join("jetbase");
        std::fs::create_dir_all(jetbase.join("migrations/sub")).unwrap();
        std::fs::create_dir_all(root.path().join("src/deep")).unwrap();
        let expected = Project::at(jetbase.clone());
        assert_eq!(Project::find(None, root.path()).unwrap(), expected);
        assert_eq!(
            Project::find(None, &root.path().join("src/deep")).unwrap(),
            expected
        );
        assert_eq!(Project::find(None, &jetbase).unwrap(), expected);
        assert_eq!(
            Project::find(None, &jetbase.join("migrations/sub")).unwrap(),
            expected
        );
        assert_eq!(expected.root, root.path());
        assert_eq!(
            Project::find(Some(Path::new("jetbase")), root.path()).unwrap(),
            expected
        );
        let error = Project::find(Some(Path::new("src")), root.path()).unwrap_err();
        assert!(
            error.message.contains("no migrations/"),
            "{}",
            error.message
        );
    }

    #[test]
    fn missing_project_says_what_to_do() {
        let empty = tempfile::tempdir().unwrap();
        let error = Project::find(None, empty.path()).unwrap_err();
        assert!(error.message.contains("jetbase init"), "{}", error.message);
    }
}
