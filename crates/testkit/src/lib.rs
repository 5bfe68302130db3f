//! Fixtures shared by coopbench's integration tests, in one place so that
//! every package's tests build the same pool and round: the bundled example
//! round, a pool with a roster, a snapshot of a directory tree (to show a
//! command wrote nothing), and the fuzz harnesses' byte mutations ([`mutate`]). Nothing here runs a binary: the tests that drive
//! the CLIs name their binaries with `CARGO_BIN_EXE_*` themselves.

pub mod mutate;

use coopbench_protocol::{Date, Pool, PoolPolicy, PublicKey, RosterEntry, Round, SigningKey};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The bundled example round's TOML (`examples/rounds/2025q4.toml`).
pub const EXAMPLE_ROUND_TOML: &str = include_str!("../../../examples/rounds/2025q4.toml");

/// The bundled example round, parsed.
pub fn example_round() -> Round {
    toml::from_str(EXAMPLE_ROUND_TOML).expect("the example round parses")
}

/// The pool `bakeries` of `association`, sunset 2029-12-31, default floors,
/// with `members` on the roster labelled "Bakery number 1", "Bakery number 2", ….
pub fn pool(association: &SigningKey, members: &[PublicKey]) -> Pool {
    Pool {
        purpose: "Benchmarks for independent bakeries.".into(),
        id: "bakeries".into(),
        name: "Independent Bakeries".into(),
        association_key: association.public().to_base64(),
        sunset: Date::parse("2029-12-31").expect("a date"),
        policy: PoolPolicy::default(),
        roster: members
            .iter()
            .enumerate()
            .map(|(i, k)| RosterEntry {
                key_id: k.key_id(),
                public_key: k.to_base64(),
                label: format!("Bakery number {}", i + 1),
            })
            .collect(),
    }
}

/// Every file under `dir` with its bytes (to show that a command wrote nothing).
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("a readable directory") {
            let p = e.expect("a directory entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).expect("a readable file");
                out.insert(p, bytes);
            }
        }
    }
    out
}
