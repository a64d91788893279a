//! Gauss–Legendre quadrature in any [`Real`], the high-precision reference integrator for the
//! tests of the closed-form kernel means (run in [`crate::mp::Mp`], it integrates the smooth
//! pieces of a kernel to far below f64 precision).

use crate::real::Real;

/// Nodes and weights of the n-point Gauss–Legendre rule on [−1, 1], computed by Newton's
/// method on the Legendre polynomial Pₙ (three-term recurrence) from the usual cosine initial
/// guesses, until an update is below `tol`.
pub fn legendre<R: Real>(n: usize, tol: f64) -> (Vec<R>, Vec<R>) {
    let mut x = Vec::with_capacity(n);
    let mut w = Vec::with_capacity(n);
    let one = R::one();
    let two = R::from_f64(2.0);
    for i in 0..n {
        let guess = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut t = R::from_f64(guess);
        let mut dp = R::one();
        for _ in 0..200 {
            // P_n(t) and P_n'(t) by the recurrence (k+1)P_{k+1} = (2k+1) t P_k − k P_{k−1}.
            let (mut p0, mut p1) = (R::one(), t.clone());
            for k in 1..n {
                let k1 = R::from_i64(k as i64);
                let p2 = (R::from_i64(2 * k as i64 + 1) * t.clone() * p1.clone() - k1 * p0.clone())
                    / R::from_i64(k as i64 + 1);
                p0 = p1;
                p1 = p2;
            }
            let (pn, pn1) = if n == 0 {
                (one.clone(), R::zero())
            } else {
                (p1, p0)
            };
            // P_n'(t) = n (t P_n − P_{n−1}) / (t² − 1).
            dp = R::from_i64(n as i64) * (t.clone() * pn.clone() - pn1)
                / (t.clone() * t.clone() - one.clone());
            let dt = pn / dp.clone();
            t -= dt.clone();
            if dt.abs().to_f64() < tol {
                break;
            }
        }
        w.push(two.clone() / ((one.clone() - t.clone() * t.clone()) * dp.clone() * dp));
        x.push(t);
    }
    (x, w)
}

/// ∫ₐᵇ f by the n-point Gauss–Legendre rule (nodes from [`legendre`]).
pub fn integrate<R: Real>(f: impl Fn(R) -> R, a: R, b: R, rule: &(Vec<R>, Vec<R>)) -> R {
    let half = R::from_f64(0.5);
    let mid = half.clone() * (a.clone() + b.clone());
    let rad = half * (b - a);
    let mut s = R::zero();
    for (x, w) in rule.0.iter().zip(&rule.1) {
        s += w.clone() * f(mid.clone() + rad.clone() * x.clone());
    }
    s * rad
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mode::RoundingMode;
    use crate::mp::{self, Mp, MpContext};

    #[test]
    fn gauss_legendre_integrates_polynomials_exactly_and_exp_to_high_precision() {
        let rule = legendre::<f64>(5, 1e-15);
        // Exact to degree 2n − 1 = 9.
        let v = integrate(|t: f64| t.powi(9) + t.powi(8), 0.0, 1.0, &rule);
        assert!((v - (0.1 + 1.0 / 9.0)).abs() < 1e-15, "{v}");
        let ctx = MpContext::new(256, RoundingMode::NearestEven).unwrap();
        mp::with_context(ctx, || {
            let rule = legendre::<Mp>(40, 1e-70);
            let v = integrate(|t: Mp| t.exp(), Mp::zero(), Mp::one(), &rule);
            let e = Mp::one().exp() - Mp::one();
            assert!((v - e).abs().to_f64() < 1e-60);
        });
    }
}
