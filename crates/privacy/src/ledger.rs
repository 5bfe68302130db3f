//! The member's privacy ledger: an append-only JSON-lines file, one
//! [`LedgerEntry`] per export, fsync'd before an export is reported done.
//!
//! Crash safety: each entry is written with one `write_all` of the whole line
//! (file opened with `O_APPEND`), then `sync_all`; when the append created the
//! file, its directory is fsync'd too. A power loss can leave a *torn* last
//! line (no final `'\n'`). Reading ignores a torn last line that is the prefix
//! of an entry (reported by [`Ledger::torn_tail`]) and counts one that is a
//! whole entry missing only its `'\n'` (counting more spending is the safe
//! side). The next append first writes a `'\n'`, sealing the fragment on a
//! line of its own; from then on such a sealed fragment is recognised (a line
//! that is a strict prefix of a JSON entry, possibly followed by NUL bytes)
//! and ignored, its line number listed by [`Ledger::ignored_lines`]. Any other
//! line that is not a valid entry is an error naming the file and line: the
//! ledger is never skipped over or repaired silently.
//!
//! Callers must append the entry *before* releasing the contribution it pays
//! for, so that a torn (ignored) entry never belongs to a released export.
//! One process at a time should write a ledger.

use std::{
    fs::{File, OpenOptions},
    io::{self, Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One charge to the member's budget.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct LedgerEntry {
    /// When the export happened: RFC 3339, UTC (see [`rfc3339`]).
    pub at: String,
    /// The pool the round belongs to.
    pub pool_id: String,
    /// The round exported.
    pub round_id: String,
    /// Hash of the signed round document.
    pub round_hash: String,
    /// 1 for the first export of a round, 2 for the first superseding one, …
    pub sequence: u32,
    /// ρ (zCDP) charged.
    pub rho: f64,
    /// The ε that ρ amounts to at `delta`.
    pub epsilon: f64,
    /// The δ of `epsilon`.
    pub delta: f64,
    /// `"export"` or `"supersede"`.
    pub reason: String,
}

impl LedgerEntry {
    /// [`LedgerEntry::reason`] of a first export of a round.
    pub const EXPORT: &'static str = "export";
    /// [`LedgerEntry::reason`] of an export that replaces an earlier one.
    pub const SUPERSEDE: &'static str = "supersede";

    /// The entry's time, parsed.
    pub fn time(&self) -> Result<DateTime<Utc>, String> {
        DateTime::parse_from_rfc3339(&self.at)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| format!("`at` is not an RFC 3339 timestamp ({e})"))
    }

    /// Checks every field a ledger relies on; the message names the field.
    fn validate(&self) -> Result<DateTime<Utc>, String> {
        let at = self.time()?;
        if !(self.rho.is_finite() && self.rho >= 0.0) {
            return Err("`rho` must be a finite number of at least zero".into());
        }
        if !(self.epsilon.is_finite() && self.epsilon >= 0.0) {
            return Err("`epsilon` must be a finite number of at least zero".into());
        }
        if !(0.0..=1.0).contains(&self.delta) {
            return Err("`delta` must be between 0 and 1".into());
        }
        if self.reason != Self::EXPORT && self.reason != Self::SUPERSEDE {
            return Err(format!(
                "`reason` must be \"{}\" or \"{}\"",
                Self::EXPORT,
                Self::SUPERSEDE
            ));
        }
        if self.round_id.is_empty() {
            return Err("`round_id` must not be empty".into());
        }
        Ok(at)
    }
}

/// A timestamp as ledger entries store it: RFC 3339, UTC, with every
/// non-zero sub-second digit kept, e.g. `2025-03-01T12:00:00Z` or
/// `2025-03-01T12:00:00.250117Z`. Never truncated: a stamp cut to whole
/// seconds would be earlier than the charge and leave the policy window
/// (`at >= now − window`) up to a second too early.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Why the ledger could not be read or written.
#[derive(Debug, Error)]
pub enum LedgerError {
    /// Reading or writing the file failed.
    #[error("privacy ledger {}: {source}", path.display())]
    Io {
        /// The ledger file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A line is not a valid entry.
    #[error("privacy ledger {}, line {line}: {reason}; the ledger is not repaired automatically (restore it from a backup)", path.display())]
    Corrupt {
        /// The ledger file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// An entry to append is invalid.
    #[error("invalid privacy ledger entry: {reason}")]
    InvalidEntry {
        /// Which field, and why.
        reason: String,
    },
}

/// An open ledger: its entries in file order.
#[derive(Debug, Clone)]
pub struct Ledger {
    path: PathBuf,
    entries: Vec<LedgerEntry>,
    times: Vec<DateTime<Utc>>,
    torn_tail: bool,
    ignored_lines: Vec<usize>,
}

impl Ledger {
    /// Reads the ledger at `path`; a missing file is an empty ledger.
    pub fn open(path: impl AsRef<Path>) -> Result<Ledger, LedgerError> {
        let path = path.as_ref().to_path_buf();
        let bytes = match coopbench_fsio::read_bounded(
            &path,
            coopbench_protocol::limits::LEDGER_MAX_BYTES,
            "a budget ledger",
        ) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(LedgerError::Io { path, source }),
        };
        let mut ledger = Ledger {
            path,
            entries: Vec::new(),
            times: Vec::new(),
            torn_tail: false,
            ignored_lines: Vec::new(),
        };
        // Every complete line ends with '\n'; whatever follows the last one is torn.
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let (body, tail) = bytes.split_at(complete);
        let mut line_no = 0;
        for line in body.split_inclusive(|&b| b == b'\n') {
            line_no += 1;
            let line = &line[..line.len() - 1];
            match ledger.parse_line(line) {
                Ok((entry, at)) => ledger.push(entry, at),
                Err(_) if is_torn_fragment(line) => ledger.ignored_lines.push(line_no),
                Err(reason) => return Err(ledger.corrupt(line_no, reason)),
            }
        }
        if !tail.is_empty() {
            line_no += 1;
            ledger.torn_tail = true;
            match ledger.parse_line(tail) {
                Ok((entry, at)) => ledger.push(entry, at),
                Err(_) if is_torn_fragment(tail) => {}
                Err(reason) => {
                    return Err(ledger.corrupt(
                        line_no,
                        format!(
                            "the last line is incomplete and is not part of an entry ({reason})"
                        ),
                    ))
                }
            }
        }
        Ok(ledger)
    }

    fn parse_line(&self, line: &[u8]) -> Result<(LedgerEntry, DateTime<Utc>), String> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Err("empty line".into());
        }
        let entry: LedgerEntry =
            serde_json::from_slice(line).map_err(|e| format!("not a ledger entry ({e})"))?;
        let at = entry.validate()?;
        Ok((entry, at))
    }

    fn corrupt(&self, line: usize, reason: String) -> LedgerError {
        LedgerError::Corrupt {
            path: self.path.clone(),
            line,
            reason,
        }
    }

    fn push(&mut self, entry: LedgerEntry, at: DateTime<Utc>) {
        self.entries.push(entry);
        self.times.push(at);
    }

    /// The ledger file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All entries, in file order.
    pub fn entries(&self) -> &[LedgerEntry] {
        &self.entries
    }

    /// Whether the file did not end with `'\n'` when opened (a torn last write).
    /// The next [`Ledger::append`] seals it.
    pub fn torn_tail(&self) -> bool {
        self.torn_tail
    }

    /// 1-based numbers of lines that were sealed torn fragments and were ignored.
    pub fn ignored_lines(&self) -> &[usize] {
        &self.ignored_lines
    }

    /// Appends `entry` durably: one `write_all` of the whole line (preceded by
    /// a `'\n'` if the file does not end with one) in append mode, then
    /// `sync_all`; the directory is fsync'd when this created the file. The
    /// file's directory must exist.
    pub fn append(&mut self, entry: LedgerEntry) -> Result<(), LedgerError> {
        let at = entry
            .validate()
            .map_err(|reason| LedgerError::InvalidEntry { reason })?;
        let line = serde_json::to_string(&entry).map_err(|e| LedgerError::InvalidEntry {
            reason: e.to_string(),
        })?;
        let io_err = |source| LedgerError::Io {
            path: self.path.clone(),
            source,
        };
        let (mut file, created) = match OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(&self.path)
        {
            Ok(f) => (f, true),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let f = OpenOptions::new()
                    .append(true)
                    .read(true)
                    .open(&self.path)
                    .map_err(io_err)?;
                (f, false)
            }
            Err(e) => return Err(io_err(e)),
        };
        let mut buf = Vec::with_capacity(line.len() + 2);
        if !created && !ends_with_newline(&mut file).map_err(io_err)? {
            buf.push(b'\n');
        }
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        file.write_all(&buf).map_err(io_err)?;
        file.sync_all().map_err(io_err)?;
        if created {
            sync_dir(&self.path).map_err(io_err)?;
        }
        self.push(entry, at);
        Ok(())
    }

    /// Sum of ρ of the entries at or after `since` (entries dated in the
    /// future, e.g. after a clock change, are included).
    pub fn spent_since(&self, since: DateTime<Utc>) -> f64 {
        self.entries
            .iter()
            .zip(&self.times)
            .filter(|(_, at)| **at >= since)
            .map(|(e, _)| e.rho)
            // fold from +0: `Sum` for f64 starts at -0.0, which prints "-0".
            .fold(0.0, |a, b| a + b)
    }

    /// Sum of ρ of all entries for `round_id`.
    pub fn spent_for_round(&self, round_id: &str) -> f64 {
        self.entries
            .iter()
            .filter(|e| e.round_id == round_id)
            .map(|e| e.rho)
            .fold(0.0, |a, b| a + b)
    }
}

/// Whether a non-empty file ends with '\n' (an empty one counts as ending so).
fn ends_with_newline(file: &mut File) -> io::Result<bool> {
    if file.metadata()?.len() == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

/// Whether `line` is what a torn append leaves: a strict prefix of a JSON
/// entry (JSON ending early), possibly followed by NUL bytes (blocks the
/// file system allocated but never wrote), or nothing but NULs.
fn is_torn_fragment(line: &[u8]) -> bool {
    // Sealing only ever happens to a non-empty tail, so an empty line is not one.
    if line.is_empty() {
        return false;
    }
    let end = line.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let line = &line[..end];
    if line.is_empty() {
        return true;
    }
    // A write torn inside a multi-byte character leaves an incomplete one at the end.
    let text = match std::str::from_utf8(line) {
        Ok(t) => t,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&line[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    if !text.trim_start().starts_with('{') {
        return false;
    }
    matches!(serde_json::from_str::<LedgerEntry>(text), Err(e) if e.is_eof())
}

/// Fsyncs the directory holding `path`, so a newly created file's name is durable.
#[cfg(unix)]
fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// Directories cannot be opened for fsync here; NTFS journals the metadata.
#[cfg(not(unix))]
fn sync_dir(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torn_fragments() {
        let full = r#"{"at":"2025-01-01T00:00:00Z","pool_id":"p","round_id":"r","round_hash":"h","sequence":1,"rho":0.5,"epsilon":1.0,"delta":1e-6,"reason":"export"}"#;
        for cut in 1..full.len() {
            assert!(is_torn_fragment(&full.as_bytes()[..cut]), "cut at {cut}");
        }
        assert!(is_torn_fragment(b"\0\0\0"));
        assert!(!is_torn_fragment(b""));
        assert!(!is_torn_fragment(b"   "));
        assert!(is_torn_fragment(b"{\"at\":\"20\0\0"));
        assert!(is_torn_fragment(
            "{\"pool_id\":\"bäcker".as_bytes().split_last().unwrap().1
        ));
        assert!(!is_torn_fragment(b"garbage"));
        assert!(!is_torn_fragment(b"{\"at\":1}"));
        assert!(!is_torn_fragment(b"{\"at\":\"x\",]"));
    }
}
