//! Opening a member's CSV: encoding checks and transcoding, the header record,
//! and the reading options (delimiter, decimal comma, mapping).

use crate::mapping::Mapping;
use crate::report::Problem;
use crate::settings::{Encoding, Origins, Thousands};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// The longest header record read: a schema's labels take well under 1 KiB.
pub(crate) const MAX_HEADER_BYTES: u64 = 64 << 10;
/// The most header columns past the schema's fields (unmapped columns a
/// mapping file lists under `ignore`, or extra columns reported one by one).
pub const MAX_EXTRA_COLUMNS: usize = 64;

/// Files larger than this get a progress bar on a terminal.
pub(crate) const PROGRESS_BYTES: u64 = 8 << 20;
const CHUNK: usize = 1 << 20;

/// How to read one member file: its settings, resolved from its mapping
/// file, the command line and the defaults ([`ReadOptions::resolve`]), and
/// where each came from.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The field separator (`,` by default; `;` for many European exports).
    pub delimiter: u8,
    /// Numbers are written with a decimal comma (`12,50`).
    pub decimal_comma: bool,
    /// Numbers may group thousands with this separator (`1.234,56`).
    pub thousands: Option<Thousands>,
    /// The file's character encoding.
    pub encoding: Encoding,
    /// A strptime date format for every date field, overriding the schema's.
    pub date_format: Option<String>,
    /// Header names and values mapped to the schema's.
    pub mapping: Mapping,
    /// The mapping file was given for every file (a bare `--map`).
    pub mapping_shared: bool,
    /// Where each setting came from, for messages that say how to change it.
    pub origins: Origins,
    /// The kind of file (`sales`, `costs`) when known, for advice.
    pub kind: Option<String>,
    /// Show a progress bar on stderr for large files (only when it is a terminal).
    pub progress: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            delimiter: b',',
            decimal_comma: false,
            thousands: None,
            encoding: Encoding::Utf8,
            date_format: None,
            mapping: Mapping::default(),
            mapping_shared: false,
            origins: Origins::default(),
            kind: None,
            progress: true,
        }
    }
}

/// A file that could not be read at all (usage or I/O, exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct SourceError {
    /// The file.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

impl SourceError {
    fn io(path: &Path, e: std::io::Error) -> Self {
        Self {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }
}

/// A member file ready to scan: UTF-8 on disk (the original, whose bytes are
/// checked as validation reads them, or a transcoded temporary copy deleted on
/// drop) and its header labels.
#[derive(Debug)]
pub struct Source {
    /// The name used in reports (the path as the member typed it).
    pub display: String,
    /// The UTF-8 file polars scans.
    pub(crate) utf8_path: PathBuf,
    _transcoded: Option<tempfile::NamedTempFile>,
    /// The header labels, in file order (BOM removed).
    pub header: Vec<String>,
    /// The file's size in bytes.
    pub size: u64,
    /// The UTF-8 file as it was when opened: every later read checks it.
    pub(crate) stamp: Stamp,
    /// The options it was opened with.
    pub options: ReadOptions,
}

/// What identifies a file's content without reading it: its length,
/// modification time and inode. A read that finds another stamp before or
/// after it, or another number of bytes, read a file that changed under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// Length in bytes.
    pub len: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

impl Stamp {
    /// The stamp of a file's metadata.
    pub fn of(meta: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        Self {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode,
        }
    }

    /// Checks an open file still has this stamp; the error says what changed
    /// (`when`: "before it was read", ...).
    pub fn check(&self, file: &File, when: &str) -> Result<(), String> {
        let now = Self::of(&file.metadata().map_err(|e| e.to_string())?);
        if now == *self {
            return Ok(());
        }
        Err(if now.len != self.len {
            format!(
                "it changed {when}: it was {} bytes when opened, now {}",
                self.len, now.len
            )
        } else {
            format!("it changed {when} (modified again, or replaced)")
        })
    }
}

/// The outcome of opening a file: ready to scan, or one file-level problem.
#[derive(Debug)]
pub enum Opened {
    /// Decoded and structurally read; ready to validate and scan.
    Ready(Source),
    /// The file cannot be read as CSV at all (empty, wrong encoding); the problem says why.
    Unreadable(Problem),
}

/// Opens a member's file: converts its encoding if it is not UTF-8 and reads
/// its header. The data rows are checked (UTF-8, cells per record) in the one
/// batched read that validation makes.
pub fn open(path: &Path, options: &ReadOptions) -> Result<Opened, SourceError> {
    Source::open(path, options)
}

impl Source {
    /// Opens a file: checks or converts its encoding and reads its header.
    pub(crate) fn open(path: &Path, options: &ReadOptions) -> Result<Opened, SourceError> {
        let display = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| SourceError::io(path, e))?;
        let size = meta.len();
        if path.is_dir() {
            return Err(SourceError {
                path: display,
                message: "is a directory, not a CSV file".into(),
            });
        }
        let file_problem = |row: u64, rule: &'static str, message: String| {
            Ok(Opened::Unreadable(Problem::file_level(
                &display, row, rule, message,
            )))
        };
        if size == 0 {
            return file_problem(
                1,
                "empty-file",
                "the file is empty: expected a header row and data rows".into(),
            );
        }
        let encoding_problem = |offset: u64, line: u64, bytes: &[u8]| {
            Ok(Opened::Unreadable(encoding_problem(
                &display, options, offset, line, bytes,
            )))
        };
        let transcoded = match options.encoding {
            Encoding::Utf8 => None,
            Encoding::Windows1252 | Encoding::Latin1 => {
                let bar = progress_bar(options.progress, size, "converting to UTF-8");
                let t = transcode(path, Stamp::of(&meta), &bar)?;
                bar.finish_and_clear();
                Some(t)
            }
        };
        let stamp = match &transcoded {
            None => Stamp::of(&meta),
            Some(t) => Stamp::of(
                &t.as_file()
                    .metadata()
                    .map_err(|e| SourceError::io(path, e))?,
            ),
        };
        let utf8_path = transcoded
            .as_ref()
            .map_or_else(|| path.to_path_buf(), |t| t.path().to_path_buf());
        if first_line_blank(&utf8_path).map_err(|e| SourceError::io(path, e))? {
            return file_problem(
                1,
                "empty-file",
                "the first line is blank: the header row must be on line 1".into(),
            );
        }
        let header = match read_header(&utf8_path, options.delimiter) {
            Ok(Some(h)) => h,
            Err(e) if e.kind() == std::io::ErrorKind::FileTooLarge => {
                return file_problem(
                    1,
                    "header-too-long",
                    format!(
                        "the header record is longer than {MAX_HEADER_BYTES} bytes: is the first line a header, and is every quote closed?"
                    ),
                );
            }
            Ok(None) => {
                return file_problem(
                    1,
                    "empty-file",
                    "the first line is blank: the header row must be on line 1".into(),
                );
            }
            Err(e) => {
                // The header is not UTF-8: say where, as for a data row.
                if let Some((offset, line, bytes)) = find_invalid_utf8(path)? {
                    return encoding_problem(offset, line, &bytes);
                }
                return Err(SourceError::io(path, e));
            }
        };
        Ok(Opened::Ready(Source {
            display,
            utf8_path,
            _transcoded: transcoded,
            header,
            size,
            stamp,
            options: options.clone(),
        }))
    }
}

/// A progress bar on stderr, drawn only on a terminal and for large files.
pub(crate) fn progress_bar(enabled: bool, size: u64, what: &'static str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !enabled || size < PROGRESS_BYTES || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>18} [{bar:30}] {bytes}/{total_bytes} ({eta})",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    bar.set_message(what);
    bar
}

/// A spinner with elapsed time on stderr while polars works, only on a
/// terminal and for large files.
pub(crate) fn spinner(enabled: bool, size: u64, what: &'static str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !enabled || size < PROGRESS_BYTES || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .expect("static template"),
    );
    bar.set_message(what);
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Finds the first byte sequence that is not UTF-8, streaming in 1 MiB chunks.
/// Returns (byte offset, 1-based line, the offending bytes).
fn find_invalid_utf8(path: &Path) -> Result<Option<(u64, u64, Vec<u8>)>, SourceError> {
    let mut reader = File::open(path).map_err(|e| SourceError::io(path, e))?;
    let mut buf = vec![0u8; CHUNK + 4];
    let mut carry = 0usize; // bytes of an incomplete sequence kept from the last chunk
    let mut offset = 0u64; // file offset of buf[0]
    let mut lines = 1u64;
    loop {
        let n = reader
            .read(&mut buf[carry..carry + CHUNK])
            .map_err(|e| SourceError::io(path, e))?;
        let len = carry + n;
        let data = &buf[..len];
        let at_eof = n == 0;
        match std::str::from_utf8(data) {
            Ok(_) => {
                lines += memchr_count(data);
                carry = 0;
            }
            Err(e) => {
                let good = e.valid_up_to();
                match e.error_len() {
                    Some(bad) => {
                        lines += memchr_count(&data[..good]);
                        return Ok(Some((
                            offset + good as u64,
                            lines,
                            data[good..good + bad].to_vec(),
                        )));
                    }
                    None if at_eof => {
                        lines += memchr_count(&data[..good]);
                        return Ok(Some((offset + good as u64, lines, data[good..].to_vec())));
                    }
                    None => {
                        lines += memchr_count(&data[..good]);
                        buf.copy_within(good..len, 0);
                        offset += good as u64;
                        carry = len - good;
                        continue;
                    }
                }
            }
        }
        if at_eof {
            return Ok(None);
        }
        offset += len as u64;
    }
}

fn memchr_count(data: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', data).count() as u64
}

/// The problem for a file that is not UTF-8 at `offset` (line `line`).
pub(crate) fn encoding_problem(
    display: &str,
    options: &ReadOptions,
    offset: u64,
    line: u64,
    bytes: &[u8],
) -> Problem {
    let shown: Vec<String> = bytes.iter().map(|b| format!("0x{b:02X}")).collect();
    Problem::file_level(
        display,
        line,
        "encoding",
        format!(
            "not valid UTF-8: byte {} at offset {offset} (line {line}); \
             the file was probably saved by Excel or an older till as Windows-1252 (or latin1): {}",
            shown.join(" "),
            options.advice(
                "encoding",
                "\"windows-1252\"",
                "--encoding windows-1252",
                &options.origins.encoding
            )
        ),
    )
}

/// True when the file's first record is a blank line (only `\r` before the first `\n`).
fn first_line_blank(path: &Path) -> std::io::Result<bool> {
    let mut file = File::open(path)?;
    let mut buf = [0u8; 4096];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(false);
        }
        match buf[..n].iter().position(|&b| b != b'\r') {
            Some(i) => return Ok(buf[i] == b'\n'),
            None => continue,
        }
    }
}

/// Converts a Windows-1252 file to a temporary UTF-8 copy, streaming.
fn transcode(
    path: &Path,
    stamp: Stamp,
    bar: &indicatif::ProgressBar,
) -> Result<tempfile::NamedTempFile, SourceError> {
    let io = |e| SourceError::io(path, e);
    let file = File::open(path).map_err(io)?;
    let changed = |message: String| SourceError {
        path: path.display().to_string(),
        message: format!("{message}; read it again once nothing writes to it"),
    };
    stamp.check(&file, "before it was read").map_err(changed)?;
    let mut input = BufReader::with_capacity(CHUNK, &file);
    let mut total = 0u64;
    let tmp = tempfile::Builder::new()
        .prefix("coopbench-utf8-")
        .suffix(".csv")
        .tempfile()
        .map_err(io)?;
    let mut out = BufWriter::with_capacity(CHUNK, tmp.as_file());
    let mut decoder = encoding_rs::WINDOWS_1252.new_decoder_without_bom_handling();
    let mut inbuf = vec![0u8; CHUNK];
    let mut outbuf = String::with_capacity(CHUNK * 3 + 16);
    loop {
        let n = input.read(&mut inbuf).map_err(io)?;
        outbuf.clear();
        let (_res, _read, _) = decoder.decode_to_string(&inbuf[..n], &mut outbuf, n == 0);
        out.write_all(outbuf.as_bytes()).map_err(io)?;
        bar.inc(n as u64);
        total += n as u64;
        if n == 0 {
            break;
        }
    }
    if total != stamp.len {
        return Err(changed(format!(
            "it changed while it was read: it was {} bytes when opened, {total} were read",
            stamp.len
        )));
    }
    stamp.check(&file, "while it was read").map_err(changed)?;
    out.flush().map_err(io)?;
    drop(out);
    Ok(tmp)
}

/// Reads the first record of a UTF-8 file as header labels (quotes honoured,
/// BOM removed). `None` if the file holds no record; an error of kind
/// `FileTooLarge` if the record does not end within [`MAX_HEADER_BYTES`].
fn read_header(path: &Path, delimiter: u8) -> std::io::Result<Option<Vec<String>>> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(BufReader::new(file.take(MAX_HEADER_BYTES)));
    let mut record = csv::StringRecord::new();
    let read = rdr.read_record(&mut record);
    if len > MAX_HEADER_BYTES && rdr.position().byte() >= MAX_HEADER_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            "header record too long",
        ));
    }
    match read {
        Ok(false) => Ok(None),
        Ok(true) => {
            let labels: Vec<String> = record
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    if i == 0 {
                        l.trim_start_matches('\u{feff}').to_string()
                    } else {
                        l.to_string()
                    }
                })
                .collect();
            if labels.iter().all(|l| l.trim().is_empty()) {
                return Ok(None);
            }
            Ok(Some(labels))
        }
        Err(e) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            e.to_string(),
        )),
    }
}

/// The header labels of a file read with `options`' separator and encoding,
/// from its first 64 KiB (BOM removed), or `None` if they cannot be read:
/// enough to tell which mapping file describes it, without opening it.
pub fn peek_header(path: &Path, options: &ReadOptions) -> Option<Vec<String>> {
    let mut bytes = Vec::new();
    File::open(path)
        .ok()?
        .take(MAX_HEADER_BYTES)
        .read_to_end(&mut bytes)
        .ok()?;
    let text = match options.encoding {
        Encoding::Utf8 => String::from_utf8_lossy(&bytes).into_owned(),
        Encoding::Windows1252 | Encoding::Latin1 => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(&bytes)
            .0
            .into_owned(),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(options.delimiter)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let record = rdr.records().next()?.ok()?;
    Some(record.iter().map(String::from).collect())
}
