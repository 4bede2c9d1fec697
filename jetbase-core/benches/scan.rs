//! Scanning, parsing and checksumming 10,000 migration files of about 1 KB, side by side with the
//! floor: reading the same files and hashing their raw bytes with SHA-256 (no parsing at all).
//!
//! `cargo bench -p jetbase-core --bench scan`

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use sha2::{Digest, Sha256};

const FILES: usize = 10_000;

/// A realistic ~1 KB migration: a table with columns, an index, comments and a rollback.
fn migration_body(index: usize) -> String {
    let mut body = format!("-- upgrade\n-- Table number {index}, created for the benchmark.\n");
    body.push_str(&format!(
        "CREATE TABLE table_{index} (\n    id BIGINT PRIMARY KEY,\n"
    ));
    for column in 0..13 {
        body.push_str(&format!(
            "    column_{column:02} VARCHAR(255) NOT NULL DEFAULT 'value; {column}',\n"
        ));
    }
    body.push_str("    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n);\n\n");
    body.push_str(&format!(
        "CREATE INDEX ix_table_{index}_c0 ON table_{index} (column_00);\n\n"
    ));
    body.push_str(&format!(
        "-- rollback\nDROP INDEX ix_table_{index}_c0;\nDROP TABLE table_{index};\n"
    ));
    body
}

fn write_files(directory: &Path) -> usize {
    let mut bytes = 0;
    for index in 0..FILES {
        let body = migration_body(index);
        bytes += body.len();
        let name = format!("V{}__create_table_{index}.sql", index + 1);
        std::fs::write(directory.join(name), body).expect("write a benchmark file");
    }
    bytes
}

fn read_and_hash_raw(directory: &Path) -> usize {
    let mut hashed = 0;
    let mut entries: Vec<_> = std::fs::read_dir(directory)
        .expect("read the benchmark directory")
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let bytes = std::fs::read(path).expect("read a benchmark file");
        hashed += Sha256::digest(&bytes)[0] as usize;
    }
    hashed
}

fn scan(c: &mut Criterion) {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let bytes = write_files(directory.path());
    eprintln!("{FILES} files, {} bytes on average", bytes / FILES);
    let mut group = c.benchmark_group("scan_10000_files");
    group.sample_size(20);
    group.bench_function("jetbase_scan_dir", |b| {
        b.iter(|| {
            let migrations =
                jetbase_core::scan_dir(black_box(directory.path())).expect("valid files");
            assert_eq!(migrations.len(), FILES);
            migrations
        })
    });
    group.bench_function("floor_read_and_sha256_raw_bytes", |b| {
        b.iter(|| read_and_hash_raw(black_box(directory.path())))
    });
    let bodies: Vec<(String, String)> = (0..FILES)
        .map(|index| {
            (
                format!("V{}__create_table_{index}.sql", index + 1),
                migration_body(index),
            )
        })
        .collect();
    group.bench_function("jetbase_parse_in_memory_one_thread", |b| {
        b.iter(|| {
            for (name, body) in &bodies {
                black_box(
                    jetbase_core::parse_migration(name, body.as_bytes()).expect("valid file"),
                );
            }
        })
    });
    group.finish();
}

criterion_group!(benches, scan);
criterion_main!(benches);
