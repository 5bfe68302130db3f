//! Two-server mode through the aggregator's CLI, with the three parties'
//! pieces made in the test: the association (a signed pool and round, its key
//! in a pool directory), the helper (its own state directory, created by
//! `helper keygen`, whose printed `[two_server]` block goes into the round),
//! and the members' contributions, built here with the noise switched off:
//! each member's exact clipped vector is masked with
//! `coopbench_twoserver::mask_vectors` under a fresh seed, the seed sealed to
//! the helper with `seal_seed` (round hash and member key id as associated
//! data), and the `SealedSeedDoc` signed with the member's key.
//!
//! Checked:
//! - exactness: merge step 1 (leader's batch) → `helper sum` → merge step 2
//!   publishes sums equal to the exact sums of the vectors, with values near
//!   ±2^59 (the revenue metric's clip bounds are widened to ±2^59, so the
//!   round's `sum_capacity` is 8 members), small and negative values; the
//!   leader's and helper's sums wrap modulo 2^64 on the way;
//! - the manifest states the mode, n_min, t and the slack, and each table's
//!   noise_sd is σ_m·√n / scale;
//! - HPKE binding: a sealed seed moved into another member's SealedSeedDoc
//!   (re-signed by that member) or made for another round does not open, and
//!   the helper's message names the batch file, the entry and the member;
//! - refusals, each exit 1 with nothing written and the helper's answered
//!   state unchanged: fewer than n_min (at the leader and at the helper), a
//!   second, different batch for the same round (the same batch again gets
//!   the byte-identical sum), a batch not signed by the association, a seed
//!   signed by a key not on the roster, a round naming another helper; and at
//!   the leader, a helper sum not signed by the helper or answering another
//!   batch.

use crate::common::association::{cell_counts, run_str, Run, Setup};
use arrow_array::{Array, Float64Array, RecordBatch};
use base64::Engine as _;
use coopbench_protocol::round::Clip;
use coopbench_protocol::signed::{self, Verified};
use coopbench_protocol::{
    Contribution, Envelope, HelperBatch, HelperSum, Mode, Round, SealedSeedDoc, SigningKey,
    TwoServer,
};
use coopbench_twoserver::{mask_vectors, seal_seed, seed_aad, Seed};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Roster size: `sum_capacity` at clip bounds ±2^59 is 2^62 / 2^59 = 8.
const ROSTER: usize = 8;
const N_MIN: u32 = 6;
/// n_min − t = 4 parties: the example round's ratio histograms (Δ = √2,
/// ρ = 1/8) keep a negligible slack only up to 4 parties.
const T: u32 = 2;
/// The revenue metric's clip bound.
const B: i64 = 1 << 59;
const HELPER_NAME: &str = "Smith & Co, accountants (test)";

/// Parses the `[two_server]` block `helper keygen` prints.
fn parse_block(stdout: &str) -> TwoServer {
    #[derive(serde::Deserialize)]
    struct Block {
        two_server: TwoServer,
    }
    toml::from_str::<Block>(stdout)
        .unwrap_or_else(|e| panic!("helper keygen's output is not a TOML block ({e}):\n{stdout}"))
        .two_server
}

/// Runs `helper keygen` into `dir` and returns the block it printed.
fn helper_keygen(cwd: &Path, dir: &Path, name: &str) -> TwoServer {
    let r = run_str(
        cwd,
        &[
            "helper",
            "keygen",
            "--dir",
            &dir.display().to_string(),
            "--name",
            name,
            "--n-min",
            &N_MIN.to_string(),
            "--t",
            &T.to_string(),
        ],
        &[],
    );
    r.expect(0);
    let block = parse_block(&r.stdout);
    assert_eq!((block.n_min, block.t), (N_MIN, T));
    assert_eq!(block.helper_name, name);
    assert!(block.problems().is_empty(), "{:?}", block.problems());
    block
}

/// The three parties' pieces.
struct Fixture {
    s: Setup,
    /// The helper's machine: `state/` holds its keys and answers.
    helper: tempfile::TempDir,
    block: TwoServer,
    hpke: [u8; 32],
}

fn two_server_round(r: &mut Round, block: &TwoServer) {
    r.mode = Mode::TwoServer;
    r.two_server = Some(block.clone());
    r.min_members = 5;
    r.min_members_total = 5;
    let rev = r.metrics.iter_mut().find(|m| m.name == "revenue").unwrap();
    rev.clip = Some(Clip {
        lo: -(B as f64),
        hi: B as f64,
    });
    // Noise that fits in 64-bit cells on top of bounds of ±2^59 (bound +
    // 40σ_m ≤ 2^63 - 1, checked by the noise plan) needs ρ ≈ 100 on revenue:
    // its weight goes from 3 to 800 of a total 805, and the round's ρ from 1
    // to 805/8, so every other metric keeps the ρ it had.
    let w_old: f64 = r.metrics.iter().map(|m| m.weight).sum();
    let rev = r.metrics.iter_mut().find(|m| m.name == "revenue").unwrap();
    let w_rev_old = rev.weight;
    rev.weight = 800.0;
    r.rho *= (w_old - w_rev_old + 800.0) / w_old;
}

impl Fixture {
    fn new() -> Self {
        let helper = tempfile::tempdir().unwrap();
        let block = helper_keygen(helper.path(), &helper.path().join("state"), HELPER_NAME);
        let hpke = block.verified_hpke_key().unwrap();
        let s = Setup::new(ROSTER, |r| two_server_round(r, &block));
        assert_eq!(
            coopbench_privacy::plan::sum_capacity(&s.round).unwrap(),
            ROSTER as u64
        );
        assert_eq!(
            s.plans.len(),
            s.round.metrics.len(),
            "the noise plan exists"
        );
        // The association's pool directory: only its key is needed to sign the batch.
        let key = s.path("assoc/association.key");
        std::fs::create_dir_all(key.parent().unwrap()).unwrap();
        std::fs::write(&key, s.association.pkcs8_secret()).unwrap();
        set_private(&key);
        Self {
            s,
            helper,
            block,
            hpke,
        }
    }

    fn state(&self) -> PathBuf {
        self.helper.path().join("state")
    }

    fn p(&self, name: &str) -> String {
        self.s.path(name).display().to_string()
    }

    /// Member `i`'s contribution with the exact vector `x`, masked under a
    /// fresh seed sealed with `aad`, the SealedSeedDoc signed by `doc_signer`
    /// (and naming that signer's key id).
    fn contribution_with(
        &self,
        i: usize,
        x: Vec<Vec<i64>>,
        seal: impl FnOnce(&Seed, &str) -> coopbench_twoserver::SealedSeed,
        doc_signer: &SigningKey,
    ) -> Contribution {
        let mut c = self.s.contribution(i, 1, x);
        let seed = Seed::fresh().unwrap();
        let mut vs: Vec<&mut Vec<i64>> = c.metrics.iter_mut().map(|m| &mut m.values).collect();
        mask_vectors(&mut vs, &seed);
        let sealed = seal(&seed, &c.member_key_id);
        let doc = SealedSeedDoc {
            round_id: self.s.round.id.clone(),
            round_hash: self.s.round_hash.clone(),
            member_key_id: doc_signer.public().key_id(),
            sequence: 1,
            cells: c.metrics.iter().map(|m| m.values.len() as u64).sum(),
            enc: b64(&sealed.enc),
            ciphertext: b64(&sealed.ciphertext),
        };
        c.sealed_seed = Some(signed::sign(&doc, doc_signer));
        c
    }

    /// Member `i`'s honest contribution of `x`.
    fn contribution(&self, i: usize, x: Vec<Vec<i64>>) -> Contribution {
        let hash = self.s.round_hash.clone();
        self.contribution_with(
            i,
            x,
            |seed, kid| seal_seed(&self.hpke, seed, &seed_aad(&hash, kid)).unwrap(),
            &self.s.members[i],
        )
    }

    /// Writes members `members`' honest contributions into `dir`.
    fn write_honest(&self, dir: &str, members: impl IntoIterator<Item = usize>) -> PathBuf {
        for i in members {
            let c = self.contribution(i, vectors(&self.s.round, i));
            self.s
                .write_signed(&format!("{dir}/member-{i}.json"), &c, &self.s.members[i]);
        }
        self.s.path(dir)
    }

    /// Merge step 1 over `inbox`: the batch goes to `batch`.
    fn merge_batch(&self, inbox: &Path, batch: &str) -> Run {
        run_str(
            self.s.dir.path(),
            &[
                "merge",
                "--dir",
                &self.p("assoc"),
                "--pool",
                &self.p("pool.sig.json"),
                "--round",
                &self.p("round.sig.json"),
                &inbox.display().to_string(),
                "--out",
                &self.p("out"),
                "--batch",
                &self.p(batch),
            ],
            &[],
        )
    }

    /// Merge step 2 over `inbox` with the helper's sum.
    fn merge_publish(&self, inbox: &Path, sum: &Path) -> Run {
        run_str(
            self.s.dir.path(),
            &[
                "merge",
                "--pool",
                &self.p("pool.sig.json"),
                "--round",
                &self.p("round.sig.json"),
                &inbox.display().to_string(),
                "--out",
                &self.p("out"),
                "--helper-sum",
                &sum.display().to_string(),
            ],
            &[],
        )
    }

    /// `helper sum` with the helper's own state directory `state`.
    fn helper_sum_in(&self, state: &Path, round: &Path, batch: &Path, out: &Path) -> Run {
        run_str(
            self.helper.path(),
            &[
                "helper",
                "sum",
                "--dir",
                &state.display().to_string(),
                "--pool",
                &self.p("pool.sig.json"),
                "--round",
                &round.display().to_string(),
                "--batch",
                &batch.display().to_string(),
                "-o",
                &out.display().to_string(),
            ],
            &[],
        )
    }

    fn helper_sum(&self, batch: &Path, out: &Path) -> Run {
        self.helper_sum_in(&self.state(), &self.s.path("round.sig.json"), batch, out)
    }

    /// The batch file's document, verified with the association key.
    fn read_batch(&self, path: &Path) -> HelperBatch {
        let env = Envelope::from_json(&std::fs::read(path).unwrap()).unwrap();
        let v: Verified<HelperBatch> = signed::verify(&env, &self.s.association.public()).unwrap();
        v.doc
    }

    /// Writes `batch` signed by `key` to `name`.
    fn write_batch(&self, name: &str, batch: &HelperBatch, key: &SigningKey) -> PathBuf {
        let p = self.s.path(name);
        std::fs::write(&p, signed::sign(batch, key).to_json()).unwrap();
        p
    }

    /// Member `i`'s fingerprint, as the helper names members (it never
    /// learns the association's labels: the signed pool carries keys only).
    fn who(&self, i: usize) -> String {
        self.s.members[i].public().fingerprint()
    }
}

#[cfg(unix)]
fn set_private(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
}
#[cfg(not(unix))]
fn set_private(_p: &Path) {}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// Every file under `dir` with its bytes (empty if `dir` does not exist).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// Member `i`'s exact clipped vectors, per metric of the example round
/// (revenue 18 cells at ±2^59 bounds, active 18, costs 6, three one-hot
/// histograms of 20, 10 and 20 bins, each with its no-value bin).
fn vectors(round: &Round, i: usize) -> Vec<Vec<i64>> {
    let counts = cell_counts(round);
    assert_eq!(counts, [18, 18, 6, 21, 11, 21], "the example round's grid");
    let k = i as i64;
    let revenue = (0..18)
        .map(|c| match c {
            0 => B,
            1 => -B,
            2 if i.is_multiple_of(2) => B,
            2 => -B,
            3 => B - 1024 * (k + 1),
            4 => -B + 1 + k,
            5 => -3 + k,
            6 => -k * 1000 - 7,
            7 => 0,
            8 => B - 1,
            9 => -(B - 2) + 4096 * k,
            c => k * 37 + c as i64 - 50,
        })
        .collect();
    let active = vec![1; 18];
    let costs = (0..6).map(|c| k * 1000 + c * 7).collect();
    // A value bin's one unit; the last, no-value bin stays 0.
    let one_hot = |bins: usize, at: usize| {
        let mut v = vec![0; bins + 1];
        v[at % bins] = 1;
        v
    };
    vec![
        revenue,
        active,
        costs,
        one_hot(20, i),
        one_hot(10, 3),
        one_hot(20, 7 * i + 1),
    ]
}

/// Exact per-cell sums of `members`' vectors.
fn exact_sums(round: &Round, members: &[usize]) -> Vec<Vec<i128>> {
    let mut out: Vec<Vec<i128>> = cell_counts(round).iter().map(|n| vec![0; *n]).collect();
    for &i in members {
        for (acc, v) in out.iter_mut().zip(vectors(round, i)) {
            for (a, x) in acc.iter_mut().zip(v) {
                *a += i128::from(x);
            }
        }
    }
    out
}

/// A published table's Float64 column, in row (cell) order.
fn column(path: &Path, name: &str) -> Vec<Option<f64>> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut out = Vec::new();
    for b in reader {
        let b: RecordBatch = b.unwrap();
        let col = b
            .column_by_name(name)
            .unwrap_or_else(|| panic!("{}: no column {name}", path.display()));
        let col = col.as_any().downcast_ref::<Float64Array>().unwrap();
        out.extend((0..col.len()).map(|i| (!col.is_null(i)).then(|| col.value(i))));
    }
    out
}

fn table(f: &Fixture, metric: &str) -> PathBuf {
    f.s.path("out")
        .join(metric)
        .join(format!("round={}", f.s.round.id))
        .join("data.parquet")
}

const ACCEPTED: [usize; 7] = [0, 1, 2, 3, 4, 5, 6];

/// Steps 1 to 3 for members 0..7 (member 7 stays away): the batch, the
/// helper's sum, and the published round.
fn publish(f: &Fixture) -> (PathBuf, PathBuf) {
    let inbox = f.write_honest("inbox", ACCEPTED);
    let m1 = f.merge_batch(&inbox, "batch.sig.json");
    m1.expect(0);
    assert!(
        m1.stdout.contains("nothing is published yet"),
        "{}",
        m1.stdout
    );
    assert!(
        !f.s.path("out/manifests").exists(),
        "step 1 publishes nothing"
    );
    let batch = f.s.path("batch.sig.json");
    let b = f.read_batch(&batch);
    assert_eq!(b.seeds.len(), ACCEPTED.len());
    let sum = f.s.path("helper-sum.sig.json");
    f.helper_sum(&batch, &sum).expect(0);
    let m2 = f.merge_publish(&inbox, &sum);
    m2.expect(0);
    (inbox, sum)
}

#[test]
fn published_sums_equal_the_exact_sums_at_the_limits_and_the_manifest_states_two_server() {
    let f = Fixture::new();
    let (inbox, sum_path) = publish(&f);
    let round = &f.s.round;
    let want = exact_sums(round, &ACCEPTED);

    // The leader's shares really wrap: their plain i128 sum is not the total.
    let mut leader_plain = vec![0i128; 18];
    for i in ACCEPTED {
        let env =
            Envelope::from_json(&std::fs::read(inbox.join(format!("member-{i}.json"))).unwrap())
                .unwrap();
        let c: Verified<Contribution> = signed::verify(&env, &f.s.members[i].public()).unwrap();
        for (a, v) in leader_plain.iter_mut().zip(&c.doc.metrics[0].values) {
            *a += i128::from(*v);
        }
    }
    assert_ne!(
        leader_plain, want[0],
        "the leader's shares alone give the sums"
    );

    // Sum metrics and the active count: estimate = exact sum / scale.
    let mut exact_cells = 0;
    for (mi, m) in round.metrics.iter().enumerate().take(3) {
        let est = column(&table(&f, &m.name), "estimate");
        assert_eq!(est.len(), want[mi].len(), "{}: one row per cell", m.name);
        for (c, (got, exact)) in est.iter().zip(&want[mi]).enumerate() {
            let got = got.unwrap_or_else(|| panic!("{} cell {c} suppressed", m.name));
            let expected = *exact as f64 / m.scale;
            assert_eq!(
                got.to_bits(),
                expected.to_bits(),
                "{} cell {c}: published {got}, exact sum {exact}",
                m.name
            );
            if (expected as i128) == *exact {
                // f64 holds this sum exactly: the check above is exact.
                exact_cells += 1;
            }
        }
    }
    assert!(exact_cells >= 38, "{exact_cells} cells checked exactly");
    // The near-limit sums really are near the limits.
    assert_eq!(want[0][0], 7 * i128::from(B));
    assert_eq!(want[0][1], -7 * i128::from(B));
    assert!(want[0][8] > i128::from(B) * 6 && (want[0][8] as f64) as i128 != want[0][8]);
    // Ratio histograms: members_noisy is the projected histogram's value
    // bins; with exact sums (7 members, 7 contributions) exactly 7.
    for m in &round.metrics[3..] {
        let mn = column(&table(&f, &m.name), "members_noisy");
        assert_eq!(mn, vec![Some(7.0)], "{}", m.name);
    }

    // The helper's sum names the members and the batch it answered.
    let env = Envelope::from_json(&std::fs::read(&sum_path).unwrap()).unwrap();
    let hs: Verified<HelperSum> = signed::verify(&env, &f.block.signing_key().unwrap()).unwrap();
    let mut ids: Vec<String> = ACCEPTED
        .iter()
        .map(|&i| f.s.members[i].public().key_id())
        .collect();
    ids.sort();
    assert_eq!(hs.doc.members, ids);

    // The manifest.
    let man: serde_json::Value = serde_json::from_slice(
        &std::fs::read(f.s.path("out/manifests").join(format!("{}.json", round.id))).unwrap(),
    )
    .unwrap();
    assert_eq!(man["round"]["mode"], "two-server");
    let ts = &man["privacy"]["two_server"];
    assert_eq!(ts["n_min"], N_MIN);
    assert_eq!(ts["t"], T);
    let slack: f64 = f.s.plans.iter().map(|p| p.slack).sum();
    assert!(
        slack > 0.0,
        "the ratio histograms' slack at 4 parties is small but not 0"
    );
    let got_slack = ts["slack"].as_f64().unwrap();
    assert!(
        (got_slack - slack).abs() <= 1e-12 * slack,
        "slack {got_slack} vs {slack}"
    );
    assert_eq!(ts["helper_name"], HELPER_NAME);
    let rho = man["privacy"]["rho"].as_f64().unwrap();
    assert!((rho - (round.rho + slack)).abs() <= 1e-12, "{rho}");
    let n = ACCEPTED.len() as f64;
    let tables = man["tables"].as_array().unwrap();
    assert_eq!(tables.len(), round.metrics.len());
    for (t, p) in tables.iter().zip(&f.s.plans) {
        let want_sd = p.sigma * n.sqrt() / p.scale;
        let got = t["noise_sd"].as_f64().unwrap();
        assert!(
            (got - want_sd).abs() <= 1e-12 * want_sd,
            "{}: noise_sd {got}, σ_m·√n/scale = {want_sd}",
            t["name"]
        );
        // Two-server: σ_m = σ_central / √(n_min − t), not the local σ.
        assert!((p.sigma * f64::from(N_MIN - T).sqrt() / p.sigma_central - 1.0).abs() < 1e-9);
    }
    // The Parquet footer says so too.
    let file = std::fs::File::open(table(&f, "costs")).unwrap();
    let meta = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let kv: BTreeMap<String, String> = meta
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .unwrap()
        .iter()
        .map(|k| (k.key.clone(), k.value.clone().unwrap_or_default()))
        .collect();
    assert_eq!(kv["mode"], "two-server");
    assert_eq!(kv["n_min"], N_MIN.to_string());
    assert_eq!(kv["t"], T.to_string());
}

/// Merge step 1 over members 0..7 after member `victim`'s file was replaced
/// by `bad`; returns the batch and the expected entry number of the victim.
fn batch_with(f: &Fixture, victim: usize, bad: Contribution) -> (PathBuf, usize) {
    let inbox = f.write_honest("inbox", ACCEPTED.into_iter().filter(|&i| i != victim));
    f.s.write_signed(
        &format!("inbox/member-{victim}.json"),
        &bad,
        &f.s.members[victim],
    );
    f.merge_batch(&inbox, "batch.sig.json").expect(0);
    let mut ids: Vec<String> = ACCEPTED
        .iter()
        .map(|&i| f.s.members[i].public().key_id())
        .collect();
    ids.sort();
    let at = ids
        .iter()
        .position(|k| *k == f.s.members[victim].public().key_id())
        .unwrap();
    (f.s.path("batch.sig.json"), at + 1)
}

fn assert_open_refused(f: &Fixture, batch: &Path, victim: usize, entry: usize) {
    let before = snapshot(&f.state());
    let out = f.helper.path().join("sum.sig.json");
    let r = f.helper_sum(batch, &out);
    r.expect(1);
    let fp = f.who(victim);
    assert!(
        !r.stderr.contains(&format!("Bakery number {}", victim + 1)),
        "the helper names a member by the association's label:\n{}",
        r.stderr
    );
    for needle in [
        batch.display().to_string(),
        format!("sealed seed {entry} of {}", ACCEPTED.len()),
        fp,
        "does not open".to_string(),
    ] {
        assert!(
            r.stderr.contains(&needle),
            "no {needle:?} in:\n{}",
            r.stderr
        );
    }
    assert!(!out.exists(), "a refused sum was written");
    assert_eq!(
        snapshot(&f.state().join("answered")),
        BTreeMap::new(),
        "a refused batch was recorded as answered"
    );
    let keys_and_pins = |m: BTreeMap<PathBuf, Vec<u8>>| {
        m.into_iter()
            .filter(|(k, _)| !k.starts_with("pools"))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(
        keys_and_pins(snapshot(&f.state())),
        keys_and_pins(before),
        "helper state changed"
    );
}

#[test]
fn a_sealed_seed_moved_to_another_members_file_does_not_open_and_the_helper_names_it() {
    let f = Fixture::new();
    // Member 1 copies member 2's sealed seed (enc, ciphertext) into its own
    // SealedSeedDoc, which it signs: the signature and roster checks pass, the
    // associated data (member 1's key id) does not match.
    let donor = f.contribution(2, vectors(&f.s.round, 2));
    let donor_doc: SealedSeedDoc = signed::verify(
        donor.sealed_seed.as_ref().unwrap(),
        &f.s.members[2].public(),
    )
    .map(|v: Verified<SealedSeedDoc>| v.doc)
    .unwrap();
    let mut bad = f.contribution(1, vectors(&f.s.round, 1));
    let mut doc: SealedSeedDoc =
        signed::verify(bad.sealed_seed.as_ref().unwrap(), &f.s.members[1].public())
            .map(|v: Verified<SealedSeedDoc>| v.doc)
            .unwrap();
    doc.enc = donor_doc.enc;
    doc.ciphertext = donor_doc.ciphertext;
    bad.sealed_seed = Some(signed::sign(&doc, &f.s.members[1]));
    let (batch, entry) = batch_with(&f, 1, bad);
    assert_open_refused(&f, &batch, 1, entry);
}

#[test]
fn a_sealed_seed_made_for_another_round_does_not_open_and_the_helper_names_it() {
    let f = Fixture::new();
    // The same helper, another round of the same pool.
    let mut other = f.s.round.clone();
    other.id = "2026q1".into();
    let other_hash = signed::verify::<Round>(
        &signed::sign(&other, &f.s.association),
        &f.s.association.public(),
    )
    .unwrap()
    .hash;
    assert_ne!(other_hash, f.s.round_hash);
    let victim = 4;
    let bad = f.contribution_with(
        victim,
        vectors(&f.s.round, victim),
        |seed, kid| seal_seed(&f.hpke, seed, &seed_aad(&other_hash, kid)).unwrap(),
        &f.s.members[victim],
    );
    let (batch, entry) = batch_with(&f, victim, bad);
    assert_open_refused(&f, &batch, victim, entry);
}

/// Asserts a refused `helper sum`: exit 1, no output, answered state unchanged.
fn assert_helper_refuses(f: &Fixture, round: &Path, batch: &Path, needles: &[&str]) -> Run {
    let before = snapshot(&f.state().join("answered"));
    let out = f.helper.path().join("refused-sum.sig.json");
    let r = f.helper_sum_in(&f.state(), round, batch, &out);
    r.expect(1);
    for n in needles {
        assert!(r.stderr.contains(n), "no {n:?} in:\n{}", r.stderr);
    }
    assert!(!out.exists(), "a refused sum was written");
    assert_eq!(
        snapshot(&f.state().join("answered")),
        before,
        "helper state changed"
    );
    r
}

#[test]
fn fewer_than_n_min_is_refused_by_the_leader_and_by_the_helper() {
    let f = Fixture::new();
    // Five contributions: enough for min_members_total (5), fewer than n_min (6).
    let inbox = f.write_honest("inbox", 0..5);
    let r = f.merge_batch(&inbox, "batch.sig.json");
    r.expect(1);
    assert!(r.stderr.contains("n_min"), "{}", r.stderr);
    assert!(
        !f.s.path("batch.sig.json").exists(),
        "a refused batch was written"
    );
    // A leader that signs such a batch anyway: the helper refuses it.
    let six = f.write_honest("six", 0..6);
    f.merge_batch(&six, "batch6.sig.json").expect(0);
    let mut b = f.read_batch(&f.s.path("batch6.sig.json"));
    b.seeds.truncate(5);
    let small = f.write_batch("batch5.sig.json", &b, &f.s.association);
    let r = assert_helper_refuses(&f, &f.s.path("round.sig.json"), &small, &["n_min = 6"]);
    assert!(r.stderr.contains("5 contributions"), "{}", r.stderr);
}

#[test]
fn a_second_batch_is_refused_and_the_same_batch_gets_the_same_sum() {
    let f = Fixture::new();
    let seven = f.write_honest("seven", ACCEPTED);
    f.merge_batch(&seven, "batch7.sig.json").expect(0);
    let sum7 = f.helper.path().join("sum7.sig.json");
    f.helper_sum(&f.s.path("batch7.sig.json"), &sum7).expect(0);
    let first = std::fs::read(&sum7).unwrap();
    let state = snapshot(&f.state());
    assert_eq!(
        state.keys().filter(|k| k.starts_with("answered")).count(),
        1,
        "{:?}",
        state.keys().collect::<Vec<_>>()
    );

    // The leader drops member 3 and asks again: the difference would be member 3.
    let six = f.write_honest("six", ACCEPTED.into_iter().filter(|&i| i != 3));
    f.merge_batch(&six, "batch6.sig.json").expect(0);
    let r = assert_helper_refuses(
        &f,
        &f.s.path("round.sig.json"),
        &f.s.path("batch6.sig.json"),
        &["already answered"],
    );
    assert!(r.stderr.contains("7 contributions"), "{}", r.stderr);
    assert_eq!(snapshot(&f.state()), state, "helper state changed");

    // The same batch again (a new process: the state is on disk).
    let again = f.helper.path().join("again.sig.json");
    f.helper_sum(&f.s.path("batch7.sig.json"), &again).expect(0);
    assert_eq!(
        std::fs::read(&again).unwrap(),
        first,
        "the same batch, another sum"
    );
    assert_eq!(snapshot(&f.state()), state, "helper state changed");
}

#[test]
fn a_batch_not_signed_by_the_association_is_refused() {
    let f = Fixture::new();
    let inbox = f.write_honest("inbox", ACCEPTED);
    f.merge_batch(&inbox, "batch.sig.json").expect(0);
    let b = f.read_batch(&f.s.path("batch.sig.json"));
    let forged = f.write_batch("forged.sig.json", &b, &f.s.members[0]);
    assert_helper_refuses(
        &f,
        &f.s.path("round.sig.json"),
        &forged,
        &["forged.sig.json", "not a batch signed by"],
    );
    // The genuine batch still gets its answer.
    f.helper_sum(
        &f.s.path("batch.sig.json"),
        &f.helper.path().join("ok.json"),
    )
    .expect(0);
}

#[test]
fn a_seed_signed_by_a_key_not_on_the_roster_is_refused() {
    let f = Fixture::new();
    let inbox = f.write_honest("inbox", ACCEPTED);
    f.merge_batch(&inbox, "batch.sig.json").expect(0);
    let mut b = f.read_batch(&f.s.path("batch.sig.json"));
    // A stranger's own, well-formed sealed seed, put in by the leader (a Sybil).
    let stranger = SigningKey::generate().unwrap();
    let seed = Seed::fresh().unwrap();
    let sealed = seal_seed(
        &f.hpke,
        &seed,
        &seed_aad(&f.s.round_hash, &stranger.public().key_id()),
    )
    .unwrap();
    let doc = SealedSeedDoc {
        round_id: f.s.round.id.clone(),
        round_hash: f.s.round_hash.clone(),
        member_key_id: stranger.public().key_id(),
        sequence: 1,
        cells: cell_counts(&f.s.round).iter().sum::<usize>() as u64,
        enc: b64(&sealed.enc),
        ciphertext: b64(&sealed.ciphertext),
    };
    b.seeds.push(signed::sign(&doc, &stranger));
    let sybil = f.write_batch("sybil.sig.json", &b, &f.s.association);
    assert_helper_refuses(
        &f,
        &f.s.path("round.sig.json"),
        &sybil,
        &["sybil.sig.json", "sealed seed 8 of 8", "not on pool"],
    );
}

#[test]
fn a_round_naming_another_helper_is_refused() {
    let f = Fixture::new();
    let inbox = f.write_honest("inbox", ACCEPTED);
    f.merge_batch(&inbox, "batch.sig.json").expect(0);
    let other_dir = tempfile::tempdir().unwrap();
    let other = helper_keygen(
        other_dir.path(),
        &other_dir.path().join("state"),
        "Other helper",
    );
    let mut round = f.s.round.clone();
    round.id = "2026q1".into();
    round.two_server = Some(other);
    let path = f.s.path("other-round.sig.json");
    std::fs::write(&path, signed::sign(&round, &f.s.association).to_json()).unwrap();
    let before = snapshot(&f.state());
    assert_helper_refuses(
        &f,
        &path,
        &f.s.path("batch.sig.json"),
        &["names another helper", "Other helper"],
    );
    assert_eq!(snapshot(&f.state()), before, "helper state changed");
}

#[test]
fn the_leader_refuses_a_sum_not_signed_by_the_helper_or_for_another_batch() {
    let f = Fixture::new();
    let inbox = f.write_honest("inbox", ACCEPTED);
    f.merge_batch(&inbox, "batch.sig.json").expect(0);
    let sum = f.helper.path().join("sum.sig.json");
    f.helper_sum(&f.s.path("batch.sig.json"), &sum).expect(0);
    let env = Envelope::from_json(&std::fs::read(&sum).unwrap()).unwrap();
    let genuine: HelperSum = signed::verify::<HelperSum>(&env, &f.block.signing_key().unwrap())
        .unwrap()
        .doc;
    let manifest =
        f.s.path("out/manifests")
            .join(format!("{}.json", f.s.round.id));

    // The same sum, signed by the association (or anyone but the helper).
    let forged = f.s.path("forged-sum.sig.json");
    std::fs::write(&forged, signed::sign(&genuine, &f.s.association).to_json()).unwrap();
    let r = f.merge_publish(&inbox, &forged);
    r.expect(1);
    assert!(
        r.stderr
            .contains("not a helper sum signed by the round's helper"),
        "{}",
        r.stderr
    );
    assert!(!manifest.exists() && !f.s.path("out/revenue").exists());

    // A genuine helper sum for another batch (six of the seven members): a
    // second helper process given the helper's keys but not its answers.
    let six = f.write_honest("six", ACCEPTED.into_iter().filter(|&i| i != 5));
    f.merge_batch(&six, "batch6.sig.json").expect(0);
    let copy = f.helper.path().join("copy");
    std::fs::create_dir_all(&copy).unwrap();
    for k in ["helper.key", "hpke.key"] {
        std::fs::copy(f.state().join(k), copy.join(k)).unwrap();
        set_private(&copy.join(k));
    }
    let sum6 = f.helper.path().join("sum6.sig.json");
    f.helper_sum_in(
        &copy,
        &f.s.path("round.sig.json"),
        &f.s.path("batch6.sig.json"),
        &sum6,
    )
    .expect(0);
    let r = f.merge_publish(&inbox, &sum6);
    r.expect(1);
    assert!(r.stderr.contains("another batch"), "{}", r.stderr);
    assert!(!manifest.exists() && !f.s.path("out/revenue").exists());

    // The genuine sum still publishes.
    f.merge_publish(&inbox, &sum).expect(0);
    assert!(manifest.exists());
}

/// `helper sum` documents "1 refused (nothing written)": on a first contact
/// from a pool, a refused batch must not pin the pool's association key
/// (trust on first use) nor write anything else into the helper's state.
#[test]
fn a_refused_first_batch_leaves_the_helper_state_untouched() {
    let f = Fixture::new();
    let inbox = f.write_honest("inbox", ACCEPTED);
    f.merge_batch(&inbox, "batch.sig.json").expect(0);
    let b = f.read_batch(&f.s.path("batch.sig.json"));
    let forged = f.write_batch("forged.sig.json", &b, &f.s.members[0]);
    let before = snapshot(&f.state());
    let out = f.helper.path().join("sum.sig.json");
    f.helper_sum(&forged, &out).expect(1);
    assert!(!out.exists());
    assert_eq!(
        snapshot(&f.state()).keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "a refused run wrote into the helper's state"
    );
}

/// The pool `f`'s association signs under another id (same key, same
/// roster): the leader's second pool.
fn second_pool(f: &Fixture, id: &str) -> PathBuf {
    let mut pool = f.s.pool.clone();
    pool.id = id.into();
    let p = f.s.path(&format!("{id}.sig.json"));
    std::fs::write(&p, signed::sign(&pool, &f.s.association).to_json()).unwrap();
    p
}

/// `helper sum` with another pool file.
fn helper_sum_with_pool(f: &Fixture, pool: &Path, round: &Path, batch: &Path, out: &Path) -> Run {
    run_str(
        f.helper.path(),
        &[
            "helper",
            "sum",
            "--dir",
            &f.state().display().to_string(),
            "--pool",
            &pool.display().to_string(),
            "--round",
            &round.display().to_string(),
            "--batch",
            &batch.display().to_string(),
            "-o",
            &out.display().to_string(),
        ],
        &[],
    )
}

/// The attack the helper exists to stop: after the helper answered the real
/// round, the leader signs a second pool ("bakeries2", same key, same roster)
/// and sends a batch for the real round without member 3, to subtract the two
/// sums. Refused, and so is every variant: the real round sent with the second
/// pool to a helper that never answered anything (the round belongs to
/// another pool), a round of the second pool (one pool per association key),
/// and the smaller batch for the real round under a new file name (the
/// answered record is keyed by the round hash the seeds are bound to).
#[test]
fn a_second_pool_under_the_association_key_gets_no_second_sum() {
    let f = Fixture::new();
    let seven = f.write_honest("seven", ACCEPTED);
    f.merge_batch(&seven, "batch7.sig.json").expect(0);
    f.helper_sum(
        &f.s.path("batch7.sig.json"),
        &f.helper.path().join("sum7.json"),
    )
    .expect(0);
    let answered = snapshot(&f.state().join("answered"));
    assert_eq!(
        answered.keys().collect::<Vec<_>>(),
        vec![&PathBuf::from(format!("{}.json", f.s.round_hash))],
        "the answer is recorded under the round hash"
    );
    // The pin: the association key's id names the file, the pool id is inside.
    let pin_file = f
        .state()
        .join("pools")
        .join(format!("{}.json", f.s.association.public().key_id()));
    let pin: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&pin_file).unwrap()).unwrap();
    assert_eq!(pin["pool_id"], "bakeries");

    let six = f.write_honest("six", ACCEPTED.into_iter().filter(|&i| i != 3));
    f.merge_batch(&six, "batch6.sig.json").expect(0);
    let pool2 = second_pool(&f, "bakeries2");
    let state = snapshot(&f.state());

    // 1. The attack: pool file bakeries2, the real round, a batch
    //    relabelled for pool bakeries2.
    let mut b = f.read_batch(&f.s.path("batch6.sig.json"));
    b.pool_id = "bakeries2".into();
    let relabelled = f.write_batch("batch6-bakeries2.sig.json", &b, &f.s.association);
    let out = f.helper.path().join("attack.json");
    let r = helper_sum_with_pool(&f, &pool2, &f.s.path("round.sig.json"), &relabelled, &out);
    r.expect(1);
    assert!(
        r.stderr
            .contains("belongs to pool 'bakeries', not 'bakeries2'"),
        "{}",
        r.stderr
    );
    assert!(!out.exists());

    // 2. A round of the second pool (its own id, signed by the same key).
    let mut round2 = f.s.round.clone();
    round2.pool_id = "bakeries2".into();
    round2.id = "2025q4b".into();
    let round2_path = f.s.path("round-bakeries2.sig.json");
    std::fs::write(
        &round2_path,
        signed::sign(&round2, &f.s.association).to_json(),
    )
    .unwrap();
    let mut b2 = f.read_batch(&f.s.path("batch6.sig.json"));
    b2.pool_id = "bakeries2".into();
    b2.round_id = round2.id.clone();
    b2.round_hash = signed::verify::<Round>(
        &signed::sign(&round2, &f.s.association),
        &f.s.association.public(),
    )
    .unwrap()
    .hash;
    let batch2 = f.write_batch("batch-bakeries2.sig.json", &b2, &f.s.association);
    let r = helper_sum_with_pool(&f, &pool2, &round2_path, &batch2, &out);
    r.expect(1);
    assert!(
        r.stderr.contains("is pinned to pool 'bakeries'")
            && r.stderr.contains("a second pool signed by the same key"),
        "{}",
        r.stderr
    );
    assert!(!out.exists());

    // 3. The smaller batch for the real round, with the real pool, under a
    //    new file name.
    let renamed = f.s.path("fresh-name.sig.json");
    std::fs::copy(f.s.path("batch6.sig.json"), &renamed).unwrap();
    assert_helper_refuses(
        &f,
        &f.s.path("round.sig.json"),
        &renamed,
        &["already answered", &f.s.round_hash[..16]],
    );
    assert_eq!(
        snapshot(&f.state()),
        state,
        "a refusal changed the helper's state"
    );

    // 4. A helper that never answered anything gets the real round with the
    //    second pool: the round belongs to another pool, and nothing is pinned.
    let fresh = tempfile::tempdir().unwrap();
    let fresh_state = fresh.path().join("state");
    std::fs::create_dir_all(&fresh_state).unwrap();
    for k in ["helper.key", "hpke.key"] {
        std::fs::copy(f.state().join(k), fresh_state.join(k)).unwrap();
        set_private(&fresh_state.join(k));
    }
    let r = run_str(
        fresh.path(),
        &[
            "helper",
            "sum",
            "--dir",
            &fresh_state.display().to_string(),
            "--pool",
            &pool2.display().to_string(),
            "--round",
            &f.p("round.sig.json"),
            "--batch",
            &relabelled.display().to_string(),
            "-o",
            &out.display().to_string(),
        ],
        &[],
    );
    r.expect(1);
    assert!(
        r.stderr.contains("belongs to pool 'bakeries'"),
        "{}",
        r.stderr
    );
    assert!(!fresh_state.join("pools").exists() && !fresh_state.join("answered").exists());
}

/// The answered record is on disk before the sum is: a helper killed right
/// after writing the record (as kill -9 would) has sent nothing, yet a second,
/// smaller batch for the round is refused afterwards, while the same batch
/// gets its sum.
#[test]
fn the_answer_is_recorded_before_the_sum_goes_out() {
    let f = Fixture::new();
    let seven = f.write_honest("seven", ACCEPTED);
    f.merge_batch(&seven, "batch7.sig.json").expect(0);
    let out = f.helper.path().join("sum7.json");
    let crashed = run_str(
        f.helper.path(),
        &[
            "helper",
            "sum",
            "--dir",
            &f.state().display().to_string(),
            "--pool",
            &f.p("pool.sig.json"),
            "--round",
            &f.p("round.sig.json"),
            "--batch",
            &f.p("batch7.sig.json"),
            "-o",
            &out.display().to_string(),
        ],
        &[("COOPBENCH_CRASH_AT", "after-record")],
    );
    assert_ne!(crashed.code, 0, "the crash hook did not fire");
    assert!(!out.exists(), "the sum went out before the record");
    assert!(f
        .state()
        .join("answered")
        .join(format!("{}.json", f.s.round_hash))
        .exists());

    let six = f.write_honest("six", ACCEPTED.into_iter().filter(|&i| i != 2));
    f.merge_batch(&six, "batch6.sig.json").expect(0);
    assert_helper_refuses(
        &f,
        &f.s.path("round.sig.json"),
        &f.s.path("batch6.sig.json"),
        &["already answered", "7 contributions"],
    );
    f.helper_sum(&f.s.path("batch7.sig.json"), &out).expect(0);
    let env = Envelope::from_json(&std::fs::read(&out).unwrap()).unwrap();
    let hs: Verified<HelperSum> = signed::verify(&env, &f.block.signing_key().unwrap()).unwrap();
    assert_eq!(hs.doc.members.len(), ACCEPTED.len());
}

/// A sealed seed carrying an extra signature by a stranger (listed first) is
/// still the member's: the helper ignores signatures by keys not on the
/// roster and tries every roster key id present.
#[test]
fn a_seed_with_an_extra_strangers_signature_is_still_summed() {
    let f = Fixture::new();
    let inbox = f.write_honest("inbox", ACCEPTED);
    f.merge_batch(&inbox, "batch.sig.json").expect(0);
    let mut b = f.read_batch(&f.s.path("batch.sig.json"));
    let stranger = SigningKey::generate().unwrap();
    let extra = Envelope::sign("application/x", &serde_json::json!({"x": 1}), &stranger).unwrap();
    b.seeds[0].signatures.insert(0, extra.signatures[0].clone());
    let batch = f.write_batch("extra-sig.sig.json", &b, &f.s.association);
    let out = f.helper.path().join("sum.json");
    f.helper_sum(&batch, &out).expect(0);
    let env = Envelope::from_json(&std::fs::read(&out).unwrap()).unwrap();
    let hs: Verified<HelperSum> = signed::verify(&env, &f.block.signing_key().unwrap()).unwrap();
    assert_eq!(hs.doc.members.len(), ACCEPTED.len());
}

/// The helper prints the pool's name from the (association-written) pool
/// file: escape sequences in it are shown escaped, never acted on.
#[test]
fn the_helper_shows_the_pools_text_escaped() {
    let f = Fixture::new();
    let mut pool = f.s.pool.clone();
    pool.name = "Bakeries\u{1b}[2J\u{9b}H\u{202e}\nFirst batch".into();
    std::fs::write(
        f.s.path("pool.sig.json"),
        signed::sign(&pool, &f.s.association).to_json(),
    )
    .unwrap();
    let inbox = f.write_honest("inbox", ACCEPTED);
    f.merge_batch(&inbox, "batch.sig.json").expect(0);
    let r = f.helper_sum(
        &f.s.path("batch.sig.json"),
        &f.helper.path().join("sum.json"),
    );
    r.expect(0);
    for c in ['\u{1b}', '\u{9b}', '\u{202e}'] {
        assert!(
            !r.stdout.contains(c) && !r.stderr.contains(c),
            "{c:?}:\n{}",
            r.stdout
        );
    }
    assert!(
        r.stdout
            .contains("Bakeries\\u{1b}[2J\\u{9b}H\\u{202e}\\nFirst batch"),
        "{}",
        r.stdout
    );
}

/// The two-server outputs get the member's output-target checks before any
/// work: a symbolic link as the batch, or `/dev/null` as the helper's sum, is
/// refused with exit 2, and the helper pins and records nothing.
#[test]
fn batch_and_sum_targets_that_are_not_files_are_refused_before_any_work() {
    let f = Fixture::new();
    let inbox = f.write_honest("inbox", ACCEPTED);
    let real = f.s.path("real-batch.json");
    std::fs::write(&real, b"keep").unwrap();
    std::os::unix::fs::symlink(&real, f.s.path("link.sig.json")).unwrap();
    let linked = f.merge_batch(&inbox, "link.sig.json");
    linked.expect(2);
    assert!(
        linked.stderr.contains("is a symbolic link"),
        "{}",
        linked.stderr
    );
    assert_eq!(std::fs::read(&real).unwrap(), b"keep");
    assert!(std::fs::symlink_metadata(f.s.path("link.sig.json"))
        .unwrap()
        .file_type()
        .is_symlink());

    f.merge_batch(&inbox, "batch.sig.json").expect(0);
    let before = snapshot(&f.state());
    let to_null = f.helper_sum(&f.s.path("batch.sig.json"), Path::new("/dev/null"));
    to_null.expect(2);
    assert!(
        to_null.stderr.contains("not a regular file"),
        "{}",
        to_null.stderr
    );
    assert_eq!(
        snapshot(&f.state()),
        before,
        "a refused output target changed the helper's state"
    );
}
