//! Quadrature on N evenly spaced nodes: the trapezoidal rule, Simpson's rule and Bayesian
//! quadrature (BQ) with Matérn kernels, as used by integral reinforcement learning to estimate
//! the cost of a trajectory window from N samples.
//!
//! A rule is a weight vector: the estimate of ∫ₐᵇ f is Σⱼ wⱼ f(tⱼ) with tⱼ = a + j(b − a)/(N − 1),
//! j = 0 … N − 1 (both endpoints are nodes). Weights are computed once in f64 (BQ weights
//! in high precision, see [`bq`]) and the sum is evaluated by [`weighted_sum`], generic over
//! [`Real`], so it runs in any emulated format.
//!
//! - [`trapezoid_weights`]: order 2, exact for polynomials of degree ≤ 1.
//! - [`simpson_weights`]: order 4, exact for cubics. For odd N it is the composite Simpson
//!   1/3 rule; for even N ≥ 4 the last three intervals use Simpson's 3/8 rule and the others
//!   the 1/3 rule (so the order stays 4); N = 2 falls back to the trapezoid.
//! - [`bq::matern_rule`]: the BQ posterior mean under a zero-mean GP prior with a Matérn
//!   kernel ([`matern`]) and the Lebesgue measure on [a, b].

pub mod bq;
pub mod gauss;
pub mod matern;

use crate::error::{Error, Result};
use crate::real::Real;

/// The N evenly spaced nodes a + j(b − a)/(N − 1), j = 0 … N − 1 (N ≥ 2).
pub fn nodes(n: usize, a: f64, b: f64) -> Vec<f64> {
    let den = (n.max(2) - 1) as f64;
    (0..n)
        .map(|j| {
            if j + 1 == n {
                b
            } else {
                a + (b - a) * (j as f64 / den)
            }
        })
        .collect()
}

fn check(n: usize, a: f64, b: f64) -> Result<()> {
    if n < 2 {
        return Err(Error::Invalid(format!(
            "a rule on evenly spaced nodes with both endpoints needs N ≥ 2 nodes, not {n}"
        )));
    }
    if !(a.is_finite() && b.is_finite() && a < b) {
        return Err(Error::Invalid(format!(
            "the interval [{a}, {b}] must be finite with a < b"
        )));
    }
    Ok(())
}

/// Composite trapezoidal weights on N ≥ 2 nodes: h/2, h, …, h, h/2 with h = (b − a)/(N − 1).
pub fn trapezoid_weights(n: usize, a: f64, b: f64) -> Result<Vec<f64>> {
    check(n, a, b)?;
    let h = (b - a) / (n - 1) as f64;
    let mut w = vec![h; n];
    w[0] = h / 2.0;
    w[n - 1] = h / 2.0;
    Ok(w)
}

/// Simpson weights on N ≥ 2 nodes (see the module docs for even N).
pub fn simpson_weights(n: usize, a: f64, b: f64) -> Result<Vec<f64>> {
    check(n, a, b)?;
    if n == 2 {
        return trapezoid_weights(n, a, b);
    }
    let h = (b - a) / (n - 1) as f64;
    let mut w = vec![0.0; n];
    // Intervals covered by the 1/3 rule: all of them for odd N, all but the last three for
    // even N.
    let simpson_intervals = if n % 2 == 1 { n - 1 } else { n - 4 };
    for pair in 0..simpson_intervals / 2 {
        let j = 2 * pair;
        w[j] += h / 3.0;
        w[j + 1] += 4.0 * h / 3.0;
        w[j + 2] += h / 3.0;
    }
    if n.is_multiple_of(2) {
        let j = simpson_intervals;
        for (k, c) in [1.0, 3.0, 3.0, 1.0].into_iter().enumerate() {
            w[j + k] += 3.0 * h / 8.0 * c;
        }
    }
    Ok(w)
}

/// Σⱼ wⱼ fⱼ, left to right, every product and partial sum rounded in `R` (a plain recursive
/// sum, as straightforward low-precision code would compute it).
pub fn weighted_sum<R: Real>(weights: &[R], values: &[R]) -> R {
    weights
        .iter()
        .zip(values)
        .fold(R::zero(), |s, (w, f)| s + w.clone() * f.clone())
}

/// A quadrature rule for a window, by name.
#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    /// [`trapezoid_weights`].
    Trapezoid,
    /// [`simpson_weights`].
    Simpson,
    /// Bayesian quadrature with a Matérn kernel and jitter added to the Gram diagonal.
    Bayes {
        /// The kernel.
        kernel: matern::Matern,
        /// Added to the Gram matrix diagonal (0: the exact BQ rule).
        jitter: f64,
    },
}

/// The accepted rule names.
pub const RULE_NAMES: &str = "trapezoid, simpson, bq-matern<12|32|52|72>[-j<jitter>] (e.g. bq-matern72-j1e-8; no -j means jitter 0)";

impl Rule {
    /// Parses `trapezoid`, `simpson` or `bq-matern<k>[-j<jitter>]` (k = 2ν as digits: 12, 32,
    /// 52, 72), with the given Matérn length scale.
    pub fn parse(name: &str, lengthscale: f64) -> Result<Rule> {
        let bad = || {
            Error::Invalid(format!(
                "unknown quadrature rule {name:?}; expected {RULE_NAMES}"
            ))
        };
        match name {
            "trapezoid" => return Ok(Rule::Trapezoid),
            "simpson" => return Ok(Rule::Simpson),
            _ => {}
        }
        let rest = name.strip_prefix("bq-matern").ok_or_else(bad)?;
        let (nu, jitter) = match rest.split_once("-j") {
            Some((nu, j)) => (nu, j.parse::<f64>().map_err(|_| bad())?),
            None => (rest, 0.0),
        };
        if !(jitter >= 0.0 && jitter.is_finite()) {
            return Err(bad());
        }
        let nu = matern::Smoothness::parse(nu).ok_or_else(bad)?;
        if !(lengthscale > 0.0 && lengthscale.is_finite()) {
            return Err(Error::Invalid(format!(
                "Matérn length scale {lengthscale} must be positive"
            )));
        }
        Ok(Rule::Bayes {
            kernel: matern::Matern { nu, lengthscale },
            jitter,
        })
    }

    /// The weights on N nodes of [a, b] (BQ weights come from [`bq::matern_rule_cached`]).
    pub fn weights(&self, n: usize, a: f64, b: f64) -> Result<Vec<f64>> {
        match self {
            Rule::Trapezoid => trapezoid_weights(n, a, b),
            Rule::Simpson => simpson_weights(n, a, b),
            Rule::Bayes { kernel, jitter } => Ok(bq::matern_rule_cached(kernel, n, a, b, *jitter)?
                .weights
                .clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn integrate(w: &[f64], n: usize, a: f64, b: f64, f: impl Fn(f64) -> f64) -> f64 {
        let x = nodes(n, a, b);
        weighted_sum(w, &x.iter().map(|&t| f(t)).collect::<Vec<_>>())
    }

    /// Observed order from the errors on N and M nodes: ln(e_N/e_M) / ln(h_N/h_M).
    fn order(
        rule: impl Fn(usize) -> Vec<f64>,
        (n, m): (usize, usize),
        f: &impl Fn(f64) -> f64,
        exact: f64,
    ) -> f64 {
        let e1 = (integrate(&rule(n), n, 0.0, 1.0, f) - exact).abs();
        let e2 = (integrate(&rule(m), m, 0.0, 1.0, f) - exact).abs();
        (e1 / e2).ln() / ((m - 1) as f64 / (n - 1) as f64).ln()
    }

    #[test]
    fn nodes_include_both_endpoints_exactly() {
        let x = nodes(11, 0.3, 0.4);
        assert_eq!((x[0], x[10]), (0.3, 0.4));
        assert!((x[5] - 0.35).abs() < 1e-16);
    }

    #[test]
    fn trapezoid_is_exact_for_lines_and_second_order() {
        for n in 2..12 {
            let w = trapezoid_weights(n, -1.0, 2.0).unwrap();
            let v = integrate(&w, n, -1.0, 2.0, |t| 3.0 * t - 0.5);
            assert!((v - 3.0).abs() < 1e-14, "N={n}: {v}");
        }
        let f = |t: f64| (2.0 * t).exp();
        let exact = ((2.0f64).exp() - 1.0) / 2.0;
        for nm in [(5, 9), (9, 17), (6, 12)] {
            let p = order(|n| trapezoid_weights(n, 0.0, 1.0).unwrap(), nm, &f, exact);
            assert!((p - 2.0).abs() < 0.05, "N,M={nm:?}: order {p}");
        }
        assert!(trapezoid_weights(1, 0.0, 1.0).is_err());
        assert!(trapezoid_weights(3, 1.0, 1.0).is_err());
    }

    #[test]
    fn simpson_is_exact_for_cubics_for_odd_and_even_n_and_fourth_order() {
        let cubic = |t: f64| 1.0 - 2.0 * t + 0.5 * t * t + 4.0 * t * t * t;
        // ∫₀² = 2 − 4 + 4/3 + 16.
        let exact = 2.0 - 4.0 + 4.0 / 3.0 + 16.0;
        for n in 3..16 {
            let w = simpson_weights(n, 0.0, 2.0).unwrap();
            let v = integrate(&w, n, 0.0, 2.0, cubic);
            assert!((v - exact).abs() < 1e-13, "N={n}: {v}");
            assert!((w.iter().sum::<f64>() - 2.0).abs() < 1e-15);
        }
        // Not exact for t⁴ (it is a fourth-order rule, not fifth).
        let w = simpson_weights(5, 0.0, 1.0).unwrap();
        assert!((integrate(&w, 5, 0.0, 1.0, |t| t.powi(4)) - 0.2).abs() > 1e-6);
        let f = |t: f64| (2.0 * t).sin() + t.exp();
        let exact = (1.0 - (2.0f64).cos()) / 2.0 + 1.0f64.exp() - 1.0;
        // Odd N with odd M, even N with even M (for even N the 3/8 part adds an O(h⁵) term).
        for nm in [(5, 9), (9, 17), (40, 80), (60, 120)] {
            let p = order(|n| simpson_weights(n, 0.0, 1.0).unwrap(), nm, &f, exact);
            assert!((p - 4.0).abs() < 0.25, "N,M={nm:?}: order {p}");
        }
        assert_eq!(
            simpson_weights(2, 0.0, 1.0).unwrap(),
            trapezoid_weights(2, 0.0, 1.0).unwrap()
        );
    }

    #[test]
    fn rule_names_parse() {
        assert_eq!(Rule::parse("trapezoid", 0.3).unwrap(), Rule::Trapezoid);
        match Rule::parse("bq-matern72-j1e-8", 0.3).unwrap() {
            Rule::Bayes { kernel, jitter } => {
                assert_eq!(kernel.nu, matern::Smoothness::SevenHalves);
                assert_eq!(jitter, 1e-8);
            }
            other => panic!("{other:?}"),
        }
        match Rule::parse("bq-matern12", 0.3).unwrap() {
            Rule::Bayes { jitter, .. } => assert_eq!(jitter, 0.0),
            other => panic!("{other:?}"),
        }
        assert!(Rule::parse("bq-matern92", 0.3).is_err());
        assert!(Rule::parse("bq-matern72-jx", 0.3).is_err());
        assert!(Rule::parse("midpoint", 0.3).is_err());
    }
}
