//! The association's working directory for one pool:
//!
//! ```text
//! DIR/association.key        Ed25519 PKCS#8, 0600: the association's signing key
//! DIR/pool.toml              the pool agreement, edited by `pool` commands
//! DIR/pool.sig.json          the signed pool, sent to members
//! DIR/rounds/<id>.toml       a round, as written by `round new`
//! DIR/rounds/<id>.sig.json   the signed round, sent to members
//! ```

use crate::cli::Stop;
use crate::files::{check_private, path_id, read_bounded, read_text_bounded, write_atomic};
use coopbench_protocol::limits::{CONFIG_MAX_BYTES, POOL_MAX_BYTES, ROUND_MAX_BYTES};
use coopbench_protocol::signed::{self, Verified};
use coopbench_protocol::{Envelope, Pool, Round, SigningKey};
use coopbench_text as text;
use std::path::{Path, PathBuf};

/// A pool directory.
#[derive(Debug, Clone)]
pub struct PoolDir {
    /// The directory.
    pub dir: PathBuf,
}

/// The comment at the top of pool.toml.
const POOL_HEADER: &str =
    "# coopbench pool agreement. Change it with `coopbench-aggregator pool ...`,\n\
# then `coopbench-aggregator pool sign` and send pool.sig.json to the members.\n\
# Labels stay in this file: pool.sig.json carries keys only, and no benchmark\n\
# names a member.\n";

impl PoolDir {
    /// The pool directory `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }
    /// The association's private key.
    pub fn key_path(&self) -> PathBuf {
        self.dir.join("association.key")
    }
    /// The pool document.
    pub fn pool_path(&self) -> PathBuf {
        self.dir.join("pool.toml")
    }
    /// The signed pool.
    pub fn signed_pool_path(&self) -> PathBuf {
        self.dir.join("pool.sig.json")
    }
    /// A round's TOML (the id is checked first).
    pub fn round_path(&self, id: &str) -> Result<PathBuf, Stop> {
        let id = path_id("round id", id).map_err(Stop::refused)?;
        Ok(self.dir.join("rounds").join(format!("{id}.toml")))
    }
    /// A signed round (the id is checked first).
    pub fn signed_round_path(&self, id: &str) -> Result<PathBuf, Stop> {
        let id = path_id("round id", id).map_err(Stop::refused)?;
        Ok(self.dir.join("rounds").join(format!("{id}.sig.json")))
    }

    /// Reads pool.toml.
    pub fn load_pool(&self) -> Result<Pool, Stop> {
        let path = self.pool_path();
        let text = read_text_bounded(&path, POOL_MAX_BYTES, "a pool file").map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Stop::usage(format!(
                    "{}: no pool here; create one with `coopbench-aggregator pool init --dir {}`",
                    text::path(&path),
                    text::path(&self.dir)
                ))
            } else {
                Stop::usage(format!("cannot read {}: {e}", text::path(&path)))
            }
        })?;
        toml::from_str(&text).map_err(|e| {
            Stop::usage(format!(
                "{} is not a valid pool file: {e}",
                text::path(&path)
            ))
        })
    }

    /// The pool as the TOML text written to pool.toml (purpose first).
    pub fn pool_toml(pool: &Pool) -> Result<String, Stop> {
        let body = toml::to_string(pool)
            .map_err(|e| Stop::usage(format!("cannot write the pool as TOML: {e}")))?;
        Ok(format!("{POOL_HEADER}{body}"))
    }

    /// Replaces pool.toml atomically.
    pub fn save_pool(&self, pool: &Pool) -> Result<(), Stop> {
        let path = self.pool_path();
        write_atomic(&path, Self::pool_toml(pool)?.as_bytes())
            .map_err(|e| Stop::usage(format!("cannot write {}: {e}", text::path(&path))))
    }

    /// Loads the association's key; refuses one that others can read.
    pub fn load_key(&self) -> Result<SigningKey, Stop> {
        let path = self.key_path();
        check_private(&path).map_err(Stop::usage)?;
        let bytes = read_bounded(&path, CONFIG_MAX_BYTES, "a key file")
            .map_err(|e| Stop::usage(format!("cannot read {}: {e}", text::path(&path))))?;
        SigningKey::from_pkcs8(&bytes)
            .map_err(|e| Stop::usage(format!("{}: {e}", text::path(&path))))
    }

    /// The signing key, checked to be the pool's association key.
    pub fn load_key_for(&self, pool: &Pool) -> Result<SigningKey, Stop> {
        let key = self.load_key()?;
        if key.public().to_base64() != pool.association_key {
            return Err(Stop::refused(format!(
                "{} is not the key named in {} (association_key): sign with the pool's own key",
                text::path(&self.key_path()),
                text::path(&self.pool_path())
            )));
        }
        Ok(key)
    }

    /// Reads rounds/<id>.toml.
    pub fn load_round(&self, id: &str) -> Result<(Round, String), Stop> {
        let path = self.round_path(id)?;
        let text = read_text_bounded(&path, ROUND_MAX_BYTES, "a round file").map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Stop::usage(format!(
                    "{}: no round '{id}' in this pool; create it with `coopbench-aggregator round new --dir {} --from TEMPLATE.toml`",
                    text::path(&path),
                    text::path(&self.dir)
                ))
            } else {
                Stop::usage(format!("cannot read {}: {e}", text::path(&path)))
            }
        })?;
        let round = parse_round(&path, &text)?;
        Ok((round, text))
    }

    /// Whether pool.sig.json exists and signs exactly pool.toml's pool.
    pub fn signed_state(&self, pool: &Pool) -> SignedState {
        let path = self.signed_pool_path();
        let Ok(bytes) = read_bounded(&path, POOL_MAX_BYTES, "a signed pool") else {
            return SignedState::Missing;
        };
        match read_signed_pool(&bytes) {
            Ok(v) if v.doc == pool.signed_form() => SignedState::Current(v.hash),
            _ => SignedState::Stale,
        }
    }
}

/// Whether the signed pool matches pool.toml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedState {
    /// No pool.sig.json.
    Missing,
    /// pool.sig.json signs an older (or another) pool.
    Stale,
    /// pool.sig.json signs pool.toml's pool (labels removed); its hash.
    Current(String),
}

/// Parses round TOML, naming the file in errors.
pub fn parse_round(path: &Path, text: &str) -> Result<Round, Stop> {
    toml::from_str(text)
        .map_err(|e| Stop::usage(format!("{} is not a valid round: {e}", text::path(&path))))
}

/// Why a signed pool file is not usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolFileError {
    /// Not a signed pool at all (not an envelope, another document type).
    NotAPool(String),
    /// A pool whose signature does not verify.
    BadSignature(String),
}

impl std::fmt::Display for PoolFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PoolFileError::NotAPool(m) => write!(f, "not a pool file: {m}"),
            PoolFileError::BadSignature(m) => f.write_str(m),
        }
    }
}

/// Verifies a signed pool with the association key it names itself (the
/// association's own file; members pin that key at `join`).
pub fn read_signed_pool(bytes: &[u8]) -> Result<Verified<Pool>, PoolFileError> {
    let env = Envelope::from_json(bytes).map_err(|e| PoolFileError::NotAPool(e.to_string()))?;
    let claimed: Pool = signed::peek(&env).map_err(|e| PoolFileError::NotAPool(e.to_string()))?;
    let key = claimed
        .association_public_key()
        .map_err(|e| PoolFileError::BadSignature(format!("its association_key: {e}")))?;
    signed::verify(&env, &key).map_err(|e| PoolFileError::BadSignature(e.to_string()))
}
