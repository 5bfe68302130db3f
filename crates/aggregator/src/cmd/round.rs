//! `coopbench-aggregator round ...`: create a round from a template, preview
//! how accurate and how often suppressed its figures will be, and sign it.

use crate::files::write_new_public;
use crate::guard::{self, active_for};
use crate::pool_dir::{parse_round, PoolDir, SignedState};
use crate::tables;
use clap::{Args, Subcommand};
use coopbench_cli::format::fmt_num;
use coopbench_cli::Stop;
use coopbench_privacy::accuracy::{
    self, prob_below, relative_verdict, Accuracy, PercentileAccuracy, Verdict,
};
use coopbench_privacy::estimate::BinGrid;
use coopbench_privacy::plan::{noise_plans, NoisePlan};
use coopbench_protocol::round::{Kind, Metric};
use coopbench_protocol::{signed, Mode, Round};
use coopbench_text as text;
use std::collections::BTreeMap;
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
/// field the schemas mark not shareable, and a round members can answer: its
/// export window open for at least 7 more days, and each member's charge within
/// the default cap of rho = 2 per 365 days (else --allow-above-default-cap).
/// Writes DIR/rounds/<id>.toml; refuses to overwrite a round that exists.
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
    /// Create/sign it even though each member would be charged more than the
    /// members' default privacy cap (rho = 2 per 365 days): only when your
    /// members have raised their caps with `coopbench policy`.
    #[arg(long)]
    allow_above_default_cap: bool,
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
    /// A typical value to judge a metric's noise against (repeatable): for a
    /// sum or count, one member's figure in one cell (e.g. revenue=150000);
    /// for a ratio, a typical ratio (e.g. gross_margin=0.65).
    #[arg(long, value_name = "METRIC=VALUE")]
    typical: Vec<String>,
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
    /// Create/sign it even though each member would be charged more than the
    /// members' default privacy cap (rho = 2 per 365 days): only when your
    /// members have raised their caps with `coopbench policy`.
    #[arg(long)]
    allow_above_default_cap: bool,
}

/// Runs a `round` subcommand.
pub fn run(cmd: RoundCommand) -> Result<(), Stop> {
    match cmd {
        RoundCommand::New(a) => new(&a),
        RoundCommand::Preview(a) => preview(&a),
        RoundCommand::Sign(a) => sign(&a),
    }
}

fn checks(pd: &PoolDir, round: &Round, allow_above_default_cap: bool) -> Result<(), Stop> {
    let pool = pd.load_pool()?;
    let today = coopbench_cli::clock::today().map_err(Stop::usage)?;
    let mut problems = guard::round_problems(&pool, round, today);
    problems.extend(guard::unanswerable(round, today, allow_above_default_cap));
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
    checks(&pd, &round, a.allow_above_default_cap)?;
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
    coopbench_cli::outln!("Purpose: {}", text::shown(&round.purpose));
    coopbench_cli::outln!(
        "Created round '{}' ({} to {}, {} metrics) as {}.",
        round.id,
        round.period.start,
        round.period.end,
        round.metrics.len(),
        text::path(&path)
    );
    for n in guard::round_notes(&round) {
        coopbench_cli::outln!("Note: {n}.");
    }
    coopbench_cli::outln!(
        "Next: `round preview --dir {} {} --expected-members N`, then `round sign`.",
        text::path(&a.dir),
        round.id
    );
    Ok(())
}

/// What one metric of a round will publish in one mode, for `round preview`.
#[derive(Debug, Clone, PartialEq)]
pub struct ModePreview {
    /// Noise of one merged cell (ratio: one bin), measure units.
    pub cell: Accuracy,
    /// Verdict of a typical cell (total metrics; None without a typical value).
    pub verdict: Option<Verdict>,
    /// The 95 % half-width relative to a typical cell (total metrics).
    pub relative: Option<f64>,
    /// Expected accuracy of each percentile (ratio metrics).
    pub percentiles: Option<[PercentileAccuracy; 5]>,
    /// Expected share of cells (groups) suppressed; None when no active
    /// metric covers the metric.
    pub suppressed_share: Option<f64>,
}

impl ModePreview {
    /// Readable figures of one cell or group: 1 or 0 for a total, 0 to 5
    /// percentiles for a ratio.
    fn readable(&self) -> usize {
        match &self.percentiles {
            Some(p) => p.iter().filter(|a| a.verdict == Verdict::Readable).count(),
            None => usize::from(self.verdict == Some(Verdict::Readable)),
        }
    }

    /// The worst verdict of the metric's figures.
    fn worst(&self) -> Option<Verdict> {
        match &self.percentiles {
            Some(p) => p.iter().map(|a| a.verdict).max_by_key(|v| *v as u8),
            None => self.verdict,
        }
    }
}

/// The typical size of one merged cell of a total metric with `n` members,
/// `share` of them active: `typical` (one member's figure in one cell, from
/// `--typical`) times the active members; for an active metric the active
/// members themselves. None for a sum or count without a typical value.
pub fn typical_cell(m: &Metric, typical: Option<f64>, n: usize, share: f64) -> Option<f64> {
    let members = share * n as f64;
    match m.kind {
        Kind::Active => Some(members),
        Kind::Ratio => None,
        Kind::Sum | Kind::Count => typical.map(|t| t * members),
    }
}

/// The preview of metric `i` with `n` members, `share` of them active in
/// each cell, in `mode`; `typical` is the `--typical` value of the metric
/// (a member's figure per cell, or a ratio's typical value).
pub fn preview_metric(
    round: &Round,
    plans: &[NoisePlan],
    i: usize,
    (n, share): (usize, f64),
    mode: Mode,
    typical: Option<f64>,
) -> ModePreview {
    let m = &round.metrics[i];
    let parties = accuracy::parties_for(round);
    let cell = accuracy::in_mode(accuracy::both_modes(&plans[i], parties, n), mode);
    let min = f64::from(round.min_members);
    let active_count = share * n as f64;
    match (m.kind, m.bins) {
        (Kind::Ratio, Some(b)) => {
            let g = BinGrid {
                lo: b.lo,
                width: b.width(),
                count: b.count as usize,
            };
            let centre = typical.unwrap_or((b.lo + b.hi) / 2.0);
            ModePreview {
                cell,
                verdict: None,
                relative: None,
                percentiles: Some(accuracy::expected_percentiles(n, cell.sd, g, centre)),
                // Members with a value, before the projection: every bin's noise.
                suppressed_share: Some(prob_below(
                    active_count,
                    cell.sd * (b.cells() as f64).sqrt(),
                    min,
                )),
            }
        }
        _ => ModePreview {
            cell,
            verdict: typical_cell(m, typical, n, share)
                .map(|t| relative_verdict(cell.half_width_95, t)),
            relative: typical_cell(m, typical, n, share).map(|t| cell.half_width_95 / t),
            percentiles: None,
            suppressed_share: active_for(round, &m.dims).map(|a| {
                let asd = accuracy::in_mode(accuracy::both_modes(&plans[a], parties, n), mode);
                prob_below(active_count, asd.sd, min)
            }),
        },
    }
}

/// Parses `--typical NAME=VALUE` against the round's metrics.
fn typical_values(round: &Round, args: &[String]) -> Result<BTreeMap<String, f64>, Stop> {
    let mut out = BTreeMap::new();
    for a in args {
        let (name, value) = a
            .split_once('=')
            .ok_or_else(|| Stop::usage(format!("--typical {a}: expected METRIC=VALUE")))?;
        if round.metric(name).is_none() {
            return Err(Stop::usage(format!(
                "--typical {a}: the round has no metric '{name}'"
            )));
        }
        let v: f64 = value
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| Stop::usage(format!("--typical {a}: '{value}' is not a number")))?;
        out.insert(name.to_string(), v);
    }
    Ok(out)
}

/// One line of advice for a metric that will not be readable in the
/// round's mode (`mine`; `other` is the other mode).
fn suggestion(round: &Round, i: usize, mine: &ModePreview, other: &ModePreview) -> Option<String> {
    let m = &round.metrics[i];
    let worst = mine.worst()?;
    if worst == Verdict::Readable {
        return None;
    }
    let mut tips = Vec::new();
    if round.mode == Mode::Local && other.worst() == Some(Verdict::Readable) {
        tips.push("two-server mode (readable there)".to_string());
    }
    // The noise sd falls as 1/sqrt(weight): the weight that would make the
    // worst figure readable, roughly.
    let factor = match (&mine.percentiles, m.bins) {
        (Some(p), Some(b)) => {
            if b.count > 12 {
                tips.push(format!(
                    "fewer, wider bins (now {} of {})",
                    b.count,
                    fmt_num(b.width())
                ));
            }
            let span = p.iter().map(|a| a.interval_bins).fold(0.0, f64::max);
            (span / accuracy::READABLE_BINS.min(f64::from(b.count) * 2.0 / 3.0)).powi(2)
        }
        _ => {
            let cells = tables::rows_of(round, i);
            if cells > 1 {
                tips.push(format!(
                    "a coarser grid (now {cells} cells: fewer months or categories, or none)"
                ));
            }
            mine.relative
                .map_or(0.0, |r| (r / accuracy::READABLE_RELATIVE).powi(2))
        }
    };
    if factor > 1.0 {
        tips.push(format!("about {factor:.1}x the weight"));
    }
    Some(format!(
        "  suggestion: {} is {} in this round's mode; try {}",
        m.name,
        worst.as_str(),
        if tips.is_empty() {
            "more weight".to_string()
        } else {
            tips.join(", or ")
        }
    ))
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
    let typical = typical_values(&round, &a.typical)?;
    let plans =
        noise_plans(&round).map_err(|e| Stop::refused(format!("round '{}': {e}", round.id)))?;
    let n = a.expected_members;
    let rho = coopbench_privacy::plan::charged_rho(&round, &plans);
    let epsilon = coopbench_privacy::budget::epsilon_for(rho, round.delta)
        .map_err(|e| Stop::refused(e.to_string()))?;
    let parties = accuracy::parties_for(&round);
    coopbench_cli::outln!("Purpose: {}", text::shown(&round.purpose));
    coopbench_cli::outln!(
        "Round '{}': {} to {}, rho = {} per member (epsilon = {:.3} at delta = {:e}), {} mode.",
        round.id,
        round.period.start,
        round.period.end,
        rho,
        epsilon,
        round.delta,
        round.mode.name()
    );
    match &round.two_server {
        Some(t) => coopbench_cli::outln!(
            "Two-server: helper '{}'; each member adds a noise share of 1/{} of the variance (n_min {} less t {}), so at N contributions a cell's noise sd is sigma * sqrt(N / {}); slack of the distributed bound: {:e}.",
            text::shown(&t.helper_name),
            t.parties(),
            t.n_min,
            t.t,
            t.parties(),
            plans.iter().map(|p| p.slack).sum::<f64>()
        ),
        None => coopbench_cli::outln!(
            "Two-server figures below assume a helper with n_min = {parties} (min_members_total) and t = 0: each member would add 1/{parties} of the noise variance."
        ),
    }
    coopbench_cli::outln!(
        "Preview with {n} contributions, {:.0}% of them active in every cell; a cell is suppressed below {} noisy active members. \
         Verdicts follow the published rule (docs/accuracy.md): readable = 95% range within +/-25% of a typical cell, or a percentile's 95% interval at most 5 bins wide.",
        100.0 * a.active_share,
        round.min_members
    );
    if n < round.min_members_total as usize {
        coopbench_cli::outln!(
            "Note: {n} is below min_members_total = {}: such a merge would be refused.",
            round.min_members_total
        );
    }
    let mut readable = [0usize; 2];
    let mut figures = 0usize;
    for (i, (m, p)) in round.metrics.iter().zip(&plans).enumerate() {
        let grid = round.grid(m);
        let t = typical.get(&m.name).copied();
        let both = [Mode::Local, Mode::TwoServer]
            .map(|mode| preview_metric(&round, &plans, i, (n, a.active_share), mode, t));
        let rows = tables::rows_of(&round, i);
        figures += rows * if m.kind == Kind::Ratio { 5 } else { 1 };
        for (r, pv) in readable.iter_mut().zip(&both) {
            *r += rows * pv.readable();
        }
        let dims: Vec<String> = grid
            .iter()
            .map(|d| format!("{} ({})", text::shown(&d.name), d.labels.len()))
            .collect();
        coopbench_cli::outln!();
        coopbench_cli::outln!(
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
        let mode_word = |i: usize| if i == 0 { "local" } else { "two-server" };
        match (m.kind, m.bins) {
            (Kind::Ratio, Some(b)) => {
                coopbench_cli::outln!(
                    "  {rows} group(s), each a histogram of {} bins of width {} from {} to {} and a no-value bin; one bin's noise (95%): local +/- {} members | two-server +/- {} members",
                    b.count,
                    fmt_num(b.width()),
                    b.lo,
                    b.hi,
                    fmt_num(both[0].cell.half_width_95),
                    fmt_num(both[1].cell.half_width_95)
                );
                coopbench_cli::outln!(
                    "  expected error of each percentile with {} members centred at {} ({}): mean absolute error in the metric's units, [95% interval width in bins], verdict",
                    fmt_num(a.active_share * n as f64),
                    fmt_num(t.unwrap_or((b.lo + b.hi) / 2.0)),
                    if t.is_some() { "--typical" } else { "the bins' middle; set --typical NAME=VALUE" }
                );
                for (k, pv) in both.iter().enumerate() {
                    let cells: Vec<String> = pv
                        .percentiles
                        .iter()
                        .flatten()
                        .map(|q| {
                            format!(
                                "{} {} [{:.1}] {}",
                                q.name,
                                fmt_num(q.mean_abs_error),
                                q.interval_bins,
                                q.verdict.as_str()
                            )
                        })
                        .collect();
                    coopbench_cli::outln!("    {:<10}  {}", mode_word(k), cells.join(" | "));
                }
            }
            _ => {
                let unit = match m.kind {
                    Kind::Sum => round.currency.clone(),
                    Kind::Count => "rows".into(),
                    _ => "members".into(),
                };
                let size = typical_cell(m, t, n, a.active_share);
                match size {
                    Some(s) => coopbench_cli::outln!(
                        "  a typical cell: {} {unit} ({})",
                        fmt_num(s),
                        match (m.kind, t) {
                            (Kind::Active, _) => "the active members".to_string(),
                            (_, Some(t)) => format!(
                                "{} members x {} {unit}, from --typical",
                                fmt_num(a.active_share * n as f64),
                                fmt_num(t)
                            ),
                            _ => String::new(),
                        }
                    ),
                    None => coopbench_cli::outln!(
                        "  no typical value: give --typical {}=VALUE (one member's figure in one cell) to judge it",
                        m.name
                    ),
                }
                let show = |pv: &ModePreview| match (size, pv.verdict) {
                    (Some(s), Some(v)) => format!(
                        "+/- {} {unit} ({:.0}%, {})",
                        fmt_num(pv.cell.half_width_95),
                        100.0 * pv.cell.half_width_95 / s,
                        v.as_str()
                    ),
                    _ => format!("+/- {} {unit}", fmt_num(pv.cell.half_width_95)),
                };
                coopbench_cli::outln!(
                    "  each cell's noise (95%): local {} | two-server {}",
                    show(&both[0]),
                    show(&both[1])
                );
            }
        }
        let own = usize::from(round.mode == Mode::TwoServer);
        match both[own].suppressed_share {
            Some(s) if m.kind == Kind::Ratio => coopbench_cli::outln!(
                "  groups likely suppressed: {:.1}% (P(noisy members with a value < {}) per group, {} mode)",
                100.0 * s,
                round.min_members,
                mode_word(own)
            ),
            Some(s) => coopbench_cli::outln!(
                "  cells likely suppressed: {:.1}% (P(noisy active count < {}) per cell, {} mode); {}: {:.1}%",
                100.0 * s,
                round.min_members,
                mode_word(own),
                mode_word(1 - own),
                100.0 * both[1 - own].suppressed_share.unwrap_or(0.0)
            ),
            None => coopbench_cli::outln!(
                "  no active metric over the same dimensions: members_noisy will be null and no cell suppressed by member count"
            ),
        }
        if let Some(line) = suggestion(&round, i, &both[own], &both[1 - own]) {
            coopbench_cli::outln!("{line}");
        }
    }
    coopbench_cli::outln!();
    let pct = |r: usize| {
        if figures == 0 {
            0.0
        } else {
            100.0 * r as f64 / figures as f64
        }
    };
    coopbench_cli::outln!(
        "Readable figures (cell estimates and percentiles) with {n} members: local {} of {figures} ({:.0}%) | two-server {} of {figures} ({:.0}%).",
        readable[0],
        pct(readable[0]),
        readable[1],
        pct(readable[1])
    );
    let best = if readable[1] > readable[0] {
        "two-server"
    } else {
        "local"
    };
    coopbench_cli::outln!(
        "Recommended mode: {best}{}.",
        if best == round.mode.name() {
            " (this round's mode)"
        } else {
            " (change `mode` in the template and add the helper's [two_server] block)"
        }
    );
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
    checks(&pd, &round, a.allow_above_default_cap)?;
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
            coopbench_cli::outln!("{} is already signed and unchanged.", text::path(&path));
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
    coopbench_cli::outln!("Purpose: {}", text::shown(&round.purpose));
    coopbench_cli::outln!(
        "Signed round '{}' as {} (hash {}).",
        round.id,
        text::path(&path),
        &coopbench_protocol::sha256_hex(
            &coopbench_protocol::canonical_json(&round).expect("serialises")
        )[..16]
    );
    for n in guard::round_notes(&round) {
        coopbench_cli::outln!("Note: {n}.");
    }
    coopbench_cli::outln!(
        "Send it to the members: they run `coopbench plan --round {0}` and `coopbench export --round {0} ...`.",
        path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
    );
    Ok(())
}
