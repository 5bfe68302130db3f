//! The member's state directory: key pair, pinned pools, ledger, policy and
//! stored contributions, with atomic writes and 0600 secrets.
//!
//! Layout (all under one directory, `--state-dir`, `$COOPBENCH_STATE_DIR`, or
//! the per-user data directory, e.g. `~/.local/share/coopbench` on Linux):
//! `member.key` (PKCS#8, 0600), `member.pub`, `tag.key` (0600, keys the local
//! data tags), `pools/<pool>.json`, `ledger.jsonl`, `policy.json`,
//! `exports/<pool>/<round>.json`.

use coopbench_protocol::SigningKey;
use std::fs;
use std::io::{self, Write};
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
            return Ok(Self { dir: p.to_path_buf() });
        }
        if let Some(p) = std::env::var_os("COOPBENCH_STATE_DIR").filter(|p| !p.is_empty()) {
            return Ok(Self { dir: PathBuf::from(p) });
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

    /// Loads the member's signing key; refuses a key file others can read.
    pub fn load_key(&self) -> Result<SigningKey, String> {
        let path = self.key_path();
        let bytes = fs::read(&path).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                format!(
                    "no member key in {}: run `coopbench keygen` first",
                    self.dir.display()
                )
            } else {
                format!("cannot read {}: {e}", path.display())
            }
        })?;
        check_private(&path)?;
        SigningKey::from_pkcs8(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The secret that keys local data tags, created on first use (0600).
    pub fn tag_key(&self) -> Result<Vec<u8>, String> {
        let path = self.dir.join("tag.key");
        match fs::read(&path) {
            Ok(b) if b.len() == 32 => return Ok(b),
            Ok(_) => return Err(format!("{} is damaged (expected 32 bytes)", path.display())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        }
        let mut key = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key)
            .map_err(|_| "the system random number generator failed".to_string())?;
        write_new_secret(&path, &key).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(key.to_vec())
    }
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "{} can be read by other users (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), String> {
    Ok(())
}

/// Creates the parent directory of `path` (0700 for new directories on unix).
pub fn ensure_parent(path: &Path) -> io::Result<PathBuf> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(&dir)?;
    Ok(dir)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    let _ = dir;
    Ok(())
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, fsync'd, renamed over `path`, then the directory fsync'd. A
/// crash leaves either the old file or the new one, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = ensure_parent(path)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".coopbench-")
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(&dir)
}

/// Writes a secret to a new 0600 file; fails if `path` exists. The file
/// appears whole or not at all (temporary file, then a no-clobber link).
pub fn write_new_secret(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = ensure_parent(path)?;
    // tempfile creates its files 0600.
    let mut tmp = tempfile::Builder::new()
        .prefix(".coopbench-")
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist_noclobber(path).map_err(|e| e.error)?;
    sync_dir(&dir)
}
