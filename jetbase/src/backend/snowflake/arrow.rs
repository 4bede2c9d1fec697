//! Snowflake's Arrow results (`queryResultFormat: "arrow"`): an Arrow IPC stream, base64 in the
//! response (`rowsetBase64`) or raw in a result chunk, read with the `arrow` crates into rows of
//! text, as the JSON results give them. Snowflake sends `NUMBER(p,s)` as an integer column whose
//! field metadata holds the scale (or as a decimal), `BOOLEAN` as booleans, text as UTF-8.
//! Other types (timestamps, which Snowflake sends as structs) are refused with their name: the
//! queries jetbase sends cast them to text.

use std::io::Cursor;

use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch, cast::AsArray, types};
use arrow_ipc::reader::StreamReader;
use arrow_schema::{DataType, Field};

/// A result's rows, each cell as text (`None` for NULL).
pub(crate) type Rows = Vec<Vec<Option<String>>>;

/// Why an Arrow result could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read Snowflake's Arrow result: {0}")]
pub(crate) struct ArrowError(String);

/// Reads every row of an Arrow IPC stream.
pub(crate) fn read_rows(stream: &[u8], rows: &mut Rows) -> Result<(), ArrowError> {
    if stream.is_empty() {
        return Ok(());
    }
    let reader = StreamReader::try_new(Cursor::new(stream), None)
        .map_err(|error| ArrowError(error.to_string()))?;
    for batch in reader {
        let batch = batch.map_err(|error| ArrowError(error.to_string()))?;
        read_batch(&batch, rows)?;
    }
    Ok(())
}

fn read_batch(batch: &RecordBatch, rows: &mut Rows) -> Result<(), ArrowError> {
    let schema = batch.schema();
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| column_text(column, field))
        .collect::<Result<Vec<_>, _>>()?;
    for row in 0..batch.num_rows() {
        rows.push(columns.iter().map(|column| column[row].clone()).collect());
    }
    Ok(())
}

/// The scale of a `NUMBER` column, from the field metadata Snowflake sets.
fn scale(field: &Field) -> u32 {
    field
        .metadata()
        .get("scale")
        .and_then(|scale| scale.parse().ok())
        .unwrap_or(0)
}

/// An integer scaled by 10^scale, as Snowflake prints it: `12345` at scale 2 is `123.45`.
fn scaled(value: i128, scale: u32) -> String {
    if scale == 0 {
        return value.to_string();
    }
    let digits = value.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = padded.split_at(padded.len() - scale);
    let sign = if value < 0 { "-" } else { "" };
    format!("{sign}{whole}.{fraction}")
}

fn column_text(column: &ArrayRef, field: &Field) -> Result<Vec<Option<String>>, ArrowError> {
    let each = |text: &dyn Fn(usize) -> String| -> Vec<Option<String>> {
        (0..column.len())
            .map(|row| (!column.is_null(row)).then(|| text(row)))
            .collect()
    };
    let scale = scale(field);
    Ok(match column.data_type() {
        DataType::Null => vec![None; column.len()],
        DataType::Utf8 => {
            let strings = column.as_string::<i32>();
            each(&|row| strings.value(row).to_owned())
        }
        DataType::LargeUtf8 => {
            let strings = column.as_string::<i64>();
            each(&|row| strings.value(row).to_owned())
        }
        DataType::Boolean => {
            let booleans: &BooleanArray = column.as_boolean();
            each(&|row| booleans.value(row).to_string())
        }
        DataType::Int8 => {
            let ints = column.as_primitive::<types::Int8Type>();
            each(&|row| scaled(i128::from(ints.value(row)), scale))
        }
        DataType::Int16 => {
            let ints = column.as_primitive::<types::Int16Type>();
            each(&|row| scaled(i128::from(ints.value(row)), scale))
        }
        DataType::Int32 => {
            let ints = column.as_primitive::<types::Int32Type>();
            each(&|row| scaled(i128::from(ints.value(row)), scale))
        }
        DataType::Int64 => {
            let ints = column.as_primitive::<types::Int64Type>();
            each(&|row| scaled(i128::from(ints.value(row)), scale))
        }
        DataType::UInt64 => {
            let ints = column.as_primitive::<types::UInt64Type>();
            each(&|row| scaled(i128::from(ints.value(row)), scale))
        }
        DataType::Decimal128(_, decimal_scale) => {
            let decimals = column.as_primitive::<types::Decimal128Type>();
            let decimal_scale = u32::try_from(*decimal_scale).unwrap_or(0);
            each(&|row| scaled(decimals.value(row), decimal_scale))
        }
        DataType::Float64 => {
            let floats = column.as_primitive::<types::Float64Type>();
            each(&|row| floats.value(row).to_string())
        }
        DataType::Float32 => {
            let floats = column.as_primitive::<types::Float32Type>();
            each(&|row| floats.value(row).to_string())
        }
        other => {
            let logical = field
                .metadata()
                .get("logicalType")
                .map_or_else(|| other.to_string(), Clone::clone);
            return Err(ArrowError(format!(
                "column `{}` is of type {logical}, which jetbase reads only as text: cast it \
                 (CAST(... AS VARCHAR))",
                field.name()
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Arc;

    use arrow_array::{Int64Array, StringArray};
    use arrow_ipc::writer::StreamWriter;
    use arrow_schema::Schema;

    #[test]
    fn numbers_keep_their_scale() {
        assert_eq!(scaled(12345, 2), "123.45");
        assert_eq!(scaled(-5, 3), "-0.005");
        assert_eq!(scaled(7, 0), "7");
    }

    #[test]
    fn a_stream_reads_back_as_text_rows() {
        let number = Field::new("N", DataType::Int64, true)
            .with_metadata(HashMap::from([("scale".to_owned(), "1".to_owned())]));
        let schema = Arc::new(Schema::new(vec![
            number,
            Field::new("S", DataType::Utf8, true),
            Field::new("B", DataType::Boolean, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![Some(15), None])),
                Arc::new(StringArray::from(vec![Some("a"), Some("b")])),
                Arc::new(BooleanArray::from(vec![Some(true), None])),
            ],
        )
        .unwrap();
        let mut bytes = Vec::new();
        let mut writer = StreamWriter::try_new(&mut bytes, &schema).unwrap();
        writer.write(&batch).unwrap();
        writer.finish().unwrap();
        drop(writer);
        let mut rows = Rows::new();
        read_rows(&bytes, &mut rows).unwrap();
        assert_eq!(
            rows,
            vec![
                vec![
                    Some("1.5".to_owned()),
                    Some("a".to_owned()),
                    Some("true".to_owned())
                ],
                vec![None, Some("b".to_owned()), None],
            ]
        );
        assert!(read_rows(b"not arrow", &mut rows).is_err());
    }
}
