//! Statistics for experiments: the Wasserstein-1 distance, fits, quantiles.

/// The Wasserstein-1 distance between the empirical distributions of two samples of any
/// sizes: ∫ |F_A(x) − F_B(x)| dx, computed exactly (up to f64 rounding of the sums) by sweeping
/// the merged sorted samples. NaNs are rejected; an empty sample gives None.
pub fn wasserstein1(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.is_empty() || b.is_empty() || a.iter().chain(b).any(|x| x.is_nan()) {
        return None;
    }
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    Some(wasserstein1_sorted(&a, &b))
}

/// [`wasserstein1`] for samples already sorted ascending (no NaN).
pub fn wasserstein1_sorted(a: &[f64], b: &[f64]) -> f64 {
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut total = 0.0;
    // Between consecutive breakpoints both CDFs are constant: F_A = i/na, F_B = j/nb.
    let mut x = a[0].min(b[0]);
    while i < a.len() || j < b.len() {
        let next = match (a.get(i), b.get(j)) {
            (Some(&u), Some(&v)) => u.min(v),
            (Some(&u), None) => u,
            (None, Some(&v)) => v,
            (None, None) => break,
        };
        if next > x {
            total += (i as f64 / na - j as f64 / nb).abs() * (next - x);
            x = next;
        }
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
    }
    total
}

/// Least-squares line y = slope · x + intercept; None with fewer than two distinct x.
pub fn linear_fit(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    let n = x.len().min(y.len());
    if n < 2 {
        return None;
    }
    let mx = x[..n].iter().sum::<f64>() / n as f64;
    let my = y[..n].iter().sum::<f64>() / n as f64;
    let sxx: f64 = x[..n].iter().map(|v| (v - mx) * (v - mx)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = x[..n]
        .iter()
        .zip(&y[..n])
        .map(|(u, v)| (u - mx) * (v - my))
        .sum();
    let slope = sxy / sxx;
    Some((slope, my - slope * mx))
}

/// The q-quantile (0 ≤ q ≤ 1) by linear interpolation between order statistics.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
}

/// Mean of a sample (NaN for an empty one).
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasserstein_of_shifted_samples_is_the_shift() {
        let a: Vec<f64> = (0..100).map(|i| i as f64).collect();
        let b: Vec<f64> = a.iter().map(|x| x + 2.5).collect();
        assert!((wasserstein1(&a, &b).unwrap() - 2.5).abs() < 1e-12);
    }

    #[test]
    fn wasserstein_handles_different_sizes_exactly() {
        // A = {0, 1}, B = {0, 0, 1, 1, 1, 1}: F_A = 1/2 on [0,1), F_B = 1/3 → W1 = 1/6.
        let w = wasserstein1(&[0.0, 1.0], &[0.0, 0.0, 1.0, 1.0, 1.0, 1.0]).unwrap();
        assert!((w - 1.0 / 6.0).abs() < 1e-15, "{w}");
        // Point masses: |a − b|.
        assert_eq!(wasserstein1(&[3.0], &[-1.0]).unwrap(), 4.0);
        assert_eq!(wasserstein1(&[1.0, 2.0], &[2.0, 1.0]).unwrap(), 0.0);
        assert!(wasserstein1(&[], &[1.0]).is_none());
        assert!(wasserstein1(&[f64::NAN], &[1.0]).is_none());
    }

    #[test]
    fn fit_recovers_a_line() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let y: Vec<f64> = x.iter().map(|v| -2.0 * v + 1.0).collect();
        let (s, c) = linear_fit(&x, &y).unwrap();
        assert!((s + 2.0).abs() < 1e-12 && (c - 1.0).abs() < 1e-12);
        assert_eq!(quantile(&[4.0, 1.0, 3.0, 2.0], 0.5), Some(2.5));
    }
}
