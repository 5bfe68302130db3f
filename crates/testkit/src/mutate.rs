//! Byte-level mutations for the fuzz harnesses (proptest strategies): a valid
//! document is damaged by deleting, inserting, replacing or truncating bytes
//! at arbitrary positions. Each harness brings its own `interesting` bytes
//! (what matters to CSV, TOML, JSON or base64).

use proptest::prelude::*;

/// One edit of a byte string. Positions wrap around the current length, so
/// every generated edit applies to any input.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Remove up to `n` bytes from a position.
    Delete(usize, usize),
    /// Insert bytes at a position.
    Insert(usize, Vec<u8>),
    /// Overwrite the byte at a position.
    Replace(usize, u8),
    /// Cut the input at a position.
    Truncate(usize),
}

/// A short list of mutations (`count` of them), inserting `interesting`
/// bytes and deleting runs of up to `max_delete - 1` bytes.
pub fn mutations(
    interesting: impl Strategy<Value = Vec<u8>> + 'static,
    max_delete: usize,
    count: std::ops::Range<usize>,
) -> impl Strategy<Value = Vec<Mutation>> {
    let interesting = interesting.boxed();
    prop::collection::vec(
        prop_oneof![
            (any::<usize>(), 1usize..max_delete).prop_map(|(p, n)| Mutation::Delete(p, n)),
            (any::<usize>(), interesting).prop_map(|(p, b)| Mutation::Insert(p, b)),
            (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Replace(p, b)),
            any::<usize>().prop_map(Mutation::Truncate),
        ],
        count,
    )
}

/// `bytes` with every mutation applied in order.
pub fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len();
        match m {
            Mutation::Delete(p, n) if len > 0 => {
                let start = p % len;
                bytes.drain(start..(start + n).min(len));
            }
            Mutation::Insert(p, b) => {
                let at = p % (len + 1);
                bytes.splice(at..at, b.iter().copied());
            }
            Mutation::Replace(p, b) if len > 0 => bytes[p % len] = *b,
            Mutation::Truncate(p) if len > 0 => bytes.truncate(p % len),
            _ => {}
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::{apply, Mutation};

    #[test]
    fn each_mutation_edits_where_it_says_and_wraps_positions() {
        let b = b"abcdef".to_vec();
        assert_eq!(apply(b.clone(), &[Mutation::Delete(7, 2)]), b"adef");
        assert_eq!(
            apply(b.clone(), &[Mutation::Insert(6, b"XY".to_vec())]),
            b"abcdefXY"
        );
        assert_eq!(
            apply(b.clone(), &[Mutation::Insert(7, b"X".to_vec())]),
            b"Xabcdef"
        );
        assert_eq!(
            apply(b.clone(), &[Mutation::Insert(8, b"X".to_vec())]),
            b"aXbcdef"
        );
        assert_eq!(apply(b.clone(), &[Mutation::Replace(9, b'Z')]), b"abcZef");
        assert_eq!(apply(b.clone(), &[Mutation::Truncate(4)]), b"abcd");
        assert_eq!(
            apply(Vec::new(), &[Mutation::Delete(3, 1), Mutation::Truncate(2)]),
            b""
        );
    }
}
