//! Reads the `env.py` Python Jetbase leaves in `jetbase/`: plain `name = "literal"` assignments
//! only. It is never executed; an assignment of something else to a configuration key is
//! reported and ignored.

use std::collections::HashMap;
use std::path::Path;

use super::Value;
use crate::error::CliError;

/// The keys Python Jetbase reads from `env.py`, which are worth a warning when not literal.
const CONFIG_NAMES: &[&str] = &[
    "sqlalchemy_url",
    "database_url",
    "postgres_schema",
    "skip_validation",
    "skip_checksum_validation",
    "skip_file_validation",
    "out_of_order",
    "lock_timeout",
];

/// The literal assignments of `path` (none when it does not exist).
pub fn read(path: &Path, warnings: &mut Vec<String>) -> Result<HashMap<String, Value>, CliError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(error) => {
            return Err(CliError::usage(format!("cannot read {}", path.display())).caused_by(error));
        }
    };
    let mut values = HashMap::new();
    for (number, line) in text.lines().enumerate() {
        let Some((name, value)) = assignment(line) else {
            continue;
        };
        match literal(value) {
            Some(value) => {
                values.insert(name.to_owned(), value);
            }
            None if CONFIG_NAMES.contains(&name) => warnings.push(format!(
                "{}:{}: `{name}` is not a plain literal, so it is ignored; set it in \
                 jetbase.toml or the environment instead",
                path.display(),
                number + 1
            )),
            None => {}
        }
    }
    Ok(values)
}

/// `name = value` at the start of a line (with an optional type annotation).
fn assignment(line: &str) -> Option<(&str, &str)> {
    if line.starts_with(char::is_whitespace) {
        return None; // inside a block: not a module-level assignment
    }
    let (target, value) = line.split_once('=')?;
    if value.starts_with('=') {
        return None; // `==`
    }
    let name = target.split(':').next()?.trim();
    let identifier = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    identifier.then_some((name, value.trim()))
}

/// A string, boolean or number literal, optionally followed by a comment.
fn literal(value: &str) -> Option<Value> {
    let value = value.trim();
    if let Some(quote) = value.chars().next().filter(|c| *c == '"' || *c == '\'') {
        return string_literal(value, quote).map(Value::Text);
    }
    let bare = value.split('#').next().unwrap_or("").trim();
    match bare {
        "True" => Some(Value::Bool(true)),
        "False" => Some(Value::Bool(false)),
        _ => bare.parse::<f64>().ok().map(Value::Number),
    }
}

/// The text of a one-line Python string literal: escapes `\\`, `\'`, `\"`, `\n`, `\t`; only a
/// comment may follow it.
fn string_literal(value: &str, quote: char) -> Option<String> {
    let mut out = String::new();
    let mut chars = value.chars().skip(1);
    loop {
        match chars.next()? {
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                other @ ('\\' | '\'' | '"') => out.push(other),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            },
            c if c == quote => break,
            c => out.push(c),
        }
    }
    let rest: String = chars.collect();
    let rest = rest.trim();
    (rest.is_empty() || rest.starts_with('#')).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_read_and_expressions_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("env.py");
        std::fs::write(
            &path,
            "# Jetbase Configuration\nimport os\n\nsqlalchemy_url = \"postgresql+psycopg2://u:p@h/db\"  # main\n\
             postgres_schema: str = 'app'\nskip_validation = True\nlock_timeout = 2.5\nASYNC = False\n\
             skip_file_validation = os.environ.get(\"X\")\nif x == 1:\n    out_of_order = True\n",
        )
        .unwrap();
        let mut warnings = Vec::new();
        let values = read(&path, &mut warnings).unwrap();
        assert_eq!(
            values.get("sqlalchemy_url"),
            Some(&Value::Text("postgresql+psycopg2://u:p@h/db".into()))
        );
        assert_eq!(
            values.get("postgres_schema"),
            Some(&Value::Text("app".into()))
        );
        assert_eq!(values.get("skip_validation"), Some(&Value::Bool(true)));
        assert_eq!(values.get("lock_timeout"), Some(&Value::Number(2.5)));
        assert_eq!(values.get("ASYNC"), Some(&Value::Bool(false)));
        assert_eq!(values.get("skip_file_validation"), None);
        assert_eq!(
            values.get("out_of_order"),
            None,
            "indented: not module level"
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("env.py:9: `skip_file_validation`"),
            "{warnings:?}"
        );
    }

    #[test]
    fn string_escapes_and_trailing_text() {
        assert_eq!(
            string_literal(r#""a\"b" # c"#, '"').as_deref(),
            Some("a\"b")
        );
        assert_eq!(string_literal(r"'x\\y'", '\'').as_deref(), Some("x\\y"));
        assert_eq!(string_literal(r#""a" + b"#, '"'), None);
        assert_eq!(string_literal(r#""unterminated"#, '"'), None);
    }
}
