//! Reading and verifying signed documents from files: one place that turns an
//! envelope into a trusted pool, round or contribution, with its hash.

use crate::contribution::{Contribution, CONTRIBUTION_TYPE};
use crate::digest::sha256_hex;
use crate::dsse::{Envelope, VerifyError};
use crate::keys::{PublicKey, SigningKey};
use crate::pool::{Pool, POOL_TYPE};
use crate::round::{Round, ROUND_TYPE};
use crate::two_server::{
    HelperBatch, HelperSum, SealedSeedDoc, BATCH_TYPE, HELPER_SUM_TYPE, SEALED_SEED_TYPE,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A document whose signature has been verified, with its hash.
#[derive(Debug, Clone)]
pub struct Verified<T> {
    /// The document.
    pub doc: T,
    /// Hex SHA-256 of the signed payload bytes.
    pub hash: String,
    /// Key id of the signer that verified.
    pub signer: String,
}

/// A document type that travels signed.
pub trait Signed: Serialize + DeserializeOwned {
    /// Its DSSE payload type.
    const PAYLOAD_TYPE: &'static str;
}

impl Signed for Pool {
    const PAYLOAD_TYPE: &'static str = POOL_TYPE;
}
impl Signed for Round {
    const PAYLOAD_TYPE: &'static str = ROUND_TYPE;
}
impl Signed for Contribution {
    const PAYLOAD_TYPE: &'static str = CONTRIBUTION_TYPE;
}
impl Signed for SealedSeedDoc {
    const PAYLOAD_TYPE: &'static str = SEALED_SEED_TYPE;
}
impl Signed for HelperBatch {
    const PAYLOAD_TYPE: &'static str = BATCH_TYPE;
}
impl Signed for HelperSum {
    const PAYLOAD_TYPE: &'static str = HELPER_SUM_TYPE;
}

/// Signs a document.
pub fn sign<T: Signed>(doc: &T, key: &SigningKey) -> Envelope {
    Envelope::sign(T::PAYLOAD_TYPE, doc, key).expect("documents serialise to JSON")
}

/// Verifies `envelope` as a `T` signed by `key`.
pub fn verify<T: Signed>(envelope: &Envelope, key: &PublicKey) -> Result<Verified<T>, VerifyError> {
    let body = envelope.verify_bytes(T::PAYLOAD_TYPE, key)?;
    let doc = serde_json::from_slice(&body).map_err(|e| VerifyError::BadPayload(e.to_string()))?;
    Ok(Verified {
        doc,
        hash: sha256_hex(&body),
        signer: key.key_id(),
    })
}

/// Reads a document's payload WITHOUT verifying it, to learn which key to
/// verify it with (e.g. the pool's own association key at `join`). Never
/// trust the result before [`verify`].
pub fn peek<T: Signed>(envelope: &Envelope) -> Result<T, VerifyError> {
    use base64::Engine as _;
    if envelope.payload_type != T::PAYLOAD_TYPE {
        return Err(VerifyError::WrongType {
            expected: T::PAYLOAD_TYPE.to_string(),
            found: envelope.payload_type.clone(),
        });
    }
    let body = base64::engine::general_purpose::STANDARD
        .decode(&envelope.payload)
        .map_err(|e| VerifyError::Malformed(format!("payload is not base64: {e}")))?;
    serde_json::from_slice(&body).map_err(|e| VerifyError::BadPayload(e.to_string()))
}
