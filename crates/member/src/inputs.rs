//! The member's files for `plan` and `export`: picked by kind, validated with
//! exactly the rules of `validate`, then aggregated for the round.

use crate::aggregate;
use crate::cells::Aggregates;
use crate::round_load::LoadedRound;
use clap::Args;
use coopbench_protocol::round::SourceKind;
use coopbench_schema::{
    parse_delimiter, parse_encoding, parse_thousands, Encoding, Mapping, Need, Opened, ReadOptions,
    Report, Settings, Thousands,
};
use coopbench_text as text;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// How to read the member's files: the options every command that reads
/// them shares (`validate`, `plan`, `export`, `compare`). A file's mapping
/// file says how that file is written; these options are the default for
/// what its mapping file does not say.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// The kind of each file, in the order of the files (one --kind for all
    /// when they are of one kind). Default: the file's mapping file (kind = ...),
    /// else its name (containing "sales" or "cost").
    #[arg(long = "kind", value_name = "KIND", value_parser = ["sales", "costs"])]
    kinds: Vec<String>,
    /// A TOML mapping file: your column names and values mapped to the
    /// schema's, and how the file is written (delimiter, encoding, decimal_comma,
    /// thousands, date_format). `--map sales=kasse.toml` is for the sales file,
    /// `--map FILE.csv=MAPPING` for one file, a bare `--map MAPPING` for every
    /// file (or, if it says kind = ..., for that kind). See docs/member.md.
    #[arg(long = "map", value_name = "[KIND=]MAPPING")]
    maps: Vec<String>,
    /// The field separator of files whose mapping file does not set one: a
    /// single character such as ';', or 'tab'. Default ','.
    #[arg(long, value_parser = parse_delimiter)]
    delimiter: Option<u8>,
    /// Numbers are written with a decimal comma (12,50), in files whose
    /// mapping file does not say.
    #[arg(long)]
    decimal_comma: bool,
    /// Numbers group thousands with this separator ('.', ',', "'" or ' '), in
    /// files whose mapping file does not say.
    #[arg(long, value_parser = parse_thousands)]
    thousands: Option<Thousands>,
    /// The encoding of files whose mapping file does not set one: utf-8 (with
    /// or without BOM; the default), windows-1252, or latin1.
    #[arg(long, value_parser = parse_encoding)]
    encoding: Option<Encoding>,
}

/// One of the member's files, with its kind (when told) and how to read it.
#[derive(Debug)]
pub struct InputFile {
    /// The file as the member named it.
    pub path: PathBuf,
    /// `sales` or `costs`, when the command line, its mapping file or its name says.
    pub kind: Option<String>,
    /// Its reading options.
    pub options: ReadOptions,
}

/// Which files a `--map` is for.
#[derive(Debug, PartialEq, Eq)]
enum MapTarget {
    Every,
    Kind(String),
    File(PathBuf),
}

impl ReadArgs {
    /// The command line's format settings (the default of every file).
    fn settings(&self) -> Settings {
        Settings {
            delimiter: self.delimiter,
            encoding: self.encoding,
            decimal_comma: self.decimal_comma.then_some(true),
            thousands: self.thousands,
            date_format: None,
        }
    }

    /// The mapping files and whom each is for.
    fn mappings(&self, files: &[PathBuf]) -> Result<Vec<(MapTarget, Mapping)>, String> {
        let mut out: Vec<(MapTarget, Mapping)> = Vec::new();
        for arg in &self.maps {
            let (target, path) = match arg.split_once('=') {
                Some((k, p)) if coopbench_schema::BUILTIN_KINDS.contains(&k) => {
                    (Some(MapTarget::Kind(k.to_string())), p)
                }
                Some((f, p)) if files.iter().any(|x| x.as_os_str() == f) => {
                    (Some(MapTarget::File(PathBuf::from(f))), p)
                }
                _ => (None, arg.as_str()),
            };
            let m = Mapping::from_path(Path::new(path))?;
            let target = match (target, &m.kind) {
                (Some(MapTarget::Kind(k)), Some(said)) if *said != k => {
                    return Err(format!(
                        "--map {arg}: the mapping file says kind = {said:?}, not {k}"
                    ))
                }
                (Some(t), _) => t,
                (None, Some(k)) => MapTarget::Kind(k.clone()),
                (None, None) => MapTarget::Every,
            };
            if out.iter().any(|(t, _)| *t == target) {
                let whom = match &target {
                    MapTarget::Every => "every file".to_string(),
                    MapTarget::Kind(k) => format!("the {k} file"),
                    MapTarget::File(f) => text::path(f),
                };
                return Err(format!(
                    "two mapping files for {whom}: give each file its own with --map sales=FILE, --map costs=FILE or --map DATA.csv=FILE"
                ));
            }
            out.push((target, m));
        }
        Ok(out)
    }

    /// Every file with its kind and its own reading options, or why not,
    /// before anything is read. With `need_kind`, a file whose kind cannot be
    /// told is refused.
    pub fn files(&self, files: &[PathBuf], need_kind: bool) -> Result<Vec<InputFile>, String> {
        let maps = self.mappings(files)?;
        if !(self.kinds.is_empty() || self.kinds.len() == 1 || self.kinds.len() == files.len()) {
            return Err(format!(
                "{} --kind given for {} files: give one --kind per file, in the order of the files (or one for all)",
                self.kinds.len(),
                files.len()
            ));
        }
        let cli = self.settings();
        let mut out = Vec::with_capacity(files.len());
        for (i, f) in files.iter().enumerate() {
            let own = maps.iter().find(|(t, _)| *t == MapTarget::File(f.clone()));
            let told = match self.kinds.len() {
                0 => None,
                1 => Some(self.kinds[0].clone()),
                _ => Some(self.kinds[i].clone()),
            };
            if let (Some(k), Some((_, m))) = (&told, own) {
                if let Some(said) = m.kind.as_ref().filter(|s| *s != k) {
                    return Err(format!(
                        "{}: --kind says {k}, its mapping file {} says kind = {said:?}",
                        text::path(f),
                        m.path.as_deref().unwrap_or("")
                    ));
                }
            }
            let kind = told
                .or_else(|| own.and_then(|(_, m)| m.kind.clone()))
                .or_else(|| kind_from_name(f))
                .or_else(|| kind_from_header(f, &maps, &cli));
            if kind.is_none() && need_kind {
                return Err(format!(
                    "cannot tell whether {} holds sales or costs: its name contains neither \"sales\" nor \"cost\", \
                     and no mapping file for a kind has all its [columns] labels in its header. \
                     Pass --kind sales or --kind costs (one per file, in the order of the files), \
                     or give it a mapping file that says kind = \"sales\" (--map {}=MAPPING)",
                    text::path(f),
                    text::path(f)
                ));
            }
            let (mapping, shared) = match own
                .or_else(|| {
                    let k = kind.clone()?;
                    maps.iter().find(|(t, _)| *t == MapTarget::Kind(k.clone()))
                })
                .map(|(_, m)| (m.clone(), false))
            {
                Some(m) => (Some(m.0), m.1),
                None => (
                    maps.iter()
                        .find(|(t, _)| *t == MapTarget::Every)
                        .map(|(_, m)| m.clone()),
                    true,
                ),
            };
            let options =
                ReadOptions::resolve(&text::path(f), &cli, mapping, shared, kind.as_deref())?;
            out.push(InputFile {
                path: f.clone(),
                kind,
                options,
            });
        }
        for (t, m) in &maps {
            if let MapTarget::Kind(k) = t {
                if !out.iter().any(|f| f.kind.as_deref() == Some(k)) {
                    return Err(format!(
                        "the mapping file {} is for a {k} file, but none of the files given is one",
                        m.path.as_deref().unwrap_or("")
                    ));
                }
            }
        }
        Ok(out)
    }
}

/// Why the files cannot be used.
#[derive(Debug)]
pub enum InputError {
    /// Usage or I/O (exit 2).
    Usage(String),
    /// The data is invalid: validate's report (exit 1).
    Invalid(Report),
    /// The data is valid but cannot answer this round (exit 1).
    Refused(String),
}

/// What the member's files hold, in counts only (safe to print).
#[derive(Debug, Default)]
pub struct InputSummary {
    /// (file, rows in the period, rows outside it).
    pub files: Vec<(String, u64, u64)>,
    /// The file read for each kind (its name as given, unescaped).
    pub sources: Vec<(SourceKind, String)>,
}

/// The fields `round` reads from files of `kind`, each with the metrics
/// that read it: a file without one of them cannot answer the round.
pub fn needs(round: &coopbench_protocol::Round, kind: SourceKind) -> Vec<Need> {
    let mut out: Vec<Need> = Vec::new();
    let mut add = |field: &str, by: String| match out.iter_mut().find(|n| n.field == field) {
        Some(n) if !n.by.contains(&by) => n.by = format!("{}, {by}", n.by),
        Some(_) => {}
        None => out.push(Need {
            field: field.into(),
            by,
        }),
    };
    for m in &round.metrics {
        // The same terms as the round's group-by reads (aggregate::needs).
        let mut terms = Vec::new();
        if m.source == Some(kind) {
            terms.push((m.measure.as_ref(), &m.filter));
        }
        for t in m.numerator.iter().chain(&m.denominator) {
            if t.source == kind {
                terms.push((t.measure.as_ref(), &t.filter));
            }
        }
        if terms.is_empty() {
            continue;
        }
        let mut reads: Vec<String> = m.dims.iter().filter(|d| *d != "month").cloned().collect();
        for (measure, filters) in terms {
            reads.extend(measure.cloned());
            reads.extend(filters.iter().map(|f| f.field.clone()));
        }
        reads.extend(["date".to_string(), "currency".to_string()]);
        for f in reads {
            add(&f, format!("metric \"{}\"", m.name));
        }
    }
    out
}

/// Validates and aggregates the member's files for a round: each file's
/// kind and reading options are settled before anything is read.
pub fn load(
    files: &[PathBuf],
    read: &ReadArgs,
    round: &LoadedRound,
) -> Result<(Aggregates, InputSummary), InputError> {
    let inputs = read.files(files, true).map_err(InputError::Usage)?;
    load_files(inputs, round)
}

/// As [`load`], for files already resolved with [`ReadArgs::files`].
pub fn load_files(
    inputs: Vec<InputFile>,
    round: &LoadedRound,
) -> Result<(Aggregates, InputSummary), InputError> {
    let mut picked: Vec<(SourceKind, InputFile)> = Vec::new();
    for f in inputs {
        let kind = match f.kind.as_deref() {
            Some("sales") => SourceKind::Sales,
            _ => SourceKind::Costs,
        };
        if picked.iter().any(|(k, _)| *k == kind) {
            return Err(InputError::Usage(format!(
                "two {} files given; pass one sales file and one costs file",
                kind.as_str()
            )));
        }
        picked.push((kind, f));
    }
    let needed: BTreeSet<SourceKind> = round
        .round
        .doc
        .metrics
        .iter()
        .flat_map(|m| {
            m.source
                .into_iter()
                .chain(m.numerator.iter().chain(&m.denominator).map(|t| t.source))
        })
        .collect();
    for k in &needed {
        if !picked.iter().any(|(p, _)| p == k) {
            return Err(InputError::Usage(format!(
                "the round needs your {} file too (a CSV whose name contains \"{}\", or pass --kind {} for it)",
                k.as_str(),
                if *k == SourceKind::Sales {
                    "sales"
                } else {
                    "cost"
                },
                k.as_str()
            )));
        }
    }
    let mut sources = Vec::new();
    let mut reports = Vec::new();
    for (kind, input) in picked {
        let path = input.path;
        let schema = round.schema(kind);
        match coopbench_schema::open(&path, &input.options)
            .map_err(|e| InputError::Usage(e.to_string()))?
        {
            Opened::Unreadable(p) => reports.push(coopbench_schema::FileReport::single(
                &path.display().to_string(),
                &schema.name,
                p,
            )),
            Opened::Ready(source) => {
                // Validation and the round's group-by share one read of the file.
                let query = aggregate::batch_query(&round.round.doc, kind);
                let needs = needs(&round.round.doc, kind);
                let (report, partials) = coopbench_schema::validate_source_with(
                    &source,
                    schema,
                    100,
                    &needs,
                    Some(&query),
                )
                .map_err(|e| InputError::Usage(e.to_string()))?;
                let ok = report.valid;
                reports.push(report);
                if ok {
                    sources.push((kind, source, partials));
                }
            }
        }
    }
    let report = Report::new(reports);
    if !report.valid {
        return Err(InputError::Invalid(report));
    }
    let r = &round.round.doc;
    let mut aggs = Aggregates::new();
    let mut summary = InputSummary::default();
    for (kind, source, partials) in sources {
        let agg =
            aggregate::aggregate(&source.display, partials, r, kind).map_err(InputError::Usage)?;
        if let Some(other) = agg.currencies.iter().find(|c| **c != r.currency) {
            return Err(InputError::Refused(format!(
                "{} has amounts in {other} in the round's period; this round is in {} and one metric cannot mix currencies",
                source.display, r.currency
            )));
        }
        summary
            .files
            .push((source.display.clone(), agg.rows_inside, agg.rows_outside));
        summary.sources.push((kind, source.display.clone()));
        aggs.insert(kind, agg);
    }
    Ok((aggs, summary))
}

/// The kind of the one mapping file for a kind whose `[columns]` labels
/// are all in the file's header (read as that mapping file says), if
/// exactly one is.
fn kind_from_header(file: &Path, maps: &[(MapTarget, Mapping)], cli: &Settings) -> Option<String> {
    let mut fits = maps.iter().filter_map(|(t, m)| {
        let MapTarget::Kind(k) = t else { return None };
        if m.columns.is_empty() {
            return None;
        }
        let options =
            ReadOptions::resolve(&text::path(&file), cli, Some(m.clone()), false, Some(k)).ok()?;
        let header = coopbench_schema::peek_header(file, &options)?;
        m.columns
            .keys()
            .all(|label| header.iter().any(|h| h == label))
            .then(|| k.clone())
    });
    let first = fits.next()?;
    fits.next().is_none().then_some(first)
}

/// `sales` or `costs` when the file name says so.
pub fn kind_from_name(file: &Path) -> Option<String> {
    let name = file.file_name()?.to_string_lossy().to_lowercase();
    match (name.contains("sales"), name.contains("cost")) {
        (true, false) => Some("sales".into()),
        (false, true) => Some("costs".into()),
        _ => None,
    }
}
