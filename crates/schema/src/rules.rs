//! Every cell rule as a polars expression over the raw text columns, and the
//! messages that explain a failure. Parsing lives here too, so that the typed
//! columns later stages read are parsed by the same expressions validate used.

use crate::model::{anchored, Field, FieldType, TableSchema};
use polars::prelude::*;
use serde_json::Value;

/// Integers as Table Schema writes them (`bareNumber` true).
const INTEGER_RE: &str = r"^[+-]?[0-9]+$";
/// Numbers with a decimal point, plus the spec's special values.
const NUMBER_RE: &str =
    r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$|^(?:NaN|INF|-INF)$";
/// Numbers with a decimal comma (`--decimal-comma`).
const NUMBER_COMMA_RE: &str =
    r"^[+-]?(?:[0-9]+(?:,[0-9]*)?|,[0-9]+)(?:[eE][+-]?[0-9]+)?$|^(?:NaN|INF|-INF)$";
/// The spec's default date format, strictly: four-digit year, two-digit month and day.
const ISO_DATE_RE: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
/// Formats tried, in order, for `format: any`.
const ANY_DATE_FORMATS: &[&str] = &["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d", "%Y%m%d"];

/// How values are written in this file.
#[derive(Debug, Clone, Default)]
pub(crate) struct Dialect {
    /// `12,50` rather than `12.50`.
    pub decimal_comma: bool,
    /// A date format from the mapping file, overriding the schema's for every date field.
    pub date_format: Option<String>,
}

impl Dialect {
    fn date_format<'a>(&'a self, field: &'a Field) -> &'a str {
        if let Some(f) = &self.date_format {
            return f;
        }
        match field.format.as_deref() {
            None | Some("default") => "%Y-%m-%d",
            Some(f) => f,
        }
    }
}

/// True where the cell is missing: absent (a short row) or one of `missingValues`.
pub(crate) fn is_missing(schema: &TableSchema, name: &str) -> Expr {
    let missing = Series::new("".into(), schema.missing_values.clone());
    col(name)
        .is_null()
        .or(col(name).is_in(lit(missing).implode(false), false))
}

fn to_date(c: Expr, format: &str) -> Expr {
    c.str().to_date(StrptimeOptions {
        format: Some(format.into()),
        strict: false,
        exact: true,
        cache: false,
    })
}

/// The typed value of a cell, or null where it is missing or not of the type.
pub(crate) fn parse(schema: &TableSchema, field: &Field, dialect: &Dialect) -> Expr {
    let c = col(field.name.as_str());
    let present = is_missing(schema, &field.name).not();
    let value = match field.field_type {
        FieldType::String => c,
        FieldType::Integer => when(c.clone().str().contains(lit(INTEGER_RE), true))
            .then(
                c.str()
                    .replace(lit("+"), lit(""), true)
                    .cast(DataType::Int64),
            )
            .otherwise(lit(NULL).cast(DataType::Int64)),
        FieldType::Number => {
            let (re, text) = if dialect.decimal_comma {
                (
                    NUMBER_COMMA_RE,
                    c.clone().str().replace(lit(","), lit("."), true),
                )
            } else {
                (NUMBER_RE, c.clone())
            };
            let text = text.str().replace(lit("+"), lit(""), true);
            when(c.str().contains(lit(re), true))
                .then(
                    when(text.clone().eq(lit("INF")))
                        .then(lit(f64::INFINITY))
                        .when(text.clone().eq(lit("-INF")))
                        .then(lit(f64::NEG_INFINITY))
                        .when(text.clone().eq(lit("NaN")))
                        .then(lit(f64::NAN))
                        .otherwise(text.cast(DataType::Float64)),
                )
                .otherwise(lit(NULL).cast(DataType::Float64))
        }
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
                let format = dialect.date_format(field);
                let parsed = to_date(c.clone(), format);
                if format == "%Y-%m-%d" {
                    when(c.str().contains(lit(ISO_DATE_RE), true))
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
    };
    when(present)
        .then(value)
        .otherwise(lit(NULL).cast(dtype(field.field_type)))
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

/// The row-local checks for every bound field. Rows listed in `ragged` (data
/// row indices) are reported by the structural pass and skipped here.
pub(crate) fn row_checks(
    schema: &TableSchema,
    bound: &[usize],
    dialect: &Dialect,
    ragged: &[u32],
) -> Vec<Check> {
    let mut checks = Vec::new();
    let complete = if ragged.is_empty() {
        lit(true)
    } else {
        col(crate::scan::ROW)
            .is_in(
                lit(Series::new("".into(), ragged.to_vec())).implode(false),
                false,
            )
            .not()
    };
    for &fi in bound {
        let field = &schema.fields[fi];
        let name = field.name.as_str();
        let missing = is_missing(schema, name);
        let present = missing.clone().not();
        let parsed = parse(schema, field, dialect);
        let c = &field.constraints;
        let mut add = |rule: &'static str, fail: Expr| {
            checks.push(Check {
                field: Some(fi),
                rule,
                fail: fail.and(complete.clone()).fill_null(lit(false)),
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
            let target = match field.field_type {
                FieldType::Integer | FieldType::Number => parsed.clone(),
                _ => col(name),
            };
            let ok = target
                .clone()
                .is_in(lit(value_series(field, values)).implode(false), false);
            add(
                "enum",
                present.clone().and(target.is_not_null()).and(ok.not()),
            );
        }
        if let Some(p) = &c.pattern {
            add(
                "pattern",
                present
                    .clone()
                    .and(col(name).str().contains(lit(anchored(p)), true).not()),
            );
        }
    }
    checks
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
                .unwrap_or_default();
            format!("{raw:?} is not one of {}{hint}", allowed.join(", "))
        }
        "pattern" => format!(
            "{raw:?} does not match the pattern {}",
            c.pattern.as_deref().unwrap_or("")
        ),
        other => format!("{raw:?} breaks {other}"),
    }
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
                format!("{raw:?} is not a whole number")
            }
        }
        FieldType::Number => {
            let hint = if raw.contains(',') && raw.contains('.') {
                " (write it without a thousands separator, e.g. 1204.50)"
            } else if !dialect.decimal_comma && raw.contains(',') {
                " (if the file writes decimals with a comma, use --decimal-comma)"
            } else if dialect.decimal_comma && raw.contains('.') {
                " (with --decimal-comma, write decimals as 12,50 and no thousands separator)"
            } else {
                ""
            };
            format!("{raw:?} is not a number{hint}")
        }
        FieldType::Date => {
            let format = dialect.date_format(field);
            let shown = if format == "%Y-%m-%d" {
                "YYYY-MM-DD"
            } else {
                format
            };
            format!("{raw:?} is not a valid date in the format {shown} (set date_format in a --map file if the file uses another)")
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

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(days_from_civil(2000, 3, 1), Some(11017));
        assert_eq!(days_from_civil(2024, 2, 29), Some(19782));
        assert_eq!(days_from_civil(2023, 2, 29), None);
        assert_eq!(days_from_civil(2023, 13, 1), None);
    }
}
