static MIGRATOR: jetbase::Migrator = jetbase::embed!("several_problems");

fn main() {
    let _ = &MIGRATOR;
}
