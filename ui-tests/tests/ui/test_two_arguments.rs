static MIGRATOR: jetbase::Migrator = jetbase::embed!("valid");

#[jetbase::test(migrator = MIGRATOR)]
async fn two_arguments(pool: jetbase::AnyPool, name: String) {
    drop((pool, name));
}

fn main() {}
