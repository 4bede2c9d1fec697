//! `#[derive(Model)]`: the struct -> `jetbase_core::schema::table_from_struct` -> code that builds
//! the same [`Table`] at run time, so the CLI (which reads the source) and the application (which
//! runs the derive's code) see one definition.

use jetbase_core::schema::{Column, ForeignKey, OnDelete, SqlType, Table, table_from_struct};
use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput};

/// Expands the derive, or returns every mistake in the struct's attributes.
pub fn expand(input: TokenStream) -> Result<TokenStream, syn::Error> {
    let input: DeriveInput = syn::parse2(input)?;
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            input.ident.span(),
            "#[derive(Model)] needs a struct with named fields",
        ));
    };
    let table = table_from_struct(&input.attrs, &input.ident, &data.fields)?;
    let build = table_tokens(&table);
    let ident = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics ::jetbase::Model for #ident #type_generics #where_clause {
            fn table() -> ::jetbase::schema::Table {
                #build
            }
        }
    })
}

fn table_tokens(table: &Table) -> TokenStream {
    let name = &table.name;
    let columns = table.columns.iter().map(column_tokens);
    let primary_key = (!table.primary_key.is_empty()).then(|| {
        let columns = &table.primary_key;
        quote!(.primary_key([#(#columns),*]))
    });
    // Composite and single-column indexes alike: `index` names them as the parser did.
    let indexes = table.indexes.iter().map(|index| {
        let columns = &index.columns;
        let unique = index.unique;
        quote!(.index([#(#columns),*], #unique))
    });
    let keys = table.foreign_keys.iter().map(key_tokens);
    quote! {
        ::jetbase::schema::Table::new(#name)
            #(.column(#columns))*
            #primary_key
            #(#indexes)*
            #(.foreign_key(#keys))*
    }
}

fn column_tokens(column: &Column) -> TokenStream {
    let name = &column.name;
    let sql_type = sql_type_tokens(&column.sql_type);
    let nullable = column.nullable;
    let default = column
        .default
        .as_ref()
        .map(|default| quote!(.default(#default)));
    quote!(::jetbase::schema::Column::new(#name, #sql_type).nullable(#nullable) #default)
}

fn sql_type_tokens(sql_type: &SqlType) -> TokenStream {
    let variant = match sql_type {
        SqlType::TinyInt => quote!(TinyInt),
        SqlType::SmallInt => quote!(SmallInt),
        SqlType::Integer => quote!(Integer),
        SqlType::BigInt => quote!(BigInt),
        SqlType::Unsigned(bits) => quote!(Unsigned(#bits)),
        SqlType::Boolean => quote!(Boolean),
        SqlType::Real => quote!(Real),
        SqlType::Double => quote!(Double),
        SqlType::Text => quote!(Text),
        SqlType::Varchar(length) => quote!(Varchar(#length)),
        SqlType::Bytes => quote!(Bytes),
        SqlType::Date => quote!(Date),
        SqlType::Time => quote!(Time),
        SqlType::Timestamp => quote!(Timestamp),
        SqlType::TimestampTz => quote!(TimestampTz),
        SqlType::Uuid => quote!(Uuid),
        SqlType::Json => quote!(Json),
        SqlType::Decimal => quote!(Decimal),
        SqlType::Raw(sql) => quote!(Raw(::std::string::String::from(#sql))),
        // A type the core gains is spelled out rather than lost.
        other => {
            let sql = other.to_string();
            quote!(Raw(::std::string::String::from(#sql)))
        }
    };
    quote!(::jetbase::schema::SqlType::#variant)
}

fn key_tokens(key: &ForeignKey) -> TokenStream {
    let columns = &key.columns;
    let table = &key.references_table;
    let references = &key.references_columns;
    let name = &key.name;
    let on_delete = match key.on_delete {
        OnDelete::Restrict => quote!(Restrict),
        OnDelete::Cascade => quote!(Cascade),
        OnDelete::SetNull => quote!(SetNull),
        OnDelete::SetDefault => quote!(SetDefault),
        _ => quote!(NoAction),
    };
    quote! {
        ::jetbase::schema::ForeignKey::new([#(#columns),*], #table, [#(#references),*])
            .on_delete(::jetbase::schema::OnDelete::#on_delete)
            .named(#name)
    }
}
