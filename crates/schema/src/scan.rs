//! Naming the columns of a member's file for the batched reads (the file is
//! never scanned by polars itself, which memory-maps it: see `batches`).

use crate::header::Binding;
use crate::model::TableSchema;
use crate::rules::Dialect;
use crate::source::Source;
use polars::prelude::*;

/// The row index column: 0 for the first data row (spreadsheet row 2).
pub(crate) const ROW: &str = "__row";

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

/// The dialect (decimal comma, thousands, date format, value mapping) a source was opened with.
pub(crate) fn dialect(source: &Source) -> Dialect {
    source.options.clone()
}
