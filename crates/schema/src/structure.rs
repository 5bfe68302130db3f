//! The structural pass: how many cells each record has, counted by csv-core's
//! state machine while the encoding pass streams the bytes anyway. polars
//! silently pads short rows and truncates long ones, so this is where ragged
//! rows are found; every value rule still runs in polars.

use csv_core::{ReadFieldResult, Reader, ReaderBuilder};

/// The shape of a file: its record count and its ragged rows.
#[derive(Debug, Clone, Default)]
pub(crate) struct Structure {
    /// Cells in the header record.
    pub header_cells: u32,
    /// Data records (not counting the header).
    pub data_rows: u64,
    /// Data rows (0-based, as polars' row index) whose cell count differs from
    /// the header's, with their cell count.
    pub ragged: Vec<(u32, u32)>,
}

/// Feeds bytes through csv-core and keeps the counts.
pub(crate) struct StructureScanner {
    reader: Reader,
    scratch: Vec<u8>,
    cells: u32,
    records: u64,
    shape: Structure,
}

impl StructureScanner {
    /// A scanner for files with this delimiter and `"` quotes.
    pub fn new(delimiter: u8) -> Self {
        Self {
            reader: ReaderBuilder::new().delimiter(delimiter).build(),
            scratch: vec![0; 64 * 1024],
            cells: 0,
            records: 0,
            shape: Structure::default(),
        }
    }

    /// Feeds the next bytes of the file. (csv-core reads an empty input as the
    /// end of the file, so it is only ever called with bytes.)
    pub fn feed(&mut self, mut input: &[u8]) {
        while !input.is_empty() {
            let (res, nin, _) = self.reader.read_field(input, &mut self.scratch);
            input = &input[nin..];
            match res {
                ReadFieldResult::InputEmpty | ReadFieldResult::OutputFull => {}
                ReadFieldResult::Field { record_end } => {
                    self.cells += 1;
                    if record_end {
                        self.end_record();
                    }
                }
                ReadFieldResult::End => return,
            }
        }
    }

    fn end_record(&mut self) {
        if self.records == 0 {
            self.shape.header_cells = self.cells;
        } else if self.cells != self.shape.header_cells {
            let row = (self.records - 1).min(u32::MAX as u64) as u32;
            self.shape.ragged.push((row, self.cells));
        }
        self.records += 1;
        self.cells = 0;
    }

    /// Ends the input (a last record without a line end counts) and returns the shape.
    pub fn finish(mut self) -> Structure {
        loop {
            let (res, _, _) = self.reader.read_field(&[], &mut self.scratch);
            match res {
                ReadFieldResult::Field { record_end } => {
                    self.cells += 1;
                    if record_end {
                        self.end_record();
                    }
                }
                ReadFieldResult::End | ReadFieldResult::InputEmpty => break,
                ReadFieldResult::OutputFull => {}
            }
        }
        self.shape.data_rows = self.records.saturating_sub(1);
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
        let text = "a,b,c\r\n1,2,3\r\n1,2\r\n\"x\ny\",2,3\r\n1,2,3,4\r\n1,2,3";
        for chunk in [1, 2, 3, 7, 1000] {
            let s = shape(text, chunk);
            assert_eq!(s.header_cells, 3, "chunk {chunk}");
            assert_eq!(s.data_rows, 5, "chunk {chunk}");
            assert_eq!(s.ragged, vec![(1, 2), (3, 4)], "chunk {chunk}");
        }
    }

    #[test]
    fn bom_and_missing_final_newline() {
        let s = shape("\u{feff}a,b\n1,2", 4);
        assert_eq!((s.header_cells, s.data_rows), (2, 1));
        assert!(s.ragged.is_empty());
    }
}
