//! Shared fixtures for the aggregator's tests: an association with a signed
//! pool and round (the bundled example round), member keys, and signed
//! contributions whose "noised" values the test chooses, so every merge result
//! is known exactly.

#![allow(dead_code)]

use coopbench_privacy::plan::{noise_plans, NoisePlan};
use coopbench_protocol::contribution::DISCRETE_GAUSSIAN;
use coopbench_protocol::signed::{self, Verified};
use coopbench_protocol::{
    Contribution, MetricValues, NoiseParams, Pool, PublicKey, Round, SigningKey, TOOLKIT_VERSION,
};
use coopbench_testkit::{example_round, pool};
use std::path::{Path, PathBuf};
use std::process::Command;

/// An association, its members, a signed pool and a signed round in a scratch directory.
pub struct Setup {
    /// Scratch directory.
    pub dir: tempfile::TempDir,
    /// The association's key.
    pub association: SigningKey,
    /// Members' keys, all on the roster.
    pub members: Vec<SigningKey>,
    /// The pool.
    pub pool: Pool,
    /// The round.
    pub round: Round,
    /// The signed round's hash.
    pub round_hash: String,
    /// The round's noise plan.
    pub plans: Vec<NoisePlan>,
}

impl Setup {
    /// `n` members, the example round changed by `edit`.
    pub fn new(n: usize, edit: impl FnOnce(&mut Round)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let association = SigningKey::generate().unwrap();
        let members: Vec<SigningKey> = (0..n).map(|_| SigningKey::generate().unwrap()).collect();
        let publics: Vec<PublicKey> = members.iter().map(|k| k.public()).collect();
        let pool = pool(&association, &publics);
        let mut round = example_round();
        edit(&mut round);
        let env = signed::sign(&round, &association);
        let v: Verified<Round> = signed::verify(&env, &association.public()).unwrap();
        std::fs::write(
            dir.path().join("pool.sig.json"),
            signed::sign(&pool, &association).to_json(),
        )
        .unwrap();
        std::fs::write(dir.path().join("round.sig.json"), env.to_json()).unwrap();
        let plans = noise_plans(&round).unwrap_or_default();
        Self {
            dir,
            association,
            members,
            pool,
            round,
            round_hash: v.hash,
            plans,
        }
    }

    /// A path in the scratch directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A contribution for this round from member `i` with sequence `seq` and
    /// the given values per metric (in the round's order).
    pub fn contribution(&self, i: usize, seq: u32, values: Vec<Vec<i64>>) -> Contribution {
        Contribution {
            round_id: self.round.id.clone(),
            round_hash: self.round_hash.clone(),
            pool_id: self.round.pool_id.clone(),
            member_key_id: self.members[i].public().key_id(),
            toolkit_version: TOOLKIT_VERSION.into(),
            sequence: seq,
            mode: self.round.mode,
            metrics: self
                .round
                .metrics
                .iter()
                .zip(&self.plans)
                .zip(values)
                .map(|((m, p), values)| MetricValues {
                    name: m.name.clone(),
                    grid: self.round.grid(m),
                    values,
                    noise: NoiseParams {
                        mechanism: DISCRETE_GAUSSIAN.into(),
                        sigma: p.sigma,
                        rho: p.rho,
                        l2_sensitivity: p.l2,
                        scale: p.scale,
                    },
                })
                .collect(),
            sealed_seed: None,
        }
    }

    /// Signs `c` with `key` and writes it to `name` in the scratch directory.
    pub fn write_signed(&self, name: &str, c: &Contribution, key: &SigningKey) -> PathBuf {
        let p = self.path(name);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(&p, signed::sign(c, key).to_json()).unwrap();
        p
    }

    /// Member `i`'s signed contribution with `values(i, seq)`.
    pub fn write_member(
        &self,
        name: &str,
        i: usize,
        seq: u32,
        values: &dyn Fn(usize, u32) -> Vec<Vec<i64>>,
    ) -> PathBuf {
        let c = self.contribution(i, seq, values(i, seq));
        self.write_signed(name, &c, &self.members[i])
    }

    /// Runs `coopbench-aggregator merge` over `inputs` into `out`.
    pub fn merge(&self, inputs: &[&Path], out: &Path) -> Run {
        let mut args: Vec<String> = vec![
            "merge".into(),
            "--pool".into(),
            self.path("pool.sig.json").display().to_string(),
            "--round".into(),
            self.path("round.sig.json").display().to_string(),
        ];
        args.extend(inputs.iter().map(|p| p.display().to_string()));
        args.extend(["--out".into(), out.display().to_string()]);
        run(self.dir.path(), &args, &[])
    }
}

/// Cells of each metric of the example round, in order.
pub fn cell_counts(round: &Round) -> Vec<usize> {
    round
        .metrics
        .iter()
        .map(|m| coopbench_protocol::round::cell_count(&round.grid(m)))
        .collect()
}

/// The outcome of one run of the binary.
#[derive(Debug)]
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing the run when it differs.
    pub fn expect(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs the aggregator binary in `cwd` with `args` and extra environment.
pub fn run(cwd: &Path, args: &[String], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_coopbench-aggregator"));
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("RUST_BACKTRACE")
        .env("COOPBENCH_TODAY", "2026-11-23");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run coopbench-aggregator");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `run` with string slices.
pub fn run_str(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    run(cwd, &args, env)
}
