//! `coopbench-aggregator helper keygen | sum`: the independent helper of
//! two-server mode. It runs on a machine that holds only the helper's keys and
//! state; it never sees a member's share of the association, only sealed
//! seeds, and it answers each round once.
//!
//! State directory:
//! ```text
//! helper.key                  Ed25519 PKCS#8, 0600: signs the HPKE key and the sums
//! hpke.key                    X25519 secret (32 bytes), 0600: opens the sealed seeds
//! pools/<key id>.json         the one pool id answered for an association key (its key id:
//!                             hex SHA-256 of the key), pinned on first use
//! answered/<round hash>.json  the batch answered for a round and the signed sum
//!                             (created, fsync'd, before the sum is written)
//! ```
//!
//! Every record is keyed by what the cryptography binds, never by a name the
//! association chooses: a member's sealed seed opens only with the round hash
//! (and the member's key id) as associated data, so "this round was answered"
//! is recorded under the round hash. A second batch for the same round (a
//! subset of the members, whose sum subtracted from the first reveals the
//! missing member) is refused whatever the pool, round or batch files are
//! called. The association key is pinned to exactly one pool id, and a round
//! must belong to the pool it is sent with (`guardrails::against_pool`), so a
//! second pool signed by the same key (another id, another roster) gets
//! nothing.

use crate::files::{ensure_dir, write_atomic, write_new};
use crate::pool_dir::read_signed_pool;
use clap::{Args, Subcommand};
use coopbench_cli::Stop;
use coopbench_protocol::limits::{
    self, CONFIG_MAX_BYTES, LEDGER_MAX_BYTES, POOL_MAX_BYTES, ROUND_MAX_BYTES,
};
use coopbench_protocol::signed::{self, Verified};
use coopbench_protocol::two_server::hpke_key_message;
use coopbench_protocol::{
    canonical_json, guardrails, round::cell_count, sha256_hex, Envelope, HelperBatch, HelperSum,
    Mode, Pool, Round, SealedSeedDoc, SigningKey,
};
use coopbench_text as text;
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
/// Checks: the pool is self-signed and well formed, and its association key is
/// pinned to this pool id (the first answered batch pins it; a second pool id
/// under the same key, or this pool id under another key, is refused); the
/// round is signed by that key, belongs to this pool (id, sunset, floors), is
/// in two-server mode and names this helper's keys; the batch is signed by the
/// association and names this round and pool; every sealed seed is signed by a
/// member on the roster (signatures by other keys are ignored), once, for this
/// round; every seed opens with this helper's key and the round hash and member
/// key id as associated data; at least n_min contributions; and no other batch
/// was answered for this round hash before (the same batch again gets the same
/// sum). The record of the answer is written before the sum.
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
                text::path(&p)
            )));
        }
    }
    ensure_dir(&a.dir).map_err(|e| Stop::usage(format!("{}: {e}", text::path(&a.dir))))?;
    let signing = SigningKey::generate().map_err(|e| Stop::usage(e.to_string()))?;
    let hpke = ts::HelperKeyPair::generate().map_err(|e| Stop::usage(e.to_string()))?;
    write_new(&sign_path, signing.pkcs8_secret())
        .map_err(|e| Stop::usage(format!("cannot write {}: {e}", text::path(&sign_path))))?;
    write_new(&hpke_path, hpke.secret_bytes())
        .map_err(|e| Stop::usage(format!("cannot write {}: {e}", text::path(&hpke_path))))?;
    let public = hpke.public_bytes();
    let sig = signing.sign(&hpke_key_message(&public));
    coopbench_cli::outln!(
        "# Helper keys written to {} (0600; never send them). Signing key fingerprint: {}",
        text::path(&a.dir),
        signing.public().fingerprint()
    );
    coopbench_cli::outln!("# Paste this into a two-server round (mode = \"two-server\"):");
    coopbench_cli::outln!("[two_server]");
    coopbench_cli::outln!("n_min = {}", a.n_min);
    coopbench_cli::outln!("t = {}", a.t);
    coopbench_cli::outln!("helper_name = {}", toml_string(&a.name));
    coopbench_cli::outln!("helper_signing_key = \"{}\"", signing.public().to_base64());
    coopbench_cli::outln!("helper_hpke_key = \"{}\"", b64(&public));
    coopbench_cli::outln!("helper_hpke_key_signature = \"{}\"", b64(&sig));
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
        .map_err(|e| Stop::usage(format!("cannot read {}: {e}", text::path(path))))
}

fn load_keys(dir: &Path) -> Result<(SigningKey, ts::HelperKeyPair), Stop> {
    let (sign_path, hpke_path) = key_paths(dir);
    for p in [&sign_path, &hpke_path] {
        crate::files::check_private(p).map_err(Stop::usage)?;
    }
    let signing = SigningKey::from_pkcs8(&read(&sign_path, CONFIG_MAX_BYTES, "a key file")?)
        .map_err(|e| Stop::usage(format!("{}: {e}", text::path(&sign_path))))?;
    let hpke = ts::HelperKeyPair::from_secret(&read(&hpke_path, CONFIG_MAX_BYTES, "a key file")?)
        .map_err(|e| Stop::usage(format!("{}: {e}", text::path(&hpke_path))))?;
    Ok((signing, hpke))
}

/// What the helper pins for an association key: the one pool it answers for.
#[derive(Debug, Serialize, Deserialize)]
struct PoolPin {
    /// The association's public key, base64.
    association_key: String,
    /// The only pool id this key may send batches for.
    pool_id: String,
    /// Key ids on the roster when the pool was last answered.
    roster: BTreeSet<String>,
}

fn pins_dir(dir: &Path) -> PathBuf {
    dir.join("pools")
}

/// The pin file of an association key (named by its key id, never by a pool id).
fn pin_path(dir: &Path, key: &coopbench_protocol::PublicKey) -> PathBuf {
    pins_dir(dir).join(format!("{}.json", key.key_id()))
}

fn load_pin(path: &Path) -> Result<Option<PoolPin>, Stop> {
    match crate::files::read_bounded(path, CONFIG_MAX_BYTES, "a pin file") {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| Stop::usage(format!("{} is damaged: {e}", text::path(path)))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Stop::usage(format!(
            "cannot read {}: {e}",
            text::path(path)
        ))),
    }
}

/// Trust on first use, one pool per association key: the first answered
/// batch pins the key to its pool id. Refuses a pool whose key is pinned to
/// another pool id, and a pool id already pinned to another key. Returns the
/// roster key ids answered for before (None on first contact); nothing is
/// written here (the pin is written only once a batch is answered, so a
/// refused request pins nothing).
fn check_pin(
    dir: &Path,
    pool: &Pool,
    key: &coopbench_protocol::PublicKey,
) -> Result<Option<BTreeSet<String>>, Stop> {
    let own = pin_path(dir, key);
    if let Some(pin) = load_pin(&own)? {
        if pin.pool_id != pool.id {
            return Err(Stop::refused(format!(
                "association key {} is pinned to pool '{}' ({}); this pool file is '{}', a second pool signed by the same key: refusing, so that no pool can be used to ask for a round's sum again or with another roster",
                key.fingerprint(),
                text::shown(&pin.pool_id),
                text::path(&own),
                text::shown(&pool.id)
            )));
        }
        return Ok(Some(pin.roster));
    }
    let others = match std::fs::read_dir(pins_dir(dir)) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => Vec::new(),
    };
    for p in others {
        if let Some(pin) = load_pin(&p)? {
            if pin.pool_id == pool.id && pin.association_key.trim() != pool.association_key.trim() {
                return Err(Stop::refused(format!(
                    "pool '{}' is signed by another association key than the one this helper first saw ({}): refusing",
                    text::shown(&pool.id),
                    text::path(&p)
                )));
            }
        }
    }
    Ok(None)
}

/// Writes (or updates) the pin of the pool just answered.
fn write_pin(dir: &Path, pool: &Pool, key: &coopbench_protocol::PublicKey) -> Result<(), Stop> {
    let path = pin_path(dir, key);
    let pins = pins_dir(dir);
    ensure_dir(&pins).map_err(|e| Stop::usage(format!("{}: {e}", text::path(&pins))))?;
    let pin = PoolPin {
        association_key: pool.association_key.trim().to_string(),
        pool_id: pool.id.clone(),
        roster: pool.roster.iter().map(|m| m.key_id.clone()).collect(),
    };
    write_atomic(
        &path,
        &serde_json::to_vec_pretty(&pin).expect("pin serialises"),
    )
    .map_err(|e| Stop::usage(format!("cannot write {}: {e}", text::path(&path))))
}

/// The record of a round answered: named by the round hash the members'
/// sealed seeds are bound to.
fn answered_path(dir: &Path, round_hash: &str) -> Result<PathBuf, Stop> {
    if round_hash.len() != 64 || !round_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Stop::refused("the round hash is not a SHA-256 in hex"));
    }
    Ok(dir
        .join("answered")
        .join(format!("{}.json", round_hash.to_ascii_lowercase())))
}

fn sum(a: &SumArgs) -> Result<(), Stop> {
    // Before anything is pinned or recorded: the sum can be written there.
    coopbench_fsio::check_output_target(&a.out).map_err(Stop::usage)?;
    let (signing, hpke) = load_keys(&a.dir)?;
    let pool_file = text::path(&a.pool);
    let pool = read_signed_pool(&read(&a.pool, POOL_MAX_BYTES, "a signed pool")?)
        .map_err(|e| Stop::refused(format!("{pool_file}: {}", text::shown(&e.to_string()))))?
        .doc;
    let problems = pool.problems();
    if !problems.is_empty() {
        return Err(Stop::refused_list(
            &format!("{pool_file} is not a usable pool"),
            &problems,
        ));
    }
    let assoc = pool
        .association_public_key()
        .map_err(|e| Stop::refused(format!("{pool_file}: {e}")))?;
    let round_file = text::path(&a.round);
    let round_env = Envelope::from_json(&read(&a.round, ROUND_MAX_BYTES, "a signed round")?)
        .map_err(|e| Stop::usage(format!("{round_file}: {e}")))?;
    let round: Verified<Round> = signed::verify(&round_env, &assoc).map_err(|e| {
        Stop::refused(format!(
            "{round_file}: not a round signed by pool '{}''s association: {e}",
            text::shown(&pool.id)
        ))
    })?;
    let r = &round.doc;
    let rid = text::shown(&r.id);
    let two = match (r.mode, &r.two_server) {
        (Mode::TwoServer, Some(t)) => t,
        _ => {
            return Err(Stop::refused(format!(
                "round '{rid}' is not in two-server mode"
            )))
        }
    };
    if two.helper_signing_key != signing.public().to_base64()
        || two.helper_hpke_key != b64(&hpke.public_bytes())
    {
        return Err(Stop::refused(format!(
            "round '{rid}' names another helper ({}); this helper's keys are in {}",
            text::shown(&two.helper_name),
            text::path(&a.dir)
        )));
    }
    // The round must be well formed, belong to this very pool (id, sunset,
    // floors, a helper key that is not the association's), and keep its sums
    // exact for the pool's roster.
    let mut problems = r.problems();
    problems.extend(guardrails::against_pool(&pool, r));
    problems.extend(coopbench_privacy::plan::two_server_problems(
        r,
        pool.roster.len(),
    ));
    if !problems.is_empty() {
        return Err(Stop::refused_list(
            &format!("round '{rid}' is refused"),
            &problems,
        ));
    }
    let seen_roster = check_pin(&a.dir, &pool, &assoc)?;
    coopbench_cli::outln!(
        "Pool '{}' ({}): {} members on its roster, association key {}. Check that this is the real membership.",
        text::shown(&pool.id),
        text::shown(&pool.name),
        pool.roster.len(),
        assoc.fingerprint()
    );
    if let Some(before) = &seen_roster {
        let added: Vec<String> = pool
            .roster
            .iter()
            .filter(|m| !before.contains(&m.key_id))
            .map(|m| m.key_id.chars().take(16).collect())
            .collect();
        if !added.is_empty() {
            coopbench_cli::outln!(
                "Note: {} key(s) joined the roster since the last batch this helper answered for the pool (key ids {}): ask the members whether they know them.",
                added.len(),
                added.join(", ")
            );
        }
    }

    let batch_file = text::path(&a.batch);
    let batch_bytes = read(
        &a.batch,
        limits::helper_batch_max_bytes(pool.roster.len()),
        "a helper batch for this pool's roster",
    )?;
    let batch_env =
        Envelope::from_json(&batch_bytes).map_err(|e| Stop::usage(format!("{batch_file}: {e}")))?;
    let batch: Verified<HelperBatch> = signed::verify(&batch_env, &assoc).map_err(|e| {
        Stop::refused(format!(
            "{batch_file}: not a batch signed by pool '{}''s association (the leader): {e}",
            text::shown(&pool.id)
        ))
    })?;
    let b = &batch.doc;
    if b.round_id != r.id || b.round_hash != round.hash || b.pool_id != pool.id {
        return Err(Stop::refused(format!(
            "{batch_file}: the batch is for round '{}' of pool '{}' (or another version of it), not for this round",
            text::shown(&b.round_id),
            text::shown(&b.pool_id)
        )));
    }

    let record = answered_path(&a.dir, &round.hash)?;
    if let Some(prev) = load_answered(&record)? {
        if prev.batch_hash == batch.hash {
            write_atomic(&a.out, prev.sum.as_bytes())
                .map_err(|e| Stop::usage(format!("cannot write {}: {e}", text::path(&a.out))))?;
            coopbench_cli::outln!(
                "This batch was answered before: wrote the same signed sum to {} again.",
                text::path(&a.out)
            );
            return Ok(());
        }
        return Err(Stop::refused(format!(
            "round '{rid}' (round hash {}) was already answered for another batch of {} contributions ({}): a second batch is refused, so that no one can learn a member's figures from the difference of two sums",
            &round.hash[..16],
            prev.members,
            text::path(&record)
        )));
    }

    let cells: Vec<usize> = r.metrics.iter().map(|m| cell_count(&r.grid(m))).collect();
    let total: usize = cells.iter().sum();
    let mut acc = vec![0u64; total];
    let mut members = BTreeSet::new();
    for (i, env) in b.seeds.iter().enumerate() {
        let entry = format!("{batch_file}: sealed seed {} of {}", i + 1, b.seeds.len());
        let (key, seed) =
            verify_seed(&pool, env).map_err(|e| Stop::refused(format!("{entry}: {e}")))?;
        let who = key.fingerprint();
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
            "the batch holds {} contributions; round '{rid}' may be merged only with at least n_min = {}",
            members.len(),
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
    write_pin(&a.dir, &pool, &assoc)?;
    if seen_roster.is_none() {
        coopbench_cli::outln!(
            "First batch signed by association key {}: pinned it to pool '{}' (this helper answers no other pool for that key).",
            assoc.fingerprint(),
            text::shown(&pool.id)
        );
    }
    if let Some(dir) = record.parent() {
        ensure_dir(dir).map_err(|e| Stop::usage(format!("{}: {e}", text::path(dir))))?;
    }
    // The record goes to disk (fsync'd, create-new) before the sum goes out:
    // a crash in between leaves the round answered, never answerable twice.
    write_new(
        &record,
        &serde_json::to_vec_pretty(&rec).expect("record serialises"),
    )
    .map_err(|e| Stop::usage(format!("cannot write {}: {e}", text::path(&record))))?;
    failpoint("after-record");
    write_atomic(&a.out, &sum_bytes)
        .map_err(|e| Stop::usage(format!("cannot write {}: {e}", text::path(&a.out))))?;
    coopbench_cli::outln!(
        "Answered round '{rid}' of pool '{}': the masks of {} contributions summed; wrote {}.",
        text::shown(&pool.id),
        members.len(),
        text::path(&a.out)
    );
    coopbench_cli::outln!(
        "Send it to the association. This helper will not answer another batch for this round."
    );
    Ok(())
}

/// A sealed seed's envelope, verified with the first roster key among its
/// signatures whose signature verifies (signatures by keys not on the
/// roster are ignored; every roster key id present is tried).
fn verify_seed(
    pool: &Pool,
    env: &Envelope,
) -> Result<(coopbench_protocol::PublicKey, Verified<SealedSeedDoc>), String> {
    let mut last = None;
    for id in env.signer_ids() {
        let Some(m) = pool.member(id) else { continue };
        let key = coopbench_protocol::PublicKey::from_base64(&m.public_key)
            .map_err(|e| format!("roster key: {e}"))?;
        match signed::verify(env, &key) {
            Ok(v) => return Ok((key, v)),
            Err(e) => last = Some(format!("from {}: {e}", key.fingerprint())),
        }
    }
    Err(last.unwrap_or_else(|| {
        format!(
            "signed by a key that is not on pool '{}''s roster",
            text::shown(&pool.id)
        )
    }))
}

/// Test-only crash hook: `COOPBENCH_CRASH_AT=<point>` aborts the process
/// there, as a kill -9 would.
fn failpoint(point: &str) {
    if std::env::var("COOPBENCH_CRASH_AT").as_deref() == Ok(point) {
        std::process::abort();
    }
}

fn unb64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

fn load_answered(path: &Path) -> Result<Option<Answered>, Stop> {
    match crate::files::read_bounded(path, LEDGER_MAX_BYTES, "the helper's record of a round") {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| Stop::usage(format!("{} is damaged: {e}", text::path(path)))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Stop::usage(format!(
            "cannot read {}: {e}",
            text::path(path)
        ))),
    }
}
