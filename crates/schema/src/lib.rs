//! Frictionless Table Schema model and vectorised CSV validation.
//!
//! This crate owns one job: deciding whether a member's CSV export can take part
//! in a round, and if not, saying exactly what to fix. It reads the published
//! schemas ([`TableSchema`]), decodes the member's file ([`Source`], with
//! encodings, delimiters, decimal commas and a column [`Mapping`]), checks the
//! header, and runs every cell rule as a polars column expression over the
//! file read once in batches, collecting only the failing rows ([`validate`]). The same
//! parsing expressions give later stages typed columns in the same read
//! ([`validate_source_with`]), so what export reads is exactly what validate accepted.

mod batches;
mod dups;
mod header;
mod mapping;
mod model;
mod pattern;
mod report;
mod resolve;
mod rules;
mod scan;
mod settings;
mod source;
mod structure;
mod validate;

pub use header::Need;
pub use mapping::Mapping;
pub use model::{builtin, Constraints, Field, FieldType, SchemaError, TableSchema, BUILTIN_KINDS};
pub use report::{FileReport, Problem, Report, RuleCount};
pub use settings::{
    parse_delimiter, parse_encoding, parse_thousands, Encoding, Origin, Origins, Settings,
    Thousands,
};
pub use source::{open, peek_header, Opened, ReadOptions, Source, SourceError};
pub use validate::{validate, validate_source, validate_source_with, BatchQuery, ValidateError};
