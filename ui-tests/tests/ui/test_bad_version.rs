static MIGRATOR: jetbase::Migrator = jetbase::embed!("valid");

#[jetbase::test(migrator = MIGRATOR, to_version = "three")]
async fn bad_version(pool: jetbase::AnyPool) {
    drop(pool);
}

fn main() {}
