//! One read of a member's file, in batches of whole records: a reader thread
//! walks the file once through a read-only memory map (no copy into buffers),
//! checks UTF-8, counts cells per record (the structural pass) and cuts the
//! data into batches of a few MB at record boundaries; workers parse each
//! batch with polars' CSV parser into text columns with the row index, run the
//! caller's polars queries on it, and then release the batch's pages from the
//! process (`MADV_DONTNEED`; they stay in the page cache), so that resident
//! memory stays a few batches whatever the file's size. (polars' own scan maps
//! the whole file and keeps every page it touched resident.)

use crate::scan::ROW;
use crate::source::Source;
use crate::structure::{Structure, StructureScanner};
use memmap2::{Advice, Mmap, UncheckedAdvice};
use polars::io::csv::read::_csv_read_internal::read_chunk;
use polars::prelude::*;
use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::sync::Mutex;

/// Bytes checked and scanned per step.
const READ_BYTES: usize = 256 << 10;
/// A batch is cut once it holds this many bytes of whole records.
const BATCH_BYTES: usize = 2 << 20;

/// Whole records of the file, ready to parse.
pub(crate) struct Batch {
    /// The mapped file.
    map: Arc<Mmap>,
    /// Where the records are in it (no header).
    range: std::ops::Range<usize>,
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
        &self.map[self.range.clone()]
    }

    /// Drops the batch's pages from the process's resident memory: from the
    /// page holding its first byte up to the page holding its end, which the
    /// next batch shares and releases in its turn.
    fn release(&self) {
        let page = 4096;
        let start = self.range.start / page * page;
        let end = self.range.end / page * page;
        if end > start {
            // SAFETY: the mapping is read-only and private and never written,
            // so dropping its pages loses nothing: a later access (another
            // worker still parsing the shared first page) reads them from the
            // file again. Failure only means the pages stay resident.
            let _ = unsafe {
                self.map
                    .unchecked_advise_range(UncheckedAdvice::DontNeed, start, end - start)
            };
        }
    }
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
            read(&path, delimiter, READ_BYTES, BATCH_BYTES, &mut |b| {
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
                    batch.release();
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
fn read(
    path: &std::path::Path,
    delimiter: u8,
    step: usize,
    batch_bytes: usize,
    emit: &mut dyn FnMut(Batch) -> bool,
) -> Result<Structure, BatchError> {
    let file = File::open(path).map_err(BatchError::Io)?;
    let mut scanner = StructureScanner::new(delimiter);
    if file.metadata().map_err(BatchError::Io)?.len() == 0 {
        return Ok(scanner.finish());
    }
    // SAFETY: the map is only read. A member's file changed by another
    // program while it is validated can give wrong results (or SIGBUS if it
    // is truncated), exactly as with polars' own memory-mapped scan.
    let map = Arc::new(unsafe { Mmap::map(&file) }.map_err(BatchError::Io)?);
    let _ = map.advise(Advice::Sequential);
    let len = map.len();
    // Bytes before `start` are handed out; before `checked`, checked and scanned.
    let (mut start, mut checked) = (0usize, 0usize);
    // The header record has been cut off.
    let mut header_done = false;
    let mut rows_out = 0u64; // data rows handed out
    let (mut ragged_seen, mut blank_seen) = (0usize, 0usize);
    let mut tried_to = 0usize;
    loop {
        let end = (checked + step).max(tried_to + 1).min(len);
        let at_eof = end == len;
        let fresh = &map[checked..end];
        let good = match std::str::from_utf8(fresh) {
            Ok(_) => fresh.len(),
            Err(e) if e.error_len().is_none() && !at_eof => e.valid_up_to(),
            Err(e) => {
                let at = (checked + e.valid_up_to()) as u64;
                let bad = &fresh[e.valid_up_to()..];
                let bad = bad[..e.error_len().unwrap_or(bad.len()).min(bad.len())].to_vec();
                return Err(BatchError::Encoding(at, line_of(&map[..at as usize]), bad));
            }
        };
        // An incomplete UTF-8 sequence at the window's end is checked with the
        // next window, which reaches further.
        tried_to = end;
        scanner.feed(&map[checked..checked + good]);
        checked += good;
        let at_eof = checked == len;
        if at_eof {
            scanner.end_input();
        }
        if !header_done && scanner.records() >= 1 {
            start = scanner.header_end() as usize;
            header_done = true;
        }
        let ready = (scanner.last_end() as usize)
            .min(checked)
            .saturating_sub(start);
        if header_done && (ready >= batch_bytes || (at_eof && ready > 0)) {
            let range = start..start + ready;
            start += ready;
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
                map: Arc::clone(&map),
                range,
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

/// The 1-based line of the byte after `before` (only computed for an encoding error).
fn line_of(before: &[u8]) -> u64 {
    1 + memchr::memchr_iter(b'\n', before).count() as u64
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
            let shape = read(&path, b',', read_bytes, batch_bytes, &mut |b| {
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
            match read(&path, b',', read_bytes, 4, &mut |_| true) {
                Err(BatchError::Encoding(at, line, bad)) => {
                    assert_eq!((at, line, bad), (15, 3, vec![0xe9]));
                }
                _ => panic!("expected an encoding error"),
            }
        }
    }
}
