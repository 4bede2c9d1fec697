//! `jetbase init --write-build`: in a Rust crate, the two lines `init` otherwise prints, written:
//! jetbase in `[build-dependencies]` (the `[dependencies]` entry's source, without default
//! features: the build script needs only `jetbase::build`) and
//! `jetbase::build::rerun_if_migrations_change();` in the build script's `main`.

use std::path::{Path, PathBuf};

use crate::error::CliError;

/// The line the build script gets.
const BUILD_LINE: &str = "jetbase::build::rerun_if_migrations_change();";

/// What was written, one line each, for the user.
pub fn write(crate_root: &Path) -> Result<Vec<String>, CliError> {
    let manifest_path = crate_root.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest_path).map_err(|error| {
        CliError::run(format!("cannot read {}", manifest_path.display())).caused_by(error)
    })?;
    let mut manifest: toml_edit::DocumentMut = text.parse().map_err(|error| {
        CliError::usage(format!("{} is not valid TOML", manifest_path.display())).caused_by(error)
    })?;
    let mut done = Vec::new();
    if add_build_dependency(&mut manifest)? {
        crate::files::replace(&manifest_path, manifest.to_string().as_bytes()).map_err(
            |error| {
                CliError::run(format!("cannot write {}", manifest_path.display())).caused_by(error)
            },
        )?;
        done.push("Cargo.toml: jetbase added to [build-dependencies]".to_owned());
    }
    let script = build_script(&manifest, crate_root)?;
    if let Some(change) = add_build_line(&script)? {
        done.push(change);
    }
    Ok(done)
}

/// Copies `[dependencies].jetbase` into `[build-dependencies]` without default features; false
/// when it is there already.
fn add_build_dependency(manifest: &mut toml_edit::DocumentMut) -> Result<bool, CliError> {
    if manifest
        .get("build-dependencies")
        .and_then(|table| table.get("jetbase"))
        .is_some()
    {
        return Ok(false);
    }
    let Some(dependency) = manifest
        .get("dependencies")
        .and_then(|table| table.get("jetbase"))
    else {
        return Err(CliError::usage(
            "Cargo.toml has no jetbase in [dependencies]: add it first (`cargo add jetbase \
             --features sqlite`, or postgres/mysql, with --path or --git as you install it), then \
             `jetbase init --write-build` copies it into [build-dependencies]",
        ));
    };
    // Where the dependency comes from; its features stay where they are.
    const SOURCE_KEYS: [&str; 8] = [
        "version",
        "path",
        "git",
        "branch",
        "tag",
        "rev",
        "registry",
        "workspace",
    ];
    let mut entry = toml_edit::InlineTable::new();
    match (dependency.as_value(), dependency.as_table_like()) {
        (Some(toml_edit::Value::String(version)), _) => {
            entry.insert("version", version.value().as_str().into());
        }
        (_, Some(table)) => {
            for key in SOURCE_KEYS {
                if let Some(value) = table.get(key).and_then(toml_edit::Item::as_value) {
                    entry.insert(key, value.clone());
                }
            }
        }
        _ => {
            return Err(CliError::usage(
                "[dependencies].jetbase in Cargo.toml is neither a version nor a table",
            ));
        }
    }
    if !entry.contains_key("workspace") {
        entry.insert("default-features", false.into());
    }
    let build = manifest
        .entry("build-dependencies")
        .or_insert(toml_edit::table())
        .as_table_like_mut()
        .ok_or_else(|| CliError::usage("[build-dependencies] in Cargo.toml is not a table"))?;
    build.insert("jetbase", toml_edit::value(entry));
    Ok(true)
}

/// The build script: `package.build` when it names one, else `build.rs`.
fn build_script(manifest: &toml_edit::DocumentMut, crate_root: &Path) -> Result<PathBuf, CliError> {
    match manifest
        .get("package")
        .and_then(|package| package.get("build"))
    {
        Some(item) => match item.as_str() {
            Some(path) => Ok(crate_root.join(path)),
            None => Err(CliError::usage(
                "Cargo.toml's package.build is not a path (`build = false` turns the build \
                 script off: remove it to let jetbase add one)",
            )),
        },
        None => Ok(crate_root.join("build.rs")),
    }
}

/// Writes the build script, or adds the line at the top of its `main`; `None` when the line is
/// there already.
fn add_build_line(script: &Path) -> Result<Option<String>, CliError> {
    let shown = script.file_name().map_or_else(
        || script.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    let existing = match std::fs::read_to_string(script) {
        Ok(text) => Some(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => {
            return Err(CliError::run(format!("cannot read {}", script.display())).caused_by(error));
        }
    };
    let (text, change) = match existing {
        None => (
            format!("fn main() {{\n    {BUILD_LINE}\n}}\n"),
            format!("{shown}: written, calling {BUILD_LINE}"),
        ),
        Some(text) if text.contains("rerun_if_migrations_change") => return Ok(None),
        Some(text) => {
            let Some(at) = text.find("fn main() {") else {
                return Err(CliError::usage(format!(
                    "{shown} has no `fn main() {{` to add the line to: add `{BUILD_LINE}` to its \
                     main yourself"
                )));
            };
            let insert_at = at + "fn main() {".len();
            let mut changed = text.clone();
            changed.insert_str(insert_at, &format!("\n    {BUILD_LINE}"));
            (
                changed,
                format!("{shown}: {BUILD_LINE} added at the top of main"),
            )
        }
    };
    crate::files::replace(script, text.as_bytes()).map_err(|error| {
        CliError::run(format!("cannot write {}", script.display())).caused_by(error)
    })?;
    Ok(Some(change))
}
