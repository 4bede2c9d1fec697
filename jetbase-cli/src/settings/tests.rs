use std::collections::HashMap;

use super::*;
use crate::cli::GlobalArgs;

struct Fixture {
    _dir: tempfile::TempDir,
    project: Project,
}

fn project(toml: Option<&str>, dotenv: Option<&str>, env_py: Option<&str>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let jetbase_dir = dir.path().join("jetbase");
    std::fs::create_dir_all(jetbase_dir.join("migrations")).unwrap();
    if let Some(text) = toml {
        std::fs::write(jetbase_dir.join("jetbase.toml"), text).unwrap();
    }
    if let Some(text) = dotenv {
        std::fs::write(dir.path().join(".env"), text).unwrap();
    }
    if let Some(text) = env_py {
        std::fs::write(jetbase_dir.join("env.py"), text).unwrap();
    }
    Fixture {
        project: Project::at(jetbase_dir),
        _dir: dir,
    }
}

fn no_flags() -> GlobalArgs {
    GlobalArgs {
        dir: None,
        database_url: None,
        json: false,
        lock_timeout: None,
        connect_timeout: None,
        placeholders: Vec::new(),
    }
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn resolve(
    fixture: &Fixture,
    flags: &GlobalArgs,
    environment: &[(&str, &str)],
) -> Result<Settings, CliError> {
    let sources = Sources::read(&fixture.project, env(environment))?;
    Settings::resolve(fixture.project.clone(), flags, &sources)
}

fn url_of(settings: &Settings) -> (&str, &str) {
    let (url, origin) = settings.database_url.as_ref().unwrap();
    (url.as_str(), origin.as_str())
}

#[test]
fn the_database_url_comes_from_the_first_source_that_has_it() {
    let all = project(
        Some("database_url = \"sqlite://toml.db\""),
        Some("JETBASE_DATABASE_URL=sqlite://dotenv.db\nDATABASE_URL=sqlite://dotenv-fallback.db\n"),
        Some("sqlalchemy_url = \"sqlite:///envpy.db\"\n"),
    );
    let flags = GlobalArgs {
        database_url: Some("sqlite://flag.db".into()),
        ..no_flags()
    };
    let environment = [
        ("JETBASE_DATABASE_URL", "sqlite://env.db"),
        ("DATABASE_URL", "sqlite://fallback.db"),
    ];
    assert_eq!(
        url_of(&resolve(&all, &flags, &environment).unwrap()).0,
        "sqlite://flag.db"
    );
    assert_eq!(
        url_of(&resolve(&all, &no_flags(), &environment).unwrap()),
        ("sqlite://env.db", "JETBASE_DATABASE_URL")
    );
    assert_eq!(
        url_of(
            &resolve(
                &all,
                &no_flags(),
                &[("JETBASE_SQLALCHEMY_URL", "sqlite://alias.db")]
            )
            .unwrap()
        )
        .0,
        "sqlite://alias.db"
    );
    assert_eq!(
        url_of(
            &resolve(
                &all,
                &no_flags(),
                &[("DATABASE_URL", "sqlite://fallback.db")]
            )
            .unwrap()
        ),
        ("sqlite://dotenv.db", "JETBASE_DATABASE_URL in .env")
    );
    let no_dotenv = project(
        Some("database_url = \"sqlite://toml.db\""),
        None,
        Some("sqlalchemy_url = \"sqlite:///envpy.db\"\n"),
    );
    assert_eq!(
        url_of(
            &resolve(
                &no_dotenv,
                &no_flags(),
                &[("DATABASE_URL", "sqlite://fallback.db")]
            )
            .unwrap()
        ),
        ("sqlite://toml.db", "`database_url` in jetbase.toml")
    );
    let env_py_only = project(
        None,
        None,
        Some("sqlalchemy_url = \"sqlite:///envpy.db\"\n"),
    );
    assert_eq!(
        url_of(
            &resolve(
                &env_py_only,
                &no_flags(),
                &[("DATABASE_URL", "sqlite://fallback.db")]
            )
            .unwrap()
        ),
        ("sqlite:///envpy.db", "`sqlalchemy_url` in env.py")
    );
    let nothing = project(
        None,
        Some("DATABASE_URL=sqlite://dotenv-fallback.db\n"),
        None,
    );
    assert_eq!(
        url_of(
            &resolve(
                &nothing,
                &no_flags(),
                &[("DATABASE_URL", "sqlite://fallback.db")]
            )
            .unwrap()
        ),
        ("sqlite://fallback.db", "DATABASE_URL")
    );
    assert_eq!(
        url_of(&resolve(&nothing, &no_flags(), &[]).unwrap()),
        ("sqlite://dotenv-fallback.db", "DATABASE_URL in .env")
    );
    let empty = project(None, None, None);
    assert!(
        resolve(&empty, &no_flags(), &[])
            .unwrap()
            .database_url
            .is_none()
    );
}

#[test]
fn switches_and_timeouts_from_each_source() {
    let fixture = project(
        Some(
            "skip_checksum_validation = true\nlock_timeout = 2.5\npostgres_schema = \"app\"\nmodel_paths = [\"src/models\"]\nasync = true",
        ),
        None,
        Some("out_of_order = True\n"),
    );
    let settings = resolve(
        &fixture,
        &no_flags(),
        &[("JETBASE_SKIP_FILE_VALIDATION", "yes")],
    )
    .unwrap();
    assert!(
        settings.skip_checksum_validation && settings.skip_file_validation && settings.out_of_order
    );
    assert!(!settings.skip_validation);
    assert_eq!(settings.lock_timeout, Duration::from_millis(2500));
    assert_eq!(settings.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
    assert_eq!(settings.postgres_schema.as_deref(), Some("app"));
    let settings = resolve(
        &fixture,
        &GlobalArgs {
            lock_timeout: Some(0.0),
            connect_timeout: Some(1.0),
            ..no_flags()
        },
        &[
            ("JETBASE_LOCK_TIMEOUT", "7"),
            ("JETBASE_POSTGRES_SCHEMA", "other"),
        ],
    )
    .unwrap();
    assert_eq!(settings.lock_timeout, Duration::ZERO);
    assert_eq!(settings.connect_timeout, Duration::from_secs(1));
    assert_eq!(settings.postgres_schema.as_deref(), Some("other"));
    let defaults = resolve(&project(None, None, None), &no_flags(), &[]).unwrap();
    assert_eq!(defaults.lock_timeout, jetbase::DEFAULT_LOCK_TIMEOUT);
}

#[test]
fn bad_values_name_their_source() {
    let fixture = project(None, None, None);
    let error = resolve(
        &fixture,
        &no_flags(),
        &[("JETBASE_SKIP_VALIDATION", "maybe")],
    )
    .unwrap_err();
    assert_eq!(error.failure, crate::error::ExitReason::Usage);
    assert!(
        error
            .message
            .contains("JETBASE_SKIP_VALIDATION is \"maybe\""),
        "{}",
        error.message
    );
    let error = resolve(&fixture, &no_flags(), &[("JETBASE_LOCK_TIMEOUT", "-1")]).unwrap_err();
    assert!(
        error.message.contains("JETBASE_LOCK_TIMEOUT"),
        "{}",
        error.message
    );

    let typo = project(Some("skip_validaton = true"), None, None);
    let error = resolve(&typo, &no_flags(), &[]).unwrap_err();
    assert!(
        error.message.contains("unknown key `skip_validaton` in ")
            && error
                .message
                .contains("; did you mean `skip_validation`? the keys are"),
        "{}",
        error.message
    );
    let wrong_type = project(Some("database_url = 5"), None, None);
    let error = resolve(&wrong_type, &no_flags(), &[]).unwrap_err();
    assert!(
        error
            .message
            .contains("`database_url` in jetbase.toml is 5"),
        "{}",
        error.message
    );
    let broken = project(Some("database_url = "), None, None);
    let error = resolve(&broken, &no_flags(), &[]).unwrap_err();
    assert!(
        error.message.contains("not valid TOML"),
        "{}",
        error.message
    );
    assert!(!error.causes.is_empty());
}

#[test]
fn migration_limits_from_the_file_and_the_environment() {
    let fixture = project(
        Some("table_lock_timeout = \"5s\"\nstatement_timeout = 600\nretries = 3\n"),
        None,
        None,
    );
    let settings = resolve(&fixture, &no_flags(), &[("JETBASE_LINT", "deny")]).unwrap();
    assert_eq!(settings.lint, Some(crate::cli::LintMode::Deny));
    assert_eq!(
        settings.limits,
        jetbase::RunLimits {
            table_lock_timeout: Some(Duration::from_secs(5)),
            statement_timeout: Some(Duration::from_secs(600)),
            retries: Some(3),
        }
    );
    let settings = resolve(
        &fixture,
        &no_flags(),
        &[
            ("JETBASE_TABLE_LOCK_TIMEOUT", "1.5"),
            ("JETBASE_RETRIES", "0"),
        ],
    )
    .unwrap();
    assert_eq!(
        settings.limits.table_lock_timeout,
        Some(Duration::from_millis(1500))
    );
    assert_eq!(settings.limits.retries, Some(0));
    assert_eq!(
        resolve(&project(None, None, None), &no_flags(), &[])
            .unwrap()
            .limits,
        jetbase::RunLimits::default()
    );
}

#[test]
fn bad_migration_limits_name_their_source() {
    let fixture = project(None, None, None);
    let error = resolve(
        &fixture,
        &no_flags(),
        &[("JETBASE_STATEMENT_TIMEOUT", "10 minutes")],
    )
    .unwrap_err();
    assert_eq!(
        error.message,
        "JETBASE_STATEMENT_TIMEOUT: `10 minutes`: unknown unit `minutes`; write one of ms, s, min, \
         h, d (e.g. `5s`)"
    );
    let error = resolve(&fixture, &no_flags(), &[("JETBASE_LINT", "strict")]).unwrap_err();
    assert_eq!(
        error.message,
        "JETBASE_LINT is \"strict\": expected \"off\", \"warn\" or \"deny\""
    );
    let error = resolve(
        &project(Some("retries = 1000\n"), None, None),
        &no_flags(),
        &[],
    )
    .unwrap_err();
    assert!(
        error.message.contains("a number of retries from 0 to 100"),
        "{}",
        error.message
    );
}

#[test]
fn every_key_of_the_fleet_and_the_pooler_is_read_from_jetbase_toml() {
    let fixture = project(
        Some(
            "schemas = [\"tenant_a\", \"tenant_b\"]\nschemas_like = \"tenant_%\"\n\
             database_urls_file = \"targets.txt\"\nparallel = 3\npooler = \"transaction\"\n",
        ),
        None,
        None,
    );
    let settings = resolve(&fixture, &no_flags(), &[]).unwrap();
    assert_eq!(settings.fleet.schemas, ["tenant_a", "tenant_b"]);
    assert_eq!(settings.fleet.schemas_like.as_deref(), Some("tenant_%"));
    assert_eq!(
        settings.fleet.database_urls_file.as_deref(),
        Some("targets.txt")
    );
    assert_eq!(settings.fleet.parallel, Some(3));
    assert_eq!(settings.pooler, jetbase::Pooler::Transaction);

    let from_env = resolve(
        &project(None, None, None),
        &no_flags(),
        &[("JETBASE_POOLER", "session")],
    )
    .unwrap();
    assert_eq!(from_env.pooler, jetbase::Pooler::None);
    let wrong = resolve(
        &project(None, None, None),
        &no_flags(),
        &[("JETBASE_POOLER", "statement")],
    )
    .unwrap_err();
    assert_eq!(wrong.failure, crate::error::ExitReason::Usage);
    assert!(
        wrong.message.contains("JETBASE_POOLER") && wrong.message.contains("statement"),
        "{}",
        wrong.message
    );
}

#[test]
fn pyproject_tool_jetbase_comes_last_as_in_python_jetbase() {
    let fixture = project(
        Some("lock_timeout = 7\n"),
        None,
        Some("postgres_schema = \"from_env_py\"\n"),
    );
    let root = fixture.project.root.clone();
    std::fs::write(
        root.join("pyproject.toml"),
        "[project]\nname = \"app\"\n\n[tool.black]\nline-length = 100\n\n[tool.jetbase]\n\
         sqlalchemy_url = \"sqlite:///from_pyproject.db\"\nlock_timeout = 30\n\
         postgres_schema = \"from_pyproject\"\nmodel_paths = [\"./models/user.py\"]\n",
    )
    .unwrap();
    let settings = resolve(&fixture, &no_flags(), &[]).unwrap();
    assert_eq!(
        url_of(&settings),
        (
            "sqlite:///from_pyproject.db",
            "`sqlalchemy_url` in pyproject.toml [tool.jetbase]"
        )
    );
    assert_eq!(
        settings.lock_timeout,
        Duration::from_secs(7),
        "jetbase.toml first"
    );
    assert_eq!(
        settings.postgres_schema.as_deref(),
        Some("from_env_py"),
        "env.py before pyproject.toml"
    );
    let (paths, origin) = settings.model_paths.unwrap();
    assert_eq!(paths, ["./models/user.py"]);
    assert!(origin.contains("pyproject.toml"), "{origin}");
    let from_env = resolve(&fixture, &no_flags(), &[("JETBASE_MODELS", "./m.py")]).unwrap();
    assert_eq!(from_env.model_paths.unwrap().0, ["./m.py"]);

    std::fs::write(
        root.join("pyproject.toml"),
        "[tool.jetbase]\nsurprise = 1\n",
    )
    .unwrap();
    let error = resolve(&fixture, &no_flags(), &[]).unwrap_err();
    assert_eq!(error.failure, crate::error::ExitReason::Usage);
    assert!(
        error.message.contains("unknown key `surprise`")
            && error.message.contains("pyproject.toml [tool.jetbase]")
            && !error.message.contains("did you mean"),
        "{}",
        error.message
    );
    std::fs::write(root.join("pyproject.toml"), "[tool.other]\nx = 1\n").unwrap();
    assert!(
        resolve(&fixture, &no_flags(), &[])
            .unwrap()
            .database_url
            .is_none()
    );
}

#[test]
fn each_placeholder_comes_from_the_first_source_that_has_it() {
    let fixture = project(
        Some(
            "[placeholders]\nprefix = \"toml\"\nrole = \"toml_role\"\nschema = \"toml_schema\"\nCluster = \"main\"\n",
        ),
        Some("JETBASE_PLACEHOLDER_ROLE=dotenv_role\nJETBASE_PLACEHOLDER_SCHEMA=dotenv_schema\n"),
        None,
    );
    std::fs::write(
        fixture.project.root.join("pyproject.toml"),
        "[tool.jetbase.placeholders]\nfrom_pyproject = \"py\"\nprefix = \"py_prefix\"\n",
    )
    .unwrap();
    let flags = GlobalArgs {
        placeholders: vec!["PREFIX=flag".into(), "empty=".into(), "eq=a=b".into()],
        ..no_flags()
    };
    let settings = resolve(
        &fixture,
        &flags,
        &[
            ("JETBASE_PLACEHOLDER_ROLE", "env_role"),
            ("JETBASE_PLACEHOLDER_PREFIX", "env"),
        ],
    )
    .unwrap();
    let shown: Vec<(&str, &str, &str)> = settings
        .placeholders
        .iter()
        .map(|(name, (value, origin))| (name.as_str(), value.as_str(), origin.as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            ("cluster", "main", "`placeholders.Cluster` in jetbase.toml"),
            ("empty", "", "--placeholder empty"),
            ("eq", "a=b", "--placeholder eq"),
            (
                "from_pyproject",
                "py",
                "`placeholders.from_pyproject` in pyproject.toml [tool.jetbase]"
            ),
            ("prefix", "flag", "--placeholder PREFIX"),
            ("role", "env_role", "JETBASE_PLACEHOLDER_ROLE"),
            (
                "schema",
                "dotenv_schema",
                "JETBASE_PLACEHOLDER_SCHEMA in .env"
            ),
        ]
    );
}

#[test]
fn a_bad_placeholder_is_refused_naming_where_it_was_set() {
    let plain = project(None, None, None);
    for (flag, expected) in [
        ("prefix", "--placeholder \"prefix\": expected NAME=VALUE"),
        (
            "a-b=1",
            "--placeholder a-b: \"a-b\" is not a placeholder name",
        ),
    ] {
        let flags = GlobalArgs {
            placeholders: vec![flag.into()],
            ..no_flags()
        };
        let error = resolve(&plain, &flags, &[]).unwrap_err().message;
        assert!(error.contains(expected), "{error}");
    }
    let error = resolve(&plain, &no_flags(), &[("JETBASE_PLACEHOLDER_", "x")])
        .unwrap_err()
        .message;
    assert!(
        error.contains("JETBASE_PLACEHOLDER_: \"\" is not a placeholder name"),
        "{error}"
    );
    for (toml, expected) in [
        ("[placeholders]\nport = 5432\n", "`placeholders.port` in "),
        (
            "placeholders = \"x\"\n",
            "`placeholders` in jetbase.toml is a string",
        ),
    ] {
        let fixture = project(Some(toml), None, None);
        let error = resolve(&fixture, &no_flags(), &[]).unwrap_err().message;
        assert!(error.contains(expected), "{error}");
    }
}
