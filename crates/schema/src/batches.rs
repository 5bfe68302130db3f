//! One read of a member's file, in batches of whole records: a reader thread
//! reads the file once with `read()` into a few reused buffers, checks UTF-8,
//! counts cells per record (the structural pass) and cuts the data into
//! batches of a few MB at record boundaries; workers parse each batch with
//! polars' CSV parser into text columns with the row index and run the
//! caller's polars queries on it. A batch's buffer goes back to the reader
//! when it is dropped, so resident memory stays a few batches whatever the
//! file's size.
//!
//! The file is never memory-mapped: a mapped file that another program
//! truncates kills the reader with SIGBUS. Instead every read checks the
//! file against the [`Stamp`] taken when it was opened (length, modification
//! time, inode) before and after, and counts the bytes it got: a file that
//! changed, shrank or grew while it was read is a [`BatchError::Changed`],
//! never a signal or a result about half a file.

use crate::scan::ROW;
use crate::source::{Source, Stamp};
use crate::structure::{Structure, StructureScanner};
use polars::io::csv::read::_csv_read_internal::read_chunk;
use polars::prelude::*;
use std::fs::File;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender};
use std::sync::Mutex;

/// Bytes read and scanned per step.
const READ_BYTES: usize = 256 << 10;
/// A batch is cut once it holds this many bytes of whole records.
const BATCH_BYTES: usize = 2 << 20;
/// The longest record (line, or lines inside quotes) a member's file may
/// have: a row of a sales or costs export is well under 1 KiB; past this an
/// unclosed quote has swallowed the rest of the file.
pub(crate) const MAX_RECORD_BYTES: usize = 1 << 20;
/// The most blank or ragged rows reported before the read stops: every one
/// is already a problem, and polars pads each to the header's width, so a
/// file of blank lines would otherwise cost memory per line, not per byte.
pub(crate) const MAX_SKIPPED_ROWS: usize = 10_000;
/// The most data rows a file may have (polars' row index is 32 bits).
pub(crate) const MAX_ROWS: u64 = u32::MAX as u64 - 1;

/// Whole records of the file, ready to parse.
pub(crate) struct Batch {
    /// The records' bytes (no header).
    buf: Vec<u8>,
    /// Where the buffer goes back to the reader once the batch is done.
    recycle: Option<Sender<Vec<u8>>>,
    /// Data-row index (0-based, as polars' row index) of the first record.
    pub first_row: u64,
    /// Records in the batch.
    pub rows: u64,
    /// Data rows of this batch that are ragged or blank (their cells are not checked).
    pub skipped: Vec<u32>,
}

impl Batch {
    /// The records' bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        if let Some(tx) = self.recycle.take() {
            let _ = tx.send(std::mem::take(&mut self.buf));
        }
    }
}

/// Why a batched read stopped.
#[derive(Debug)]
pub(crate) enum BatchError {
    /// Reading the file failed.
    Io(std::io::Error),
    /// The file changed while it was read (the message says how).
    Changed(String),
    /// The file passes one of the reader's limits: the 1-based line where it
    /// was noticed, the rule, and the message.
    Limit(u64, &'static str, String),
    /// The file is not UTF-8: byte offset, 1-based line, the offending bytes.
    Encoding(u64, u64, Vec<u8>),
    /// polars could not parse a batch or run a query on it.
    Polars(PolarsError),
}

impl From<PolarsError> for BatchError {
    fn from(e: PolarsError) -> Self {
        Self::Polars(e)
    }
}

/// Reads `source` once and runs `work` on every batch's text columns (named
/// `names`, one per header position, plus the row index [`ROW`]) on worker
/// threads; `sink` receives each result on the calling thread, in no
/// particular order. Returns the file's structure.
pub(crate) fn run<T: Send>(
    source: &Source,
    names: &[PlSmallStr],
    work: &(dyn Fn(&Batch, DataFrame) -> PolarsResult<T> + Sync),
    sink: &mut dyn FnMut(T) -> Result<(), BatchError>,
) -> Result<Structure, BatchError> {
    let schema: Schema = names
        .iter()
        .map(|n| Field::new(n.clone(), DataType::String))
        .collect();
    let parse_options = CsvParseOptions {
        separator: source.options.delimiter,
        quote_char: Some(b'"'),
        eol_char: b'\n',
        encoding: CsvEncoding::Utf8,
        null_values: None,
        missing_is_null: false,
        truncate_ragged_lines: true,
        comment_prefix: None,
        try_parse_dates: false,
        decimal_comma: false,
    };
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 8);
    let (batch_tx, batch_rx) = sync_channel::<Batch>(workers);
    let batch_rx = Mutex::new(batch_rx);
    let (result_tx, result_rx) = sync_channel::<PolarsResult<T>>(workers);
    // Set on the first failure: the reader stops, workers skip what is queued.
    let stop = AtomicBool::new(false);
    let path = source.utf8_path.clone();
    let stamp = Some(source.stamp);
    let delimiter = source.options.delimiter;
    std::thread::scope(|s| {
        let stop = &stop;
        let reader = s.spawn(move || {
            read(&path, stamp, delimiter, READ_BYTES, BATCH_BYTES, &mut |b| {
                !stop.load(Ordering::Relaxed) && batch_tx.send(b).is_ok()
            })
        });
        for _ in 0..workers {
            let result_tx = result_tx.clone();
            let (batch_rx, schema, parse_options) = (&batch_rx, &schema, &parse_options);
            s.spawn(move || {
                // Keeps taking batches until the reader hangs up, so it never blocks.
                while let Some(batch) = next(batch_rx) {
                    if stop.load(Ordering::Relaxed) {
                        continue;
                    }
                    let out = parse(&batch, schema, parse_options).and_then(|df| work(&batch, df));
                    drop(batch);
                    if out.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    if result_tx.send(out).is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            });
        }
        drop(result_tx);
        let mut outcome = Ok(());
        for r in result_rx.iter() {
            if outcome.is_ok() {
                outcome = r.map_err(BatchError::from).and_then(&mut *sink);
                if outcome.is_err() {
                    stop.store(true, Ordering::Relaxed);
                }
            }
        }
        let structure = reader.join().unwrap_or_else(|_| {
            Err(BatchError::Io(std::io::Error::other(
                "the reader thread failed",
            )))
        });
        match (outcome, structure) {
            // An encoding or read error explains a parse failure: it comes first.
            (_, Err(e)) => Err(e),
            (Err(e), _) => Err(e),
            (Ok(()), Ok(s)) => Ok(s),
        }
    })
}

fn next(rx: &Mutex<Receiver<Batch>>) -> Option<Batch> {
    rx.lock().ok()?.recv().ok()
}

/// Parses one batch into text columns plus the row index.
fn parse(batch: &Batch, schema: &Schema, options: &CsvParseOptions) -> PolarsResult<DataFrame> {
    let projection: Vec<usize> = (0..schema.len()).collect();
    let rows = batch.rows as usize;
    let bytes = batch.bytes();
    let df = if bytes.is_empty() {
        DataFrame::empty_with_schema(schema)
    } else {
        read_chunk(
            bytes,
            options,
            schema,
            false,
            &projection,
            0,
            rows,
            None,
            usize::MAX,
            bytes.len(),
            Some(0),
        )?
    };
    if df.height() != rows {
        polars_bail!(ComputeError: "the CSV parser read {} records where the structural pass counted {}", df.height(), rows);
    }
    let offset = IdxSize::try_from(batch.first_row)
        .map_err(|_| polars_err!(ComputeError: "more rows than the row index can hold"))?;
    df.with_row_index(ROW.into(), Some(offset))
}

/// The reader: streams the file, checks UTF-8, runs the structural pass and
/// hands out batches of whole data records. `emit` returning false stops it.
/// `stamp` is the file as it was opened (`None`: not checked).
fn read(
    path: &std::path::Path,
    stamp: Option<Stamp>,
    delimiter: u8,
    step: usize,
    batch_bytes: usize,
    emit: &mut dyn FnMut(Batch) -> bool,
) -> Result<Structure, BatchError> {
    let mut file = File::open(path).map_err(BatchError::Io)?;
    let check = |file: &File, when: &str| -> Result<(), BatchError> {
        match stamp {
            Some(s) => s.check(file, when).map_err(BatchError::Changed),
            None => Ok(()),
        }
    };
    check(&file, "before it was read")?;
    let mut scanner = StructureScanner::new(delimiter);
    let (recycle_tx, recycle_rx) = channel::<Vec<u8>>();
    // `cur` holds the file's bytes from offset `base` on: those not yet handed
    // out. Bytes before `checked` (a file offset) are checked and scanned.
    let mut cur: Vec<u8> = Vec::with_capacity(batch_bytes + step);
    let (mut base, mut checked) = (0usize, 0usize);
    let mut header_done = false;
    let mut rows_out = 0u64; // data rows handed out
    let (mut ragged_seen, mut blank_seen) = (0usize, 0usize);
    let mut at_eof = false;
    loop {
        // Read the next step (fewer bytes only at the end of the file).
        let old = cur.len();
        cur.resize(old + step, 0);
        let mut got = 0;
        while got < step {
            match file.read(&mut cur[old + got..]) {
                Ok(0) => {
                    at_eof = true;
                    break;
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(BatchError::Io(e)),
            }
        }
        cur.truncate(old + got);
        let end = base + cur.len();
        if let Some(s) = stamp {
            if end as u64 > s.len {
                return Err(BatchError::Changed(format!(
                    "it changed while it was read: it grew (it was {} bytes when opened)",
                    s.len
                )));
            }
            if at_eof && (end as u64) < s.len {
                return Err(BatchError::Changed(format!(
                    "it changed while it was read: it shrank (it was {} bytes when opened, only {end} could be read)",
                    s.len
                )));
            }
        }
        let fresh = &cur[checked - base..];
        let good = match std::str::from_utf8(fresh) {
            Ok(_) => fresh.len(),
            // An incomplete sequence at the end is checked with the next read.
            Err(e) if e.error_len().is_none() && !at_eof => e.valid_up_to(),
            Err(e) => {
                let at = checked + e.valid_up_to();
                let bad = &fresh[e.valid_up_to()..];
                let bad = bad[..e.error_len().unwrap_or(bad.len()).min(bad.len())].to_vec();
                let line = line_at(path, at as u64).map_err(BatchError::Io)?;
                return Err(BatchError::Encoding(at as u64, line, bad));
            }
        };
        scanner.feed(&fresh[..good]);
        checked += good;
        // The record still open (an unclosed quote runs to the end of the file).
        let record_start = base.max(scanner.last_end() as usize);
        if checked - record_start > MAX_RECORD_BYTES {
            let line = line_at(path, record_start as u64).map_err(BatchError::Io)?;
            return Err(BatchError::Limit(
                line,
                "record-too-long",
                format!(
                    "the record starting on line {line} is longer than {MAX_RECORD_BYTES} bytes: is a quote (\") never closed?"
                ),
            ));
        }
        if at_eof {
            scanner.end_input();
        }
        let shape = scanner.shape();
        if shape.ragged.len() + shape.blank.len() > MAX_SKIPPED_ROWS {
            let first = shape.ragged.first().map(|r| r.0).into_iter();
            let first = first.chain(shape.blank.first().copied()).min().unwrap_or(0);
            return Err(BatchError::Limit(
                u64::from(first) + 2,
                "too-many-bad-rows",
                format!(
                    "more than {MAX_SKIPPED_ROWS} rows are blank or have the wrong number of cells (the first is row {}): is this the right file, delimiter (--delimiter) and quoting?",
                    u64::from(first) + 2
                ),
            ));
        }
        if scanner.records() > MAX_ROWS + 1 {
            return Err(BatchError::Limit(
                MAX_ROWS + 2,
                "too-many-rows",
                format!("more than {MAX_ROWS} data rows: split the file by period"),
            ));
        }
        if !header_done && scanner.records() >= 1 {
            // Drop the header record from the buffer.
            let header_end = scanner.header_end() as usize;
            cur.drain(..header_end - base);
            base = header_end;
            header_done = true;
        }
        let ready = (scanner.last_end() as usize)
            .min(checked)
            .saturating_sub(base);
        if header_done && (ready >= batch_bytes || (at_eof && ready > 0)) {
            // The bytes after the last whole record start the next buffer.
            let mut next = recycle_rx.try_recv().unwrap_or_default();
            next.clear();
            next.reserve(batch_bytes + step);
            next.extend_from_slice(&cur[ready..]);
            cur.truncate(ready);
            let buf = std::mem::replace(&mut cur, next);
            base += ready;
            let done = scanner.records().saturating_sub(1);
            let rows = done - rows_out;
            let first_row = rows_out;
            rows_out = done;
            let shape = scanner.shape();
            let mut skipped: Vec<u32> = shape.ragged[ragged_seen..]
                .iter()
                .map(|(r, _)| *r)
                .chain(shape.blank[blank_seen..].iter().copied())
                .collect();
            skipped.sort_unstable();
            ragged_seen = shape.ragged.len();
            blank_seen = shape.blank.len();
            if !emit(Batch {
                buf,
                recycle: Some(recycle_tx.clone()),
                first_row,
                rows,
                skipped,
            }) {
                return Ok(scanner.finish());
            }
        }
        if at_eof {
            break;
        }
    }
    check(&file, "after it was read")?;
    Ok(scanner.finish())
}

/// The 1-based line of byte `offset` of the file (only computed for an
/// encoding error: reads the file again up to there).
fn line_at(path: &std::path::Path, offset: u64) -> std::io::Result<u64> {
    let mut file = File::open(path)?.take(offset);
    let mut buf = vec![0u8; 1 << 16];
    let mut lines = 1u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(lines);
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_whole_records_in_order_whatever_the_sizes() {
        let mut text = String::from("\u{feff}a,b,c\r\n");
        for i in 0..300 {
            match i % 7 {
                0 => text.push_str(&format!("\"x\ny{i}\",\"q\"\"\",3\r\n")),
                3 => text.push_str("1,2\n"),
                5 => text.push('\n'),
                _ => text.push_str(&format!("{i},Jürgen,{i}\n")),
            }
        }
        text.push_str("last,row,x");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.csv");
        std::fs::write(&path, &text).unwrap();
        let header_len = text.find('\n').unwrap() + 1;
        for (read_bytes, batch_bytes) in [(1, 1), (3, 10), (64, 100), (1 << 16, 1 << 20)] {
            let mut got = Vec::new();
            let mut rows = 0;
            let mut skipped = Vec::new();
            let shape = read(&path, None, b',', read_bytes, batch_bytes, &mut |b| {
                assert_eq!(b.first_row, rows);
                rows += b.rows;
                skipped.extend(b.skipped.iter().copied());
                got.extend_from_slice(b.bytes());
                true
            })
            .unwrap();
            assert_eq!(
                got,
                text.as_bytes()[header_len..].to_vec(),
                "{read_bytes}/{batch_bytes}"
            );
            assert_eq!(rows, shape.data_rows);
            assert_eq!(shape.data_rows, 301);
            let mut want: Vec<u32> = shape.ragged.iter().map(|r| r.0).collect();
            want.extend(&shape.blank);
            want.sort_unstable();
            assert_eq!(skipped, want);
            assert_eq!(shape.blank.len(), 43);
        }
    }

    #[test]
    fn invalid_utf8_is_located_even_across_reads() {
        let mut bytes = b"a,b\n1,caf\xc3\xa9\n2,".to_vec();
        bytes.extend_from_slice(b"x\xe9y\n");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.csv");
        std::fs::write(&path, &bytes).unwrap();
        for read_bytes in [1, 2, 5, 100] {
            match read(&path, None, b',', read_bytes, 4, &mut |_| true) {
                Err(BatchError::Encoding(at, line, bad)) => {
                    assert_eq!((at, line, bad), (15, 3, vec![0xe9]));
                }
                _ => panic!("expected an encoding error"),
            }
        }
    }
}
