#[derive(jetbase::Model)]
#[jetbase(tabel = "things")]
struct Thing {
    #[jetbase(primary)]
    id: i64,
    tags: std::collections::HashSet<String>,
    #[jetbase(references = "users")]
    owner: i64,
    #[jetbase(on_delete = "explode", references = "users.id")]
    other: i64,
}

#[derive(jetbase::Model)]
struct Tuple(i64);

fn main() {}
