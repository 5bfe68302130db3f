//! The baselines: what bare polars does with the same file, run as a child of
//! this binary (`coopbench-bench scan|groupby FILE`) so that it is measured
//! exactly as coopbench is.

use anyhow::Result;
use polars::prelude::*;
use std::path::Path;

fn scan_csv(file: &Path, parse_dates: bool) -> Result<LazyFrame> {
    Ok(LazyCsvReader::new(PlRefPath::try_from_path(file)?)
        .with_has_header(true)
        .with_try_parse_dates(parse_dates)
        .finish()?)
}

/// Baseline of `validate`: polars reads every column of the file (types
/// inferred as a user would get them) in the streaming engine and counts rows.
pub fn scan(file: &Path) -> Result<()> {
    let out = scan_csv(file, false)?
        .select([all().as_expr().count()])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    println!("{out}");
    Ok(())
}

/// Baseline of `export`: a lazy group-by that sums net_amount by month (year
/// and month of the parsed date column) and category, in the streaming engine.
pub fn groupby(file: &Path) -> Result<()> {
    let out = scan_csv(file, true)?
        .group_by([
            col("date").dt().year().alias("year"),
            col("date").dt().month().alias("month"),
            col("category"),
        ])
        .agg([col("net_amount").sum()])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    println!("{} groups\n{out}", out.height());
    Ok(())
}
