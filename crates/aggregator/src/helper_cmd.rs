//! `coopbench-aggregator helper keygen | sum`: the independent helper of
//! two-server mode. It runs on a machine that holds only the helper's keys and
//! state; it never sees a member's share of the association, only sealed
//! seeds, and it answers each round once.
//!
//! State directory:
//! ```text
//! helper.key               Ed25519 PKCS#8, 0600: signs the HPKE key and the sums
//! hpke.key                 X25519 secret (32 bytes), 0600: opens the sealed seeds
//! pools/<pool>.pin         the association key first seen for the pool (trust on first use)
//! answered/<pool>/<round>.json   the batch answered and the signed sum (fsync'd before output)
//! ```

use crate::cli::Stop;
use crate::files::{ensure_dir, path_id, write_atomic, write_new};
use crate::pool_dir::read_signed_pool;
use clap::{Args, Subcommand};
use coopbench_protocol::limits::{
    self, CONFIG_MAX_BYTES, LEDGER_MAX_BYTES, POOL_MAX_BYTES, ROUND_MAX_BYTES,
};
use coopbench_protocol::signed::{self, Verified};
use coopbench_protocol::two_server::hpke_key_message;
use coopbench_protocol::{
    canonical_json, round::cell_count, sha256_hex, Envelope, HelperBatch, HelperSum, Mode, Pool,
    Round, SealedSeedDoc, SigningKey,
};
use coopbench_twoserver as ts;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The helper of two-server mode: create its keys, and answer a round's batch.
///
/// The helper is an independent party (an accounting firm, a university,
/// another association). It promises not to collude with the association: it
/// never hands over its private keys, its sums other than to the association,
/// or a second sum for the same round.
#[derive(Debug, Subcommand)]
pub enum HelperCommand {
    Keygen(KeygenArgs),
    Sum(SumArgs),
}

/// Create the helper's signing key and HPKE key, and print the round section.
///
/// Writes DIR/helper.key and DIR/hpke.key (0600, never printed, never
/// overwritten) and prints the [two_server] block the association pastes into
/// a two-server round, with the helper's signature over its HPKE key.
///
/// Example:
///   coopbench-aggregator helper keygen --dir helper --name "Smith & Co, accountants"
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct KeygenArgs {
    /// The helper's state directory (created if needed).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// Who runs the helper, as members will read it.
    #[arg(long)]
    name: String,
    /// n_min to print in the block (the fewest contributions per round).
    #[arg(long, default_value_t = 30)]
    n_min: u32,
    /// t to print in the block (colluding members tolerated).
    #[arg(long, default_value_t = 0)]
    t: u32,
}

/// Answer the leader's batch for one round with the signed sum of the masks.
///
/// Checks: the pool is self-signed (and its association key is the one first
/// seen for this pool id); the round is signed by it, in two-server mode, and
/// names this helper's keys; the batch is signed by the association; every
/// sealed seed is signed by a member on the roster, once, for this round; every
/// seed opens with this helper's key and the round hash and member key id as
/// associated data; at least n_min contributions; and no other batch was
/// answered for this round before (the same batch again gets the same sum).
///
/// Example:
///   coopbench-aggregator helper sum --dir helper --pool pool.sig.json \
///       --round 2025q4.sig.json --batch batch-bakeries-2025q4.sig.json -o helper-sum.sig.json
///
/// Exit codes: 0 answered, 1 refused (nothing written), 2 usage or I/O error.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SumArgs {
    /// The helper's state directory.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The signed pool (pool.sig.json).
    #[arg(long, value_name = "POOL")]
    pool: PathBuf,
    /// The signed round.
    #[arg(long, value_name = "ROUND")]
    round: PathBuf,
    /// The leader's signed batch.
    #[arg(long, value_name = "BATCH")]
    batch: PathBuf,
    /// Where to write the signed sum.
    #[arg(short, long, value_name = "FILE")]
    out: PathBuf,
}

/// Runs a helper command.
pub fn run(cmd: HelperCommand) -> Result<(), Stop> {
    match cmd {
        HelperCommand::Keygen(a) => keygen(&a),
        HelperCommand::Sum(a) => sum(&a),
    }
}

fn key_paths(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join("helper.key"), dir.join("hpke.key"))
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn keygen(a: &KeygenArgs) -> Result<(), Stop> {
    if a.name.trim().is_empty() {
        return Err(Stop::usage("--name must say who runs the helper"));
    }
    let (sign_path, hpke_path) = key_paths(&a.dir);
    for p in [&sign_path, &hpke_path] {
        if p.exists() {
            return Err(Stop::refused(format!(
                "{} already exists: a helper key is never overwritten",
                p.display()
            )));
        }
    }
    ensure_dir(&a.dir).map_err(|e| Stop::usage(format!("{}: {e}", a.dir.display())))?;
    let signing = SigningKey::generate().map_err(|e| Stop::usage(e.to_string()))?;
    let hpke = ts::HelperKeyPair::generate().map_err(|e| Stop::usage(e.to_string()))?;
    write_new(&sign_path, signing.pkcs8_secret())
        .map_err(|e| Stop::usage(format!("cannot write {}: {e}", sign_path.display())))?;
    write_new(&hpke_path, hpke.secret_bytes())
        .map_err(|e| Stop::usage(format!("cannot write {}: {e}", hpke_path.display())))?;
    let public = hpke.public_bytes();
    let sig = signing.sign(&hpke_key_message(&public));
    println!(
        "# Helper keys written to {} (0600; never send them). Signing key fingerprint: {}",
        a.dir.display(),
        signing.public().fingerprint()
    );
    println!("# Paste this into a two-server round (mode = \"two-server\"):");
    println!("[two_server]");
    println!("n_min = {}", a.n_min);
    println!("t = {}", a.t);
    println!("helper_name = {}", toml_string(&a.name));
    println!("helper_signing_key = \"{}\"", signing.public().to_base64());
    println!("helper_hpke_key = \"{}\"", b64(&public));
    println!("helper_hpke_key_signature = \"{}\"", b64(&sig));
    Ok(())
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialise")
}

/// What the helper keeps of a round it answered.
#[derive(Debug, Serialize, Deserialize)]
struct Answered {
    round_id: String,
    round_hash: String,
    batch_hash: String,
    members: usize,
    /// The signed sum, exactly as delivered.
    sum: String,
}

/// Reads a file of at most `limit` bytes (`what` names it in the refusal).
fn read(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, Stop> {
    crate::files::read_bounded(path, limit, what)
        .map_err(|e| Stop::usage(format!("cannot read {}: {e}", path.display())))
}

fn load_keys(dir: &Path) -> Result<(SigningKey, ts::HelperKeyPair), Stop> {
    let (sign_path, hpke_path) = key_paths(dir);
    for p in [&sign_path, &hpke_path] {
        crate::files::check_private(p).map_err(Stop::usage)?;
    }
    let signing = SigningKey::from_pkcs8(&read(&sign_path, CONFIG_MAX_BYTES, "a key file")?)
        .map_err(|e| Stop::usage(format!("{}: {e}", sign_path.display())))?;
    let hpke = ts::HelperKeyPair::from_secret(&read(&hpke_path, CONFIG_MAX_BYTES, "a key file")?)
        .map_err(|e| Stop::usage(format!("{}: {e}", hpke_path.display())))?;
    Ok((signing, hpke))
}

/// Trust on first use: the pool's association key is pinned the first time a
/// batch of the pool is answered. Returns the pin file to write when there is
/// none yet (written only once the batch is answered, so a refused request
/// pins nothing); refuses a pool re-keyed under the same id.
fn check_pin(dir: &Path, pool: &Pool) -> Result<Option<PathBuf>, Stop> {
    let id = path_id("pool id", &pool.id).map_err(Stop::refused)?;
    let pin = dir.join("pools").join(format!("{id}.pin"));
    match crate::files::read_text_bounded(&pin, CONFIG_MAX_BYTES, "a pin file") {
        Ok(k) if k.trim() == pool.association_key.trim() => Ok(None),
        Ok(_) => Err(Stop::refused(format!(
            "pool '{}' is signed by another association key than the one this helper first saw ({}): refusing",
            pool.id,
            pin.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Some(pin)),
        Err(e) => Err(Stop::usage(format!("cannot read {}: {e}", pin.display()))),
    }
}

/// Writes the pin of a pool answered for the first time.
fn write_pin(pin: &Path, pool: &Pool) -> Result<(), Stop> {
    if let Some(dir) = pin.parent() {
        ensure_dir(dir).map_err(|e| Stop::usage(format!("{}: {e}", dir.display())))?;
    }
    write_atomic(pin, format!("{}\n", pool.association_key).as_bytes())
        .map_err(|e| Stop::usage(format!("cannot write {}: {e}", pin.display())))?;
    println!(
        "First batch from pool '{}': pinned its association key.",
        pool.id
    );
    Ok(())
}

fn sum(a: &SumArgs) -> Result<(), Stop> {
    let (signing, hpke) = load_keys(&a.dir)?;
    let pool = read_signed_pool(&read(&a.pool, POOL_MAX_BYTES, "a signed pool")?)
        .map_err(|e| Stop::refused(format!("{}: {e}", a.pool.display())))?
        .doc;
    let assoc = pool
        .association_public_key()
        .map_err(|e| Stop::refused(format!("{}: {e}", a.pool.display())))?;
    let round_env = Envelope::from_json(&read(&a.round, ROUND_MAX_BYTES, "a signed round")?)
        .map_err(|e| Stop::usage(format!("{}: {e}", a.round.display())))?;
    let round: Verified<Round> = signed::verify(&round_env, &assoc).map_err(|e| {
        Stop::refused(format!(
            "{}: not a round signed by pool '{}''s association: {e}",
            a.round.display(),
            pool.id
        ))
    })?;
    let r = &round.doc;
    let two = match (r.mode, &r.two_server) {
        (Mode::TwoServer, Some(t)) => t,
        _ => {
            return Err(Stop::refused(format!(
                "round '{}' is not in two-server mode",
                r.id
            )))
        }
    };
    if two.helper_signing_key != signing.public().to_base64()
        || two.helper_hpke_key != b64(&hpke.public_bytes())
    {
        return Err(Stop::refused(format!(
            "round '{}' names another helper ({}); this helper's keys are in {}",
            r.id,
            two.helper_name,
            a.dir.display()
        )));
    }
    let problems = r.problems();
    if !problems.is_empty() {
        return Err(Stop::refused_list(
            &format!("round '{}' is refused", r.id),
            &problems,
        ));
    }
    let new_pin = check_pin(&a.dir, &pool)?;
    println!(
        "Pool '{}' ({}): {} members on its roster, association key {}. Check that this is the real membership.",
        pool.id,
        pool.name,
        pool.roster.len(),
        assoc.fingerprint()
    );

    let batch_bytes = read(
        &a.batch,
        limits::helper_batch_max_bytes(pool.roster.len()),
        "a helper batch for this pool's roster",
    )?;
    let batch_env = Envelope::from_json(&batch_bytes)
        .map_err(|e| Stop::usage(format!("{}: {e}", a.batch.display())))?;
    let batch: Verified<HelperBatch> = signed::verify(&batch_env, &assoc).map_err(|e| {
        Stop::refused(format!(
            "{}: not a batch signed by pool '{}''s association (the leader): {e}",
            a.batch.display(),
            pool.id
        ))
    })?;
    let b = &batch.doc;
    if b.round_id != r.id || b.round_hash != round.hash || b.pool_id != pool.id {
        return Err(Stop::refused(format!(
            "{}: the batch is for round '{}' of pool '{}' (or another version of it), not for this round",
            a.batch.display(),
            b.round_id,
            b.pool_id
        )));
    }

    let answered_dir = a
        .dir
        .join("answered")
        .join(path_id("pool id", &pool.id).map_err(Stop::refused)?);
    let record = answered_dir.join(format!(
        "{}.json",
        path_id("round id", &r.id).map_err(Stop::refused)?
    ));
    if let Some(prev) = load_answered(&record)? {
        if prev.batch_hash == batch.hash {
            write_atomic(&a.out, prev.sum.as_bytes())
                .map_err(|e| Stop::usage(format!("cannot write {}: {e}", a.out.display())))?;
            println!(
                "This batch was answered before: wrote the same signed sum to {} again.",
                a.out.display()
            );
            return Ok(());
        }
        return Err(Stop::refused(format!(
            "round '{}' was already answered for another batch of {} contributions ({}): a second batch is refused, so that no one can learn a member's figures from the difference of two sums",
            r.id,
            prev.members,
            record.display()
        )));
    }

    let cells: Vec<usize> = r.metrics.iter().map(|m| cell_count(&r.grid(m))).collect();
    let total: usize = cells.iter().sum();
    let mut acc = vec![0u64; total];
    let mut members = BTreeSet::new();
    for (i, env) in b.seeds.iter().enumerate() {
        let entry = format!(
            "{}: sealed seed {} of {}",
            a.batch.display(),
            i + 1,
            b.seeds.len()
        );
        let signer = env
            .signer_ids()
            .into_iter()
            .find_map(|id| pool.member(id))
            .ok_or_else(|| {
                Stop::refused(format!(
                    "{entry}: signed by a key that is not on pool '{}''s roster",
                    pool.id
                ))
            })?;
        let key = coopbench_protocol::PublicKey::from_base64(&signer.public_key)
            .map_err(|e| Stop::refused(format!("{entry}: roster key: {e}")))?;
        let who = format!("{} ({})", signer.label, key.fingerprint());
        let seed: Verified<SealedSeedDoc> = signed::verify(env, &key)
            .map_err(|e| Stop::refused(format!("{entry} from {who}: {e}")))?;
        let d = &seed.doc;
        if d.member_key_id != seed.signer || d.round_id != r.id || d.round_hash != round.hash {
            return Err(Stop::refused(format!(
                "{entry} from {who}: made for another round or member"
            )));
        }
        if d.cells != total as u64 {
            return Err(Stop::refused(format!(
                "{entry} from {who}: covers {} cells; the round has {total}",
                d.cells
            )));
        }
        if !members.insert(d.member_key_id.clone()) {
            return Err(Stop::refused(format!(
                "{entry} from {who}: a second seed from the same member"
            )));
        }
        let sealed = ts::SealedSeed {
            enc: unb64(&d.enc)
                .ok_or_else(|| Stop::refused(format!("{entry}: enc is not base64")))?,
            ciphertext: unb64(&d.ciphertext)
                .ok_or_else(|| Stop::refused(format!("{entry}: ciphertext is not base64")))?,
        };
        let s = ts::open_seed(&hpke, &sealed, &ts::seed_aad(&round.hash, &d.member_key_id))
            .map_err(|e| Stop::refused(format!("{entry} from {who}: {e}")))?;
        ts::add_into(&mut acc, &ts::expand(&s, total));
    }
    if members.len() < two.n_min as usize {
        return Err(Stop::refused(format!(
            "the batch holds {} contributions; round '{}' may be merged only with at least n_min = {}",
            members.len(),
            r.id,
            two.n_min
        )));
    }
    let mut metrics = Vec::with_capacity(cells.len());
    let mut at = 0;
    for n in cells {
        metrics.push(acc[at..at + n].iter().map(|w| ts::to_signed(*w)).collect());
        at += n;
    }
    let doc = HelperSum {
        round_id: r.id.clone(),
        round_hash: round.hash.clone(),
        batch_hash: batch.hash.clone(),
        members: members.iter().cloned().collect(),
        metrics,
    };
    debug_assert_eq!(sha256_hex(&canonical_json(b).expect("json")), batch.hash);
    let sum_bytes = signed::sign(&doc, &signing).to_json();
    let rec = Answered {
        round_id: r.id.clone(),
        round_hash: round.hash.clone(),
        batch_hash: batch.hash.clone(),
        members: members.len(),
        sum: String::from_utf8(sum_bytes.clone()).expect("JSON is UTF-8"),
    };
    if let Some(pin) = &new_pin {
        write_pin(pin, &pool)?;
    }
    ensure_dir(&answered_dir)
        .map_err(|e| Stop::usage(format!("{}: {e}", answered_dir.display())))?;
    // The record goes to disk (fsync'd, create-new) before the sum goes out:
    // a crash in between leaves the round answered, never answerable twice.
    write_new(
        &record,
        &serde_json::to_vec_pretty(&rec).expect("record serialises"),
    )
    .map_err(|e| Stop::usage(format!("cannot write {}: {e}", record.display())))?;
    write_atomic(&a.out, &sum_bytes)
        .map_err(|e| Stop::usage(format!("cannot write {}: {e}", a.out.display())))?;
    println!(
        "Answered round '{}' of pool '{}': the masks of {} contributions summed; wrote {}.",
        r.id,
        pool.id,
        members.len(),
        a.out.display()
    );
    println!(
        "Send it to the association. This helper will not answer another batch for this round."
    );
    Ok(())
}

fn unb64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

fn load_answered(path: &Path) -> Result<Option<Answered>, Stop> {
    match crate::files::read_bounded(path, LEDGER_MAX_BYTES, "the helper's record of a round") {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| Stop::usage(format!("{} is damaged: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Stop::usage(format!("cannot read {}: {e}", path.display()))),
    }
}
