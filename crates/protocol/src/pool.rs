//! The pool: the standing agreement between an association and its members
//! (purpose, the association's key, the roster of member keys, sunset date,
//! disclosure floors). The association signs it; a member pins its key at
//! `coopbench join`.

use crate::date::Date;
use crate::keys::PublicKey;
use serde::{Deserialize, Serialize};

/// DSSE payload type of a signed pool.
pub const POOL_TYPE: &str = "application/vnd.coopbench.pool+json";

/// The smallest `min_members` any pool or round may set.
pub const MIN_MEMBERS_FLOOR: u32 = 3;

/// A pool of members and the rules every round in it must keep.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Pool {
    /// Why the pool exists, in plain words (shown to members first).
    pub purpose: String,
    /// Stable identifier, e.g. `bakeries-nl`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The association's Ed25519 public key, base64.
    pub association_key: String,
    /// No round may open after this date.
    pub sunset: Date,
    /// Floors every round must respect.
    pub policy: PoolPolicy,
    /// Member keys allowed to contribute. The association's labels stay in
    /// its pool.toml: the signed pool members and the helper receive carries
    /// keys only (see [`Pool::signed_form`]).
    #[serde(default)]
    pub roster: Vec<RosterEntry>,
}

/// The pool's disclosure floors.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PoolPolicy {
    /// Fewest (noisy) active members for a cell to be published; at least 3.
    pub min_members: u32,
    /// Days that must pass between a period's end and the round opening.
    pub min_data_age_days: u32,
}

impl Default for PoolPolicy {
    fn default() -> Self {
        Self {
            min_members: 5,
            min_data_age_days: 90,
        }
    }
}

/// One member key on the roster.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RosterEntry {
    /// Hex SHA-256 of the member's public key.
    pub key_id: String,
    /// The member's Ed25519 public key, base64.
    pub public_key: String,
    /// The association's own name for the member: in pool.toml only, never
    /// in the signed pool (empty there), never published.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
}

impl Pool {
    /// The association's public key.
    pub fn association_public_key(&self) -> Result<PublicKey, crate::KeyError> {
        PublicKey::from_base64(&self.association_key)
    }

    /// The pool as it is signed and sent to members and the helper: the same
    /// pool with every roster label removed, so that no member (a competitor)
    /// and no helper learns who the other members are.
    pub fn signed_form(&self) -> Pool {
        let mut p = self.clone();
        for m in &mut p.roster {
            m.label.clear();
        }
        p
    }

    /// The roster entry with this key id.
    pub fn member(&self, key_id: &str) -> Option<&RosterEntry> {
        self.roster.iter().find(|m| m.key_id == key_id)
    }

    /// Problems that make the pool unusable, one message each (empty: fine).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.purpose.trim().is_empty() {
            out.push("the pool has no purpose: state why members pool their figures".into());
        }
        if !is_identifier(&self.id) {
            out.push(format!(
                "pool id '{}' must be 1-64 characters of a-z, 0-9, '-', '_' or '.'",
                self.id
            ));
        }
        if self.association_public_key().is_err() {
            out.push("association_key is not an Ed25519 public key (32 bytes, base64)".into());
        }
        if self.policy.min_members < MIN_MEMBERS_FLOOR {
            out.push(format!(
                "policy.min_members is {}; the floor is {MIN_MEMBERS_FLOOR}",
                self.policy.min_members
            ));
        }
        for (i, m) in self.roster.iter().enumerate() {
            match PublicKey::from_base64(&m.public_key) {
                Ok(k) if k.key_id() == m.key_id => {}
                Ok(_) => out.push(format!(
                    "roster entry {}: key_id does not match its public key",
                    i + 1
                )),
                Err(_) => out.push(format!("roster entry {}: not an Ed25519 public key", i + 1)),
            }
            if self.roster[..i].iter().any(|o| o.key_id == m.key_id) {
                out.push(format!(
                    "roster entry {} repeats a key already on the roster",
                    i + 1
                ));
            }
        }
        out
    }
}

/// True for ids usable as file names: 1-64 of `a-z0-9-_.`, not starting with `.`.
pub fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && !s.starts_with('.')
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        })
}
