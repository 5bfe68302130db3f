//! Numbers, a figure with its uncertainty, and ρ, as both binaries print them
//! for people.

/// A number for people: thousands separated, sensible decimals.
pub fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x.fract() == 0.0 && x.abs() < 100.0 {
        return format!("{x:.0}");
    }
    fixed(x, decimals(x.abs()))
}

/// A figure and its uncertainty (`m +/- sd`) with the same number of
/// decimals, chosen by the larger of the two as [`fmt_num`] would: never
/// `1.0 +/- 0.000` beside `1.000 +/- 0.000`.
pub fn fmt_pm(m: f64, sd: f64) -> String {
    if !(m.is_finite() && sd.is_finite()) {
        return format!("{} +/- {}", fmt_num(m), fmt_num(sd));
    }
    let d = decimals(m.abs().max(sd.abs()));
    format!("{} +/- {}", fixed(m, d), fixed(sd, d))
}

/// Decimals shown for a magnitude: none from 100 on, one from 1 on, else
/// three; judged after rounding (0.9999 shows as 1.0, not 1.000).
fn decimals(a: f64) -> usize {
    if (a * 10.0).round() >= 1000.0 {
        0
    } else if (a * 1000.0).round() >= 1000.0 {
        1
    } else {
        3
    }
}

/// `x` with `d` decimals; whole numbers get thousands separators.
fn fixed(x: f64, d: usize) -> String {
    if d > 0 {
        return format!("{x:.d$}");
    }
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
}

/// ρ for people: up to 4 significant decimals.
pub fn fmt_rho(r: f64) -> String {
    // `+ 0.0` turns the -0.0 of an empty f64 sum into 0.
    let s = format!("{:.4}", r + 0.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// ρ spent, for people: up to 4 decimals, rounded up (a privacy cost is
/// never shown smaller than it is).
pub fn fmt_rho_up(r: f64) -> String {
    let s = fmt_rho(r);
    if s.parse::<f64>().is_ok_and(|v| v >= r) {
        s
    } else {
        fmt_rho(r + 0.00005)
    }
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
    fn a_figure_and_its_uncertainty_share_their_decimals() {
        assert_eq!(fmt_pm(1.0000001, 0.0001), "1.0 +/- 0.0");
        assert_eq!(fmt_pm(0.99999, 0.0001), "1.0 +/- 0.0");
        assert_eq!(fmt_pm(0.5, 0.0123), "0.500 +/- 0.012");
        assert_eq!(fmt_pm(1234.4, 5.25), "1,234 +/- 5");
        assert_eq!(fmt_pm(3.25, 150.0), "3 +/- 150");
        assert_eq!(fmt_num(0.9999), "1.0");
        assert_eq!(fmt_num(99.99), "100");
        assert_eq!(fmt_num(-1234.0), "-1,234");
        assert_eq!(fmt_num(12.0), "12");
        assert_eq!(fmt_num(0.25), "0.250");
    }

    #[test]
    fn rho_drops_trailing_zeros() {
        assert_eq!(fmt_rho(0.25), "0.25");
        assert_eq!(fmt_rho(2.0), "2");
        assert_eq!(fmt_rho(-0.0), "0");
        assert_eq!(fmt_rho(0.123456), "0.1235");
    }
}
