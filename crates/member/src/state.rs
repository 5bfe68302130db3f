//! The member's state directory: key pair, pinned pools, ledger, policy and
//! stored contributions, with atomic writes and 0600 secrets.
//!
//! Layout (all under one directory, `--state-dir`, `$COOPBENCH_STATE_DIR`, or
//! the per-user data directory, e.g. `~/.local/share/coopbench` on Linux):
//! `member.key` (PKCS#8, 0600), `member.pub`, `tag.key` (0600, keys the local
//! data tags), `pools/<pool>.json`, `ledger.jsonl`, `policy.json`,
//! `exports/<pool>/<round>.json`, `rounds/<pool>/<round>.sig.json` (the
//! signed round last exported, which `compare` reads).

use coopbench_protocol::SigningKey;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Where the member's state lives.
#[derive(Debug, Clone)]
pub struct State {
    /// The directory.
    pub dir: PathBuf,
}

impl State {
    /// `flag`, else `$COOPBENCH_STATE_DIR`, else the per-user data directory.
    pub fn resolve(flag: Option<&Path>) -> Result<Self, String> {
        if let Some(p) = flag {
            return Ok(Self {
                dir: p.to_path_buf(),
            });
        }
        if let Some(p) = std::env::var_os("COOPBENCH_STATE_DIR").filter(|p| !p.is_empty()) {
            return Ok(Self {
                dir: PathBuf::from(p),
            });
        }
        directories::ProjectDirs::from("org", "coopbench", "coopbench")
            .map(|d| Self {
                dir: d.data_dir().to_path_buf(),
            })
            .ok_or_else(|| "cannot find a home directory: pass --state-dir DIR".to_string())
    }

    /// The private key file.
    pub fn key_path(&self) -> PathBuf {
        self.dir.join("member.key")
    }
    /// The public key file (base64).
    pub fn pub_path(&self) -> PathBuf {
        self.dir.join("member.pub")
    }
    /// The ledger.
    pub fn ledger_path(&self) -> PathBuf {
        self.dir.join("ledger.jsonl")
    }
    /// The policy.
    pub fn policy_path(&self) -> PathBuf {
        self.dir.join("policy.json")
    }
    /// The pinned pool file for `pool_id`.
    pub fn pin_path(&self, pool_id: &str) -> PathBuf {
        self.dir.join("pools").join(format!("{pool_id}.json"))
    }
    /// The stored export of one round.
    pub fn export_path(&self, pool_id: &str, round_id: &str) -> PathBuf {
        self.dir
            .join("exports")
            .join(pool_id)
            .join(format!("{round_id}.json"))
    }

    /// The signed round file of the last export of one round (public: the
    /// association's document, kept so `compare` knows the round's metrics).
    pub fn round_path(&self, pool_id: &str, round_id: &str) -> PathBuf {
        self.dir
            .join("rounds")
            .join(pool_id)
            .join(format!("{round_id}.sig.json"))
    }

    /// Takes the state directory's exclusive lock (held until the returned
    /// file is dropped), so that two exports never interleave their ledger
    /// checks and charges. Waits, saying so, if another process holds it.
    pub fn lock(&self) -> Result<fs::File, String> {
        let path = self.dir.join("state.lock");
        coopbench_fsio::ensure_dir(&self.dir)
            .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(fs::TryLockError::WouldBlock) => {
                eprintln!(
                    "waiting for another coopbench command using {} ...",
                    self.dir.display()
                );
                file.lock()
                    .map_err(|e| format!("cannot lock {}: {e}", path.display()))?;
                Ok(file)
            }
            Err(fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
        }
    }

    /// Loads the member's signing key; refuses a key file others can read.
    pub fn load_key(&self) -> Result<SigningKey, String> {
        let path = self.key_path();
        check_private(&path).or_else(|e| match fs::metadata(&path) {
            Err(m) if m.kind() == io::ErrorKind::NotFound => Ok(()),
            _ => Err(e),
        })?;
        let bytes = coopbench_fsio::read_bounded(
            &path,
            coopbench_protocol::limits::CONFIG_MAX_BYTES,
            "a key file",
        )
        .map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                format!(
                    "no member key in {}: run `coopbench keygen` first",
                    self.dir.display()
                )
            } else {
                format!("cannot read {}: {e}", path.display())
            }
        })?;
        SigningKey::from_pkcs8(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The secret that keys local data tags, created on first use (0600).
    pub fn tag_key(&self) -> Result<Vec<u8>, String> {
        let path = self.dir.join("tag.key");
        match coopbench_fsio::read_bounded(&path, 64, "the tag key") {
            Ok(b) if b.len() == 32 => {
                // A secret like member.key: refused when others can read it.
                check_private(&path)?;
                return Ok(b);
            }
            Ok(_) => return Err(format!("{} is damaged (expected 32 bytes)", path.display())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        }
        let mut key = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key)
            .map_err(|_| "the system random number generator failed".to_string())?;
        write_new_secret(&path, &key)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(key.to_vec())
    }
}

pub use coopbench_fsio::{check_private, write_atomic, write_new as write_new_secret};

/// Creates the parent directory of `path` (0700 for new directories).
pub fn ensure_parent(path: &Path) -> io::Result<()> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => coopbench_fsio::ensure_dir(dir),
        None => Ok(()),
    }
}
