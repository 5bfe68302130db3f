//! The mapping file: how one of a member's files is written, so that nobody
//! edits an export by hand. It maps the file's own header names to schema
//! fields and its own values to the schema's, and says how the file writes
//! numbers and dates. Every key is optional.
//!
//! ```toml
//! # kasse.toml: the till's sales export
//! kind = "sales"                     # which schema the file follows (sales or costs)
//! delimiter = ";"                    # the field separator (or "tab")
//! encoding = "windows-1252"          # utf-8 (default), windows-1252 or latin1
//! decimal_comma = true               # 12,50 rather than 12.50
//! thousands = "."                    # 1.234,56 ("." "," "'" or " ", which also
//!                                    # accepts the no-break spaces French exports write)
//! date_format = "%d.%m.%Y"           # how the file writes dates
//! ignore = ["Kassierer"]             # columns to leave out
//! [columns]                          # the file's header -> schema field
//! Datum = "date"
//! Warengruppe = "category"
//! "Stück" = "units"                  # a label with non-ASCII letters is quoted
//! [values.category]                  # the file's values -> the schema's, per field
//! Brot = "bread"
//! "Brötchen" = "bread"
//! ```
//!
//! Values a `[values.FIELD]` table does not list pass unchanged and are then
//! checked by the schema's rules. Settings the file does not give come from
//! the command line (`--delimiter`, …), else the defaults.

use crate::settings::{parse_delimiter, parse_encoding, parse_thousands, Settings};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// A mapping file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    delimiter: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default)]
    decimal_comma: Option<bool>,
    #[serde(default)]
    thousands: Option<String>,
    #[serde(default)]
    date_format: Option<String>,
    #[serde(default)]
    columns: BTreeMap<String, String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    values: BTreeMap<String, BTreeMap<String, String>>,
}

/// A parsed and checked mapping file.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    /// The file it was read from, as the member named it (for messages).
    pub path: Option<String>,
    /// The kind of file it describes (`sales`, `costs`), if it says.
    pub kind: Option<String>,
    /// How the file is written (unset keys are `None`).
    pub settings: Settings,
    /// Member header label -> schema field name.
    pub columns: BTreeMap<String, String>,
    /// Member columns that are not part of the schema and should be skipped.
    pub ignore: Vec<String>,
    /// Schema field -> (the file's value -> the schema's value).
    pub values: BTreeMap<String, BTreeMap<String, String>>,
}

impl Mapping {
    /// Reads and checks a mapping file.
    pub fn from_path(path: &Path) -> Result<Self, String> {
        let text = coopbench_fsio::read_text_bounded(
            path,
            crate::settings::CONFIG_MAX_BYTES,
            "a mapping file",
        )
        .map_err(|e| format!("cannot read mapping file {}: {e}", path.display()))?;
        let mut m =
            Self::from_text(&text).map_err(|e| format!("mapping file {}: {e}", path.display()))?;
        m.path = Some(path.display().to_string());
        Ok(m)
    }

    /// Parses and checks a mapping file's text.
    pub fn from_text(text: &str) -> Result<Self, String> {
        let raw: MappingFile = toml::from_str(text).map_err(|e| {
            let hint = bare_non_ascii_key(text)
                .map(|(line, key)| {
                    format!(
                        "\nline {line}: a label with letters outside A-Z, digits, '-' and '_' must be quoted: \"{key}\" = ..."
                    )
                })
                .unwrap_or_default();
            format!("not valid: {e}{hint}")
        })?;
        if let Some(f) = &raw.date_format {
            check_date_format(f).map_err(|e| {
                format!("date_format {f:?} {e}; write a date pattern such as %d.%m.%Y")
            })?;
        }
        if let Some(k) = &raw.kind {
            if !crate::BUILTIN_KINDS.contains(&k.as_str()) {
                return Err(format!(
                    "kind {k:?} is not a kind of file: use {}",
                    crate::BUILTIN_KINDS.join(" or ")
                ));
            }
        }
        let settings = Settings {
            delimiter: raw
                .delimiter
                .as_deref()
                .map(parse_delimiter)
                .transpose()
                .map_err(|e| format!("delimiter: {e}"))?,
            encoding: raw
                .encoding
                .as_deref()
                .map(parse_encoding)
                .transpose()
                .map_err(|e| format!("encoding: {e}"))?,
            decimal_comma: raw.decimal_comma,
            thousands: raw
                .thousands
                .as_deref()
                .map(parse_thousands)
                .transpose()
                .map_err(|e| format!("thousands: {e}"))?,
            date_format: raw.date_format,
        };
        Ok(Mapping {
            path: None,
            kind: raw.kind,
            settings,
            columns: raw.columns,
            ignore: raw.ignore,
            values: raw.values,
        })
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

/// The first bare key with a character TOML does not allow in bare keys
/// (outside `A-Za-z0-9_-`), with its 1-based line: the usual cause of a
/// mapping file that does not parse (`Stück = "units"`).
fn bare_non_ascii_key(text: &str) -> Option<(usize, String)> {
    text.lines().enumerate().find_map(|(i, line)| {
        let t = line.trim_start();
        if t.starts_with(['#', '[', '"', '\'']) {
            return None;
        }
        let (key, _) = t.split_once('=')?;
        let key = key.trim();
        let bad = key
            .chars()
            .any(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'));
        (bad && !key.is_empty()).then(|| (i + 1, key.to_string()))
    })
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
