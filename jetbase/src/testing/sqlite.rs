//! Test databases on SQLite: the template a file built once under a lock file, each test's
//! database a copy of it, in the system's temporary directory.

use std::fs::File;
use std::future::Future;
use std::path::Path;

use super::names::Names;
use super::{Place, TestDatabase};
use crate::Error;
use crate::backend::remove_sqlite_files;

/// Makes a test database file, building the template first with `build` (given the URL of an
/// empty file) when it is not there yet.
pub(super) async fn create<B, F>(names: &Names, build: B) -> Result<TestDatabase, Error>
where
    B: Fn(String) -> F,
    F: Future<Output = Result<(), Error>>,
{
    let directory = std::env::temp_dir().join("jetbase-test");
    std::fs::create_dir_all(&directory).map_err(|error| io("creating", &directory, error))?;
    let template = directory.join(format!("{}.db", names.template));
    let path = directory.join(format!("{}.db", names.next_test_database()));
    // A template deleted between the look and the copy (a build for edited migrations, in
    // another test process) is built again, once.
    for attempt in 0..2 {
        if !template.exists() {
            build_template(&directory, &template, names, &build).await?;
        }
        match std::fs::copy(&template, &path) {
            Ok(_) => break,
            Err(error) if attempt == 0 && error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(io("copying the template to", &path, error)),
        }
    }
    Ok(TestDatabase {
        url: url_of(&path),
        name: path.display().to_string(),
        place: Place::File(path),
    })
}

/// Builds the template under the owner's lock file: into another file, renamed once complete,
/// so that a template file that exists is a complete one. The owner's older templates are
/// deleted with the build.
async fn build_template<B, F>(
    directory: &Path,
    template: &Path,
    names: &Names,
    build: &B,
) -> Result<(), Error>
where
    B: Fn(String) -> F,
    F: Future<Output = Result<(), Error>>,
{
    let lock_path = directory.join(format!("{}.lock", names.owner_prefix()));
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|error| io("opening", &lock_path, error))?;
    // Test threads of this process and other test binaries wait here while one builds (on
    // a thread of their own: the runtime may have only this one).
    let lock = tokio::task::spawn_blocking(move || lock.lock().map(|()| lock))
        .await
        .map_err(|error| Error::InvalidSetting {
            setting: "test database".to_owned(),
            message: format!("waiting for the template's lock file: {error}"),
        })?
        .map_err(|error| io("locking", &lock_path, error))?;
    let built = async {
        if template.exists() {
            return Ok(());
        }
        let building = directory.join(format!("{}.db", names.building));
        remove_sqlite_files(&building);
        // An empty database is an empty file (`migrations = false` writes nothing to it).
        File::create(&building).map_err(|error| io("creating", &building, error))?;
        build(url_of(&building)).await?;
        std::fs::rename(&building, template)
            .map_err(|error| io("completing the template", template, error))?;
        drop_older_templates(directory, names, template);
        Ok(())
    }
    .await;
    let _ = lock.unlock();
    built
}

/// Deletes the owner's templates of migrations that changed since.
fn drop_older_templates(directory: &Path, names: &Names, template: &Path) {
    let prefix = names.owner_prefix();
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && name.ends_with(".db") && path != template {
            remove_sqlite_files(&path);
        }
    }
}

fn url_of(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

fn io(action: &str, path: &Path, error: std::io::Error) -> Error {
    Error::InvalidSetting {
        setting: "test database".to_owned(),
        message: format!("{action} `{}`: {error}", path.display()),
    }
}
