//! Bayesian quadrature (BQ) on [a, b] with the Lebesgue measure: under a zero-mean Gaussian
//! process prior with kernel k, conditioned on f at the nodes t₁ … t_N, the integral ∫ₐᵇ f is
//! Gaussian with
//!
//! - mean Σᵢ wᵢ f(tᵢ), weights w = (K + jitter·I)⁻¹ z, Gram matrix Kᵢⱼ = k(tᵢ, tⱼ), kernel
//!   means zᵢ = ∫ₐᵇ k(x, tᵢ) dx;
//! - variance ∫∫k − zᵀ(K + jitter·I)⁻¹ z (the posterior variance; ∫∫k is the initial error).
//!
//! The weights depend only on the kernel, the nodes and the jitter, so a rule is computed once
//! per (N, interval, ℓ, ν, jitter) and reused for every window ([`matern_rule_cached`]).
//!
//! Jitter: 0 gives the exact BQ rule (the interpolating one); the probnum library adds 1e-8 to
//! the Gram diagonal by default, which is what Cao & Pan's code used. For a Matérn kernel on N
//! evenly spaced nodes K is very ill-conditioned (cond ≈ 1e12 at N = 15 for ν = 7/2, ℓ = 0.3
//! on a window of 0.1, and it grows geometrically with N), so the weights are computed in
//! [`Mp`] by Cholesky at 256 bits and recomputed 128 bits higher: the two must agree to 1e-30
//! relative, or the precision doubles until they do. The f64 weights are then correctly
//! rounded from a result accurate far beyond f64.
//!
//! For any weights w (BQ, trapezoid, …), the worst-case error over the unit ball of the
//! kernel's RKHS is e(w) = (∫∫k − 2wᵀz + wᵀKw)^½ ([`worst_case_error`]); for the exact BQ
//! weights it equals the posterior standard deviation, and it is the smallest over all weights
//! on those nodes.

use super::matern::{Matern, Smoothness};
use crate::error::{Error, Result};
use crate::linalg::{self, Matrix};
use crate::mode::RoundingMode;
use crate::mp::{self, Mp, MpContext};
use crate::real::Real;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// A BQ rule on N evenly spaced nodes of [a, b].
#[derive(Clone, Debug, PartialEq)]
pub struct BqRule {
    /// The kernel.
    pub kernel: Matern,
    /// Added to the Gram diagonal.
    pub jitter: f64,
    /// The nodes a + j(b − a)/(N − 1).
    pub nodes: Vec<f64>,
    /// The weights (K + jitter·I)⁻¹ z, correctly rounded to f64 from a high-precision result.
    pub weights: Vec<f64>,
    /// zᵢ = ∫ₐᵇ k(x, tᵢ) dx.
    pub kernel_means: Vec<f64>,
    /// ∫∫k, the prior variance of the integral.
    pub initial_error: f64,
    /// ∫∫k − zᵀ(K + jitter·I)⁻¹ z.
    pub posterior_variance: f64,
    /// Significand bits at which the weights were confirmed.
    pub precision: u32,
}

/// The Gram matrix k(tᵢ, tⱼ) of a kernel.
pub fn gram<R: Real>(kernel: impl Fn(R, R) -> R, nodes: &[R]) -> Matrix<R> {
    nodes
        .iter()
        .map(|x| nodes.iter().map(|y| kernel(x.clone(), y.clone())).collect())
        .collect()
}

/// BQ weights (K + jitter·I)⁻¹ z by Cholesky in `R`.
pub fn weights<R: Real>(gram: &[Vec<R>], z: &[R], jitter: &R) -> Result<Vec<R>> {
    let mut k: Matrix<R> = gram.to_vec();
    for (i, row) in k.iter_mut().enumerate() {
        row[i] += jitter.clone();
    }
    let l = linalg::cholesky(&k)?;
    Ok(linalg::cholesky_solve(&l, z))
}

/// The nodes in `R`: a + (b − a)·j/(N − 1), with both endpoints exact.
fn nodes_in<R: Real>(n: usize, a: f64, b: f64) -> Vec<R> {
    let (ra, rb) = (R::from_f64(a), R::from_f64(b));
    (0..n)
        .map(|j| {
            if j + 1 == n {
                rb.clone()
            } else {
                ra.clone()
                    + (rb.clone() - ra.clone()) * R::from_i64(j as i64) / R::from_i64(n as i64 - 1)
            }
        })
        .collect()
}

struct Computed {
    weights: Vec<Mp>,
    z: Vec<Mp>,
    initial: Mp,
    variance: Mp,
}

fn compute_at(
    kernel: &Matern,
    n: usize,
    a: f64,
    b: f64,
    jitter: f64,
    bits: u32,
) -> Result<Computed> {
    let ctx = MpContext::new(bits, RoundingMode::NearestEven)?;
    mp::with_context(ctx, || {
        let t = nodes_in::<Mp>(n, a, b);
        let (ma, mb) = (Mp::from_f64(a), Mp::from_f64(b));
        let k = gram(|x, y| kernel.kernel(x, y), &t);
        let z: Vec<Mp> = t
            .iter()
            .map(|x| kernel.kernel_mean(x.clone(), ma.clone(), mb.clone()))
            .collect();
        let w = weights(&k, &z, &Mp::from_f64(jitter))?;
        let initial = kernel.initial_error(ma, mb);
        let zw = w
            .iter()
            .zip(&z)
            .fold(Mp::zero(), |s, (u, v)| s + u.clone() * v.clone());
        let variance = initial.clone() - zw;
        Ok(Computed {
            weights: w,
            z,
            initial,
            variance,
        })
    })
}

/// The BQ rule of a Matérn kernel on N ≥ 1 evenly spaced nodes of [a, b] (N = 1: the node a).
pub fn matern_rule(kernel: &Matern, n: usize, a: f64, b: f64, jitter: f64) -> Result<BqRule> {
    let valid = a < b && jitter >= 0.0 && kernel.lengthscale > 0.0;
    if n == 0 || !valid {
        return Err(Error::Invalid(format!(
            "BQ rule needs N ≥ 1 nodes, a < b, jitter ≥ 0 and ℓ > 0 (got N={n}, [{a}, {b}], jitter {jitter}, ℓ {})",
            kernel.lengthscale
        )));
    }
    let mut bits = 256;
    loop {
        let lo = compute_at(kernel, n, a, b, jitter, bits);
        let hi = compute_at(kernel, n, a, b, jitter, bits + 128)?;
        let agree = lo.as_ref().is_ok_and(|lo| {
            let scale = hi
                .weights
                .iter()
                .map(|w| w.abs().to_f64())
                .fold(0.0, f64::max);
            lo.weights
                .iter()
                .zip(&hi.weights)
                .all(|(u, v)| (u.clone() - v.clone()).abs().to_f64() <= 1e-30 * scale)
        });
        if agree {
            return Ok(BqRule {
                kernel: *kernel,
                jitter,
                nodes: super::nodes(n, a, b),
                weights: hi.weights.iter().map(Real::to_f64).collect(),
                kernel_means: hi.z.iter().map(Real::to_f64).collect(),
                initial_error: hi.initial.to_f64(),
                posterior_variance: hi.variance.to_f64(),
                precision: bits + 128,
            });
        }
        if bits >= 4096 {
            return Err(Error::Invalid(format!(
                "BQ weights for N={n}, ν={}, ℓ={} did not settle at {bits} bits",
                kernel.nu.nu(),
                kernel.lengthscale
            )));
        }
        bits *= 2;
    }
}

type Key = (usize, u64, u64, Smoothness, u64, u64);

/// [`matern_rule`], computed once per (N, a, b, ν, ℓ, jitter) per process.
pub fn matern_rule_cached(
    kernel: &Matern,
    n: usize,
    a: f64,
    b: f64,
    jitter: f64,
) -> Result<Arc<BqRule>> {
    static CACHE: OnceLock<Mutex<HashMap<Key, Arc<BqRule>>>> = OnceLock::new();
    let key = (
        n,
        a.to_bits(),
        b.to_bits(),
        kernel.nu,
        kernel.lengthscale.to_bits(),
        jitter.to_bits(),
    );
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(r) = cache.lock().expect("cache lock").get(&key) {
        return Ok(Arc::clone(r));
    }
    // Computed outside the lock: two threads may both compute a rule, with equal results.
    let rule = Arc::new(matern_rule(kernel, n, a, b, jitter)?);
    cache
        .lock()
        .expect("cache lock")
        .insert(key, Arc::clone(&rule));
    Ok(rule)
}

/// The worst-case error of the rule Σ wⱼ f(tⱼ) (nodes evenly spaced on [a, b], N = len(w))
/// over the unit ball of the Matérn kernel's RKHS: (∫∫k − 2wᵀz + wᵀKw)^½, computed at 256
/// bits (the terms cancel to many digits).
pub fn worst_case_error(kernel: &Matern, weights: &[f64], a: f64, b: f64) -> f64 {
    let n = weights.len();
    let ctx = MpContext::new(256, RoundingMode::NearestEven).expect("valid context");
    mp::with_context(ctx, || {
        let t = nodes_in::<Mp>(n, a, b);
        let (ma, mb) = (Mp::from_f64(a), Mp::from_f64(b));
        let w: Vec<Mp> = weights.iter().map(|&v| Mp::from_f64(v)).collect();
        let k = gram(|x, y| kernel.kernel(x, y), &t);
        let kw = linalg::matvec(&k, &w);
        let mut e2 = kernel.initial_error(ma.clone(), mb.clone());
        for i in 0..n {
            let z = kernel.kernel_mean(t[i].clone(), ma.clone(), mb.clone());
            e2 += w[i].clone() * (kw[i].clone() - Mp::from_f64(2.0) * z);
        }
        e2.to_f64().max(0.0).sqrt()
    })
}

/// The 2-norm condition number λ_max/λ_min of the Gram matrix of a Matérn kernel on N evenly
/// spaced nodes of [a, b] (no jitter), by 150 steps of power and inverse iteration at 256
/// bits (the extreme eigenvalues of these Gram matrices are well separated, so this settles
/// far below the three digits a condition number is worth).
pub fn gram_condition(kernel: &Matern, n: usize, a: f64, b: f64) -> Result<f64> {
    let ctx = MpContext::new(256, RoundingMode::NearestEven)?;
    mp::with_context(ctx, || {
        let t = nodes_in::<Mp>(n, a, b);
        let k = gram(|x, y| kernel.kernel(x, y), &t);
        let l = linalg::cholesky(&k)?;
        let rayleigh = |apply: &dyn Fn(&[Mp]) -> Vec<Mp>| {
            let mut v: Vec<Mp> = (0..n)
                .map(|i| Mp::from_f64(1.0 + 0.37 * ((i * 7919) % 13) as f64))
                .collect();
            let mut lambda = Mp::zero();
            for _ in 0..150 {
                let u = apply(&v);
                let norm = u
                    .iter()
                    .fold(Mp::zero(), |s, x| s + x.clone() * x.clone())
                    .sqrt();
                let vv = v.iter().fold(Mp::zero(), |s, x| s + x.clone() * x.clone());
                let vu = v
                    .iter()
                    .zip(&u)
                    .fold(Mp::zero(), |s, (x, y)| s + x.clone() * y.clone());
                lambda = vu / vv;
                v = u.into_iter().map(|x| x / norm.clone()).collect();
            }
            lambda
        };
        let max = rayleigh(&|v| linalg::matvec(&k, v));
        let inv_min = rayleigh(&|v| linalg::cholesky_solve(&l, v));
        Ok((max * inv_min).to_f64())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quad::{nodes, trapezoid_weights};

    fn at<T>(bits: u32, f: impl FnOnce() -> T) -> T {
        mp::with_context(MpContext::new(bits, RoundingMode::NearestEven).unwrap(), f)
    }

    /// Brownian motion pinned at 0, k(s, t) = min(s, t) on [0, T], nodes jh (j = 1 … N − 1):
    /// the BQ posterior mean is the piecewise-linear interpolant through (0, 0), so the weights
    /// are the trapezoid weights without the (known, zero) node at 0.
    #[test]
    fn brownian_kernel_reproduces_the_trapezoid_weights() {
        let (big_t, n) = (0.1, 9);
        let trap = trapezoid_weights(n, 0.0, big_t).unwrap();
        at(200, || {
            let t: Vec<Mp> = nodes_in::<Mp>(n, 0.0, big_t)[1..].to_vec();
            let tt = Mp::from_f64(big_t);
            let k = gram(|s: Mp, u: Mp| s.min(&u), &t);
            let z: Vec<Mp> = t
                .iter()
                .map(|s| s.clone() * tt.clone() - s.clone() * s.clone() / Mp::from_f64(2.0))
                .collect();
            let w = weights(&k, &z, &Mp::zero()).unwrap();
            for (wi, ti) in w.iter().zip(&trap[1..]) {
                assert!((wi.to_f64() - ti).abs() < 1e-17, "{wi:?} vs {ti}");
            }
        });
        // Brownian motion with a random start, k(s, t) = 1 + min(s − a, t − a) on [a, b]: the
        // BQ weights on all N nodes (endpoints included) are exactly the trapezoid weights.
        let (a, b) = (0.7, 1.3);
        let trap = trapezoid_weights(n, a, b).unwrap();
        at(200, || {
            let t = nodes_in::<Mp>(n, a, b);
            let (ma, len) = (Mp::from_f64(a), Mp::from_f64(b) - Mp::from_f64(a));
            let k = gram(
                |s: Mp, u: Mp| Mp::one() + (s - ma.clone()).min(&(u - ma.clone())),
                &t,
            );
            let z: Vec<Mp> = t
                .iter()
                .map(|s| {
                    let d = s.clone() - ma.clone();
                    len.clone() + d.clone() * len.clone() - d.clone() * d / Mp::from_f64(2.0)
                })
                .collect();
            let w = weights(&k, &z, &Mp::zero()).unwrap();
            for (wi, ti) in w.iter().zip(&trap) {
                assert!((wi.to_f64() - ti).abs() < 1e-16, "{wi:?} vs {ti}");
            }
        });
    }

    #[test]
    fn matern_weights_agree_with_a_1024_bit_computation() {
        for nu in Smoothness::ALL {
            for (n, jitter) in [(5, 0.0), (15, 0.0), (15, 1e-8), (40, 0.0)] {
                let m = Matern {
                    nu,
                    lengthscale: 0.3,
                };
                let rule = matern_rule(&m, n, 0.0, 0.1, jitter).unwrap();
                let reference = compute_at(&m, n, 0.0, 0.1, jitter, 1024).unwrap();
                for (w, r) in rule.weights.iter().zip(&reference.weights) {
                    let r = r.to_f64();
                    // Correctly rounded (or within one rounding) from the reference.
                    assert!(
                        (w - r).abs() <= 1.2e-16 * r.abs(),
                        "ν={} N={n}: {w} vs {r}",
                        nu.nu()
                    );
                }
                // Weights integrate constants almost exactly; positive posterior variance.
                let sum: f64 = rule.weights.iter().sum();
                assert!((sum - 0.1).abs() < 1e-3, "ν={} N={n}: Σw = {sum}", nu.nu());
                assert!(
                    rule.posterior_variance >= 0.0 && rule.posterior_variance < rule.initial_error
                );
            }
        }
    }

    #[test]
    fn gram_condition_is_about_1e12_at_n15_and_f64_cholesky_loses_digits() {
        let m = Matern {
            nu: Smoothness::SevenHalves,
            lengthscale: 0.3,
        };
        let cond = gram_condition(&m, 15, 0.0, 0.1).unwrap();
        assert!((1e11..1e13).contains(&cond), "cond = {cond:e}");
        // The same weights by Cholesky in f64 are off by far more than f64 rounding.
        let rule = matern_rule(&m, 15, 0.0, 0.1, 0.0).unwrap();
        let t = nodes(15, 0.0, 0.1);
        let k = gram(|x: f64, y: f64| m.kernel(x, y), &t);
        let z: Vec<f64> = t.iter().map(|&x| m.kernel_mean(x, 0.0, 0.1)).collect();
        let w64 = weights(&k, &z, &0.0).unwrap();
        let err = w64
            .iter()
            .zip(&rule.weights)
            .map(|(u, v)| ((u - v) / v).abs())
            .fold(0.0, f64::max);
        assert!(err > 1e-9, "f64 weights unexpectedly accurate: {err:e}");
    }

    #[test]
    fn exact_bq_has_the_smallest_worst_case_error_and_it_is_the_posterior_sd() {
        let m = Matern {
            nu: Smoothness::FiveHalves,
            lengthscale: 0.3,
        };
        for n in [3, 7, 12] {
            let rule = matern_rule(&m, n, 0.0, 0.1, 0.0).unwrap();
            let e_bq = worst_case_error(&m, &rule.weights, 0.0, 0.1);
            let sd = rule.posterior_variance.sqrt();
            assert!(((e_bq - sd) / sd).abs() < 1e-6, "N={n}: {e_bq:e} vs {sd:e}");
            let e_trap = worst_case_error(&m, &trapezoid_weights(n, 0.0, 0.1).unwrap(), 0.0, 0.1);
            assert!(e_trap > e_bq, "N={n}");
            let jittered = matern_rule(&m, n, 0.0, 0.1, 1e-8).unwrap();
            assert!(worst_case_error(&m, &jittered.weights, 0.0, 0.1) >= e_bq * (1.0 - 1e-9));
        }
        // The worst-case error of exact BQ decays like N^−b (b = 3 here) for moderate N.
        let e = |n| {
            let r = matern_rule(&m, n, 0.0, 0.1, 0.0).unwrap();
            r.posterior_variance.sqrt()
        };
        let slope = (e(20) / e(10)).log2() / (19.0f64 / 9.0).log2();
        assert!((-3.6..-2.6).contains(&slope), "slope {slope}");
    }

    #[test]
    fn cached_rules_are_shared() {
        let m = Matern {
            nu: Smoothness::SevenHalves,
            lengthscale: 0.3,
        };
        let a = matern_rule_cached(&m, 9, 0.0, 0.1, 1e-8).unwrap();
        let b = matern_rule_cached(&m, 9, 0.0, 0.1, 1e-8).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(matern_rule(&m, 0, 0.0, 0.1, 0.0).is_err());
    }

    /// On a window of 0.1 with ℓ = 0.3, exact BQ integrates a smooth function with order at
    /// least b = ν + ½ (in fact about b + 1 here, and 2b for ν = ½); jitter 1e-8 stops the
    /// convergence at a relative error of about 1e-7.
    #[test]
    fn bq_converges_at_least_at_rate_b_and_jitter_sets_a_floor() {
        let f = |t: f64| (2.0 * t).sin() + (1.5 * t).exp();
        let exact = (1.0 - 0.2f64.cos()) / 2.0 + (0.15f64.exp() - 1.0) / 1.5;
        let err = |m: &Matern, n, jitter| {
            let r = matern_rule(m, n, 0.0, 0.1, jitter).unwrap();
            let v: f64 = r.weights.iter().zip(&r.nodes).map(|(w, t)| w * f(*t)).sum();
            ((v - exact) / exact).abs()
        };
        for nu in Smoothness::ALL {
            let m = Matern {
                nu,
                lengthscale: 0.3,
            };
            let order = (err(&m, 9, 0.0) / err(&m, 17, 0.0)).log2();
            assert!(
                order > nu.order() as f64 - 0.2,
                "ν={}: order {order}",
                nu.nu()
            );
        }
        let m = Matern {
            nu: Smoothness::SevenHalves,
            lengthscale: 0.3,
        };
        let (exact_rule, jittered) = (err(&m, 33, 0.0), err(&m, 33, 1e-8));
        assert!(
            exact_rule < 1e-9 && jittered > 1e-8,
            "{exact_rule:e} {jittered:e}"
        );
    }
}
