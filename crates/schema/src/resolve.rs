//! Resolving one file's reading options: each setting from its own mapping
//! file, else the command line, else the default, with where each came from
//! ([`ReadOptions::resolve`]). Above the settings, the mapping file and the
//! source it configures; nothing imports this module.

use crate::mapping::Mapping;
use crate::settings::{Origin, Settings, Thousands};
use crate::source::ReadOptions;

impl ReadOptions {
    /// The options for one file (`file`, as the member named it; `kind` when
    /// known): each setting from its mapping file if that sets it, else from
    /// `cli`, else the default; every combination that cannot be read is
    /// refused with where its parts came from. `shared` says the mapping file
    /// was given for every file.
    pub fn resolve(
        file: &str,
        cli: &Settings,
        mapping: Option<Mapping>,
        shared: bool,
        kind: Option<&str>,
    ) -> Result<Self, String> {
        let mut o = ReadOptions {
            kind: kind.map(String::from),
            ..ReadOptions::default()
        };
        let mapping = mapping.unwrap_or_default();
        let from_map = |p: &Option<String>| Origin::Mapping {
            path: p.clone().unwrap_or_default(),
            shared,
        };
        fn pick<T: Clone>(
            m: &Option<T>,
            c: &Option<T>,
            map_origin: &Origin,
        ) -> Option<(T, Origin)> {
            match (m, c) {
                (Some(v), _) => Some((v.clone(), map_origin.clone())),
                (None, Some(v)) => Some((v.clone(), Origin::CommandLine)),
                _ => None,
            }
        }
        let mo = from_map(&mapping.path);
        let s = &mapping.settings;
        if let Some((v, from)) = pick(&s.delimiter, &cli.delimiter, &mo) {
            (o.delimiter, o.origins.delimiter) = (v, from);
        }
        if let Some((v, from)) = pick(&s.encoding, &cli.encoding, &mo) {
            (o.encoding, o.origins.encoding) = (v, from);
        }
        if let Some((v, from)) = pick(&s.decimal_comma, &cli.decimal_comma, &mo) {
            (o.decimal_comma, o.origins.decimal_comma) = (v, from);
        }
        if let Some((v, from)) = pick(&s.thousands, &cli.thousands, &mo) {
            (o.thousands, o.origins.thousands) = (Some(v), from);
        }
        if let Some((_, from)) = pick(&s.date_format, &cli.date_format, &mo) {
            o.origins.date_format = from;
        }
        o.date_format = s.date_format.clone().or_else(|| cli.date_format.clone());
        o.mapping = mapping;
        o.mapping_shared = shared;
        o.check(file)?;
        Ok(o)
    }

    /// Refuses settings that contradict each other, naming where each came from.
    fn check(&self, file: &str) -> Result<(), String> {
        let o = &self.origins;
        if self.decimal_comma && self.delimiter == b',' {
            return Err(format!(
                "{file}: decimal commas (from {}) need another separator than ',' (from {}): {}",
                o.decimal_comma.describe(),
                o.delimiter.describe(),
                self.advice("delimiter", "\";\"", "--delimiter ';'", &o.delimiter)
            ));
        }
        match (self.thousands, self.decimal_comma) {
            (Some(Thousands::Dot), false) => Err(format!(
                "{file}: the thousands separator '.' (from {}) needs decimal commas (1.234,56), but the file is read with a decimal point (from {}): {}",
                o.thousands.describe(),
                o.decimal_comma.describe(),
                self.advice("decimal_comma", "true", "--decimal-comma", &o.decimal_comma)
            )),
            (Some(Thousands::Comma), true) => Err(format!(
                "{file}: the thousands separator ',' (from {}) needs a decimal point (1,234.56), but the file is read with decimal commas (from {}): {}",
                o.thousands.describe(),
                o.decimal_comma.describe(),
                self.advice("decimal_comma", "false", "no --decimal-comma", &o.decimal_comma)
            )),
            _ => Ok(()),
        }
    }

    /// How to make `key = value` this file's setting, given where the current
    /// one came from (`flag` is the command-line way, for every file, if any).
    pub(crate) fn advice(&self, key: &str, value: &str, flag: &str, from: &Origin) -> String {
        let kind = self.kind.as_deref().unwrap_or("KIND");
        let own = format!("--map {kind}=FILE");
        match from {
            Origin::Mapping {
                path,
                shared: false,
            } => format!("change it in its mapping file {path} to {key} = {value}"),
            Origin::Mapping { path, shared: true } => format!(
                "{path} is the mapping file of every file (a bare --map) and sets {key}: give this file its own mapping file with {key} = {value} ({own})"
            ),
            Origin::CommandLine => match (&self.mapping.path, self.mapping_shared) {
                (Some(p), false) => format!(
                    "the command line sets {key} for every file whose mapping file does not: add {key} = {value} to its mapping file {p}"
                ),
                _ => format!(
                    "the command line sets {key} for every file whose mapping file does not: give this file a mapping file with {key} = {value} ({own})"
                ),
            },
            Origin::Default => match (&self.mapping.path, self.mapping_shared) {
                (Some(p), false) => format!("add {key} = {value} to its mapping file {p}"),
                _ if flag.is_empty() => {
                    format!("give this file a mapping file with {key} = {value} ({own})")
                }
                _ => format!(
                    "give this file a mapping file with {key} = {value} ({own}), or pass {flag} if every file is written so"
                ),
            },
        }
    }

    /// `1204.50` as this file writes numbers (decimal comma, thousands separator).
    pub(crate) fn example_number(&self) -> String {
        let dec = if self.decimal_comma { ',' } else { '.' };
        match self.thousands {
            Some(t) => format!("1{}204{dec}50", t.shown()),
            None => format!("1204{dec}50"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(text: &str) -> Mapping {
        let mut m = Mapping::from_text(text).unwrap();
        m.path = Some("m.toml".into());
        m
    }

    #[test]
    fn a_mapping_file_setting_beats_the_command_line_and_says_so() {
        let cli = Settings {
            delimiter: Some(b';'),
            decimal_comma: Some(true),
            ..Settings::default()
        };
        let o = ReadOptions::resolve(
            "a.csv",
            &cli,
            Some(mapping("delimiter = \",\"\ndecimal_comma = false")),
            false,
            Some("costs"),
        )
        .unwrap();
        assert_eq!((o.delimiter, o.decimal_comma), (b',', false));
        assert_eq!(
            o.origins.delimiter,
            Origin::Mapping {
                path: "m.toml".into(),
                shared: false
            }
        );
        // Unset in the mapping: the command line's.
        let o = ReadOptions::resolve("a.csv", &cli, Some(mapping("")), false, None).unwrap();
        assert_eq!((o.delimiter, o.decimal_comma), (b';', true));
        assert_eq!(o.origins.decimal_comma, Origin::CommandLine);
        let advice = o.advice("decimal_comma", "false", "", &o.origins.decimal_comma);
        assert!(
            advice.contains("the command line sets decimal_comma for every file whose mapping file does not: add decimal_comma = false to its mapping file m.toml"),
            "{advice}"
        );
        // No mapping file of its own: one for its kind.
        let o = ReadOptions::resolve("a.csv", &cli, None, true, Some("costs")).unwrap();
        let advice = o.advice("decimal_comma", "false", "", &o.origins.decimal_comma);
        assert!(advice.contains("(--map costs=FILE)"), "{advice}");
    }

    #[test]
    fn contradicting_settings_name_where_each_came_from() {
        let cli = Settings {
            decimal_comma: Some(true),
            ..Settings::default()
        };
        let e = ReadOptions::resolve("a.csv", &cli, None, false, Some("sales")).unwrap_err();
        assert!(
            e.contains("a.csv: decimal commas (from the command line)"),
            "{e}"
        );
        assert!(e.contains("',' (from the default)"), "{e}");
        let e = ReadOptions::resolve(
            "a.csv",
            &Settings::default(),
            Some(mapping("thousands = \".\"")),
            false,
            Some("sales"),
        )
        .unwrap_err();
        assert!(e.contains("(from mapping file m.toml)"), "{e}");
        assert!(
            e.contains("add decimal_comma = true to its mapping file m.toml"),
            "{e}"
        );
    }
}
