static MIGRATOR: jetbase::Migrator = jetbase::embed!("bad_name");

fn main() {
    let _ = &MIGRATOR;
}
