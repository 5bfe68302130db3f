//! `coopbench join POOL`: verify a pool and pin its association's key.

use crate::cmd::StateArgs;
use crate::pins::{verify_pool_self_signed, Pin};
use clap::Args;
use coopbench_cli::Stop;
use coopbench_text::shown;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

/// Join a pool: check its signature, show what it is for, and trust its key.
///
/// Shows the pool's purpose, its sunset date and the association's key
/// fingerprint; compare the fingerprint with the one your association gave
/// you. From then on, rounds of this pool are accepted only when signed by
/// that key. Running `join` again with a newer pool file (e.g. more members)
/// updates it; a pool file signed by a different key is refused.
#[derive(Debug, Args)]
pub struct JoinArgs {
    /// The signed pool file from your association (pool.sig.json).
    #[arg(value_name = "POOL")]
    pool: PathBuf,
    /// Do not ask for confirmation (for scripts).
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    state: StateArgs,
}

/// Runs `join`.
pub fn run(args: &JoinArgs) -> Result<(), Stop> {
    let state = args.state.resolve()?;
    let verified = verify_pool_self_signed(&args.pool).map_err(Stop::refused)?;
    let pool = &verified.doc;
    let key = pool
        .association_public_key()
        .expect("checked by problems()");
    let existing = Pin::load(&state, &pool.id).ok();
    if let Some(old) = &existing {
        if old.association_key != pool.association_key {
            return Err(Stop::refused(format!(
                "pool '{}' is pinned to another association key ({}); this file is signed by {}. \
                 If your association really changed its key, ask them why before doing anything else.",
                shown(&pool.id),
                old.key().map(|k| k.fingerprint()).unwrap_or_default(),
                key.fingerprint()
            )));
        }
    }
    // Everything from the pool file is shown escaped: a purpose cannot hide
    // or fake the fingerprint line the member checks.
    coopbench_cli::outln!("Pool: {} ({})", shown(&pool.name), shown(&pool.id));
    coopbench_cli::outln!("Purpose: {}", shown(&pool.purpose));
    coopbench_cli::outln!("Sunset: {} (no round may open after it)", pool.sunset);
    coopbench_cli::outln!(
        "Floors: cells need at least {} members; data at least {} days old",
        pool.policy.min_members,
        pool.policy.min_data_age_days
    );
    coopbench_cli::outln!("Members on the roster: {}", pool.roster.len());
    coopbench_cli::outln!("Association key fingerprint: {}", key.fingerprint());
    let roster_note = roster_note(&state, pool);
    if let Some(note) = &roster_note {
        coopbench_cli::outln!("Note: {note}");
    }
    if existing.is_none() && !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(Stop::usage(
                "not a terminal: pass --yes to trust this association key without asking",
            ));
        }
        coopbench_cli::out!(
            "Trust this association key for pool '{}'? [y/N] ",
            shown(&pool.id)
        );
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "Yes") {
            coopbench_cli::outln!("Not joined.");
            return Err(Stop::quiet());
        }
    }
    let now = coopbench_cli::clock::now();
    let pin = Pin {
        pool_id: pool.id.clone(),
        association_key: pool.association_key.clone(),
        pinned_at: existing
            .map(|p| p.pinned_at)
            .unwrap_or_else(|| coopbench_privacy::ledger::rfc3339(now)),
        pool_hash: verified.hash.clone(),
        pool: pool.clone(),
    };
    pin.save(&state).map_err(Stop::usage)?;
    match roster_note {
        // Said again last: it decides whether any export can succeed.
        Some(note) => coopbench_cli::outln!("Joined pool '{}'. {note}", shown(&pool.id)),
        None => coopbench_cli::outln!(
            "Joined pool '{}'. Your key is on its roster.",
            shown(&pool.id)
        ),
    }
    Ok(())
}

/// What the member must do before an export can be accepted, when their key
/// is missing or not on the pool's roster (None: it is on the roster).
fn roster_note(state: &crate::state::State, pool: &coopbench_protocol::Pool) -> Option<String> {
    match state.load_key() {
        Ok(me) if pool.member(&me.public().key_id()).is_some() => None,
        Ok(me) => Some(format!(
            "Your key ({}) is not on this pool's roster: the association will reject your exports until it is. \
             Send them your public key (member.pub in your state directory), then join the updated pool file they send back.",
            me.public().fingerprint()
        )),
        Err(_) => Some(
            "You have no member key in this state directory yet: run `coopbench keygen`, send member.pub to the association, \
             then join the updated pool file they send back."
                .into(),
        ),
    }
}
