use super::*;
use proptest::prelude::*;

fn texts(sql: &str, dialect: Dialect) -> Vec<&str> {
    split_statements(sql, 1, dialect)
        .unwrap_or_else(|e| panic!("{dialect}: {e}\n{sql}"))
        .into_iter()
        .map(|s| s.sql)
        .collect()
}

fn all_dialects(sql: &str) -> Vec<&str> {
    let first = texts(sql, Dialect::Postgres);
    for dialect in [Dialect::Sqlite, Dialect::MySql] {
        assert_eq!(texts(sql, dialect), first, "{dialect} differs");
    }
    first
}

#[test]
fn plpgsql_function_of_the_vectors_is_one_statement() {
    let sql = "CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger AS $$\nBEGIN\n    \
               NEW.updated_at := now();\n    RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\n";
    assert_eq!(
        texts(sql, Dialect::Postgres),
        [sql.trim_end().trim_end_matches(';')]
    );
}

#[test]
fn trigger_of_the_vectors_needs_no_directive() {
    let sql = "CREATE TRIGGER items_touch AFTER UPDATE ON items\nBEGIN\n    UPDATE items SET name = \
               name WHERE id = NEW.id;\nEND;\n\nCREATE VIEW item_names AS SELECT name FROM items;\n";
    assert_eq!(
        all_dialects(sql),
        [
            "CREATE TRIGGER items_touch AFTER UPDATE ON items\nBEGIN\n    UPDATE items SET name = \
             name WHERE id = NEW.id;\nEND",
            "CREATE VIEW item_names AS SELECT name FROM items",
        ]
    );
}

#[test]
fn mysql_procedure_with_nested_blocks() {
    let sql = "CREATE DEFINER=`root`@`localhost` PROCEDURE p(IN x INT)\nBEGIN\n  IF x > 0 THEN\n    \
               SELECT 1;\n  ELSE\n    BEGIN SELECT 2; END;\n  END IF;\n  CASE x WHEN 1 THEN SELECT 3; \
               END CASE;\n  WHILE x > 0 DO SET x = x - 1; END WHILE;\n  lbl: LOOP LEAVE lbl; END LOOP lbl;\n\
               END;\nSELECT 4;";
    let statements = texts(sql, Dialect::MySql);
    assert_eq!(statements.len(), 2, "{statements:#?}");
    assert!(statements[0].ends_with("END LOOP lbl;\nEND"));
    assert_eq!(statements[1], "SELECT 4");
}

#[test]
fn begin_atomic_and_case_expressions() {
    let sql = "CREATE FUNCTION f(x int) RETURNS int BEGIN ATOMIC SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END; END;\n\
               SELECT CASE WHEN 1 = 1 THEN 'a' END;\nBEGIN;\nCOMMIT;";
    assert_eq!(
        texts(sql, Dialect::Postgres),
        [
            "CREATE FUNCTION f(x int) RETURNS int BEGIN ATOMIC SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END; END",
            "SELECT CASE WHEN 1 = 1 THEN 'a' END",
            "BEGIN",
            "COMMIT",
        ]
    );
}

#[test]
fn delimiters_and_comment_markers_inside_strings() {
    let sql = "INSERT INTO t VALUES ('a;b', 'it''s -- not a comment', \"odd;name\");\nSELECT `x;y` FROM t";
    assert_eq!(
        all_dialects(sql),
        [
            "INSERT INTO t VALUES ('a;b', 'it''s -- not a comment', \"odd;name\")",
            "SELECT `x;y` FROM t"
        ]
    );
}

#[test]
fn escape_strings_on_postgres() {
    let sql = "SELECT E'it\\'s; fine', e'\\\\';\nSELECT 'C:\\';\nSELECT 2";
    assert_eq!(
        texts(sql, Dialect::Postgres),
        [
            "SELECT E'it\\'s; fine', e'\\\\'",
            "SELECT 'C:\\'",
            "SELECT 2"
        ]
    );
    // `E` that ends a longer word is not an escape-string prefix.
    assert_eq!(
        texts("SELECT some'x\\';\nSELECT 2", Dialect::Postgres),
        ["SELECT some'x\\'", "SELECT 2"]
    );
}

#[test]
fn backslash_escapes_and_hash_comments_on_mysql() {
    let sql = "INSERT INTO t VALUES ('it\\'s; fine', \"q\\\";\"); # trailing; comment\nSELECT 1 --not a comment\n;SELECT 2";
    assert_eq!(
        texts(sql, Dialect::MySql),
        [
            "INSERT INTO t VALUES ('it\\'s; fine', \"q\\\";\")",
            "SELECT 1 --not a comment",
            "SELECT 2"
        ]
    );
}

#[test]
fn nested_dollar_tags() {
    let sql = "DO $outer$\nBEGIN\n  EXECUTE $inner$ SELECT ';' $inner$;\n  RAISE NOTICE $$ $inner$; $$;\nEND\n$outer$;\nSELECT $1, a$b$c FROM t;";
    let statements = texts(sql, Dialect::Postgres);
    assert_eq!(statements.len(), 2, "{statements:#?}");
    assert!(statements[0].starts_with("DO $outer$") && statements[0].ends_with("$outer$"));
    assert_eq!(statements[1], "SELECT $1, a$b$c FROM t");
}

#[test]
fn comments_after_and_between_statements() {
    let sql = "-- leading\nCREATE TABLE a (id INT); -- after; with a semicolon\n/* block; */ CREATE TABLE b (id INT) /* inside */;\n-- only a comment;\n";
    assert_eq!(
        all_dialects(sql),
        ["CREATE TABLE a (id INT)", "CREATE TABLE b (id INT)"]
    );
}

#[test]
fn nested_block_comments_on_postgres_only() {
    let sql = "/* outer /* inner; */ still comment; */ SELECT 1;";
    assert_eq!(texts(sql, Dialect::Postgres), ["SELECT 1"]);
    // SQLite and MySQL close the comment at the first `*/`.
    assert_eq!(
        texts(sql, Dialect::Sqlite),
        ["still comment", "*/ SELECT 1"]
    );
}

#[test]
fn statement_without_final_delimiter() {
    assert_eq!(
        all_dialects("SELECT 1;\nSELECT 2\n\n"),
        ["SELECT 1", "SELECT 2"]
    );
    assert_eq!(all_dialects("  \n-- nothing\n;;\n"), Vec::<&str>::new());
}

#[test]
fn line_numbers_count_from_the_given_first_line() {
    let sql = "\n\nSELECT 1;\r\n\r\n  SELECT\n 2;\rSELECT 3";
    let lines: Vec<usize> = split_statements(sql, 10, Dialect::Postgres)
        .unwrap()
        .iter()
        .map(|s| s.line)
        .collect();
    assert_eq!(lines, [12, 14, 16]);
}

#[test]
fn unterminated_constructs_name_their_line() {
    let cases = [
        (
            "SELECT 1;\nSELECT 'oops;\n",
            Dialect::Postgres,
            Unterminated::SingleQuote,
            2,
        ),
        (
            "SELECT \"oops\n",
            Dialect::Sqlite,
            Unterminated::DoubleQuote,
            1,
        ),
        (
            "\n\nSELECT `oops\n",
            Dialect::MySql,
            Unterminated::Backtick,
            3,
        ),
        (
            "SELECT 1; /* open\n\n",
            Dialect::MySql,
            Unterminated::BlockComment,
            1,
        ),
        (
            "SELECT 1;\n/* a /* b */\n",
            Dialect::Postgres,
            Unterminated::BlockComment,
            2,
        ),
        ("SELECT [oops\n", Dialect::Sqlite, Unterminated::Bracket, 1),
        (
            "SELECT 1;\nDO $body$ BEGIN END $bod$;",
            Dialect::Postgres,
            Unterminated::DollarQuote,
            2,
        ),
        (
            "SELECT 'it\\'s",
            Dialect::MySql,
            Unterminated::SingleQuote,
            1,
        ),
    ];
    for (sql, dialect, kind, line) in cases {
        let error = split_statements(sql, 1, dialect).expect_err(sql);
        assert_eq!((error.kind, error.line), (kind, line), "{sql:?}");
        assert!(
            error.to_string().contains(&format!("line {line}")),
            "{error}"
        );
    }
    let error = split_statements("DO $body$ x", 1, Dialect::Postgres).unwrap_err();
    assert!(error.to_string().contains("`$body$`"), "{error}");
}

#[test]
fn custom_delimiter_follows_python_line_rule() {
    let sql = "-- header\nCREATE TRIGGER items_touch AFTER UPDATE ON items\nBEGIN\n    UPDATE items SET name = name WHERE id = NEW.id;\nEND~\n\nCREATE VIEW v AS SELECT 1~~\n  SELECT 'unterminated'\n";
    let statements = split_with_delimiter(sql, 3, "~");
    let found: Vec<(&str, usize)> = statements.iter().map(|s| (s.sql, s.line)).collect();
    assert_eq!(
        found,
        [
            (
                "CREATE TRIGGER items_touch AFTER UPDATE ON items\nBEGIN\n    UPDATE items SET name = name WHERE id = NEW.id;\nEND",
                4
            ),
            ("CREATE VIEW v AS SELECT 1", 9),
            ("SELECT 'unterminated'", 10),
        ]
    );
    for statement in &statements {
        assert_eq!(
            &sql[statement.offset..statement.offset + statement.sql.len()],
            statement.sql
        );
    }
}

// ---- properties ----

/// A significant piece of SQL that must end up inside a statement unchanged.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "select", "insert", "into", "t", "col_1", "values", "from", "x"
        ])
        .prop_map(str::to_owned),
        "[0-9]{1,4}",
        "[a-z ;\\-/*$]{0,8}".prop_map(|inner| format!("'{}'", inner.replace('\'', "''"))),
        "[a-z ;\\-']{0,8}".prop_map(|inner| format!("\"{inner}\"")),
        "[a-z ;\\-'\"]{0,8}".prop_map(|inner| format!("$body$ {inner} $body$")),
        "[a-z ;']{0,8}".prop_map(|inner| format!("$${inner}$$")),
        prop::sample::select(vec!["(", ")", ",", "=", "+", "."]).prop_map(str::to_owned),
    ]
}

/// Whitespace or a comment, which may stand between pieces and between statements.
fn trivia() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(" ".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n\t".to_owned()),
        "[a-z ;'$]{0,10}".prop_map(|c| format!(" -- {c}\n")),
        "[a-z ;'$]{0,10}".prop_map(|c| format!(" /* {c} */ ")),
    ]
}

fn statement() -> impl Strategy<Value = String> {
    (piece(), prop::collection::vec((trivia(), piece()), 0..6)).prop_map(|(first, rest)| {
        let mut text = first;
        for (gap, next) in rest {
            text.push_str(&gap);
            text.push_str(&next);
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_on_arbitrary_input(text in any::<String>()) {
        for dialect in Dialect::ALL {
            let _ = split_statements(&text, 1, dialect);
        }
        let _ = split_with_delimiter(&text, 1, "~");
    }

    #[test]
    fn never_panics_on_sql_like_input(text in "[a-zA-Z0-9 ;'\"`$/*\\-#\\[\\]\\\\\n\r]{0,64}") {
        for dialect in Dialect::ALL {
            let _ = split_statements(&text, 1, dialect);
        }
    }

    #[test]
    fn statements_are_exact_slices_in_order(
        statements in prop::collection::vec(statement(), 1..6),
        gaps in prop::collection::vec(trivia(), 7),
        final_delimiter in any::<bool>(),
    ) {
        let mut text = gaps[0].clone();
        for (index, statement) in statements.iter().enumerate() {
            text.push_str(statement);
            if index + 1 < statements.len() || final_delimiter {
                text.push(';');
            }
            text.push_str(&gaps[index + 1]);
        }
        let found = split_statements(&text, 1, Dialect::Postgres).unwrap();
        let found_texts: Vec<&str> = found.iter().map(|s| s.sql).collect();
        let expected: Vec<&str> = statements.iter().map(String::as_str).collect();
        prop_assert_eq!(found_texts, expected);
        let mut previous_end = 0;
        for statement in &found {
            prop_assert!(statement.offset >= previous_end);
            prop_assert_eq!(&text[statement.offset..statement.offset + statement.sql.len()], statement.sql);
            previous_end = statement.offset + statement.sql.len();
        }
    }
}

#[test]
fn backslash_at_the_very_end_is_an_open_string_not_a_panic() {
    for text in ["SELECT '\\", "SELECT \"\\", "'\\"] {
        let error = split_statements(text, 1, Dialect::MySql).unwrap_err();
        assert_eq!(error.line, 1, "{text:?}");
    }
}

// ---- Snowflake ----

#[test]
fn snowflake_dollar_strings_slash_comments_and_backslashes() {
    let sql = "CREATE PROCEDURE p() RETURNS VARCHAR LANGUAGE SQL AS $$\nBEGIN\n  RETURN 'a;b';\nEND;\n$$;\n\
               // a comment; with a semicolon\nINSERT INTO t VALUES ('it\\'s; fine', $1);\n\
               SELECT $tag$; SELECT 2";
    assert_eq!(
        texts(sql, Dialect::Snowflake),
        [
            "CREATE PROCEDURE p() RETURNS VARCHAR LANGUAGE SQL AS $$\nBEGIN\n  RETURN 'a;b';\nEND;\n$$",
            "INSERT INTO t VALUES ('it\\'s; fine', $1)",
            // `$tag$` is no string on Snowflake: the `;` after it ends the statement.
            "SELECT $tag$",
            "SELECT 2",
        ]
    );
    // On PostgreSQL `//` is no comment and `$tag$` opens a string.
    assert!(split_statements("SELECT $tag$; SELECT 2", 1, Dialect::Postgres).is_err());
}

#[test]
fn snowflake_scripting_blocks_are_one_statement() {
    let block = "BEGIN\n  CREATE TABLE a (id INT);\n  IF (1 = 1) THEN\n    INSERT INTO a VALUES (1);\n  \
                 END IF;\n  FOR i IN 1 TO 3 DO\n    INSERT INTO a VALUES (:i);\n  END FOR;\n  \
                 BEGIN\n    SELECT 1;\n  END;\nEND";
    let declare = "DECLARE\n  n INTEGER DEFAULT 0;\n  c CURSOR FOR SELECT 1;\nBEGIN\n  n := 1;\n  \
                   CASE WHEN n = 1 THEN n := 2; ELSE n := 3; END CASE;\n  RETURN n;\nEND";
    let sql = format!("{block};\n{declare};\nSELECT 3;");
    assert_eq!(
        texts(&sql, Dialect::Snowflake),
        [block, declare, "SELECT 3"]
    );
}

#[test]
fn snowflake_begin_alone_is_a_transaction() {
    for begin in ["BEGIN", "BEGIN TRANSACTION", "BEGIN WORK", "BEGIN NAME t1"] {
        let sql = format!("{begin};\nINSERT INTO t VALUES (1);\nCOMMIT;");
        assert_eq!(
            texts(&sql, Dialect::Snowflake),
            [begin, "INSERT INTO t VALUES (1)", "COMMIT"],
            "{begin}"
        );
    }
}

#[test]
fn snowflake_task_with_a_block_body() {
    let task = "CREATE TASK t WAREHOUSE = wh SCHEDULE = '1 minute' AS\nBEGIN\n  DELETE FROM a;\n  \
                INSERT INTO a VALUES (1);\nEND";
    let sql = format!("{task};\nALTER TASK t RESUME;");
    assert_eq!(
        texts(&sql, Dialect::Snowflake),
        [task, "ALTER TASK t RESUME"]
    );
}

// ---- ClickHouse ----

#[test]
fn clickhouse_comments_escapes_and_heredocs() {
    let sql = "CREATE TABLE t (\n  id UInt64,\n  note String DEFAULT 'a -- b; it''s \\'c\\'',\n  \
               `odd\\`--;name` String DEFAULT $tag$ -- not a comment; $tag$\n) ENGINE = MergeTree ORDER BY id; -- trailing\n\
               # a hash comment; with a semicolon\n#! a shebang comment; too\n// a slash comment; also\n\
               ALTER TABLE t /* outer /* nested; */ still; */ ADD COLUMN x String DEFAULT \"q\\\"uoted\";\n\
               SELECT $$a; b$$";
    assert_eq!(
        texts(sql, Dialect::ClickHouse),
        [
            "CREATE TABLE t (\n  id UInt64,\n  note String DEFAULT 'a -- b; it''s \\'c\\'',\n  \
             `odd\\`--;name` String DEFAULT $tag$ -- not a comment; $tag$\n) ENGINE = MergeTree ORDER BY id",
            "ALTER TABLE t /* outer /* nested; */ still; */ ADD COLUMN x String DEFAULT \"q\\\"uoted\"",
            "SELECT $$a; b$$",
        ]
    );
}

#[test]
fn clickhouse_functions_are_lambdas_without_bodies() {
    let sql =
        "CREATE FUNCTION sign_of AS (x) -> CASE WHEN x > 0 THEN 1 ELSE 0 END;\nSELECT sign_of(2);";
    assert_eq!(
        texts(sql, Dialect::ClickHouse),
        [
            "CREATE FUNCTION sign_of AS (x) -> CASE WHEN x > 0 THEN 1 ELSE 0 END",
            "SELECT sign_of(2)"
        ]
    );
}

// ---- Databricks ----

#[test]
fn databricks_strings_identifiers_and_comments() {
    let sql = "CREATE TABLE t (\n  id BIGINT,\n  note STRING DEFAULT 'a -- b; it\\'s',\n  \
               `odd``--;name` STRING COMMENT \"say \\\"hi\\\"; ok\"\n); -- trailing; comment\n\
               ALTER TABLE t /* outer /* nested; */ still; */ ADD COLUMNS (x STRING);\n\
               SELECT r'C:\\dir\\' AS path;\n\
               CREATE FUNCTION f(x INT) RETURNS INT LANGUAGE PYTHON AS $$\nreturn x; # not the end\n$$;\n\
               SELECT $tag$ AS not_a_string;";
    assert_eq!(
        texts(sql, Dialect::Databricks),
        [
            "CREATE TABLE t (\n  id BIGINT,\n  note STRING DEFAULT 'a -- b; it\\'s',\n  \
             `odd``--;name` STRING COMMENT \"say \\\"hi\\\"; ok\"\n)",
            "ALTER TABLE t /* outer /* nested; */ still; */ ADD COLUMNS (x STRING)",
            "SELECT r'C:\\dir\\' AS path",
            "CREATE FUNCTION f(x INT) RETURNS INT LANGUAGE PYTHON AS $$\nreturn x; # not the end\n$$",
            "SELECT $tag$ AS not_a_string",
        ]
    );
}

#[test]
fn databricks_compound_statements_and_variables() {
    let block = "BEGIN\n  DECLARE n INT DEFAULT 0;\n  WHILE n < 3 DO\n    INSERT INTO t VALUES (n);\n    \
                 SET n = n + 1;\n  END WHILE;\n  IF n = 3 THEN SELECT 1; END IF;\nEND";
    let sql = format!("DECLARE VARIABLE v INT DEFAULT 1;\nSET VAR v = 2;\n{block};\nSELECT v;");
    assert_eq!(
        texts(&sql, Dialect::Databricks),
        [
            "DECLARE VARIABLE v INT DEFAULT 1",
            "SET VAR v = 2",
            block,
            "SELECT v"
        ]
    );
}
