//! coopbench's wire formats: the pool, round and contribution documents, their
//! canonical hashes, the guardrails a round must keep, and signed DSSE
//! envelopes (Ed25519 via `ring`). Every document that crosses between a
//! member and the association is signed and verified here, in one place.

pub mod contribution;
pub mod date;
pub mod digest;
pub mod dsse;
pub mod fields;
pub mod guardrails;
pub mod keys;
pub mod limits;
pub mod pool;
pub mod round;
pub mod signed;
pub mod two_server;

pub use contribution::{Contribution, MetricValues, NoiseParams, CONTRIBUTION_TYPE};
pub use date::Date;
pub use digest::sha256_hex;
pub use dsse::{canonical_json, Envelope, Signature, VerifyError};
pub use keys::{KeyError, PublicKey, SigningKey};
pub use pool::{Pool, PoolPolicy, RosterEntry, POOL_TYPE};
pub use round::{Dimension, Kind, Metric, Mode, Round, SourceKind, ROUND_TYPE};
pub use signed::{Signed, Verified};
pub use two_server::{HelperBatch, HelperSum, SealedSeedDoc, TwoServer};

/// The toolkit version written into contributions and benchmark metadata.
pub const TOOLKIT_VERSION: &str = concat!("coopbench ", env!("CARGO_PKG_VERSION"));
