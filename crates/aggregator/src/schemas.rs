//! The published member schemas (`schemas/*.json`, embedded at build time so
//! the binary works anywhere), read with serde_json alone: the aggregator
//! needs only field names, types, enums and the `coopbench:shareable` flag to
//! refuse rounds that ask for what members may not share.

use coopbench_protocol::round::SourceKind;
use coopbench_protocol::Round;
use serde::Deserialize;

const SALES: &str = include_str!("../../../schemas/sales.v1.json");
const COSTS: &str = include_str!("../../../schemas/costs.v1.json");

/// The parts of a Table Schema the aggregator reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Schema {
    /// `sales`, `costs`.
    #[serde(rename = "coopbench:id")]
    pub id: String,
    /// Version number.
    #[serde(rename = "coopbench:version")]
    pub version: u32,
    /// Fields in order.
    pub fields: Vec<Field>,
}

/// One field of a schema.
#[derive(Debug, Clone, Deserialize)]
pub struct Field {
    /// Column name.
    pub name: String,
    /// Table Schema type: string, integer, number, date, boolean.
    #[serde(rename = "type")]
    pub field_type: String,
    /// False for fields that may be validated but never used by a metric.
    #[serde(rename = "coopbench:shareable", default = "yes")]
    pub shareable: bool,
    /// Constraints (only `enum` is read).
    #[serde(default)]
    pub constraints: Constraints,
}

/// The constraints the aggregator reads.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Constraints {
    /// Allowed values.
    #[serde(rename = "enum", default)]
    pub enum_values: Option<Vec<serde_json::Value>>,
}

fn yes() -> bool {
    true
}

impl Schema {
    /// `sales.v1`: the name rounds refer to.
    pub fn name(&self) -> String {
        format!("{}.v{}", self.id, self.version)
    }

    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// The embedded schema of one source.
pub fn builtin(source: SourceKind) -> Schema {
    let text = match source {
        SourceKind::Sales => SALES,
        SourceKind::Costs => COSTS,
    };
    serde_json::from_str(text).expect("the embedded schemas parse (checked by a unit test)")
}

/// What `round` asks of the schemas that they do not allow: unknown schema
/// versions, fields the schemas lack, fields marked not shareable, sums over
/// non-numbers, grouping by non-text fields, dimension labels outside a
/// field's enum. Empty: fine.
pub fn problems(round: &Round) -> Vec<String> {
    let mut out = Vec::new();
    let sales = builtin(SourceKind::Sales);
    let costs = builtin(SourceKind::Costs);
    for (want, have) in [
        (&round.schemas.sales, &sales),
        (&round.schemas.costs, &costs),
    ] {
        if *want != have.name() {
            out.push(format!(
                "the round names schema {want}; this coopbench-aggregator knows {}",
                have.name()
            ));
        }
    }
    let measures: Vec<(SourceKind, &str)> = round
        .metrics
        .iter()
        .flat_map(|m| {
            let own = m.source.zip(m.measure.as_deref());
            own.into_iter().chain(
                m.numerator
                    .iter()
                    .chain(&m.denominator)
                    .filter_map(|t| t.measure.as_deref().map(|f| (t.source, f))),
            )
        })
        .collect();
    for (source, name) in round.fields_used() {
        let schema = match source {
            SourceKind::Sales => &sales,
            SourceKind::Costs => &costs,
        };
        let Some(field) = schema.field(&name) else {
            out.push(format!(
                "the round uses field '{name}' of {}, which schema {} does not have",
                source.as_str(),
                schema.name()
            ));
            continue;
        };
        if !field.shareable {
            out.push(format!(
                "the round uses field '{name}' of {}, which schema {} marks not shareable (\"coopbench:shareable\": false): no metric may use it",
                source.as_str(),
                schema.name()
            ));
        }
        let numeric = matches!(field.field_type.as_str(), "number" | "integer");
        if measures.contains(&(source, name.as_str())) {
            if !numeric {
                out.push(format!(
                    "the round sums '{name}' of {}, which is not a number",
                    source.as_str()
                ));
            }
        } else if field.field_type != "string" {
            out.push(format!(
                "the round groups or filters by '{name}' of {}, which is not a text field",
                source.as_str()
            ));
        }
        if let (Some(labels), Some(allowed)) =
            (round.dimensions.get(&name), &field.constraints.enum_values)
        {
            for label in labels {
                if !allowed.iter().any(|v| v.as_str() == Some(label.as_str())) {
                    out.push(format!(
                        "dimension '{name}' has label '{label}', which schema {} does not allow for {}",
                        schema.name(),
                        source.as_str()
                    ));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_schemas_parse_and_mark_non_shareable_fields() {
        let s = builtin(SourceKind::Sales);
        assert_eq!(s.name(), "sales.v1");
        assert!(s.field("net_amount").unwrap().shareable);
        let c = builtin(SourceKind::Costs);
        assert_eq!(c.name(), "costs.v1");
        assert!(!c.field("supplier").unwrap().shareable);
    }
}
