//! DSSE envelopes (github.com/secure-systems-lab/dsse): a typed payload and
//! Ed25519 signatures over its pre-authentication encoding, plus the canonical
//! JSON and SHA-256 used for document hashes.

use crate::keys::{PublicKey, SigningKey};
use base64::Engine as _;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// A signed document.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// What the payload is, e.g. `application/vnd.coopbench.round+json`.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// The payload, base64.
    pub payload: String,
    /// Signatures over PAE(payloadType, payload).
    pub signatures: Vec<Signature>,
}

/// One signature in an envelope.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// Hex SHA-256 of the signer's public key.
    pub keyid: String,
    /// The Ed25519 signature, base64.
    pub sig: String,
}

/// Why an envelope was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    /// The envelope is not valid JSON of the DSSE shape.
    #[error("not a DSSE envelope: {0}")]
    Malformed(String),
    /// The payload type is not the one expected.
    #[error("wrong document type: expected {expected}, found {found}")]
    WrongType {
        /// The type the caller expects.
        expected: String,
        /// The type in the envelope.
        found: String,
    },
    /// No signature by the expected key.
    #[error("not signed by the expected key {0}")]
    NotSignedBy(String),
    /// A signature by the expected key id that does not verify.
    #[error(
        "the signature by {0} does not verify: the document was altered or the signature forged"
    )]
    BadSignature(String),
    /// The payload does not parse as the expected document.
    #[error("the signed payload is not a valid document: {0}")]
    BadPayload(String),
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// DSSE's pre-authentication encoding.
fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// The canonical JSON of a value: object keys sorted at every depth (by their
/// UTF-8 bytes), no insignificant whitespace. Hashes and signed payloads use
/// this form. Keys are sorted here rather than trusting serde_json's map type,
/// which another crate's `preserve_order` feature could change.
pub fn canonical_json<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let v = serde_json::to_value(value)?;
    let mut out = Vec::new();
    write_canonical(&v, &mut out)?;
    Ok(out)
}

fn write_canonical(v: &serde_json::Value, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, k)?;
                out.push(b':');
                write_canonical(&map[k], out)?;
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out)?;
            }
            out.push(b']');
        }
        other => serde_json::to_writer(&mut *out, other)?,
    }
    Ok(())
}

impl Envelope {
    /// Signs a document: its canonical JSON becomes the payload.
    pub fn sign<T: Serialize>(
        payload_type: &str,
        doc: &T,
        key: &SigningKey,
    ) -> Result<Self, serde_json::Error> {
        let body = canonical_json(doc)?;
        let sig = key.sign(&pae(payload_type, &body));
        Ok(Self {
            payload_type: payload_type.to_string(),
            payload: b64().encode(&body),
            signatures: vec![Signature {
                keyid: key.public().key_id(),
                sig: b64().encode(sig),
            }],
        })
    }

    /// Parses an envelope from JSON text.
    pub fn from_json(text: &[u8]) -> Result<Self, VerifyError> {
        serde_json::from_slice(text).map_err(|e| VerifyError::Malformed(e.to_string()))
    }

    /// The envelope as pretty JSON.
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("envelope serialises");
        v.push(b'\n');
        v
    }

    /// Verifies the signature of `key` and the payload type, and returns the
    /// raw payload bytes.
    pub fn verify_bytes(
        &self,
        payload_type: &str,
        key: &PublicKey,
    ) -> Result<Vec<u8>, VerifyError> {
        if self.payload_type != payload_type {
            return Err(VerifyError::WrongType {
                expected: payload_type.to_string(),
                found: self.payload_type.clone(),
            });
        }
        let body = b64()
            .decode(&self.payload)
            .map_err(|e| VerifyError::Malformed(format!("payload is not base64: {e}")))?;
        let keyid = key.key_id();
        let sigs: Vec<&Signature> = self
            .signatures
            .iter()
            .filter(|s| s.keyid == keyid)
            .collect();
        if sigs.is_empty() {
            return Err(VerifyError::NotSignedBy(keyid));
        }
        let msg = pae(payload_type, &body);
        for s in sigs {
            if let Ok(sig) = b64().decode(&s.sig) {
                if key.verify(&msg, &sig) {
                    return Ok(body);
                }
            }
        }
        Err(VerifyError::BadSignature(keyid))
    }

    /// Verifies as [`Envelope::verify_bytes`] and parses the payload.
    pub fn verify<T: DeserializeOwned>(
        &self,
        payload_type: &str,
        key: &PublicKey,
    ) -> Result<T, VerifyError> {
        let body = self.verify_bytes(payload_type, key)?;
        serde_json::from_slice(&body).map_err(|e| VerifyError::BadPayload(e.to_string()))
    }

    /// The key ids that signed (unverified: for looking up the right key).
    pub fn signer_ids(&self) -> Vec<&str> {
        self.signatures.iter().map(|s| s.keyid.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::sha256_hex;
    use serde_json::json;

    const T: &str = "application/vnd.coopbench.test+json";

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // From the DSSE protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let a = canonical_json(&json!({"b": 1, "a": {"d": [1, 2], "c": "x"}})).unwrap();
        assert_eq!(a, br#"{"a":{"c":"x","d":[1,2]},"b":1}"#);
    }

    #[test]
    fn signed_documents_verify_and_tampering_is_caught() {
        let key = SigningKey::generate().unwrap();
        let doc = json!({"round": "2025-h1", "rho": 0.5});
        let env = Envelope::sign(T, &doc, &key).unwrap();
        let back: serde_json::Value = env.verify(T, &key.public()).unwrap();
        assert_eq!(back, doc);

        // A flipped bit in the payload.
        let mut bad = env.clone();
        let mut body = b64().decode(&bad.payload).unwrap();
        body[5] ^= 1;
        bad.payload = b64().encode(body);
        assert_eq!(
            bad.verify_bytes(T, &key.public()),
            Err(VerifyError::BadSignature(key.public().key_id()))
        );

        // A foreign key.
        let other = SigningKey::generate().unwrap();
        assert_eq!(
            env.verify_bytes(T, &other.public()),
            Err(VerifyError::NotSignedBy(other.public().key_id()))
        );

        // A foreign signature relabelled with the expected key id.
        let mut forged = Envelope::sign(T, &doc, &other).unwrap();
        forged.signatures[0].keyid = key.public().key_id();
        assert!(matches!(
            forged.verify_bytes(T, &key.public()),
            Err(VerifyError::BadSignature(_))
        ));

        // Another document type.
        assert!(matches!(
            env.verify_bytes("application/other", &key.public()),
            Err(VerifyError::WrongType { .. })
        ));

        // Round trip through JSON.
        let parsed = Envelope::from_json(&env.to_json()).unwrap();
        assert_eq!(parsed, env);
        assert!(Envelope::from_json(b"{}").is_err());
    }

    #[test]
    fn key_ids_and_public_key_text() {
        let key = SigningKey::generate().unwrap();
        let p = key.public();
        assert_eq!(p.key_id(), sha256_hex(&p.0));
        assert_eq!(p.key_id().len(), 64);
        assert_eq!(PublicKey::from_base64(&p.to_base64()).unwrap(), p);
        assert!(PublicKey::from_base64("AAAA").is_err());
        let reloaded = SigningKey::from_pkcs8(key.pkcs8_secret()).unwrap();
        assert_eq!(reloaded.public(), p);
        assert_eq!(p.fingerprint().len(), 19);
        assert!(!format!("{key:?}").contains(&b64().encode(key.pkcs8_secret())));
    }
}
