//! `coopbench-aggregator round ...`: create a round from a template, preview
//! how accurate and how often suppressed its figures will be, and sign it.

use crate::files::write_new_public;
use crate::guard::{self, active_for};
use crate::pool_dir::{parse_round, PoolDir, SignedState};
use crate::stats::{prob_below, Z_95};
use clap::{Args, Subcommand};
use coopbench_cli::format::fmt_num;
use coopbench_cli::Stop;
use coopbench_privacy::plan::{noise_plans, NoisePlan};
use coopbench_protocol::round::Kind;
use coopbench_protocol::{signed, Round};
use coopbench_text as text;
use std::path::PathBuf;

/// Create, preview and sign rounds (what one collection asks of the members).
#[derive(Debug, Subcommand)]
pub enum RoundCommand {
    New(NewArgs),
    Preview(PreviewArgs),
    Sign(SignArgs),
}

/// Create a round in the pool from a TOML template.
///
/// The template states the round's purpose (first), period, metrics and their cell
/// grids, clip bounds, privacy budget and floors (see examples/rounds/2025q4.toml).
/// It is checked before anything is written: well formed, inside the pool's
/// guardrails (before the sunset, min_members at or above the pool's floor, data
/// old enough when the round opens), a period in the past, and no metric over a
/// field the schemas mark not shareable. Writes DIR/rounds/<id>.toml; refuses to
/// overwrite a round that exists.
///
/// Example:
///   coopbench-aggregator round new --dir pool --from examples/rounds/2025q4.toml
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct NewArgs {
    /// The pool directory.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The round template (TOML).
    #[arg(long, value_name = "TEMPLATE.toml")]
    from: PathBuf,
}

/// Preview a round's accuracy and suppression before anyone spends budget.
///
/// For every metric: the noise sd and 95% half-width of each merged cell with N
/// contributions (sigma * sqrt(N) / scale, sigma being what one member adds: the
/// full noise in local mode, a 1/(n_min - t) share of its variance in two-server
/// mode), and the expected share of
/// cells suppressed because their noisy number of active members falls below
/// min_members. The suppression figure assumes a share of the N members is active
/// in every cell (--active-share, default 1: every member active everywhere; lower
/// it for sparse categories) and uses the normal approximation of the noise. If
/// the figures are too noisy or too often suppressed, choose a coarser grid (fewer
/// months or categories), fewer metrics, or more weight on the ones that matter.
///
/// Example:
///   coopbench-aggregator round preview --dir pool 2025q4 --expected-members 30
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct PreviewArgs {
    /// The pool directory.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The round id (rounds/<id>.toml).
    round_id: String,
    /// How many members you expect to contribute.
    #[arg(long, value_name = "N")]
    expected_members: usize,
    /// Share of the members assumed active in each cell (0 to 1).
    #[arg(long, value_name = "SHARE", default_value_t = 1.0)]
    active_share: f64,
}

/// Sign a round: rounds/<id>.sig.json, the file members answer.
///
/// Runs every check of `round new` again (today's date included) against the pool,
/// which must be signed and current (run `pool sign` after roster changes). A
/// round already signed is never re-signed with different content: members may
/// have answered it; give a changed round a new id.
///
/// Example:
///   coopbench-aggregator round sign --dir pool 2025q4
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SignArgs {
    /// The pool directory.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The round id (rounds/<id>.toml).
    round_id: String,
}

/// Runs a `round` subcommand.
pub fn run(cmd: RoundCommand) -> Result<(), Stop> {
    match cmd {
        RoundCommand::New(a) => new(&a),
        RoundCommand::Preview(a) => preview(&a),
        RoundCommand::Sign(a) => sign(&a),
    }
}

fn checks(pd: &PoolDir, round: &Round) -> Result<(), Stop> {
    let pool = pd.load_pool()?;
    let today = coopbench_cli::clock::today().map_err(Stop::usage)?;
    let mut problems = guard::round_problems(&pool, round, today);
    if problems.is_empty() {
        if let Err(e) = noise_plans(round) {
            problems.push(format!("its noise plan cannot be computed: {e}"));
        }
    }
    if !problems.is_empty() {
        return Err(Stop::refused_list(
            &format!("round '{}' is refused", round.id),
            &problems,
        ));
    }
    Ok(())
}

fn new(a: &NewArgs) -> Result<(), Stop> {
    let pd = PoolDir::new(&a.dir);
    let text = crate::files::read_text_bounded(
        &a.from,
        coopbench_protocol::limits::ROUND_MAX_BYTES,
        "a round file",
    )
    .map_err(|e| Stop::usage(format!("cannot read {}: {e}", text::path(&a.from))))?;
    let round = parse_round(&a.from, &text)?;
    checks(&pd, &round)?;
    let path = pd.round_path(&round.id)?;
    let signed_path = pd.signed_round_path(&round.id)?;
    if signed_path.exists() {
        return Err(Stop::refused(format!(
            "round '{}' already exists and is signed ({}); give the new round another id",
            round.id,
            text::path(&signed_path)
        )));
    }
    write_new_public(&path, text.as_bytes()).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Stop::refused(format!(
                "{} already exists; round new never overwrites a round (edit it there, or give the new one another id)",
                text::path(&path)
            ))
        } else {
            Stop::usage(format!("cannot write {}: {e}", text::path(&path)))
        }
    })?;
    println!("Purpose: {}", text::shown(&round.purpose));
    println!(
        "Created round '{}' ({} to {}, {} metrics) as {}.",
        round.id,
        round.period.start,
        round.period.end,
        round.metrics.len(),
        text::path(&path)
    );
    for n in guard::round_notes(&round) {
        println!("Note: {n}.");
    }
    println!(
        "Next: `round preview --dir {} {} --expected-members N`, then `round sign`.",
        text::path(&a.dir),
        round.id
    );
    Ok(())
}

fn verdict(ratio: f64) -> &'static str {
    match ratio {
        r if r < 0.05 => "precise",
        r if r < 0.2 => "usable",
        r if r < 0.5 => "rough",
        _ => "too noisy to read",
    }
}

/// Per-metric preview figures.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPreview {
    /// Noise sd of one merged cell (ratio: one bin), measure units.
    pub sd: f64,
    /// 95 % half-width.
    pub half_width: f64,
    /// Expected share of cells (groups) suppressed; None when no active
    /// metric covers the metric.
    pub suppressed_share: Option<f64>,
}

/// The preview of metric `i` with `n` members, `share` of them active in each cell.
pub fn preview_metric(
    round: &Round,
    plans: &[NoisePlan],
    i: usize,
    n: usize,
    share: f64,
) -> MetricPreview {
    let m = &round.metrics[i];
    let p = plans[i];
    let sd = p.sigma * (n as f64).sqrt() / p.scale;
    let min = f64::from(round.min_members);
    let active_count = share * n as f64;
    let suppressed_share = match m.kind {
        Kind::Ratio => {
            // The histogram total before clamping negatives: every active
            // member's one 1, plus the noise of every bin. Clamping only
            // raises the total, so this over-states suppression slightly.
            let bins = m.bins.map_or(1, |b| b.count) as f64;
            Some(prob_below(active_count, sd * bins.sqrt(), min))
        }
        _ => active_for(round, &m.dims).map(|a| {
            let ap = plans[a];
            let asd = ap.sigma * (n as f64).sqrt() / ap.scale;
            prob_below(active_count, asd, min)
        }),
    };
    MetricPreview {
        sd,
        half_width: Z_95 * sd,
        suppressed_share,
    }
}

fn preview(a: &PreviewArgs) -> Result<(), Stop> {
    let pd = PoolDir::new(&a.dir);
    let (round, _) = pd.load_round(&a.round_id)?;
    if a.expected_members == 0 {
        return Err(Stop::usage("--expected-members must be at least 1"));
    }
    if !(0.0..=1.0).contains(&a.active_share) {
        return Err(Stop::usage("--active-share must be between 0 and 1"));
    }
    let problems = round.problems();
    if !problems.is_empty() {
        return Err(Stop::refused_list(
            &format!("round '{}' is malformed", round.id),
            &problems,
        ));
    }
    let plans =
        noise_plans(&round).map_err(|e| Stop::refused(format!("round '{}': {e}", round.id)))?;
    let n = a.expected_members;
    let rho = coopbench_privacy::plan::charged_rho(&round, &plans);
    let epsilon = coopbench_privacy::budget::epsilon_for(rho, round.delta)
        .map_err(|e| Stop::refused(e.to_string()))?;
    println!("Purpose: {}", text::shown(&round.purpose));
    println!(
        "Round '{}': {} to {}, rho = {} per member (epsilon = {:.3} at delta = {:e}), {} mode.",
        round.id,
        round.period.start,
        round.period.end,
        rho,
        epsilon,
        round.delta,
        round.mode.name()
    );
    if let Some(t) = &round.two_server {
        println!(
            "Two-server: helper '{}'; each member adds a noise share of 1/{} of the variance (n_min {} less t {}), so at N contributions a cell's noise sd is sigma * sqrt(N / {}); slack of the distributed bound: {:e}.",
            text::shown(&t.helper_name),
            t.parties(),
            t.n_min,
            t.t,
            t.parties(),
            plans.iter().map(|p| p.slack).sum::<f64>()
        );
    }
    println!(
        "Preview with {n} contributions, {:.0}% of them active in every cell; a cell is suppressed below {} noisy active members.",
        100.0 * a.active_share,
        round.min_members
    );
    if n < round.min_members_total as usize {
        println!(
            "Note: {n} is below min_members_total = {}: such a merge would be refused.",
            round.min_members_total
        );
    }
    for (i, (m, p)) in round.metrics.iter().zip(&plans).enumerate() {
        let grid = round.grid(m);
        let pv = preview_metric(&round, &plans, i, n, a.active_share);
        let dims: Vec<String> = grid
            .iter()
            .map(|d| format!("{} ({})", text::shown(&d.name), d.labels.len()))
            .collect();
        println!();
        println!(
            "{} [{}] {}: {} cells over {}; rho {:.4}",
            m.name,
            m.kind.name(),
            text::shown(&m.description),
            p.cells,
            if dims.is_empty() {
                "the whole period".into()
            } else {
                dims.join(" x ")
            },
            p.rho
        );
        match m.kind {
            Kind::Ratio => {
                let b = m.bins.expect("ratio metrics have bins");
                let groups = p.cells / b.count.max(1) as usize;
                println!(
                    "  {groups} group(s), each a histogram of {} bins of width {}; each bin count has noise sd {} members (95%: +/- {})",
                    b.count,
                    fmt_num(b.width()),
                    fmt_num(pv.sd),
                    fmt_num(pv.half_width)
                );
                let active_count = a.active_share * n as f64;
                let per_bin = active_count / f64::from(b.count);
                println!(
                    "  with {} members spread over {} bins (~{} per bin), a bin's 95% noise is {} of its average count; percentiles come at a resolution of {}",
                    fmt_num(active_count),
                    b.count,
                    fmt_num(per_bin),
                    if per_bin > 0.0 {
                        format!("{:.0}%", 100.0 * pv.half_width / per_bin)
                    } else {
                        "all".into()
                    },
                    fmt_num(b.width())
                );
            }
            _ => {
                let unit = match m.kind {
                    Kind::Sum => round.currency.clone(),
                    Kind::Count => "rows".into(),
                    _ => "members".into(),
                };
                let per_member_max = match (m.kind, m.clip) {
                    (Kind::Sum | Kind::Count, Some(c)) => c.hi.abs().max(c.lo.abs()),
                    _ => 1.0,
                };
                let typical = per_member_max * a.active_share * n as f64;
                println!(
                    "  each cell: noise sd {} {unit}, 95%: +/- {} {unit}",
                    fmt_num(pv.sd),
                    fmt_num(pv.half_width)
                );
                if typical > 0.0 {
                    let what = if m.kind == Kind::Active {
                        format!("the largest possible count ({} members)", fmt_num(typical))
                    } else {
                        format!(
                            "the largest possible cell ({} {unit}: every active member at the clip bound)",
                            fmt_num(typical)
                        )
                    };
                    println!(
                        "  that is {:.0}% of {what}: {}",
                        100.0 * pv.half_width / typical,
                        verdict(pv.half_width / typical)
                    );
                }
            }
        }
        match pv.suppressed_share {
            Some(s) if m.kind == Kind::Ratio => println!(
                "  groups likely suppressed: {:.1}% (P(noisy histogram total < {}) per group, before negative bins are clamped)",
                100.0 * s,
                round.min_members
            ),
            Some(s) => println!(
                "  cells likely suppressed: {:.1}% (P(noisy active count < {}) per cell)",
                100.0 * s,
                round.min_members
            ),
            None => println!(
                "  no active metric over the same dimensions: members_noisy will be null and no cell suppressed by member count"
            ),
        }
    }
    Ok(())
}

fn sign(a: &SignArgs) -> Result<(), Stop> {
    let pd = PoolDir::new(&a.dir);
    let (round, _) = pd.load_round(&a.round_id)?;
    if round.id != a.round_id {
        return Err(Stop::refused(format!(
            "{} holds round '{}', not '{}'",
            pd.round_path(&a.round_id)?.display(),
            round.id,
            a.round_id
        )));
    }
    checks(&pd, &round)?;
    let pool = pd.load_pool()?;
    match pd.signed_state(&pool) {
        SignedState::Current(_) => {}
        SignedState::Missing => {
            return Err(Stop::refused(format!(
                "the pool is not signed yet ({} is missing): run `pool sign --dir {}` first",
                text::path(&pd.signed_pool_path()),
                text::path(&a.dir)
            )))
        }
        SignedState::Stale => {
            return Err(Stop::refused(format!(
                "{} does not match pool.toml (the pool changed since it was signed): run `pool sign --dir {}` first",
                text::path(&pd.signed_pool_path()),
                text::path(&a.dir)
            )))
        }
    }
    let key = pd.load_key_for(&pool)?;
    let env = signed::sign(&round, &key);
    let bytes = env.to_json();
    let path = pd.signed_round_path(&round.id)?;
    match crate::files::read_bounded(&path, coopbench_protocol::limits::ROUND_MAX_BYTES, "a signed round") {
        Ok(old) if old == bytes => {
            println!("{} is already signed and unchanged.", text::path(&path));
            return Ok(());
        }
        Ok(_) => {
            return Err(Stop::refused(format!(
                "{} already holds a different signed version of round '{}'; members may have answered it. Give the changed round a new id",
                text::path(&path),
                round.id
            )))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Stop::usage(format!("cannot read {}: {e}", text::path(&path)))),
    }
    write_new_public(&path, &bytes)
        .map_err(|e| Stop::usage(format!("cannot write {}: {e}", text::path(&path))))?;
    println!("Purpose: {}", text::shown(&round.purpose));
    println!(
        "Signed round '{}' as {} (hash {}).",
        round.id,
        text::path(&path),
        &coopbench_protocol::sha256_hex(
            &coopbench_protocol::canonical_json(&round).expect("serialises")
        )[..16]
    );
    for n in guard::round_notes(&round) {
        println!("Note: {n}.");
    }
    println!(
        "Send it to the members: they run `coopbench plan --round {0}` and `coopbench export --round {0} ...`.",
        path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
    );
    Ok(())
}
