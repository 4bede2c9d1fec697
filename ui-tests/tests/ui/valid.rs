static MIGRATOR: jetbase::Migrator = jetbase::embed!("valid");

fn main() {
    let names: Vec<&str> = MIGRATOR.migrations().iter().map(|m| m.path()).collect();
    assert_eq!(names, ["V1__create_a.sql", "nested/RA__view.sql"]);
}
