static MIGRATOR: jetbase::Migrator = jetbase::embed!("valid");

#[jetbase::test(migrator = MIGRATOR, database = "postgres")]
async fn unknown_option(pool: jetbase::AnyPool) {
    drop(pool);
}

fn main() {}
