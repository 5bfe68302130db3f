//! A signed pool and round with one member set up through the CLI, as the
//! association and a member would have them: the association's side is
//! signed here with the protocol crate (its CLI is the aggregator's job).

use super::{Dir, Run};
use coopbench_protocol::signed;
use coopbench_protocol::{Pool, PublicKey, Round, SigningKey};
use coopbench_testkit::{example_round, pool};
use std::path::PathBuf;

/// One member with a key, a pinned pool, a signed round and valid files.
pub struct Member {
    /// The member's working directory (files, round, pool).
    pub dir: Dir,
    /// The association's signing key.
    pub association: SigningKey,
    /// The member's public key.
    pub public: PublicKey,
}

/// Q4-2025 sales rows for a small bakery, net amounts in the hundreds.
pub fn sales() -> String {
    let mut s = String::from(super::SALES_HEADER);
    s.push('\n');
    let cats = ["bread", "pastry", "cakes", "savoury", "drinks", "other"];
    for (m, month) in ["2025-10", "2025-11", "2025-12"].iter().enumerate() {
        for (c, cat) in cats.iter().enumerate() {
            for day in [3, 17] {
                let amount = 400 + 37 * m + 11 * c + day;
                s.push_str(&format!(
                    "{month}-{day:02},{cat},store,{amount}.25,{},{},EUR,R{m}-{c}-{day}\n",
                    amount / 4,
                    amount / 9
                ));
            }
        }
    }
    // A row outside the period: ignored by the round.
    s.push_str("2025-09-30,bread,store,100.00,20,10,EUR,R-sep\n");
    s
}

/// Q4-2025 costs of the same bakery.
pub fn costs() -> String {
    let mut s = String::from(super::COSTS_HEADER);
    s.push('\n');
    for month in ["2025-10", "2025-11", "2025-12"] {
        s.push_str(&format!(
            "{month}-01,rent,1500.00,EUR,Landlord,INV-R-{month}\n"
        ));
        s.push_str(&format!("{month}-10,cogs,1900.00,EUR,Mill,INV-C-{month}\n"));
        s.push_str(&format!("{month}-28,wages,3000.00,EUR,,\n"));
    }
    s
}

impl Member {
    /// A member with a key (by `keygen`), on the roster of a pool it joined
    /// (by `join --yes`), holding the example round signed by the association
    /// as `round.sig.json` and valid `sales.csv` and `costs.csv`.
    pub fn new() -> Self {
        Self::with_round(|_| {})
    }

    /// As [`Member::new`], with the example round changed by `edit`.
    pub fn with_round(edit: impl FnOnce(&mut Round)) -> Self {
        let dir = Dir::new();
        let association = SigningKey::generate().unwrap();
        let m = Self {
            public: PublicKey([0; 32]),
            dir,
            association,
        };
        m.run(&["keygen"]).expect_code(0);
        let public = PublicKey::from_base64(
            std::fs::read_to_string(m.state().join("member.pub"))
                .unwrap()
                .trim(),
        )
        .unwrap();
        let m = Self { public, ..m };
        let others: Vec<PublicKey> = (0..4)
            .map(|_| SigningKey::generate().unwrap().public())
            .collect();
        let mut roster = vec![m.public];
        roster.extend(others);
        m.write_pool(&pool(&m.association, &roster));
        m.run(&["join", "--yes", "pool.sig.json"]).expect_code(0);
        let mut round = example_round();
        edit(&mut round);
        m.write_round(&round, &m.association);
        m.dir.write("sales.csv", sales());
        m.dir.write("costs.csv", costs());
        m
    }

    /// The member's state directory.
    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Signs and writes `pool.sig.json`.
    pub fn write_pool(&self, pool: &Pool) {
        self.dir.write(
            "pool.sig.json",
            signed::sign(pool, &self.association).to_json(),
        );
    }

    /// Signs `round` with `key` and writes `round.sig.json`.
    pub fn write_round(&self, round: &Round, key: &SigningKey) {
        self.dir
            .write("round.sig.json", signed::sign(round, key).to_json());
    }

    /// Runs `coopbench ARGS... --state-dir state` in the member's directory.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    /// As [`Member::run`] with extra environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--state-dir", "state"]);
        self.dir.coopbench_env(&all, env)
    }

    /// `export --round round.sig.json sales.csv costs.csv -o contribution.json`.
    pub fn export(&self, extra: &[&str]) -> Run {
        let mut args = vec![
            "export",
            "--round",
            "round.sig.json",
            "sales.csv",
            "costs.csv",
            "-o",
            "contribution.json",
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// `plan --round round.sig.json sales.csv costs.csv`.
    pub fn plan(&self) -> Run {
        self.run(&[
            "plan",
            "--round",
            "round.sig.json",
            "sales.csv",
            "costs.csv",
        ])
    }

    /// Starts `export ... -o OUT` as a child process (output discarded), for
    /// tests that kill it or run two at once.
    pub fn spawn_export(&self, out: &str) -> std::process::Child {
        std::process::Command::new(env!("CARGO_BIN_EXE_coopbench"))
            .args([
                "export",
                "--round",
                "round.sig.json",
                "sales.csv",
                "costs.csv",
                "-o",
                out,
                "--state-dir",
                "state",
            ])
            .current_dir(self.dir.path())
            .env("COOPBENCH_TODAY", "2026-11-23")
            .env_remove("COOPBENCH_CRASH_AT")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start coopbench export")
    }

    /// The ledger's lines (empty when there is no ledger).
    pub fn ledger_lines(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.state().join("ledger.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("every ledger line is JSON"))
            .collect()
    }

    /// Reads a file of the member's directory.
    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.path().join(name)).unwrap()
    }
}

impl Default for Member {
    fn default() -> Self {
        Self::new()
    }
}
