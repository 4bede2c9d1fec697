use std::borrow::Cow;

use super::*;

fn configured(pairs: &[(&str, &str)]) -> Placeholders {
    let mut placeholders = Placeholders::new();
    for (name, value) in pairs {
        placeholders.insert(name, *value);
    }
    placeholders
}

#[test]
fn nothing_is_replaced_when_none_is_configured() {
    let text = "SELECT '${anything}', '$${x}'";
    let sql = Placeholders::new().substitute(text, 1).unwrap();
    assert!(matches!(sql, Cow::Borrowed(_)));
    assert_eq!(sql, text);
}

#[test]
fn names_are_replaced_without_case_everywhere_in_the_statement() {
    let placeholders = configured(&[("PREFIX", "shop"), ("role", "app_rw")]);
    assert_eq!(
        placeholders
            .substitute(
                "CREATE TABLE ${prefix}_items (id INT);\nGRANT SELECT ON ${Prefix}_items TO ${ROLE}",
                1
            )
            .unwrap(),
        "CREATE TABLE shop_items (id INT);\nGRANT SELECT ON shop_items TO app_rw"
    );
    // Inside string literals and dollar-quoted bodies alike.
    assert_eq!(
        placeholders
            .substitute("DO $$ BEGIN RAISE NOTICE '${prefix}'; END $$", 1)
            .unwrap(),
        "DO $$ BEGIN RAISE NOTICE 'shop'; END $$"
    );
}

#[test]
fn a_doubled_dollar_keeps_the_text_as_written() {
    let placeholders = configured(&[("prefix", "shop")]);
    assert_eq!(
        placeholders
            .substitute("SELECT '$${prefix}', '${prefix}', '$${unknown}'", 1)
            .unwrap(),
        "SELECT '${prefix}', 'shop', '${unknown}'"
    );
    // `$$` of a dollar quote stays a dollar quote, also right before a placeholder.
    assert_eq!(
        placeholders
            .substitute("SELECT $$a$$, $tag$b$tag$", 1)
            .unwrap(),
        "SELECT $$a$$, $tag$b$tag$"
    );
    assert_eq!(
        placeholders
            .substitute("COMMENT ON SCHEMA app IS $$${prefix} schema$$", 1)
            .unwrap(),
        "COMMENT ON SCHEMA app IS $$shop schema$$"
    );
    // The escape in a tagged body, apart from the tag's `$`.
    assert_eq!(
        placeholders
            .substitute("$body$ $${prefix}$body$", 1)
            .unwrap(),
        "$body$ ${prefix}$body$"
    );
    // An even run ends in the escape: `$$` and the text `${prefix}`.
    assert_eq!(
        placeholders.substitute("x $$$${prefix} y", 1).unwrap(),
        "x $$${prefix} y"
    );
    assert!(placeholders.substitute("$$${unknown}$$", 1).is_err());
}

#[test]
fn text_that_is_not_a_braced_name_is_left_alone() {
    let placeholders = configured(&[("x", "1")]);
    for text in [
        "SELECT '${ x }'",
        "SELECT '${1x}'",
        "SELECT '${x + 1}'",
        "SELECT '${'",
        "SELECT '$'",
        "SELECT '${}'",
        "SELECT $1",
        "SELECT '${x",
    ] {
        assert_eq!(placeholders.substitute(text, 1).unwrap(), text, "{text}");
    }
    // Many `${` never closed: each read only as far as its name.
    let long = "${".repeat(100_000);
    assert_eq!(placeholders.substitute(&long, 1).unwrap(), long);
}

#[test]
fn an_unknown_name_is_an_error_with_its_line() {
    let placeholders = configured(&[("prefix", "shop")]);
    let error = placeholders
        .substitute("CREATE TABLE ${prefix}_a (id INT,\n  b ${column_type})", 7)
        .unwrap_err();
    assert_eq!(
        error,
        UnknownPlaceholder {
            name: "column_type".to_owned(),
            line: 8
        }
    );
    assert_eq!(
        error.to_string(),
        "line 8: ${column_type} has no value configured"
    );
}

#[test]
fn values_are_put_in_as_written_and_not_read_again() {
    let placeholders = configured(&[("a", "${b}"), ("b", "two"), ("quote", "it's")]);
    assert_eq!(
        placeholders.substitute("${a} ${b} ${quote}", 1).unwrap(),
        "${b} two it's"
    );
    // Non-ASCII text around and in values.
    let placeholders = configured(&[("name", "café")]);
    assert_eq!(
        placeholders.substitute("SELECT 'é${name}ü'", 1).unwrap(),
        "SELECT 'écaféü'"
    );
}

#[test]
fn names_are_checked_and_secrets_masked() {
    assert!(
        configured(&[("ok_1", ""), ("_x", "")])
            .check_names()
            .is_ok()
    );
    for bad in ["1x", "a-b", "", "a b", "é"] {
        let error = configured(&[(bad, "v")]).check_names().unwrap_err();
        assert_eq!(error.name, bad.to_ascii_lowercase());
        assert!(error.to_string().contains(&format!("{bad:?}")), "{error}");
    }
    let placeholders = configured(&[
        ("db_PASSWORD", "p1"),
        ("api_token", "t1"),
        ("Secret", "s1"),
        ("schema", "public"),
    ]);
    let shown = placeholders.shown();
    assert_eq!(
        shown,
        "api_token=***, db_password=***, schema=public, secret=***"
    );
    let debug = format!("{placeholders:?}");
    for secret in ["p1", "t1", "s1"] {
        assert!(!debug.contains(secret), "{debug}");
    }
}
