//! The structural pass: how many cells each record has, counted while the
//! encoding pass streams the bytes anyway. polars silently pads short rows,
//! truncates long ones and reads a blank line as a row of empty cells, so this
//! is where ragged and blank rows are found; every value rule still runs in
//! polars.
//!
//! The counter is a four-state RFC 4180 machine that reads records exactly as
//! polars does (a quote opens a quoted cell only at the start of a cell, `""`
//! inside quotes is a quote, `\r\n` or `\n` ends a record, a blank line is a
//! record). csv-core cannot be used here: it skips blank lines, so its record
//! numbers drift from polars' row index after one. `memchr` finds the next
//! interesting byte, so the loop runs per delimiter, not per byte.

use memchr::{memchr, memchr2};

/// The shape of a file: its record count and its ragged and blank rows.
#[derive(Debug, Clone, Default)]
pub(crate) struct Structure {
    /// Cells in the header record.
    pub header_cells: u32,
    /// The first record is blank (no header on line 1).
    pub header_blank: bool,
    /// Data records (not counting the header), blank ones included.
    pub data_rows: u64,
    /// Data rows (0-based, as polars' row index) whose cell count differs from
    /// the header's, with their cell count.
    pub ragged: Vec<(u32, u32)>,
    /// Data rows that are blank lines.
    pub blank: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    StartField,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

/// Feeds bytes through the counter and keeps the counts.
pub(crate) struct StructureScanner {
    delimiter: u8,
    state: State,
    /// Cells completed in the current record.
    cells: u32,
    /// The current record holds a byte other than `\r`.
    nonblank: bool,
    /// Any byte of the current record seen at all.
    started: bool,
    records: u64,
    /// File offset of the next byte fed.
    pos: u64,
    /// File offset just past the line end of the last complete record.
    last_end: u64,
    /// File offset just past the header record.
    header_end: u64,
    shape: Structure,
}

impl StructureScanner {
    /// A scanner for files with this delimiter and `"` quotes.
    pub fn new(delimiter: u8) -> Self {
        Self {
            delimiter,
            state: State::StartField,
            cells: 0,
            nonblank: false,
            started: false,
            records: 0,
            pos: 0,
            last_end: 0,
            header_end: 0,
            shape: Structure::default(),
        }
    }

    /// Feeds the next bytes of the file.
    pub fn feed(&mut self, input: &[u8]) {
        let d = self.delimiter;
        let mut i = 0;
        while i < input.len() {
            if !self.started {
                // At a record's start: a whole line without quotes is counted
                // in one vectorised pass instead of a search per cell.
                if let Some(next) = self.quick_record(input, i) {
                    i += next;
                    continue;
                }
            }
            self.started = true;
            match self.state {
                State::StartField => {
                    let b = input[i];
                    i += 1;
                    if b == b'"' {
                        self.nonblank = true;
                        self.state = State::Quoted;
                    } else if b == d {
                        self.nonblank = true;
                        self.cells += 1;
                    } else if b == b'\n' {
                        self.end_record(i);
                    } else {
                        self.nonblank |= b != b'\r';
                        self.state = State::Unquoted;
                    }
                }
                State::Unquoted => match memchr2(d, b'\n', &input[i..]) {
                    None => {
                        self.mark(&input[i..]);
                        i = input.len();
                    }
                    Some(k) => {
                        self.mark(&input[i..i + k]);
                        let b = input[i + k];
                        i += k + 1;
                        if b == d {
                            self.cells += 1;
                            self.state = State::StartField;
                        } else {
                            self.end_record(i);
                        }
                    }
                },
                State::Quoted => match memchr(b'"', &input[i..]) {
                    None => i = input.len(),
                    Some(k) => {
                        i += k + 1;
                        self.state = State::QuoteInQuoted;
                    }
                },
                State::QuoteInQuoted => {
                    let b = input[i];
                    i += 1;
                    self.state = if b == b'"' {
                        State::Quoted
                    } else if b == d {
                        self.cells += 1;
                        State::StartField
                    } else if b == b'\n' {
                        self.end_record(i);
                        State::StartField
                    } else {
                        State::Unquoted
                    };
                }
            }
        }
        self.pos += input.len() as u64;
    }

    /// Complete records so far, the header included.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// File offset just past the last complete record (0 before the first).
    pub fn last_end(&self) -> u64 {
        self.last_end
    }

    /// File offset just past the header record (once it is complete).
    pub fn header_end(&self) -> u64 {
        self.header_end
    }

    /// The shape found so far (ragged and blank rows of complete records).
    pub fn shape(&self) -> &Structure {
        &self.shape
    }

    /// Counts a complete record without quotes at `input[at..]`;
    /// returns the bytes it took, or `None` (the state machine reads it).
    fn quick_record(&mut self, input: &[u8], at: usize) -> Option<usize> {
        let nl = memchr(b'\n', &input[at..])?;
        let line = &input[at..at + nl];
        if memchr(b'"', line).is_some() {
            return None;
        }
        let d = self.delimiter;
        let delimiters = line.iter().fold(0u32, |n, &b| n + u32::from(b == d));
        self.cells = delimiters;
        self.nonblank = delimiters > 0 || line.iter().any(|&b| b != b'\r');
        self.end_record(at + nl + 1);
        Some(nl + 1)
    }

    fn mark(&mut self, bytes: &[u8]) {
        if !self.nonblank {
            self.nonblank = bytes.iter().any(|&b| b != b'\r');
        }
    }

    /// Ends the current record (its last cell included); `next` is the index
    /// in the current input just past its line end.
    fn end_record(&mut self, next: usize) {
        self.last_end = self.pos + next as u64;
        if self.records == 0 {
            self.header_end = self.last_end;
        }
        let cells = self.cells + 1;
        let blank = !self.nonblank;
        if self.records == 0 {
            self.shape.header_cells = cells;
            self.shape.header_blank = blank;
        } else {
            let row = (self.records - 1).min(u32::MAX as u64) as u32;
            if blank {
                self.shape.blank.push(row);
            } else if cells != self.shape.header_cells {
                self.shape.ragged.push((row, cells));
            }
        }
        self.records += 1;
        self.cells = 0;
        self.nonblank = false;
        self.started = false;
        self.state = State::StartField;
    }

    /// Ends the input: a last record without a line end counts, and ends at
    /// the end of the input.
    pub fn end_input(&mut self) {
        if self.started {
            self.end_record(0);
        }
        self.last_end = self.pos;
        self.shape.data_rows = self.records.saturating_sub(1);
    }

    /// Ends the input and returns the shape.
    pub fn finish(mut self) -> Structure {
        self.end_input();
        self.shape
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(text: &str, chunk: usize) -> Structure {
        let mut s = StructureScanner::new(b',');
        for c in text.as_bytes().chunks(chunk) {
            s.feed(c);
        }
        s.finish()
    }

    #[test]
    fn counts_records_and_ragged_rows_across_chunk_boundaries() {
        let text = "a,b,c\r\n1,2,3\r\n1,2\r\n\"x\ny\",2,3\r\n1,2,3,4\r\n\"q\"\"\",\"\",3\r\n1,2,3";
        for chunk in [1, 2, 3, 7, 1000] {
            let s = shape(text, chunk);
            assert_eq!(s.header_cells, 3, "chunk {chunk}");
            assert_eq!(s.data_rows, 6, "chunk {chunk}");
            assert_eq!(s.ragged, vec![(1, 2), (3, 4)], "chunk {chunk}");
            assert!(s.blank.is_empty());
        }
    }

    #[test]
    fn blank_lines_are_rows_as_polars_reads_them() {
        for chunk in [1, 5, 100] {
            let s = shape("a,b\n1,2\n\n3\r\n\r\n4,5\n", chunk);
            assert_eq!(s.data_rows, 5, "chunk {chunk}");
            assert_eq!(s.blank, vec![1, 3]);
            assert_eq!(s.ragged, vec![(2, 1)]);
        }
        let s = shape("\na,b\n1,2\n", 3);
        assert!(s.header_blank);
    }

    #[test]
    fn bom_and_missing_final_newline() {
        let s = shape("\u{feff}a,b\n1,2", 4);
        assert_eq!((s.header_cells, s.data_rows), (2, 1));
        assert!(s.ragged.is_empty());
        let s = shape("a,b\n1,2\n", 4);
        assert_eq!(s.data_rows, 1);
    }
}
