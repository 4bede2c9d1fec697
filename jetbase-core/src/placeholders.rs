//! `${name}` placeholders: values configured where migrations run (a ClickHouse cluster's name,
//! a role per environment, a schema), put into the statements as they are sent.
//!
//! The rules, each chosen against a bug another tool shipped:
//! - nothing is replaced unless at least one placeholder is configured: files then run as
//!   written, as Python Jetbase runs them;
//! - the checksum is the file's as written, never of the substituted text, so that changing a
//!   value does not make applied files "edited";
//! - a `${name}` with no value is an error naming the line, found before anything runs;
//! - `$${name}` is the text `${name}` itself (a run of `$` before `{name}`: every `$` but the
//!   last stays, and an even run is the escape, so `$$${name}` is a dollar quote followed by
//!   a value); inside a `$$…$$` body, where `$$` would close the quote, use a tagged quote
//!   (`$body$…$body$`) for the escape;
//! - names are ASCII letters, digits and `_` (not starting with a digit), compared without
//!   case (`JETBASE_PLACEHOLDER_PREFIX` defines `${prefix}`);
//! - the text is replaced wherever it appears in a statement: inside string literals and
//!   dollar-quoted bodies too. Comments between statements are not sent, and not read.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// The values of `${name}` placeholders, by name (compared without case).
///
/// ```
/// use jetbase_core::Placeholders;
///
/// let mut placeholders = Placeholders::new();
/// placeholders.insert("Cluster", "main");
/// let sql = placeholders.substitute("CREATE TABLE t ON CLUSTER ${cluster} (id UInt8)", 1)?;
/// assert_eq!(sql, "CREATE TABLE t ON CLUSTER main (id UInt8)");
/// // `$${name}` keeps the text as written.
/// assert_eq!(placeholders.substitute("SELECT '$${cluster}'", 1)?, "SELECT '${cluster}'");
/// # Ok::<(), jetbase_core::UnknownPlaceholder>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Placeholders {
    /// By lower-cased name.
    values: BTreeMap<String, String>,
}

/// A `${name}` in a statement with no value configured for `name`.
///
/// ```
/// let mut placeholders = jetbase_core::Placeholders::new();
/// placeholders.insert("schema", "app");
/// let unknown = placeholders.substitute("GRANT USAGE ON SCHEMA ${schema} TO ${role}", 3).unwrap_err();
/// assert_eq!(unknown.to_string(), "line 3: ${role} has no value configured");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnknownPlaceholder {
    /// The name, as written between the braces.
    pub name: String,
    /// Its line, counted from the `first_line` given to [`Placeholders::substitute`].
    pub line: usize,
}

impl fmt::Display for UnknownPlaceholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}: ${{{}}} has no value configured",
            self.line, self.name
        )
    }
}

impl std::error::Error for UnknownPlaceholder {}

/// A configured placeholder name that is not ASCII letters, digits and `_` (or starts with a
/// digit): no `${name}` could ever match it.
///
/// ```
/// let mut placeholders = jetbase_core::Placeholders::new();
/// placeholders.insert("9lives", "x");
/// let invalid = placeholders.check_names().unwrap_err();
/// assert!(invalid.to_string().starts_with("\"9lives\" is not a placeholder name"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvalidPlaceholderName {
    /// The name, lower-cased as it was stored.
    pub name: String,
}

impl fmt::Display for InvalidPlaceholderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a placeholder name: use ASCII letters, digits and _, not starting \
             with a digit",
            self.name
        )
    }
}

impl std::error::Error for InvalidPlaceholderName {}

impl Placeholders {
    /// No placeholders: statements run as written.
    ///
    /// ```
    /// let placeholders = jetbase_core::Placeholders::new();
    /// assert!(placeholders.is_empty());
    /// assert_eq!(placeholders.substitute("SELECT '${x}'", 1)?, "SELECT '${x}'");
    /// # Ok::<(), jetbase_core::UnknownPlaceholder>(())
    /// ```
    pub const fn new() -> Self {
        Self {
            values: BTreeMap::new(),
        }
    }

    /// Sets the value of `${name}` (the name compared without case), replacing an earlier one.
    /// A name that is not letters, digits and `_` is kept and reported by
    /// [`Placeholders::check_names`].
    ///
    /// ```
    /// let mut placeholders = jetbase_core::Placeholders::new();
    /// placeholders.insert("Role", "reader");
    /// placeholders.insert("ROLE", "writer");
    /// assert_eq!(placeholders.get("role"), Some("writer"));
    /// ```
    pub fn insert(&mut self, name: &str, value: impl Into<String>) {
        self.values.insert(name.to_ascii_lowercase(), value.into());
    }

    /// The value of `${name}`, if configured.
    ///
    /// ```
    /// let mut placeholders = jetbase_core::Placeholders::new();
    /// placeholders.insert("PREFIX", "shop");
    /// assert_eq!(placeholders.get("prefix"), Some("shop"));
    /// assert_eq!(placeholders.get("suffix"), None);
    /// ```
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// Whether none is configured (then nothing is substituted).
    ///
    /// ```
    /// let mut placeholders = jetbase_core::Placeholders::new();
    /// assert!(placeholders.is_empty());
    /// placeholders.insert("schema", "app");
    /// assert!(!placeholders.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The configured names (lower case), in order.
    ///
    /// ```
    /// let mut placeholders = jetbase_core::Placeholders::new();
    /// placeholders.insert("Schema", "app");
    /// placeholders.insert("cluster", "main");
    /// assert_eq!(placeholders.names().collect::<Vec<_>>(), ["cluster", "schema"]);
    /// ```
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// Each name (lower case) with its value for a log line: the value of a name containing
    /// `password`, `secret` or `token` shown as `***`.
    ///
    /// ```
    /// let mut placeholders = jetbase_core::Placeholders::new();
    /// placeholders.insert("role", "app");
    /// placeholders.insert("reader_password", "hunter2");
    /// assert_eq!(placeholders.shown(), "reader_password=***, role=app");
    /// ```
    pub fn shown(&self) -> String {
        self.values
            .iter()
            .map(|(name, value)| {
                if is_secret(name) {
                    format!("{name}=***")
                } else {
                    format!("{name}={value}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Checks every configured name.
    ///
    /// ```
    /// let mut placeholders = jetbase_core::Placeholders::new();
    /// placeholders.insert("app_role", "reader");
    /// assert!(placeholders.check_names().is_ok());
    /// placeholders.insert("app-role", "reader");
    /// assert_eq!(placeholders.check_names().unwrap_err().name, "app-role");
    /// ```
    ///
    /// # Errors
    ///
    /// [`InvalidPlaceholderName`] for the first name that is not ASCII letters, digits and `_`
    /// (or starts with a digit).
    pub fn check_names(&self) -> Result<(), InvalidPlaceholderName> {
        match self.values.keys().find(|name| !is_name(name)) {
            None => Ok(()),
            Some(name) => Err(InvalidPlaceholderName { name: name.clone() }),
        }
    }

    /// `text` with each `${name}` replaced by its value and each `$${name}` by `${name}`;
    /// borrowed as it is when no placeholder is configured or none appears. `first_line` is the
    /// line of `text`'s first line, for the error.
    ///
    /// ```
    /// let mut placeholders = jetbase_core::Placeholders::new();
    /// placeholders.insert("schema", "app");
    /// let sql = placeholders.substitute("SELECT 1 FROM ${schema}.users", 1)?;
    /// assert_eq!(sql, "SELECT 1 FROM app.users");
    /// let unknown = placeholders.substitute("SELECT 1;\nSELECT ${role}", 10).unwrap_err();
    /// assert_eq!((unknown.name.as_str(), unknown.line), ("role", 11));
    /// # Ok::<(), jetbase_core::UnknownPlaceholder>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`UnknownPlaceholder`] for the first `${name}` without a value (while at least one
    /// placeholder is configured).
    pub fn substitute<'a>(
        &self,
        text: &'a str,
        first_line: usize,
    ) -> Result<Cow<'a, str>, UnknownPlaceholder> {
        if self.values.is_empty() {
            return Ok(Cow::Borrowed(text));
        }
        let bytes = text.as_bytes();
        let mut out = String::new();
        let mut copied = 0;
        let mut at = 0;
        while let Some(found) = bytes[at..].iter().position(|&byte| byte == b'$') {
            let start = at + found;
            let run_end = start
                + bytes[start..]
                    .iter()
                    .take_while(|&&byte| byte == b'$')
                    .count();
            let Some((name, end)) = braced_name(text, run_end) else {
                at = run_end;
                continue;
            };
            // Every `$` of the run but the last stays as written: `$$${name}` is a dollar
            // quote and then a placeholder. An even run ends in the escape `$${name}`, which
            // stays as `${name}`.
            out.push_str(&text[copied..run_end - 1]);
            if (run_end - start) % 2 == 0 {
                out.push_str(&text[run_end..end]);
            } else {
                let Some(value) = self.get(name) else {
                    return Err(UnknownPlaceholder {
                        name: name.to_owned(),
                        line: first_line + bytes[..start].iter().filter(|&&b| b == b'\n').count(),
                    });
                };
                out.push_str(value);
            }
            copied = end;
            at = end;
        }
        if copied == 0 {
            return Ok(Cow::Borrowed(text));
        }
        out.push_str(&text[copied..]);
        Ok(Cow::Owned(out))
    }
}

impl fmt::Debug for Placeholders {
    /// Values of secret-looking names masked, as [`Placeholders::shown`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Placeholders {{ {} }}", self.shown())
    }
}

/// Whether a placeholder's value is kept out of logs: its name says password, secret or token.
fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["password", "secret", "token"]
        .iter()
        .any(|word| name.contains(word))
}

fn is_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
}

/// The name of a `{name}` starting at `at`, and the index after its `}`.
fn braced_name(text: &str, at: usize) -> Option<(&str, usize)> {
    let rest = text.get(at..)?.strip_prefix('{')?;
    // Only the name's characters are read: a `${` never closed costs nothing.
    let close = rest
        .bytes()
        .position(|byte| !(byte.is_ascii_alphanumeric() || byte == b'_'))?;
    let name = &rest[..close];
    (rest.as_bytes()[close] == b'}' && is_name(name)).then_some((name, at + 1 + close + 1))
}

#[cfg(test)]
mod tests;
