//! The polars scans over a member's file: raw text columns for validation, and
//! typed columns (parsed by the validator's own expressions) for later stages.

use crate::header::{self, Binding};
use crate::model::TableSchema;
use crate::rules::{self, Dialect};
use crate::source::Source;
use polars::prelude::*;
use std::sync::Arc;

/// The row index column: 0 for the first data row (spreadsheet row 2).
pub(crate) const ROW: &str = "__row";

/// A lazy scan of every column as text, with the row index. Rows longer than
/// the header are truncated and short rows padded: the structural pass has
/// already found them.
pub(crate) fn raw_scan(
    source: &Source,
    schema: &TableSchema,
    binding: &Binding,
) -> PolarsResult<LazyFrame> {
    let fields: Vec<polars::prelude::Field> = (0..source.header.len())
        .map(|pos| {
            polars::prelude::Field::new(binding.column_name(schema, pos).into(), DataType::String)
        })
        .collect();
    let polars_schema: Schema = fields.into_iter().collect();
    let path = PlRefPath::try_from_path(&source.utf8_path)?;
    LazyCsvReader::new(path)
        .with_has_header(true)
        .with_schema(Some(Arc::new(polars_schema)))
        .with_separator(source.options.delimiter)
        .with_quote_char(Some(b'"'))
        .with_missing_is_null(false)
        .with_truncate_ragged_lines(true)
        .with_raise_if_empty(false)
        .with_row_index(Some(RowIndex {
            name: ROW.into(),
            offset: 0,
        }))
        .finish()
}

/// The names of the file's columns, by header position: the schema field a
/// column is bound to, or a placeholder for an unbound one.
pub(crate) fn column_names(
    source: &Source,
    schema: &TableSchema,
    binding: &Binding,
) -> Vec<PlSmallStr> {
    (0..source.header.len())
        .map(|pos| binding.column_name(schema, pos).into())
        .collect()
}

/// The dialect (decimal comma, date format) a source was opened with.
pub(crate) fn dialect(source: &Source) -> Dialect {
    Dialect {
        decimal_comma: source.options.decimal_comma,
        date_format: source.options.mapping.date_format.clone(),
    }
}

/// A lazy scan of a (validated) file with one typed column per schema field
/// present in the file: dates as `Date`, integers `Int64`, numbers `Float64`,
/// booleans, strings. Values that would fail validation come out null, so run
/// [`crate::validate_source`] first.
pub fn typed_scan(source: &Source, schema: &TableSchema) -> PolarsResult<LazyFrame> {
    let (binding, _) = header::bind(schema, source);
    let dialect = dialect(source);
    let exprs: Vec<Expr> = schema
        .fields
        .iter()
        .enumerate()
        .filter(|(i, _)| binding.has_field(*i))
        .map(|(_, f)| rules::parse(schema, f, &dialect).alias(f.name.as_str()))
        .collect();
    Ok(raw_scan(source, schema, &binding)?.select(exprs))
}
