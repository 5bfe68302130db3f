//! The published member schemas (`schemas/*.json`, embedded at build time so
//! the binary works anywhere), read with serde_json alone: the aggregator
//! needs only field names, types, enums and the `coopbench:shareable` flag to
//! refuse rounds that ask for what members may not share.

use coopbench_protocol::fields::{schema_problems, FieldInfo, SchemaView};
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
    /// What the field holds, in words.
    #[serde(default)]
    pub description: String,
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

impl SchemaView for Schema {
    fn schema_name(&self) -> String {
        self.name()
    }
    fn field_info(&self, name: &str) -> Option<FieldInfo> {
        let f = self.field(name)?;
        Some(FieldInfo {
            shareable: f.shareable,
            numeric: matches!(f.field_type.as_str(), "number" | "integer"),
            text: f.field_type == "string",
            allowed: f.constraints.enum_values.as_ref().map(|v| {
                v.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            }),
        })
    }
}

/// What `round` asks of the schemas that they do not allow (the checks the
/// member runs too, from `coopbench_protocol::fields`). Empty: fine.
pub fn problems(round: &Round) -> Vec<String> {
    schema_problems(
        round,
        &builtin(SourceKind::Sales),
        &builtin(SourceKind::Costs),
    )
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
