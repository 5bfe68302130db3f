//! How to read the member's files: the options every command that reads
//! them shares, and each file's kind and reading settings (its own mapping
//! file, else the command line, else the defaults), settled before anything
//! is read.

use clap::Args;
use coopbench_schema::{
    parse_delimiter, parse_encoding, parse_thousands, Encoding, Mapping, ReadOptions, Settings,
    Thousands,
};
use coopbench_text as text;
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
