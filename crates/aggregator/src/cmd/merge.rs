//! `coopbench-aggregator merge`: verify every contribution, sum the accepted
//! ones, and publish the round's benchmark tables and manifest.

use crate::merge::{Merger, Status};
use crate::pool_dir::PoolDir;
use crate::pool_dir::{read_signed_pool, PoolFileError};
use crate::publish::{self, Output, PublishError};
use crate::verify::Context;
use crate::{leader, manifest, schemas, tables};
use clap::Args;
use coopbench_benchmark::layout::{manifest_path, partition, table_file};
use coopbench_cli::{Stop, EXIT_REFUSED, EXIT_USAGE};
use coopbench_protocol::signed::{self, Verified};
use coopbench_protocol::{
    guardrails, limits, Envelope, HelperBatch, Mode, Pool, Round, VerifyError,
};
use coopbench_text::{self as text, shown};
use std::path::{Path, PathBuf};

/// Verify and merge the members' contributions into benchmark Parquet files.
///
/// Every file is checked: a DSSE envelope, signed by a key on the pool's roster
/// (the signature must verify), for this round (id and hash) and pool, made by a
/// coopbench toolkit, with the round's metrics, grids, value counts and noise
/// parameters, and (local mode) every value within the round's clip bounds ± 12σ
/// of noise. Each file that fails gets one line with its name and the reason; the
/// merge goes on with the rest. Copies of one signed contribution (same member,
/// same signed payload, whatever the bytes) count once; a member's higher sequence
/// number supersedes its lower ones; two contributions from one member with the
/// same sequence and different signed content are both rejected.
///
/// With fewer accepted contributions than the round's min_members_total the merge
/// refuses and writes nothing. Otherwise it writes, for each metric,
/// OUT/<metric>/round=<id>/data.parquet (zstd; the round comes from the hive
/// directory name) and OUT/manifests/<id>.json. Cells whose noisy number of
/// active members is below min_members are published with suppressed = true and
/// every figure null. An existing round's output is never overwritten.
///
/// CONTRIBUTIONS are files, or directories whose *.json files are all read.
///
/// Two-server rounds take two runs. The first (with --dir, whose association key
/// signs it) sums the association's shares and writes the helper's batch: the
/// accepted contributions' sealed seeds. The helper answers it once with its
/// signed sum (`helper sum`). The second run, on the same files with
/// --helper-sum, checks the helper's signature and that it answers exactly this
/// batch, adds the two sums and publishes as in local mode.
///
/// Example:
///   coopbench-aggregator merge --pool pool/pool.sig.json \
///       --round pool/rounds/2025q4.sig.json contributions/ --out benchmarks
/// Two-server example:
///   coopbench-aggregator merge --dir pool --pool pool/pool.sig.json --round R \
///       contributions/ --out benchmarks --batch batch.sig.json          (two-server, step 1)
///   coopbench-aggregator merge --pool pool/pool.sig.json --round R contributions/ \
///       --out benchmarks --helper-sum helper-sum.sig.json               (two-server, step 2)
///
/// Exit codes: 0 published, 1 refused (nothing written), 2 usage or I/O error.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct MergeArgs {
    /// The signed pool (pool.sig.json): its roster says whose contributions count.
    #[arg(long, value_name = "POOL")]
    pool: PathBuf,
    /// The signed round (rounds/<id>.sig.json), signed by the pool's association key.
    #[arg(long, value_name = "ROUND")]
    round: PathBuf,
    /// Contribution files, or directories of *.json contribution files.
    #[arg(required = true, value_name = "CONTRIBUTIONS")]
    contributions: Vec<PathBuf>,
    /// The benchmark directory (created if needed); rounds stack side by side in it.
    #[arg(long, value_name = "OUTDIR")]
    out: PathBuf,
    /// Two-server, step 1: the pool directory whose association.key signs the batch.
    #[arg(long, value_name = "POOLDIR", conflicts_with = "helper_sum")]
    dir: Option<PathBuf>,
    /// Two-server, step 1: where to write the helper's batch.
    #[arg(long, value_name = "FILE", default_value = "helper-batch.sig.json")]
    batch: PathBuf,
    /// Two-server, step 2: the helper's signed sum; the round is then published.
    #[arg(long, value_name = "FILE")]
    helper_sum: Option<PathBuf>,
}

/// Reads a file of at most `limit` bytes (`what` names it in the refusal).
fn read(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, Stop> {
    crate::files::read_bounded(path, limit, what)
        .map_err(|e| Stop::usage(format!("cannot read {}: {e}", text::path(path))))
}

/// The signed pool, verified with its own association key and checked.
fn load_pool(path: &Path) -> Result<Verified<Pool>, Stop> {
    let bytes = read(path, limits::POOL_MAX_BYTES, "a signed pool")?;
    let pool = read_signed_pool(&bytes).map_err(|e| match e {
        PoolFileError::NotAPool(_) => Stop::usage(format!("{}: {e}", text::path(&path))),
        PoolFileError::BadSignature(_) => Stop::refused(format!("{}: {e}", text::path(&path))),
    })?;
    let problems = pool.doc.problems();
    if !problems.is_empty() {
        return Err(Stop::refused_list(
            &format!("{} is not a usable pool", text::path(&path)),
            &problems,
        ));
    }
    Ok(pool)
}

/// The signed round, verified with the pool's association key and checked
/// against the pool and the schemas.
fn load_round(path: &Path, pool: &Pool) -> Result<Verified<Round>, Stop> {
    let bytes = read(path, limits::ROUND_MAX_BYTES, "a signed round")?;
    let env = Envelope::from_json(&bytes)
        .map_err(|e| Stop::usage(format!("{}: {e}", text::path(&path))))?;
    let key = pool
        .association_public_key()
        .map_err(|e| Stop::refused(format!("the pool's association_key: {e}")))?;
    let round: Verified<Round> = signed::verify(&env, &key).map_err(|e| match e {
        VerifyError::WrongType { .. } | VerifyError::Malformed(_) => {
            Stop::usage(format!("{} is not a round file: {e}", text::path(&path)))
        }
        e => Stop::refused(format!(
            "{}: not a round signed by pool '{}''s association key ({}): {e}",
            text::path(&path),
            pool.id,
            key.fingerprint()
        )),
    })?;
    let mut problems = round.doc.problems();
    problems.extend(guardrails::against_pool(pool, &round.doc));
    problems.extend(coopbench_privacy::plan::two_server_problems(
        &round.doc,
        pool.roster.len(),
    ));
    problems.extend(schemas::problems(&round.doc));
    if !problems.is_empty() {
        return Err(Stop::refused_list(
            &format!("the round in {} is refused", text::path(&path)),
            &problems,
        ));
    }
    Ok(round)
}

/// Files named, directories expanded to their `*.json` files (sorted).
fn expand(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, Stop> {
    let mut out = Vec::new();
    for p in inputs {
        let meta =
            std::fs::metadata(p).map_err(|e| Stop::usage(format!("{}: {e}", text::path(&p))))?;
        if meta.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| Stop::usage(format!("cannot list {}: {e}", text::path(&p))))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "json") && f.is_file())
                .collect();
            found.sort();
            if found.is_empty() {
                eprintln!("note: {} holds no *.json files", text::path(&p));
            }
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    if out.is_empty() {
        return Err(Stop::usage("no contribution files to merge"));
    }
    Ok(out)
}

/// Refuses early when any part of the round's output exists.
fn existing_output(out: &Path, round: &Round) -> Result<Vec<PathBuf>, Stop> {
    let mut paths = Vec::new();
    for m in &round.metrics {
        paths.push(out.join(partition(&m.name, &round.id).map_err(Stop::refused)?));
    }
    paths.push(out.join(manifest_path(&round.id).map_err(Stop::refused)?));
    Ok(paths
        .into_iter()
        .filter(|p| p.symlink_metadata().is_ok())
        .collect())
}

/// Runs `merge`.
pub fn run(args: &MergeArgs) -> Result<(), Stop> {
    let pool = load_pool(&args.pool)?;
    let round = load_round(&args.round, &pool.doc)?;
    let r = &round.doc;
    if r.mode == Mode::TwoServer && args.helper_sum.is_none() {
        // Step 1 ends by writing the helper's batch: refuse a target it
        // cannot be written to before any contribution is read.
        coopbench_fsio::check_output_target(&args.batch).map_err(Stop::usage)?;
    }
    // First finish or clean up what an interrupted merge left in OUT.
    let recovered = publish::recover(&args.out).map_err(publish_stop)?;
    for rec in &recovered {
        match rec {
            publish::Recovered::Finished(id) => coopbench_cli::outln!(
                "note: an interrupted merge had committed round '{id}' in {}; finished publishing it",
                args.out.display()
            ),
            publish::Recovered::Removed(id) => coopbench_cli::outln!(
                "note: removed the unfinished staging of round '{id}' that an interrupted merge left in {}",
                args.out.display()
            ),
        }
    }
    if recovered.contains(&publish::Recovered::Finished(r.id.clone())) {
        coopbench_cli::outln!(
            "Round '{}' is published in {}; nothing more to do.",
            r.id,
            args.out.display()
        );
        return Ok(());
    }
    let exists = existing_output(&args.out, r)?;
    if !exists.is_empty() {
        return Err(Stop::refused(format!(
            "round '{}' is already published in {} ({}); its output is never overwritten. Publish into another directory, or remove that round's output first",
            r.id,
            text::path(&args.out),
            exists.iter().map(|p| text::path(&p)).collect::<Vec<_>>().join(", ")
        )));
    }
    let plans = coopbench_privacy::plan::noise_plans(r)
        .map_err(|e| Stop::refused(format!("the round's noise plan: {e}")))?;
    let rho = coopbench_privacy::plan::charged_rho(r, &plans);
    let epsilon = coopbench_privacy::budget::epsilon_for(rho, r.delta)
        .map_err(|e| Stop::refused(format!("the round's (epsilon, delta): {e}")))?;
    let files = expand(&args.contributions)?;
    coopbench_cli::outln!("Purpose: {}", shown(&r.purpose));
    coopbench_cli::outln!(
        "Merging round '{}' of pool '{}' ({} roster members): {} files.",
        shown(&r.id),
        shown(&r.pool_id),
        pool.doc.roster.len(),
        files.len()
    );

    let mut merger = Merger::new(Context::new(&pool.doc, r, &round.hash, &plans));
    for f in &files {
        merger.add_file(f).map_err(|e| Stop::usage(e.to_string()))?;
    }
    let mut outcome = merger.finish();

    for f in &outcome.files {
        if let Status::NotUsed {
            reason,
            detail,
            other,
        } = &f.status
        {
            let rel = other.map(|o| text::path(&outcome.files[o].path));
            let what = match (reason.code(), rel) {
                ("duplicate", Some(o)) => format!("{detail} (same as {o})"),
                ("superseded", Some(o)) => format!("{detail} ({o})"),
                ("conflict", Some(o)) => format!("{detail} (with {o})"),
                _ => detail.clone(),
            };
            coopbench_cli::outln!(
                "rejected {}: {} [{}]",
                text::path(&f.path),
                shown(&what),
                reason.code()
            );
        }
    }
    let not_used = outcome.not_used_by_reason();
    let summary: Vec<String> = not_used.iter().map(|(k, v)| format!("{v} {k}")).collect();
    coopbench_cli::outln!(
        "{} files: {} accepted{}",
        outcome.files.len(),
        outcome.accepted,
        if summary.is_empty() {
            String::new()
        } else {
            format!(", not used: {}", summary.join(", "))
        }
    );
    if outcome.accepted < r.min_members_total as usize {
        return Err(Stop(
            EXIT_REFUSED,
            format!(
                "refused: {} contributions accepted; round '{}' needs at least {} (min_members_total). Nothing was written",
                outcome.accepted, r.id, r.min_members_total
            ),
        ));
    }

    if r.mode == Mode::TwoServer {
        let batch = leader::batch(r, &round.hash, &outcome);
        let Some(sum_path) = &args.helper_sum else {
            return write_batch(args, &pool.doc, r, &batch, outcome.accepted);
        };
        let bytes = read(
            sum_path,
            limits::helper_sum_max_bytes(r, pool.doc.roster.len()),
            "the helper's sum for this round",
        )?;
        let sum = leader::combine(r, &round.hash, &batch, &bytes, &mut outcome.sums)
            .map_err(|e| Stop::refused(format!("{}: {e}", text::path(&sum_path))))?;
        coopbench_cli::outln!(
            "The helper's sum ({} contributions) verifies and answers this batch: combined.",
            sum.doc.members.len()
        );
    } else if args.helper_sum.is_some() || args.dir.is_some() {
        return Err(Stop::usage(
            "--dir and --helper-sum are for two-server rounds; this round is in local mode",
        ));
    }

    let built = tables::build(r, &outcome);
    let merged_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let man = manifest::build(r, &round.hash, &plans, epsilon, &outcome, &built, merged_at)
        .map_err(Stop::refused)?;
    let man_bytes = coopbench_benchmark::manifest::to_json(&man);
    let metadata = built
        .iter()
        .zip(&plans)
        .map(|(t, p)| {
            manifest::parquet_metadata(r, &round.hash, &plans, epsilon, p.rho, outcome.accepted, t)
        })
        .collect();
    let output = Output {
        round_id: &r.id,
        tables: &built,
        metadata,
        manifest: man_bytes,
    };
    publish::publish(&args.out, &output).map_err(publish_stop)?;
    coopbench_cli::outln!();
    coopbench_cli::outln!("Published round '{}' in {}:", r.id, text::path(&args.out));
    for t in &built {
        let rel = table_file(&t.name, &r.id).map_err(Stop::refused)?;
        coopbench_cli::outln!(
            "  {:<40} {:>6} row{}, {} suppressed",
            text::path(&rel),
            t.rows.len(),
            if t.rows.len() == 1 { "" } else { "s" },
            t.suppressed()
        );
    }
    coopbench_cli::outln!(
        "  {}",
        manifest_path(&r.id).map_err(Stop::refused)?.display()
    );
    coopbench_cli::outln!(
        "Privacy: rho = {} per member (epsilon = {:.3} at delta = {:e}); see the manifest's statement.",
        rho, epsilon, r.delta
    );
    coopbench_cli::outln!(
        "Look at it: coopbench-aggregator inspect {} --round {}",
        text::path(&args.out),
        r.id
    );
    Ok(())
}

/// A publishing error as the command's exit: refusals 1, I/O 2.
fn publish_stop(e: PublishError) -> Stop {
    match e {
        PublishError::Exists(_) | PublishError::BadId(_) => Stop::refused(e.to_string()),
        PublishError::Io(_) => Stop(EXIT_USAGE, e.to_string()),
    }
}

/// Two-server, step 1: signs and writes the batch for the helper.
fn write_batch(
    args: &MergeArgs,
    pool: &Pool,
    r: &Round,
    batch: &HelperBatch,
    accepted: usize,
) -> Result<(), Stop> {
    let dir = args.dir.as_ref().ok_or_else(|| {
        Stop::usage(
            "two-server round: give --dir POOLDIR (its association key signs the helper's batch), or --helper-sum FILE once the helper has answered",
        )
    })?;
    let key = PoolDir::new(dir).load_key_for(pool)?;
    let n_min = r.two_server.as_ref().map_or(0, |t| t.n_min);
    if accepted < n_min as usize {
        return Err(Stop::refused(format!(
            "{accepted} contributions accepted; this two-server round needs at least n_min = {n_min}, and the helper would refuse. Nothing was written"
        )));
    }
    crate::files::write_atomic(&args.batch, &leader::signed_batch(batch, &key))
        .map_err(|e| Stop::usage(format!("cannot write {}: {e}", text::path(&args.batch))))?;
    coopbench_cli::outln!();
    coopbench_cli::outln!(
        "Two-server round: summed the association's shares of {accepted} contributions; nothing is published yet."
    );
    coopbench_cli::outln!(
        "Wrote the helper's batch to {} (the {accepted} sealed seeds, signed with the association key).",
        text::path(&args.batch)
    );
    coopbench_cli::outln!(
        "Send it to the helper ({}), then run this same merge again with --helper-sum <their answer>.",
        shown(r.two_server.as_ref().map_or("", |t| t.helper_name.as_str()))
    );
    Ok(())
}
