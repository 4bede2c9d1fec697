static MIGRATOR: jetbase::Migrator = jetbase::embed!("not_utf8");

fn main() {
    let _ = &MIGRATOR;
}
