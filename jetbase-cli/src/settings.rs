//! Flags, environment, `.env`, `jetbase/jetbase.toml` and `jetbase/env.py` resolved into
//! [`Settings`]: the one place that decides configuration (the README's "Configuration").
//!
//! Precedence, first found wins: the command line; the process environment (`JETBASE_<KEY>`);
//! the `.env` file in the project root (`JETBASE_<KEY>`); `jetbase/jetbase.toml`;
//! `jetbase/env.py` (plain `name = "literal"` assignments); and, for the database URL only,
//! `DATABASE_URL` from the environment, then from `.env`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use crate::cli::GlobalArgs;
use crate::error::CliError;
use crate::project::Project;

mod env_py;

/// Default seconds to wait for the database when connecting.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One configuration key: its names in `jetbase.toml` (and `env.py`) and in the environment.
struct Key {
    file_names: &'static [&'static str],
    env_names: &'static [&'static str],
}

const DATABASE_URL: Key = Key {
    file_names: &["database_url", "sqlalchemy_url"],
    env_names: &["JETBASE_DATABASE_URL", "JETBASE_SQLALCHEMY_URL"],
};
const POSTGRES_SCHEMA: Key = Key {
    file_names: &["postgres_schema"],
    env_names: &["JETBASE_POSTGRES_SCHEMA"],
};
const HISTORY_TABLE: Key = Key {
    file_names: &["history_table"],
    env_names: &["JETBASE_HISTORY_TABLE"],
};
const LOCK_TABLE: Key = Key {
    file_names: &["lock_table"],
    env_names: &["JETBASE_LOCK_TABLE"],
};
const MODEL_PATHS: Key = Key {
    file_names: &["model_paths"],
    env_names: &["JETBASE_MODELS"],
};
const SKIP_VALIDATION: Key = Key {
    file_names: &["skip_validation"],
    env_names: &["JETBASE_SKIP_VALIDATION"],
};
const SKIP_CHECKSUM_VALIDATION: Key = Key {
    file_names: &["skip_checksum_validation"],
    env_names: &["JETBASE_SKIP_CHECKSUM_VALIDATION"],
};
const SKIP_FILE_VALIDATION: Key = Key {
    file_names: &["skip_file_validation"],
    env_names: &["JETBASE_SKIP_FILE_VALIDATION"],
};
const OUT_OF_ORDER: Key = Key {
    file_names: &["out_of_order"],
    env_names: &["JETBASE_OUT_OF_ORDER"],
};
const LOCK_TIMEOUT: Key = Key {
    file_names: &["lock_timeout"],
    env_names: &["JETBASE_LOCK_TIMEOUT"],
};
const TABLE_LOCK_TIMEOUT: Key = Key {
    file_names: &["table_lock_timeout"],
    env_names: &["JETBASE_TABLE_LOCK_TIMEOUT"],
};

const STATEMENT_TIMEOUT: Key = Key {
    file_names: &["statement_timeout"],
    env_names: &["JETBASE_STATEMENT_TIMEOUT"],
};

const SCHEMAS: Key = Key {
    file_names: &["schemas"],
    env_names: &["JETBASE_SCHEMAS"],
};

const SCHEMAS_LIKE: Key = Key {
    file_names: &["schemas_like"],
    env_names: &["JETBASE_SCHEMAS_LIKE"],
};

const DATABASE_URLS_FILE: Key = Key {
    file_names: &["database_urls_file"],
    env_names: &["JETBASE_DATABASE_URLS_FILE"],
};

const PARALLEL: Key = Key {
    file_names: &["parallel"],
    env_names: &["JETBASE_PARALLEL"],
};

const WAIT_INTERVAL: Key = Key {
    file_names: &["wait_interval"],
    env_names: &["JETBASE_WAIT_INTERVAL"],
};

const LINT: Key = Key {
    file_names: &["lint"],
    env_names: &["JETBASE_LINT"],
};

const RETRIES: Key = Key {
    file_names: &["retries"],
    env_names: &["JETBASE_RETRIES"],
};

const CONNECT_TIMEOUT: Key = Key {
    file_names: &["connect_timeout"],
    env_names: &["JETBASE_CONNECT_TIMEOUT"],
};
const SNOWFLAKE_PRIVATE_KEY: Key = Key {
    file_names: &["snowflake_private_key"],
    env_names: &["JETBASE_SNOWFLAKE_PRIVATE_KEY"],
};
const SNOWFLAKE_PRIVATE_KEY_PASSWORD: Key = Key {
    file_names: &["snowflake_private_key_password"],
    env_names: &["JETBASE_SNOWFLAKE_PRIVATE_KEY_PASSWORD"],
};
const LOCK_LEASE: Key = Key {
    file_names: &["lock_lease"],
    env_names: &["JETBASE_LOCK_LEASE"],
};
const PYTHON: Key = Key {
    file_names: &["python"],
    env_names: &["JETBASE_PYTHON"],
};
const POOLER: Key = Key {
    file_names: &["pooler"],
    env_names: &["JETBASE_POOLER"],
};
const LOCK_RENEW: Key = Key {
    file_names: &["lock_renew"],
    env_names: &["JETBASE_LOCK_RENEW"],
};

const ON_NEWER_DATABASE: Key = Key {
    file_names: &["on_newer_database"],
    env_names: &["JETBASE_ON_NEWER_DATABASE"],
};

/// `[placeholders]`: a table of `${name}` values. Its names in the environment are
/// `JETBASE_PLACEHOLDER_<NAME>`, one variable each (see [`Sources::placeholders`]).
const PLACEHOLDERS: Key = Key {
    file_names: &["placeholders"],
    env_names: &[],
};

/// The prefix of a placeholder's variable: `JETBASE_PLACEHOLDER_PREFIX=shop` is `${prefix}`.
const PLACEHOLDER_VARIABLE: &str = "JETBASE_PLACEHOLDER_";

/// Python Jetbase's `ASYNC`: accepted, no effect (the Rust side is always async inside).
const ASYNC: Key = Key {
    file_names: &["async"],
    env_names: &["JETBASE_ASYNC"],
};

const KEYS: &[&Key] = &[
    &ASYNC,
    &DATABASE_URL,
    &POSTGRES_SCHEMA,
    &HISTORY_TABLE,
    &LOCK_TABLE,
    &MODEL_PATHS,
    &SKIP_VALIDATION,
    &SKIP_CHECKSUM_VALIDATION,
    &SKIP_FILE_VALIDATION,
    &OUT_OF_ORDER,
    &LOCK_TIMEOUT,
    &TABLE_LOCK_TIMEOUT,
    &STATEMENT_TIMEOUT,
    &RETRIES,
    &LINT,
    &WAIT_INTERVAL,
    &CONNECT_TIMEOUT,
    &SNOWFLAKE_PRIVATE_KEY,
    &SNOWFLAKE_PRIVATE_KEY_PASSWORD,
    &LOCK_LEASE,
    &LOCK_RENEW,
    &POOLER,
    &PYTHON,
    &SCHEMAS,
    &SCHEMAS_LIKE,
    &DATABASE_URLS_FILE,
    &PARALLEL,
    &PLACEHOLDERS,
    &ON_NEWER_DATABASE,
];

/// A value as a source holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Bool(bool),
    Number(f64),
    List(Vec<String>),
    /// A table of strings (`[placeholders]`), by name.
    Table(BTreeMap<String, String>),
}

/// A value and where it came from ("JETBASE_DATABASE_URL", "jetbase/jetbase.toml", ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub value: Value,
    pub origin: String,
}

/// Every source of configuration, read once.
pub struct Sources {
    environment: HashMap<String, String>,
    dotenv: HashMap<String, String>,
    toml: HashMap<String, Value>,
    env_py: HashMap<String, Value>,
    /// `[tool.jetbase]` of the nearest `pyproject.toml` at or above the project root.
    pyproject: HashMap<String, Value>,
    /// That file as shown: `pyproject.toml` in the project root, its whole path above it.
    pyproject_shown: String,
    /// Things worth saying on stderr (an `env.py` value that is not a literal...).
    pub warnings: Vec<String>,
}

impl Sources {
    /// Reads `.env`, `jetbase.toml` and `env.py` of `project`, beside `environment`.
    pub fn read(project: &Project, environment: HashMap<String, String>) -> Result<Self, CliError> {
        let mut warnings = Vec::new();
        let (pyproject_shown, pyproject) = read_pyproject(&project.root)?;
        Ok(Self {
            dotenv: read_dotenv(&project.root.join(".env"))?,
            toml: read_toml(&project.jetbase_dir.join("jetbase.toml"))?,
            env_py: env_py::read(&project.jetbase_dir.join("env.py"), &mut warnings)?,
            pyproject,
            pyproject_shown,
            environment,
            warnings,
        })
    }

    fn find(&self, key: &Key) -> Option<Found> {
        for name in key.env_names {
            if let Some(value) = self.environment.get(*name).filter(|v| !v.is_empty()) {
                return Some(found(Value::Text(value.clone()), name));
            }
        }
        for name in key.env_names {
            if let Some(value) = self.dotenv.get(*name).filter(|v| !v.is_empty()) {
                return Some(found(
                    Value::Text(value.clone()),
                    &format!("{name} in .env"),
                ));
            }
        }
        for name in key.file_names {
            if let Some(value) = self.toml.get(*name) {
                return Some(found(value.clone(), &format!("`{name}` in jetbase.toml")));
            }
        }
        for name in key.file_names {
            if let Some(value) = self.env_py.get(*name) {
                return Some(found(value.clone(), &format!("`{name}` in env.py")));
            }
        }
        for name in key.file_names {
            if let Some(value) = self.pyproject.get(*name) {
                return Some(found(
                    value.clone(),
                    &format!("`{name}` in {} [tool.jetbase]", self.pyproject_shown),
                ));
            }
        }
        None
    }

    /// Every placeholder's value, by lower-cased name: each name from the first source that
    /// has it, in the order of every other key (`--placeholder`, then `JETBASE_PLACEHOLDER_<NAME>`
    /// in the environment, then in `.env`, then `[placeholders]` in jetbase.toml, then in
    /// `[tool.jetbase.placeholders]`). A name that is not a placeholder name is an error naming
    /// where it was set.
    fn placeholders(
        &self,
        flags: &[String],
    ) -> Result<BTreeMap<String, (String, String)>, CliError> {
        let mut placeholders: BTreeMap<String, (String, String)> = BTreeMap::new();
        let mut add = |name: &str, value: &str, origin: String| -> Result<(), CliError> {
            let mut one = jetbase::Placeholders::new();
            one.insert(name, value);
            one.check_names()
                .map_err(|invalid| CliError::usage(format!("{origin}: {invalid}")))?;
            placeholders
                .entry(name.to_ascii_lowercase())
                .or_insert_with(|| (value.to_owned(), origin));
            Ok(())
        };
        // The last of a repeated flag wins, as a later `with_placeholder` does.
        for flag in flags.iter().rev() {
            let Some((name, value)) = flag.split_once('=') else {
                return Err(CliError::usage(format!(
                    "--placeholder {flag:?}: expected NAME=VALUE"
                )));
            };
            add(name, value, format!("--placeholder {name}"))?;
        }
        for (variables, shown) in [(&self.environment, ""), (&self.dotenv, " in .env")] {
            let mut named: Vec<(&String, &String)> = variables
                .iter()
                .filter(|(variable, _)| variable.starts_with(PLACEHOLDER_VARIABLE))
                .collect();
            named.sort();
            for (variable, value) in named {
                let name = &variable[PLACEHOLDER_VARIABLE.len()..];
                add(name, value, format!("{variable}{shown}"))?;
            }
        }
        for (values, shown) in [
            (&self.toml, "jetbase.toml".to_owned()),
            (
                &self.pyproject,
                format!("{} [tool.jetbase]", self.pyproject_shown),
            ),
        ] {
            match values.get("placeholders") {
                None => {}
                Some(Value::Table(table)) => {
                    for (name, value) in table {
                        add(name, value, format!("`placeholders.{name}` in {shown}"))?;
                    }
                }
                Some(other) => {
                    return Err(CliError::usage(format!(
                        "`placeholders` in {shown} is {}: expected a table of strings \
                         ([placeholders] with name = \"value\" lines)",
                        kind_of(other)
                    )));
                }
            }
        }
        Ok(placeholders)
    }

    fn database_url_fallback(&self) -> Option<Found> {
        if let Some(value) = self
            .environment
            .get("DATABASE_URL")
            .filter(|v| !v.is_empty())
        {
            return Some(found(Value::Text(value.clone()), "DATABASE_URL"));
        }
        self.dotenv
            .get("DATABASE_URL")
            .filter(|v| !v.is_empty())
            .map(|value| found(Value::Text(value.clone()), "DATABASE_URL in .env"))
    }
}

fn found(value: Value, origin: &str) -> Found {
    Found {
        value,
        origin: origin.to_owned(),
    }
}

/// The resolved configuration of one command.
#[derive(Debug, Clone)]
pub struct Settings {
    pub project: Project,
    /// The database URL as configured, and where it came from.
    pub database_url: Option<(String, String)>,
    pub postgres_schema: Option<String>,
    /// The history and lock tables' names, where configured (`history_table`, `lock_table`):
    /// a migration set of its own in a shared database.
    pub history_table: Option<String>,
    pub lock_table: Option<String>,
    pub skip_validation: bool,
    pub skip_checksum_validation: bool,
    pub skip_file_validation: bool,
    pub out_of_order: bool,
    pub lock_timeout: Duration,
    /// Defaults for every migration's table-lock timeout, statement timeout and retries.
    pub limits: jetbase::RunLimits,
    /// What `upgrade` does with the lint's findings, when `--lint` does not say.
    pub lint: Option<crate::cli::LintMode>,
    /// How often `jetbase wait` checks, when `--interval` does not say.
    pub wait_interval: Duration,
    /// The fleet's targets and parallelism, when the flags do not say (`--schema`,
    /// `--schemas-like`, `--database-urls-file`, `--parallel`).
    pub fleet: FleetSettings,
    pub connect_timeout: Duration,
    /// Where the models are (files or directories), and where that came from.
    pub model_paths: Option<(Vec<String>, String)>,
    /// Snowflake key-pair login: the private key (PEM text) and its passphrase.
    pub snowflake_private_key: Option<String>,
    pub snowflake_private_key_password: Option<String>,
    /// The lock's lease where the database has no session locks (Snowflake).
    pub lock_lease: jetbase::LockLease,
    /// What stands between jetbase and the database (`pooler = "transaction"`: PgBouncer's
    /// transaction mode).
    pub pooler: jetbase::Pooler,
    /// What an upgrade does about versions a newer release applied, when configured.
    pub newer_database: Option<jetbase::NewerDatabase>,
    /// The `${name}` values, by lower-cased name, each with where it was set.
    pub placeholders: BTreeMap<String, (String, String)>,
    /// The Python that reads SQLAlchemy models, when configured (`python`, `JETBASE_PYTHON`),
    /// and where it was configured (said when it runs: a `pyproject.toml` above the project
    /// may name it).
    pub python: Option<(String, String)>,
}

impl Settings {
    /// The configured `${name}` values, as the library takes them.
    pub fn placeholder_values(&self) -> jetbase::Placeholders {
        let mut placeholders = jetbase::Placeholders::new();
        for (name, (value, _)) in &self.placeholders {
            placeholders.insert(name, value.clone());
        }
        placeholders
    }
}

/// The `schemas`, `schemas_like`, `database_urls_file` and `parallel` keys.
#[derive(Debug, Clone, Default)]
pub struct FleetSettings {
    pub schemas: Vec<String>,
    pub schemas_like: Option<String>,
    pub database_urls_file: Option<String>,
    pub parallel: Option<usize>,
}

impl Settings {
    /// Resolves every key from the flags and the sources.
    pub fn resolve(
        project: Project,
        flags: &GlobalArgs,
        sources: &Sources,
    ) -> Result<Self, CliError> {
        let database_url = match &flags.database_url {
            Some(url) => Some((url.clone(), "--database-url".to_owned())),
            None => sources
                .find(&DATABASE_URL)
                .or_else(|| sources.database_url_fallback())
                .map(|found| text(&found).map(|url| (url, found.origin)))
                .transpose()?,
        };
        let lock_timeout = match flags.lock_timeout {
            Some(seconds) => seconds_value(seconds, "--lock-timeout")?,
            None => optional_seconds(sources.find(&LOCK_TIMEOUT))?
                .unwrap_or(jetbase::DEFAULT_LOCK_TIMEOUT),
        };
        let connect_timeout = match flags.connect_timeout {
            Some(seconds) => seconds_value(seconds, "--connect-timeout")?,
            None => {
                optional_seconds(sources.find(&CONNECT_TIMEOUT))?.unwrap_or(DEFAULT_CONNECT_TIMEOUT)
            }
        };
        let model_paths = sources
            .find(&MODEL_PATHS)
            .map(|found| list(&found).map(|paths| (paths, found.origin)))
            .transpose()?;
        let lease_default = jetbase::LockLease::default();
        let lease_found = sources.find(&LOCK_LEASE);
        let renew_found = sources.find(&LOCK_RENEW);
        let origin = [&lease_found, &renew_found]
            .iter()
            .filter_map(|found| found.as_ref().map(|f| f.origin.clone()))
            .collect::<Vec<_>>()
            .join(" and ");
        let expires_after = optional_seconds(lease_found)?.unwrap_or(lease_default.expires_after());
        let renew_every = optional_seconds(renew_found)?.unwrap_or(lease_default.renew_every());
        let lock_lease = jetbase::LockLease::new(renew_every, expires_after)
            .map_err(|error| CliError::usage(format!("{origin}: {error}")))?;
        let optional_text = |key: &Key| sources.find(key).map(|found| text(&found)).transpose();
        let pooler = match sources.find(&POOLER) {
            Some(found) => text(&found)?
                .parse()
                .map_err(|error| CliError::usage(format!("{}: {error}", found.origin)))?,
            None => jetbase::Pooler::None,
        };
        Ok(Self {
            pooler,
            placeholders: sources.placeholders(&flags.placeholders)?,
            newer_database: match sources.find(&ON_NEWER_DATABASE) {
                Some(found) => Some(
                    text(&found)?
                        .parse()
                        .map_err(|error| CliError::usage(format!("{}: {error}", found.origin)))?,
                ),
                None => None,
            },
            python: sources
                .find(&PYTHON)
                .map(|found| text(&found).map(|python| (python, found.origin)))
                .transpose()?,
            snowflake_private_key: optional_text(&SNOWFLAKE_PRIVATE_KEY)?,
            snowflake_private_key_password: optional_text(&SNOWFLAKE_PRIVATE_KEY_PASSWORD)?,
            lock_lease,
            project,
            database_url,
            postgres_schema: sources
                .find(&POSTGRES_SCHEMA)
                .map(|found| text(&found))
                .transpose()?,
            history_table: optional_text(&HISTORY_TABLE)?,
            lock_table: optional_text(&LOCK_TABLE)?,
            skip_validation: flag(sources.find(&SKIP_VALIDATION))?,
            skip_checksum_validation: flag(sources.find(&SKIP_CHECKSUM_VALIDATION))?,
            skip_file_validation: flag(sources.find(&SKIP_FILE_VALIDATION))?,
            out_of_order: flag(sources.find(&OUT_OF_ORDER))?,
            lock_timeout,
            limits: jetbase::RunLimits {
                table_lock_timeout: optional_duration(sources.find(&TABLE_LOCK_TIMEOUT))?,
                statement_timeout: optional_duration(sources.find(&STATEMENT_TIMEOUT))?,
                retries: optional_retries(sources.find(&RETRIES))?,
            },
            lint: lint_mode(sources.find(&LINT))?,
            wait_interval: optional_seconds(sources.find(&WAIT_INTERVAL))?
                .unwrap_or(jetbase::DEFAULT_POLL_INTERVAL),
            fleet: FleetSettings {
                schemas: sources
                    .find(&SCHEMAS)
                    .map(|found| list(&found))
                    .transpose()?
                    .unwrap_or_default(),
                schemas_like: optional_text(&SCHEMAS_LIKE)?,
                database_urls_file: optional_text(&DATABASE_URLS_FILE)?,
                parallel: optional_parallel(sources.find(&PARALLEL))?,
            },
            connect_timeout,
            model_paths,
        })
    }
}

fn invalid(found: &Found, expected: &str) -> CliError {
    // A key's value is never shown, whatever its type; a URL's only with its secrets masked.
    let shown = if found.origin.to_ascii_lowercase().contains("private_key") {
        kind_of(&found.value).to_owned()
    } else {
        describe(&found.value)
    };
    CliError::usage(format!("{} is {shown}: expected {expected}", found.origin))
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Text(_) => "a string",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::List(_) => "a list",
        Value::Table(_) => "a table",
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Text(text) => format!("{:?}", jetbase::url::mask_secrets(text)),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::List(items) => format!(
            "{:?}",
            items
                .iter()
                .map(|item| jetbase::url::mask_secrets(item))
                .collect::<Vec<_>>()
        ),
        // Names only: a value may be a secret.
        Value::Table(table) => format!(
            "a table of {}",
            table.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
    }
}

fn text(found: &Found) -> Result<String, CliError> {
    match &found.value {
        Value::Text(text) => Ok(text.clone()),
        _ => Err(invalid(found, "a string")),
    }
}

fn list(found: &Found) -> Result<Vec<String>, CliError> {
    match &found.value {
        Value::Text(text) => Ok(text
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()),
        Value::List(items) => Ok(items.clone()),
        _ => Err(invalid(found, "a list of paths")),
    }
}

fn flag(found: Option<Found>) -> Result<bool, CliError> {
    let Some(found) = found else { return Ok(false) };
    match &found.value {
        Value::Bool(b) => Ok(*b),
        Value::Text(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" | "" => Ok(false),
            _ => Err(invalid(&found, "true or false")),
        },
        _ => Err(invalid(&found, "true or false")),
    }
}

fn optional_seconds(found: Option<Found>) -> Result<Option<Duration>, CliError> {
    let Some(found) = found else { return Ok(None) };
    let seconds = match &found.value {
        Value::Number(n) => Some(*n),
        Value::Text(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    match seconds {
        Some(seconds) => seconds_value(seconds, &found.origin).map(Some),
        None => Err(invalid(&found, "a number of seconds")),
    }
}

/// A duration as the directives write it (`5s`, `500ms`, `10min`; `0` for none), or a bare
/// number of seconds.
fn optional_duration(found: Option<Found>) -> Result<Option<Duration>, CliError> {
    let Some(found) = found else { return Ok(None) };
    match &found.value {
        Value::Number(seconds) => seconds_value(*seconds, &found.origin).map(Some),
        Value::Text(text) => match text.trim().parse::<f64>() {
            Ok(seconds) => seconds_value(seconds, &found.origin).map(Some),
            Err(_) => jetbase_core::parse_duration(text)
                .map(Some)
                .map_err(|problem| CliError::usage(format!("{}: {problem}", found.origin))),
        },
        _ => Err(invalid(&found, "a duration such as \"5s\" or \"10min\"")),
    }
}

fn lint_mode(found: Option<Found>) -> Result<Option<crate::cli::LintMode>, CliError> {
    let Some(found) = found else { return Ok(None) };
    let mode = match &found.value {
        Value::Text(text) => match text.trim().to_ascii_lowercase().as_str() {
            "off" => Some(crate::cli::LintMode::Off),
            "warn" => Some(crate::cli::LintMode::Warn),
            "deny" => Some(crate::cli::LintMode::Deny),
            _ => None,
        },
        _ => None,
    };
    mode.map(Some)
        .ok_or_else(|| invalid(&found, "\"off\", \"warn\" or \"deny\""))
}

fn optional_parallel(found: Option<Found>) -> Result<Option<usize>, CliError> {
    let Some(found) = found else { return Ok(None) };
    let count = match &found.value {
        Value::Number(n) if n.fract() == 0.0 && *n >= 1.0 => format!("{n}").parse::<usize>().ok(),
        Value::Text(text) => text.trim().parse::<usize>().ok().filter(|n| *n >= 1),
        _ => None,
    };
    count
        .map(Some)
        .ok_or_else(|| invalid(&found, "a number of targets at once, 1 or more"))
}

fn optional_retries(found: Option<Found>) -> Result<Option<u32>, CliError> {
    let Some(found) = found else { return Ok(None) };
    let count = match &found.value {
        Value::Number(n) if n.fract() == 0.0 && *n >= 0.0 => format!("{n}").parse::<u32>().ok(),
        Value::Text(text) => text.trim().parse::<u32>().ok(),
        _ => None,
    };
    match count {
        Some(count) if count <= jetbase_core::MAX_RETRIES => Ok(Some(count)),
        _ => Err(invalid(
            &found,
            &format!(
                "a number of retries from 0 to {}",
                jetbase_core::MAX_RETRIES
            ),
        )),
    }
}

pub fn seconds_value(seconds: f64, origin: &str) -> Result<Duration, CliError> {
    Duration::try_from_secs_f64(seconds).map_err(|_| {
        CliError::usage(format!(
            "{origin} is {seconds}: expected a number of seconds, 0 or more"
        ))
    })
}

fn read_dotenv(path: &Path) -> Result<HashMap<String, String>, CliError> {
    let iter = match dotenvy::from_path_iter(path) {
        Ok(iter) => iter,
        Err(dotenvy::Error::Io(error)) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(HashMap::new());
        }
        Err(error) => {
            return Err(CliError::usage(format!("cannot read {}", path.display())).caused_by(error));
        }
    };
    iter.collect::<Result<HashMap<_, _>, _>>().map_err(|error| {
        let problem = CliError::usage(format!(
            "{} is not a valid .env file; correct the line it names",
            path.display()
        ));
        match error {
            // dotenvy's message quotes the whole line (up to the end of the file for an open
            // quote), which may hold the database password: say where it is instead.
            dotenvy::Error::LineParse(line, index) => {
                problem.caused_by(dotenv_position(path, &line, index))
            }
            other => problem.caused_by(other),
        }
    })
}

/// Where dotenvy's unparsable `line` starts in the file at `path`, as `line N, column M`,
/// without its text.
fn dotenv_position(path: &Path, line: &str, index: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let hidden = "(the line is not shown: it may hold a secret)";
    let Some(offset) = text.find(line) else {
        return format!("cannot parse a line {hidden}");
    };
    let line_number = text[..offset].matches('\n').count() + 1;
    // dotenvy's index counts in what it read as one line: for a quote never closed, that runs
    // to the end of the file, and the column would be past the line's end.
    let first_line_len = line.find('\n').unwrap_or(line.len());
    if index < first_line_len && line.is_char_boundary(index) {
        let column = line[..index].chars().count() + 1;
        format!("cannot parse line {line_number}, column {column} {hidden}")
    } else {
        format!(
            "cannot parse the value that starts on line {line_number} (a quote not closed?) \
             {hidden}"
        )
    }
}

fn read_toml(path: &Path) -> Result<HashMap<String, Value>, CliError> {
    match parse_toml(path)? {
        Some(table) => toml_values(table, &path.display().to_string()),
        None => Ok(HashMap::new()),
    }
}

/// `[tool.jetbase]` of the nearest `pyproject.toml` in `root` or a directory above it, as
/// Python Jetbase finds it (walking up from where it runs); empty without one. With it, the
/// file as shown: `pyproject.toml` in `root`, its whole path above it (a file outside the
/// project configures it: the user should see which).
fn read_pyproject(root: &Path) -> Result<(String, HashMap<String, Value>), CliError> {
    let none = || Ok((String::new(), HashMap::new()));
    let Some(path) = root
        .ancestors()
        .map(|directory| directory.join("pyproject.toml"))
        .find(|candidate| candidate.is_file())
    else {
        return none();
    };
    let Some(mut table) = parse_toml(&path)? else {
        return none();
    };
    let file = if path.parent() == Some(root) {
        "pyproject.toml".to_owned()
    } else {
        path.display().to_string()
    };
    let shown = format!("{} [tool.jetbase]", path.display());
    match table.remove("tool") {
        Some(toml::Value::Table(mut tool)) => match tool.remove("jetbase") {
            Some(toml::Value::Table(jetbase)) => Ok((file, toml_values(jetbase, &shown)?)),
            Some(other) => Err(CliError::usage(format!(
                "{shown} is a {}: expected a table",
                other.type_str()
            ))),
            None => none(),
        },
        _ => none(),
    }
}

/// The TOML table of the file at `path`; `None` when there is no such file.
fn parse_toml(path: &Path) -> Result<Option<toml::Table>, CliError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(CliError::usage(format!("cannot read {}", path.display())).caused_by(error));
        }
    };
    text.parse().map(Some).map_err(|error: toml::de::Error| {
        // The parser's own message quotes the line, which may hold the database password: the
        // position and the reason only.
        let position = error.span().map_or_else(String::new, |span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: ")
        });
        CliError::usage(format!("{} is not valid TOML", path.display())).caused_by(format!(
            "{position}{} (the line is not shown: it may hold a secret)",
            error.message().trim_end()
        ))
    })
}

/// The known key most like `key` (a typo's target), if one is close enough.
fn closest_key<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|candidate| (strsim::jaro_winkler(key, candidate), *candidate))
        .filter(|(similarity, _)| *similarity > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

/// The configuration keys of a TOML table, checked: an unknown key or a value of the wrong kind
/// is a usage error naming `shown` (the file, and the table in it).
fn toml_values(table: toml::Table, shown: &str) -> Result<HashMap<String, Value>, CliError> {
    let known: Vec<&str> = KEYS
        .iter()
        .flat_map(|k| k.file_names.iter().copied())
        .collect();
    let mut values = HashMap::new();
    for (key, value) in table {
        if !known.contains(&key.as_str()) {
            let suggestion = closest_key(&key, &known)
                .map(|closest| format!("did you mean `{closest}`? "))
                .unwrap_or_default();
            return Err(CliError::usage(format!(
                "unknown key `{key}` in {}; {suggestion}the keys are {}",
                shown,
                known.join(", ")
            )));
        }
        let value = match value {
            toml::Value::String(s) => Value::Text(s),
            toml::Value::Boolean(b) => Value::Bool(b),
            toml::Value::Integer(i) => Value::Number(i as f64),
            toml::Value::Float(f) => Value::Number(f),
            toml::Value::Table(table) if key == "placeholders" => Value::Table(
                table
                    .into_iter()
                    .map(|(name, value)| match value {
                        toml::Value::String(text) => Ok((name, text)),
                        other => Err(CliError::usage(format!(
                            "`placeholders.{name}` in {shown} is a {}: expected a string \
                             (quote it)",
                            other.type_str()
                        ))),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            toml::Value::Array(items) => Value::List(
                items
                    .into_iter()
                    .map(|item| match item {
                        toml::Value::String(s) => Ok(s),
                        other => Err(CliError::usage(format!(
                            "`{key}` in {} holds a {}: expected strings",
                            shown,
                            other.type_str()
                        ))),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            other => {
                return Err(CliError::usage(format!(
                    "`{key}` in {} is a {}: expected a string, a boolean or a number",
                    shown,
                    other.type_str()
                )));
            }
        };
        values.insert(key, value);
    }
    Ok(values)
}

#[cfg(test)]
mod tests;
