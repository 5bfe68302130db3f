//! Sealing a seed to the helper with HPKE (RFC 9180), base mode, suite
//! DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305.
//!
//! The associated data binds a sealed seed to one round and one member
//! ([`seed_aad`]): moved into another round's file or another member's file,
//! it no longer opens.

use crate::prg::{Seed, SEED_LEN};
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use rand_chacha::rand_core::SeedableRng;
use rand_core::{OsRng, TryRngCore};
use zeroize::Zeroize;

type Kem = X25519HkdfSha256;

/// The suite, in words, as rounds and documentation state it.
pub const HPKE_SUITE: &str =
    "HPKE base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305";

/// The HPKE `info` string of every sealed seed.
pub const HPKE_INFO: &[u8] = b"coopbench two-server seed v1";

/// Why a seed could not be sealed or opened.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum HpkeError {
    /// The helper's public or private key is not a valid X25519 key.
    #[error("not an X25519 key (expected 32 bytes)")]
    BadKey,
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Rng,
    /// Encapsulation or encryption failed.
    #[error("sealing the seed failed")]
    Seal,
    /// The sealed seed does not open under this key and associated data: it was
    /// sealed to another helper, for another round or member, or altered.
    #[error("the sealed seed does not open: it was sealed to another helper key, for another round or member, or altered")]
    Open,
}

/// A seed sealed to the helper: the encapsulated key and the ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSeed {
    /// HPKE's encapsulated key (32 bytes).
    pub enc: Vec<u8>,
    /// The seed encrypted with ChaCha20-Poly1305 (32 bytes plus a 16-byte tag).
    pub ciphertext: Vec<u8>,
}

/// The associated data of a member's sealed seed: a domain tag, the round's
/// hash and the member's key id (both hex), separated by NUL bytes.
pub fn seed_aad(round_hash: &str, member_key_id: &str) -> Vec<u8> {
    let mut aad = b"coopbench sealed seed v1\0".to_vec();
    aad.extend_from_slice(round_hash.as_bytes());
    aad.push(0);
    aad.extend_from_slice(member_key_id.as_bytes());
    aad
}

/// The helper's HPKE key pair. The private half is secret: it lives in a 0600
/// file on the helper's machine and is wiped from memory when dropped.
pub struct HelperKeyPair {
    secret: [u8; 32],
    public: [u8; 32],
}

impl Drop for HelperKeyPair {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

impl std::fmt::Debug for HelperKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HelperKeyPair(..)")
    }
}

fn os_rng_32() -> Result<[u8; 32], HpkeError> {
    let mut b = [0u8; 32];
    OsRng.try_fill_bytes(&mut b).map_err(|_| HpkeError::Rng)?;
    Ok(b)
}

impl HelperKeyPair {
    /// A fresh key pair from the operating system's random number generator.
    pub fn generate() -> Result<Self, HpkeError> {
        let mut ikm = os_rng_32()?;
        let (sk, pk) = Kem::derive_keypair(&ikm);
        ikm.zeroize();
        Ok(Self {
            secret: sk.to_bytes().into(),
            public: pk.to_bytes().into(),
        })
    }

    /// Loads the key pair from the 32 secret bytes.
    pub fn from_secret(bytes: &[u8]) -> Result<Self, HpkeError> {
        let sk =
            <Kem as hpke::Kem>::PrivateKey::from_bytes(bytes).map_err(|_| HpkeError::BadKey)?;
        let pk = Kem::sk_to_pk(&sk);
        Ok(Self {
            secret: sk.to_bytes().into(),
            public: pk.to_bytes().into(),
        })
    }

    /// The secret bytes, to be written to a 0600 file and nowhere else.
    pub fn secret_bytes(&self) -> &[u8; 32] {
        &self.secret
    }

    /// The public key, published in the round.
    pub fn public_bytes(&self) -> [u8; 32] {
        self.public
    }
}

/// Seals `seed` to the helper's public key with `aad` (see [`seed_aad`]).
pub fn seal_seed(helper_public: &[u8], seed: &Seed, aad: &[u8]) -> Result<SealedSeed, HpkeError> {
    let pk =
        <Kem as hpke::Kem>::PublicKey::from_bytes(helper_public).map_err(|_| HpkeError::BadKey)?;
    // HPKE's ephemeral key comes from a ChaCha20 generator seeded by the OS RNG,
    // so that an RNG failure is an error, not a panic.
    let mut rng = rand_chacha::ChaCha20Rng::from_seed(os_rng_32()?);
    let (enc, ciphertext) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, Kem, _>(
        &OpModeS::Base,
        &pk,
        HPKE_INFO,
        seed.secret_bytes(),
        aad,
        &mut rng,
    )
    .map_err(|_| HpkeError::Seal)?;
    Ok(SealedSeed {
        enc: enc.to_bytes().to_vec(),
        ciphertext,
    })
}

/// Opens a sealed seed with the helper's key pair and the `aad` it must have
/// been sealed with.
pub fn open_seed(keys: &HelperKeyPair, sealed: &SealedSeed, aad: &[u8]) -> Result<Seed, HpkeError> {
    let sk =
        <Kem as hpke::Kem>::PrivateKey::from_bytes(&keys.secret).map_err(|_| HpkeError::BadKey)?;
    let enc =
        <Kem as hpke::Kem>::EncappedKey::from_bytes(&sealed.enc).map_err(|_| HpkeError::Open)?;
    let mut plain = hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
        &OpModeR::Base,
        &sk,
        &enc,
        HPKE_INFO,
        &sealed.ciphertext,
        aad,
    )
    .map_err(|_| HpkeError::Open)?;
    let out: Result<[u8; SEED_LEN], _> = plain.as_slice().try_into();
    plain.zeroize();
    out.map(Seed::from_bytes).map_err(|_| HpkeError::Open)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_with_the_same_aad_and_key() {
        let helper = HelperKeyPair::generate().unwrap();
        let seed = Seed::fresh().unwrap();
        let aad = seed_aad("roundhash", "member-a");
        let sealed = seal_seed(&helper.public_bytes(), &seed, &aad).unwrap();
        assert_eq!(sealed.enc.len(), 32);
        assert_eq!(sealed.ciphertext.len(), 48);
        assert_eq!(open_seed(&helper, &sealed, &aad).unwrap(), seed);
        // Another member, another round, another helper, a flipped bit: no.
        let other_member = seed_aad("roundhash", "member-b");
        let other_round = seed_aad("roundhash2", "member-a");
        assert_eq!(
            open_seed(&helper, &sealed, &other_member),
            Err(HpkeError::Open)
        );
        assert_eq!(
            open_seed(&helper, &sealed, &other_round),
            Err(HpkeError::Open)
        );
        let stranger = HelperKeyPair::generate().unwrap();
        assert_eq!(open_seed(&stranger, &sealed, &aad), Err(HpkeError::Open));
        let mut bent = sealed.clone();
        bent.ciphertext[3] ^= 1;
        assert_eq!(open_seed(&helper, &bent, &aad), Err(HpkeError::Open));
    }

    #[test]
    fn key_pair_round_trips_through_its_secret_bytes() {
        let k = HelperKeyPair::generate().unwrap();
        let back = HelperKeyPair::from_secret(k.secret_bytes()).unwrap();
        assert_eq!(back.public_bytes(), k.public_bytes());
        assert!(HelperKeyPair::from_secret(&[1, 2, 3]).is_err());
        assert!(seal_seed(&[0; 5], &Seed::fresh().unwrap(), b"x").is_err());
    }

    #[test]
    fn aad_separates_fields() {
        assert_ne!(seed_aad("ab", "c"), seed_aad("a", "bc"));
    }
}
