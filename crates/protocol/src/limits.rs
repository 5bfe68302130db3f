//! The size limits of every document the tools read, derived from the
//! formats: a file past its limit is refused with the limit named before it
//! is read whole (see `coopbench_fsio::read_bounded`). The table of limits,
//! with the CSV limits of `coopbench-schema`, is in `docs/robustness.md`.

use crate::round::{Round, MAX_ROUND_CELLS};

/// Bytes of JSON one `i64` cell value can take, with its separator.
const VALUE_JSON_BYTES: u64 = 21;
/// Room for a document's fixed fields (ids, hashes, noise parameters, a
/// signature, a sealed seed and whitespace): far more than any needs.
const FIXED_BYTES: u64 = 64 << 10;
/// Base64 grows its input by 4/3; the signed payload is base64 in the envelope.
fn base64_len(n: u64) -> u64 {
    n.div_ceil(3) * 4
}

/// A signed pool or its TOML: the roster's keys and labels (2,000 members of
/// 1 KiB each) with room to spare.
pub const POOL_MAX_BYTES: u64 = 4 << 20;
/// A round's TOML or signed round: its dimensions' labels (at most
/// [`MAX_ROUND_CELLS`] cells are used, at 8 bytes a label) and metrics.
pub const ROUND_MAX_BYTES: u64 = 16 << 20;
/// A published manifest: per table a few lines of facts, per round a
/// statement; one round of [`MAX_ROUND_CELLS`] cells has at most that many rows.
pub const MANIFEST_MAX_BYTES: u64 = 16 << 20;
/// A small configuration file: a column mapping, a schema, a key, a pin.
pub const CONFIG_MAX_BYTES: u64 = 1 << 20;
/// A member's budget ledger: one entry (under 1 KiB) per round answered.
pub const LEDGER_MAX_BYTES: u64 = 64 << 20;
/// One signed sealed seed (HPKE encapsulated key and a 32-byte seed, base64,
/// with its signature) inside a helper batch.
pub const SEALED_SEED_MAX_BYTES: u64 = 8 << 10;

/// The most bytes a contribution to `round` can take: every cell's value at
/// its widest, the grid's labels JSON-escaped at their widest (6 bytes a
/// byte), base64 of the payload, and [`FIXED_BYTES`] per metric and for the
/// envelope. A larger file cannot be a contribution to this round.
pub fn contribution_max_bytes(round: &Round) -> u64 {
    let mut payload = FIXED_BYTES;
    for m in &round.metrics {
        let grid = round.grid(m);
        let labels: u64 = grid
            .iter()
            .flat_map(|d| d.labels.iter().map(|l| 6 * l.len() as u64 + 3))
            .sum();
        let cells = round.metric_cells(m).min(MAX_ROUND_CELLS) as u64;
        payload += FIXED_BYTES + labels + VALUE_JSON_BYTES * cells;
    }
    base64_len(payload) + FIXED_BYTES
}

/// The most bytes the helper's signed sum for `round` can take: every
/// cell's value, and a key id per member of a roster of `roster` keys.
pub fn helper_sum_max_bytes(round: &Round, roster: usize) -> u64 {
    let cells: u64 = round
        .metrics
        .iter()
        .map(|m| round.metric_cells(m).min(MAX_ROUND_CELLS) as u64)
        .sum();
    base64_len(FIXED_BYTES + VALUE_JSON_BYTES * cells + 67 * roster as u64) + FIXED_BYTES
}

/// The most bytes a helper batch for a pool of `roster` keys can take: one
/// sealed seed per member.
pub fn helper_batch_max_bytes(roster: usize) -> u64 {
    base64_len(FIXED_BYTES + SEALED_SEED_MAX_BYTES * roster as u64) + FIXED_BYTES
}
