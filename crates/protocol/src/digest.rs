//! The one hash of the protocol: SHA-256, written as lowercase hex (key ids,
//! document hashes, round hashes).

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}
