static MIGRATOR: jetbase::Migrator = jetbase::embed!("unknown_directive");

fn main() {
    let _ = &MIGRATOR;
}
