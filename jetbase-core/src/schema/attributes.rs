//! `#[derive(Model)]`'s input -> [`Table`]: the one reading of `#[jetbase(...)]` attributes,
//! shared by the derive macro (at compile time) and the CLI (which parses `.rs` files without
//! compiling them). Every mistake is a `syn::Error` pointing at its tokens; all of a struct's
//! mistakes come back at once.

use syn::spanned::Spanned;
use syn::{Attribute, Fields, GenericArgument, Ident, LitInt, LitStr, PathArguments, Type};

use super::{Column, ForeignKey, OnDelete, SqlType, Table};

const FIELD_KEYS: &str = "primary_key, unique, index, max_length, sql_type, default, references, \
                          on_delete, column, skip";
const STRUCT_KEYS: &str = "table, index(columns = \"a, b\"), unique(columns = \"a, b\")";

/// The table a `#[derive(Model)]` struct describes.
///
/// # Errors
///
/// Every malformed or unknown `#[jetbase(...)]` attribute, every field type without an SQL
/// mapping, and a struct without named fields: one `syn::Error` holding them all.
///
/// ```
/// let item: syn::DeriveInput = syn::parse_quote! {
///     #[jetbase(table = "users", unique(columns = "name, email"))]
///     struct User {
///         #[jetbase(primary_key)]
///         id: i64,
///         #[jetbase(max_length = 80)]
///         name: String,
///         email: Option<String>,
///     }
/// };
/// let syn::Data::Struct(data) = &item.data else { unreachable!() };
/// let table = jetbase_core::schema::table_from_struct(&item.attrs, &item.ident, &data.fields)?;
/// assert_eq!(table.name, "users");
/// assert_eq!(table.primary_key, ["id"]);
/// assert!(table.columns[2].nullable);
/// assert_eq!(table.indexes[0].name, "uq_users_name_email");
/// # Ok::<(), syn::Error>(())
/// ```
pub fn table_from_struct(
    attributes: &[Attribute],
    ident: &Ident,
    fields: &Fields,
) -> Result<Table, syn::Error> {
    let mut errors = Errors::default();
    let options = read_struct_options(attributes, &mut errors);
    let name = options
        .table
        .unwrap_or_else(|| snake_case(&ident.to_string()));
    let mut table = Table::new(name);
    let Fields::Named(named) = fields else {
        return Err(syn::Error::new(
            ident.span(),
            "#[derive(Model)] needs a struct with named fields",
        ));
    };
    let mut primary_key = Vec::new();
    let mut field_names = Vec::new();
    for field in &named.named {
        let Some(field_ident) = &field.ident else {
            continue;
        };
        let options = read_field_options(&field.attrs, &mut errors);
        if options.skip {
            continue;
        }
        let column_name = options.column.clone().unwrap_or_else(|| unraw(field_ident));
        field_names.push((unraw(field_ident), column_name.clone()));
        let Some(column) = errors.keep(column_of(field_ident, &field.ty, &options, &column_name))
        else {
            continue;
        };
        table = table.column(column);
        if options.primary_key {
            primary_key.push(column_name.clone());
        }
        if options.unique || options.index {
            table = table.index([column_name.clone()], options.unique);
        }
        if let Some(key) = foreign_key_of(&options, &column_name, &mut errors) {
            table = table.foreign_key(key);
        }
    }
    if !primary_key.is_empty() {
        table = table.primary_key(primary_key);
    }
    for (columns, unique, span) in options.composite {
        if let Some(resolved) = composite_columns(&columns, span, &field_names, &mut errors) {
            table = table.index(resolved, unique);
        }
    }
    errors.finish(table)
}

/// The foreign key of a field with `references = "table.column"`; its mistakes go to `errors`.
fn foreign_key_of(options: &FieldOptions, column: &str, errors: &mut Errors) -> Option<ForeignKey> {
    let Some((target, span)) = &options.references else {
        if let Some(span) = options.on_delete_span {
            errors.push(syn::Error::new(
                span,
                "on_delete needs references = \"table.column\" on the same field",
            ));
        }
        return None;
    };
    match target.split_once('.') {
        Some((to_table, to_column)) if !to_table.is_empty() && !to_column.is_empty() => Some(
            ForeignKey::new([column], to_table, [to_column])
                .on_delete(options.on_delete.unwrap_or(OnDelete::NoAction)),
        ),
        _ => {
            errors.push(syn::Error::new(
                *span,
                format!(
                    "references = \"{target}\" must be \"table.column\", for example \
                     references = \"users.id\""
                ),
            ));
            None
        }
    }
}

/// The columns of `index(columns = "a, b")`, each named by its field or its column; unknown names
/// go to `errors`.
fn composite_columns(
    columns: &str,
    span: proc_macro2::Span,
    field_names: &[(String, String)],
    errors: &mut Errors,
) -> Option<Vec<String>> {
    let mut resolved = Vec::new();
    for wanted in columns.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        match field_names
            .iter()
            .find(|(field, column)| field == wanted || column == wanted)
        {
            Some((_, column)) => resolved.push(column.clone()),
            None => errors.push(syn::Error::new(
                span,
                format!("`{wanted}` is not a column of this model (columns = \"{columns}\")"),
            )),
        }
    }
    if resolved.is_empty() {
        errors.push(syn::Error::new(span, "columns = \"...\" names no column"));
        return None;
    }
    Some(resolved)
}

/// Collects errors so that all of them are reported together.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn keep<T>(&mut self, result: Result<T, syn::Error>) -> Option<T> {
        result.map_err(|error| self.push(error)).ok()
    }

    fn finish<T>(self, value: T) -> Result<T, syn::Error> {
        match self.0 {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }
}

#[derive(Default)]
struct StructOptions {
    table: Option<String>,
    composite: Vec<(String, bool, proc_macro2::Span)>,
}

/// What the attributes say, as far as they could be read; the mistakes go to `errors`.
fn read_struct_options(attributes: &[Attribute], errors: &mut Errors) -> StructOptions {
    let mut options = StructOptions::default();
    for attribute in attributes.iter().filter(|a| a.path().is_ident("jetbase")) {
        let parsed = attribute.parse_nested_meta(|meta| {
            if meta.path.is_ident("table") {
                let name: LitStr = meta.value()?.parse()?;
                if name.value().trim().is_empty() {
                    return Err(syn::Error::new(name.span(), "table = \"...\" is empty"));
                }
                options.table = Some(name.value());
            } else if meta.path.is_ident("index") || meta.path.is_ident("unique") {
                let unique = meta.path.is_ident("unique");
                let span = meta.path.span();
                let mut columns = None;
                meta.parse_nested_meta(|inner| {
                    if inner.path.is_ident("columns") {
                        columns = Some(inner.value()?.parse::<LitStr>()?.value());
                        Ok(())
                    } else {
                        Err(inner.error("expected columns = \"a, b\""))
                    }
                })?;
                let columns = columns.ok_or_else(|| {
                    syn::Error::new(span, "expected columns = \"a, b\" inside the parentheses")
                })?;
                options.composite.push((columns, unique, span));
            } else {
                return Err(meta.error(format!(
                    "unknown jetbase attribute on a struct; expected one of: {STRUCT_KEYS} \
                     (field attributes go on fields)"
                )));
            }
            Ok(())
        });
        errors.keep(parsed);
    }
    options
}

#[derive(Default)]
struct FieldOptions {
    primary_key: bool,
    unique: bool,
    index: bool,
    skip: bool,
    max_length: Option<(u32, proc_macro2::Span)>,
    sql_type: Option<String>,
    default: Option<String>,
    references: Option<(String, proc_macro2::Span)>,
    on_delete: Option<OnDelete>,
    on_delete_span: Option<proc_macro2::Span>,
    column: Option<String>,
}

fn read_field_options(attributes: &[Attribute], errors: &mut Errors) -> FieldOptions {
    let mut options = FieldOptions::default();
    for attribute in attributes.iter().filter(|a| a.path().is_ident("jetbase")) {
        let mut late = Vec::new();
        let parsed = attribute.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            match key.as_str() {
                "primary_key" => options.primary_key = true,
                "unique" => options.unique = true,
                "index" => options.index = true,
                "skip" => options.skip = true,
                "max_length" => {
                    let length: LitInt = meta.value()?.parse()?;
                    let value = length.base10_parse::<u32>()?;
                    if value == 0 {
                        return Err(syn::Error::new(
                            length.span(),
                            "max_length must be at least 1",
                        ));
                    }
                    options.max_length = Some((value, length.span()));
                }
                "sql_type" | "default" | "references" | "on_delete" | "column" => {
                    let text: LitStr = meta.value()?.parse()?;
                    let value = text.value();
                    if value.trim().is_empty() {
                        return Err(syn::Error::new(
                            text.span(),
                            format!("{key} = \"\" is empty"),
                        ));
                    }
                    match key.as_str() {
                        "sql_type" => options.sql_type = Some(value),
                        "default" => options.default = Some(value),
                        "references" => options.references = Some((value, text.span())),
                        "column" => options.column = Some(value),
                        _ => {
                            options.on_delete_span = Some(text.span());
                            // A bad value is reported, and the attribute read on.
                            match OnDelete::parse(&value) {
                                Some(on_delete) => options.on_delete = Some(on_delete),
                                None => late.push(syn::Error::new(
                                    text.span(),
                                    format!(
                                        "on_delete = \"{value}\" is not one of \"cascade\", \
                                         \"set null\", \"restrict\", \"no action\", \"set default\""
                                    ),
                                )),
                            }
                        }
                    }
                }
                _ => {
                    return Err(meta.error(format!(
                        "unknown jetbase attribute on a field; expected one of: {FIELD_KEYS}"
                    )));
                }
            }
            Ok(())
        });
        errors.keep(parsed);
        for error in late {
            errors.push(error);
        }
    }
    options
}

fn column_of(
    field: &Ident,
    ty: &Type,
    options: &FieldOptions,
    column_name: &str,
) -> Result<Column, syn::Error> {
    let (inner, nullable) = match option_inner(ty) {
        Some(inner) => (inner, true),
        None => (ty, false),
    };
    let sql_type = match &options.sql_type {
        Some(sql) => SqlType::Raw(sql.clone()),
        None => {
            let (name, argument) = type_name(inner);
            let max_length = options.max_length.map(|(length, _)| length);
            if let Some((_, span)) = options.max_length
                && !matches!(name.as_deref(), Some("String" | "str"))
            {
                return Err(syn::Error::new(
                    span,
                    format!("max_length applies to String fields; `{field}` is not one"),
                ));
            }
            name.as_deref()
                .and_then(|name| SqlType::from_rust(name, argument.as_deref(), max_length))
                .ok_or_else(|| {
                    syn::Error::new(
                        inner.span(),
                        format!(
                            "no SQL type for the type of field `{field}`; name one with \
                             #[jetbase(sql_type = \"...\")], or leave the field out with \
                             #[jetbase(skip)]"
                        ),
                    )
                })?
        }
    };
    let mut column = Column::new(column_name, sql_type).nullable(nullable);
    if let Some(default) = &options.default {
        column = column.default(default.clone());
    }
    Ok(column)
}

/// `T` of `Option<T>`.
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    first_type_argument(&last.arguments)
}

fn first_type_argument(arguments: &PathArguments) -> Option<&Type> {
    let PathArguments::AngleBracketed(arguments) = arguments else {
        return None;
    };
    arguments.args.iter().find_map(|argument| match argument {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    })
}

/// The last path segment's name, and its first type argument's (`Vec<u8>` -> `Vec`, `u8`).
fn type_name(ty: &Type) -> (Option<String>, Option<String>) {
    match ty {
        Type::Reference(reference) => type_name(&reference.elem),
        Type::Path(path) => match path.path.segments.last() {
            Some(last) => {
                let argument =
                    first_type_argument(&last.arguments).and_then(|argument| type_name(argument).0);
                (Some(last.ident.to_string()), argument)
            }
            None => (None, None),
        },
        _ => (None, None),
    }
}

fn unraw(ident: &Ident) -> String {
    let text = ident.to_string();
    text.strip_prefix("r#").map(str::to_owned).unwrap_or(text)
}

/// `UserProfile` -> `user_profile`, `HTTPLog` -> `http_log`.
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (at, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let after_lower =
                at > 0 && (chars[at - 1].is_lowercase() || chars[at - 1].is_ascii_digit());
            let before_lower = at > 0
                && chars[at - 1].is_uppercase()
                && chars.get(at + 1).is_some_and(|next| next.is_lowercase());
            if after_lower || before_lower {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests;
