//! Statistics over the samples of one cell (benchmark × metric × runner).

/// Median, minimum and maximum of a cell's samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

/// The median of `samples` (the mean of the middle two for an even count);
/// `None` when empty. Non-finite samples are not expected (the parser
/// rejects them) and sort last.
pub fn median(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    })
}

/// Median, min and max; `None` when there are no samples.
pub fn summarize(samples: &[f64]) -> Option<Summary> {
    let median = median(samples)?;
    let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
    let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(Summary {
        n: samples.len(),
        median,
        min,
        max,
    })
}

/// `value / baseline`: how many times native's median a runner's median is.
/// `None` when the baseline is not a positive finite number.
pub fn ratio(value: f64, baseline: f64) -> Option<f64> {
    if baseline > 0.0 && baseline.is_finite() && value.is_finite() {
        Some(value / baseline)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_even_empty() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[5.0, 5.0, 1.0, 9.0, 5.0]), Some(5.0));
    }

    #[test]
    fn summary_min_max() {
        let s = summarize(&[10.0, 30.0, 20.0, 15.0]).expect("summary");
        assert_eq!(s.n, 4);
        assert_eq!(s.median, 17.5);
        assert_eq!(s.min, 10.0);
        assert_eq!(s.max, 30.0);
        assert_eq!(summarize(&[]), None);
    }

    #[test]
    fn ratio_to_native() {
        assert_eq!(ratio(250.0, 50.0), Some(5.0));
        assert_eq!(ratio(25.0, 50.0), Some(0.5));
        assert_eq!(ratio(25.0, 0.0), None);
        assert_eq!(ratio(25.0, -1.0), None);
        assert_eq!(ratio(f64::NAN, 1.0), None);
    }
}
