//! The fast element path of block quantisation: a block's elements x / S rounded by the array
//! engine's [`Kernel`] in one vectorised pass per task, then checked and encoded.
//!
//! Every element must be the rounding core's rounding of the exact quotient x / S. Two cases:
//! - S a power of two 2^k (E8M0 scales, every power-of-two rule, any scale whose significand is
//!   1): y = x · 2^−k is the exact quotient whenever y is a normal f64 (or x = 0), so the
//!   kernel's rounding of y is the element.
//! - otherwise q = x / S, correctly rounded, lies within one ulp of the exact quotient on one
//!   side. Rounding q then equals rounding the exact quotient when q is strictly inside a grid
//!   interval (every f64 grid point or midpoint between q and the exact quotient would have to
//!   be q itself) and, per mode, off what the mode compares: the midpoint for `rne`/`rna`; the
//!   r-bit subdivision for `sr:<r>` (the top r bits of the remainder); for exact `sr`, words
//!   within 2^(64−d) of the remainder's first 64 bits (d = bits q drops), which the exact
//!   quotient's remainder can differ from by less than that.
//!
//! Elements that fail these tests (f64-subnormal or overflowing quotients, inexact q on a grid
//! point or midpoint, a random word too close to the remainder, non-finite or unencodable
//! results, negative values in unsigned formats) take the exact quotient path
//! ([`super::quotient::round_quotient_with`]). The overflow flag (saturation count) of an element
//! above the format's maximum is read from a second kernel on the same format with two more
//! exponent bits, whose rounding there is the core's rounding with unbounded exponent.

use crate::fast::Kernel;
use crate::format::{Format, Specials};
use crate::mode::{Rounding, RoundingMode};
use crate::rng;

/// Which inexact f64 quotients round like the exact quotient (see the module docs).
#[derive(Clone, Copy, Debug)]
enum Check {
    /// Inside a grid interval, off its midpoint (`rne`, `rna`).
    Nearest,
    /// Inside a grid interval (directed modes, `rto`, `sr-eq`).
    Inside,
    /// `sr:<r>`: off the grid refined by r bits.
    Bits(u64),
    /// Exact `sr` (and `sr:64`): the word far enough from the remainder's first 64 bits.
    Word,
}

/// The element format's kernels and encoding constants, built once per quantisation.
#[derive(Clone, Copy, Debug)]
pub(super) struct Engine {
    kernel: Kernel,
    wide: Kernel,
    fmt: Format,
    check: Check,
    random: bool,
    max: f64,
    /// Codes of +0 and −0.
    zero: [u128; 2],
    sign_bit: u128,
    /// 2^(M − emin): a subnormal value times this is its code.
    sub_scale: f64,
}

impl Engine {
    /// The engine for `fmt` with `rounding`, where the fast path applies: values in f64 with a
    /// spare bit (precision ≤ 51), subnormals and zero (the standard encoding), and room for two
    /// more exponent bits.
    pub(super) fn new(fmt: &Format, rounding: &Rounding) -> Option<Engine> {
        if !fmt.fits_in_f64()
            || fmt.precision() > 51
            || !fmt.has_subnormals()
            || !fmt.has_zero()
            || fmt.width() > 64
            || fmt.exp_bits() + 2 > 11
        {
            return None;
        }
        let wide = Format::new(
            fmt.exp_bits() + 2,
            fmt.man_bits(),
            fmt.bias(),
            fmt.is_signed(),
            true,
            true,
            Specials::Ieee,
        )
        .ok()
        .filter(|w| w.emin() == fmt.emin() && w.emax() > fmt.emax() && w.fits_in_f64())?;
        let check = match rounding.mode {
            RoundingMode::NearestEven | RoundingMode::NearestAway => Check::Nearest,
            RoundingMode::Stochastic {
                bits: None | Some(64),
            } => Check::Word,
            RoundingMode::Stochastic { bits: Some(r) } => Check::Bits(r as u64),
            _ => Check::Inside,
        };
        Some(Engine {
            kernel: Kernel::new(fmt, rounding).ok()?,
            wide: Kernel::new(&wide, rounding).ok()?,
            fmt: *fmt,
            check,
            random: rounding.mode.is_stochastic(),
            max: crate::codec::to_f64(fmt, fmt.max_finite(false)),
            zero: [fmt.zero(false)?, fmt.zero(true)?],
            sign_bit: fmt.sign_bit(),
            sub_scale: 2f64.powi(fmt.man_bits() as i32 - fmt.emin()),
        })
    }

    /// Rounds `ys` in place; element j is element `first + j` of the input.
    pub(super) fn round(&self, key: u64, first: u64, ys: &mut [f64]) {
        self.kernel
            .round_slice(key, first, ys)
            .expect("the kernel's format fits in f64");
    }

    /// The element's code and overflow flag from the exact quotient `y` (x / S) and its rounding
    /// `v` by [`Engine::round`]; `None` where the exact path must decide.
    #[inline(always)]
    pub(super) fn exact(&self, y: f64, v: f64, key: u64, index: u64) -> Option<(u128, bool)> {
        if !v.is_finite() || (y.is_sign_negative() && self.sign_bit == 0) {
            return None;
        }
        let overflow = y.abs() > self.max && {
            let w = if self.random {
                rng::word(key, index)
            } else {
                0
            };
            // NaN (an overflow of the wide format too) counts as overflow.
            let u = self.wide.round_f64(y, w).abs();
            u.is_nan() || u > self.max
        };
        Some((self.encode(v), overflow))
    }

    /// As [`Engine::exact`] for an inexact-or-exact correctly rounded quotient `q`: `None` also
    /// where rounding q might differ from rounding the exact quotient.
    #[inline(always)]
    pub(super) fn quotient(&self, q: f64, v: f64, key: u64, index: u64) -> Option<(u128, bool)> {
        let (rem, d) = self.kernel.remainder(q);
        let ok = rem != 0
            && match self.check {
                Check::Nearest => d > 63 || rem != 1 << (d - 1),
                Check::Inside => true,
                Check::Bits(r) => d > r && rem & ((1u64 << (d - r).min(63)) - 1) != 0,
                Check::Word => {
                    let (window, margin) = if d >= 64 {
                        (rem >> (d - 64).min(63), 2)
                    } else {
                        (rem << (64 - d), 1u64 << (64 - d))
                    };
                    rng::word(key, index).abs_diff(window) > margin
                }
            };
        if ok {
            self.exact(q, v, key, index)
        } else {
            None
        }
    }

    /// The code of a finite value of the format (the standard sign/exponent/mantissa layout),
    /// computed for every case and selected without branches (the cases are data dependent).
    #[inline(always)]
    fn encode(&self, v: f64) -> u128 {
        let b = v.to_bits();
        let neg = b >> 63 == 1;
        let a = b & !(1u64 << 63);
        let sign = if neg { self.sign_bit as u64 } else { 0 };
        let m = self.fmt.man_bits();
        let e = (a >> 52) as i64 - 1023;
        let field = (e + self.fmt.bias() as i64) as u64;
        let normal = sign | field.wrapping_shl(m) | ((a & ((1u64 << 52) - 1)) >> (52 - m));
        // A subnormal's integer significand (< 2^51), exact.
        let sub = sign | (f64::from_bits(a) * self.sub_scale) as u64;
        let code = if e >= self.fmt.emin() as i64 {
            normal
        } else {
            sub
        };
        let zero = self.zero[neg as usize] as u64;
        (if a == 0 { zero } else { code }) as u128
    }
}
