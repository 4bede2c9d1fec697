static MIGRATOR: jetbase::Migrator = jetbase::embed!("valid");

#[jetbase::test(migrator = MIGRATOR)]
fn not_async(pool: jetbase::AnyPool) {
    drop(pool);
}

fn main() {}
