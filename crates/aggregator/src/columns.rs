//! The published columns of a metric's table, decided from the round and the
//! member schemas alone (never from the figures): the dimension columns every
//! table carries, and each figure's type, unit and description.
//!
//! Every table has the same dimension columns, in every round: `month`, then
//! each field of the member schemas with a closed list of labels (an
//! `enum`), sales' before costs'. A round that does not split a table by one
//! of them leaves it null ("all values"). So a table's columns depend only on
//! its kind and its unit, and rounds with different grids read as one
//! dataset; `merge` refuses a round whose table would change them
//! ([`compatible`]).
//!
//! Types: money (a sum of a `number` field, which the schemas state in the
//! round's currency, and a ratio of money to something else) is
//! Decimal128(38, 2); whole numbers (counts, active members, sums of
//! `integer` fields, member counts) are Int64, their interval ends rounded
//! outwards; everything else (fractions, standard deviations of counts) is
//! Float64.

use crate::schemas::builtin;
use crate::tables::{Figures, Table, TotalFigures};
use coopbench_benchmark::layout::{describe, MONTH, RATIO_COLUMNS, TOTAL_COLUMNS};
use coopbench_benchmark::table::{ColumnInfo, ColumnType};
use coopbench_protocol::round::{Kind, SourceKind, Term};
use coopbench_protocol::Round;
use std::collections::BTreeMap;

/// The dimension columns of every table, in order, with their descriptions:
/// `month`, then the schemas' fields with an `enum`, then (defensively) any
/// dimension the round uses that is neither.
pub fn dimension_columns(round: &Round) -> Vec<(String, String)> {
    let mut out = vec![(MONTH.to_string(), describe(MONTH).to_string())];
    for source in [SourceKind::Sales, SourceKind::Costs] {
        let schema = builtin(source);
        for f in &schema.fields {
            let closed = f.constraints.enum_values.is_some();
            if f.field_type == "string"
                && f.shareable
                && closed
                && !out.iter().any(|(n, _)| *n == f.name)
            {
                out.push((
                    f.name.clone(),
                    format!(
                        "{} (field {} of schema {}); null: all values of this dimension",
                        f.description.trim_end_matches('.'),
                        f.name,
                        schema.name()
                    ),
                ));
            }
        }
    }
    for m in &round.metrics {
        for d in &m.dims {
            if !out.iter().any(|(n, _)| n == d) {
                out.push((
                    d.clone(),
                    format!("{d}; null: all values of this dimension"),
                ));
            }
        }
    }
    out
}

/// The unit of a measure summed from `source`, and how its sums are stored:
/// rows counted (no measure) and `integer` fields are whole numbers, `number`
/// fields are money in the round's currency.
fn measure_unit(round: &Round, source: SourceKind, measure: Option<&str>) -> (String, ColumnType) {
    let Some(field) = measure else {
        return ("rows".into(), ColumnType::Integer);
    };
    match builtin(source).field(field).map(|f| f.field_type.as_str()) {
        Some("number") => (round.currency.clone(), ColumnType::Money),
        Some("integer") => (field.to_string(), ColumnType::Integer),
        _ => (field.to_string(), ColumnType::Float),
    }
}

/// The one unit of a ratio's terms (None: they disagree).
fn terms_unit(round: &Round, terms: &[Term]) -> Option<(String, ColumnType)> {
    let units: Vec<_> = terms
        .iter()
        .map(|t| measure_unit(round, t.source, t.measure.as_deref()))
        .collect();
    let first = units.first()?.clone();
    units.iter().all(|u| u.0 == first.0).then_some(first)
}

/// The unit of a metric's values and how they are stored: a sum's measure,
/// `rows`, `members`; a ratio of like units is a `fraction` (0.25 is 25 %:
/// shares, margins, growth), of unlike ones `<numerator> per <denominator>`
/// (`EUR per transaction`), money when the numerator is.
pub fn metric_unit(round: &Round, table: &Table) -> (String, ColumnType) {
    let Some(m) = round.metric(&table.name) else {
        return (String::new(), ColumnType::Float);
    };
    match m.kind {
        Kind::Sum => measure_unit(
            round,
            m.source.unwrap_or(SourceKind::Sales),
            m.measure.as_deref(),
        ),
        Kind::Count => ("rows".into(), ColumnType::Integer),
        Kind::Active => ("members".into(), ColumnType::Integer),
        Kind::Ratio => match (
            terms_unit(round, &m.numerator),
            terms_unit(round, &m.denominator),
        ) {
            (Some(n), Some(d)) if n.0 == d.0 => ("fraction".into(), ColumnType::Float),
            (Some(n), Some(d)) => {
                let per = d.0.strip_suffix('s').unwrap_or(&d.0).to_string();
                let ty = if n.1 == ColumnType::Money {
                    ColumnType::Money
                } else {
                    ColumnType::Float
                };
                (format!("{} per {per}", n.0), ty)
            }
            _ => ("ratio of mixed units".into(), ColumnType::Float),
        },
    }
}

/// Whether a table holds ratio groups.
pub fn is_ratio(table: &Table) -> bool {
    table.kind == Kind::Ratio
        || table
            .rows
            .first()
            .is_some_and(|r| matches!(r.figures, Figures::Ratio(_)))
}

/// Type, unit and description of every dimension and figure column of a
/// table (verdicts, `round` and `suppressed` are described by the format).
pub fn info(round: &Round, table: &Table) -> BTreeMap<String, ColumnInfo> {
    let (unit, ty) = metric_unit(round, table);
    let money_or_float = if ty == ColumnType::Money {
        ColumnType::Money
    } else {
        ColumnType::Float
    };
    let what = if table.description.is_empty() {
        table.name.clone()
    } else {
        table.description.clone()
    };
    let col = |ty: ColumnType, unit: &str, description: String| ColumnInfo {
        ty,
        unit: unit.to_string(),
        description,
    };
    let mut out = BTreeMap::new();
    for (name, description) in dimension_columns(round) {
        let ty = if name == MONTH {
            ColumnType::Date
        } else {
            ColumnType::Text
        };
        out.insert(name, col(ty, "", description));
    }
    let per_member = format!("{unit} per member");
    let figures: &[&str] = if is_ratio(table) {
        &RATIO_COLUMNS
    } else {
        &TOTAL_COLUMNS
    };
    for c in figures {
        let generic = describe(c).to_string();
        let (t, u, d) = match *c {
            "estimate" => (ty, unit.as_str(), format!("{what}: {generic}")),
            "ci95_low" | "ci95_high" => (ty, unit.as_str(), generic),
            "noise_sd" => (money_or_float, unit.as_str(), generic),
            "mean_per_member" | "mean_sd" => (money_or_float, per_member.as_str(), generic),
            // A ratio table's members come from the projected histogram:
            // estimates with fractions, like their interval.
            c if c.starts_with("members_") && is_ratio(table) => {
                (ColumnType::Float, "members", generic)
            }
            "members_noisy" => (ColumnType::Integer, "members", generic),
            "p10" | "p25" | "p50" | "p75" | "p90" | "mean" => {
                (money_or_float, unit.as_str(), format!("{what}: {generic}"))
            }
            _ => (money_or_float, unit.as_str(), generic),
        };
        out.insert(c.to_string(), col(t, u, d));
    }
    out
}

/// A total's figures as published when its estimate is a whole number
/// (counts, members, integer fields): the estimate and the members rounded,
/// the interval's ends outwards (so it still covers what it covered). The
/// verdicts are judged on these, the numbers a reader sees.
pub fn stored_total(info: &BTreeMap<String, ColumnInfo>, f: &TotalFigures) -> TotalFigures {
    let ty = |c: &str| info.get(c).map(|i| i.ty).unwrap_or_default();
    let mut f = *f;
    let e = &mut f.estimate;
    e.estimate = stored_value("estimate", ty("estimate"), e.estimate);
    e.ci95_low = stored_value("ci95_low", ty("ci95_low"), e.ci95_low);
    e.ci95_high = stored_value("ci95_high", ty("ci95_high"), e.ci95_high);
    f.members_noisy = f
        .members_noisy
        .map(|m| stored_value("members_noisy", ty("members_noisy"), m));
    f
}

/// A figure as published in a column of type `ty`: whole numbers rounded
/// (an interval's ends outwards, so it still covers what it covered).
pub fn stored_value(column: &str, ty: ColumnType, v: f64) -> f64 {
    if ty != ColumnType::Integer {
        v
    } else if column.ends_with("_low") {
        v.floor()
    } else if column.ends_with("_high") {
        v.ceil()
    } else {
        v.round()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coopbench_protocol::round::{Bins, Metric};

    fn example() -> Round {
        let text = include_str!("../../../examples/rounds/2025q4.toml");
        toml::from_str(text).expect("the example round parses")
    }

    fn table(round: &Round, name: &str) -> Table {
        let m = round.metric(name).unwrap();
        Table {
            name: m.name.clone(),
            kind: m.kind,
            description: m.description.clone(),
            dims: vec![],
            rows: vec![],
            members_source: String::new(),
            noise_sd: 1.0,
        }
    }

    #[test]
    fn every_table_has_the_same_dimension_columns_whatever_its_grid() {
        let round = example();
        let names: Vec<String> = dimension_columns(&round).into_iter().map(|d| d.0).collect();
        assert_eq!(names, ["month", "category", "channel", "cost_type"]);
        for (name, d) in dimension_columns(&round).iter().skip(1) {
            assert!(d.contains("null: all values"), "{name}: {d}");
        }
    }

    #[test]
    fn units_and_types_follow_the_measures() {
        let mut round = example();
        let unit = |r: &Round, n: &str| metric_unit(r, &table(r, n));
        assert_eq!(unit(&round, "revenue"), ("EUR".into(), ColumnType::Money));
        assert_eq!(unit(&round, "costs"), ("EUR".into(), ColumnType::Money));
        assert_eq!(
            unit(&round, "active"),
            ("members".into(), ColumnType::Integer)
        );
        assert_eq!(
            unit(&round, "gross_margin"),
            ("fraction".into(), ColumnType::Float)
        );
        assert_eq!(
            unit(&round, "rent_share"),
            ("fraction".into(), ColumnType::Float)
        );
        assert_eq!(
            unit(&round, "avg_ticket"),
            ("EUR per transaction".into(), ColumnType::Money)
        );
        // Growth: this quarter's sales over the previous quarter's.
        let mut growth = round.metric("gross_margin").unwrap().clone();
        growth.name = "growth".into();
        growth.numerator = round.metric("avg_ticket").unwrap().numerator.clone();
        growth.denominator = growth.numerator.clone();
        growth.denominator[0].months_back = 3;
        growth.bins = Some(Bins {
            lo: 0.0,
            hi: 2.0,
            count: 20,
        });
        let units: Metric = serde_json::from_value(serde_json::json!({
            "name": "units_sold", "kind": "sum", "source": "sales", "measure": "units",
            "dims": ["category"], "clip": {"lo": 0, "hi": 1000}
        }))
        .unwrap();
        round.metrics.extend([growth, units]);
        assert_eq!(
            unit(&round, "growth"),
            ("fraction".into(), ColumnType::Float)
        );
        assert_eq!(
            unit(&round, "units_sold"),
            ("units".into(), ColumnType::Integer)
        );
        let info = info(&round, &table(&round, "units_sold"));
        assert_eq!(info["estimate"].ty, ColumnType::Integer);
        assert_eq!(info["noise_sd"].ty, ColumnType::Float);
        assert_eq!(info["mean_per_member"].unit, "units per member");
        assert_eq!(info["members_noisy"].ty, ColumnType::Integer);
    }

    #[test]
    fn money_columns_are_decimal_and_every_figure_has_a_unit() {
        let round = example();
        for m in &round.metrics {
            let t = table(&round, &m.name);
            let info = info(&round, &t);
            for (name, c) in &info {
                assert!(
                    !c.description.is_empty(),
                    "{}.{name} has no description",
                    m.name
                );
                let is_dim = dimension_columns(&round).iter().any(|d| d.0 == *name);
                assert_eq!(
                    c.unit.is_empty(),
                    is_dim,
                    "{}.{name}: unit {:?}",
                    m.name,
                    c.unit
                );
            }
            let money = metric_unit(&round, &t).1 == ColumnType::Money;
            let value = if is_ratio(&t) { "p50" } else { "estimate" };
            assert_eq!(info[value].ty == ColumnType::Money, money, "{}", m.name);
        }
    }

    #[test]
    fn whole_number_intervals_are_rounded_outwards() {
        assert_eq!(stored_value("ci95_low", ColumnType::Integer, 3.7), 3.0);
        assert_eq!(
            stored_value("members_ci95_high", ColumnType::Integer, 3.2),
            4.0
        );
        assert_eq!(stored_value("estimate", ColumnType::Integer, 3.5), 4.0);
        assert_eq!(stored_value("ci95_low", ColumnType::Money, 3.777), 3.777);
    }
}
