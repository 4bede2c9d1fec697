//! The `jetbase` binary answers `--version` and `--help`.

use std::process::Command;

fn jetbase(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_jetbase"))
        .args(args)
        .output()
        .expect("run jetbase");
    let code = output.status.code().expect("an exit code");
    (
        code,
        String::from_utf8(output.stdout).expect("UTF-8 output"),
    )
}

#[test]
fn version_names_the_package_version() {
    let (code, stdout) = jetbase(&["--version"]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout.trim(),
        format!("jetbase {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help_describes_the_tool() {
    let (code, stdout) = jetbase(&["--help"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("Usage: jetbase"), "{stdout}");
    assert!(stdout.contains("migrations"), "{stdout}");
}

#[test]
fn unknown_arguments_are_usage_errors() {
    let (code, _) = jetbase(&["--no-such-flag"]);
    assert_eq!(code, 2);
}
