//! How much `embed!()` over 1,000 migration files adds to the build of a small crate, side by
//! side in one run with two peers built the same way:
//! - `include_str!` of the same 1,000 files (embedding the bytes with no parsing: the floor of
//!   any compile-time embedding);
//! - the same crate with no migrations at all (the baseline the addition is measured from).
//!
//! Each round touches `src/main.rs` of each crate in turn and times `cargo build` (dev profile,
//! dependencies already built); the contenders alternate, and medians are reported.
//!
//! `cargo bench -p jetbase-tests --bench embed_build`

use std::fmt::Write as _;
use std::time::Duration;

use jetbase_tests::{TempCrate, touch_later};

const FILES: usize = 1_000;
const ROUNDS: usize = 7;

fn migration(index: usize) -> String {
    let mut body =
        format!("-- upgrade\nCREATE TABLE table_{index} (\n    id BIGINT PRIMARY KEY,\n");
    for column in 0..8 {
        let _ = writeln!(
            body,
            "    column_{column} VARCHAR(255) NOT NULL DEFAULT 'x; {column}',"
        );
    }
    let _ = write!(
        body,
        "    created_at TIMESTAMP\n);\n-- rollback\nDROP TABLE table_{index};\n"
    );
    body
}

fn file_name(index: usize) -> String {
    format!("V{}__create_table_{index}.sql", index + 1)
}

fn with_migrations(name: &str, main_rs: &str) -> TempCrate {
    let krate = TempCrate::new(name, "bench-crates", main_rs, None);
    for index in 0..FILES {
        krate.write(
            &format!("jetbase/migrations/{}", file_name(index)),
            &migration(index),
        );
    }
    krate
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let embed = with_migrations(
        "bench_embed",
        "static MIGRATOR: jetbase::Migrator = jetbase::embed!();\n\
         fn main() { println!(\"{}\", MIGRATOR.migrations().len()); }\n",
    );
    let mut include_main = String::from("static FILES: [&str; 1000] = [\n");
    for index in 0..FILES {
        let _ = writeln!(
            include_main,
            "    include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/jetbase/migrations/{}\")),",
            file_name(index)
        );
    }
    include_main.push_str("];\nfn main() { let _ = jetbase::Migrator::from_dir(\".\"); println!(\"{}\", FILES.len()); }\n");
    let include = with_migrations("bench_include_str", &include_main);
    let baseline = TempCrate::new(
        "bench_baseline",
        "bench-crates",
        "fn main() { let _ = jetbase::Migrator::from_dir(\".\"); println!(\"0\"); }\n",
        None,
    );

    let contenders = [
        ("embed!", &embed),
        ("include_str!", &include),
        ("no migrations", &baseline),
    ];
    for (_, krate) in &contenders {
        krate.build(); // dependencies and a first build, not timed
    }
    assert_eq!(embed.run().trim(), "1000");
    assert_eq!(include.run().trim(), "1000");

    let mut samples = vec![Vec::new(); contenders.len()];
    for _ in 0..ROUNDS {
        for (index, (_, krate)) in contenders.iter().enumerate() {
            touch_later(&krate.path().join("src/main.rs"));
            samples[index].push(krate.build());
        }
    }
    let medians: Vec<Duration> = samples.into_iter().map(median).collect();
    println!(
        "rebuild of a small crate after touching main.rs, median of {ROUNDS} alternated rounds:"
    );
    for ((name, _), time) in contenders.iter().zip(&medians) {
        println!("  {name:<14} {:>8.1} ms", time.as_secs_f64() * 1000.0);
    }
    let added = medians[0].saturating_sub(medians[2]);
    println!(
        "embed! over {FILES} files adds {:.1} ms to the build (include_str! adds {:.1} ms); embed!/include_str! = {:.2}x",
        added.as_secs_f64() * 1000.0,
        medians[1].saturating_sub(medians[2]).as_secs_f64() * 1000.0,
        medians[0].as_secs_f64() / medians[1].as_secs_f64()
    );
}
