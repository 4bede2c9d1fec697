use jetbase::Model as _;

#[derive(jetbase::Model)]
#[jetbase(table = "posts", unique(columns = "author_id, slug"))]
struct Post<'a> {
    #[jetbase(primary_key)]
    id: i64,
    #[jetbase(references = "users.id", on_delete = "set null")]
    author_id: Option<i64>,
    #[jetbase(max_length = 80, index)]
    slug: &'a str,
    #[jetbase(sql_type = "citext", column = "body_text")]
    body: String,
}

fn main() {
    let table = Post::table();
    assert_eq!(table.name, "posts");
    assert_eq!(table.columns[3].name, "body_text");
    assert_eq!(table.indexes.len(), 2);
}
