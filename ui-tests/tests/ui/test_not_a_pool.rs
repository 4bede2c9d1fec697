static MIGRATOR: jetbase::Migrator = jetbase::embed!("valid");

#[jetbase::test(migrator = MIGRATOR)]
async fn not_a_pool(pool: String) {
    drop(pool);
}

fn main() {}
