//! Procedural macros of Jetbase. Use them through the `jetbase` crate: `jetbase::embed!()` and
//! `#[derive(jetbase::Model)]`.

use proc_macro::TokenStream;

mod embed;
mod model;
mod test_attr;

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

/// Derives `jetbase::Model`: the table a struct describes, for `jetbase make-migrations` and
/// `jetbase::schema::verify`. See `jetbase::Model` for the attributes.
#[proc_macro_derive(Model, attributes(jetbase))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    model::expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// A test on a fresh, migrated database. See `jetbase::test` for the documentation.
#[proc_macro_attribute]
pub fn test(attribute: TokenStream, item: TokenStream) -> TokenStream {
    test_attr::expand(attribute.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
