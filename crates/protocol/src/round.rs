//! The round: what one collection asks of the members (purpose, period,
//! metrics and their cell grids, clip bounds, privacy budget, disclosure
//! floors). Written by the association as TOML, signed as canonical JSON.

use crate::date::{month_minus, months_between, Date};
use crate::pool::{is_identifier, MIN_MEMBERS_FLOOR};
use crate::two_server::TwoServer;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// DSSE payload type of a signed round.
pub const ROUND_TYPE: &str = "application/vnd.coopbench.round+json";

/// The most cells one metric may have.
pub const MAX_CELLS: usize = 100_000;

/// The most cells a whole round may have (all metrics together). It bounds
/// what every tool allocates for a round and the size of a contribution
/// (see [`crate::limits`]).
pub const MAX_ROUND_CELLS: usize = 1_000_000;

/// How members protect their vectors.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Each member adds the full noise; the association sums.
    Local,
    /// Each member adds a share of the noise and splits its vector between the
    /// association (leader) and an independent helper (see `[two_server]`).
    TwoServer,
}

impl Mode {
    /// `local` or `two-server`, as round files and manifests spell it.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Local => "local",
            Mode::TwoServer => "two-server",
        }
    }
}

/// The round's period, whole months.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// First day (the first of a month).
    pub start: Date,
    /// Last day (the last of a month).
    pub end: Date,
}

/// What a metric computes per member and cell.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Σ of a measure over the member's rows in the cell.
    Sum,
    /// Number of the member's rows in the cell.
    Count,
    /// 1 if the member has any row in the cell, else 0.
    Active,
    /// One ratio of the member's sums per cell group, as a one-hot histogram.
    Ratio,
}

impl Kind {
    /// `sum`, `count`, `active` or `ratio`, as round files and manifests spell it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sum => "sum",
            Kind::Count => "count",
            Kind::Active => "active",
            Kind::Ratio => "ratio",
        }
    }
}

/// Which of the member's files a metric reads.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// The sales file (schema `sales.v1`).
    Sales,
    /// The costs file (schema `costs.v1`).
    Costs,
}

impl SourceKind {
    /// `sales` or `costs`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Sales => "sales",
            SourceKind::Costs => "costs",
        }
    }
}

/// Keep only rows whose `field` is one of `values`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// A string field of the source's schema.
    pub field: String,
    /// Accepted values.
    pub values: Vec<String>,
}

/// One signed sum in a ratio's numerator or denominator.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Term {
    /// The file it reads.
    pub source: SourceKind,
    /// The numeric field summed; absent: count rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure: Option<String>,
    /// Row filters (all must hold).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filter: Vec<Filter>,
    /// Subtract this sum instead of adding it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub negate: bool,
    /// Read the period this many months earlier (same length), e.g. 3 for
    /// the previous quarter of a quarterly round: a member's own growth is a
    /// ratio of this period's and the earlier period's sums.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub months_back: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Per-cell clip bounds, in the measure's own units (e.g. EUR).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Clip {
    /// Lowest value a cell may carry.
    pub lo: f64,
    /// Highest value a cell may carry.
    pub hi: f64,
}

/// Equal-width histogram bins of a ratio metric over `[lo, hi]`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Bins {
    /// Lower edge of the first bin; smaller ratios are clipped to it.
    pub lo: f64,
    /// Upper edge of the last bin; larger ratios are clipped to it.
    pub hi: f64,
    /// Number of bins.
    pub count: u32,
}

/// The label of a ratio histogram's last bin, where a member without a
/// ratio (no positive denominator) puts its one unit: every member then adds
/// exactly one unit to every group, so each group's total is the public
/// number of contributions.
pub const NO_VALUE_BIN: &str = "none";

impl Bins {
    /// Width of one bin: the resolution of published percentiles.
    pub fn width(&self) -> f64 {
        (self.hi - self.lo) / f64::from(self.count)
    }

    /// Cells of one group: the `count` value bins and the "no value" bin.
    pub fn cells(&self) -> usize {
        self.count as usize + 1
    }
}

/// One metric of a round.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    /// Identifier, unique in the round (also the published table's name).
    pub name: String,
    /// What it computes.
    pub kind: Kind,
    /// Plain-words description for members and analysts.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Share of the round's ρ, relative to the other metrics' weights.
    #[serde(default = "one")]
    pub weight: f64,
    /// Fixed-point scale: integer units per unit of the measure (1 = whole EUR).
    #[serde(default = "one")]
    pub scale: f64,
    /// Grid dimensions: `month` and/or keys of the round's `dimensions`.
    #[serde(default)]
    pub dims: Vec<String>,
    /// The file read (sum, count, active).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceKind>,
    /// The numeric field summed (sum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure: Option<String>,
    /// Row filters (sum, count, active).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filter: Vec<Filter>,
    /// Per-cell clip bounds (sum, count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip: Option<Clip>,
    /// Ratio numerator terms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numerator: Vec<Term>,
    /// Ratio denominator terms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub denominator: Vec<Term>,
    /// Ratio histogram bins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bins: Option<Bins>,
}

fn one() -> f64 {
    1.0
}

/// The schemas a round's metrics read, by name (e.g. `sales.v1`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Schemas {
    /// Schema of the sales file.
    pub sales: String,
    /// Schema of the costs file.
    pub costs: String,
}

/// One collection of figures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Round {
    /// Why these figures are asked for, in plain words (shown first).
    pub purpose: String,
    /// Identifier, unique in the pool, e.g. `2025`.
    pub id: String,
    /// The pool it belongs to.
    pub pool_id: String,
    /// The months the figures cover.
    pub period: Period,
    /// First day members may export.
    pub opens: Date,
    /// Last day members may export.
    pub closes: Date,
    /// `local` or `two-server`.
    pub mode: Mode,
    /// The helper and its parameters; required in two-server mode, absent in local mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub two_server: Option<TwoServer>,
    /// Total zCDP budget ρ one member spends on this round.
    pub rho: f64,
    /// δ at which the round states its (ε, δ) equivalent.
    #[serde(default = "default_delta")]
    pub delta: f64,
    /// The one currency every money measure must be in.
    pub currency: String,
    /// Schemas of the member files.
    pub schemas: Schemas,
    /// Fewest noisy active members for a cell to be published (≥ 3).
    pub min_members: u32,
    /// Fewest accepted contributions for the round to be merged.
    pub min_members_total: u32,
    /// Days between the period's end and the round opening (≥ the pool's).
    pub min_data_age_days: u32,
    /// Labels of each non-month dimension, e.g. `category = ["bread", ...]`.
    #[serde(default)]
    pub dimensions: BTreeMap<String, Vec<String>>,
    /// What is computed.
    pub metrics: Vec<Metric>,
}

fn default_delta() -> f64 {
    1e-6
}

/// A dimension of a metric's grid with its labels in order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Dimension {
    /// `month`, a schema field such as `category`, or `bin` for ratios.
    pub name: String,
    /// Labels in grid order.
    pub labels: Vec<String>,
}

/// Number of cells of a grid (row-major over its dimensions), saturating at
/// `usize::MAX`: a grid too large to count is refused by [`Round::problems`]
/// (more than [`MAX_CELLS`]), never an overflow.
pub fn cell_count(grid: &[Dimension]) -> usize {
    checked_cell_count(grid).unwrap_or(usize::MAX)
}

/// Number of cells of a grid, or `None` when it does not fit in a `usize`.
pub fn checked_cell_count(grid: &[Dimension]) -> Option<usize> {
    grid.iter()
        .try_fold(1usize, |n, d| n.checked_mul(d.labels.len()))
}

/// The labels of every cell of a grid, one per dimension, in row-major order
/// (the last dimension varies fastest), as contributions and tables store them.
pub fn cell_labels(grid: &[Dimension]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = vec![Vec::new()];
    for d in grid {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                d.labels.iter().map(move |l| {
                    let mut p = prefix.clone();
                    p.push(l.clone());
                    p
                })
            })
            .collect();
    }
    out
}

/// A cell count for a message: saturated counts read "more than 2^64".
fn shown_count(n: usize) -> String {
    if n == usize::MAX {
        "more than 2^64".into()
    } else {
        n.to_string()
    }
}

impl Round {
    /// The month labels of the period.
    pub fn months(&self) -> Vec<String> {
        months_between(self.period.start, self.period.end)
    }

    /// The month labels a term reads: the period's months, `months_back`
    /// months earlier.
    pub fn term_months(&self, months_back: u32) -> Vec<String> {
        self.months()
            .iter()
            .filter_map(|m| month_minus(m, months_back))
            .collect()
    }

    /// Every month label any metric reads (the period, and the earlier
    /// periods of terms with `months_back`), sorted.
    pub fn months_read(&self) -> Vec<String> {
        let mut out = self.months();
        for m in &self.metrics {
            for t in m.numerator.iter().chain(&m.denominator) {
                out.extend(self.term_months(t.months_back));
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The metric's cell grid: its dims in order, then `bin` for ratios.
    pub fn grid(&self, metric: &Metric) -> Vec<Dimension> {
        let mut grid: Vec<Dimension> = metric
            .dims
            .iter()
            .map(|d| Dimension {
                name: d.clone(),
                labels: if d == "month" {
                    self.months()
                } else {
                    self.dimensions.get(d).cloned().unwrap_or_default()
                },
            })
            .collect();
        if let (Kind::Ratio, Some(b)) = (metric.kind, metric.bins) {
            let labels = (0..b.count)
                .map(|i| format!("{}", b.lo + b.width() * f64::from(i)))
                .chain(std::iter::once(NO_VALUE_BIN.to_string()))
                .collect();
            grid.push(Dimension {
                name: "bin".into(),
                labels,
            });
        }
        grid
    }

    /// The number of cells of the metric's grid (as `cell_count(&self.grid(m))`,
    /// without building the labels), saturating at `usize::MAX`.
    pub fn metric_cells(&self, metric: &Metric) -> usize {
        let months = self.months().len();
        let dims = metric.dims.iter().map(|d| {
            if d == "month" {
                months
            } else {
                self.dimensions.get(d).map_or(0, Vec::len)
            }
        });
        let bins = match (metric.kind, metric.bins) {
            (Kind::Ratio, Some(b)) => Some(b.cells()),
            _ => None,
        };
        dims.chain(bins)
            .try_fold(1usize, |n, k| n.checked_mul(k))
            .unwrap_or(usize::MAX)
    }

    /// The metric called `name`.
    pub fn metric(&self, name: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.name == name)
    }

    /// Problems that make the round malformed, one message each (empty: fine).
    /// Checks that need the pool, the clock or the schemas live elsewhere.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.purpose.trim().is_empty() {
            out.push("the round has no purpose: state what the figures are for".into());
        }
        if !is_identifier(&self.id) {
            out.push(format!(
                "round id '{}' must be 1-64 characters of a-z, 0-9, '-', '_' or '.'",
                self.id
            ));
        }
        match (self.mode, &self.two_server) {
            (Mode::TwoServer, None) => out.push(
                "mode 'two-server' needs a [two_server] section: n_min, t and the helper's keys"
                    .into(),
            ),
            (Mode::TwoServer, Some(ts)) => out.extend(ts.problems()),
            (Mode::Local, Some(_)) => {
                out.push("a [two_server] section is only for mode = 'two-server'".into())
            }
            (Mode::Local, None) => {}
        }
        let p = self.period;
        if p.start > p.end {
            out.push(format!(
                "period starts ({}) after it ends ({})",
                p.start, p.end
            ));
        }
        if !p.start.is_month_start() || !p.end.is_month_end() {
            out.push(format!(
                "period {}..{} must cover whole months (first day to last day)",
                p.start, p.end
            ));
        }
        if self.opens > self.closes {
            out.push(format!(
                "opens ({}) after closes ({})",
                self.opens, self.closes
            ));
        }
        if !(self.rho.is_finite() && self.rho > 0.0) {
            out.push(format!("rho must be a positive number, not {}", self.rho));
        }
        if !(self.delta > 0.0 && self.delta < 1.0) {
            out.push(format!("delta must be in (0, 1), not {}", self.delta));
        }
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            out.push(format!(
                "currency '{}' is not an ISO 4217 code",
                self.currency
            ));
        }
        if self.min_members < MIN_MEMBERS_FLOOR {
            out.push(format!(
                "min_members is {}; the floor is {MIN_MEMBERS_FLOOR}",
                self.min_members
            ));
        }
        if self.min_members_total < self.min_members {
            out.push(format!(
                "min_members_total ({}) is below min_members ({})",
                self.min_members_total, self.min_members
            ));
        }
        for (name, labels) in &self.dimensions {
            if name == "month" || name == "bin" {
                out.push(format!("dimension '{name}' is reserved"));
            }
            if labels.is_empty() {
                out.push(format!("dimension '{name}' has no labels"));
            }
            let mut sorted = labels.clone();
            sorted.sort();
            sorted.dedup();
            if sorted.len() != labels.len() {
                out.push(format!("dimension '{name}' repeats a label"));
            }
        }
        if self.metrics.is_empty() {
            out.push("the round has no metrics".into());
        }
        let total = self
            .metrics
            .iter()
            .map(|m| self.metric_cells(m))
            .fold(0usize, usize::saturating_add);
        if total > MAX_ROUND_CELLS {
            out.push(format!(
                "the round's metrics have {} cells together; at most {MAX_ROUND_CELLS}",
                shown_count(total)
            ));
        }
        for (i, m) in self.metrics.iter().enumerate() {
            if self.metrics[..i].iter().any(|o| o.name == m.name) {
                out.push(format!("metric name '{}' is used twice", m.name));
            }
            out.extend(
                self.metric_problems(m)
                    .into_iter()
                    .map(|p| format!("metric '{}': {p}", m.name)),
            );
        }
        out
    }

    fn metric_problems(&self, m: &Metric) -> Vec<String> {
        let mut out = Vec::new();
        if !is_identifier(&m.name) {
            out.push("name must be 1-64 characters of a-z, 0-9, '-', '_' or '.'".into());
        }
        if !(m.weight.is_finite() && m.weight > 0.0) {
            out.push(format!("weight must be positive, not {}", m.weight));
        }
        if !(m.scale.is_finite() && m.scale > 0.0) {
            out.push(format!("scale must be positive, not {}", m.scale));
        } else if matches!(m.kind, Kind::Active | Kind::Ratio)
            && (m.scale.fract() != 0.0 || m.scale > 1_048_576.0)
        {
            out.push(format!(
                "scale of an active or ratio metric is the value of one member's 1 and must be a whole number up to 2^20, not {}",
                m.scale
            ));
        }
        for (i, d) in m.dims.iter().enumerate() {
            if d != "month" && !self.dimensions.contains_key(d) {
                out.push(format!(
                    "dimension '{d}' is neither 'month' nor listed in [dimensions]"
                ));
            }
            if m.dims[..i].contains(d) {
                out.push(format!("dimension '{d}' appears twice"));
            }
        }
        let ratio = m.kind == Kind::Ratio;
        if ratio {
            if m.numerator.is_empty() || m.denominator.is_empty() {
                out.push("a ratio needs numerator and denominator terms".into());
            }
            match m.bins {
                None => out.push("a ratio needs bins (lo, hi, count)".into()),
                Some(b) => {
                    if !(b.lo.is_finite() && b.hi.is_finite() && b.lo < b.hi) {
                        out.push("bins need finite lo < hi".into());
                    }
                    if !(1..=1000).contains(&b.count) {
                        out.push("bins.count must be 1 to 1000".into());
                    }
                }
            }
            if m.numerator
                .iter()
                .chain(&m.denominator)
                .any(|t| t.months_back > 120)
            {
                out.push("months_back is at most 120 (ten years)".into());
            }
            if m.source.is_some() || m.measure.is_some() || m.clip.is_some() || !m.filter.is_empty()
            {
                out.push(
                    "a ratio takes numerator/denominator terms, not source/measure/filter/clip"
                        .into(),
                );
            }
        } else {
            if m.source.is_none() {
                out.push("source (sales or costs) is missing".into());
            }
            if !m.numerator.is_empty() || !m.denominator.is_empty() || m.bins.is_some() {
                out.push("numerator, denominator and bins belong to ratio metrics".into());
            }
            match (m.kind, &m.measure) {
                (Kind::Sum, None) => out.push("a sum needs a measure".into()),
                (Kind::Count | Kind::Active, Some(_)) => {
                    out.push("count and active metrics take no measure".into())
                }
                _ => {}
            }
            match (m.kind, m.clip) {
                (Kind::Active, Some(_)) => {
                    out.push("active metrics are 0/1 per cell and take no clip".into())
                }
                (Kind::Sum | Kind::Count, None) => {
                    out.push("clip bounds (lo, hi) are missing".into())
                }
                (_, Some(c)) if !(c.lo.is_finite() && c.hi.is_finite() && c.lo <= c.hi) => {
                    out.push("clip needs finite lo <= hi".into())
                }
                (Kind::Count, Some(c)) if c.lo < 0.0 => {
                    out.push("a count's clip lo must be >= 0".into())
                }
                _ => {}
            }
        }
        let cells = self.metric_cells(m);
        if cells > MAX_CELLS {
            out.push(format!("{} cells; at most {MAX_CELLS}", shown_count(cells)));
        }
        out
    }

    /// Every (source, field) the round's metrics read: measures, filters and
    /// non-month dimensions. Used to refuse non-shareable fields.
    pub fn fields_used(&self) -> Vec<(SourceKind, String)> {
        let mut out = Vec::new();
        for m in &self.metrics {
            let mut terms: Vec<(SourceKind, Option<&String>, &Vec<Filter>)> = Vec::new();
            if let Some(s) = m.source {
                terms.push((s, m.measure.as_ref(), &m.filter));
            }
            for t in m.numerator.iter().chain(&m.denominator) {
                terms.push((t.source, t.measure.as_ref(), &t.filter));
            }
            for (s, measure, filters) in terms {
                out.extend(measure.map(|f| (s, f.clone())));
                out.extend(filters.iter().map(|f| (s, f.field.clone())));
                out.extend(
                    m.dims
                        .iter()
                        .filter(|d| *d != "month")
                        .map(|d| (s, d.clone())),
                );
            }
        }
        out.sort();
        out.dedup();
        out
    }
}
