//! `coopbench export`: validated books → one signed contribution whose every
//! number is already noised, with the spend in the ledger first.
//!
//! Order of work, chosen so that a crash at any point (kill -9 included) can
//! over-charge but never lets noise out uncharged, never corrupts the ledger
//! and never leaves a partial file: verify the round and the data; compute and
//! clip; compare with a stored export of this round (same data: return it,
//! charge nothing); check the policy; append the charge to the ledger and
//! fsync; only then sample noise; sign; store the contribution in the state
//! directory atomically; finally copy it to the output path atomically.

use crate::cells::{self, PreparedMetric};
use crate::cmd::{input_stop, StateArgs};
use crate::inputs;
use crate::read_args::ReadArgs;
use crate::round_load;
use crate::state::{write_atomic, State};
use crate::usefulness;
use clap::Args;
use coopbench_cli::format::fmt_rho;
use coopbench_cli::Stop;
use coopbench_privacy::budget;
use coopbench_privacy::ledger::{Ledger, LedgerEntry};
use coopbench_protocol::{signed, Contribution, TOOLKIT_VERSION};
use coopbench_text as text;
use coopbench_text::shown;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Export your contribution to a round: validate, compute, clip, add noise, sign.
///
/// Your files are validated first (with exactly the rules of `validate`); an
/// invalid file stops the export before anything is computed. The figures the
/// round asks for are computed over your whole files, clipped to the round's
/// bounds, and noised (OpenDP's discrete Gaussian) before anything is written:
/// the contribution holds only noised numbers, and it is signed with your key.
///
/// Your ledger is charged before the noise is drawn. Running export again with
/// the same data returns the stored contribution byte for byte and charges
/// nothing; changed data for a round you already exported is refused unless you
/// pass --supersede, which charges again.
///
/// Nothing is charged for files that would make the contribution useless: a
/// file with no row in the round's period, or a metric with no row at all
/// (pass --allow-empty if your true figure is zero) is refused first.
///
/// Examples:
///   coopbench export --round round.sig.json sales.csv costs.csv
///   coopbench export --round round.sig.json sales.csv costs.csv -o to-association.json
///   coopbench export --round round.sig.json --map sales=kasse.toml --map costs=expenses.toml kasse_export.csv expenses.csv
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ExportArgs {
    /// The signed round file from your association (round.sig.json).
    #[arg(long, value_name = "ROUND")]
    round: PathBuf,
    /// Your sales and costs CSV files (each one's kind from --kind, its mapping
    /// file, or its name: containing "sales" or "cost").
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Where to write the contribution. Default: contribution-POOL-ROUND.sig.json.
    #[arg(short, long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Replace your earlier export of this round with one from changed data
    /// (spends the round's budget again).
    #[arg(long)]
    supersede: bool,
    /// Export even though a metric has no row in the period: you confirm
    /// that your true figure for it is zero (e.g. no catering sales).
    #[arg(long)]
    allow_empty: bool,
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    state: StateArgs,
}

/// What the state directory keeps of one round's export.
#[derive(Debug, Serialize, Deserialize)]
struct ExportRecord {
    /// The round.
    pub round_id: String,
    /// The round version exported for.
    pub round_hash: String,
    /// The contribution's sequence number.
    pub sequence: u32,
    /// HMAC (keyed by `tag.key`) of the round hash and the clipped vectors:
    /// tells "same data" without storing anything readable about it.
    pub data_tag: String,
    /// When (RFC 3339).
    pub exported_at: String,
    /// The signed contribution, exactly as delivered.
    pub contribution: String,
}

impl ExportRecord {
    /// Loads a record if one exists.
    fn load(path: &Path) -> Result<Option<Self>, String> {
        match coopbench_fsio::read_bounded(
            path,
            coopbench_protocol::limits::CONFIG_MAX_BYTES,
            "an export record",
        ) {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| format!("{} is damaged: {e}", text::path(&path))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", text::path(&path))),
        }
    }
}

/// Test-only crash hook: `COOPBENCH_CRASH_AT=<point>` aborts the process
/// there, as a kill -9 would (no destructors, no cleanup).
fn failpoint(point: &str) {
    if std::env::var("COOPBENCH_CRASH_AT").as_deref() == Ok(point) {
        std::process::abort();
    }
}

/// The keyed tag of the data behind an export.
fn data_tag(key: &[u8], round_hash: &str, prepared: &[PreparedMetric]) -> String {
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    let mut ctx = ring::hmac::Context::with_key(&k);
    ctx.update(round_hash.as_bytes());
    for m in prepared {
        ctx.update(&(m.name.len() as u64).to_le_bytes());
        ctx.update(m.name.as_bytes());
        ctx.update(&(m.clipped.len() as u64).to_le_bytes());
        for v in &m.clipped {
            ctx.update(&v.to_le_bytes());
        }
    }
    ctx.sign()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Keeps the signed round of this export in the state directory (unless the
/// same bytes are already there), so that `compare` later knows the round's
/// metrics and grid without the member finding the round file again. The
/// round is the association's public document: nothing of the member's data.
fn store_round(state: &State, loaded: &round_load::LoadedRound) -> Result<(), Stop> {
    let r = &loaded.round.doc;
    let path = state.round_path(&r.pool_id, &r.id);
    let bytes = loaded.envelope.to_json();
    if std::fs::read(&path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    write_atomic(&path, &bytes)
        .map_err(|e| Stop::usage(format!("cannot write {}: {e}", text::path(&path))))
}

/// Runs `export`.
pub fn run(args: &ExportArgs) -> Result<(), Stop> {
    let state: State = args.state.resolve()?;
    // One export at a time per state directory: the ledger check, the charge
    // and the stored record must not interleave with another export's.
    let _lock = state.lock().map_err(Stop::usage)?;
    let today = coopbench_cli::clock::today().map_err(Stop::usage)?;
    let key = state.load_key().map_err(Stop::usage)?;
    let loaded = round_load::load(&state, &args.round, Some(today))?;
    let round = &loaded.round.doc;
    let round_hash = &loaded.round.hash;
    let my_id = key.public().key_id();
    if loaded.pin.pool.member(&my_id).is_none() {
        return Err(Stop::refused(
            format!(
                "your key is not on pool '{}''s roster: the association would reject this contribution. \
                 Send them your public key (state dir: member.pub), then `coopbench join` their updated pool file",
                round.pool_id
            ),
        ));
    }
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "contribution-{}-{}.sig.json",
            round.pool_id, round.id
        ))
    });
    // Before anything is read or charged: the contribution can be written there.
    coopbench_fsio::check_output_target(&out).map_err(Stop::usage)?;
    // The files before any output: a refusal is validate's report alone.
    let (aggs, summary) = inputs::load(&args.files, &args.read, &loaded).map_err(input_stop)?;
    coopbench_cli::outln!("Purpose: {}", shown(&round.purpose));
    coopbench_cli::outln!(
        "Round '{}' of pool '{}', period {} to {}.",
        round.id,
        round.pool_id,
        round.period.start,
        round.period.end
    );
    for (file, inside, outside) in &summary.files {
        coopbench_cli::outln!(
            "  {}: {inside} rows in the period ({outside} outside it, not used)",
            shown(file)
        );
    }
    let prepared = cells::prepare(round, &aggs).map_err(Stop::refused)?;
    // A contribution that would add nothing is refused before anything is
    // stored or charged.
    let findings = usefulness::check(round, &aggs, &summary.sources);
    for f in findings.iter().filter(|f| !f.blocks(args.allow_empty)) {
        coopbench_cli::outln!("Warning: {}", shown(&f.message));
    }
    let blocking: Vec<String> = findings
        .iter()
        .filter(|f| f.blocks(args.allow_empty))
        .map(|f| f.message.clone())
        .collect();
    if !blocking.is_empty() {
        return Err(Stop::refused_list(
            "this contribution would be useless; nothing was charged or written",
            &blocking,
        ));
    }
    let tag_key = state.tag_key().map_err(Stop::usage)?;
    let tag = data_tag(&tag_key, round_hash, &prepared);
    let record_path = state.export_path(&round.pool_id, &round.id);
    let existing = ExportRecord::load(&record_path).map_err(Stop::usage)?;
    let (sequence, reason) = match &existing {
        Some(rec) if rec.round_hash == *round_hash && rec.data_tag == tag => {
            store_round(&state, &loaded)?;
            write_atomic(&out, rec.contribution.as_bytes())
                .map_err(|e| Stop::usage(format!("cannot write {}: {e}", text::path(&out))))?;
            coopbench_cli::outln!(
                "Same data as your export of {} (sequence {}): wrote the stored contribution to {} unchanged. Nothing was charged.",
                rec.exported_at, rec.sequence, text::path(&out)
            );
            return Ok(());
        }
        Some(rec) if !args.supersede => {
            let what = if rec.round_hash != *round_hash {
                "the round file has changed"
            } else {
                "your data has changed"
            };
            return Err(Stop::refused(
                format!(
                    "you already exported round '{}' on {} (sequence {}) and {what} since. \
                     A new export draws fresh noise and spends the round's budget (rho = {}) again: \
                     pass --supersede to do that and replace the earlier contribution",
                    round.id, rec.exported_at, rec.sequence, round.rho
                ),
            ));
        }
        Some(rec) => (rec.sequence + 1, "supersede"),
        None => (1, "export"),
    };
    // Every refusal that can still come (noise parameters, 64-bit headroom
    // of the bounds, the helper's key) is checked here, before the charge.
    crate::protect::check(round, &prepared).map_err(Stop::refused)?;
    // Two-server mode charges the round's ρ plus the distributed noise's slack.
    let rho = coopbench_privacy::plan::charged_rho(round, &loaded_plans(&prepared));
    let epsilon = budget::epsilon_for(rho, round.delta).map_err(Stop::refused)?;
    let policy = state.policy().map_err(Stop::usage)?;
    let mut ledger = Ledger::open(state.ledger_path()).map_err(Stop::usage)?;
    // The real clock, read after the files were read and checked: the charge
    // is stamped when it is made (never by COOPBENCH_TODAY, which moves round
    // windows only), with its sub-second digits.
    let now = coopbench_cli::clock::now();
    let remaining = policy
        .check(&ledger, now, rho)
        .map_err(|e| Stop::refused(format!("your privacy policy refuses this round: {e}")))?;

    // Charge first: from here on a crash can only over-charge.
    ledger
        .append(LedgerEntry {
            at: coopbench_privacy::ledger::rfc3339(now),
            pool_id: round.pool_id.clone(),
            round_id: round.id.clone(),
            round_hash: round_hash.clone(),
            sequence,
            rho,
            epsilon,
            delta: round.delta,
            reason: reason.into(),
        })
        .map_err(Stop::usage)?;
    failpoint("after-charge");

    let protected = crate::protect::protect(round, round_hash, &my_id, sequence, &key, &prepared)
        .map_err(Stop::refused)?;
    let contribution = Contribution {
        round_id: round.id.clone(),
        round_hash: round_hash.clone(),
        pool_id: round.pool_id.clone(),
        member_key_id: my_id,
        toolkit_version: TOOLKIT_VERSION.into(),
        sequence,
        mode: round.mode,
        metrics: protected.metrics,
        sealed_seed: protected.sealed_seed,
    };
    let bytes = signed::sign(&contribution, &key).to_json();
    failpoint("before-record");
    let record = ExportRecord {
        round_id: round.id.clone(),
        round_hash: round_hash.clone(),
        sequence,
        data_tag: tag,
        exported_at: coopbench_privacy::ledger::rfc3339(now),
        contribution: String::from_utf8(bytes.clone()).expect("JSON is UTF-8"),
    };
    let mut record_bytes = serde_json::to_vec_pretty(&record).expect("record serialises");
    record_bytes.push(b'\n');
    write_atomic(&record_path, &record_bytes)
        .map_err(|e| Stop::usage(format!("cannot write {}: {e}", text::path(&record_path))))?;
    store_round(&state, &loaded)?;
    failpoint("before-output");
    write_atomic(&out, &bytes)
        .map_err(|e| Stop::usage(format!("cannot write {}: {e}", text::path(&out))))?;

    for m in &prepared {
        let s = &m.clip_stats;
        if s.cells_clipped > 0 {
            coopbench_cli::outln!(
                "  {}: {} of {} cells clipped to the round's bounds ({:.1}% of the metric's total removed)",
                m.name,
                s.cells_clipped,
                s.cells,
                100.0 * s.mass_removed_share
            );
        }
    }
    coopbench_cli::outln!(
        "Wrote {} ({} bytes, sequence {sequence}): noised figures only, signed with your key.",
        text::path(&out),
        bytes.len()
    );
    coopbench_cli::outln!(
        "Charged rho = {} (epsilon = {:.3} at delta = {:e}); spent in the last {} days: {} of {}.",
        rho,
        epsilon,
        round.delta,
        policy.window_days,
        fmt_rho(remaining.after),
        fmt_rho(remaining.cap)
    );
    coopbench_cli::outln!("Send {} to your association.", text::path(&out));
    Ok(())
}

/// The noise plans behind the prepared metrics.
fn loaded_plans(prepared: &[PreparedMetric]) -> Vec<coopbench_privacy::plan::NoisePlan> {
    prepared.iter().map(|m| m.params).collect()
}
