static MIGRATOR: jetbase::Migrator = jetbase::embed!("bad_limit");

fn main() {
    let _ = &MIGRATOR;
}
