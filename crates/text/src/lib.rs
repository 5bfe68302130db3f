//! The only way text from a file reaches a terminal.
//!
//! Every string that comes from a file (a pool's name and purpose, a round's
//! purpose and descriptions, labels, manifest fields, file names found in a
//! directory, cell values quoted in a validation report) is printed through
//! [`shown`] (or [`escape`], [`path`], [`json`]). Characters a terminal would
//! act on instead of showing are written as visible escapes, so a file cannot
//! move the cursor, erase or recolour what was printed, hide text, fake a line
//! ("Association key fingerprint: ...") or reorder it with a bidirectional
//! override:
//!
//! - C0 controls and DEL (U+0000–U+001F, U+007F), newline and tab included:
//!   `\n`, `\r`, `\t`, others `\u{1b}`;
//! - C1 controls (U+0080–U+009F; U+009B is a one-character CSI on many
//!   terminals);
//! - bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E,
//!   U+2066–U+2069), line and paragraph separators (U+2028, U+2029),
//!   zero-width characters (U+200B–U+200D, U+2060, U+FEFF) and other
//!   invisible format characters (U+00AD, U+180E, U+2061–U+2064,
//!   U+206A–U+206F, U+FFF9–U+FFFB).
//!
//! Everything else (accents, CJK, emoji) is shown as it is. A backslash is
//! left alone: the escapes are for people, not for parsing back.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

/// Whether a terminal would act on `c` (or hide it) instead of showing it.
pub fn needs_escape(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{ad}'
        | '\u{61c}'
        | '\u{180e}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}'
        | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}')
}

/// `s` with every character of [`needs_escape`] written as a visible escape
/// (borrowed when nothing needs escaping).
pub fn escape(s: &str) -> Cow<'_, str> {
    if s.chars().any(needs_escape) {
        Cow::Owned(shown(s).to_string())
    } else {
        Cow::Borrowed(s)
    }
}

/// A string to print: its `Display` writes it escaped (see [`escape`]),
/// without allocating.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a>(&'a str);

/// Wraps file-derived text for printing: `println!("Purpose: {}", shown(&p))`.
pub fn shown(s: &str) -> Shown<'_> {
    Shown(s)
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.0.chars().any(needs_escape) {
            // Keeps width and alignment (`{:<20}`) working.
            return f.pad(self.0);
        }
        let mut out = String::with_capacity(self.0.len() + 8);
        for c in self.0.chars() {
            push_char(&mut out, c);
        }
        f.pad(&out)
    }
}

fn push_char(out: &mut String, c: char) {
    use fmt::Write as _;
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if needs_escape(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// A path for printing (file names found in a directory are chosen by whoever
/// put the file there): lossy UTF-8, then escaped.
pub fn path(p: &Path) -> String {
    escape(&p.display().to_string()).into_owned()
}

/// A message the program assembled (it may span lines): every character of
/// [`needs_escape`] except the newline is escaped. For the final print of
/// error messages, as a second line of defence; file-derived parts inside it
/// must still have been passed through [`shown`] (which escapes newlines).
pub fn message(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && needs_escape(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c == '\n' {
            out.push('\n');
        } else {
            push_char(&mut out, c);
        }
    }
    Cow::Owned(out)
}

/// JSON text (as serde_json writes it) for a terminal: every character of
/// [`needs_escape`] that serde_json leaves raw (DEL, C1 controls,
/// bidirectional and invisible format characters) becomes a JSON `\uXXXX`
/// escape, so the document parses to the same value. C0 controls are left
/// alone: serde_json escapes them inside strings, so the only raw ones are
/// the layout of pretty output (newlines, indentation).
pub fn json(s: &str) -> Cow<'_, str> {
    use fmt::Write as _;
    let raw = |c: char| needs_escape(c) && c >= ' ';
    if !s.chars().any(raw) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if raw(c) {
            // Every such character is in the Basic Multilingual Plane.
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Text for an HTML page (element content and quoted attribute values):
/// `&`, `<`, `>`, `"` and `'` become character references, so text from a
/// file can never open a tag, a script or an attribute in a report.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_controls_are_escaped_and_text_is_kept() {
        let hostile =
            "Benchmarks\u{1b}[8m\nAssociation key fingerprint: 0000\u{9b}2J\u{202e}cba\u{7}";
        let s = shown(hostile).to_string();
        assert_eq!(
            s,
            "Benchmarks\\u{1b}[8m\\nAssociation key fingerprint: 0000\\u{9b}2J\\u{202e}cba\\u{7}"
        );
        assert!(!s.chars().any(needs_escape), "{s:?}");
        assert_eq!(
            escape("Bäckerei Müller, 東京 🍞"),
            "Bäckerei Müller, 東京 🍞"
        );
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
        for c in [
            '\u{200b}', '\u{2028}', '\u{2066}', '\u{feff}', '\u{ad}', '\u{85}',
        ] {
            assert!(needs_escape(c), "{c:?}");
        }
        for c in ['a', 'é', '\u{a0}', '\u{2010}', '€'] {
            assert!(!needs_escape(c), "{c:?}");
        }
    }

    #[test]
    fn padding_applies_to_the_escaped_text() {
        assert_eq!(format!("[{:<6}]", shown("ab")), "[ab    ]");
        assert_eq!(format!("[{:>6}]", shown("a\tb")), "[  a\\tb]");
    }

    #[test]
    fn messages_keep_their_lines_and_json_stays_json() {
        assert_eq!(message("a\n  - b\u{1b}[2J"), "a\n  - b\\u{1b}[2J");
        let value = serde_json::json!({"purpose": "x\u{1b}\u{9b}\u{202e}y\u{7f}"});
        let doc = serde_json::to_string_pretty(&value).unwrap();
        let safe = json(&doc);
        assert!(
            !safe
                .chars()
                .any(|c| needs_escape(c) && !c.is_ascii_whitespace()),
            "{safe}"
        );
        assert!(safe.contains('\n'), "the layout is kept");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, value);
    }
}
