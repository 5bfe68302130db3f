//! `coopbench keygen`: the member's Ed25519 key pair.

use crate::cli::{StateArgs, EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::state::{write_atomic, write_new_secret};
use clap::Args;
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
pub fn run(args: &KeygenArgs) -> i32 {
    let state = match args.state.resolve() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}", coopbench_text::message(&e.to_string()));
            return EXIT_USAGE;
        }
    };
    let path = state.key_path();
    if path.exists() {
        eprintln!(
            "error: a member key already exists at {}; coopbench never overwrites it (your association knows this key)",
            text::path(&path)
        );
        return EXIT_INVALID;
    }
    let key = match SigningKey::generate() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {}", coopbench_text::message(&e.to_string()));
            return EXIT_USAGE;
        }
    };
    if let Err(e) = write_new_secret(&path, key.pkcs8_secret()) {
        eprintln!("error: cannot write {}: {e}", text::path(&path));
        return if e.kind() == std::io::ErrorKind::AlreadyExists {
            EXIT_INVALID
        } else {
            EXIT_USAGE
        };
    }
    let public = key.public();
    let pub_line = format!("{}\n", public.to_base64());
    if let Err(e) = write_atomic(&state.pub_path(), pub_line.as_bytes()) {
        eprintln!("error: cannot write {}: {e}", text::path(&state.pub_path()));
        return EXIT_USAGE;
    }
    println!("Created your member key in {}", text::path(&state.dir));
    println!(
        "  private key: {} (mode 0600; keep it, never send it)",
        text::path(&path)
    );
    println!();
    println!("Send this public key to your association:");
    println!("  {}", public.to_base64());
    println!("Fingerprint (read it to them so they can check it):");
    println!("  {}", public.fingerprint());
    EXIT_OK
}
