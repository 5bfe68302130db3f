//! Header checks: every schema field present once, no blank or unknown labels.
//! Column order may differ from the schema's.

use crate::model::TableSchema;
use crate::report::Problem;
use crate::source::Source;

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
pub(crate) fn bind(schema: &TableSchema, source: &Source) -> (Binding, Vec<Problem>) {
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
                let hint = if source.header.len() == 1 && label.contains(';') {
                    "; the whole header is one label: is the file separated by ';'? try --delimiter ';'".to_string()
                } else {
                    let close = schema
                        .fields
                        .iter()
                        .find(|f| f.name.eq_ignore_ascii_case(label.trim()))
                        .map(|f| format!("; did you mean {:?}?", f.name));
                    close.unwrap_or_else(|| {
                        "; map it to a schema field or list it under `ignore` in a --map file"
                            .to_string()
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
        if !binding.has_field(f) {
            let mapped: Vec<&String> = mapping
                .columns
                .iter()
                .filter(|(_, v)| **v == field.name)
                .map(|(k, _)| k)
                .collect();
            let hint = if mapped.is_empty() {
                String::new()
            } else {
                format!(
                    " (the mapping expects it in a column labelled {:?})",
                    mapped[0]
                )
            };
            problems.push(problem(
                field.name.clone(),
                "missing-label",
                format!("the header has no column for field {:?}{hint}", field.name),
            ));
        }
    }
    (binding, problems)
}
