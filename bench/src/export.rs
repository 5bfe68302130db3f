//! `coopbench export` of the example round: a member set up once per data
//! directory, then each timed run does the whole export (validate, compute,
//! clip, noise, charge, sign) from scratch.

use crate::measure::{command, measure_with, run_ok, Measure};
use anyhow::{anyhow, bail, Context, Result};
use coopbench_protocol::{
    sha256_hex, signed, Date, Pool, PoolPolicy, PublicKey, RosterEntry, Round, SigningKey,
    TOOLKIT_VERSION,
};
use std::fs;
use std::path::{Path, PathBuf};

/// The bundled example round (Q4 2025: revenue by month × category, costs,
/// three ratios), as the association publishes it.
const EXAMPLE_ROUND: &str = include_str!("../../examples/rounds/2025q4.toml");

/// A member ready to export the example round.
pub struct Member {
    /// The member's state directory (key, pinned pool, ledger, stored exports).
    pub state: PathBuf,
    /// The signed example round.
    pub round: PathBuf,
    /// One generated member's costs.csv over the big file's ten years.
    pub costs: PathBuf,
    /// Where each export writes its contribution.
    pub out: PathBuf,
}

/// Sets up (once per data directory) a member key (`coopbench keygen`), a
/// pool with that member signed by a fresh association key, `coopbench join
/// --yes`, the example round signed, and a generated costs.csv from 2016-01.
pub fn setup(coopbench: &Path, data: &Path) -> Result<Member> {
    let dir = data.join("export");
    let m = Member {
        state: dir.join("state"),
        round: dir.join("round.sig.json"),
        costs: dir.join("member-01").join("costs.csv"),
        out: dir.join("contribution.json"),
    };
    // Redone when the example round or the toolkit version changes.
    let stamp = format!(
        "{} {TOOLKIT_VERSION}\n",
        sha256_hex(EXAMPLE_ROUND.as_bytes())
    );
    let ready = dir.join("ready");
    if fs::read_to_string(&ready).ok().as_deref() == Some(stamp.as_str()) {
        return Ok(m);
    }
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    eprintln!("setting up the exporting member in {} ...", dir.display());
    fs::create_dir_all(&dir)?;
    let cfg = coopbench_datagen::GenConfig {
        members: 1,
        months: 120,
        start: chrono::NaiveDate::from_ymd_opt(2016, 1, 1).expect("date"),
        seed: 1,
    };
    coopbench_datagen::generate(&cfg, &dir)?;
    if !m.costs.exists() {
        bail!("the generator wrote no {}", m.costs.display());
    }

    run_ok(command(&[
        coopbench.as_os_str(),
        "keygen".as_ref(),
        "--state-dir".as_ref(),
        m.state.as_os_str(),
    ]))?;
    let public = PublicKey::from_base64(fs::read_to_string(m.state.join("member.pub"))?.trim())
        .map_err(|e| anyhow!("member.pub: {e}"))?;
    let association = SigningKey::generate().map_err(|e| anyhow!("{e}"))?;
    let pool = pool(&association, &[public]);
    let pool_file = dir.join("pool.sig.json");
    fs::write(&pool_file, signed::sign(&pool, &association).to_json())?;
    run_ok(command(&[
        coopbench.as_os_str(),
        "join".as_ref(),
        "--yes".as_ref(),
        pool_file.as_os_str(),
        "--state-dir".as_ref(),
        m.state.as_os_str(),
    ]))?;
    let round: Round = toml::from_str(EXAMPLE_ROUND).context("the example round")?;
    fs::write(&m.round, signed::sign(&round, &association).to_json())?;
    fs::write(&ready, stamp)?;
    Ok(m)
}

/// A pool `bakeries` (the example round's) run by `association` with `members`
/// on its roster, sunset 2029-12-31.
pub fn pool(association: &SigningKey, members: &[PublicKey]) -> Pool {
    Pool {
        purpose: "Benchmarks for independent bakeries (coopbench benchmark).".into(),
        id: "bakeries".into(),
        name: "Benchmark bakeries".into(),
        association_key: association.public().to_base64(),
        sunset: Date::parse("2029-12-31").expect("date"),
        policy: PoolPolicy::default(),
        roster: members
            .iter()
            .enumerate()
            .map(|(i, k)| RosterEntry {
                key_id: k.key_id(),
                public_key: k.to_base64(),
                label: format!("Member {}", i + 1),
            })
            .collect(),
    }
}

/// Times `coopbench export --round round.sig.json SALES costs.csv`. Before each
/// run (not timed) the state's `exports/` and `ledger.jsonl` and the output
/// are deleted, so that the run computes, noises and charges afresh instead of
/// returning the stored contribution; after it, the ledger must hold a charge.
pub fn measure_export(coopbench: &Path, m: &Member, sales: &Path, runs: usize) -> Result<Measure> {
    let ledger = m.state.join("ledger.jsonl");
    let exports = m.state.join("exports");
    measure_with(
        runs,
        || {
            if exports.exists() {
                fs::remove_dir_all(&exports)?;
            }
            for f in [&ledger, &m.out] {
                if f.exists() {
                    fs::remove_file(f)?;
                }
            }
            Ok(command(&[
                coopbench.as_os_str(),
                "export".as_ref(),
                "--round".as_ref(),
                m.round.as_os_str(),
                sales.as_os_str(),
                m.costs.as_os_str(),
                "-o".as_ref(),
                m.out.as_os_str(),
                "--state-dir".as_ref(),
                m.state.as_os_str(),
            ]))
        },
        || {
            let charged = fs::read_to_string(&ledger).unwrap_or_default();
            if charged.lines().count() != 1 || !m.out.exists() {
                bail!(
                    "export did not charge the ledger once and write {}",
                    m.out.display()
                );
            }
            Ok(())
        },
    )
}
