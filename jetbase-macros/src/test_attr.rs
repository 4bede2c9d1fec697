//! `#[jetbase::test]`: an async test function given a pool on a fresh, migrated database.
//! Parses the options, checks the function's shape (each mistake a compile error on the part
//! that is wrong), and expands to a `#[test]` that hands the body to
//! `jetbase::testing::TestDatabaseBuilder::run`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, FnArg, ItemFn, Lit, LitStr, Meta, Path, ReturnType, Token};

/// The attribute's options.
#[derive(Default)]
struct Options {
    migrator: Option<Path>,
    migrations: Option<bool>,
    to_version: Option<LitStr>,
    fixtures: Vec<LitStr>,
}

pub fn expand(attribute: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let options = parse_options(attribute)?;
    let function: ItemFn = syn::parse2(item)?;
    let signature = &function.sig;
    if signature.asyncness.is_none() {
        return Err(syn::Error::new(
            signature.fn_token.span(),
            "#[jetbase::test] needs an `async fn`",
        ));
    }
    if !signature.generics.params.is_empty() || signature.generics.where_clause.is_some() {
        return Err(syn::Error::new(
            signature.generics.span(),
            "#[jetbase::test] takes no generics: name the pool's type (sqlx::PgPool, \
             sqlx::SqlitePool, sqlx::MySqlPool or jetbase::AnyPool)",
        ));
    }
    let pool_type = match signature.inputs.iter().collect::<Vec<_>>().as_slice() {
        [FnArg::Typed(argument)] => argument.ty.clone(),
        [FnArg::Receiver(receiver)] => {
            return Err(syn::Error::new(
                receiver.span(),
                "#[jetbase::test] takes a pool, not `self`",
            ));
        }
        [] => {
            return Err(syn::Error::new(
                signature.paren_token.span.join(),
                "#[jetbase::test] gives the test a pool: take one argument, as \
                 `pool: sqlx::PgPool` (or SqlitePool, MySqlPool, jetbase::AnyPool)",
            ));
        }
        [_, extra, ..] => {
            return Err(syn::Error::new(
                extra.span(),
                "#[jetbase::test] gives the test one argument, its pool: remove this one",
            ));
        }
    };
    if let ReturnType::Type(_, output) = &signature.output
        && let syn::Type::ImplTrait(_) = output.as_ref()
    {
        return Err(syn::Error::new(
            output.span(),
            "#[jetbase::test] returns `()` or `Result<(), E>`",
        ));
    }

    let name = &signature.ident;
    let attributes = &function.attrs;
    let visibility = &function.vis;
    let mut body_function = function.clone();
    body_function.attrs.clear();
    body_function.vis = syn::Visibility::Inherited;
    body_function.sig.ident = syn::Ident::new("__jetbase_test_body", name.span());

    let (migrator_item, migrator) = match &options.migrator {
        Some(path) => (quote!(), quote!(#path)),
        None => (
            quote! {
                static __JETBASE_TEST_MIGRATOR: ::jetbase::Migrator = ::jetbase::embed!();
            },
            quote!(__JETBASE_TEST_MIGRATOR),
        ),
    };
    let owner = match &options.migrator {
        Some(path) => {
            let text = quote!(#path).to_string().replace(' ', "");
            quote!(::core::concat!(::core::env!("CARGO_PKG_NAME"), "/", #text))
        }
        None => quote!(::core::concat!(::core::env!("CARGO_PKG_NAME"), "/embed!()")),
    };
    // `#[should_panic]` below `#[jetbase::test]`: the test's panic is its success, so its
    // database is dropped then.
    let expects_panic = function
        .attrs
        .iter()
        .any(|attribute| {
            attribute
                .path()
                .segments
                .last()
                .is_some_and(|segment| segment.ident == "should_panic")
        })
        .then(|| quote!(.expects_panic(true)));
    let migrations = options.migrations.map(|apply| quote!(.migrations(#apply)));
    let to_version = options
        .to_version
        .as_ref()
        .map(|version| quote!(.to_version(#version)));
    let fixtures = options.fixtures.iter().map(|path| {
        quote! {
            .fixture(
                #path,
                ::core::include_str!(::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), "/", #path)),
            )
        }
    });
    // The pool's type named where the user wrote it: a type jetbase cannot make a database
    // for is an error on the argument.
    let run = quote_spanned! {pool_type.span()=>
        run::<#pool_type, _, _, _>
    };
    // Also outside the #[test] function, which a build without `--test` leaves out: there
    // the pool's type is checked in every build (trybuild's too).
    let pool_check = quote_spanned! {pool_type.span()=>
        const _: () = {
            fn takes_a_test_pool<P: ::jetbase::testing::TestPool>() {}
            let _ = takes_a_test_pool::<#pool_type>;
        };
    };
    Ok(quote! {
        #pool_check
        #(#attributes)*
        #[::core::prelude::v1::test]
        #visibility fn #name() {
            #migrator_item
            #body_function
            ::jetbase::testing::TestDatabase::builder(&#migrator)
                .owner(#owner)
                .test_name(::core::concat!(::core::module_path!(), "::", ::core::stringify!(#name)))
                #expects_panic
                #migrations
                #to_version
                #(#fixtures)*
                .#run(__jetbase_test_body)
        }
    })
}

fn parse_options(attribute: TokenStream) -> syn::Result<Options> {
    let mut options = Options::default();
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(attribute)?;
    for meta in metas {
        match &meta {
            Meta::NameValue(pair) if pair.path.is_ident("migrator") => {
                let Expr::Path(path) = &pair.value else {
                    return Err(syn::Error::new(
                        pair.value.span(),
                        "`migrator` names a static Migrator, as `migrator = crate::db::MIGRATOR`",
                    ));
                };
                options.migrator = Some(path.path.clone());
            }
            Meta::NameValue(pair) if pair.path.is_ident("migrations") => {
                let Expr::Lit(ExprLit {
                    lit: Lit::Bool(apply),
                    ..
                }) = &pair.value
                else {
                    return Err(syn::Error::new(
                        pair.value.span(),
                        "`migrations` is `true` or `false` (an empty database)",
                    ));
                };
                options.migrations = Some(apply.value);
            }
            Meta::NameValue(pair) if pair.path.is_ident("to_version") => {
                let Expr::Lit(ExprLit {
                    lit: Lit::Str(version),
                    ..
                }) = &pair.value
                else {
                    return Err(syn::Error::new(
                        pair.value.span(),
                        "`to_version` is a string, as `to_version = \"3\"`",
                    ));
                };
                if let Err(error) = jetbase_core::Version::parse(&version.value()) {
                    return Err(syn::Error::new(version.span(), error.to_string()));
                }
                options.to_version = Some(version.clone());
            }
            Meta::List(list) if list.path.is_ident("fixtures") => {
                let paths = Punctuated::<LitStr, Token![,]>::parse_terminated
                    .parse2(list.tokens.clone())
                    .map_err(|error| {
                        syn::Error::new(
                            error.span(),
                            "`fixtures` lists SQL files, relative to Cargo.toml: \
                             fixtures(\"tests/fixtures/users.sql\")",
                        )
                    })?;
                options.fixtures.extend(paths);
            }
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "unknown option of #[jetbase::test]: expected `migrator = PATH`, \
                     `migrations = false`, `to_version = \"VERSION\"` or `fixtures(\"FILE\", ...)`",
                ));
            }
        }
    }
    Ok(options)
}
