//! Verifying and summing contributions, one file at a time.
//!
//! Memory stays proportional to the round's cells plus a few facts per file
//! (name, SHA-256, member, sequence, σ per metric): contributions are never
//! all held at once. Cell sums are exact `i128` integers. When a member's
//! file already summed turns out to be superseded (a higher sequence arrives)
//! or conflicting (another file with the same sequence arrives), that file is
//! read again, its SHA-256 compared with the first reading, and its values
//! subtracted exactly.
//!
//! A contribution's identity is what its member signed: the signer's key id
//! and the SHA-256 of the signed payload, not the file's bytes. A copy with
//! other bytes but the same signed content (CRLF line ends, compact JSON,
//! another signature added) is the same contribution and counts once, so
//! anyone holding a copy of a member's file cannot knock that member out by
//! sending a re-formatted copy. Signatures by keys not on the roster are
//! ignored, and every roster key id present is tried.
//!
//! The outcome does not depend on the order of the files: per member, the
//! valid contributions are grouped by sequence; a group holding two or more
//! different signed payloads is a conflict (all of them rejected); the
//! highest sequence is accepted when it holds one payload, and nothing of
//! that member otherwise; every other file is superseded. Copies of one
//! payload (identical bytes or not) are duplicates, counted once.
//!
//! In local mode every value is range-checked against what a clipped,
//! noised cell of the round can be (see [`ValueRange`]); a contribution
//! outside it (a member trying to poison the sums, or to push suppressed
//! cells over `min_members`) is rejected with reason `value_range`. In
//! two-server mode the values are masked shares, uniform modulo 2^64, and
//! cannot be range-checked (see docs/threat-model.md).

use coopbench_privacy::plan::NoisePlan;
use coopbench_protocol::round::cell_count;
use coopbench_protocol::signed::{self, Verified};
use coopbench_protocol::{
    sha256_hex, Contribution, Envelope, Mode, Pool, PublicKey, Round, SealedSeedDoc, VerifyError,
};
use coopbench_text::shown;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// No contribution value may reach this magnitude (2^62): members' values are
/// clipped fixed-point figures plus noise, far below it.
pub const VALUE_LIMIT: u64 = 1 << 62;

/// How many σ of noise a local-mode value may lie outside its cell's clip
/// bounds. The discrete Gaussian's tail is sub-Gaussian,
/// P(|X| ≥ kσ) ≤ 2·exp(−k²/2) (Canonne, Kamath & Steinke 2020), so at
/// k = 12 an honest value is rejected with probability at most
/// 2·e^−72 ≈ 1.1·10^−31 per cell: below 10^−25 for a round of 100,000
/// cells per metric and ten metrics.
pub const RANGE_SIGMAS: f64 = 12.0;

/// The values a local-mode contribution may carry for one metric: the
/// clip bounds in fixed point (0 and one unit for active and ratio cells)
/// widened by [`RANGE_SIGMAS`] σ of the metric's noise on each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueRange {
    /// Lowest value accepted.
    pub lo: i128,
    /// Highest value accepted.
    pub hi: i128,
}

impl ValueRange {
    /// The range for a metric with fixed-point `bounds` and noise `sigma`.
    pub fn new(bounds: coopbench_privacy::clip::Bounds, sigma: f64) -> Self {
        // Rounded up; σ is at most 2^62/40 (noise headroom), so this fits.
        let tail = (RANGE_SIGMAS * sigma).ceil().min(1e30) as i128;
        Self {
            lo: i128::from(bounds.lo) - tail,
            hi: i128::from(bounds.hi) + tail,
        }
    }

    /// Whether `v` is inside.
    pub fn contains(&self, v: i64) -> bool {
        (self.lo..=self.hi).contains(&i128::from(v))
    }
}

/// The toolkit version every contribution must start with.
pub const TOOLKIT_PREFIX: &str = "coopbench ";

/// Why a file is not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The file could not be read.
    Unreadable,
    /// Not a DSSE envelope (not JSON, wrong shape, payload not base64).
    Malformed,
    /// An envelope of another document type (a round, a pool...).
    WrongType,
    /// No signature by a key on the pool's roster.
    UnknownSigner,
    /// A roster key's signature that does not verify: altered or forged.
    BadSignature,
    /// Signed, but the payload is not a contribution document.
    BadPayload,
    /// Signed by one member, claiming to be another.
    SignerMismatch,
    /// For another round, round version, pool or mode.
    WrongRound,
    /// Not made by a coopbench toolkit.
    Toolkit,
    /// Sequence number 0.
    BadSequence,
    /// Metrics, grids or value counts differ from the round's.
    Grid,
    /// Noise parameters differ from the round's plan.
    Noise,
    /// Local mode: a value outside the round's clip bounds ± 12σ of noise.
    /// Two-server mode: a value at or beyond ±2^62 (never, for shares read
    /// as i64; masked shares cannot be range-checked).
    ValueRange,
    /// Two-server mode: the sealed seed is missing, unsigned by the member or
    /// made for another round, member, sequence or vector length.
    SealedSeed,
    /// The same signed contribution (same member, same signed payload) as
    /// another file, whatever its bytes: counted once.
    Duplicate,
    /// A higher sequence from the same member replaces it.
    Superseded,
    /// Another contribution from the same member with the same sequence and
    /// different signed content.
    Conflict,
}

impl Reason {
    /// The short code used in the manifest.
    pub fn code(self) -> &'static str {
        match self {
            Reason::Unreadable => "unreadable",
            Reason::Malformed => "malformed",
            Reason::WrongType => "wrong_type",
            Reason::UnknownSigner => "unknown_signer",
            Reason::BadSignature => "bad_signature",
            Reason::BadPayload => "bad_payload",
            Reason::SignerMismatch => "signer_mismatch",
            Reason::WrongRound => "wrong_round",
            Reason::Toolkit => "toolkit_version",
            Reason::BadSequence => "bad_sequence",
            Reason::Grid => "grid",
            Reason::Noise => "noise_parameters",
            Reason::ValueRange => "value_range",
            Reason::SealedSeed => "sealed_seed",
            Reason::Duplicate => "duplicate",
            Reason::Superseded => "superseded",
            Reason::Conflict => "conflict",
        }
    }
}

/// What became of one file.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Summed into the benchmarks.
    Accepted,
    /// Not used.
    NotUsed {
        /// Why.
        reason: Reason,
        /// The reason in words, naming no file.
        detail: String,
        /// The other file involved (duplicate of, superseded by, in conflict with).
        other: Option<usize>,
    },
}

/// One input file and its fate.
#[derive(Debug, Clone)]
pub struct FileEntry {
    /// Where it was read.
    pub path: PathBuf,
    /// Hex SHA-256 of its bytes (None when unreadable).
    pub sha256: Option<String>,
    /// Accepted or why not.
    pub status: Status,
    /// Member key id and sequence of a valid contribution (never published).
    member: Option<(String, u32)>,
    /// σ per metric of a valid contribution.
    sigmas: Vec<f64>,
    /// Two-server mode: the member's signed sealed seed (forwarded to the helper).
    seed: Option<Envelope>,
}

impl FileEntry {
    /// The file's name as given.
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }
}

/// A fatal problem: the merge cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeError {
    /// A file could not be read again, or changed while the merge ran.
    Io(String),
    /// An `i128` cell sum overflowed (impossible with values below 2^62 and
    /// fewer than 2^64 contributions, but checked).
    Overflow(String),
}

impl std::fmt::Display for MergeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MergeError::Io(m) | MergeError::Overflow(m) => f.write_str(m),
        }
    }
}

/// Exact running sums of every metric's cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Sums {
    /// Per metric, per cell.
    pub cells: Vec<Vec<i128>>,
}

impl Sums {
    /// Zero sums for `sizes[i]` cells of metric `i`.
    pub fn zeros(sizes: &[usize]) -> Self {
        Self {
            cells: sizes.iter().map(|n| vec![0; *n]).collect(),
        }
    }

    /// Adds (or, with `subtract`, subtracts) one contribution's values, with
    /// overflow checks. On overflow the sums are left unchanged.
    pub fn apply(&mut self, values: &[&[i64]], subtract: bool) -> Result<(), MergeError> {
        let op = |s: i128, v: i64| {
            let v = i128::from(v);
            if subtract {
                s.checked_sub(v)
            } else {
                s.checked_add(v)
            }
        };
        // First check every cell, then write: no half-applied contribution.
        for (m, (sums, vals)) in self.cells.iter().zip(values).enumerate() {
            for (c, (s, v)) in sums.iter().zip(vals.iter()).enumerate() {
                if op(*s, *v).is_none() {
                    return Err(MergeError::Overflow(format!(
                        "the sum of metric {} cell {} overflows 128 bits",
                        m + 1,
                        c + 1
                    )));
                }
            }
        }
        for (sums, vals) in self.cells.iter_mut().zip(values) {
            for (s, v) in sums.iter_mut().zip(vals.iter()) {
                *s = op(*s, *v).expect("checked above");
            }
        }
        Ok(())
    }
}

/// Everything the merge needs from the pool and round, verified.
pub struct Context<'a> {
    /// The round.
    pub round: &'a Round,
    /// Hex SHA-256 of the signed round payload.
    pub round_hash: &'a str,
    /// Roster key id → public key.
    pub roster: HashMap<String, PublicKey>,
    /// The round's noise plan, one per metric.
    pub plans: &'a [NoisePlan],
    /// Local mode: per metric, the values a contribution may carry (None
    /// for metrics whose bounds cannot be computed: the round is refused
    /// before any merge then).
    pub ranges: Vec<Option<ValueRange>>,
}

impl<'a> Context<'a> {
    /// The context for merging `round` (with its hash) in `pool`.
    pub fn new(pool: &Pool, round: &'a Round, round_hash: &'a str, plans: &'a [NoisePlan]) -> Self {
        let roster = pool
            .roster
            .iter()
            .filter_map(|m| {
                PublicKey::from_base64(&m.public_key)
                    .ok()
                    .filter(|k| k.key_id() == m.key_id)
                    .map(|k| (m.key_id.clone(), k))
            })
            .collect();
        let ranges = round
            .metrics
            .iter()
            .zip(plans)
            .map(|(m, p)| {
                coopbench_privacy::plan::cell_bounds(m)
                    .ok()
                    .map(|b| ValueRange::new(b, p.sigma))
            })
            .collect();
        Self {
            round,
            round_hash,
            roster,
            plans,
            ranges,
        }
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Verifies one contribution file's bytes against the round: envelope,
/// signature by a roster key, signer = claimed member, round id and hash,
/// pool, mode, toolkit version, sequence, metrics and grids, noise
/// parameters, value range. Returns the contribution or the first reason it
/// fails, in words.
pub fn verify(ctx: &Context<'_>, bytes: &[u8]) -> Result<Verified<Contribution>, (Reason, String)> {
    let env = Envelope::from_json(bytes).map_err(|e| (Reason::Malformed, e.to_string()))?;
    // Every roster key id among the signatures, once each, in order; other
    // signatures (anyone can add one) are ignored.
    let mut roster_ids: Vec<&str> = Vec::new();
    for id in env.signer_ids() {
        if ctx.roster.contains_key(id) && !roster_ids.contains(&id) {
            roster_ids.push(id);
        }
    }
    if roster_ids.is_empty() {
        let ids: Vec<String> = env.signer_ids().iter().map(|s| short(s)).collect();
        return Err((
            Reason::UnknownSigner,
            format!(
                "signed by a key that is not on the pool's roster (key id {})",
                if ids.is_empty() {
                    "none".into()
                } else {
                    ids.join(", ")
                }
            ),
        ));
    }
    let mut verified: Vec<Verified<Contribution>> = Vec::new();
    let mut failure = None;
    for id in roster_ids {
        let key = &ctx.roster[id];
        match signed::verify::<Contribution>(&env, key) {
            Ok(c) => verified.push(c),
            Err(e) => {
                if failure.is_none() {
                    failure = Some(verify_failure(e, key));
                }
            }
        }
    }
    // A member's contribution is the one its claimed member signed; a file
    // that only other roster members signed claims to be someone else.
    let Some(first) = verified.first().map(|c| c.signer.clone()) else {
        return Err(failure.expect("at least one roster key was tried"));
    };
    let c = match verified
        .iter()
        .position(|c| c.doc.member_key_id == c.signer)
    {
        Some(i) => verified.swap_remove(i),
        None => {
            let claimed = verified[0].doc.member_key_id.clone();
            return Err((
                Reason::SignerMismatch,
                format!(
                    "signed by roster key {} but claims to come from key {}",
                    short(&first),
                    short(&claimed)
                ),
            ));
        }
    };
    let doc = &c.doc;
    let round = ctx.round;
    if doc.round_id != round.id {
        return Err((
            Reason::WrongRound,
            format!(
                "made for round \"{}\", not \"{}\"",
                shown(&doc.round_id),
                shown(&round.id)
            ),
        ));
    }
    if doc.round_hash != ctx.round_hash {
        return Err((
            Reason::WrongRound,
            "made for a different version of the round (its round hash differs from the signed round's)".into(),
        ));
    }
    if doc.pool_id != round.pool_id {
        return Err((
            Reason::WrongRound,
            format!(
                "made for pool \"{}\", not \"{}\"",
                shown(&doc.pool_id),
                shown(&round.pool_id)
            ),
        ));
    }
    if doc.mode != round.mode {
        return Err((
            Reason::WrongRound,
            "its mode differs from the round's".into(),
        ));
    }
    match coopbench_protocol::contribution::is_toolkit_version(&doc.toolkit_version) {
        true => {}
        false => {
            return Err((
                Reason::Toolkit,
                format!(
                    "toolkit version \"{}\" is not a coopbench release ('coopbench x.y.z')",
                    shown(&doc.toolkit_version)
                ),
            ))
        }
    }
    if doc.sequence == 0 {
        return Err((
            Reason::BadSequence,
            "sequence number 0 (the first export is 1)".into(),
        ));
    }
    let problems = doc.problems_against(round, ctx.round_hash);
    if !problems.is_empty() {
        return Err((Reason::Grid, shown(&problems.join("; ")).to_string()));
    }
    for (((mv, m), plan), range) in doc
        .metrics
        .iter()
        .zip(&round.metrics)
        .zip(ctx.plans)
        .zip(&ctx.ranges)
    {
        let n = &mv.noise;
        if !close(n.sigma, plan.sigma)
            || !close(n.rho, plan.rho)
            || !close(n.l2_sensitivity, plan.l2)
        {
            return Err((
                Reason::Noise,
                format!(
                    "metric '{}': noise σ = {}, ρ = {}, L2 = {}; the round requires σ = {}, ρ = {}, L2 = {}",
                    m.name, n.sigma, n.rho, n.l2_sensitivity, plan.sigma, plan.rho, plan.l2
                ),
            ));
        }
        // Two-server shares are uniform modulo 2^64: any value is possible,
        // and no share can be range-checked. Local values are clipped cells
        // plus noise: outside the clip bounds ± 12σ they are not a member's
        // honest answer, whatever its data (a poisoning attempt).
        if round.mode == Mode::Local {
            let bad = match range {
                Some(r) => mv.values.iter().position(|v| !r.contains(*v)),
                None => mv
                    .values
                    .iter()
                    .position(|v| v.unsigned_abs() >= VALUE_LIMIT),
            };
            if let Some(i) = bad {
                let (lo, hi) = range.map_or((-(VALUE_LIMIT as i128), VALUE_LIMIT as i128), |r| {
                    (r.lo, r.hi)
                });
                return Err((
                    Reason::ValueRange,
                    format!(
                        "metric '{}' cell {}: a value outside [{lo}, {hi}], the round's clip bounds (in fixed point) widened by {RANGE_SIGMAS}σ of noise, which no clipped, noised figure reaches",
                        m.name,
                        i + 1
                    ),
                ));
            }
        }
    }
    if round.mode == Mode::TwoServer {
        check_sealed_seed(ctx, &c).map_err(|m| (Reason::SealedSeed, m))?;
    }
    Ok(c)
}

/// The reason a roster key's signature did not verify.
fn verify_failure(e: VerifyError, key: &PublicKey) -> (Reason, String) {
    match e {
        VerifyError::Malformed(m) => (Reason::Malformed, format!("not a DSSE envelope: {m}")),
        VerifyError::WrongType { found, .. } => (
            Reason::WrongType,
            format!(
                "not a contribution (its document type is {})",
                coopbench_text::shown(&found)
            ),
        ),
        VerifyError::BadSignature(_) | VerifyError::NotSignedBy(_) => (
            Reason::BadSignature,
            format!(
                "the signature of roster key {} does not verify: the file was altered after signing, or forged",
                key.fingerprint()
            ),
        ),
        VerifyError::BadPayload(m) => (
            Reason::BadPayload,
            format!("signed, but not a valid contribution document: {m}"),
        ),
    }
}

/// Two-server mode: the contribution's sealed seed is signed by the same
/// member, for this round, member, sequence and number of cells. (Only the
/// helper can open it; it checks the same facts again.)
fn check_sealed_seed(ctx: &Context<'_>, c: &Verified<Contribution>) -> Result<(), String> {
    let env = c
        .doc
        .sealed_seed
        .as_ref()
        .ok_or("a two-server contribution without its sealed seed")?;
    let key = ctx
        .roster
        .get(&c.signer)
        .ok_or("the sealed seed's member is not on the roster")?;
    let seed: Verified<SealedSeedDoc> = signed::verify(env, key)
        .map_err(|e| format!("the sealed seed is not signed by the contribution's member: {e}"))?;
    let d = &seed.doc;
    let cells: u64 = c.doc.metrics.iter().map(|m| m.values.len() as u64).sum();
    if d.round_id != ctx.round.id
        || d.round_hash != ctx.round_hash
        || d.member_key_id != c.signer
        || d.sequence != c.doc.sequence
        || d.cells != cells
    {
        return Err(
            "the sealed seed was made for another round, member, sequence or vector length".into(),
        );
    }
    Ok(())
}

/// The first 16 hex digits of a key id, for messages.
fn short(id: &str) -> String {
    id.chars().take(16).collect()
}

#[derive(Debug, Default)]
struct MemberFiles {
    /// Indices of the member's valid files.
    files: Vec<usize>,
    /// The file currently summed.
    in_sums: Option<usize>,
}

/// The streaming merge: feed files with [`Merger::add_file`], then
/// [`Merger::finish`].
pub struct Merger<'a> {
    ctx: Context<'a>,
    sums: Sums,
    files: Vec<FileEntry>,
    by_sha: HashMap<String, usize>,
    /// (member key id, SHA-256 of the signed payload) → the first file of
    /// that contribution.
    by_identity: HashMap<(String, String), usize>,
    members: BTreeMap<String, MemberFiles>,
    /// The largest file that can be a contribution to the round.
    max_bytes: u64,
}

/// The merge's result.
#[derive(Debug)]
pub struct Outcome {
    /// Every file in input order, with its fate.
    pub files: Vec<FileEntry>,
    /// Exact cell sums over the accepted contributions.
    pub sums: Sums,
    /// Per metric, Σ σᵢ² over the accepted contributions (fixed-point units²).
    pub sigma_sq: Vec<f64>,
    /// Number of accepted contributions (one per member at most).
    pub accepted: usize,
    /// Two-server mode: the accepted contributions' signed sealed seeds, by
    /// member key id (sorted).
    pub seeds: Vec<Envelope>,
}

impl Outcome {
    /// Counts of files not used, by reason code.
    pub fn not_used_by_reason(&self) -> std::collections::BTreeMap<&'static str, usize> {
        let mut out = std::collections::BTreeMap::new();
        for f in &self.files {
            if let Status::NotUsed { reason, .. } = f.status {
                *out.entry(reason.code()).or_insert(0) += 1;
            }
        }
        out
    }
}

impl<'a> Merger<'a> {
    /// A merge with nothing added yet.
    pub fn new(ctx: Context<'a>) -> Self {
        let sizes: Vec<usize> = ctx
            .round
            .metrics
            .iter()
            .map(|m| cell_count(&ctx.round.grid(m)))
            .collect();
        Self {
            sums: Sums::zeros(&sizes),
            max_bytes: coopbench_protocol::limits::contribution_max_bytes(ctx.round),
            ctx,
            files: Vec::new(),
            by_sha: HashMap::new(),
            by_identity: HashMap::new(),
            members: BTreeMap::new(),
        }
    }

    fn values(c: &Contribution) -> Vec<&[i64]> {
        c.metrics.iter().map(|m| m.values.as_slice()).collect()
    }

    /// Reads, verifies and (when it is the member's latest) sums one file.
    /// Invalid files are recorded, not errors; only a fatal problem (a file
    /// summed earlier changed on disk, an overflow) is.
    pub fn add_file(&mut self, path: &Path) -> Result<(), MergeError> {
        let idx = self.files.len();
        let mut entry = FileEntry {
            path: path.to_path_buf(),
            sha256: None,
            status: Status::Accepted,
            member: None,
            sigmas: Vec::new(),
            seed: None,
        };
        let bytes = match self.read_contribution(path) {
            Ok(b) => b,
            Err(e) => {
                entry.status = not_used(Reason::Unreadable, format!("cannot be read: {e}"), None);
                self.files.push(entry);
                return Ok(());
            }
        };
        let sha = sha256_hex(&bytes);
        entry.sha256 = Some(sha.clone());
        if let Some(&first) = self.by_sha.get(&sha) {
            entry.status = not_used(
                Reason::Duplicate,
                "identical bytes to another file: counted once".into(),
                Some(first),
            );
            self.files.push(entry);
            return Ok(());
        }
        self.by_sha.insert(sha, idx);
        let c = match verify(&self.ctx, &bytes) {
            Ok(c) => c,
            Err((reason, detail)) => {
                entry.status = not_used(reason, detail, None);
                self.files.push(entry);
                return Ok(());
            }
        };
        drop(bytes);
        let member = c.doc.member_key_id.clone();
        let identity = (member.clone(), c.hash.clone());
        if let Some(&first) = self.by_identity.get(&identity) {
            entry.status = not_used(
                Reason::Duplicate,
                "the same signed contribution as another file (same member, same signed content; other bytes): counted once".into(),
                Some(first),
            );
            self.files.push(entry);
            return Ok(());
        }
        self.by_identity.insert(identity, idx);
        let seq = c.doc.sequence;
        entry.member = Some((member.clone(), seq));
        entry.sigmas = c.doc.metrics.iter().map(|m| m.noise.sigma).collect();
        entry.seed = c.doc.sealed_seed.clone();
        self.files.push(entry);

        let state = self.members.entry(member.clone()).or_default();
        let prev_max = state
            .files
            .iter()
            .filter_map(|&i| self.files[i].member.as_ref().map(|m| m.1))
            .max();
        let in_sums = state.in_sums;
        state.files.push(idx);
        let (remove, add) = match prev_max {
            None => (None, true),
            Some(p) if seq > p => (in_sums, true),
            Some(p) if seq == p => (in_sums, false),
            Some(_) => (None, false),
        };
        if let Some(old) = remove {
            self.subtract_file(old)?;
        }
        if add {
            self.sums.apply(&Self::values(&c.doc), false)?;
        }
        let state = self.members.get_mut(&member).expect("just inserted");
        if remove.is_some() || add {
            state.in_sums = if add { Some(idx) } else { None };
        }
        Ok(())
    }

    /// Reads a contribution file, refusing one larger than any contribution
    /// to the round can be before reading it whole.
    fn read_contribution(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        let what = format!(
            "a contribution to round '{}' ({} cells)",
            self.ctx.round.id,
            self.sums_cells()
        );
        crate::files::read_bounded(path, self.max_bytes, &what)
    }

    fn sums_cells(&self) -> usize {
        self.sums.cells.iter().map(Vec::len).sum()
    }

    /// Reads file `idx` again and subtracts it from the sums.
    fn subtract_file(&mut self, idx: usize) -> Result<(), MergeError> {
        let entry = &self.files[idx];
        let path = entry.path.clone();
        let bytes = self.read_contribution(&path).map_err(|e| {
            MergeError::Io(format!(
                "{}: cannot read it again to subtract it (it was superseded or is in conflict): {e}",
                path.display()
            ))
        })?;
        if Some(sha256_hex(&bytes)) != entry.sha256 {
            return Err(MergeError::Io(format!(
                "{} changed on disk while the merge ran; run the merge again on files that stay put",
                path.display()
            )));
        }
        let c = verify(&self.ctx, &bytes).map_err(|(_, d)| {
            MergeError::Io(format!(
                "{}: no longer verifies on second reading: {d}",
                path.display()
            ))
        })?;
        self.sums.apply(&Self::values(&c.doc), true)
    }

    /// Settles every file's fate and returns the sums.
    pub fn finish(mut self) -> Outcome {
        let mut accepted = 0;
        let mut sigma_sq = vec![0.0; self.ctx.round.metrics.len()];
        let mut seeds = Vec::new();
        // BTreeMap order: by member key id, so the helper's batch is deterministic.
        let members = std::mem::take(&mut self.members);
        for (_, mf) in members {
            let seq_of = |i: usize| self.files[i].member.as_ref().map_or(0, |m| m.1);
            let max = mf.files.iter().map(|&i| seq_of(i)).max().unwrap_or(0);
            let top: Vec<usize> = mf
                .files
                .iter()
                .copied()
                .filter(|&i| seq_of(i) == max)
                .collect();
            let winner = (top.len() == 1).then(|| top[0]);
            debug_assert_eq!(winner, mf.in_sums, "streamed state matches the final rule");
            let mut status: Vec<(usize, Status)> = Vec::new();
            for &i in &mf.files {
                let s = seq_of(i);
                let same: Vec<usize> = mf
                    .files
                    .iter()
                    .copied()
                    .filter(|&j| j != i && seq_of(j) == s)
                    .collect();
                let st = if let Some(&other) = same.first() {
                    not_used(
                        Reason::Conflict,
                        format!(
                            "another contribution from the same member with different signed content has the same sequence number {s}: both are rejected (re-export with --supersede to settle it)"
                        ),
                        Some(other),
                    )
                } else if Some(i) == winner {
                    Status::Accepted
                } else {
                    let by = winner.unwrap_or(top[0]);
                    let note = if winner.is_some() {
                        String::new()
                    } else {
                        " (itself rejected as a conflict)".to_string()
                    };
                    not_used(
                        Reason::Superseded,
                        format!(
                            "sequence {s} is replaced by the same member's sequence {max}{note}"
                        ),
                        Some(by),
                    )
                };
                status.push((i, st));
            }
            for (i, st) in status {
                self.files[i].status = st;
            }
            if let Some(w) = winner {
                accepted += 1;
                if let Some(seed) = self.files[w].seed.take() {
                    seeds.push(seed);
                }
                for (acc, s) in sigma_sq.iter_mut().zip(&self.files[w].sigmas) {
                    *acc += s * s;
                }
            }
        }
        Outcome {
            files: self.files,
            sums: self.sums,
            sigma_sq,
            accepted,
            seeds,
        }
    }
}

fn not_used(reason: Reason, detail: String, other: Option<usize>) -> Status {
    Status::NotUsed {
        reason,
        detail,
        other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_are_exact_beyond_i64_and_overflow_is_caught() {
        let big = (1i64 << 62) - 1;
        let mut s = Sums::zeros(&[2]);
        for _ in 0..8 {
            s.apply(&[&[big, -big]], false).unwrap();
        }
        // 8 · (2^62 − 1) does not fit in i64; it is exact in i128.
        assert_eq!(s.cells[0][0], 8 * i128::from(big));
        assert_eq!(s.cells[0][1], -8 * i128::from(big));
        s.apply(&[&[big, -big]], true).unwrap();
        assert_eq!(s.cells[0][0], 7 * i128::from(big));

        let mut s = Sums {
            cells: vec![vec![0, i128::MAX - 5]],
        };
        let before = s.clone();
        let e = s.apply(&[&[1, 6]], false).unwrap_err();
        assert!(
            matches!(e, MergeError::Overflow(ref m) if m.contains("metric 1 cell 2")),
            "{e:?}"
        );
        assert_eq!(s, before, "sums unchanged after an overflow");
        let mut s = Sums {
            cells: vec![vec![i128::MIN + 1]],
        };
        assert!(s.apply(&[&[2]], true).is_err());
    }

    #[test]
    fn value_ranges_are_the_clip_bounds_plus_twelve_sigma() {
        let b = coopbench_privacy::clip::Bounds {
            lo: -100,
            hi: 30_000,
        };
        let r = ValueRange::new(b, 1000.5);
        // ⌈12 · 1000.5⌉ = 12006.
        assert_eq!((r.lo, r.hi), (-12_106, 42_006));
        assert!(r.contains(42_006) && r.contains(-12_106) && r.contains(0));
        assert!(!r.contains(42_007) && !r.contains(-12_107));
        assert!(!r.contains(i64::MAX) && !r.contains(i64::MIN));
        assert!(!r.contains((1 << 62) - 1));
        // The widest bounds and σ still fit (no overflow in i128).
        let wide = ValueRange::new(
            coopbench_privacy::clip::Bounds {
                lo: -(1 << 62),
                hi: 1 << 62,
            },
            1e18,
        );
        assert!(wide.contains(i64::MAX) && wide.contains(i64::MIN));
    }

    #[test]
    fn reason_codes_are_distinct() {
        let all = [
            Reason::Unreadable,
            Reason::Malformed,
            Reason::WrongType,
            Reason::UnknownSigner,
            Reason::BadSignature,
            Reason::BadPayload,
            Reason::SignerMismatch,
            Reason::WrongRound,
            Reason::Toolkit,
            Reason::BadSequence,
            Reason::Grid,
            Reason::Noise,
            Reason::ValueRange,
            Reason::SealedSeed,
            Reason::Duplicate,
            Reason::Superseded,
            Reason::Conflict,
        ];
        let mut codes: Vec<&str> = all.iter().map(|r| r.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
