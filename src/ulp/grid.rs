//! The values of an IEEE-style format as f64 arithmetic: rounding an f64 onto the format's grid,
//! the format's ulp, and the position of a value in the ordered list of the format's values.
//!
//! This is the fast path's rounding of the f64 reference (an exhaustive binary32 scan cannot
//! afford the exact rounding core per value); it is checked against the rounding core
//! ([`crate::codec::from_f64`]) in the tests. Only formats where it is plain arithmetic qualify:
//! IEEE specials, signed, with subnormals, precision ≤ 24 bits and a range inside binary64's
//! (smallest quantum ≥ 2^−1050), so every value of the format and every quantum is an f64.

use crate::fast::Kernel;
use crate::format::{Format, Specials};
use crate::mode::{Rounding, RoundingMode};

/// An IEEE-style format as f64 arithmetic (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid {
    /// Precision p (bits, hidden bit included).
    p: i32,
    emin: i32,
    emax: i32,
    max: f64,
    /// The kernels of the modes in [`DETERMINISTIC_NEAREST_AND_DIRECTED`], in that order.
    kernels: [Kernel; 5],
    /// Whether the format is binary32, whose rounding to nearest even is the hardware's f64 →
    /// f32 conversion (IEEE 754 binary32 with subnormals, overflow to ±Inf).
    binary32: bool,
}

/// The modes [`Grid::round`] takes.
const DETERMINISTIC_NEAREST_AND_DIRECTED: [RoundingMode; 5] = [
    RoundingMode::NearestEven,
    RoundingMode::NearestAway,
    RoundingMode::TowardZero,
    RoundingMode::TowardPositive,
    RoundingMode::TowardNegative,
];

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
        if !ok {
            return None;
        }
        let kernel =
            |i: usize| Kernel::new(fmt, &Rounding::new(DETERMINISTIC_NEAREST_AND_DIRECTED[i])).ok();
        Some(Grid {
            p,
            emin: fmt.emin(),
            emax: fmt.emax(),
            max: (2.0 - pow2(1 - p)) * pow2(fmt.emax()),
            kernels: [kernel(0)?, kernel(1)?, kernel(2)?, kernel(3)?, kernel(4)?],
            binary32: (p, fmt.emin(), fmt.emax()) == (24, -126, 127),
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
    /// overflow per IEEE 754: ±Inf, or ±max where the mode rounds toward zero): the slice
    /// engine's kernel, bit-identical to the rounding core; binary32 to nearest even is the
    /// conversion to f32, cheaper than the kernel on the exhaustive scan's hot path.
    #[inline]
    pub fn round(&self, x: f64, mode: RoundingMode) -> f64 {
        if self.binary32 && mode == RoundingMode::NearestEven {
            return f64::from(x as f32);
        }
        let i = DETERMINISTIC_NEAREST_AND_DIRECTED
            .iter()
            .position(|&m| m == mode)
            .unwrap_or_else(|| {
                unreachable!("Grid::round takes rne, rna, rtz, rup or rdn, not {mode}")
            });
        self.kernels[i].round_f64(x, 0)
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
