//! A published round's tables as files for spreadsheets and BI tools
//! (`inspect --format csv|json --output DIR`): one file per table, the
//! dimension labels, then per figure its value, its 95 % range and its
//! verdict, then the table's fixed facts and the `suppressed` flag.
//!
//! CSV: a header row (`round`, the dimensions the table is split by, the
//! figures), dates as ISO dates (`month` as its first day), `.` as the decimal separator, no thousands
//! separators, no exponent, UTF-8 (with a byte-order mark on request, for
//! Excel), fields quoted where needed. A figure whose verdict is *too noisy*
//! or *suppressed* is left empty: its verdict column says why (the Parquet
//! keeps every published value for analysts who model the noise). JSON: the
//! same data, one document per table.

use crate::readback::{FigureColumn, Published, Round};
use coopbench_benchmark::layout::ROUND;
use coopbench_benchmark::table::ColumnType;
use coopbench_privacy::accuracy::verdict_column;
use serde_json::{json, Map, Value};

/// The byte-order mark Excel needs to read a CSV file as UTF-8.
const BOM: &str = "\u{feff}";

/// The four column names of a figure: value, 95 % range low and high,
/// verdict (the Parquet's names: `estimate`, `ci95_low`, `ci95_high`,
/// `verdict`; `p50`, `p50_ci95_low`, …).
pub fn figure_names(column: &str) -> [String; 4] {
    let base = match column {
        "estimate" => String::new(),
        "members_noisy" => "members_".into(),
        c => format!("{c}_"),
    };
    [
        column.to_string(),
        format!("{base}ci95_low"),
        format!("{base}ci95_high"),
        verdict_column(column),
    ]
}

/// The table's fixed fact column: the noise sd of a total, the bin width of
/// a ratio.
fn fact_column(t: &Published) -> &'static str {
    if t.fact.kind == "ratio" {
        "bin_width"
    } else {
        "noise_sd"
    }
}

/// A number as a spreadsheet reads it: `.` decimals, no separators, no
/// exponent (Rust's shortest representation that reads back exactly).
fn num(x: Option<f64>) -> String {
    x.filter(|v| v.is_finite())
        .map(|v| format!("{v}"))
        .unwrap_or_default()
}

/// A label as a spreadsheet cell: text a spreadsheet would run as a
/// formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return)
/// gets a leading `'`, so a label from an unsigned file can never become a
/// formula in the secretary's spreadsheet. Numbers are never labels.
pub fn text_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// A row's labels as written: a date dimension (`month`, `YYYY-MM` in
/// memory) as its ISO date, the first day of the month; text as
/// [`text_cell`].
fn labels(t: &Published, labels: &[String]) -> Vec<String> {
    t.table
        .dims
        .iter()
        .zip(labels)
        .map(|(d, l)| match t.table.column(d).ty {
            ColumnType::Date if l.len() == 7 => format!("{l}-01"),
            _ => text_cell(l),
        })
        .collect()
}

/// The CSV header of a table: the round, the dimensions the round splits
/// the table by, then the figures.
pub fn header(t: &Published) -> Vec<String> {
    let mut h: Vec<String> = vec![ROUND.to_string()];
    h.extend(t.table.dims.iter().cloned());
    for c in &t.columns {
        h.extend(figure_names(c.column));
    }
    h.push(fact_column(t).into());
    h.push("suppressed".into());
    h
}

/// One table as CSV (see the module docs).
pub fn csv(round: &Round, t: &Published, bom: bool) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header(t)).map_err(|e| e.to_string())?;
    for (row, raw) in t.rows.iter().zip(&t.table.rows) {
        let mut rec: Vec<String> = vec![text_cell(&round.manifest.round.id)];
        rec.extend(labels(t, &row.labels));
        for f in &row.figures {
            match f {
                Some(f) => {
                    let (lo, hi) = f.shown_range().unzip();
                    rec.extend([num(f.shown()), num(lo), num(hi), f.verdict.as_str().into()]);
                }
                None => rec.extend(std::iter::repeat_n(String::new(), 4)),
            }
        }
        rec.push(num(raw.get(fact_column(t))));
        rec.push(row.suppressed.to_string());
        w.write_record(&rec).map_err(|e| e.to_string())?;
    }
    let body = w.into_inner().map_err(|e| e.to_string())?;
    Ok(if bom {
        [BOM.as_bytes(), &body].concat()
    } else {
        body
    })
}

/// One table as a JSON document (the data of [`csv`]).
pub fn json(round: &Round, t: &Published) -> Vec<u8> {
    let rows: Vec<Value> = t
        .rows
        .iter()
        .zip(&t.table.rows)
        .map(|(row, raw)| {
            let labels: Map<String, Value> = t
                .table
                .dims
                .iter()
                .cloned()
                .zip(labels(t, &row.labels).into_iter().map(Value::from))
                .collect();
            let figures: Map<String, Value> = t
                .columns
                .iter()
                .zip(&row.figures)
                .filter_map(|(c, f): (&FigureColumn, _)| {
                    let f = f.as_ref()?;
                    let (lo, hi) = f.shown_range().unzip();
                    Some((
                        c.column.to_string(),
                        json!({"value": f.shown(), "ci95_low": lo, "ci95_high": hi,
                               "verdict": f.verdict.as_str(),
                               "unit": t.table.column(c.column).unit}),
                    ))
                })
                .collect();
            json!({
                "labels": labels,
                "figures": figures,
                fact_column(t): raw.get(fact_column(t)),
                "suppressed": row.suppressed,
            })
        })
        .collect();
    let doc = json!({
        "round": round.manifest.round.id,
        "pool": round.manifest.round.pool_id,
        "table": t.fact.name,
        "kind": t.fact.kind,
        "description": t.fact.description,
        "unit": t.table.metadata.get("unit"),
        "currency": round.manifest.round.currency,
        "dimensions": t.table.dims,
        "rows": rows,
    });
    let mut bytes = serde_json::to_vec_pretty(&doc).expect("a table serialises");
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_never_become_formulas_and_numbers_read_back() {
        assert_eq!(text_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for bad in ["+1", "-1+2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(text_cell(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(text_cell("bread"), "bread");
        assert_eq!(text_cell("Café, Bäckerei"), "Café, Bäckerei");
        for v in [0.1, -1234567.89, 1e20, 3.0] {
            assert_eq!(num(Some(v)).parse::<f64>().unwrap(), v);
            assert!(!num(Some(v)).contains(['e', 'E', ',']), "{}", num(Some(v)));
        }
        assert_eq!(num(Some(f64::NAN)), "");
        assert_eq!(num(None), "");
        assert_eq!(
            figure_names("estimate"),
            ["estimate", "ci95_low", "ci95_high", "verdict"]
        );
        assert_eq!(
            figure_names("members_noisy"),
            [
                "members_noisy",
                "members_ci95_low",
                "members_ci95_high",
                "members_verdict"
            ]
        );
        assert_eq!(figure_names("p50")[3], "p50_verdict");
    }
}
