static MIGRATOR: jetbase::Migrator = jetbase::embed!("does_not_exist");

fn main() {
    let _ = &MIGRATOR;
}
