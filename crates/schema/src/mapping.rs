//! The column mapping file: a member's own header names mapped to schema fields,
//! so that nobody edits an export by hand.
//!
//! ```toml
//! # mapping.toml
//! date_format = "%d.%m.%Y"          # optional: how the file writes dates
//! ignore = ["Cashier", "Till"]       # optional: member columns to leave out
//! [columns]                          # member header -> schema field
//! "Datum" = "date"
//! "Warengruppe" = "category"
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// A parsed mapping file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Member header label -> schema field name.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Member columns that are not part of the schema and should be skipped.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// A strptime pattern (e.g. `%d.%m.%Y`) for every date field of the file.
    #[serde(default)]
    pub date_format: Option<String>,
}

impl Mapping {
    /// Reads and checks a mapping file.
    pub fn from_path(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read mapping file {}: {e}", path.display()))?;
        let m: Mapping = toml::from_str(&text)
            .map_err(|e| format!("mapping file {} is not valid: {e}", path.display()))?;
        if let Some(f) = &m.date_format {
            if !f.contains('%') {
                return Err(format!(
                    "mapping file {}: date_format {f:?} is not a strptime pattern such as %d.%m.%Y",
                    path.display()
                ));
            }
        }
        Ok(m)
    }

    /// The schema field a header label stands for (the label itself when unmapped).
    pub fn field_for<'a>(&'a self, label: &'a str) -> &'a str {
        self.columns.get(label).map(String::as_str).unwrap_or(label)
    }

    /// Whether the member asked to skip this column.
    pub fn ignores(&self, label: &str) -> bool {
        self.ignore.iter().any(|l| l == label)
    }
}
