//! Every cell rule as a polars expression over the raw text columns, and the
//! messages that explain a failure. Parsing lives here too, so that the typed
//! columns later stages read are parsed by the same expressions validate used.

use crate::model::{anchored, Field, FieldType, TableSchema};
use crate::pattern::FixedPattern;
use crate::settings::Thousands;
use crate::source::ReadOptions;
use polars::prelude::*;
use serde_json::Value;

/// Integers as Table Schema writes them (`bareNumber` true).
const INTEGER_RE: &str = r"^[+-]?[0-9]+$";
/// Numbers with a decimal point, plus the spec's special values (what
/// [`parse_number`] accepts, checked in the tests).
#[cfg(test)]
const NUMBER_RE: &str =
    r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$|^(?:NaN|INF|-INF)$";
/// Numbers with a decimal comma (`--decimal-comma`).
#[cfg(test)]
const NUMBER_COMMA_RE: &str =
    r"^[+-]?(?:[0-9]+(?:,[0-9]*)?|,[0-9]+)(?:[eE][+-]?[0-9]+)?$|^(?:NaN|INF|-INF)$";
/// The spec's default date format, strictly: four-digit year, two-digit month and day.
const ISO_DATE_RE: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
/// Formats tried, in order, for `format: any`.
const ANY_DATE_FORMATS: &[&str] = &["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d", "%Y%m%d"];

/// How values are written in this file: its reading options.
pub(crate) type Dialect = ReadOptions;

/// The date format of `field` in this file: the file's own, else the schema's.
fn date_format<'a>(dialect: &'a Dialect, field: &'a Field) -> &'a str {
    if let Some(f) = &dialect.date_format {
        return f;
    }
    match field.format.as_deref() {
        None | Some("default") => "%Y-%m-%d",
        Some(f) => f,
    }
}

/// True where the cell is missing: absent (a short row) or one of `missingValues`.
/// A few missing values are compared directly (cheaper than a hash lookup).
pub(crate) fn is_missing(schema: &TableSchema, name: &str) -> Expr {
    col(name)
        .is_null()
        .or(one_of(col(name), &schema.missing_values))
}

/// True where the text equals one of `values` (null stays null).
fn one_of(e: Expr, values: &[String]) -> Expr {
    if values.len() <= 8 {
        values
            .iter()
            .map(|v| e.clone().eq(lit(v.as_str())))
            .reduce(|a, b| a.or(b))
            .unwrap_or(lit(false))
    } else {
        let set = Series::new("".into(), values.to_vec());
        e.is_in(lit(set).implode(false), false)
    }
}

fn to_date(c: Expr, format: &str) -> Expr {
    c.str().to_date(StrptimeOptions {
        format: Some(format.into()),
        strict: false,
        exact: true,
        cache: false,
    })
}

/// A regex character class matching a thousands separator.
fn thousands_class(t: Thousands) -> String {
    let chars: String = t
        .chars()
        .iter()
        .map(|c| regex::escape(&c.to_string()))
        .collect();
    format!("[{chars}]")
}

/// Removes well-placed thousands separators: where a cell holds one, the
/// digits before the decimal separator must come in groups of three
/// (`1.234.567,89`); `ok` is false where they do not. Cells without one pass
/// unchanged.
fn strip_thousands(c: Expr, decimal_comma: bool, thousands: Option<Thousands>) -> (Expr, Expr) {
    let Some(t) = thousands else {
        return (c, lit(true));
    };
    let class = thousands_class(t);
    let dec = if decimal_comma { "," } else { r"\." };
    let grouped = format!(r"^[+-]?[0-9]{{1,3}}(?:{class}[0-9]{{3}})+(?:{dec}[0-9]*)?$");
    let has = c.clone().str().contains(lit(class.clone()), true);
    let ok = has
        .clone()
        .not()
        .or(c.clone().str().contains(lit(grouped), true));
    (c.str().replace_all(lit(class), lit(""), false), ok)
}

/// The typed value of a number cell, or null where it is not one. polars'
/// cast accepts exactly Table Schema's numerals (`[+-]`, digits, one decimal
/// point, exponent), plus spellings of infinity and NaN of which the spec
/// allows only `NaN`, `INF` and `-INF`: a non-finite value whose text has an
/// `n` is one of those spellings (a numeral that overflows to infinity has
/// none). Thousands separators, when the file has one, are removed first
/// (where they group digits in threes).
fn parse_number(c: Expr, decimal_comma: bool, thousands: Option<Thousands>) -> Expr {
    let (bare, grouped_ok) = strip_thousands(c.clone(), decimal_comma, thousands);
    let text = if decimal_comma {
        bare.clone().str().replace(lit(","), lit("."), true)
    } else {
        bare.clone()
    };
    let v = text.cast(DataType::Float64);
    let spelled = c
        .clone()
        .str()
        .contains_literal(lit("n"))
        .or(c.clone().str().contains_literal(lit("N")));
    let special = one_of(c.clone(), &["NaN".into(), "INF".into(), "-INF".into()]);
    let mut ok = v
        .clone()
        .is_not_null()
        .and(v.clone().is_finite().or(spelled.not()).or(special))
        .and(grouped_ok);
    if decimal_comma {
        ok = ok.and(bare.str().contains_literal(lit(".")).not());
    }
    when(ok)
        .then(v)
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// The typed value of an integer cell (thousands separators removed where
/// they group digits in threes), or null where it is not one.
fn parse_integer(c: Expr, decimal_comma: bool, thousands: Option<Thousands>) -> Expr {
    let (bare, grouped_ok) = strip_thousands(c, decimal_comma, thousands);
    // polars' cast parses exactly `[+-]?[0-9]+` within 64 bits, else null.
    when(grouped_ok)
        .then(bare.cast(DataType::Int64))
        .otherwise(lit(NULL).cast(DataType::Int64))
}

/// The typed value of a cell assumed present (null where it is not of the type).
fn parse_present(field: &Field, dialect: &Dialect) -> Expr {
    let c = col(field.name.as_str());
    match field.field_type {
        FieldType::String => c,
        FieldType::Integer => parse_integer(c, dialect.decimal_comma, dialect.thousands),
        FieldType::Number => parse_number(c, dialect.decimal_comma, dialect.thousands),
        FieldType::Date => {
            if field.format.as_deref() == Some("any") && dialect.date_format.is_none() {
                let mut e = to_date(c.clone(), ANY_DATE_FORMATS[0]);
                for f in &ANY_DATE_FORMATS[1..] {
                    e = when(e.clone().is_null())
                        .then(to_date(c.clone(), f))
                        .otherwise(e);
                }
                e
            } else {
                let format = date_format(dialect, field);
                let parsed = to_date(c.clone(), format);
                if format == "%Y-%m-%d" {
                    let shape = match FixedPattern::compile(ISO_DATE_RE) {
                        Some(fixed) => fixed.expr(c),
                        None => c.str().contains(lit(ISO_DATE_RE), true),
                    };
                    when(shape)
                        .then(parsed)
                        .otherwise(lit(NULL).cast(DataType::Date))
                } else {
                    parsed
                }
            }
        }
        FieldType::Boolean => {
            let t = Series::new("".into(), field.true_values.clone());
            let f = Series::new("".into(), field.false_values.clone());
            when(c.clone().is_in(lit(t).implode(false), false))
                .then(lit(true))
                .when(c.is_in(lit(f).implode(false), false))
                .then(lit(false))
                .otherwise(lit(NULL).cast(DataType::Boolean))
        }
    }
}

/// The polars type of a field's parsed values.
pub(crate) fn dtype(t: FieldType) -> DataType {
    match t {
        FieldType::String => DataType::String,
        FieldType::Integer => DataType::Int64,
        FieldType::Number => DataType::Float64,
        FieldType::Date => DataType::Date,
        FieldType::Boolean => DataType::Boolean,
    }
}

/// One rule over one column (or a whole row), as a boolean "fails here" expression.
pub(crate) struct Check {
    /// The schema field, or `None` for a row rule.
    pub field: Option<usize>,
    /// The rule name as reports show it.
    pub rule: &'static str,
    /// True where the rule fails; never null.
    pub fail: Expr,
}

/// A bound as a literal comparable with the parsed column (dates as day numbers).
fn bound_literal(field: &Field, v: &Value) -> Option<(Expr, bool)> {
    match field.field_type {
        FieldType::Integer => v.as_i64().map(|i| (lit(i), false)),
        FieldType::Number => v.as_f64().map(|f| (lit(f), false)),
        FieldType::Date => {
            let d = chrono_date(v.as_str()?)?;
            Some((lit(d), true))
        }
        _ => None,
    }
}

/// Days since 1970-01-01 of an ISO date, as polars stores dates.
fn chrono_date(s: &str) -> Option<i32> {
    let mut it = s.split('-');
    let (y, m, d): (i32, u32, u32) = (
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
    );
    days_from_civil(y, m, d)
}

/// Howard Hinnant's days-from-civil; `None` for impossible dates.
fn days_from_civil(y: i32, m: u32, d: u32) -> Option<i32> {
    let mdays = [
        31,
        if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
            29
        } else {
            28
        },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d == 0 || d > mdays[m as usize - 1] {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) as i32 / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146097 + doe - 719468)
}

fn value_series(field: &Field, values: &[Value]) -> Series {
    match field.field_type {
        FieldType::Integer => Series::new(
            "".into(),
            values.iter().filter_map(Value::as_i64).collect::<Vec<_>>(),
        ),
        FieldType::Number => Series::new(
            "".into(),
            values.iter().filter_map(Value::as_f64).collect::<Vec<_>>(),
        ),
        _ => Series::new(
            "".into(),
            values
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>(),
        ),
    }
}

/// The column holding a bound field's typed value in [`row_checks`]' first stage.
pub(crate) fn typed_name(field: usize) -> String {
    format!("__p{field}")
}

fn missing_name(field: usize) -> String {
    format!("__m{field}")
}

/// The row-local checks for every bound field: first the columns every check
/// reads, computed once (each field's missing flag, then its typed value),
/// as stages of `with_columns`; then one "fails here" expression per rule.
/// Ragged and blank rows are left out by the caller.
pub(crate) fn row_checks(
    schema: &TableSchema,
    bound: &[usize],
    dialect: &Dialect,
) -> (Vec<Vec<Expr>>, Vec<Check>) {
    let mut value_stage = Vec::new();
    let mut missing_stage = Vec::new();
    let mut stage = Vec::new();
    let mut checks = Vec::new();
    for &fi in bound {
        let field = &schema.fields[fi];
        let name = field.name.as_str();
        if let Some(values) = dialect.mapping.values.get(name) {
            value_stage.push(map_values(name, values));
        }
        missing_stage.push(is_missing(schema, name).alias(missing_name(fi)));
        let missing = col(missing_name(fi));
        let present = missing.clone().not();
        if field.field_type != FieldType::String {
            stage.push(
                when(present.clone())
                    .then(parse_present(field, dialect))
                    .otherwise(lit(NULL).cast(dtype(field.field_type)))
                    .alias(typed_name(fi)),
            );
        }
        let parsed = col(typed_name(fi));
        let c = &field.constraints;
        let mut add = |rule: &'static str, fail: Expr| {
            checks.push(Check {
                field: Some(fi),
                rule,
                fail: fail.fill_null(lit(false)),
            })
        };
        if c.required || schema.primary_key.iter().any(|k| k == name) {
            let rule = if c.required { "required" } else { "primaryKey" };
            add(rule, missing.clone());
        }
        if field.field_type != FieldType::String {
            add("type", present.clone().and(parsed.clone().is_null()));
        }
        let ordered = |e: Expr, is_date: bool| if is_date { e.cast(DataType::Int32) } else { e };
        if let Some((b, is_date)) = c.minimum.as_ref().and_then(|v| bound_literal(field, v)) {
            add("minimum", ordered(parsed.clone(), is_date).lt(b));
        }
        if let Some((b, is_date)) = c.maximum.as_ref().and_then(|v| bound_literal(field, v)) {
            add("maximum", ordered(parsed.clone(), is_date).gt(b));
        }
        if let Some(n) = c.min_length {
            add(
                "minLength",
                present
                    .clone()
                    .and(col(name).str().len_chars().lt(lit(n as u32))),
            );
        }
        if let Some(n) = c.max_length {
            add(
                "maxLength",
                present
                    .clone()
                    .and(col(name).str().len_chars().gt(lit(n as u32))),
            );
        }
        if let Some(values) = &c.enum_values {
            let (target, ok) = match field.field_type {
                FieldType::Integer | FieldType::Number => {
                    let ok = parsed
                        .clone()
                        .is_in(lit(value_series(field, values)).implode(false), false);
                    (parsed.clone(), ok)
                }
                _ => {
                    let texts: Vec<String> = values
                        .iter()
                        .map(|v| match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect();
                    (col(name), one_of(col(name), &texts))
                }
            };
            add(
                "enum",
                present.clone().and(target.is_not_null()).and(ok.not()),
            );
        }
        if let Some(p) = &c.pattern {
            let matches = match FixedPattern::compile(p) {
                Some(fixed) => fixed.expr(col(name)),
                None => col(name).str().contains(lit(anchored(p)), true),
            };
            add("pattern", present.clone().and(matches.not()));
        }
    }
    let mut stages = vec![missing_stage, stage];
    if !value_stage.is_empty() {
        stages.insert(0, value_stage);
    }
    (stages, checks)
}

/// The column `name` with the file's values replaced by the schema's, as
/// the mapping file's `[values.FIELD]` lists them (other values unchanged).
fn map_values(name: &str, values: &std::collections::BTreeMap<String, String>) -> Expr {
    let c = col(name);
    let mut chain: Option<Then> = None;
    let mut chained: Option<ChainedThen> = None;
    for (from, to) in values {
        let cond = c.clone().eq(lit(from.as_str()));
        let to = lit(to.as_str());
        match (chain.take(), chained.take()) {
            (None, None) => chain = Some(when(cond).then(to)),
            (Some(t), _) => chained = Some(t.when(cond).then(to)),
            (None, Some(t)) => chained = Some(t.when(cond).then(to)),
        }
    }
    match (chain, chained) {
        (Some(t), _) => t.otherwise(c).alias(name),
        (None, Some(t)) => t.otherwise(c).alias(name),
        (None, None) => c,
    }
}

/// Explains one failure of `rule` on a cell whose raw text is `raw`.
pub(crate) fn message(field: &Field, rule: &str, raw: &str, dialect: &Dialect) -> String {
    let c = &field.constraints;
    let show = |v: &Option<Value>| {
        v.as_ref()
            .map(|v| {
                v.as_str()
                    .map(String::from)
                    .unwrap_or_else(|| v.to_string())
            })
            .unwrap_or_default()
    };
    match rule {
        "required" => "a value is required but the cell is empty".into(),
        "primaryKey" => format!(
            "{:?} is part of the primary key and must have a value",
            field.name
        ),
        "type" => type_message(field, raw, dialect),
        "minimum" => format!("{raw} is below the minimum {}", show(&c.minimum)),
        "maximum" => format!("{raw} is above the maximum {}", show(&c.maximum)),
        "minLength" => format!(
            "{raw:?} is shorter than {} characters",
            c.min_length.unwrap_or(0)
        ),
        "maxLength" => format!(
            "{raw:?} is longer than {} characters",
            c.max_length.unwrap_or(0)
        ),
        "enum" => {
            let allowed: Vec<String> = c
                .enum_values
                .iter()
                .flatten()
                .map(|v| {
                    v.as_str()
                        .map(String::from)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect();
            let close = allowed.iter().find(|a| a.eq_ignore_ascii_case(raw.trim()));
            let hint = close
                .map(|a| format!(" (did you mean {a:?}?)"))
                .unwrap_or_else(|| {
                    let into = dialect
                        .mapping
                        .path
                        .as_deref()
                        .map(|p| format!(" in {p}"))
                        .unwrap_or_else(|| " in a mapping file (--map)".into());
                    format!(
                        "; if it stands for one of them, map it{into}: [values.{}] \"{raw}\" = \"...\"",
                        field.name
                    )
                });
            format!("{raw:?} is not one of {}{hint}", allowed.join(", "))
        }
        "pattern" => format!(
            "{raw:?} does not match the pattern {}",
            c.pattern.as_deref().unwrap_or("")
        ),
        other => format!("{raw:?} breaks {other}"),
    }
}

/// A strptime format that reads `raw`, for the common ways exports write dates.
fn guess_date_format(raw: &str) -> Option<&'static str> {
    let shape: String = raw
        .trim()
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect();
    Some(match shape.as_str() {
        "9999-99-99" => "%Y-%m-%d",
        "99.99.9999" => "%d.%m.%Y",
        "99/99/9999" => "%d/%m/%Y",
        "9999/99/99" => "%Y/%m/%d",
        "99-99-9999" => "%d-%m-%Y",
        "99.99.99" => "%d.%m.%y",
        _ => return None,
    })
}

/// Why `raw` is not a number as this file writes numbers, and the fix.
fn number_message(raw: &str, d: &Dialect) -> String {
    let o = &d.origins;
    let example = d.example_number();
    let (dec, other) = if d.decimal_comma {
        (',', '.')
    } else {
        ('.', ',')
    };
    let hint = if let Some(t) = d.thousands.filter(|t| raw.contains(t.chars())) {
        format!(
            ": the thousands separator {:?} (from {}) must group the digits before the decimal separator in threes, as in {example}",
            t.shown(),
            o.thousands.describe()
        )
    } else if raw.contains(dec) && raw.contains(other) && d.thousands.is_none() {
        format!(
            ": it seems to group thousands with {other:?}; {}",
            d.advice(
                "thousands",
                &format!("\"{other}\""),
                &format!("--thousands '{other}'"),
                &o.thousands
            )
        )
    } else if !d.decimal_comma && raw.contains(',') {
        format!(
            ": the file is read with a decimal point (from {}); if it writes decimals with a comma, {}",
            o.decimal_comma.describe(),
            d.advice("decimal_comma", "true", "--decimal-comma", &o.decimal_comma)
        )
    } else if d.decimal_comma && raw.contains('.') {
        format!(
            ": the file is read with decimal commas (from {}), as in {example}; if it writes decimals with a point, {}",
            o.decimal_comma.describe(),
            d.advice("decimal_comma", "false", "no --decimal-comma", &o.decimal_comma)
        )
    } else {
        format!(" (write it as {example})")
    };
    format!("{raw:?} is not a number{hint}")
}

fn type_message(field: &Field, raw: &str, dialect: &Dialect) -> String {
    match field.field_type {
        FieldType::Integer => {
            if regex::Regex::new(INTEGER_RE)
                .map(|r| r.is_match(raw))
                .unwrap_or(false)
            {
                format!("{raw} is outside the 64-bit integer range")
            } else {
                match dialect.thousands.filter(|t| raw.contains(t.chars())) {
                    Some(t) => format!(
                        "{raw:?} is not a whole number: the thousands separator {:?} (from {}) must group digits in threes, as in 1{}234",
                        t.shown(),
                        dialect.origins.thousands.describe(),
                        t.shown()
                    ),
                    None => format!("{raw:?} is not a whole number"),
                }
            }
        }
        FieldType::Number => number_message(raw, dialect),
        FieldType::Date => {
            let format = date_format(dialect, field);
            let shown = if format == "%Y-%m-%d" {
                "YYYY-MM-DD"
            } else {
                format
            };
            let from = &dialect.origins.date_format;
            let value = match guess_date_format(raw) {
                // Written in the file's format, but no such day.
                Some(g) if g == format => {
                    return format!(
                        "{raw:?} is not a valid date in the format {shown}: there is no such day"
                    )
                }
                Some(g) => format!("{g:?}"),
                None => "\"%d.%m.%Y\" (its own pattern)".into(),
            };
            let fix = dialect.advice("date_format", &value, "", from);
            let whose = match from {
                crate::settings::Origin::Default => String::new(),
                o => format!(", from {}", o.describe()),
            };
            format!("{raw:?} is not a valid date in the format {shown}{whose}: if the file writes dates another way, {fix}")
        }
        FieldType::Boolean => format!(
            "{raw:?} is not a boolean (true values: {}; false values: {})",
            field.true_values.join(", "),
            field.false_values.join(", ")
        ),
        FieldType::String => format!("{raw:?} is not a string"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cast-based parsers accept exactly what the spec's regexes accept.
    #[test]
    fn numbers_and_integers_parse_as_the_spec_regexes_say() {
        let texts = [
            "1",
            "+1",
            "-1",
            "007",
            "+-1",
            "1.",
            ".5",
            "+.5",
            "-.5e3",
            "1.5e",
            "1e5",
            "1E+5",
            "1e-5",
            "1.2.3",
            "1,5",
            "1,2,3",
            "1.5,2",
            "NaN",
            "nan",
            "INF",
            "-INF",
            "+INF",
            "inf",
            "Infinity",
            "-infinity",
            "1e999",
            "-1e999",
            " 1",
            "1 ",
            "0x10",
            "1_000",
            "",
            ".",
            "e5",
            "--1",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "١",
        ];
        let frame = df!("v" => texts.to_vec()).unwrap();
        let int_re = regex::Regex::new(INTEGER_RE).unwrap();
        for comma in [false, true] {
            let re = regex::Regex::new(if comma { NUMBER_COMMA_RE } else { NUMBER_RE }).unwrap();
            let out = frame
                .clone()
                .lazy()
                .select([
                    parse_number(col("v"), comma, None).alias("n"),
                    col("v").cast(DataType::Int64).alias("i"),
                ])
                .collect()
                .unwrap();
            let n = out.column("n").unwrap().f64().unwrap().clone();
            let i = out.column("i").unwrap().i64().unwrap().clone();
            for (k, t) in texts.iter().enumerate() {
                assert_eq!(
                    n.get(k).is_some(),
                    re.is_match(t),
                    "number {t:?} comma {comma}"
                );
                let in_range = t.trim_start_matches('+').parse::<i64>().is_ok();
                assert_eq!(
                    i.get(k).is_some(),
                    int_re.is_match(t) && in_range,
                    "integer {t:?}"
                );
            }
        }
    }

    /// Parses `texts` as numbers of a file with these conventions.
    fn numbers(texts: &[String], comma: bool, t: Option<Thousands>) -> Vec<Option<f64>> {
        let frame = df!("v" => texts.to_vec()).unwrap();
        let out = frame
            .lazy()
            .select([parse_number(col("v"), comma, t).alias("n")])
            .collect()
            .unwrap();
        out.column("n").unwrap().f64().unwrap().iter().collect()
    }

    /// `cents` written with a decimal `dec` and `sep` between groups of three digits.
    fn grouped(cents: i64, dec: char, sep: &str) -> String {
        let abs = cents.unsigned_abs();
        let units = (abs / 100).to_string();
        let mut out = String::new();
        for (i, ch) in units.chars().enumerate() {
            if i > 0 && (units.len() - i) % 3 == 0 {
                out.push_str(sep);
            }
            out.push(ch);
        }
        let sign = if cents < 0 { "-" } else { "" };
        format!("{sign}{out}{dec}{:02}", abs % 100)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Any amount in cents, written with grouped thousands in each
        /// convention, parses back to exactly the value of its plain decimal text.
        #[test]
        fn grouped_thousands_parse_back_exactly(cents in proptest::collection::vec(proptest::prelude::any::<i64>(), 1..40)) {
            let conventions: [(bool, Thousands, &[&str]); 4] = [
                (true, Thousands::Dot, &["."]),
                (false, Thousands::Comma, &[","]),
                (true, Thousands::Space, &[" ", "\u{a0}", "\u{202f}"]),
                (false, Thousands::Apostrophe, &["'"]),
            ];
            let plain: Vec<f64> = cents
                .iter()
                .map(|c| grouped(*c, '.', "").parse::<f64>().unwrap())
                .collect();
            for (comma, t, seps) in conventions {
                let dec = if comma { ',' } else { '.' };
                for sep in seps {
                    let texts: Vec<String> = cents.iter().map(|c| grouped(*c, dec, sep)).collect();
                    let got = numbers(&texts, comma, Some(t));
                    for ((text, g), want) in texts.iter().zip(&got).zip(&plain) {
                        proptest::prop_assert_eq!(*g, Some(*want), "{}", text);
                    }
                }
            }
        }
    }

    #[test]
    fn wrong_grouping_is_not_a_number() {
        let cases = [
            ("1.23,4", true, Thousands::Dot),
            ("12.34,5", true, Thousands::Dot),
            ("1.2345,00", true, Thousands::Dot),
            (".123,00", true, Thousands::Dot),
            ("1,23.4", false, Thousands::Comma),
            ("1,234,5.00", false, Thousands::Comma),
            ("1 23,4", true, Thousands::Space),
            ("1 234.5", true, Thousands::Space),
            ("1.234.5", true, Thousands::Dot),
        ];
        for (text, comma, t) in cases {
            assert_eq!(
                numbers(&[text.into()], comma, Some(t)),
                vec![None],
                "{text}"
            );
        }
        // Ungrouped numbers still read; the decimal separator is the file's.
        assert_eq!(
            numbers(
                &["1234,5".into(), "-0,25".into()],
                true,
                Some(Thousands::Dot)
            ),
            vec![Some(1234.5), Some(-0.25)]
        );
        let d = Dialect {
            decimal_comma: true,
            thousands: Some(Thousands::Dot),
            ..Dialect::default()
        };
        let m = number_message("1.23,4", &d);
        assert!(m.contains("in threes, as in 1.204,50"), "{m}");
        let d = Dialect {
            decimal_comma: true,
            delimiter: b';',
            ..Dialect::default()
        };
        let m = number_message("12.50", &d);
        assert!(m.contains("as in 1204,50"), "{m}");
    }

    #[test]
    fn mapped_values_replace_listed_ones_and_pass_others_unchanged() {
        let values: std::collections::BTreeMap<String, String> = [
            ("Brot", "bread"),
            ("Brötchen", "bread"),
            ("Getränke", "drinks"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let frame =
            df!("category" => ["Brot", "Brötchen", "Getränke", "Kuchen", "bread", ""]).unwrap();
        let out = frame
            .lazy()
            .select([map_values("category", &values)])
            .collect()
            .unwrap();
        let got: Vec<Option<&str>> = out
            .column("category")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(
            got,
            [
                Some("bread"),
                Some("bread"),
                Some("drinks"),
                Some("Kuchen"),
                Some("bread"),
                Some("")
            ]
        );
    }

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(days_from_civil(2000, 3, 1), Some(11017));
        assert_eq!(days_from_civil(2024, 2, 29), Some(19782));
        assert_eq!(days_from_civil(2023, 2, 29), None);
        assert_eq!(days_from_civil(2023, 13, 1), None);
    }
}
