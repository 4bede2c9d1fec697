//! Lists the migrations embedded from `jetbase/migrations`, in apply order.

static MIGRATOR: jetbase::Migrator = jetbase::embed!();

fn main() {
    for migration in MIGRATOR.migrations() {
        let version = migration.version().map_or("-", |version| version.as_str());
        println!(
            "{:<14} {:<8} {} {}",
            migration.kind().as_str(),
            version,
            &migration.checksum()[..12],
            migration.description()
        );
    }
}
