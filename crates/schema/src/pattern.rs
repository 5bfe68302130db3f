//! Fixed-shape patterns (`^[A-Z]{3}$`, `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`) as a
//! vectorised byte-class kernel instead of a regex call per cell: a sequence of
//! ASCII literals and ASCII classes, each repeated a fixed number of times, so
//! that every match has one length and one class per byte position. Any other
//! pattern returns `None` and stays a regex.

use polars::prelude::*;

/// A pattern of fixed length with one allowed byte set per position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FixedPattern {
    positions: Vec<[bool; 128]>,
}

impl FixedPattern {
    /// Compiles `pattern` (as written in a schema, optionally with `^`/`$`;
    /// it is matched whole either way) if it has the fixed shape.
    pub fn compile(pattern: &str) -> Option<Self> {
        let p = pattern.strip_prefix('^').unwrap_or(pattern);
        let p = match p.strip_suffix('$') {
            Some(rest) if !rest.ends_with('\\') => rest,
            _ => p,
        };
        let b = p.as_bytes();
        let mut positions = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let mut set = [false; 128];
            match b[i] {
                b'[' => {
                    let end = i + 1 + b[i + 1..].iter().position(|&c| c == b']')?;
                    let class = &b[i + 1..end];
                    if class.is_empty() {
                        return None;
                    }
                    let mut k = 0;
                    while k < class.len() {
                        let c = class[k];
                        if !c.is_ascii_alphanumeric() {
                            return None;
                        }
                        if k + 2 < class.len() && class[k + 1] == b'-' {
                            let hi = class[k + 2];
                            if !hi.is_ascii_alphanumeric() || hi < c {
                                return None;
                            }
                            for x in c..=hi {
                                set[x as usize] = true;
                            }
                            k += 3;
                        } else {
                            set[c as usize] = true;
                            k += 1;
                        }
                    }
                    i = end + 1;
                }
                c if c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b' ' => {
                    set[c as usize] = true;
                    i += 1;
                }
                _ => return None,
            }
            let mut count = 1usize;
            if b.get(i) == Some(&b'{') {
                let end = i + 1 + b[i + 1..].iter().position(|&c| c == b'}')?;
                let digits = std::str::from_utf8(&b[i + 1..end]).ok()?;
                if digits.is_empty() || !digits.bytes().all(|d| d.is_ascii_digit()) {
                    return None;
                }
                count = digits.parse().ok()?;
                if count == 0 || count > 64 {
                    return None;
                }
                i = end + 1;
            }
            positions.extend(std::iter::repeat_n(set, count));
        }
        if positions.is_empty() {
            return None;
        }
        Some(Self { positions })
    }

    /// True when `s` matches the whole pattern.
    pub fn matches(&self, s: &[u8]) -> bool {
        s.len() == self.positions.len()
            && s.iter()
                .zip(&self.positions)
                .all(|(&c, set)| c < 128 && set[c as usize])
    }

    /// A boolean column expression: does each value of `e` match (null stays null)?
    pub fn expr(self, e: Expr) -> Expr {
        let pattern = std::sync::Arc::new(self);
        e.map(
            move |c: Column| {
                let ca = c.str()?;
                let out: BooleanChunked =
                    arity::unary_elementwise_values(ca, |s: &str| pattern.matches(s.as_bytes()));
                Ok(out.with_name(c.name().clone()).into_column())
            },
            |_, f| Ok(Field::new(f.name().clone(), DataType::Boolean)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_shapes_compile_and_match_as_the_regex_would() {
        let cases = [
            ("^[A-Z]{3}$", "EUR", true),
            ("^[A-Z]{3}$", "EU", false),
            ("^[A-Z]{3}$", "EURO", false),
            ("^[A-Z]{3}$", "eur", false),
            ("^[A-Z]{3}$", "ÉUR", false),
            ("[A-Z]{3}", "USD", true),
            ("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "2025-01-31", true),
            ("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "2025-1-31", false),
            ("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "-201-01-01", false),
            ("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "2025-01-3١", false),
            ("R-[0-9]{2}[a-cX]", "R-12b", true),
            ("R-[0-9]{2}[a-cX]", "R-12d", false),
        ];
        for (p, s, want) in cases {
            let fixed = FixedPattern::compile(p).unwrap_or_else(|| panic!("{p} compiles"));
            let re = regex::Regex::new(&crate::model::anchored(p)).unwrap();
            assert_eq!(re.is_match(s), want, "regex {p} on {s}");
            assert_eq!(fixed.matches(s.as_bytes()), want, "{p} on {s}");
        }
    }

    #[test]
    fn other_patterns_stay_regexes() {
        for p in [
            "^[A-Z]+$",
            "a|b",
            "^(ab){2}$",
            "[^a]",
            r"\d{3}",
            ".{3}",
            "[A-Z]{0}",
            "x?",
            "[]",
            "[a-]",
            "^$",
        ] {
            assert_eq!(FixedPattern::compile(p), None, "{p}");
        }
    }
}
