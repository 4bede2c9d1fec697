//! What the benchmarks of the `jetbase` command share: running a command and timing it, medians
//! and ratios.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

// (Each benchmark uses some of these.)
#[allow(unused_imports)]
pub use jetbase_tests::bench::{Growth, median, sizes};

/// The path in environment variable `variable`; panics naming the script that sets it.
pub fn required(variable: &str) -> PathBuf {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!("{variable} is not set: run this benchmark through `bash scripts/bench.sh`")
        })
}

/// Runs a command to completion, output discarded; panics when it fails.
pub fn run(command: &mut Command) -> Duration {
    run_expecting(command, 0)
}

/// Runs a command to completion, output discarded; panics unless it exits with `code`.
pub fn run_expecting(command: &mut Command, code: i32) -> Duration {
    let started = Instant::now();
    let output = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("start the command");
    let elapsed = started.elapsed();
    assert!(
        output.status.code() == Some(code),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    elapsed
}

/// The medians of each row, and each row's ratio to the first (jetbase's).
pub fn report(title: &str, rows: &[(&str, Vec<Duration>)]) {
    println!("\n{title}");
    let base = median(rows[0].1.clone());
    for (name, samples) in rows {
        let time = median(samples.clone());
        println!(
            "  {name:<28} {:>10.1} ms   {name} / jetbase = {:.2}x",
            time.as_secs_f64() * 1000.0,
            time.as_secs_f64() / base.as_secs_f64()
        );
    }
}

/// The peak resident memory of a command, in MiB, from `/usr/bin/time -f %M` (KiB).
pub fn peak_memory_mib(command: &Command) -> f64 {
    let mut timed = Command::new("/usr/bin/time");
    timed
        .args(["-f", "%M", "--"])
        .arg(command.get_program())
        .args(command.get_args());
    if let Some(directory) = command.get_current_dir() {
        timed.current_dir(directory);
    }
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            timed.env(key, value);
        }
    }
    let output = timed
        .stdout(Stdio::null())
        .output()
        .expect("run /usr/bin/time");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let kib: f64 = stderr
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .expect("a maximum resident set size");
    kib / 1024.0
}
