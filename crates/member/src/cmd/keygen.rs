//! `coopbench keygen`: the member's Ed25519 key pair.

use crate::cmd::StateArgs;
use crate::state::{write_atomic, write_new_secret};
use clap::Args;
use coopbench_cli::Stop;
use coopbench_protocol::SigningKey;
use coopbench_text as text;

/// Create your signing key (once per firm).
///
/// The private key is written to the state directory, readable only by you
/// (mode 0600), and never printed. Send the public key it prints to your
/// association, and read them the fingerprint over the phone so they know the
/// key is yours. Refuses to overwrite an existing key.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    #[command(flatten)]
    state: StateArgs,
}

/// Runs `keygen`.
pub fn run(args: &KeygenArgs) -> Result<(), Stop> {
    let state = args.state.resolve()?;
    let path = state.key_path();
    if path.exists() {
        return Err(Stop::refused(format!(
            "a member key already exists at {}; coopbench never overwrites it (your association knows this key)",
            text::path(&path)
        )));
    }
    let key = SigningKey::generate().map_err(Stop::usage)?;
    write_new_secret(&path, key.pkcs8_secret()).map_err(|e| {
        let msg = format!("cannot write {}: {e}", text::path(&path));
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Stop::refused(msg)
        } else {
            Stop::usage(msg)
        }
    })?;
    let public = key.public();
    let pub_line = format!("{}\n", public.to_base64());
    write_atomic(&state.pub_path(), pub_line.as_bytes()).map_err(|e| {
        Stop::usage(format!(
            "cannot write {}: {e}",
            text::path(&state.pub_path())
        ))
    })?;
    coopbench_cli::outln!("Created your member key in {}", text::path(&state.dir));
    coopbench_cli::outln!(
        "  private key: {} (mode 0600; keep it, never send it)",
        text::path(&path)
    );
    coopbench_cli::outln!();
    coopbench_cli::outln!("Send this public key to your association:");
    coopbench_cli::outln!("  {}", public.to_base64());
    coopbench_cli::outln!("Fingerprint (read it to them so they can check it):");
    coopbench_cli::outln!("  {}", public.fingerprint());
    Ok(())
}
