//! The values of an IEEE-style format as f64 arithmetic: rounding an f64 onto the format's grid,
//! the format's ulp, and the position of a value in the ordered list of the format's values.
//!
//! This is the fast path's rounding of the f64 reference (an exhaustive binary32 scan cannot
//! afford the exact rounding core per value); it is checked against the rounding core
//! ([`crate::codec::from_f64`]) in the tests. Only formats where it is plain arithmetic qualify:
//! IEEE specials, signed, with subnormals, precision ≤ 24 bits and a range inside binary64's
//! (smallest quantum ≥ 2^−1050), so every value of the format and every quantum is an f64.

use crate::format::{Format, Specials};
use crate::mode::RoundingMode;

/// An IEEE-style format as f64 arithmetic (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid {
    /// Precision p (bits, hidden bit included).
    p: i32,
    emin: i32,
    emax: i32,
    max: f64,
}

/// 2^e for −1022 ≤ e ≤ 1023.
fn pow2(e: i32) -> f64 {
    debug_assert!((-1022..=1023).contains(&e));
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// x · 2^n, exact when the result is an f64 (x and the intermediate normal): in two steps when
/// 2^n is not a normal f64 (quanta of formats reaching into f64's subnormal range).
fn scale(x: f64, n: i32) -> f64 {
    if (-1022..=1023).contains(&n) {
        x * pow2(n)
    } else {
        x * pow2(n / 2) * pow2(n - n / 2)
    }
}

/// ⌊log2 |x|⌋ for normal f64 `x`; below 2^−1022 (zero included) −1023.
fn exponent(x: f64) -> i32 {
    ((x.to_bits() >> 52) & 0x7ff) as i32 - 1023
}

impl Grid {
    /// The grid of `fmt`, or `None` if it does not qualify (see the module docs).
    pub fn new(fmt: &Format) -> Option<Grid> {
        let p = fmt.precision() as i32;
        let ok = fmt.specials() == Specials::Ieee
            && fmt.is_signed()
            && fmt.has_subnormals()
            && fmt.fits_in_f64()
            && p <= 24
            && fmt.emin() - p + 1 >= -1050
            && fmt.emax() <= 1023;
        ok.then(|| Grid {
            p,
            emin: fmt.emin(),
            emax: fmt.emax(),
            max: (2.0 - pow2(1 - p)) * pow2(fmt.emax()),
        })
    }

    /// The precision p.
    pub fn precision(&self) -> u32 {
        self.p as u32
    }

    /// The exponent of the quantum (ulp) of the format at |x|, unbounded above: ulp(x) =
    /// 2^(max(⌊log2 |x|⌋, emin) − p + 1), and 2^(emin − p + 1) at 0.
    pub fn quantum_exp(&self, x: f64) -> i32 {
        exponent(x).max(self.emin) - self.p + 1
    }

    /// ulp(x) as defined by [`Grid::quantum_exp`] (x finite, |x| < 2^1024).
    pub fn ulp(&self, x: f64) -> f64 {
        scale(1.0, self.quantum_exp(x))
    }

    /// `d / ulp(x)`, by an exact scaling.
    pub fn in_ulps(&self, d: f64, x: f64) -> f64 {
        scale(d, -self.quantum_exp(x))
    }

    /// The largest finite value.
    pub fn max(&self) -> f64 {
        self.max
    }

    /// `x` rounded into the format in `mode`, one of rne, rna, rtz, rup, rdn (NaN and ±Inf pass through;
    /// overflow per IEEE 754: ±Inf, or ±max where the mode rounds toward zero).
    pub fn round(&self, x: f64, mode: RoundingMode) -> f64 {
        if !x.is_finite() {
            return x;
        }
        let q = self.quantum_exp(x);
        // Both scalings are exact: x · 2^−q scales an f64 up, or within the normal range, and
        // the rounded r · 2^q is a value of the format, a normal f64.
        let t = scale(x, -q);
        // |t| < 2^25: integer rounding through i64 conversion and the 1.5·2^52 trick, which
        // unlike f64::round_ties_even and friends are no library calls on baseline x86-64.
        let z = (t as i64) as f64; // toward zero
        let r = match mode {
            RoundingMode::NearestEven => {
                const M: f64 = 6755399441055744.0; // 1.5 · 2^52
                (t + M) - M
            }
            RoundingMode::NearestAway => z + f64::from(u8::from((t - z).abs() >= 0.5)) * t.signum(),
            RoundingMode::TowardZero => z,
            RoundingMode::TowardPositive => z + f64::from(u8::from(z < t)),
            RoundingMode::TowardNegative => z - f64::from(u8::from(z > t)),
            other => unreachable!("Grid::round takes rne, rna, rtz, rup or rdn, not {other}"),
        };
        // A zero result keeps the sign of x.
        let v = scale(r.copysign(t), q);
        if v.abs() <= self.max {
            return v;
        }
        let to_inf = match mode {
            RoundingMode::NearestEven | RoundingMode::NearestAway => true,
            RoundingMode::TowardPositive => v > 0.0,
            RoundingMode::TowardNegative => v < 0.0,
            _ => false,
        };
        if to_inf {
            f64::INFINITY.copysign(v)
        } else {
            self.max.copysign(v)
        }
    }

    /// Whether `x` is a value of the format (±Inf included, NaN not).
    pub fn contains(&self, x: f64) -> bool {
        x.is_infinite() || self.round(x, RoundingMode::TowardZero) == x
    }

    /// The position of the value `v` (±Inf included) in the ordered values of the format: its
    /// code's magnitude, negated for negative values (±0 are both 0), so the distance between
    /// two values in representable steps is the difference of their ordinals.
    pub fn ordinal(&self, v: f64) -> i64 {
        let m = self.p - 1;
        let a = v.abs();
        let mag = if a.is_infinite() {
            i64::from(self.emax - self.emin + 2) << m
        } else if a < pow2(self.emin) {
            scale(a, m - self.emin) as i64
        } else {
            let e = exponent(a);
            (i64::from(e - self.emin + 1) << m) + scale(a, m - e) as i64 - (1i64 << m)
        };
        if v.is_sign_negative() { -mag } else { mag }
    }

    /// The value at ordinal `o` (the inverse of [`Grid::ordinal`]; 0 gives +0).
    pub fn from_ordinal(&self, o: i64) -> f64 {
        let m = self.p - 1;
        let mag = o.unsigned_abs() as i64;
        let field = (mag >> m) as i32;
        let man = (mag & ((1i64 << m) - 1)) as f64;
        let v = if field == 0 {
            scale(man, self.emin - m)
        } else if field > self.emax - self.emin + 1 {
            f64::INFINITY
        } else {
            let e = field - 1 + self.emin;
            scale(pow2(m) + man, e - m)
        };
        if o < 0 { -v } else { v }
    }
}
