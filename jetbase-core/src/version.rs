//! Migration versions: parsing, canonical equality and numeric ordering.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// The version of a versioned migration, such as `1`, `1.5` or `20260204.120000`.
///
/// Versions compare numerically segment by segment; missing segments count as 0 and leading zeros
/// are ignored, so `20`, `20.0` and `020` are the same version. The text is kept in its stored form
/// (`_` written as `.`), which is what the history table holds.
///
/// ```
/// use jetbase_core::Version;
///
/// let a: Version = "1_2".parse()?;
/// assert_eq!(a.as_str(), "1.2");
/// assert!(a < "10".parse()?);
/// assert_eq!("20".parse::<Version>()?, "020.0".parse()?);
/// # Ok::<(), jetbase_core::VersionError>(())
/// ```
#[derive(Clone)]
pub struct Version {
    text: Cow<'static, str>,
}

/// A version string that does not match `^\d+([._]\d+)*$`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{text}` is not a valid version: use digits separated by `.` or `_`, such as `1`, `1.2` or `20260204.120000`"
)]
pub struct VersionError {
    /// The text that was rejected.
    pub text: String,
}

impl Version {
    /// Parses a version written as in a file name (`1_2`) or as stored (`1.2`).
    ///
    /// # Errors
    ///
    /// Returns [`VersionError`] when `text` is not digits separated by single `.` or `_`.
    pub fn parse(text: &str) -> Result<Self, VersionError> {
        if !is_valid_version(text) {
            return Err(VersionError {
                text: text.to_owned(),
            });
        }
        Ok(Self {
            text: Cow::Owned(text.replace('_', ".")),
        })
    }

    /// Builds a version from text that is already valid and in stored form.
    ///
    /// Used by the code that `embed!()` generates, after the macro validated the text.
    #[doc(hidden)]
    pub const fn from_validated_static(text: &'static str) -> Self {
        Self {
            text: Cow::Borrowed(text),
        }
    }

    /// The stored form: the file's version with `_` replaced by `.`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The numeric segments without leading zeros, with trailing zero segments dropped, so that
    /// equal versions have equal canonical segments.
    fn canonical_segments(&self) -> impl Iterator<Item = &str> {
        let significant = self.text.trim_end_matches(['0', '.']).len();
        // Trimming stopped inside the last non-zero segment: extend to that segment's end.
        let end = self.text[significant..]
            .find('.')
            .map_or(self.text.len(), |dot| significant + dot);
        let kept = if significant == 0 {
            ""
        } else {
            &self.text[..end]
        };
        kept.split('.')
            .filter(move |_| !kept.is_empty())
            .map(strip_leading_zeros)
    }
}

/// Whether `text` matches `^\d+([._]\d+)*$` (ASCII digits only).
pub(crate) fn is_valid_version(text: &str) -> bool {
    !text.is_empty()
        && text
            .split(['.', '_'])
            .all(|segment| !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()))
}

fn strip_leading_zeros(segment: &str) -> &str {
    let trimmed = segment.trim_start_matches('0');
    if trimmed.is_empty() { "0" } else { trimmed }
}

fn compare_segments(left: &str, right: &str) -> Ordering {
    left.len().cmp(&right.len()).then_with(|| left.cmp(right))
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let mut left = self.canonical_segments();
        let mut right = other.canonical_segments();
        loop {
            match (left.next(), right.next()) {
                (None, None) => return Ordering::Equal,
                (l, r) => {
                    let order = compare_segments(l.unwrap_or("0"), r.unwrap_or("0"));
                    if order != Ordering::Equal {
                        return order;
                    }
                }
            }
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl Hash for Version {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for segment in self.canonical_segments() {
            segment.hash(state);
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Version({})", self.text)
    }
}

impl std::str::FromStr for Version {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn valid_and_invalid_texts() {
        let cases = [
            ("1", true),
            ("1.2", true),
            ("1_2", true),
            ("1_2.3", true),
            ("20260204.120000", true),
            ("007", true),
            ("", false),
            ("1.", false),
            (".1", false),
            ("1..2", false),
            ("1__2", false),
            ("1.a", false),
            ("v1", false),
            ("1-2", false),
            ("١", false), // a non-ASCII digit
            (" 1", false),
        ];
        for (text, valid) in cases {
            assert_eq!(Version::parse(text).is_ok(), valid, "{text:?}");
        }
    }

    #[test]
    fn stored_form_replaces_underscores() {
        assert_eq!(v("1_2_0").as_str(), "1.2.0");
        assert_eq!(v("1.2_3").to_string(), "1.2.3");
    }

    #[test]
    fn orders_numerically_segment_by_segment() {
        let ordered = [
            "1",
            "1.1",
            "1.5",
            "2",
            "10",
            "20",
            "20.0.1",
            "20260204.120000",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
            assert!(v(pair[1]) > v(pair[0]));
        }
        assert!(v("9") < v("10"));
        assert!(v("1.9") < v("1.10"));
        assert!(v("99999999999999999999999") < v("100000000000000000000000"));
    }

    #[test]
    fn canonical_equality() {
        for (a, b) in [
            ("20", "20.0"),
            ("20", "020"),
            ("1.2", "1_2"),
            ("1.02", "1.2.0.0"),
            ("0", "0.0"),
        ] {
            assert_eq!(v(a), v(b), "{a} = {b}");
            let set: HashSet<Version> = [v(a), v(b)].into_iter().collect();
            assert_eq!(set.len(), 1, "{a} and {b} hash alike");
        }
        assert_ne!(v("1.2"), v("1.20"));
        assert_ne!(v("2"), v("20"));
    }

    #[test]
    fn error_names_the_text_and_the_expected_form() {
        let message = Version::parse("1.x").unwrap_err().to_string();
        assert!(message.contains("`1.x`"), "{message}");
        assert!(message.contains("digits separated by"), "{message}");
    }
}
