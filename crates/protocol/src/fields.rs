//! What a round may ask of the member schemas: the checks both sides run
//! (the member before export, the association before signing), written once
//! over a minimal view of a schema so that neither side needs the other's
//! schema reader (the aggregator never links polars).

use crate::round::{Round, SourceKind};

/// What a round checker needs to know of one schema field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldInfo {
    /// False for fields marked `"coopbench:shareable": false`.
    pub shareable: bool,
    /// `number` or `integer`: may be summed.
    pub numeric: bool,
    /// `string`: may group or filter.
    pub text: bool,
    /// The field's `enum`, if it has one.
    pub allowed: Option<Vec<String>>,
}

/// A schema as a round checker sees it.
pub trait SchemaView {
    /// The name rounds use, e.g. `sales.v1`.
    fn schema_name(&self) -> String;
    /// The field called `name`, if the schema has it.
    fn field_info(&self, name: &str) -> Option<FieldInfo>;
}

/// What `round` asks of the schemas that they do not allow: another schema
/// version, fields the schemas lack, fields marked not shareable, sums over
/// non-numbers, grouping by non-text fields or by fields without an enum,
/// dimension labels outside a field's enum. Empty: fine.
pub fn schema_problems(
    round: &Round,
    sales: &dyn SchemaView,
    costs: &dyn SchemaView,
) -> Vec<String> {
    let mut out = Vec::new();
    for (want, have) in [(&round.schemas.sales, sales), (&round.schemas.costs, costs)] {
        if *want != have.schema_name() {
            out.push(format!(
                "the round needs schema {want}; this coopbench knows {} (update coopbench)",
                have.schema_name()
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
            SourceKind::Sales => sales,
            SourceKind::Costs => costs,
        };
        let Some(field) = schema.field_info(&name) else {
            out.push(format!(
                "the round uses field '{name}' of {}, which schema {} does not have",
                source.as_str(),
                schema.schema_name()
            ));
            continue;
        };
        if !field.shareable {
            out.push(format!(
                "the round uses field '{name}' of {}, which schema {} marks not shareable: no metric may use it",
                source.as_str(),
                schema.schema_name()
            ));
        }
        let is_measure = measures.contains(&(source, name.as_str()));
        if is_measure && !field.numeric {
            out.push(format!(
                "the round sums '{name}' of {}, which is not a number",
                source.as_str()
            ));
        }
        if !is_measure && !field.text {
            out.push(format!(
                "the round groups or filters by '{name}' of {}, which is not a text field",
                source.as_str()
            ));
        }
        if let (Some(labels), Some(allowed)) = (round.dimensions.get(&name), &field.allowed) {
            for label in labels.iter().filter(|l| !allowed.contains(l)) {
                out.push(format!(
                    "dimension '{name}' has label '{label}', which schema {} does not allow",
                    schema.schema_name()
                ));
            }
        }
    }
    // A dimension is a field with a closed list of labels: the published
    // tables carry one column per such field, the same in every round.
    for m in &round.metrics {
        let sources: Vec<SourceKind> = m
            .source
            .into_iter()
            .chain(m.numerator.iter().chain(&m.denominator).map(|t| t.source))
            .collect();
        for d in m.dims.iter().filter(|d| *d != "month") {
            for source in &sources {
                let schema = match source {
                    SourceKind::Sales => sales,
                    SourceKind::Costs => costs,
                };
                if schema
                    .field_info(d)
                    .is_some_and(|f| f.text && f.allowed.is_none())
                {
                    out.push(format!(
                        "metric '{}' splits by '{d}' of {}, which has no closed list of values (enum) in schema {}: only such fields are dimensions",
                        m.name,
                        source.as_str(),
                        schema.schema_name()
                    ));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
