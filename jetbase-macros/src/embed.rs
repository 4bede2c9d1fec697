//! `embed!()`: parse the input, read the directory through jetbase-core, expand.

use std::path::{Path, PathBuf};

use jetbase_core::{Migration, MigrationKind, scan_dir};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::LitStr;

/// The directory read when `embed!()` is given no path, relative to the crate's manifest.
const DEFAULT_DIRECTORY: &str = "jetbase/migrations";

/// Overrides `CARGO_MANIFEST_DIR` as the base of relative paths (for tests of the macro).
const MANIFEST_DIR_OVERRIDE: &str = "JETBASE_MANIFEST_DIR";

pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let argument: Option<LitStr> = if input.is_empty() {
        None
    } else {
        Some(syn::parse2(input)?)
    };
    let span = argument.as_ref().map_or_else(Span::call_site, LitStr::span);
    let relative = argument
        .as_ref()
        .map_or_else(|| DEFAULT_DIRECTORY.to_owned(), LitStr::value);
    let directory = resolve(&relative, span)?;
    let migrations = scan_dir(&directory).map_err(|scan| {
        let mut errors = scan.problems.iter().map(|problem| {
            syn::Error::new(span, format!("jetbase::embed!(\"{relative}\"): {problem}"))
        });
        let mut combined = errors
            .next()
            .unwrap_or_else(|| syn::Error::new(span, scan.to_string()));
        combined.extend(errors);
        combined
    })?;
    let tracked_files = migrations.iter().map(|migration| {
        let path = directory.join(migration.path());
        let path = path.to_string_lossy();
        quote! { const _: &[u8] = ::core::include_bytes!(#path); }
    });
    let count = migrations.len();
    let items = migrations.iter().map(migration_tokens);
    Ok(quote! {
        {
            #(#tracked_files)*
            static MIGRATIONS: [::jetbase::Migration; #count] = [#(#items),*];
            ::jetbase::Migrator::from_static(&MIGRATIONS)
        }
    })
}

/// The absolute directory: `relative` joined to the manifest directory (or its override).
fn resolve(relative: &str, span: Span) -> syn::Result<PathBuf> {
    let path = Path::new(relative);
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let base = std::env::var_os(MANIFEST_DIR_OVERRIDE)
        .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR"))
        .ok_or_else(|| {
            syn::Error::new(
                span,
                "jetbase::embed!: CARGO_MANIFEST_DIR is not set; build with cargo, or give an absolute path",
            )
        })?;
    Ok(PathBuf::from(base).join(path))
}

fn migration_tokens(migration: &Migration) -> TokenStream {
    let kind = match migration.kind() {
        MigrationKind::Versioned => quote!(Versioned),
        MigrationKind::RunsAlways => quote!(RunsAlways),
        MigrationKind::RunsOnChange => quote!(RunsOnChange),
    };
    let version = option_tokens(migration.version().map(|v| v.as_str()));
    let description = migration.description();
    let filename = migration.filename();
    let path = migration.path();
    let checksum = migration.checksum();
    let upgrade_sql = migration.upgrade_sql();
    let rollback_sql = option_tokens(migration.rollback_sql());
    let rollback_first_line = migration.rollback_first_line();
    let no_transaction = migration.no_transaction();
    let delimiter = option_tokens(migration.delimiter());
    let limits = migration.limits();
    let table_lock_timeout = duration_tokens(limits.table_lock_timeout);
    let statement_timeout = duration_tokens(limits.statement_timeout);
    let retries = match limits.retries {
        Some(count) => quote!(::core::option::Option::Some(#count)),
        None => quote!(::core::option::Option::None),
    };
    quote! {
        ::jetbase::Migration::from_static(::jetbase::StaticMigrationParts {
            kind: ::jetbase::MigrationKind::#kind,
            version: #version,
            description: #description,
            filename: #filename,
            path: #path,
            checksum: #checksum,
            upgrade_sql: #upgrade_sql,
            rollback_sql: #rollback_sql,
            rollback_first_line: #rollback_first_line,
            no_transaction: #no_transaction,
            delimiter: #delimiter,
            limits: ::jetbase::RunLimits {
                table_lock_timeout: #table_lock_timeout,
                statement_timeout: #statement_timeout,
                retries: #retries,
            },
        })
    }
}

/// A duration of whole milliseconds (directives are read to the millisecond).
fn duration_tokens(value: Option<std::time::Duration>) -> TokenStream {
    match value {
        Some(duration) => {
            let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
            quote!(::core::option::Option::Some(::core::time::Duration::from_millis(#millis)))
        }
        None => quote!(::core::option::Option::None),
    }
}

fn option_tokens(value: Option<&str>) -> TokenStream {
    match value {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::None),
    }
}
