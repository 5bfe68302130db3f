//! `coopbench plan`: what a round will compute, what it costs, how accurate it
//! will be, and (given the member's files) how much of its data the bounds clip.

use crate::cells;
use crate::cmd::{input_stop, StateArgs};
use crate::inputs;
use crate::read_args::ReadArgs;
use crate::round_load;
use crate::usefulness::{self, Severity};
use clap::Args;
use coopbench_cli::format::{fmt_num, fmt_rho, fmt_rho_up};
use coopbench_cli::Stop;
use coopbench_privacy::accuracy;
use coopbench_privacy::budget;
use coopbench_privacy::estimate::BinGrid;
use coopbench_privacy::ledger::Ledger;
use coopbench_protocol::round::Kind;
use coopbench_protocol::{Mode, Round};
use coopbench_text::shown;
use std::path::PathBuf;

/// What a round discloses besides its noised figures, as `plan` states it
/// before anything is spent (the manifest's statement says the same).
pub const DISCLOSED: [&str; 4] = [
    "What is disclosed: the guarantee covers substitution neighbours, i.e. it hides what your figures are, not whether you took part.",
    "  Public to the association: that you contributed, how many members contributed, and whether you re-exported",
    "  (a contribution with sequence > 1; your earlier file is marked superseded). Your contribution carries only the",
    "  noised figures, the noise parameters, your key id, the round, the toolkit version and that sequence number.",
];

/// See what a round asks for and costs before you export anything.
///
/// Verifies the round (signed by the association you joined, inside the
/// pool's guardrails), then prints its purpose, period and metrics, the
/// privacy budget it spends and what your ledger would hold after it, and the
/// expected noise of every figure: in your own contribution, and in the merged
/// benchmark at the round's minimum number of members and at 2× and 4× that.
/// Given your files, it also says how much of your data the round's bounds
/// would clip. Nothing is written, sent or charged.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The signed round file from your association (round.sig.json).
    #[arg(long, value_name = "ROUND")]
    round: PathBuf,
    /// Optionally your sales and costs CSV files, to see how much is clipped.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    state: StateArgs,
}

/// The unit of a metric's cells, for people.
fn unit(round: &Round, kind: Kind) -> String {
    match kind {
        Kind::Sum => round.currency.clone(),
        Kind::Count => "rows".into(),
        Kind::Active => "members".into(),
        Kind::Ratio => "members per bin".into(),
    }
}

/// Runs `plan`: prints what the round asks and costs; writes nothing.
pub fn run(args: &PlanArgs) -> Result<(), Stop> {
    let state = args.state.resolve()?;
    let today = coopbench_cli::clock::today().map_err(Stop::usage)?;
    let now = coopbench_cli::clock::now();
    let loaded = round_load::load(&state, &args.round, None)?;
    let round = &loaded.round.doc;
    // The files first: a file that cannot answer the round is refused
    // before anything is printed.
    let prepared = if args.files.is_empty() {
        None
    } else {
        let (aggs, summary) = inputs::load(&args.files, &args.read, &loaded).map_err(input_stop)?;
        let prepared = cells::prepare(round, &aggs).map_err(Stop::refused)?;
        let findings = usefulness::check(round, &aggs, &summary.sources);
        Some((prepared, summary, findings))
    };
    coopbench_cli::outln!("Purpose: {}", shown(&round.purpose));
    coopbench_cli::outln!(
        "Round '{}' of pool '{}' ({} mode). Period {} to {}; open for exports {} to {}.",
        round.id,
        round.pool_id,
        round.mode.name(),
        round.period.start,
        round.period.end,
        round.opens,
        round.closes
    );
    let not_today = coopbench_protocol::guardrails::on_day(&loaded.pin.pool, round, today);
    for p in &not_today {
        coopbench_cli::outln!("Note: export is not possible today: {p}.");
    }
    if let Ok(key) = state.load_key() {
        if loaded.pin.pool.member(&key.public().key_id()).is_none() {
            coopbench_cli::outln!(
                "Note: your key is not on the pool's roster; export will refuse until it is."
            );
        }
    }
    let plans = cells::noise_plans(round).map_err(Stop::refused)?;
    let rho = coopbench_privacy::plan::charged_rho(round, &plans);
    let epsilon = budget::epsilon_for(rho, round.delta).map_err(Stop::refused)?;
    if let Some(t) = &round.two_server {
        coopbench_cli::outln!(
            "Two-server mode: your figures are split between the association and the helper '{}' (signing key {}); neither sees them unless the two collude. \
             Your noise is one share of {} (n_min {} less t {} colluding members tolerated).",
            shown(&t.helper_name),
            t.signing_key().map(|k| k.fingerprint()).unwrap_or_default(),
            t.parties(),
            t.n_min,
            t.t
        );
    }
    coopbench_cli::outln!(
        "Privacy cost: rho = {} (zCDP), which is epsilon = {:.3} at delta = {:e}, for your whole firm's data in this round.",
        fmt_rho_up(rho),
        epsilon,
        round.delta
    );
    for line in DISCLOSED {
        coopbench_cli::outln!("{line}");
    }
    let policy = state.policy().map_err(Stop::usage)?;
    let ledger = Ledger::open(state.ledger_path()).map_err(Stop::usage)?;
    match policy.check(&ledger, now, rho) {
        Ok(r) => coopbench_cli::outln!(
            "Your budget: {} of {} spent in the last {} days; {} after this round.",
            fmt_rho(r.spent),
            fmt_rho(r.cap),
            policy.window_days,
            fmt_rho(r.after)
        ),
        Err(e) => coopbench_cli::outln!("Your budget: export would be refused: {e}"),
    }
    let n = round.min_members_total.max(1) as usize;
    let parties = accuracy::parties_for(round);
    coopbench_cli::outln!();
    coopbench_cli::outln!(
        "Expected noise per cell (95% range; 'merged' = the published benchmark at {n}, {} and {} contributions, \
         in local mode and in two-server mode (n_min {parties}); this round is {}). Verdicts follow the published rule: \
         readable = within +/-25% of a typical cell, rough = within +/-50%, else too noisy (docs/accuracy.md).",
        2 * n,
        4 * n,
        round.mode.name()
    );
    for (m, p) in round.metrics.iter().zip(&plans) {
        let grid = round.grid(m);
        let dims: Vec<String> = grid
            .iter()
            .map(|d| format!("{} ({})", shown(&d.name), d.labels.len()))
            .collect();
        coopbench_cli::outln!();
        coopbench_cli::outln!(
            "  {} [{}] {}: {} cells over {}; rho {}",
            m.name,
            format!("{:?}", m.kind).to_lowercase(),
            shown(&m.description),
            p.cells,
            if dims.is_empty() {
                "the whole period".into()
            } else {
                dims.join(" x ")
            },
            fmt_rho(p.rho)
        );
        let you = accuracy::per_member(p.sigma, p.scale);
        let u = unit(round, m.kind);
        if round.mode == Mode::TwoServer {
            // Nobody sees it alone: it is masked, and only sums are opened.
            coopbench_cli::outln!(
                "    your contribution: masked (neither server can read it); your share of the noise: +/- {} {u} per cell",
                fmt_num(you.half_width_95)
            );
        } else {
            coopbench_cli::outln!(
                "    your contribution: +/- {} {u} per cell",
                fmt_num(you.half_width_95)
            );
        }
        if m.kind == Kind::Ratio {
            if let Some(b) = m.bins {
                let g = BinGrid {
                    lo: b.lo,
                    width: b.width(),
                    count: b.count as usize,
                };
                // Members spread around the bins' middle (plan never uses the
                // member's own figures for what it prints).
                let centre = (b.lo + b.hi) / 2.0;
                let both = accuracy::both_modes(p, parties, n);
                for (word, a) in [("local", both.local), ("two-server", both.two_server)] {
                    let q = accuracy::expected_percentiles(n, a.sd, g, centre);
                    let shown: Vec<String> = q
                        .iter()
                        .map(|q| {
                            format!(
                                "{} +/- {} ({})",
                                q.name,
                                fmt_num(q.mean_abs_error),
                                q.verdict.as_str()
                            )
                        })
                        .collect();
                    coopbench_cli::outln!(
                        "    merged, {n:>4} members, {word}: {}",
                        shown.join(", ")
                    );
                }
                coopbench_cli::outln!(
                    "    percentiles come out at a resolution of {} (bins of {} from {} to {})",
                    fmt_num(b.width()),
                    fmt_num(b.width()),
                    b.lo,
                    b.hi
                );
            }
            continue;
        }
        // One member's typical cell: half the clip bound (a round's bound is
        // set above most members' figures, so this is rather optimistic; the
        // association judges with real typical values in `round preview`).
        let (typical, what) = match (m.kind, m.clip) {
            (Kind::Active, _) => (1.0, "one member"),
            (_, Some(c)) => (c.hi.abs().max(c.lo.abs()) / 2.0, "half the clip bound"),
            _ => (1.0, "one"),
        };
        coopbench_cli::outln!(
            "    a typical member's cell: {} {u} ({what})",
            fmt_num(typical)
        );
        for k in [n, 2 * n, 4 * n] {
            let size = typical * k as f64;
            let both = accuracy::both_modes(p, parties, k);
            let show = |a: accuracy::Accuracy| {
                format!(
                    "+/- {} ({:.0}%, {})",
                    fmt_num(a.half_width_95),
                    100.0 * a.half_width_95 / size,
                    accuracy::relative_verdict(a.half_width_95, size).as_str()
                )
            };
            coopbench_cli::outln!(
                "    merged, {k:>4} members, of a typical cell {} {u}: local {} | two-server {}",
                fmt_num(size),
                show(both.local),
                show(both.two_server)
            );
        }
    }
    if let Some((prepared, summary, findings)) = prepared {
        coopbench_cli::outln!();
        coopbench_cli::outln!("Your files (seen only here, never sent):");
        for (file, inside, outside) in &summary.files {
            coopbench_cli::outln!(
                "  {}: {inside} rows in the period, {outside} outside it",
                shown(file)
            );
        }
        for m in &prepared {
            let s = &m.clip_stats;
            coopbench_cli::outln!(
                "  {}: {} of {} cells clipped to the round's bounds ({:.1}% of the metric's total removed)",
                m.name,
                s.cells_clipped,
                s.cells,
                100.0 * s.mass_removed_share
            );
        }
        for f in &findings {
            let what = match f.severity {
                Severity::Refuse => "export would refuse these files",
                Severity::RefuseUnlessAllowed => {
                    "export would refuse these files unless you pass --allow-empty"
                }
                Severity::Warn => "warning",
            };
            coopbench_cli::outln!("  {what}: {}", shown(&f.message));
        }
    }
    Ok(())
}
