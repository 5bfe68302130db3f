//! `coopbench-aggregator merge` of N signed contributions × 2,160 cells, and
//! how much of it is reading, parsing and verifying the files.
//!
//! The inputs are built directly with the protocol crate (as the members'
//! `export` would sign them): a pool of N member keys, a round with one sum
//! metric over month × category × channel (120 × 6 × 3 cells), and one
//! contribution per member with arbitrary values within ±1e7 (inside the
//! round's clip bounds ± 12σ of noise, σ ≈ 9.9e5, which merge's range check
//! requires of local contributions) and exactly the round's noise parameters. They are cached per data directory and N.

use crate::measure::{command, measure_with, Measure};
use anyhow::{anyhow, bail, Context as _, Result};
use coopbench_protocol::contribution::DISCRETE_GAUSSIAN;
use coopbench_protocol::round::Mode;
use coopbench_protocol::signed::{self, Verified};
use coopbench_protocol::{
    canonical_json, sha256_hex, Contribution, Envelope, MetricValues, NoiseParams, Pool, PublicKey,
    Round, SigningKey, TOOLKIT_VERSION,
};
use std::cell::Cell;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The merge benchmark's round: ten years × 6 categories × 3 channels = 2,160 cells.
const ROUND: &str = r#"
purpose = "Benchmark round: market size by month, category and channel over ten years."
id = "bench-2016-2025"
pool_id = "bakeries"
mode = "local"
opens = "2026-04-01"
closes = "2026-12-31"
rho = 1.0
delta = 1e-6
currency = "EUR"
min_members = 5
min_members_total = 10
min_data_age_days = 90

[period]
start = "2016-01-01"
end = "2025-12-31"

[schemas]
sales = "sales.v1"
costs = "costs.v1"

[dimensions]
category = ["bread", "pastry", "cakes", "savoury", "drinks", "other"]
channel = ["store", "online", "wholesale"]

[[metrics]]
name = "revenue"
kind = "sum"
description = "net sales, EUR"
source = "sales"
measure = "net_amount"
dims = ["month", "category", "channel"]
clip = { lo = 0, hi = 30000 }
scale = 1
weight = 1
"#;

/// N contributions ready to merge.
pub struct MergeSet {
    /// Number of contributions (and of roster members).
    pub n: usize,
    /// The signed pool.
    pub pool: PathBuf,
    /// The signed round.
    pub round: PathBuf,
    /// The directory of `*.json` contributions.
    pub contributions: PathBuf,
    /// Cells per contribution.
    pub cells: usize,
}

/// splitmix64: arbitrary, reproducible values without another dependency.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A value in [-1e7, 1e7].
    fn value(&mut self) -> i64 {
        (self.next() % 20_000_001) as i64 - 10_000_000
    }
}

/// Writes (once per data directory and N) a pool of `n` fresh member keys, the
/// round, and one signed contribution per member.
pub fn prepare(data: &Path, n: usize) -> Result<MergeSet> {
    let round: Round = toml::from_str(ROUND).context("the merge benchmark's round")?;
    let plans = coopbench_privacy::plan::noise_plans(&round).map_err(|e| anyhow!(e))?;
    let metric = &round.metrics[0];
    let grid = round.grid(metric);
    let cells = coopbench_protocol::round::cell_count(&grid);
    let dir = data.join(format!("merge-{n}"));
    let set = MergeSet {
        n,
        pool: dir.join("pool.sig.json"),
        round: dir.join("round.sig.json"),
        contributions: dir.join("contributions"),
        cells,
    };
    // Reused only when made by this toolkit version for this very round and plan.
    let stamp = format!(
        "{n} {} {TOOLKIT_VERSION} {:?} values ±1e7\n",
        sha256_hex(&canonical_json(&round)?),
        plans
    );
    let stamp_file = dir.join("stamp");
    if fs::read_to_string(&stamp_file).ok().as_deref() == Some(stamp.as_str()) {
        return Ok(set);
    }
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    eprintln!(
        "generating {n} signed contributions × {cells} cells into {} ...",
        dir.display()
    );
    fs::create_dir_all(&set.contributions)?;
    let association = SigningKey::generate().map_err(|e| anyhow!("{e}"))?;
    let members = (0..n)
        .map(|_| SigningKey::generate().map_err(|e| anyhow!("{e}")))
        .collect::<Result<Vec<_>>>()?;
    let publics: Vec<PublicKey> = members.iter().map(|k| k.public()).collect();
    let pool = crate::export::pool(&association, &publics);
    fs::write(&set.pool, signed::sign(&pool, &association).to_json())?;
    let envelope = signed::sign(&round, &association);
    let round_hash = signed::verify::<Round>(&envelope, &association.public())
        .map_err(|e| anyhow!("{e}"))?
        .hash;
    fs::write(&set.round, envelope.to_json())?;

    let plan = plans[0];
    let mut mix = Mix(n as u64);
    for (i, key) in members.iter().enumerate() {
        let c = Contribution {
            round_id: round.id.clone(),
            round_hash: round_hash.clone(),
            pool_id: round.pool_id.clone(),
            member_key_id: key.public().key_id(),
            toolkit_version: TOOLKIT_VERSION.into(),
            sequence: 1,
            mode: Mode::Local,
            metrics: vec![MetricValues {
                name: metric.name.clone(),
                grid: grid.clone(),
                values: (0..cells).map(|_| mix.value()).collect(),
                noise: NoiseParams {
                    mechanism: DISCRETE_GAUSSIAN.into(),
                    sigma: plan.sigma,
                    rho: plan.rho,
                    l2_sensitivity: plan.l2,
                    scale: plan.scale,
                },
            }],
            sealed_seed: None,
        };
        let file = set.contributions.join(format!("member-{:06}.json", i + 1));
        fs::write(&file, signed::sign(&c, key).to_json())?;
    }
    fs::write(&stamp_file, stamp)?;
    Ok(set)
}

/// Times `coopbench-aggregator merge --pool --round CONTRIBUTIONS/ --out FRESH`;
/// each run writes into a fresh scratch directory (merge never overwrites) and
/// must publish with all N contributions accepted (from the manifest).
pub fn measure_merge(aggregator: &Path, set: &MergeSet, runs: usize) -> Result<Measure> {
    let scratch = std::env::temp_dir().join(format!("coopbench-bench-{}", std::process::id()));
    let run = Cell::new(0usize);
    let out = || scratch.join(format!("merge-{}-{}", set.n, run.get()));
    let m = measure_with(
        runs,
        || {
            run.set(run.get() + 1);
            let out = out();
            if out.exists() {
                fs::remove_dir_all(&out)?;
            }
            Ok(command(&[
                aggregator.as_os_str(),
                "merge".as_ref(),
                "--pool".as_ref(),
                set.pool.as_os_str(),
                "--round".as_ref(),
                set.round.as_os_str(),
                set.contributions.as_os_str(),
                "--out".as_ref(),
                out.as_os_str(),
            ]))
        },
        || {
            let out = out();
            let manifest = fs::read_dir(out.join("manifests"))
                .ok()
                .and_then(|mut d| d.next())
                .and_then(|e| e.ok())
                .map(|e| fs::read_to_string(e.path()).unwrap_or_default())
                .unwrap_or_default();
            fs::remove_dir_all(&out)?;
            let accepted = manifest_accepted(&manifest);
            if accepted != Some(set.n) {
                bail!(
                    "merge of {} contributions accepted {accepted:?} of them (from its manifest)",
                    set.n
                );
            }
            Ok(())
        },
    );
    let _ = fs::remove_dir_all(&scratch);
    m
}

/// The manifest's `"accepted": N` count (the manifest is pretty JSON).
fn manifest_accepted(manifest: &str) -> Option<usize> {
    let at = manifest.find("\"accepted\":")? + "\"accepted\":".len();
    let digits: String = manifest[at..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// In-process time of the merge's per-file front end over every contribution.
pub struct FrontEnd {
    /// Reading the files' bytes.
    pub read: f64,
    /// `Envelope::from_json`.
    pub envelope: f64,
    /// `signed::verify::<Contribution>`: base64, Ed25519, payload JSON, SHA-256.
    pub verify: f64,
}

impl FrontEnd {
    /// All three, seconds.
    pub fn total(&self) -> f64 {
        self.read + self.envelope + self.verify
    }
}

/// Times, in this process and one thread, reading + `Envelope::from_json` +
/// `signed::verify::<Contribution>` (roster key looked up by key id, as merge
/// does) over every contribution of `set`.
pub fn front_end(set: &MergeSet) -> Result<FrontEnd> {
    let pool_env = Envelope::from_json(&fs::read(&set.pool)?).map_err(|e| anyhow!("{e}"))?;
    let pool: Pool = signed::peek(&pool_env).map_err(|e| anyhow!("{e}"))?;
    let roster: HashMap<String, PublicKey> = pool
        .roster
        .iter()
        .map(|m| Ok((m.key_id.clone(), PublicKey::from_base64(&m.public_key)?)))
        .collect::<Result<_, coopbench_protocol::KeyError>>()?;
    let mut files: Vec<PathBuf> = fs::read_dir(&set.contributions)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    let mut t = FrontEnd {
        read: 0.0,
        envelope: 0.0,
        verify: 0.0,
    };
    for f in &files {
        let start = Instant::now();
        let bytes = fs::read(f)?;
        let read = Instant::now();
        let env = Envelope::from_json(&bytes).map_err(|e| anyhow!("{}: {e}", f.display()))?;
        let parsed = Instant::now();
        let key = env
            .signer_ids()
            .into_iter()
            .find_map(|id| roster.get(id))
            .with_context(|| format!("{}: no roster key", f.display()))?;
        let c: Verified<Contribution> =
            signed::verify(&env, key).map_err(|e| anyhow!("{}: {e}", f.display()))?;
        let verified = Instant::now();
        std::hint::black_box(&c);
        t.read += (read - start).as_secs_f64();
        t.envelope += (parsed - read).as_secs_f64();
        t.verify += (verified - parsed).as_secs_f64();
    }
    if files.len() != set.n {
        bail!(
            "{} holds {} files, not {}",
            set.contributions.display(),
            files.len(),
            set.n
        );
    }
    Ok(t)
}
