//! Rebuild when a migration file is added or removed.

fn main() {
    jetbase::build::rerun_if_migrations_change();
}
