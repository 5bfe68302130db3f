//! Loading a round as a member must: verified against the pinned association
//! key, well formed, inside the guardrails, and asking only for shareable
//! fields of the schemas this toolkit knows.

use crate::pins::{read_envelope, Pin};
use crate::state::State;
use coopbench_protocol::fields::{schema_problems, FieldInfo, SchemaView};
use coopbench_protocol::round::SourceKind;
use coopbench_protocol::signed::{self, Verified};
use coopbench_protocol::{guardrails, Date, Round};
use coopbench_schema::{builtin, FieldType, TableSchema};
use coopbench_text as text;
use std::path::Path;

/// A round the member may answer.
#[derive(Debug)]
pub struct LoadedRound {
    /// The verified round and its hash.
    pub round: Verified<Round>,
    /// The signed file it was read from (export keeps a copy for `compare`).
    pub envelope: coopbench_protocol::Envelope,
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
    let env = read_envelope(
        path,
        coopbench_protocol::limits::ROUND_MAX_BYTES,
        "a signed round",
    )
    .map_err(RoundError::Io)?;
    let claimed: Round = signed::peek(&env)
        .map_err(|e| refused(format!("{} is not a round file: {e}", text::path(&path))))?;
    // The unverified pool id names the pin file to read: it must be an id,
    // never a path (`../`), before it touches the file system.
    if !coopbench_protocol::pool::is_identifier(&claimed.pool_id) {
        return Err(refused(format!(
            "{} names pool \"{}\", which is not a pool id",
            coopbench_text::path(path),
            coopbench_text::shown(&claimed.pool_id)
        )));
    }
    let pin = Pin::load(state, &claimed.pool_id).map_err(refused)?;
    let key = pin.key().map_err(refused)?;
    let round: Verified<Round> = signed::verify(&env, &key).map_err(|e| {
        refused(format!(
            "{}: not a round signed by the association you trusted for pool '{}' ({}): {e}",
            text::path(&path),
            pin.pool_id,
            key.fingerprint()
        ))
    })?;
    let mut problems = round.doc.problems();
    problems.extend(guardrails::against_pool(&pin.pool, &round.doc));
    problems.extend(coopbench_privacy::plan::two_server_problems(
        &round.doc,
        pin.pool.roster.len(),
    ));
    if let Some(day) = today {
        problems.extend(guardrails::on_day(&pin.pool, &round.doc, day));
    }
    let sales = builtin("sales").map_err(|e| RoundError::Io(e.to_string()))?;
    let costs = builtin("costs").map_err(|e| RoundError::Io(e.to_string()))?;
    problems.extend(schema_problems(&round.doc, &View(&sales), &View(&costs)));
    let loaded = LoadedRound {
        round,
        envelope: env,
        pin,
        sales,
        costs,
    };
    if problems.is_empty() {
        Ok(loaded)
    } else {
        Err(RoundError::Refused(problems))
    }
}

/// A published schema as the round checks see it.
struct View<'a>(&'a TableSchema);

impl SchemaView for View<'_> {
    fn schema_name(&self) -> String {
        self.0.name.clone()
    }
    fn field_info(&self, name: &str) -> Option<FieldInfo> {
        let f = self.0.field(name)?;
        Some(FieldInfo {
            shareable: f.shareable,
            numeric: matches!(f.field_type, FieldType::Number | FieldType::Integer),
            text: f.field_type == FieldType::String,
            allowed: f.constraints.enum_values.as_ref().map(|v| {
                v.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            }),
        })
    }
}
