//! Loading a round as a member must: verified against the pinned association
//! key, well formed, inside the guardrails, and asking only for shareable
//! fields of the schemas this toolkit knows.

use crate::pins::{read_envelope, Pin};
use crate::state::State;
use coopbench_protocol::round::SourceKind;
use coopbench_protocol::signed::{self, Verified};
use coopbench_protocol::{guardrails, Date, Round};
use coopbench_schema::{builtin, FieldType, TableSchema};
use std::path::Path;

/// A round the member may answer.
#[derive(Debug)]
pub struct LoadedRound {
    /// The verified round and its hash.
    pub round: Verified<Round>,
    /// The pool pin it was verified against.
    pub pin: Pin,
    /// The sales schema.
    pub sales: TableSchema,
    /// The costs schema.
    pub costs: TableSchema,
}

impl LoadedRound {
    /// The schema of one source.
    pub fn schema(&self, s: SourceKind) -> &TableSchema {
        match s {
            SourceKind::Sales => &self.sales,
            SourceKind::Costs => &self.costs,
        }
    }
}

/// Why a round cannot be used.
#[derive(Debug)]
pub enum RoundError {
    /// The file cannot be read at all (exit 2).
    Io(String),
    /// The round is refused; every reason is listed (exit 1).
    Refused(Vec<String>),
}

fn refused(s: impl Into<String>) -> RoundError {
    RoundError::Refused(vec![s.into()])
}

/// Loads and checks a round file. `today` is checked against the round's
/// window only when given (plan works before a round opens; export does not).
pub fn load(state: &State, path: &Path, today: Option<Date>) -> Result<LoadedRound, RoundError> {
    let env = read_envelope(path).map_err(RoundError::Io)?;
    let claimed: Round = signed::peek(&env)
        .map_err(|e| refused(format!("{} is not a round file: {e}", path.display())))?;
    let pin = Pin::load(state, &claimed.pool_id).map_err(refused)?;
    let key = pin.key().map_err(refused)?;
    let round: Verified<Round> = signed::verify(&env, &key).map_err(|e| {
        refused(format!(
            "{}: not a round signed by the association you trusted for pool '{}' ({}): {e}",
            path.display(),
            pin.pool_id,
            key.fingerprint()
        ))
    })?;
    let mut problems = round.doc.problems();
    problems.extend(guardrails::against_pool(&pin.pool, &round.doc));
    if let Some(day) = today {
        problems.extend(guardrails::on_day(&pin.pool, &round.doc, day));
    }
    let sales = builtin("sales").map_err(|e| RoundError::Io(e.to_string()))?;
    let costs = builtin("costs").map_err(|e| RoundError::Io(e.to_string()))?;
    for (want, have) in [(&round.doc.schemas.sales, &sales), (&round.doc.schemas.costs, &costs)] {
        if *want != have.name {
            problems.push(format!(
                "the round needs schema {want}; this coopbench knows {} (update coopbench)",
                have.name
            ));
        }
    }
    let loaded = LoadedRound {
        round,
        pin,
        sales,
        costs,
    };
    problems.extend(schema_problems(&loaded));
    if problems.is_empty() {
        Ok(loaded)
    } else {
        Err(RoundError::Refused(problems))
    }
}

/// Fields the round's metrics use that the schemas lack, forbid or type wrongly.
fn schema_problems(l: &LoadedRound) -> Vec<String> {
    let round = &l.round.doc;
    let mut out = Vec::new();
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
        let schema = l.schema(source);
        let Some(field) = schema.field(&name) else {
            out.push(format!(
                "the round uses field '{name}' of {}, which schema {} does not have",
                source.as_str(),
                schema.name
            ));
            continue;
        };
        if !field.shareable {
            out.push(format!(
                "the round uses field '{name}' of {}, which schema {} marks not shareable: no metric may use it",
                source.as_str(),
                schema.name
            ));
        }
        let numeric = matches!(field.field_type, FieldType::Number | FieldType::Integer);
        let is_measure = measures.contains(&(source, name.as_str()));
        if is_measure && !numeric {
            out.push(format!("the round sums '{name}' of {}, which is not a number", source.as_str()));
        }
        if !is_measure && field.field_type != FieldType::String {
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
                        "dimension '{name}' has label '{label}', which schema {} does not allow",
                        schema.name
                    ));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
