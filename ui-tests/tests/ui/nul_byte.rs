static MIGRATOR: jetbase::Migrator = jetbase::embed!("nul_byte");

fn main() {
    let _ = &MIGRATOR;
}
