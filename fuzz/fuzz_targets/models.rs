//! `#[derive(Model)]` input: any Rust text that parses as a struct gives a table or `syn`
//! errors, never a panic; a table's migration renders in every dialect, and against itself finds
//! no change.
#![no_main]

use jetbase_core::Dialect;
use jetbase_core::schema::{Schema, generate, table_from_struct};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|source: &str| {
    let Ok(item) = syn::parse_str::<syn::DeriveInput>(source) else {
        return;
    };
    let syn::Data::Struct(data) = &item.data else {
        return;
    };
    let Ok(table) = table_from_struct(&item.attrs, &item.ident, &data.fields) else {
        return;
    };
    let models = Schema::new(vec![table]);
    for dialect in Dialect::ALL {
        if let Ok(generated) = generate(&models, &Schema::default(), dialect) {
            assert!(!generated.upgrade.is_empty());
            let again = generate(&models, &models, dialect).expect("valid models stay valid");
            assert!(
                again.is_empty(),
                "{source:?} on {dialect:?}: {:?}",
                again.changes
            );
        }
    }
});
