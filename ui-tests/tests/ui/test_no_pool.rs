static MIGRATOR: jetbase::Migrator = jetbase::embed!("valid");

#[jetbase::test(migrator = MIGRATOR)]
async fn no_pool() {}

fn main() {}
