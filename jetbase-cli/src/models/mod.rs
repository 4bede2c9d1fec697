//! Finding a project's models without compiling or running it: the `#[derive(Model)]` structs
//! of `.rs` files parsed with syn, read by the same function as the derive
//! (`jetbase_core::schema::table_from_struct`); or, in a Python Jetbase project, the `.py`
//! files of SQLAlchemy models, read by the project's Python (`sqlalchemy`).

use std::path::{Path, PathBuf};

use jetbase::schema::Table;
use jetbase_core::schema::table_from_struct;
use syn::punctuated::Punctuated;
use syn::{Item, Token};

use crate::error::CliError;

pub mod sqlalchemy;

/// Directories searched by default, wherever they sit under the project root.
const MODEL_DIRECTORIES: [&str; 2] = ["models", "model"];
/// Files searched by default, wherever they sit under the project root.
const MODEL_FILES: [&str; 1] = ["models.rs"];
/// Python's: Python Jetbase's auto-discovery (`models/`, `model/`), and `models.py`.
const PYTHON_MODEL_FILES: [&str; 1] = ["models.py"];
/// Directories never searched: build output, virtual environments, caches.
const SKIPPED_DIRECTORIES: [&str; 6] = [
    "target",
    "venv",
    "site-packages",
    "node_modules",
    "__pycache__",
    "env",
];

/// The models found, and where they were looked for.
#[derive(Debug)]
pub struct Found {
    pub tables: Vec<Table>,
    /// Which files were read.
    pub files: Vec<PathBuf>,
    /// Where the search went, for messages.
    pub searched: String,
}

/// Reads the models: from `configured` paths (files or directories, relative to `root`), else
/// from every `models/` or `model/` directory and `models.rs` file under `root`, skipping
/// `target/` and hidden directories.
///
/// # Errors
///
/// A usage error (exit 2) naming each file, line and column with a problem: a configured path
/// that does not exist, a file that is not UTF-8 or not Rust, a malformed attribute.
pub fn discover(
    root: &Path,
    configured: Option<&(Vec<String>, String)>,
    shown: impl Fn(&Path) -> String,
) -> Result<Found, CliError> {
    let mut files = Vec::new();
    let searched = match configured {
        Some((paths, origin)) => {
            files = configured_files(root, paths, origin, "rs", &shown)?;
            format!("{} (from {origin})", paths.join(", "))
        }
        None => {
            walk(root, "rs", &mut files, &|relative| {
                in_model_place(relative, &MODEL_FILES)
            });
            format!(
                "models/, model/ and models.rs under {}",
                shown(root).trim_end_matches('/')
            )
        }
    };
    files.sort();
    let mut tables = Vec::new();
    let mut problems = Vec::new();
    for file in &files {
        read_models(file, &shown(file), &mut tables, &mut problems);
    }
    if !problems.is_empty() {
        let count = problems.len();
        let mut error = CliError::usage(format!(
            "{count} problem{} in the models; correct {} and run make-migrations again",
            if count == 1 { "" } else { "s" },
            if count == 1 { "it" } else { "them" }
        ));
        for problem in problems {
            error = error.caused_by(problem);
        }
        return Err(error);
    }
    Ok(Found {
        tables,
        files,
        searched,
    })
}

/// Whether a file sits in a `models/` or `model/` directory, or is one of `model_files`.
fn in_model_place(relative: &Path, model_files: &[&str]) -> bool {
    let in_model_directory = relative.parent().is_some_and(|parent| {
        parent.components().any(|part| {
            MODEL_DIRECTORIES
                .iter()
                .any(|name| part.as_os_str() == *name)
        })
    });
    let model_file = relative
        .file_name()
        .is_some_and(|name| model_files.iter().any(|model| name == *model));
    in_model_directory || model_file
}

/// The Python files that hold SQLAlchemy models, if this project's models are Python's: the
/// configured paths when they name `.py` files (or directories holding some), else the
/// `models/` and `model/` directories' and the `models.py` files under `root`. `None` when there
/// are none, or the configured paths name Rust files.
///
/// # Errors
///
/// A usage error (exit 2) for a configured path that does not exist, as [`discover`] says it.
pub fn python_files(
    root: &Path,
    configured: Option<&(Vec<String>, String)>,
    shown: impl Fn(&Path) -> String,
) -> Result<Option<(Vec<PathBuf>, String)>, CliError> {
    let mut files = Vec::new();
    let searched = match configured {
        Some((paths, origin)) => {
            files = configured_files(root, paths, origin, "py", &shown)?;
            files.retain(|file| file.extension().is_some_and(|extension| extension == "py"));
            format!("{} (from {origin})", paths.join(", "))
        }
        None => {
            walk(root, "py", &mut files, &|relative| {
                in_model_place(relative, &PYTHON_MODEL_FILES)
            });
            "models/, model/ and models.py".to_owned()
        }
    };
    files.sort();
    Ok((!files.is_empty()).then_some((files, searched)))
}

/// The files configured model `paths` (relative to `root`) name: each file as it is, and each
/// directory's files ending in `.extension`.
///
/// # Errors
///
/// A usage error naming the first path that does not exist and the `origin` that named it.
fn configured_files(
    root: &Path,
    paths: &[String],
    origin: &str,
    extension: &str,
    shown: &dyn Fn(&Path) -> String,
) -> Result<Vec<PathBuf>, CliError> {
    let mut files = Vec::new();
    for path in paths {
        let full = root.join(path);
        if full.is_dir() {
            walk(&full, extension, &mut files, &|_| true);
        } else if full.is_file() {
            files.push(full);
        } else {
            return Err(CliError::usage(format!(
                "{origin} names {path}, which does not exist (paths are relative to {})",
                shown(root)
            )));
        }
    }
    Ok(files)
}

/// Collects the files ending in `.extension` under `directory` whose path relative to
/// `directory` passes `wanted`, skipping hidden directories, build output and virtual
/// environments.
fn walk(
    directory: &Path,
    extension: &str,
    files: &mut Vec<PathBuf>,
    wanted: &dyn Fn(&Path) -> bool,
) {
    fn visit(
        base: &Path,
        directory: &Path,
        extension: &str,
        files: &mut Vec<PathBuf>,
        wanted: &dyn Fn(&Path) -> bool,
    ) {
        let Ok(entries) = std::fs::read_dir(directory) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() {
                if !name.starts_with('.') && !SKIPPED_DIRECTORIES.contains(&name.as_ref()) {
                    visit(base, &path, extension, files, wanted);
                }
            } else if path.extension().is_some_and(|found| found == extension)
                && wanted(path.strip_prefix(base).unwrap_or(&path))
            {
                files.push(path);
            }
        }
    }
    visit(directory, directory, extension, files, wanted);
}

/// Adds the tables of the models in `file`; its problems go to `problems` as `file:line:column:
/// message`.
fn read_models(file: &Path, shown: &str, tables: &mut Vec<Table>, problems: &mut Vec<String>) {
    let source = match std::fs::read(file) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(source) => source,
            Err(_) => {
                problems.push(format!("{shown}: not UTF-8, so not a Rust file"));
                return;
            }
        },
        Err(error) => {
            problems.push(format!("{shown}: cannot be read: {error}"));
            return;
        }
    };
    let parsed = match syn::parse_file(&source) {
        Ok(parsed) => parsed,
        Err(error) => {
            problems.push(located(shown, &error));
            return;
        }
    };
    read_items(&parsed.items, shown, tables, problems);
}

fn read_items(items: &[Item], shown: &str, tables: &mut Vec<Table>, problems: &mut Vec<String>) {
    for item in items {
        match item {
            Item::Struct(item) if derives_model(&item.attrs) => {
                match table_from_struct(&item.attrs, &item.ident, &item.fields) {
                    Ok(table) => tables.push(table),
                    Err(errors) => problems.extend(errors.into_iter().map(|e| located(shown, &e))),
                }
            }
            Item::Mod(module) => {
                if let Some((_, items)) = &module.content {
                    read_items(items, shown, tables, problems);
                }
            }
            _ => {}
        }
    }
}

/// Whether `#[derive(...)]` lists `Model` (as `Model`, `jetbase::Model` or any path ending so).
fn derives_model(attributes: &[syn::Attribute]) -> bool {
    attributes
        .iter()
        .filter(|attribute| attribute.path().is_ident("derive"))
        .filter_map(|attribute| {
            attribute
                .parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
                .ok()
        })
        .flatten()
        .any(|path| {
            path.segments
                .last()
                .is_some_and(|last| last.ident == "Model")
        })
}

fn located(shown: &str, error: &syn::Error) -> String {
    let start = error.span().start();
    let mut message = error.to_string();
    if message == "cannot parse string into token stream" {
        // proc-macro2's lexer error: say what it usually means.
        message = "not valid Rust: unbalanced brackets or an unterminated string or comment".into();
    }
    format!("{shown}:{}:{}: {message}", start.line, start.column + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    const MODEL: &str = "#[derive(Debug, jetbase::Model)]\nstruct A { id: i64 }\n";

    fn shown(path: &Path) -> String {
        path.display().to_string()
    }

    #[test]
    fn the_default_places_are_searched_and_nothing_else() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        write(root, "models/a.rs", MODEL);
        write(root, "src/model/b.rs", &MODEL.replace("A", "B"));
        write(root, "crates/x/src/models.rs", &MODEL.replace("A", "C"));
        write(
            root,
            "src/models/deep/d.rs",
            "mod inner { #[derive(Model)] struct D { id: i64 } }",
        );
        write(root, "src/lib.rs", &MODEL.replace("A", "Ignored"));
        write(root, "target/models/e.rs", &MODEL.replace("A", "Ignored2"));
        write(root, ".hidden/models/f.rs", &MODEL.replace("A", "Ignored3"));
        write(root, "models/notes.txt", "not rust");
        write(root, "models/plain.rs", "struct NotAModel { id: i64 }");
        write(
            root,
            "venv/lib/models/g.rs",
            &MODEL.replace("A", "Ignored4"),
        );
        let found = discover(root, None, |p| p.display().to_string()).unwrap();
        let mut names: Vec<&str> = found.tables.iter().map(|t| t.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["a", "b", "c", "d"]);
    }

    #[test]
    fn python_models_are_found_where_python_jetbase_looks() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        assert!(python_files(root, None, shown).unwrap().is_none());
        write(root, "models/__init__.py", "");
        write(root, "models/user.py", "class User: pass");
        write(root, "app/models.py", "");
        write(root, "app/views.py", "");
        write(root, ".venv/lib/models/x.py", "");
        write(root, "venv/lib/models/y.py", "");
        write(root, "models/__pycache__/user.py", "");
        let (files, _) = python_files(root, None, shown).unwrap().unwrap();
        let relative: Vec<String> = files
            .iter()
            .map(|f| f.strip_prefix(root).unwrap().display().to_string())
            .collect();
        assert_eq!(
            relative,
            ["app/models.py", "models/__init__.py", "models/user.py"]
        );
        let configured = (
            vec!["./models/user.py".to_owned()],
            "JETBASE_MODELS".to_owned(),
        );
        let (files, searched) = python_files(root, Some(&configured), shown)
            .unwrap()
            .unwrap();
        assert_eq!(files.len(), 1);
        assert!(searched.contains("JETBASE_MODELS"));
        write(root, "src/models/user.rs", MODEL);
        let rust = (vec!["src/models".to_owned()], "model_paths".to_owned());
        assert!(python_files(root, Some(&rust), shown).unwrap().is_none());
        // A configured path that does not exist is an error, never skipped: the same one the
        // Rust side gives.
        let one_missing = (
            vec!["./models/user.py".to_owned(), "./models/gone".to_owned()],
            "JETBASE_MODELS".to_owned(),
        );
        let error = python_files(root, Some(&one_missing), shown).unwrap_err();
        assert!(
            error
                .message
                .contains("JETBASE_MODELS names ./models/gone, which does not exist"),
            "{}",
            error.message
        );
        let rust_error = discover(root, Some(&one_missing), shown).unwrap_err();
        assert_eq!(rust_error.message, error.message);
    }

    #[test]
    fn configured_paths_replace_the_default() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        write(root, "models/a.rs", MODEL);
        write(root, "schema/tables.rs", &MODEL.replace("A", "T"));
        write(root, "one.rs", &MODEL.replace("A", "One"));
        let configured = (
            vec!["schema".to_owned(), "one.rs".to_owned()],
            "JETBASE_MODELS".to_owned(),
        );
        let found = discover(root, Some(&configured), |p| p.display().to_string()).unwrap();
        let names: Vec<&str> = found.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["one", "t"]);
        let missing = (
            vec!["nope".to_owned()],
            "`model_paths` in jetbase.toml".to_owned(),
        );
        let error = discover(root, Some(&missing), |p| p.display().to_string()).unwrap_err();
        assert!(
            error
                .message
                .contains("`model_paths` in jetbase.toml names nope, which does not exist")
        );
    }

    #[test]
    fn problems_name_file_line_and_column() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        write(
            root,
            "models/a.rs",
            "#[derive(jetbase::Model)]\nstruct A {\n    #[jetbase(primary)]\n    id: i64,\n}\n",
        );
        write(root, "models/b.rs", "struct 1 {}");
        write(root, "models/unbalanced.rs", "struct A {");
        std::fs::write(root.join("models/c.rs"), b"\xff\xfe").unwrap();
        let error = discover(root, None, |p| {
            p.strip_prefix(root).unwrap().display().to_string()
        })
        .unwrap_err();
        let text = format!("{}\n{}", error.message, error.causes.join("\n"));
        assert!(text.contains("4 problems in the models"), "{text}");
        assert!(
            text.contains("models/unbalanced.rs:1:10: not valid Rust"),
            "{text}"
        );
        assert!(
            text.contains("models/a.rs:3:15: unknown jetbase attribute on a field"),
            "{text}"
        );
        assert!(
            text.contains("models/b.rs:1:8: expected identifier"),
            "{text}"
        );
        assert!(text.contains("models/c.rs: not UTF-8"), "{text}");
    }
}
