//! `coopbench-aggregator pool ...`: create the pool agreement and the
//! association's key, keep the roster of member keys, sign it, show it.

use crate::files::{ensure_dir, write_atomic, write_new, write_new_public};
use crate::pool_dir::{PoolDir, SignedState};
use clap::{Args, Subcommand};
use coopbench_cli::{Stop, EXIT_REFUSED, EXIT_USAGE};
use coopbench_protocol::pool::is_identifier;
use coopbench_protocol::signed;
use coopbench_protocol::{Date, Pool, PoolPolicy, PublicKey, RosterEntry, SigningKey};
use coopbench_text as text;
use std::path::PathBuf;

/// Manage the pool: its purpose, sunset date, floors and members' keys.
#[derive(Debug, Subcommand)]
pub enum PoolCommand {
    Init(InitArgs),
    AddMember(AddMemberArgs),
    RemoveMember(RemoveMemberArgs),
    /// Sign pool.toml as pool.sig.json, the file members join.
    ///
    /// Checks the pool first (purpose, id, floors, every roster key) and signs it
    /// with DIR/association.key. Run it after every roster change and send the new
    /// pool.sig.json to the members; `merge` takes it as --pool.
    ///
    /// Example:
    ///   coopbench-aggregator pool sign --dir pool
    #[command(verbatim_doc_comment)]
    Sign(DirArgs),
    /// Show the pool: purpose, sunset, floors, key fingerprints and roster.
    ///
    /// Also says whether pool.sig.json is current or needs `pool sign`.
    ///
    /// Example:
    ///   coopbench-aggregator pool show --dir pool
    #[command(verbatim_doc_comment)]
    Show(DirArgs),
}

/// The pool directory.
#[derive(Debug, Clone, Args)]
pub struct DirArgs {
    /// The pool directory (association.key, pool.toml, pool.sig.json, rounds/).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
}

/// Create a pool: the association's signing key and the pool agreement.
///
/// Writes DIR/association.key (the association's Ed25519 private key, mode 0600:
/// keep it safe, it signs everything members will trust) and DIR/pool.toml, the
/// agreement members see: its purpose first, the sunset date after which no round
/// may open, and the disclosure floors (fewest members per published cell, oldest
/// data a round may ask for). Refuses to overwrite an existing key or pool.
///
/// Example:
///   coopbench-aggregator pool init --dir pool --id bakeries --name "Independent Bakeries" \
///       --purpose "Benchmarks for independent bakeries: market size, costs, margins" \
///       --sunset 2029-12-31
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct InitArgs {
    #[command(flatten)]
    dir: DirArgs,
    /// Stable pool id (a-z, 0-9, '-', '_', '.'), e.g. bakeries.
    #[arg(long, value_name = "ID")]
    id: String,
    /// Display name.
    #[arg(long, value_name = "NAME")]
    name: String,
    /// Why members pool their figures, in plain words (shown to them first).
    #[arg(long, value_name = "TEXT")]
    purpose: String,
    /// Last day a round may open (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD")]
    sunset: String,
    /// Fewest noisy active members for a cell to be published (at least 3).
    #[arg(long, value_name = "N", default_value_t = 5)]
    min_members: u32,
    /// Days that must pass between a round's period end and its opening.
    #[arg(long, value_name = "DAYS", default_value_t = 90)]
    min_data_age_days: u32,
}

/// Add a member's public key to the roster.
///
/// LABEL is your own name for the member; it stays in pool.toml: the signed
/// pool.sig.json sent to members and the helper carries keys only, and no
/// benchmark names a member. PUBKEY is the base64 key the member's `coopbench keygen`
/// printed. Compare the fingerprint printed here with the one the member reads
/// you over the phone. Run `pool sign` afterwards and send the new pool.sig.json.
///
/// Example:
///   coopbench-aggregator pool add-member --dir pool "Bakery Jansen" 3q2+7w...=
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct AddMemberArgs {
    #[command(flatten)]
    dir: DirArgs,
    /// Your name for the member (never published).
    label: String,
    /// The member's public key, base64 (from `coopbench keygen`).
    pubkey: String,
}

/// Remove a member's key from the roster.
///
/// Name the member by its label, its key id (64 hex digits) or its fingerprint
/// (as `pool show` prints it). Contributions signed by a removed key are rejected
/// by `merge` once you merge with the re-signed pool.
///
/// Example:
///   coopbench-aggregator pool remove-member --dir pool "Bakery Jansen"
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RemoveMemberArgs {
    #[command(flatten)]
    dir: DirArgs,
    /// The member's label, key id or fingerprint.
    member: String,
}

/// Runs a `pool` subcommand.
pub fn run(cmd: PoolCommand) -> Result<(), Stop> {
    match cmd {
        PoolCommand::Init(a) => init(&a),
        PoolCommand::AddMember(a) => add_member(&a),
        PoolCommand::RemoveMember(a) => remove_member(&a),
        PoolCommand::Sign(a) => sign(&a),
        PoolCommand::Show(a) => show(&a),
    }
}

fn init(a: &InitArgs) -> Result<(), Stop> {
    let pd = PoolDir::new(&a.dir.dir);
    let sunset = Date::parse(&a.sunset).map_err(|e| Stop::usage(format!("--sunset: {e}")))?;
    for p in [pd.key_path(), pd.pool_path()] {
        if p.symlink_metadata().is_ok() {
            return Err(Stop::refused(format!(
                "{} already exists; pool init never overwrites a pool or its key",
                text::path(&p)
            )));
        }
    }
    let key = SigningKey::generate().map_err(|e| Stop::usage(e.to_string()))?;
    let pool = Pool {
        purpose: a.purpose.trim().to_string(),
        id: a.id.clone(),
        name: a.name.trim().to_string(),
        association_key: key.public().to_base64(),
        sunset,
        policy: PoolPolicy {
            min_members: a.min_members,
            min_data_age_days: a.min_data_age_days,
        },
        roster: Vec::new(),
    };
    let mut problems = pool.problems();
    if pool.name.is_empty() {
        problems.push("the pool has no name".into());
    }
    if !problems.is_empty() {
        return Err(Stop::refused_list("the pool is refused", &problems));
    }
    ensure_dir(&pd.dir)
        .map_err(|e| Stop::usage(format!("cannot create {}: {e}", text::path(&pd.dir))))?;
    write_new(&pd.key_path(), key.pkcs8_secret()).map_err(|e| {
        let code = if e.kind() == std::io::ErrorKind::AlreadyExists {
            EXIT_REFUSED
        } else {
            EXIT_USAGE
        };
        Stop(
            code,
            format!("cannot write {}: {e}", text::path(&pd.key_path())),
        )
    })?;
    write_new_public(&pd.pool_path(), PoolDir::pool_toml(&pool)?.as_bytes()).map_err(|e| {
        let code = if e.kind() == std::io::ErrorKind::AlreadyExists {
            EXIT_REFUSED
        } else {
            EXIT_USAGE
        };
        Stop(
            code,
            format!("cannot write {}: {e}", text::path(&pd.pool_path())),
        )
    })?;
    coopbench_cli::outln!("Created pool '{}' in {}", pool.id, text::path(&pd.dir));
    coopbench_cli::outln!(
        "  association key: {} (mode 0600; keep it safe: it signs what members trust)",
        text::path(&pd.key_path())
    );
    coopbench_cli::outln!("  agreement:       {}", text::path(&pd.pool_path()));
    coopbench_cli::outln!(
        "  association key fingerprint: {}",
        key.public().fingerprint()
    );
    coopbench_cli::outln!();
    coopbench_cli::outln!(
        "Next: add each member's public key with `pool add-member`, then `pool sign`."
    );
    Ok(())
}

fn valid_label(label: &str) -> Result<String, Stop> {
    let l = label.trim();
    if l.is_empty() || l.chars().any(text::needs_escape) || l.chars().count() > 200 {
        return Err(Stop::usage(format!(
            "label \"{}\" must be 1-200 characters without control, bidirectional or invisible format characters",
            text::shown(label)
        )));
    }
    Ok(l.to_string())
}

fn add_member(a: &AddMemberArgs) -> Result<(), Stop> {
    let pd = PoolDir::new(&a.dir.dir);
    let mut pool = pd.load_pool()?;
    let label = valid_label(&a.label)?;
    let key = PublicKey::from_base64(&a.pubkey)
        .map_err(|e| Stop::usage(format!("PUBKEY {:?}: {e}", a.pubkey)))?;
    let id = key.key_id();
    if let Some(m) = pool.member(&id) {
        return Err(Stop::refused(format!(
            "this key ({}) is already on the roster as '{}'",
            key.fingerprint(),
            text::shown(&m.label)
        )));
    }
    if let Some(m) = pool.roster.iter().find(|m| m.label == label) {
        return Err(Stop::refused(format!(
            "the label '{}' is already used for key {}; choose another label",
            text::shown(&label),
            m.key_id
        )));
    }
    if pool.association_key == key.to_base64() {
        return Err(Stop::refused(
            "that is the association's own key, not a member's".to_string(),
        ));
    }
    pool.roster.push(RosterEntry {
        key_id: id,
        public_key: key.to_base64(),
        label: label.clone(),
    });
    pd.save_pool(&pool)?;
    coopbench_cli::outln!(
        "Added '{}' (fingerprint {}) to pool '{}': {} members.",
        text::shown(&label),
        key.fingerprint(),
        pool.id,
        pool.roster.len()
    );
    coopbench_cli::outln!("Check the fingerprint with the member; then run `pool sign` and send them the new pool.sig.json.");
    Ok(())
}

fn remove_member(a: &RemoveMemberArgs) -> Result<(), Stop> {
    let pd = PoolDir::new(&a.dir.dir);
    let mut pool = pd.load_pool()?;
    let want = a.member.trim();
    let hits: Vec<usize> = pool
        .roster
        .iter()
        .enumerate()
        .filter(|(_, m)| {
            m.label == want
                || m.key_id.eq_ignore_ascii_case(want)
                || PublicKey::from_base64(&m.public_key)
                    .is_ok_and(|k| k.fingerprint().eq_ignore_ascii_case(want))
        })
        .map(|(i, _)| i)
        .collect();
    let i = match hits.as_slice() {
        [i] => *i,
        [] => {
            return Err(Stop::refused(format!(
                "no member '{}' on pool '{}''s roster (give a label, key id or fingerprint as `pool show` lists them)",
                text::shown(want),
                text::shown(&pool.id)
            )))
        }
        _ => {
            return Err(Stop::refused(format!(
                "'{}' names more than one member; give the key id instead",
                text::shown(want)
            )))
        }
    };
    let removed = pool.roster.remove(i);
    pd.save_pool(&pool)?;
    coopbench_cli::outln!(
        "Removed '{}' ({}) from pool '{}': {} members left.",
        text::shown(&removed.label),
        removed.key_id,
        text::shown(&pool.id),
        pool.roster.len()
    );
    coopbench_cli::outln!(
        "Run `pool sign` and send the new pool.sig.json; merges with it reject that key."
    );
    Ok(())
}

fn sign(a: &DirArgs) -> Result<(), Stop> {
    let pd = PoolDir::new(&a.dir);
    let pool = pd.load_pool()?;
    let mut problems = pool.problems();
    for m in &pool.roster {
        if m.label.trim().is_empty() || m.label.chars().any(text::needs_escape) {
            problems.push(format!(
                "roster entry {}: its label is empty or has control characters",
                m.key_id
            ));
        }
    }
    if !problems.is_empty() {
        return Err(Stop::refused_list(
            &format!("{} cannot be signed", text::path(&pd.pool_path())),
            &problems,
        ));
    }
    let key = pd.load_key_for(&pool)?;
    // Labels stay in pool.toml: members and the helper get keys only.
    let env = signed::sign(&pool.signed_form(), &key);
    let path = pd.signed_pool_path();
    write_atomic(&path, &env.to_json())
        .map_err(|e| Stop::usage(format!("cannot write {}: {e}", text::path(&path))))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644));
    }
    coopbench_cli::outln!(
        "Signed pool '{}' ({} members) as {}.",
        pool.id,
        pool.roster.len(),
        text::path(&path)
    );
    coopbench_cli::outln!(
        "Send it to every member (`coopbench join pool.sig.json`); they will see the association key fingerprint {}.",
        key.public().fingerprint()
    );
    Ok(())
}

fn show(a: &DirArgs) -> Result<(), Stop> {
    let pd = PoolDir::new(&a.dir);
    let pool = pd.load_pool()?;
    coopbench_cli::outln!("Purpose: {}", text::shown(&pool.purpose));
    coopbench_cli::outln!(
        "Pool '{}': {}",
        text::shown(&pool.id),
        text::shown(&pool.name)
    );
    coopbench_cli::outln!("Sunset: {} (no round may open after it)", pool.sunset);
    coopbench_cli::outln!(
        "Floors: a cell needs at least {} members; data must be at least {} days old when a round opens",
        pool.policy.min_members, pool.policy.min_data_age_days
    );
    match pool.association_public_key() {
        Ok(k) => coopbench_cli::outln!("Association key fingerprint: {}", k.fingerprint()),
        Err(e) => coopbench_cli::outln!("Association key: {e}"),
    }
    match pd.signed_state(&pool) {
        SignedState::Current(h) => {
            coopbench_cli::outln!("Signed: yes, pool.sig.json is current (hash {})", &h[..16])
        }
        SignedState::Stale => {
            coopbench_cli::outln!("Signed: pool.sig.json is OUT OF DATE: run `pool sign`")
        }
        SignedState::Missing => coopbench_cli::outln!("Signed: not yet: run `pool sign`"),
    }
    coopbench_cli::outln!();
    coopbench_cli::outln!("Roster ({} members):", pool.roster.len());
    let width = pool
        .roster
        .iter()
        .map(|m| text::shown(&m.label).to_string().chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    coopbench_cli::outln!("  {:<width$}  fingerprint", "label");
    for m in &pool.roster {
        let fp = PublicKey::from_base64(&m.public_key)
            .map(|k| k.fingerprint())
            .unwrap_or_else(|_| "(invalid key)".into());
        coopbench_cli::outln!("  {:<width$}  {fp}", text::shown(&m.label));
    }
    let problems = pool.problems();
    if !problems.is_empty() {
        coopbench_cli::outln!();
        coopbench_cli::outln!("Problems (pool sign will refuse until they are fixed):");
        for p in problems {
            coopbench_cli::outln!("  - {}", text::shown(&p));
        }
    }
    if !is_identifier(&pool.id) {
        return Err(Stop::refused(format!(
            "pool id \"{}\" is not usable",
            text::shown(&pool.id)
        )));
    }
    Ok(())
}
