//! Numbers and ρ as both binaries print them for people.

/// A number for people: thousands separated above 100, whole numbers without
/// decimals, one decimal from 1, three below; infinity and NaN as words.
pub fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let a = x.abs();
    if a >= 100.0 {
        let i = x.round() as i64;
        let digits = i.unsigned_abs().to_string();
        let mut out = String::new();
        for (k, ch) in digits.chars().enumerate() {
            if k > 0 && (digits.len() - k).is_multiple_of(3) {
                out.push(',');
            }
            out.push(ch);
        }
        if i < 0 {
            format!("-{out}")
        } else {
            out
        }
    } else if x.fract() == 0.0 {
        format!("{x:.0}")
    } else if a >= 1.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.3}")
    }
}

/// ρ for people: up to 4 significant decimals.
pub fn fmt_rho(r: f64) -> String {
    // `+ 0.0` turns the -0.0 of an empty f64 sum into 0.
    let s = format!("{:.4}", r + 0.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(fmt_num(1_234_567.4), "1,234,567");
        assert_eq!(fmt_num(-1_234.6), "-1,235");
        assert_eq!(fmt_num(12.0), "12");
        assert_eq!(fmt_num(12.34), "12.3");
        assert_eq!(fmt_num(0.1234), "0.123");
        assert_eq!(fmt_num(f64::INFINITY), "inf");
        assert_eq!(fmt_num(f64::NAN), "NaN");
    }

    #[test]
    fn rho_drops_trailing_zeros() {
        assert_eq!(fmt_rho(0.25), "0.25");
        assert_eq!(fmt_rho(2.0), "2");
        assert_eq!(fmt_rho(-0.0), "0");
        assert_eq!(fmt_rho(0.123456), "0.1235");
    }
}
