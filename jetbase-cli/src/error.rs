//! What a command reports when it fails, and the exit code that goes with it.

use std::error::Error as _;
use std::fmt;
use std::process::ExitCode;

/// Why the command failed, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitReason {
    /// 1: a migration failed, validation found a problem, the lock is held, the database failed.
    Run,
    /// 2: the command line or the configuration is wrong.
    Usage,
    /// 3: `lock-status --exit-code` found the lock held (what it printed says the rest).
    LockHeld,
    /// 128 + the signal (130 for SIGINT, 143 for SIGTERM): the command was stopped by a signal,
    /// after removing what it had made for the while.
    Interrupted(u8),
    /// 141: stdout was closed by its reader (`jetbase status | head -1`): nothing more is
    /// said, and the status is the one a shell shows for `ls` ended by SIGPIPE (128 + 13).
    OutputClosed,
}

/// A failed command: one line saying what went wrong and what to do, then the causes.
#[derive(Debug)]
pub struct CliError {
    pub failure: ExitReason,
    pub message: String,
    pub causes: Vec<String>,
}

impl CliError {
    /// The lock is held, for `lock-status --exit-code` (exit 3, nothing more said).
    pub fn lock_held() -> Self {
        Self {
            failure: ExitReason::LockHeld,
            message: String::new(),
            causes: Vec::new(),
        }
    }

    /// Stopped by `signal` (SIGINT or SIGTERM), what the command made removed.
    pub fn interrupted(signal: i32) -> Self {
        let signal = u8::try_from(signal).unwrap_or(2);
        Self {
            failure: ExitReason::Interrupted(signal),
            message: format!(
                "interrupted by {}: jetbase stopped and removed what it had made for the while \
                 (a copy of the database, a scratch database); a statement the server was \
                 running for it may go on until the server notices the connection closed",
                if signal == 15 { "SIGTERM" } else { "SIGINT" }
            ),
            causes: Vec::new(),
        }
    }

    /// A usage or configuration error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            failure: ExitReason::Usage,
            message: message.into(),
            causes: Vec::new(),
        }
    }

    /// A failure while running (exit 1).
    pub fn run(message: impl Into<String>) -> Self {
        Self {
            failure: ExitReason::Run,
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
            ExitReason::Run => ExitCode::from(1),
            ExitReason::Usage => ExitCode::from(2),
            ExitReason::LockHeld => ExitCode::from(3),
            ExitReason::OutputClosed => ExitCode::from(141),
            ExitReason::Interrupted(signal) => ExitCode::from(128 + signal),
        }
    }
}

impl From<jetbase::Error> for CliError {
    fn from(error: jetbase::Error) -> Self {
        let failure = match &error {
            jetbase::Error::UnsupportedUrl { .. }
            | jetbase::Error::InvalidVersion { .. }
            | jetbase::Error::InvalidSetting { .. } => ExitReason::Usage,
            _ => ExitReason::Run,
        };
        let mut causes = Vec::new();
        let mut source = error.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            // A database error jetbase words its own way (a PostgreSQL error without the
            // server's source line sqlx adds): below it is the driver's wording of the same.
            let reworded = cause.downcast_ref::<jetbase::DatabaseError>().is_some()
                && cause
                    .source()
                    .is_some_and(|driver| driver.to_string() != text);
            // sqlx repeats a database error's text in its source: say it once.
            if !causes
                .last()
                .is_some_and(|last: &String| last.contains(&text))
            {
                causes.push(text);
            }
            if reworded {
                break;
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
    /// A failed write of the output: a closed pipe ends the command quietly.
    fn from(error: std::io::Error) -> Self {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            return Self {
                failure: ExitReason::OutputClosed,
                message: String::new(),
                causes: Vec::new(),
            };
        }
        Self::run(
            "cannot write the output; what the command did is done all the same (`jetbase status` \
             shows the database as it is)",
        )
        .caused_by(error)
    }
}

/// Every URL the command was given (the configured one, `--scratch-url`, a fleet's), as
/// written, with its secrets' spellings: never to be printed.
static SECRETS: std::sync::Mutex<Vec<Secrets>> = std::sync::Mutex::new(Vec::new());

struct Secrets {
    url: String,
    credentials: Vec<(String, String)>,
}

/// Remembers the secrets of `url` (its password, its secret query values), so that [`scrub`]
/// masks them in anything printed.
pub fn hide_password_of(url: &str) {
    if let Some(secrets) = Secrets::of(url)
        && let Ok(mut known) = SECRETS.lock()
        && !known.iter().any(|known| known.url == secrets.url)
    {
        known.push(secrets);
    }
}

/// `text` with every URL given shown with its secrets masked, and each secret masked wherever
/// it stands as credentials (`user:password@host`) or as a parameter's value (`password=…`).
/// Only where it stands: the same characters elsewhere (a password `p` in `protocol=http`) are
/// left as they are.
pub fn scrub(text: &str) -> String {
    let Ok(known) = SECRETS.lock() else {
        return text.to_owned();
    };
    known
        .iter()
        .fold(text.to_owned(), |text, secrets| secrets.scrub(&text))
}

impl Secrets {
    fn of(url: &str) -> Option<Self> {
        let secrets = jetbase::url::secrets(url);
        if secrets.is_empty() {
            return None;
        }
        // Each secret where it stands: as credentials (`:secret@`) or as its parameter's value
        // (`password=secret`), also percent-decoded, as a driver's message may show it.
        let mut credentials = Vec::new();
        for secret in secrets {
            let decoded = percent_decode(secret);
            let spellings = [secret, decoded.as_str()];
            match parameter_of(url, secret) {
                Some(name) => credentials
                    .extend(spellings.map(|s| (format!("{name}={s}"), format!("{name}=***")))),
                None => {
                    credentials.extend(spellings.map(|s| (format!(":{s}@"), ":***@".to_owned())))
                }
            }
        }
        Some(Self {
            url: url.to_owned(),
            credentials,
        })
    }

    fn scrub(&self, text: &str) -> String {
        let secrets = self;
        let mut text = text.replace(&secrets.url, &jetbase::url::mask_secrets(&secrets.url));
        for (credentials, masked) in &secrets.credentials {
            text = text.replace(credentials.as_str(), masked.as_str());
        }
        text
    }
}

/// The name of the query parameter whose value is `secret` in `url`, if it is one (else it is
/// the password).
fn parameter_of<'u>(url: &'u str, secret: &str) -> Option<&'u str> {
    let query = &url[url.find('?')?..];
    query
        .split(['?', '&'])
        .find_map(|pair| pair.split_once('=').filter(|(_, value)| *value == secret))
        .map(|(name, _)| name)
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
