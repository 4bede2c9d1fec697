static MIGRATOR: jetbase::Migrator = jetbase::embed!("duplicate_version");

fn main() {
    let _ = &MIGRATOR;
}
