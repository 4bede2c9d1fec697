use super::*;
use crate::source::{parse_migration, sort_in_apply_order};

fn local(files: &[(&str, &str)]) -> Vec<Migration> {
    let mut migrations: Vec<Migration> = files
        .iter()
        .map(|(name, body)| parse_migration(name, body.as_bytes()).unwrap())
        .collect();
    sort_in_apply_order(&mut migrations);
    migrations
}

fn row(order: i64, migration: &Migration) -> AppliedMigration {
    AppliedMigration {
        order_executed: order,
        version: migration.version().map(|v| v.to_string()),
        description: migration.description().to_owned(),
        filename: migration.filename().to_owned(),
        migration_type: migration.kind().as_str().to_owned(),
        applied_at: "2026-01-01 00:00:00".to_owned(),
        checksum: Some(migration.checksum().to_owned()),
        success: None,
        execution_ms: None,
    }
}

fn set() -> Vec<Migration> {
    local(&[
        ("V10__ten.sql", "SELECT 10;"),
        ("V2__two.sql", "SELECT 2;"),
        ("V1__one.sql", "SELECT 1;"),
        ("V1_1__one_one.sql", "SELECT 11;"),
        ("RA__always.sql", "SELECT 'ra';"),
        ("ROC__on_change.sql", "SELECT 'roc';"),
    ])
}

fn names(local: &[Migration], steps: &[Step]) -> Vec<String> {
    steps
        .iter()
        .map(|s| local[s.index].filename().to_owned())
        .collect()
}

#[test]
fn empty_history_applies_everything_in_order() {
    let local = set();
    let steps = plan_upgrade(&local, &[], &UpgradeOptions::default()).unwrap();
    assert_eq!(
        names(&local, &steps),
        [
            "V1__one.sql",
            "V1_1__one_one.sql",
            "V2__two.sql",
            "V10__ten.sql",
            "RA__always.sql",
            "ROC__on_change.sql"
        ]
    );
    assert!(steps.iter().all(|s| s.record == Record::Insert));
}

#[test]
fn up_to_date_runs_only_runs_always() {
    let local = set();
    let applied: Vec<_> = local
        .iter()
        .enumerate()
        .map(|(i, m)| row(i as i64 + 1, m))
        .collect();
    let steps = plan_upgrade(&local, &applied, &UpgradeOptions::default()).unwrap();
    assert_eq!(names(&local, &steps), ["RA__always.sql"]);
    assert_eq!(steps[0].record, Record::Update);
}

#[test]
fn changed_runs_on_change_runs_again() {
    let local = set();
    let mut applied: Vec<_> = local
        .iter()
        .enumerate()
        .map(|(i, m)| row(i as i64 + 1, m))
        .collect();
    applied[5].checksum = Some("0".repeat(64));
    let steps = plan_upgrade(&local, &applied, &UpgradeOptions::default()).unwrap();
    assert_eq!(
        names(&local, &steps),
        ["RA__always.sql", "ROC__on_change.sql"]
    );
    assert_eq!(steps[1].record, Record::Update);
}

#[test]
fn count_and_to_version_limit_versioned_only() {
    let local = set();
    let options = UpgradeOptions {
        count: Some(2),
        ..Default::default()
    };
    let steps = plan_upgrade(&local, &[], &options).unwrap();
    assert_eq!(
        names(&local, &steps),
        [
            "V1__one.sql",
            "V1_1__one_one.sql",
            "RA__always.sql",
            "ROC__on_change.sql"
        ]
    );
    let options = UpgradeOptions {
        to_version: Some("2.0".parse().unwrap()),
        ..Default::default()
    };
    let steps = plan_upgrade(&local, &[], &options).unwrap();
    assert_eq!(
        names(&local, &steps)[..3],
        ["V1__one.sql", "V1_1__one_one.sql", "V2__two.sql"]
    );

    let applied = vec![row(1, &local[0])];
    for (target, message) in [
        ("1", "already applied"),
        ("3", "no migration file with version 3"),
    ] {
        let options = UpgradeOptions {
            to_version: Some(target.parse().unwrap()),
            ..Default::default()
        };
        let errors = plan_upgrade(&local, &applied, &options).unwrap_err();
        assert!(errors[0].to_string().contains(message), "{}", errors[0]);
    }
}

#[test]
fn validation_finds_every_problem_and_each_can_be_skipped() {
    let local = set();
    // V2 applied with another checksum, V10 applied, V1 pending below it, a version and a
    // repeatable applied whose files are gone, a failed no-transaction row.
    let mut v2 = row(1, &local[2]);
    v2.checksum = Some("f".repeat(64));
    let v10 = row(2, &local[3]);
    let gone = AppliedMigration {
        version: Some("0.5".into()),
        filename: "V0_5__gone.sql".into(),
        ..row(3, &local[0])
    };
    let gone_ra = AppliedMigration {
        filename: "RA__gone.sql".into(),
        ..row(4, &local[4])
    };
    let failed = AppliedMigration {
        success: Some(false),
        ..row(5, &local[1])
    };
    let applied = vec![v2, v10, gone, gone_ra, failed];
    let errors = plan_upgrade(&local, &applied, &UpgradeOptions::default()).unwrap_err();
    let kinds: Vec<&str> = errors
        .iter()
        .map(|e| match e {
            PlanError::ChecksumMismatch { .. } => "checksum",
            PlanError::MissingFile { .. } => "missing",
            PlanError::OutOfOrder { .. } => "order",
            PlanError::Failed { .. } => "failed",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        ["failed", "missing", "checksum", "missing", "order"],
        "{errors:#?}"
    );

    let skip_all = UpgradeOptions {
        skip_validation: true,
        ..Default::default()
    };
    assert!(plan_upgrade(&local, &applied, &skip_all).is_ok());
    let skip_checksum = UpgradeOptions {
        skip_checksum_validation: true,
        ..Default::default()
    };
    let errors = plan_upgrade(&local, &applied, &skip_checksum).unwrap_err();
    assert!(
        !errors
            .iter()
            .any(|e| matches!(e, PlanError::ChecksumMismatch { .. }))
    );
    let skip_files = UpgradeOptions {
        skip_file_validation: true,
        ..Default::default()
    };
    let errors = plan_upgrade(&local, &applied, &skip_files).unwrap_err();
    assert!(
        !errors
            .iter()
            .any(|e| matches!(e, PlanError::MissingFile { .. }))
    );
    let out_of_order = UpgradeOptions {
        out_of_order: true,
        ..Default::default()
    };
    let errors = plan_upgrade(&local, &applied, &out_of_order).unwrap_err();
    assert!(
        !errors
            .iter()
            .any(|e| matches!(e, PlanError::OutOfOrder { .. }))
    );
}

#[test]
fn hand_edited_history_rows_are_reported() {
    let local = set();
    let unknown_type = AppliedMigration {
        migration_type: "SOMETHING".into(),
        ..row(1, &local[0])
    };
    let bad_version = AppliedMigration {
        version: Some("one".into()),
        ..row(2, &local[1])
    };
    let errors = plan_upgrade(
        &local,
        &[unknown_type, bad_version],
        &UpgradeOptions::default(),
    )
    .unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0]
            .to_string()
            .contains("unknown migration_type `SOMETHING`")
    );
    assert!(errors[1].to_string().contains("history row 2"));
}

#[test]
fn rollback_newest_first_by_default_one() {
    let local = set();
    let applied: Vec<_> = local[..4]
        .iter()
        .enumerate()
        .map(|(i, m)| row(i as i64 + 1, m))
        .collect();
    let version = |steps: &[RollbackStep]| -> Vec<String> {
        steps
            .iter()
            .map(|s| s.row.version.clone().unwrap())
            .collect()
    };
    let steps = plan_rollback(&local, &applied, &RollbackOptions::default()).unwrap();
    assert_eq!(version(&steps), ["10"]);
    let steps = plan_rollback(
        &local,
        &applied,
        &RollbackOptions {
            count: Some(3),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(version(&steps), ["10", "2", "1.1"]);
    let steps = plan_rollback(
        &local,
        &applied,
        &RollbackOptions {
            to_version: Some("1.1".parse().unwrap()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(version(&steps), ["10", "2"]);
    let errors = plan_rollback(
        &local,
        &applied,
        &RollbackOptions {
            to_version: Some("7".parse().unwrap()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(errors[0].to_string().contains("version 7 is not applied"));
}

#[test]
fn rollback_of_a_missing_file_is_an_error() {
    let local = set();
    let gone = AppliedMigration {
        version: Some("11".into()),
        filename: "V11__gone.sql".into(),
        ..row(9, &local[0])
    };
    let errors = plan_rollback(&local, &[gone], &RollbackOptions::default()).unwrap_err();
    assert!(matches!(
        errors[..],
        [PlanError::RollbackWithoutFile { .. }]
    ));
    assert!(errors[0].to_string().contains("V11__gone.sql"));
}

#[test]
fn status_of_each_migration() {
    let local = set();
    let mut applied: Vec<_> = local[..2]
        .iter()
        .enumerate()
        .map(|(i, m)| row(i as i64 + 1, m))
        .collect();
    applied[1].checksum = Some("0".repeat(64));
    applied.push(AppliedMigration {
        version: Some("0.1".into()),
        filename: "V0_1__gone.sql".into(),
        ..row(7, &local[0])
    });
    let states: Vec<State> = status(&local, &applied).iter().map(|e| e.state).collect();
    assert_eq!(
        states,
        [
            State::Applied,
            State::ChecksumDrift,
            State::Pending,
            State::Pending,
            State::Pending,
            State::Pending,
            State::MissingFile
        ]
    );
}

/// Another file with other contents taking an applied version is not reported as an edit of
/// the applied file (that sent users looking at the wrong file): both names are given. The
/// same file renamed, contents unchanged, is no problem.
#[test]
fn a_different_file_with_an_applied_version_is_named() {
    let applied_file = local(&[("V1__create_users.sql", "CREATE TABLE users (id INT);")]);
    let applied = vec![row(1, &applied_file[0])];
    let other = local(&[("V1__add_index.sql", "CREATE INDEX i ON users (id);")]);
    let errors = plan_upgrade(&other, &applied, &UpgradeOptions::default()).unwrap_err();
    let message = errors[0].to_string();
    assert!(
        message.starts_with(
            "version 1 was applied as V1__create_users.sql, and the file with that version now \
             is V1__add_index.sql, with other contents"
        ),
        "{message}"
    );
    let edited = local(&[("V1__create_users.sql", "CREATE TABLE users (id BIGINT);")]);
    let errors = plan_upgrade(&edited, &applied, &UpgradeOptions::default()).unwrap_err();
    assert!(
        errors[0]
            .to_string()
            .starts_with("version 1 (V1__create_users.sql) was changed after it was applied"),
        "{errors:?}"
    );
    let renamed = local(&[("V1__users.sql", "CREATE TABLE users (id INT);")]);
    assert!(plan_upgrade(&renamed, &applied, &UpgradeOptions::default()).is_ok());
}

#[test]
fn a_newer_release_s_versions_are_refused_ignored_or_left_to_roll_back() {
    // Release 12 applied V1, V2 and V3; release 11 has V1 and V2, and a V1_5 not applied
    // yet; V0 was deleted from it (a missing file, whatever the policy).
    let release_12 = local(&[
        ("V0__zero.sql", "SELECT 0;"),
        ("V1__one.sql", "SELECT 1;"),
        ("V2__two.sql", "SELECT 2;"),
        ("V3__three.sql", "SELECT 3;"),
    ]);
    let history: Vec<AppliedMigration> = release_12
        .iter()
        .enumerate()
        .map(|(i, m)| row(i as i64 + 1, m))
        .collect();
    let release_11 = local(&[
        ("V1__one.sql", "SELECT 1;"),
        ("V1_5__one_half.sql", "SELECT 15;"),
        ("V2__two.sql", "SELECT 2;"),
    ]);
    let plan = |policy: NewerDatabase, out_of_order: bool| {
        plan_upgrade(
            &release_11,
            &history,
            &UpgradeOptions {
                newer_database: policy,
                out_of_order,
                ..UpgradeOptions::default()
            },
        )
    };
    let kinds = |problems: Vec<PlanError>| -> Vec<String> {
        problems
            .iter()
            .map(|problem| match problem {
                PlanError::NewerDatabase { label, applied_at } => {
                    format!("newer {label} {applied_at}")
                }
                PlanError::MissingFile { label } => format!("missing {label}"),
                PlanError::OutOfOrder { version, .. } => format!("out of order {version}"),
                other => other.to_string(),
            })
            .collect()
    };
    assert_eq!(
        kinds(plan(NewerDatabase::Refuse, true).unwrap_err()),
        [
            "missing version 0 (V0__zero.sql)",
            "newer version 3 (V3__three.sql) 2026-01-01 00:00:00"
        ]
    );
    let message = plan(NewerDatabase::Refuse, true).unwrap_err()[1].to_string();
    for part in [
        "newer release",
        "ignore",
        "roll-back",
        "2026-01-01 00:00:00",
    ] {
        assert!(message.contains(part), "{message}");
    }
    for policy in [NewerDatabase::Ignore, NewerDatabase::RollBack] {
        assert_eq!(
            kinds(plan(policy, false).unwrap_err()),
            [
                "missing version 0 (V0__zero.sql)",
                // Older than V2, this release's latest: V3 does not count.
                "out of order 1.5"
            ]
        );
        // Without the deleted file: only what this release has pending runs.
        let without_v0: Vec<AppliedMigration> = history[1..].to_vec();
        let options = UpgradeOptions {
            newer_database: policy,
            out_of_order: true,
            ..UpgradeOptions::default()
        };
        let steps = plan_upgrade(&release_11, &without_v0, &options).unwrap();
        assert_eq!(names(&release_11, &steps), ["V1_5__one_half.sql"]);
        let refused = UpgradeOptions {
            newer_database: NewerDatabase::Refuse,
            ..options
        };
        assert!(plan_upgrade(&release_11, &without_v0, &refused).is_err());
    }
    // Status: the newer release's row says so.
    let states: Vec<(String, State)> = status(&release_11, &history)
        .into_iter()
        .map(|entry| {
            (
                entry.row.map(|r| r.filename).unwrap_or_default(),
                entry.state,
            )
        })
        .collect();
    assert!(
        states.contains(&("V3__three.sql".to_owned(), State::Newer)),
        "{states:?}"
    );
    assert!(
        states.contains(&("V0__zero.sql".to_owned(), State::MissingFile)),
        "{states:?}"
    );
}
