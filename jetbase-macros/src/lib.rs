//! Procedural macros of Jetbase. Use them through the `jetbase` crate: `jetbase::embed!()`.

use proc_macro::TokenStream;

mod embed;

/// Compiles a migrations directory into the binary. See `jetbase::embed!` for the documentation.
#[proc_macro]
pub fn embed(input: TokenStream) -> TokenStream {
    embed::expand(input.into())
        .unwrap_or_else(|error| {
            // The errors, then a well-typed value, so that the only messages are ours.
            let errors = error.into_compile_error();
            quote::quote!({
                #errors
                ::jetbase::Migrator::from_static(&[])
            })
        })
        .into()
}
