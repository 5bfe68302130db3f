//! Repeated values among millions of rows in bounded memory: the 64-bit hash
//! of every present key and its row are partitioned by the hash's top bits;
//! once more than a few MB are held, the partitions are spilled to anonymous
//! temporary files, and at the end each partition is sorted on its own. Memory
//! is then one partition (1/256 of the keys), whatever the file's size.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};

/// Partitions, by the top 8 bits of the hash.
const PARTS: usize = 256;
/// Entries held in memory before the partitions are spilled (12 bytes each).
const SPILL_AT: usize = 1 << 20;
/// Bytes of one entry on disk: the hash, then the row, little-endian.
const ENTRY: usize = 12;

/// Finds repeated 64-bit keys; see the module documentation.
pub(crate) struct DupFinder {
    held: Vec<Vec<(u64, u32)>>,
    held_len: usize,
    spill: Option<Vec<File>>,
    /// Scratch buffer for one partition's bytes.
    scratch: Vec<u8>,
}

/// The repeats found: how many rows repeat an earlier row's key, and the
/// first of them in row order as (row, row of the first occurrence).
#[derive(Debug, Default)]
pub(crate) struct Repeats {
    /// Rows whose key occurred in an earlier row.
    pub count: u64,
    /// Up to the requested number of repeats, in row order.
    pub first: Vec<(u32, u32)>,
}

impl DupFinder {
    /// An empty finder.
    pub fn new() -> Self {
        Self {
            held: vec![Vec::new(); PARTS],
            held_len: 0,
            spill: None,
            scratch: Vec::new(),
        }
    }

    /// Adds keys with their rows.
    pub fn extend(&mut self, keys: &[(u64, u32)]) -> std::io::Result<()> {
        for &(h, r) in keys {
            self.held[(h >> 56) as usize].push((h, r));
        }
        self.held_len += keys.len();
        if self.held_len >= SPILL_AT {
            self.spill_all()?;
        }
        Ok(())
    }

    fn spill_all(&mut self) -> std::io::Result<()> {
        if self.spill.is_none() {
            let files = (0..PARTS)
                .map(|_| tempfile::tempfile())
                .collect::<std::io::Result<Vec<_>>>()?;
            self.spill = Some(files);
        }
        let files = self.spill.as_mut().expect("spill files just created");
        for (part, file) in self.held.iter_mut().zip(files.iter_mut()) {
            self.scratch.clear();
            for &(h, r) in part.iter() {
                self.scratch.extend_from_slice(&h.to_le_bytes());
                self.scratch.extend_from_slice(&r.to_le_bytes());
            }
            file.write_all(&self.scratch)?;
            part.clear();
        }
        self.held_len = 0;
        Ok(())
    }

    /// Sorts each partition and returns the repeats, keeping the first `keep` in row order.
    pub fn finish(mut self, keep: usize) -> std::io::Result<Repeats> {
        let mut out = Repeats::default();
        let mut files = self.spill.take().map(|f| f.into_iter());
        for part in std::mem::take(&mut self.held) {
            let mut entries = part;
            if let Some(file) = files.as_mut().and_then(Iterator::next) {
                let mut file = file;
                file.seek(SeekFrom::Start(0))?;
                let mut bytes = Vec::new();
                BufReader::new(file).read_to_end(&mut bytes)?;
                entries.reserve(bytes.len() / ENTRY);
                for e in bytes.chunks_exact(ENTRY) {
                    let h = u64::from_le_bytes(e[..8].try_into().expect("8 bytes"));
                    let r = u32::from_le_bytes(e[8..].try_into().expect("4 bytes"));
                    entries.push((h, r));
                }
            }
            entries.sort_unstable();
            let mut i = 0;
            while i < entries.len() {
                let (h, first) = entries[i];
                let mut j = i + 1;
                while j < entries.len() && entries[j].0 == h {
                    out.count += 1;
                    out.first.push((entries[j].1, first));
                    j += 1;
                }
                if out.first.len() > keep {
                    out.first.sort_unstable();
                    out.first.truncate(keep);
                }
                i = j;
            }
        }
        out.first.sort_unstable();
        out.first.truncate(keep);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(keys: &[(u64, u32)], keep: usize) -> Repeats {
        let mut d = DupFinder::new();
        for c in keys.chunks(7) {
            d.extend(c).unwrap();
        }
        d.finish(keep).unwrap()
    }

    #[test]
    fn repeats_point_at_the_first_occurrence_in_row_order() {
        let keys = [(5, 0), (9 << 56, 1), (5, 2), (7, 3), (9 << 56, 4), (5, 5)];
        let r = find(&keys, 10);
        assert_eq!(r.count, 3);
        assert_eq!(r.first, vec![(2, 0), (4, 1), (5, 0)]);
        let r = find(&keys, 2);
        assert_eq!(r.count, 3);
        assert_eq!(r.first, vec![(2, 0), (4, 1)]);
    }

    #[test]
    fn spilled_partitions_give_the_same_answer() {
        let n = SPILL_AT as u32 * 2 + 17;
        // Every 1000th row repeats the key of the row 999 before it.
        let keys: Vec<(u64, u32)> = (0..n)
            .map(|r| {
                let k = if r % 1000 == 999 { r - 999 } else { r };
                (u64::from(k).wrapping_mul(0x9E37_79B9_7F4A_7C15), r)
            })
            .collect();
        let mut d = DupFinder::new();
        for c in keys.chunks(100_000) {
            d.extend(c).unwrap();
        }
        assert!(d.spill.is_some());
        let r = d.finish(3).unwrap();
        assert_eq!(r.count, u64::from(n / 1000));
        assert_eq!(r.first, vec![(999, 0), (1999, 1000), (2999, 2000)]);
    }
}
