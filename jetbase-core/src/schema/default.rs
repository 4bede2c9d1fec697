//! Column defaults reduced to one spelling, so that the default a model asks for and the one a
//! database reports back compare equal: PostgreSQL adds casts (`'a'::text`), MariaDB quotes and
//! renames (`current_timestamp()`), SQLite keeps the text as written.

/// The comparable form of a default expression; `None` for no default or `NULL`.
///
/// Outside quoted strings: casts (`::type`) are dropped, letters lowered, whitespace collapsed,
/// wrapping parentheses removed; `now()` and `current_timestamp()` become `current_timestamp`,
/// `true`/`false` become `1`/`0`, and a quoted number is unquoted.
///
/// ```
/// use jetbase_core::schema::canonical_default;
/// assert_eq!(canonical_default("'draft'::character varying").as_deref(), Some("'draft'"));
/// assert_eq!(canonical_default("CURRENT_TIMESTAMP").as_deref(), Some("current_timestamp"));
/// assert_eq!(canonical_default("current_timestamp()").as_deref(), Some("current_timestamp"));
/// assert_eq!(canonical_default("'-1'::integer").as_deref(), Some("-1"));
/// assert_eq!(canonical_default("(0)").as_deref(), Some("0"));
/// assert_eq!(canonical_default("NULL"), None);
/// ```
pub fn canonical_default(expression: &str) -> Option<String> {
    let mut text = lower_outside_quotes(&drop_casts(expression));
    loop {
        let trimmed = text.trim();
        if wraps_whole(trimmed) {
            text = trimmed[1..trimmed.len() - 1].to_owned();
        } else {
            text = trimmed.to_owned();
            break;
        }
    }
    let text = drop_precision(&drop_precision(&text, "current_timestamp"), "now")
        .replace("current_timestamp()", "current_timestamp")
        .replace("now()", "current_timestamp");
    let text = match text.as_str() {
        "" | "null" => return None,
        "true" => "1".to_owned(),
        "false" => "0".to_owned(),
        _ => text,
    };
    Some(unquote_number(&text).unwrap_or(text))
}

/// `name(6)` -> `name()`: MariaDB reports a DATETIME(6) column's `CURRENT_TIMESTAMP` with its
/// precision.
fn drop_precision(text: &str, name: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(name) {
        let (before, from) = rest.split_at(at + name.len());
        out.push_str(before);
        rest = from;
        if let Some(inner) = rest.strip_prefix('(')
            && let Some(close) = inner.find(')')
            && inner[..close].chars().all(|c| c.is_ascii_digit())
        {
            out.push_str("()");
            rest = &inner[close + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// Whether `text` is one parenthesised group: `(a + b)` yes, `(a) + (b)` no.
fn wraps_whole(text: &str) -> bool {
    if !(text.starts_with('(') && text.ends_with(')')) {
        return false;
    }
    let mut depth = 0i32;
    let mut quoted = false;
    for (at, c) in text.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth == 0 && at != text.len() - 1 {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}

fn unquote_number(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    let digits = inner.strip_prefix('-').unwrap_or(inner);
    let numeric = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|&c| c == '.').count() <= 1;
    numeric.then(|| inner.to_owned())
}

/// Removes `::type` casts (with spaces, `"quoted"` names, `(n)` and `[]`), outside strings.
fn drop_casts(expression: &str) -> String {
    let chars: Vec<char> = expression.chars().collect();
    let mut out = String::with_capacity(expression.len());
    let mut at = 0;
    let mut quoted = false;
    while at < chars.len() {
        let c = chars[at];
        if c == '\'' {
            quoted = !quoted;
        }
        if !quoted && c == ':' && chars.get(at + 1) == Some(&':') {
            at += 2;
            while at < chars.len()
                && (chars[at].is_alphanumeric() || matches!(chars[at], '_' | ' ' | '"' | '.'))
            {
                at += 1;
            }
            if chars.get(at) == Some(&'(') {
                while at < chars.len() && chars[at] != ')' {
                    at += 1;
                }
                at += 1;
            }
            while chars.get(at) == Some(&'[') || chars.get(at) == Some(&']') {
                at += 1;
            }
            continue;
        }
        out.push(c);
        at += 1;
    }
    out
}

/// Lower case and single spaces outside single-quoted strings.
fn lower_outside_quotes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quoted = false;
    let mut space = false;
    for c in text.chars() {
        if c == '\'' {
            quoted = !quoted;
        }
        if quoted || c == '\'' {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        } else if c.is_whitespace() {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::canonical_default;

    #[test]
    fn each_database_spelling_meets_the_models() {
        for (model, database) in [
            ("'draft'", "'draft'::text"),
            ("'It''s'", "'It''s'::character varying"),
            ("0", "0"),
            ("-1", "'-1'::integer"),
            ("1.5", "1.5"),
            ("false", "false"),
            ("FALSE", "0"),
            ("CURRENT_TIMESTAMP", "current_timestamp()"),
            ("CURRENT_TIMESTAMP", "current_timestamp(6)"),
            ("now()", "NOW(3)"),
            ("now()", "now()"),
            ("now()", "CURRENT_TIMESTAMP"),
            ("'{}'", "'{}'::jsonb"),
            (
                "'2024-01-01 00:00:00'",
                "'2024-01-01 00:00:00'::timestamp without time zone",
            ),
        ] {
            assert_eq!(
                canonical_default(model),
                canonical_default(database),
                "{model} vs {database}"
            );
        }
    }

    #[test]
    fn strings_keep_their_case_and_spaces() {
        assert_eq!(canonical_default("'A  B'").as_deref(), Some("'A  B'"));
        assert_ne!(canonical_default("'a'"), canonical_default("'A'"));
        assert_eq!(canonical_default("(1) + (2)").as_deref(), Some("(1) + (2)"));
        assert_eq!(canonical_default("  "), None);
    }
}
