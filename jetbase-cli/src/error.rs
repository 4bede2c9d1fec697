//! What a command reports when it fails, and the exit code that goes with it.

use std::error::Error as _;
use std::fmt;
use std::process::ExitCode;

/// Why the command failed, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// 1: a migration failed, validation found a problem, the lock is held, the database failed.
    Run,
    /// 2: the command line or the configuration is wrong.
    Usage,
    /// 3: `lock-status --exit-code` found the lock held (what it printed says the rest).
    LockHeld,
}

/// A failed command: one line saying what went wrong and what to do, then the causes.
#[derive(Debug)]
pub struct CliError {
    pub failure: Failure,
    pub message: String,
    pub causes: Vec<String>,
}

impl CliError {
    /// The lock is held, for `lock-status --exit-code` (exit 3, nothing more said).
    pub fn lock_held() -> Self {
        Self {
            failure: Failure::LockHeld,
            message: String::new(),
            causes: Vec::new(),
        }
    }

    /// A usage or configuration error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            failure: Failure::Usage,
            message: message.into(),
            causes: Vec::new(),
        }
    }

    /// A failure while running (exit 1).
    pub fn run(message: impl Into<String>) -> Self {
        Self {
            failure: Failure::Run,
            message: message.into(),
            causes: Vec::new(),
        }
    }

    /// Adds a cause below the message.
    pub fn caused_by(mut self, cause: impl fmt::Display) -> Self {
        self.causes.push(cause.to_string());
        self
    }

    /// Puts `message` above this error, whose own message becomes the first cause; the exit
    /// code stays.
    pub fn explained(self, message: impl Into<String>) -> Self {
        Self {
            failure: self.failure,
            message: message.into(),
            causes: std::iter::once(self.message).chain(self.causes).collect(),
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self.failure {
            Failure::Run => ExitCode::from(1),
            Failure::Usage => ExitCode::from(2),
            Failure::LockHeld => ExitCode::from(3),
        }
    }
}

impl From<jetbase::Error> for CliError {
    fn from(error: jetbase::Error) -> Self {
        let failure = match &error {
            jetbase::Error::UnsupportedUrl { .. }
            | jetbase::Error::InvalidVersion { .. }
            | jetbase::Error::InvalidSetting { .. } => Failure::Usage,
            _ => Failure::Run,
        };
        let mut causes = Vec::new();
        let mut source = error.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            // sqlx repeats a database error's text in its source: say it once.
            if !causes
                .last()
                .is_some_and(|last: &String| last.contains(&text))
            {
                causes.push(text);
            }
            source = cause.source();
        }
        Self {
            failure,
            message: error.to_string(),
            causes,
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(error: std::io::Error) -> Self {
        Self::run("cannot write the output").caused_by(error)
    }
}

/// The configured URL as written, and the credentials' spellings (`:password@`, also
/// percent-decoded), never to be printed.
static SECRETS: std::sync::OnceLock<Secrets> = std::sync::OnceLock::new();

struct Secrets {
    url: String,
    credentials: Vec<String>,
}

/// Remembers the password of `url`, so that [`scrub`] masks it in anything printed.
pub fn hide_password_of(url: &str) {
    if let Some(secrets) = Secrets::of(url) {
        let _ = SECRETS.set(secrets);
    }
}

/// `text` with the configured URL shown with its password masked, and the password masked
/// wherever it stands as credentials (`user:password@host`). Only where it stands: the same
/// characters elsewhere (a password `p` in `protocol=http`) are left as they are.
pub fn scrub(text: &str) -> String {
    match SECRETS.get() {
        Some(secrets) => secrets.scrub(text),
        None => text.to_owned(),
    }
}

impl Secrets {
    fn of(url: &str) -> Option<Self> {
        let password = jetbase::url::password(url)?;
        let mut credentials = vec![format!(":{password}@")];
        let decoded = percent_decode(password);
        if decoded != password {
            credentials.push(format!(":{decoded}@"));
        }
        Some(Self {
            url: url.to_owned(),
            credentials,
        })
    }

    fn scrub(&self, text: &str) -> String {
        let secrets = self;
        let mut text = text.replace(&secrets.url, &jetbase::url::mask_password(&secrets.url));
        for credentials in &secrets.credentials {
            text = text.replace(credentials.as_str(), ":***@");
        }
        text
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[index], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked_only_where_they_stand() {
        let url = "postgres://app:p@127.0.0.1:5432/db?options=protocol%3Dhttp";
        let secrets = Secrets::of(url).expect("a password");
        let text = format!("cannot connect to {url}: app:p@127.0.0.1 refused, protocol=http");
        assert_eq!(
            secrets.scrub(&text),
            "cannot connect to postgres://app:***@127.0.0.1:5432/db?options=protocol%3Dhttp: \
             app:***@127.0.0.1 refused, protocol=http"
        );
        let encoded = Secrets::of("mysql://root:s%40cret@h/db").expect("a password");
        assert_eq!(encoded.scrub("root:s@cret@h"), "root:***@h");
        assert!(Secrets::of("sqlite:///app.db").is_none());
    }
}
