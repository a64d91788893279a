//! Half-integer Matérn kernels in one dimension and their integrals against the Lebesgue
//! measure on [a, b], in closed form and generic over [`Real`].
//!
//! For ν = p + ½ the Matérn kernel with length scale ℓ is, with c = √(2ν)/ℓ and s = c·r
//! (r = |x − y|),
//!
//! k(r) = e^(−s) Σⱼ aⱼ sʲ, with (aⱼ) = (1) for ν = ½; (1, 1) for 3/2; (1, 1, 1/3) for 5/2;
//! (1, 1, 2/5, 1/15) for 7/2
//!
//! (the standard form (p!/(2p)!) Σᵢ (p+i)!/(i!(p−i)!) (2s)^(p−i), e.g. ν = 7/2:
//! (1 + √7 r/ℓ + 14r²/(5ℓ²) + 7√7 r³/(15ℓ³)) e^(−√7 r/ℓ)). Its RKHS is norm-equivalent to
//! the Sobolev space of order b = ν + ½ on an interval, hence BQ's O(N^−b) rate.
//!
//! Derivation of the kernel mean. With the lower incomplete gamma function,
//! ∫₀^D e^(−s) sʲ ds = j! (1 − e^(−D) eⱼ(D)), eⱼ(D) = Σ_{i≤j} Dⁱ/i!, so
//!
//! F(d) := ∫₀^d k(r) dr = (1/c) Σⱼ aⱼ j! (1 − e^(−cd) eⱼ(cd)),
//!
//! and splitting ∫ₐᵇ k(x, y) dy at y = x gives the kernel mean z(x) = F(x − a) + F(b − x).
//! Integrating once more (∫ₐᵇ z = 2 ∫₀ᴸ F, L = b − a, and ∫₀ᴸ e^(−cd) (cd)ⁱ/i! dd =
//! (1/c)(1 − e^(−cL) eᵢ(cL))) gives the initial error (the prior variance of the integral)
//!
//! ∫∫ k = (2/c) Σⱼ aⱼ j! [L − (1/c) Σ_{i≤j} (1 − e^(−cL) eᵢ(cL))].
//!
//! Both lose relative accuracy by cancellation when c·L is small (long length scales); the BQ
//! weights are therefore computed in [`crate::mp::Mp`] at a few hundred bits, where it does
//! not matter.

use crate::real::Real;

/// The smoothness ν of a half-integer Matérn kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Smoothness {
    /// ν = 1/2 (the exponential / Ornstein–Uhlenbeck kernel), b = 1.
    Half,
    /// ν = 3/2, b = 2.
    ThreeHalves,
    /// ν = 5/2, b = 3.
    FiveHalves,
    /// ν = 7/2, b = 4.
    SevenHalves,
}

impl Smoothness {
    /// All four, by increasing ν.
    pub const ALL: [Smoothness; 4] = [
        Smoothness::Half,
        Smoothness::ThreeHalves,
        Smoothness::FiveHalves,
        Smoothness::SevenHalves,
    ];

    /// From "12", "32", "52", "72" (2ν as digits) or "0.5", "1.5", "2.5", "3.5".
    pub fn parse(s: &str) -> Option<Smoothness> {
        Some(match s {
            "12" | "0.5" | "1/2" => Smoothness::Half,
            "32" | "1.5" | "3/2" => Smoothness::ThreeHalves,
            "52" | "2.5" | "5/2" => Smoothness::FiveHalves,
            "72" | "3.5" | "7/2" => Smoothness::SevenHalves,
            _ => return None,
        })
    }

    /// ν.
    pub fn nu(self) -> f64 {
        self.two_nu() as f64 / 2.0
    }

    /// 2ν (an odd integer).
    pub fn two_nu(self) -> i64 {
        match self {
            Smoothness::Half => 1,
            Smoothness::ThreeHalves => 3,
            Smoothness::FiveHalves => 5,
            Smoothness::SevenHalves => 7,
        }
    }

    /// b = ν + ½, the Sobolev order of the RKHS and BQ's convergence rate N^−b.
    pub fn order(self) -> u32 {
        (self.two_nu() as u32).div_ceil(2)
    }

    /// The coefficients aⱼ of sʲ as fractions (numerator, denominator).
    fn coefficients(self) -> &'static [(i64, i64)] {
        match self {
            Smoothness::Half => &[(1, 1)],
            Smoothness::ThreeHalves => &[(1, 1), (1, 1)],
            Smoothness::FiveHalves => &[(1, 1), (1, 1), (1, 3)],
            Smoothness::SevenHalves => &[(1, 1), (1, 1), (2, 5), (1, 15)],
        }
    }
}

/// A Matérn kernel with unit amplitude: k(x, x) = 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Matern {
    /// The smoothness ν.
    pub nu: Smoothness,
    /// The length scale ℓ > 0.
    pub lengthscale: f64,
}

/// j! as an integer.
fn factorial(j: usize) -> i64 {
    (1..=j as i64).product()
}

/// 1 − e^(−D) eⱼ(D), the regularised lower incomplete gamma function P(j + 1, D).
fn gamma_p<R: Real>(j: usize, d: &R) -> R {
    let mut term = R::one();
    let mut sum = R::one();
    for i in 1..=j {
        term = term * d.clone() / R::from_i64(i as i64);
        sum += term.clone();
    }
    R::one() - (-d.clone()).exp() * sum
}

impl Matern {
    /// c = √(2ν)/ℓ.
    fn rate<R: Real>(&self) -> R {
        R::from_i64(self.nu.two_nu()).sqrt() / R::from_f64(self.lengthscale)
    }

    fn coefficient<R: Real>(&self, j: usize) -> R {
        let (num, den) = self.nu.coefficients()[j];
        R::from_i64(num) / R::from_i64(den)
    }

    /// k(r) for a distance r ≥ 0.
    pub fn k<R: Real>(&self, r: R) -> R {
        let s = self.rate::<R>() * r.abs();
        let mut poly = R::zero();
        let mut power = R::one();
        for j in 0..self.nu.coefficients().len() {
            poly += self.coefficient::<R>(j) * power.clone();
            power *= s.clone();
        }
        poly * (-s).exp()
    }

    /// k(x, y) = k(|x − y|).
    pub fn kernel<R: Real>(&self, x: R, y: R) -> R {
        self.k(x - y)
    }

    /// F(d) = ∫₀^d k(r) dr for d ≥ 0.
    fn half_mean<R: Real>(&self, d: R) -> R {
        let c = self.rate::<R>();
        let cd = c.clone() * d;
        let mut s = R::zero();
        for j in 0..self.nu.coefficients().len() {
            s += self.coefficient::<R>(j) * R::from_i64(factorial(j)) * gamma_p(j, &cd);
        }
        s / c
    }

    /// The kernel mean z(x) = ∫ₐᵇ k(x, y) dy for x in [a, b].
    pub fn kernel_mean<R: Real>(&self, x: R, a: R, b: R) -> R {
        self.half_mean(x.clone() - a) + self.half_mean(b - x)
    }

    /// The initial error ∫ₐᵇ∫ₐᵇ k(x, y) dx dy (the prior variance of the integral).
    pub fn initial_error<R: Real>(&self, a: R, b: R) -> R {
        let c = self.rate::<R>();
        let l = b - a;
        let cl = c.clone() * l.clone();
        let mut total = R::zero();
        let mut inner = R::zero(); // Σ_{i ≤ j} P(i + 1, cL)
        for j in 0..self.nu.coefficients().len() {
            inner += gamma_p(j, &cl);
            let bracket = l.clone() - inner.clone() / c.clone();
            total += self.coefficient::<R>(j) * R::from_i64(factorial(j)) * bracket;
        }
        R::from_f64(2.0) * total / c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mode::RoundingMode;
    use crate::mp::{self, Mp, MpContext};
    use crate::quad::gauss;

    #[test]
    fn kernels_match_their_textbook_forms() {
        let l = 0.3;
        for r in [0.0, 0.01, 0.1, 0.3, 1.0, 2.5] {
            let k = |nu| Matern { nu, lengthscale: l }.k(r);
            let (s3, s5, s7) = (
                3f64.sqrt() * r / l,
                5f64.sqrt() * r / l,
                7f64.sqrt() * r / l,
            );
            let want = [
                (-r / l).exp(),
                (1.0 + s3) * (-s3).exp(),
                (1.0 + s5 + 5.0 * r * r / (3.0 * l * l)) * (-s5).exp(),
                (1.0 + s7
                    + 14.0 * r * r / (5.0 * l * l)
                    + 7.0 * 7f64.sqrt() * r.powi(3) / (15.0 * l.powi(3)))
                    * (-s7).exp(),
            ];
            for (nu, w) in Smoothness::ALL.into_iter().zip(want) {
                assert!((k(nu) - w).abs() < 1e-15, "ν={} r={r}", nu.nu());
            }
        }
        assert_eq!(Smoothness::SevenHalves.order(), 4);
        assert_eq!(Smoothness::Half.order(), 1);
    }

    /// Kernel means and ∫∫k against 60-point Gauss–Legendre at 256 bits on each smooth piece
    /// (the kernel is not smooth at r = 0, so [a, b] is split at the node).
    #[test]
    fn closed_forms_match_high_precision_numerical_integration() {
        let ctx = MpContext::new(256, RoundingMode::NearestEven).unwrap();
        mp::with_context(ctx, || {
            let rule = gauss::legendre::<Mp>(60, 1e-70);
            for nu in Smoothness::ALL {
                for (l, a, b) in [
                    (0.3, 0.0, 0.1),
                    (0.3, 1.7, 1.8),
                    (0.2, -0.5, 0.5),
                    (4.0, 0.0, 1.0),
                ] {
                    let m = Matern { nu, lengthscale: l };
                    let (a, b) = (Mp::from_f64(a), Mp::from_f64(b));
                    for frac in [0.0, 0.13, 0.5, 1.0] {
                        let x = a.clone() + Mp::from_f64(frac) * (b.clone() - a.clone());
                        let k = |y: Mp| m.kernel(x.clone(), y);
                        let numeric = gauss::integrate(k, a.clone(), x.clone(), &rule)
                            + gauss::integrate(k, x.clone(), b.clone(), &rule);
                        let closed = m.kernel_mean(x.clone(), a.clone(), b.clone());
                        let rel = ((closed - numeric.clone()) / numeric).abs().to_f64();
                        assert!(rel < 1e-40, "ν={} ℓ={l} x={frac}: {rel:e}", nu.nu());
                    }
                    // ∫∫k = 2 ∫₀ᴸ (L − r) k(r) dr (the square folded onto its diagonal).
                    let len = b.clone() - a.clone();
                    let numeric = Mp::from_f64(2.0)
                        * gauss::integrate(
                            |r: Mp| (len.clone() - r.clone()) * m.k(r),
                            Mp::zero(),
                            len.clone(),
                            &rule,
                        );
                    let closed = m.initial_error(a.clone(), b.clone());
                    let rel = ((closed - numeric.clone()) / numeric).abs().to_f64();
                    assert!(rel < 1e-40, "ν={} ℓ={l} ∫∫k: {rel:e}", nu.nu());
                }
            }
        });
    }

    #[test]
    fn f64_closed_forms_are_accurate_for_the_experiment_setting() {
        // ℓ = 0.3 on a window of 0.1: f64 evaluation is good to ~1e-14 relative.
        let ctx = MpContext::new(256, RoundingMode::NearestEven).unwrap();
        for nu in Smoothness::ALL {
            let m = Matern {
                nu,
                lengthscale: 0.3,
            };
            let exact = mp::with_context(ctx, || {
                m.initial_error(Mp::zero(), Mp::from_f64(0.1)).to_f64()
            });
            let approx = m.initial_error(0.0, 0.1);
            assert!(((approx - exact) / exact).abs() < 1e-12, "ν={}", nu.nu());
            let exact = mp::with_context(ctx, || {
                m.kernel_mean(Mp::from_f64(0.03), Mp::zero(), Mp::from_f64(0.1))
                    .to_f64()
            });
            let approx = m.kernel_mean(0.03, 0.0, 0.1);
            assert!(((approx - exact) / exact).abs() < 1e-13, "ν={}", nu.nu());
        }
    }
}
