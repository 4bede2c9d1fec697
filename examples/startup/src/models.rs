//! The tables this application expects, checked at startup with `jetbase::schema::verify`
//! (and read by `jetbase make-migrations`, which finds `models.rs` files).

/// A note.
#[derive(Debug, jetbase::Model)]
#[allow(dead_code)] // The application would read rows into it; this example checks the schema.
#[jetbase(table = "notes")]
pub struct Note {
    /// Its number.
    #[jetbase(primary_key)]
    pub id: i64,
    /// What it says.
    #[jetbase(max_length = 200)]
    pub body: String,
}
