//! Rounding to integral values, and conversions to and from integers.

use super::{Unrounded, propagate_nan};
use crate::exact::{Exact, Value};
use crate::flags::{Flagged, Flags};
use crate::mode::RoundingMode;
use crate::rng::RandomSource;
use crate::round::round_to_integral;
use num_bigint::BigUint;
use num_traits::{One, ToPrimitive};

/// `a` rounded to an integral value in `mode` (IEEE roundToIntegral); with `exact`, an
/// inexact result raises inexact (roundToIntegralExact). The sign is kept: −0.3 → −0.
pub fn round_to_int<R: RandomSource + ?Sized>(
    a: &Value,
    mode: RoundingMode,
    exact: bool,
    rng: &mut R,
) -> Unrounded {
    if let Some(nan) = propagate_nan(&[a]) {
        return nan;
    }
    match a {
        Value::Finite(x) => {
            let (n, inexact) = round_to_integral(x, mode, rng);
            Unrounded {
                value: Value::Finite(n),
                flags: if inexact && exact {
                    Flags::INEXACT
                } else {
                    Flags::NONE
                },
            }
        }
        inf => Unrounded {
            value: inf.clone(),
            flags: Flags::NONE,
        },
    }
}

/// Converts `a` to a `bits`-wide integer (two's complement when `signed`), rounding in
/// `mode`; returns the integer's bit pattern. An inexact conversion raises inexact (like C's
/// `lrint` and x86 `cvtsd2si`). NaN and out-of-range values raise invalid and saturate: to the
/// maximum for NaN and positive overflow, the minimum for negative overflow (RISC-V's choice;
/// x86 returns the "integer indefinite" minimum instead).
pub fn to_int<R: RandomSource + ?Sized>(
    a: &Value,
    bits: u32,
    signed: bool,
    mode: RoundingMode,
    rng: &mut R,
) -> Flagged<u128> {
    let (min, max) = int_range(bits, signed);
    let pattern = |v: &Exact| -> u128 {
        let magnitude = v.sig.to_u128().expect("in range") << v.exp;
        let x = if v.neg {
            magnitude.wrapping_neg()
        } else {
            magnitude
        };
        x & mask(bits)
    };
    let saturate = |neg: bool| {
        let edge = if neg { &min } else { &max };
        Flagged::new(pattern(edge), Flags::INVALID)
    };
    let x = match a {
        Value::Nan { .. } => return saturate(false),
        Value::Inf { neg } => return saturate(*neg),
        Value::Finite(x) => x,
    };
    let (n, inexact) = round_to_integral(x, mode, rng);
    let n = n.normalized();
    let in_range = if n.is_zero() {
        true
    } else if n.neg {
        n.cmp_abs(&min) != std::cmp::Ordering::Greater
    } else {
        n.cmp_abs(&max) != std::cmp::Ordering::Greater
    };
    if !in_range {
        return saturate(n.neg);
    }
    let flags = if inexact { Flags::INEXACT } else { Flags::NONE };
    Flagged::new(if n.is_zero() { 0 } else { pattern(&n) }, flags)
}

/// The exact value of a `bits`-wide integer bit pattern (two's complement when `signed`).
pub fn from_int(pattern: u128, bits: u32, signed: bool) -> Exact {
    let x = pattern & mask(bits);
    let negative = signed && bits > 0 && (x >> (bits - 1)) & 1 == 1;
    if negative {
        // |x| = 2^bits − x.
        let magnitude = (BigUint::one() << bits) - BigUint::from(x);
        Exact::new(true, magnitude, 0).normalized()
    } else {
        Exact::new(false, x, 0).normalized()
    }
}

fn mask(bits: u32) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

/// The smallest and largest integers of the type, as exact values.
fn int_range(bits: u32, signed: bool) -> (Exact, Exact) {
    let one = || BigUint::one();
    if signed {
        (
            Exact::new(true, one() << (bits - 1), 0),
            Exact::new(false, (one() << (bits - 1)) - 1u32, 0),
        )
    } else {
        (
            Exact::zero(false),
            Exact::new(false, (one() << bits) - 1u32, 0),
        )
    }
}
