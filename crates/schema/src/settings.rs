//! How one member file is written (separator, encoding, decimal comma,
//! thousands separator, date format), where each setting came from (the
//! file's own mapping file, a mapping file for every file, the command line,
//! or the default), and the advice that says how to change a setting for
//! this file alone.

/// The largest schema or column-mapping file read (a few KiB in practice).
pub const CONFIG_MAX_BYTES: u64 = 1 << 20;

/// The character encoding of a member's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// UTF-8, with or without a byte-order mark (the default).
    #[default]
    Utf8,
    /// Windows-1252 (what Excel writes on Western European Windows).
    Windows1252,
    /// Latin-1. Decoded as Windows-1252, as browsers and the WHATWG encoding
    /// standard do: the two agree on every printable character.
    Latin1,
}

impl Encoding {
    /// The encoding's name as options and mapping files write it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Utf8 => "utf-8",
            Self::Windows1252 => "windows-1252",
            Self::Latin1 => "latin1",
        }
    }

    /// Parses `utf-8`, `windows-1252` (`cp1252`) or `latin1` (`iso-8859-1`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "utf8" | "utf-8" => Some(Self::Utf8),
            "windows-1252" | "cp1252" | "windows1252" => Some(Self::Windows1252),
            "latin1" | "latin-1" | "iso-8859-1" | "iso8859-1" => Some(Self::Latin1),
            _ => None,
        }
    }
}

/// Where one of a file's reading settings came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Origin {
    /// Nobody set it: the default.
    #[default]
    Default,
    /// An option on the command line (it applies to every file whose mapping
    /// file does not set it).
    CommandLine,
    /// A mapping file: `shared` when it was given for every file (a bare `--map`).
    Mapping {
        /// The mapping file as the member named it.
        path: String,
        /// Given for every file rather than for this file or its kind.
        shared: bool,
    },
}

/// Where each reading setting of a file came from.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    /// Of the field separator.
    pub delimiter: Origin,
    /// Of the encoding.
    pub encoding: Origin,
    /// Of the decimal comma.
    pub decimal_comma: Origin,
    /// Of the thousands separator.
    pub thousands: Origin,
    /// Of the date format.
    pub date_format: Origin,
}

/// A thousands separator in numbers (`1.234,56`, `1,234.56`, `1 234,56`, `1'234.56`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Thousands {
    /// `.` (needs a decimal comma).
    Dot,
    /// `,` (needs a decimal point).
    Comma,
    /// A space, a no-break space (U+00A0) or a narrow no-break space (U+202F),
    /// as French exports write them; any of the three is accepted.
    Space,
    /// `'` (Swiss).
    Apostrophe,
}

impl Thousands {
    /// Parses `.`, `,`, `'`, a space (or `space`), U+00A0 or U+202F.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "." => Some(Self::Dot),
            "," => Some(Self::Comma),
            "'" => Some(Self::Apostrophe),
            " " | "\u{a0}" | "\u{202f}" | "space" => Some(Self::Space),
            _ => None,
        }
    }

    /// The characters that count as this separator.
    pub fn chars(self) -> &'static [char] {
        match self {
            Self::Dot => &['.'],
            Self::Comma => &[','],
            Self::Apostrophe => &['\''],
            Self::Space => &[' ', '\u{a0}', '\u{202f}'],
        }
    }

    /// The separator as written in examples and in a mapping file.
    pub fn shown(self) -> &'static str {
        match self {
            Self::Dot => ".",
            Self::Comma => ",",
            Self::Apostrophe => "'",
            Self::Space => " ",
        }
    }
}

/// Format settings as one place gives them (a mapping file or the command
/// line); `None` where that place says nothing.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The field separator.
    pub delimiter: Option<u8>,
    /// The character encoding.
    pub encoding: Option<Encoding>,
    /// Decimals written with a comma.
    pub decimal_comma: Option<bool>,
    /// The thousands separator.
    pub thousands: Option<Thousands>,
    /// A strptime date format for every date field.
    pub date_format: Option<String>,
}

/// Parses a separator: one ASCII character such as `;`, or `tab`.
pub fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        s if s.len() == 1 && s.is_ascii() && s != "\"" && s != "\n" && s != "\r" => {
            Ok(s.as_bytes()[0])
        }
        _ => Err(format!(
            "{s:?} is not a single ASCII separator character (e.g. ',' ';' or 'tab')"
        )),
    }
}

/// Parses an encoding name, or says which are known.
pub fn parse_encoding(s: &str) -> Result<Encoding, String> {
    Encoding::parse(s)
        .ok_or_else(|| format!("unknown encoding {s:?}: use utf-8, windows-1252 or latin1"))
}

/// Parses a thousands separator, or says which are known.
pub fn parse_thousands(s: &str) -> Result<Thousands, String> {
    Thousands::parse(s).ok_or_else(|| {
        format!("{s:?} is not a thousands separator: use \".\", \",\", \"'\" or \" \" (a space)")
    })
}

impl Origin {
    /// The origin in words, e.g. `mapping file kasse.toml`.
    pub fn describe(&self) -> String {
        match self {
            Origin::Default => "the default".into(),
            Origin::CommandLine => "the command line".into(),
            Origin::Mapping { path, shared: true } => {
                format!("mapping file {path}, given for every file")
            }
            Origin::Mapping { path, .. } => format!("mapping file {path}"),
        }
    }
}
