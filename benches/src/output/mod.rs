//! Writers of a [`crate::report::Report`]: a markdown table for people,
//! JSON and CSV for machines, an SVG chart of the ratios to native. All
//! hand-written, no dependencies.

pub mod csv;
pub mod json;
pub mod svg;
pub mod table;

/// A value with three significant digits (whole numbers from 100 up).
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "?".to_string();
    }
    let a = v.abs();
    if a == 0.0 {
        return "0".to_string();
    }
    if a >= 100.0 {
        return format!("{v:.0}");
    }
    let decimals = (2 - a.log10().floor() as i32).clamp(0, 12) as usize;
    format!("{v:.decimals$}")
}

/// A ratio to native: `×12.3`, `×0.95`.
pub fn ratio(r: f64) -> String {
    format!("×{}", num(r))
}

/// 1-based repetition number, as shown everywhere.
pub fn rep_number(rep: usize) -> usize {
    rep + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_significant_digits() {
        assert_eq!(num(0.0), "0");
        assert_eq!(num(123456.7), "123457");
        assert_eq!(num(123.4), "123");
        assert_eq!(num(12.34), "12.3");
        assert_eq!(num(1.234), "1.23");
        assert_eq!(num(0.1234), "0.123");
        assert_eq!(num(0.001234), "0.00123");
        assert_eq!(num(-5.5), "-5.50");
        assert_eq!(num(f64::NAN), "?");
        assert_eq!(ratio(23.61), "×23.6");
    }
}
