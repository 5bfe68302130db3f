//! Ed25519 key pairs and their ids (hex SHA-256 of the raw public key).

use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};

/// A key could not be created, parsed or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The private key bytes are not a PKCS#8 Ed25519 key.
    #[error("not an Ed25519 private key (PKCS#8)")]
    BadPrivateKey,
    /// The public key text is not 32 bytes of base64.
    #[error("not an Ed25519 public key (expected 32 bytes, base64)")]
    BadPublicKey,
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Rng,
}

/// An Ed25519 signing key. Its PKCS#8 bytes are secret: never print them.
pub struct SigningKey {
    pair: Ed25519KeyPair,
    pkcs8: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.public().key_id())
    }
}

impl SigningKey {
    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> Result<Self, KeyError> {
        let doc =
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| KeyError::Rng)?;
        Self::from_pkcs8(doc.as_ref())
    }

    /// Loads a key from its PKCS#8 bytes.
    pub fn from_pkcs8(bytes: &[u8]) -> Result<Self, KeyError> {
        let pair = Ed25519KeyPair::from_pkcs8(bytes).map_err(|_| KeyError::BadPrivateKey)?;
        Ok(Self {
            pair,
            pkcs8: bytes.to_vec(),
        })
    }

    /// The secret PKCS#8 bytes, to be written to a 0600 file and nowhere else.
    pub fn pkcs8_secret(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        let mut raw = [0u8; 32];
        raw.copy_from_slice(self.pair.public_key().as_ref());
        PublicKey(raw)
    }

    /// Signs bytes.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        self.pair.sign(msg).as_ref().to_vec()
    }
}

/// An Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(pub [u8; 32]);

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.key_id())
    }
}

impl PublicKey {
    /// The key id: hex SHA-256 of the 32 raw public-key bytes.
    pub fn key_id(&self) -> String {
        crate::digest::sha256_hex(&self.0)
    }

    /// A short fingerprint for people to compare over the phone: the key id's
    /// first 16 hex digits in groups of four.
    pub fn fingerprint(&self) -> String {
        let id = self.key_id();
        id.as_bytes()[..16]
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(":")
    }

    /// The key as base64 text, as it is shared and stored in documents.
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    /// Parses base64 text.
    pub fn from_base64(s: &str) -> Result<Self, KeyError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map_err(|_| KeyError::BadPublicKey)?;
        let raw: [u8; 32] = bytes.try_into().map_err(|_| KeyError::BadPublicKey)?;
        Ok(Self(raw))
    }

    /// Whether `sig` is this key's signature of `msg`.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.0)
            .verify(msg, sig)
            .is_ok()
    }
}
