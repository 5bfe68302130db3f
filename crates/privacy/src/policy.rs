//! The member's own budget policy: at most `max_rho` of ρ-zCDP per rolling
//! window of `window_days`, checked against the [`Ledger`] before an export.
//!
//! Stored as a JSON file, saved atomically (temporary file in the same
//! directory, fsync'd, renamed over the old one, directory fsync'd).

use std::{
    io,
    path::{Path, PathBuf},
};

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ledger::Ledger;

/// Relative tolerance of the cap check, for f64 rounding of summed charges.
pub const POLICY_SLACK: f64 = 1e-9;

/// At most `max_rho` spent in any `window_days`-day window ending now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The cap on ρ (zCDP) spent within the window.
    pub max_rho: f64,
    /// Length of the rolling window, in days (at least 1).
    pub window_days: u32,
}

impl Default for Policy {
    /// ρ = 2 per 365 days.
    fn default() -> Self {
        Policy {
            max_rho: 2.0,
            window_days: 365,
        }
    }
}

/// What a round leaves of the budget, when the policy allows it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Remaining {
    /// ρ already spent in the window.
    pub spent: f64,
    /// ρ spent in the window once this round is charged.
    pub after: f64,
    /// The policy's cap.
    pub cap: f64,
}

impl Remaining {
    /// ρ still available after this round: `cap − after`.
    pub fn left(&self) -> f64 {
        self.cap - self.after
    }
}

/// Why the policy refuses, or could not be read or written.
#[derive(Debug, Error)]
pub enum PolicyError {
    /// The round would take spending in the window above the cap.
    #[error("this round needs ρ = {requested}, but ρ = {spent} is already spent in the last {window_days} days and the policy allows at most ρ = {cap} per {window_days} days (it would reach ρ = {after})")]
    Exceeded {
        /// ρ already spent in the window.
        spent: f64,
        /// ρ the round asks for.
        requested: f64,
        /// Spending after the round.
        after: f64,
        /// The cap.
        cap: f64,
        /// The window length.
        window_days: u32,
    },
    /// The ρ asked for is not finite and non-negative.
    #[error("the ρ requested must be a finite number of at least zero (got {rho})")]
    InvalidRequest {
        /// The offending ρ.
        rho: f64,
    },
    /// The policy itself is invalid.
    #[error("invalid privacy policy: {reason}")]
    Invalid {
        /// Which field, and why.
        reason: String,
    },
    /// Reading or writing the policy file failed.
    #[error("privacy policy {}: {source}", path.display())]
    Io {
        /// The policy file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The policy file is not a valid policy.
    #[error("privacy policy {}: not a valid policy ({source})", path.display())]
    Parse {
        /// The policy file.
        path: PathBuf,
        /// The JSON error.
        source: serde_json::Error,
    },
}

impl Policy {
    /// Checks `max_rho` is finite and non-negative and `window_days >= 1`.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if !(self.max_rho.is_finite() && self.max_rho >= 0.0) {
            return Err(PolicyError::Invalid {
                reason: format!(
                    "max_rho must be a finite number of at least zero (got {})",
                    self.max_rho
                ),
            });
        }
        if self.window_days == 0 {
            return Err(PolicyError::Invalid {
                reason: "window_days must be at least 1".into(),
            });
        }
        Ok(())
    }

    /// Whether charging `extra_rho` now keeps spending within the cap: the ρ
    /// of ledger entries at or after `now − window_days` plus `extra_rho` must
    /// not exceed `max_rho` (up to a relative [`POLICY_SLACK`] for f64 rounding).
    pub fn check(
        &self,
        ledger: &Ledger,
        now: DateTime<Utc>,
        extra_rho: f64,
    ) -> Result<Remaining, PolicyError> {
        self.validate()?;
        if !(extra_rho.is_finite() && extra_rho >= 0.0) {
            return Err(PolicyError::InvalidRequest { rho: extra_rho });
        }
        // A window reaching before chrono's earliest date counts everything.
        let since = TimeDelta::try_days(i64::from(self.window_days))
            .and_then(|w| now.checked_sub_signed(w))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let spent = ledger.spent_since(since);
        let after = spent + extra_rho;
        // Sums of f64 charges drift by ulps (ten rounds of 0.2 add up to
        // 2.0000000000000004); a relative slack of 1e-9 absorbs that and
        // nothing more (1e-9 of a cap of 2 is a ρ no one can use).
        if after > self.max_rho * (1.0 + POLICY_SLACK) {
            return Err(PolicyError::Exceeded {
                spent,
                requested: extra_rho,
                after,
                cap: self.max_rho,
                window_days: self.window_days,
            });
        }
        Ok(Remaining {
            spent,
            after,
            cap: self.max_rho,
        })
    }

    /// Reads and validates a policy file.
    pub fn load(path: impl AsRef<Path>) -> Result<Policy, PolicyError> {
        let path = path.as_ref();
        let limit = coopbench_protocol::limits::CONFIG_MAX_BYTES;
        let text =
            coopbench_fsio::read_bounded(path, limit, "a policy file").map_err(|source| {
                PolicyError::Io {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
        let policy: Policy =
            serde_json::from_slice(&text).map_err(|source| PolicyError::Parse {
                path: path.to_path_buf(),
                source,
            })?;
        policy.validate()?;
        Ok(policy)
    }

    /// [`Policy::load`], or the default policy if the file does not exist.
    pub fn load_or_default(path: impl AsRef<Path>) -> Result<Policy, PolicyError> {
        match Policy::load(path) {
            Err(PolicyError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                Ok(Policy::default())
            }
            other => other,
        }
    }

    /// Validates and writes the policy atomically: a temporary file in the
    /// same directory, fsync'd, renamed over `path`, then the directory fsync'd.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), PolicyError> {
        self.validate()?;
        let path = path.as_ref();
        let io_err = |source| PolicyError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut text = serde_json::to_vec_pretty(self).map_err(|e| io_err(io::Error::other(e)))?;
        text.push(b'\n');
        coopbench_fsio::write_atomic(path, &text).map_err(io_err)?;
        Ok(())
    }
}
