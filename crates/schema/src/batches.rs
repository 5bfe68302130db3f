//! One read of a member's file, in batches of whole records: a reader thread
//! streams the bytes once (never a memory map, so memory does not grow with
//! the file), checks UTF-8, counts cells per record (the structural pass) and
//! cuts the data into batches of a few MB at record boundaries; workers parse
//! each batch with polars' CSV parser into text columns with the row index and
//! run the caller's polars queries on it. Each batch is dropped once its
//! (small) result is handed to the caller.

use crate::scan::ROW;
use crate::source::Source;
use crate::structure::{Structure, StructureScanner};
use polars::io::csv::read::_csv_read_internal::read_chunk;
use polars::prelude::*;
use std::fs::File;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Mutex;

/// Bytes read per call.
const READ_BYTES: usize = 1 << 20;
/// A batch is cut once it holds this many bytes of whole records.
const BATCH_BYTES: usize = 4 << 20;

/// Whole records of the file, ready to parse.
pub(crate) struct Batch {
    /// The records' bytes (no header).
    pub bytes: Vec<u8>,
    /// Data-row index (0-based, as polars' row index) of the first record.
    pub first_row: u64,
    /// Records in the batch.
    pub rows: u64,
    /// Data rows of this batch that are ragged or blank (their cells are not checked).
    pub skipped: Vec<u32>,
}

/// Why a batched read stopped.
#[derive(Debug)]
pub(crate) enum BatchError {
    /// Reading the file failed.
    Io(std::io::Error),
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
    let delimiter = source.options.delimiter;
    std::thread::scope(|s| {
        let stop = &stop;
        let reader = s.spawn(move || {
            read(&path, delimiter, &mut |b| {
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
                outcome = r.map_err(BatchError::from).and_then(|t| sink(t));
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
    let df = if batch.bytes.is_empty() {
        DataFrame::empty_with_schema(schema)
    } else {
        read_chunk(
            &batch.bytes,
            options,
            schema,
            false,
            &projection,
            0,
            rows,
            None,
            usize::MAX,
            batch.bytes.len(),
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
fn read(
    path: &std::path::Path,
    delimiter: u8,
    emit: &mut dyn FnMut(Batch) -> bool,
) -> Result<Structure, BatchError> {
    let mut file = File::open(path).map_err(BatchError::Io)?;
    let mut scanner = StructureScanner::new(delimiter);
    // Bytes from file offset `start` on, not yet handed out.
    let mut pending: Vec<u8> = Vec::with_capacity(BATCH_BYTES + READ_BYTES);
    let mut start = 0u64;
    // The header record has been cut off.
    let mut header_done = false;
    let mut rows_out = 0u64; // data rows handed out
    let (mut ragged_seen, mut blank_seen) = (0usize, 0usize);
    let mut carry: Vec<u8> = Vec::new(); // an incomplete UTF-8 sequence at a read's end
    let mut buf = vec![0u8; READ_BYTES];
    let mut offset = 0u64; // file offset of the next byte read
    loop {
        let n = file.read(&mut buf).map_err(BatchError::Io)?;
        let at_eof = n == 0;
        // The bytes to check: the carried incomplete sequence, then this read.
        let mut chunk = std::mem::take(&mut carry);
        chunk.extend_from_slice(&buf[..n]);
        let chunk_start = offset - (chunk.len() - n) as u64;
        offset += n as u64;
        let good = match std::str::from_utf8(&chunk) {
            Ok(_) => chunk.len(),
            Err(e) if e.error_len().is_none() && !at_eof => {
                carry = chunk[e.valid_up_to()..].to_vec();
                e.valid_up_to()
            }
            Err(e) => {
                let at = chunk_start + e.valid_up_to() as u64;
                let bad = &chunk[e.valid_up_to()..];
                let bad = bad[..e.error_len().unwrap_or(bad.len()).min(bad.len())].to_vec();
                let line = line_of(path, at).map_err(BatchError::Io)?;
                return Err(BatchError::Encoding(at, line, bad));
            }
        };
        let valid = &chunk[..good];
        scanner.feed(valid);
        pending.extend_from_slice(valid);
        if at_eof {
            scanner.end_input();
        }
        if !header_done && scanner.records() >= 1 {
            let cut = (scanner.header_end() - start) as usize;
            pending.drain(..cut.min(pending.len()));
            start += cut as u64;
            header_done = true;
        }
        let ready = scanner.last_end().saturating_sub(start) as usize;
        if header_done && (ready >= BATCH_BYTES || (at_eof && ready > 0)) {
            let rest = pending.split_off(ready.min(pending.len()));
            let bytes = std::mem::replace(&mut pending, rest);
            if pending.capacity() < BATCH_BYTES {
                pending.reserve(BATCH_BYTES);
            }
            start += bytes.len() as u64;
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
                bytes,
                first_row,
                rows,
                skipped,
            }) {
                break;
            }
        }
        if at_eof {
            break;
        }
    }
    Ok(scanner.finish())
}

/// The 1-based line of a byte offset (only computed for an encoding error).
fn line_of(path: &std::path::Path, at: u64) -> std::io::Result<u64> {
    let mut file = File::open(path)?.take(at);
    let mut buf = vec![0u8; READ_BYTES];
    let mut lines = 1u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(lines);
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
    }
}
