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
        let text = coopbench_fsio::read_text_bounded(
            path,
            crate::source::CONFIG_MAX_BYTES,
            "a mapping file",
        )
        .map_err(|e| format!("cannot read mapping file {}: {e}", path.display()))?;
        let m: Mapping = toml::from_str(&text)
            .map_err(|e| format!("mapping file {} is not valid: {e}", path.display()))?;
        if let Some(f) = &m.date_format {
            check_date_format(f).map_err(|e| {
                format!(
                    "mapping file {}: date_format {f:?} {e}; write a date pattern such as %d.%m.%Y",
                    path.display()
                )
            })?;
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

/// Checks a `date_format`: strftime codes for a calendar date only (year
/// `%Y`/`%y`, month `%m`/`%b`/`%B`/`%h`, day `%d`/`%e`, optionally with a
/// `-`, `_` or `0` padding flag, and `%%`), each of year, month and day
/// present. A time code (`%H`) or an unknown one (`%Q`) would otherwise make
/// every row fail, or the whole file look like a delimiter problem.
pub(crate) fn check_date_format(f: &str) -> Result<(), String> {
    let (mut year, mut month, mut day) = (false, false, false);
    let mut chars = f.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        let mut code = chars.next();
        if matches!(code, Some('-' | '_' | '0')) {
            code = chars.next();
        }
        match code {
            Some('Y' | 'y') => year = true,
            Some('m' | 'b' | 'B' | 'h') => month = true,
            Some('d' | 'e') => day = true,
            Some('%') => {}
            Some(
                t @ ('H' | 'I' | 'k' | 'l' | 'M' | 'S' | 'f' | 'p' | 'P' | 'T' | 'R' | 'r' | 'X'
                | 'c' | 's' | 'Z' | 'z' | ':' | '.'),
            ) => {
                return Err(format!(
                "holds the time code %{t}: dates in member files are calendar days, without a time"
            ))
            }
            Some(t) => return Err(format!("holds %{t}, which is not a date code")),
            None => return Err("ends with a lone %".into()),
        }
    }
    match (year, month, day) {
        (true, true, true) => Ok(()),
        _ => Err("needs a year (%Y), a month (%m) and a day (%d)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::check_date_format;

    #[test]
    fn date_formats_with_time_or_unknown_codes_are_refused() {
        for good in ["%d.%m.%Y", "%Y-%m-%d", "%-d/%-m/%y", "%d %b %Y", "%e %B %Y"] {
            assert_eq!(check_date_format(good), Ok(()), "{good}");
        }
        for (bad, says) in [
            ("%d.%m.%Y %H", "time code %H"),
            ("%Y-%m-%dT%H:%M", "time code %H"),
            ("%Q", "%Q, which is not a date code"),
            ("%d.%m.", "needs a year"),
            ("dd.mm.yyyy", "needs a year"),
            ("%d.%m.%Y%", "lone %"),
        ] {
            let e = check_date_format(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
