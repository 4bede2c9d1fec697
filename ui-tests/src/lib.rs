//! No code: this crate holds the trybuild tests of `jetbase::embed!` and `derive(jetbase::Model)`
//! (`tests/ui.rs`), built against jetbase without database features.
