//! Header checks: every schema field present once, no blank or unknown labels.
//! Column order may differ from the schema's.

use crate::model::TableSchema;
use crate::report::Problem;
use crate::source::Source;

/// A field a caller needs from the file, even where the schema makes it
/// optional, and who needs it (e.g. `metric "revenue"`): its absence is a
/// `missing-label` problem naming `by`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// The schema field.
    pub field: String,
    /// Who needs it, in words.
    pub by: String,
}

/// Which schema field each column of the file holds.
#[derive(Debug, Clone)]
pub(crate) struct Binding {
    /// Per file column: the index of the schema field it holds, if any.
    pub columns: Vec<Option<usize>>,
}

impl Binding {
    /// The polars column name of file column `pos`: the schema field's name, or a
    /// private name for columns that take no part in validation.
    pub fn column_name(&self, schema: &TableSchema, pos: usize) -> String {
        match self.columns[pos] {
            Some(f) => schema.fields[f].name.clone(),
            None => format!("__col{pos}"),
        }
    }

    /// Whether the schema field with index `f` is present in the file.
    pub fn has_field(&self, f: usize) -> bool {
        self.columns.contains(&Some(f))
    }
}

/// Binds header labels to schema fields and reports every header problem.
/// A field may be absent unless it is required, part of the primary key, or
/// one the caller `needs` (a round's metric reads it).
pub(crate) fn bind(
    schema: &TableSchema,
    source: &Source,
    needs: &[Need],
) -> (Binding, Vec<Problem>) {
    let mapping = &source.options.mapping;
    let mut problems = Vec::new();
    let mut columns = vec![None; source.header.len()];
    let problem = |column: String, rule: &str, message: String| Problem {
        file: source.display.clone(),
        row: 1,
        column: Some(column),
        rule: rule.to_string(),
        message,
    };
    for (pos, label) in source.header.iter().enumerate() {
        if label.trim().is_empty() {
            problems.push(problem(
                format!("column {}", pos + 1),
                "blank-label",
                format!("column {} has no header label", pos + 1),
            ));
            continue;
        }
        if mapping.ignores(label) {
            continue;
        }
        let name = mapping.field_for(label);
        match schema.fields.iter().position(|f| f.name == name) {
            None => {
                let o = &source.options;
                let other = [b';', b',', b'\t', b'|']
                    .into_iter()
                    .find(|d| *d != o.delimiter && label.contains(*d as char));
                // A UTF-8 byte-order mark decoded as Windows-1252.
                let bom = pos == 0 && label.starts_with("\u{ef}\u{bb}\u{bf}");
                let hint = if bom {
                    format!(
                        "; the file starts with a UTF-8 byte-order mark, but is read as {} (from {}): {}",
                        o.encoding.name(),
                        o.origins.encoding.describe(),
                        o.advice("encoding", "\"utf-8\"", "--encoding utf-8", &o.origins.encoding)
                    )
                } else if let Some(d) = other.filter(|_| source.header.len() == 1) {
                    let (shown, flag) = if d == b'\t' {
                        ("\"tab\"".to_string(), "--delimiter tab".to_string())
                    } else {
                        (
                            format!("\"{}\"", d as char),
                            format!("--delimiter '{}'", d as char),
                        )
                    };
                    format!(
                        "; the whole header is one label: the file is read as separated by {:?} (from {}), but is it separated by {shown}? {}",
                        o.delimiter as char,
                        o.origins.delimiter.describe(),
                        o.advice("delimiter", &shown, &flag, &o.origins.delimiter)
                    )
                } else {
                    let close = schema
                        .fields
                        .iter()
                        .find(|f| f.name.eq_ignore_ascii_case(label.trim()))
                        .map(|f| format!("; did you mean {:?}?", f.name));
                    close.unwrap_or_else(|| {
                        match &mapping.path {
                            Some(p) => format!("; map it to a schema field under [columns] in {p}, or list it under `ignore` there"),
                            None => "; map it to a schema field or list it under `ignore` in a mapping file (--map)".to_string(),
                        }
                    })
                };
                problems.push(problem(
                    label.clone(),
                    "extra-label",
                    format!(
                        "column {} {label:?} is not a field of schema {}{hint}",
                        pos + 1,
                        schema.name
                    ),
                ));
            }
            Some(f) if columns.contains(&Some(f)) => {
                let first = columns.iter().position(|c| *c == Some(f)).unwrap_or(0);
                problems.push(problem(
                    schema.fields[f].name.clone(),
                    "duplicate-label",
                    format!(
                        "column {} {label:?} repeats field {:?} already in column {}",
                        pos + 1,
                        schema.fields[f].name,
                        first + 1
                    ),
                ));
            }
            Some(f) => columns[pos] = Some(f),
        }
    }
    let binding = Binding { columns };
    for (f, field) in schema.fields.iter().enumerate() {
        if binding.has_field(f) {
            continue;
        }
        let by: Vec<&str> = needs
            .iter()
            .filter(|n| n.field == field.name)
            .map(|n| n.by.as_str())
            .collect();
        let key = schema.primary_key.iter().any(|k| *k == field.name);
        if by.is_empty() && !field.constraints.required && !key {
            continue; // an optional field may be absent
        }
        let mapped: Vec<&String> = mapping
            .columns
            .iter()
            .filter(|(_, v)| **v == field.name)
            .map(|(k, _)| k)
            .collect();
        let mut hint = if mapped.is_empty() {
            String::new()
        } else {
            format!(
                " (the mapping expects it in a column labelled {:?})",
                mapped[0]
            )
        };
        if !by.is_empty() {
            hint.push_str(&format!(", which the round needs for {}", by.join(", ")));
        }
        let fix = match &mapping.path {
            _ if !mapped.is_empty() => String::new(),
            Some(p) => format!(": map the column that holds it under [columns] in {p}"),
            None => ": name a column so, or map yours to it in a mapping file (--map)".into(),
        };
        problems.push(problem(
            field.name.clone(),
            "missing-label",
            format!(
                "the header has no column for field {:?}{hint}{fix}",
                field.name
            ),
        ));
    }
    for name in mapping.values.keys() {
        if schema.field(name).is_none() {
            problems.push(problem(
                name.clone(),
                "mapping",
                format!(
                    "{} maps values of {name:?} under [values.{name}], which is not a field of schema {}",
                    mapping.path.as_deref().unwrap_or("the mapping file"),
                    schema.name
                ),
            ));
        }
    }
    (binding, problems)
}
