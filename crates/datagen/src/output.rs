//! Atomic file writes and the CSV writers of both files.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveDate;

use crate::costs::CostRow;
use crate::sales::SalesRow;
use crate::vocab::{COSTS_HEADER, CURRENCY, SALES_HEADER};

/// Writes `path` atomically: `write` fills `<name>.tmp` in the same directory, which is then renamed.
pub(crate) fn atomic_write<T>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(".tmp");
    let tmp: PathBuf = path.with_file_name(tmp_name);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let result = (|| {
        let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        let value = write(&mut out)?;
        let file = out
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("writing {}", tmp.display()))?;
        file.sync_all()
            .with_context(|| format!("syncing {}", tmp.display()))?;
        fs::rename(&tmp, path)
            .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
        Ok(value)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Appends `cents` as a decimal amount with exactly two decimals (`-12.05`).
pub(crate) fn push_amount(buf: &mut String, cents: i64) {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let _ = write!(buf, "{sign}{}.{:02}", abs / 100, abs % 100);
}

fn csv_writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out)
}

/// Streams `sales.csv` rows, reusing its formatting buffers.
pub(crate) struct SalesWriter<W: Write> {
    csv: csv::Writer<W>,
    date: Option<NaiveDate>,
    date_buf: String,
    amount: String,
    units: String,
    txns: String,
}

impl<W: Write> SalesWriter<W> {
    /// Starts the file with its header row.
    pub(crate) fn new(out: W) -> anyhow::Result<Self> {
        let mut csv = csv_writer(out);
        csv.write_record(SALES_HEADER)?;
        Ok(SalesWriter {
            csv,
            date: None,
            date_buf: String::new(),
            amount: String::new(),
            units: String::new(),
            txns: String::new(),
        })
    }

    /// Writes one row with the given receipt id (may be empty).
    pub(crate) fn write(&mut self, row: &SalesRow, receipt: &str) -> anyhow::Result<()> {
        if self.date != Some(row.date) {
            self.date = Some(row.date);
            self.date_buf.clear();
            let _ = write!(self.date_buf, "{}", row.date.format("%Y-%m-%d"));
        }
        self.amount.clear();
        push_amount(&mut self.amount, row.net_cents);
        self.units.clear();
        let _ = write!(self.units, "{}", row.units);
        self.txns.clear();
        let _ = write!(self.txns, "{}", row.transactions);
        self.csv.write_record([
            self.date_buf.as_str(),
            row.category.as_str(),
            row.channel.as_str(),
            self.amount.as_str(),
            self.units.as_str(),
            self.txns.as_str(),
            CURRENCY,
            receipt,
        ])?;
        Ok(())
    }

    /// Flushes the CSV layer into the underlying writer.
    pub(crate) fn finish(mut self) -> anyhow::Result<()> {
        self.csv.flush()?;
        Ok(())
    }
}

/// Writes all rows of `costs.csv`, invoice ids formatted as `<code>-<yyyymm>-<nnnn>`.
pub(crate) fn write_costs<W: Write>(out: W, rows: &[CostRow]) -> anyhow::Result<()> {
    let mut csv = csv_writer(out);
    csv.write_record(COSTS_HEADER)?;
    let mut amount = String::new();
    let mut invoice = String::new();
    for row in rows {
        amount.clear();
        push_amount(&mut amount, row.amount_cents);
        invoice.clear();
        if let Some(n) = row.invoice {
            let _ = write!(
                invoice,
                "{}-{}-{n:04}",
                row.supplier.code,
                row.date.format("%Y%m")
            );
        }
        let date = row.date.format("%Y-%m-%d").to_string();
        csv.write_record([
            date.as_str(),
            row.cost_type.as_str(),
            amount.as_str(),
            CURRENCY,
            row.supplier.name,
            invoice.as_str(),
        ])?;
    }
    csv.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::push_amount;

    #[test]
    fn amounts_have_two_decimals() {
        for (cents, text) in [
            (0, "0.00"),
            (5, "0.05"),
            (-5, "-0.05"),
            (123456, "1234.56"),
            (-100, "-1.00"),
        ] {
            let mut s = String::new();
            push_amount(&mut s, cents);
            assert_eq!(s, text);
        }
    }
}
