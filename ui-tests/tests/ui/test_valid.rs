static MIGRATOR: jetbase::Migrator = jetbase::embed!("valid");

#[jetbase::test(migrator = MIGRATOR, to_version = "1")]
async fn valid(pool: jetbase::AnyPool) -> Result<(), jetbase::Error> {
    MIGRATOR.history(&pool).await.map(drop)
}

fn main() {}
