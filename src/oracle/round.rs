//! Rounding into a format with MPFR: the exact (or MPFR-computed) result mapped onto the
//! format's encoding. Every other part of the oracle ends here.
//!
//! MPFR rounds to a precision, not to a format. The oracle turns one into the other:
//!
//! 1. the exact result is rounded by MPFR to the format's precision p with MPFR's (huge)
//!    default exponent range: that is "the result rounded to p bits with unbounded exponent",
//!    which decides overflow (it exceeds the largest finite value) and tininess after rounding
//!    (it is below 2^emin);
//! 2. below 2^emin the result is rounded again from the exact value, on the format's lowest grid:
//!    MPFR rounds to p bits (1 bit for formats without subnormals, whose lowest grid step spans
//!    [0, 2^emin]), then `check_range` ([`Float::clamp_exp`]) and `subnormalize`
//!    ([`Float::subnormalize_round`]) with the ternary value, which avoids double rounding;
//! 3. the value is mapped to the format's encoding (Inf, NaN, saturation, signed zeros are the
//!    oracle's own, from the [`Format`]'s data).
//!
//! MPFR has no ties-away or round-to-odd mode. Both are built from its directed modes: the two
//! neighbours are the results rounded toward and away from zero; ties-away takes the upper one
//! when the value truncated to p + 1 bits reaches their midpoint, round-to-odd takes the one
//! whose last significand bit is 1.
//!
//! Everything is driven by a closure "compute the exact result at precision `prec` with MPFR
//! rounding `round`" ([`round_computed`]), so an arithmetic operation is checked by passing a
//! closure that calls MPFR's operation; [`round_value`] passes one that rounds an exact value.
//! Stochastic modes are rejected: the oracle is for deterministic roundings only.

use crate::error::{Error, Result};
use crate::exact::{Exact, Value};
use crate::flags::{Flagged, Flags};
use crate::format::Format;
use crate::mode::{Overflow, Rounding, RoundingMode, Tininess};
use rug::Float;
use rug::Integer;
use rug::float::Round;
use rug::integer::Order;
use std::cmp::Ordering;

/// The exact value of a finite [`Exact`] as a [`Float`] of just enough precision, or `None`
/// if its exponent lies outside MPFR's exponent range.
///
/// A sticky value `(sig + t)·2^exp` (0 < t < 1) becomes `(2·sig + 1)·2^(exp − 1)`: one more bit,
/// set, strictly between `sig·2^exp` and `(sig + 1)·2^exp`. With at least two guard bits below
/// the target precision (sticky values carry p + 130), every deterministic rounding of it equals
/// that of the true value.
pub fn exact_to_float(x: &Exact) -> Option<Float> {
    let mut sig = Integer::from_digits(&x.sig.to_u64_digits(), Order::Lsf);
    let mut exp = x.exp;
    if x.sticky {
        sig <<= 1;
        sig += 1;
        exp -= 1;
    }
    let prec = sig.significant_bits().max(1);
    let mut f = Float::with_val(prec, &sig);
    if !f.is_zero() {
        let lead = exp.checked_add(prec as i64)?;
        let (lo, hi) = (rug::float::exp_min() as i64, rug::float::exp_max() as i64);
        if lead < lo || lead > hi {
            return None;
        }
        f <<= i32::try_from(exp).ok()?;
    }
    if x.neg {
        f = -f;
    }
    Some(f)
}

/// The value of `code` in `fmt` as a [`Float`] (NaN and ±Inf included), computed from the fields
/// of the code by the oracle itself.
pub fn code_to_float(fmt: &Format, code: u128) -> Float {
    let code = code & fmt.code_mask();
    let p = fmt.precision();
    if is_nan_code(fmt, code) {
        return Float::with_val(p, rug::float::Special::Nan);
    }
    let neg = code & fmt.sign_bit() != 0;
    if fmt.inf(neg) == Some(code) {
        return Float::with_val(
            p,
            if neg {
                rug::float::Special::NegInfinity
            } else {
                rug::float::Special::Infinity
            },
        );
    }
    let mag = code & fmt.magnitude_mask();
    let field = (mag >> fmt.man_bits()) as i64;
    let man = mag & fmt.man_mask();
    let m = fmt.man_bits() as i64;
    let (sig, exp) = if field == 0 && fmt.has_zero() {
        (man, fmt.emin() as i64 - m)
    } else {
        (man | (1u128 << m), field - fmt.bias() as i64 - m)
    };
    let mut f = Float::with_val(p, sig);
    f <<= exp as i32;
    if neg {
        f = -f;
    }
    f
}

fn is_nan_code(fmt: &Format, code: u128) -> bool {
    use crate::format::Specials;
    let mag = code & fmt.magnitude_mask();
    let neg = code & fmt.sign_bit() != 0;
    match fmt.specials() {
        Specials::Ieee => {
            (mag >> fmt.man_bits()) == fmt.exp_field_max() && mag & fmt.man_mask() != 0
        }
        Specials::FiniteNan => mag == fmt.magnitude_mask(),
        Specials::Fnuz | Specials::P3109 => neg && mag == 0,
        Specials::Finite => false,
    }
}

/// `2^e` as a [`Float`].
fn pow2(e: i64) -> Float {
    let mut f = Float::with_val(1, 1);
    f <<= e as i32;
    f
}

/// The largest finite value of `fmt`, `max_sig · 2^(emax − M)`.
pub fn max_finite_float(fmt: &Format) -> Float {
    let mut f = Float::with_val(fmt.precision(), fmt.max_sig());
    f <<= fmt.emax() - fmt.man_bits() as i32;
    f
}

/// The code of a value of `fmt` given as a [`Float`]: `None` unless it is exactly representable
/// (±0 maps to the format's zero of that sign, −0 to +0 where there is no negative zero).
pub fn float_to_code(fmt: &Format, y: &Float) -> Option<u128> {
    let neg = y.is_sign_negative();
    if y.is_nan() {
        return fmt.default_nan();
    }
    if y.is_infinite() {
        return fmt.inf(neg);
    }
    if neg && !fmt.is_signed() && !y.is_zero() {
        return None;
    }
    if y.is_zero() {
        return fmt.zero(neg);
    }
    let p = fmt.precision() as i64;
    let emin = fmt.emin() as i64;
    let e = y.get_exp().expect("nonzero finite") as i64 - 1; // |y| in [2^e, 2^(e+1))
    let (field, shift) = if e >= emin {
        (e + fmt.bias() as i64, p - 1 - e)
    } else if fmt.has_subnormals() {
        (0, p - 1 - emin)
    } else {
        return None;
    };
    let mut scaled = Float::with_val(y.prec(), y.abs_ref());
    scaled <<= shift as i32;
    if !scaled.is_integer() {
        return None;
    }
    let sig = scaled.to_integer()?.to_u128()?;
    let sign = if neg { fmt.sign_bit() } else { 0 };
    let code = if field == 0 && fmt.has_zero() {
        sign | sig
    } else {
        let hidden = 1u128 << (p - 1);
        if field < 0 || sig < hidden {
            return None;
        }
        sign | ((field as u128) << fmt.man_bits()) | (sig - hidden)
    };
    // Reject codes beyond the largest finite magnitude (they are Inf/NaN or do not exist).
    if code & fmt.magnitude_mask() > fmt.max_finite_magnitude_code()
        || field as u128 > fmt.exp_field_max()
    {
        return None;
    }
    Some(code)
}

/// The result for a NaN: the default NaN (invalid if `signaling`), or +0 with invalid where the
/// format has no NaN.
pub fn nan_result(fmt: &Format, signaling: bool) -> Flagged<u128> {
    match fmt.default_nan() {
        Some(nan) => Flagged::new(
            nan,
            if signaling {
                Flags::INVALID
            } else {
                Flags::NONE
            },
        ),
        None => Flagged::new(
            fmt.zero(false).unwrap_or(fmt.min_positive_magnitude_code()),
            Flags::INVALID,
        ),
    }
}

/// The invalid-operation result: the default NaN, else +0, else the smallest positive value;
/// with the invalid flag.
pub fn invalid_result(fmt: &Format) -> Flagged<u128> {
    let code = match (fmt.default_nan(), fmt.zero(false)) {
        (Some(nan), _) => nan,
        (None, Some(zero)) => zero,
        (None, None) => fmt.min_positive_magnitude_code(),
    };
    Flagged::new(code, Flags::INVALID)
}

/// The result for an exact ±Inf (an Inf operand carried through): ±Inf where the format has it
/// and the policy is IEEE; else the default NaN with invalid (IEEE policy); else ±max with
/// overflow and inexact. −Inf in an unsigned format is invalid.
pub fn inf_result(fmt: &Format, neg: bool, rounding: &Rounding) -> Flagged<u128> {
    if neg && !fmt.is_signed() {
        return invalid_result(fmt);
    }
    let ieee = rounding.overflow == Overflow::Ieee;
    match (fmt.inf(neg), fmt.default_nan()) {
        (Some(inf), _) if ieee => Flagged::exact(inf),
        (_, Some(nan)) if ieee => Flagged::new(nan, Flags::INVALID),
        _ => Flagged::new(fmt.max_finite(neg), Flags::OVERFLOW | Flags::INEXACT),
    }
}

/// The result of a finite value that overflows (its p-bit rounding exceeds the largest finite
/// value): ±max when saturating or when the mode rounds toward zero for this sign, else ±Inf,
/// else the default NaN, else ±max; always with overflow and inexact.
pub fn overflow_result(fmt: &Format, neg: bool, rounding: &Rounding) -> Flagged<u128> {
    let flags = Flags::OVERFLOW | Flags::INEXACT;
    let toward_zero = match rounding.mode {
        RoundingMode::TowardZero | RoundingMode::ToOdd => true,
        RoundingMode::TowardPositive => neg,
        RoundingMode::TowardNegative => !neg,
        _ => false,
    };
    if rounding.overflow == Overflow::Saturate || toward_zero {
        return Flagged::new(fmt.max_finite(neg), flags);
    }
    let code = fmt
        .inf(neg)
        .or(fmt.default_nan())
        .unwrap_or(fmt.max_finite(neg));
    Flagged::new(code, flags)
}

pub(super) fn reject_stochastic(rounding: &Rounding) -> Result<()> {
    if rounding.mode.is_stochastic() {
        return Err(Error::Invalid(format!(
            "the MPFR oracle handles deterministic rounding modes only (rne, rna, rtz, rup, rdn, rto), not {}",
            rounding.mode
        )));
    }
    Ok(())
}

/// Correctly rounded value of `v` in `fmt` for a deterministic rounding mode, via MPFR.
///
/// Stochastic modes give [`Error::Invalid`]. Exponents far outside the format's range are
/// replaced by a value that rounds identically (every value above 2^(emax+8) overflows in every
/// mode; every positive value below 2^(emin−p−8) rounds like any other), so any [`Exact`] works.
pub fn round_value(fmt: &Format, v: &Value, rounding: &Rounding) -> Result<Flagged<u128>> {
    reject_stochastic(rounding)?;
    let x = match v {
        Value::Nan { signaling } => return Ok(nan_result(fmt, *signaling)),
        Value::Inf { neg } => return Ok(inf_result(fmt, *neg, rounding)),
        Value::Finite(x) => x,
    };
    let x = proxy(fmt, x);
    let xf = exact_to_float(&x).expect("the proxy value lies within MPFR's exponent range");
    round_float(fmt, &xf, rounding)
}

/// A value that rounds like `x` in `fmt` in every deterministic mode, with its exponent within
/// a few binades of the format's range.
fn proxy(fmt: &Format, x: &Exact) -> Exact {
    let Some(lead) = x.leading_exp() else {
        return x.clone();
    };
    let p = fmt.precision() as i64;
    let (lo, hi) = (fmt.emin() as i64 - p - 8, fmt.emax() as i64 + 8);
    if lead > hi {
        Exact::new(x.neg, 3u32, hi)
    } else if lead < lo {
        Exact::new(x.neg, 3u32, lo - 2)
    } else {
        x.clone()
    }
}

/// Correctly rounded value in `fmt` of the exact number `x` (NaN is treated as quiet, ±Inf as an
/// exact infinity).
pub fn round_float(fmt: &Format, x: &Float, rounding: &Rounding) -> Result<Flagged<u128>> {
    round_computed(fmt, rounding, |prec, round| {
        Float::with_val_round(prec, x, round)
    })
}

/// Correctly rounded result in `fmt` of an exact computation, given as a closure: `compute(prec,
/// round)` must return the exact result rounded by MPFR to `prec` bits in direction `round`
/// (one of `Nearest`, `Zero`, `AwayZero`, `Up`, `Down`), with MPFR's default exponent range,
/// and the ternary value (the rounded result compared with the exact one). It is called with
/// precisions 1, p and p + 1.
///
/// A NaN result maps to the default NaN without flags (the caller adds invalid where the
/// operation was invalid), an infinite one through [`inf_result`] (the caller adds
/// divide-by-zero where that applies). An exact zero keeps its sign (−0 becomes +0 where the
/// format has no negative zero).
///
/// An operation is checked by letting MPFR compute it:
///
/// ```
/// use anyfloat::{Flagged, Flags, Format, Rounding, RoundingMode, oracle};
/// use rug::Float;
///
/// // binary16: 1 + 2^-11 is the midpoint of 1 and 1 + 2^-10; ties to even give 1.
/// let h = Format::parse("binary16").unwrap();
/// let (a, b) = (Float::with_val(11, 1), Float::with_val(11, 2f64.powi(-11)));
/// let sum = |prec, round| Float::with_val_round(prec, &a + &b, round);
/// let rne = Rounding::new(RoundingMode::NearestEven);
/// assert_eq!(oracle::round_computed(&h, &rne, sum).unwrap(), Flagged::new(0x3c00, Flags::INEXACT));
/// let rna = Rounding::new(RoundingMode::NearestAway);
/// assert_eq!(oracle::round_computed(&h, &rna, sum).unwrap(), Flagged::new(0x3c01, Flags::INEXACT));
/// ```
pub fn round_computed<F>(fmt: &Format, rounding: &Rounding, mut compute: F) -> Result<Flagged<u128>>
where
    F: FnMut(u32, Round) -> (Float, Ordering),
{
    reject_stochastic(rounding)?;
    let p = fmt.precision();
    let (z, zt) = compute(p, Round::Zero);
    if z.is_nan() {
        return Ok(nan_result(fmt, false));
    }
    if z.is_infinite() {
        return Ok(inf_result(fmt, z.is_sign_negative(), rounding));
    }
    let neg = z.is_sign_negative();
    let tiny_flags = Flags::INEXACT | Flags::UNDERFLOW;
    if z.is_zero() && zt == Ordering::Equal {
        return Ok(match fmt.zero(neg) {
            Some(code) => Flagged::exact(code),
            None => Flagged::new(smallest(fmt, neg), tiny_flags),
        });
    }
    if neg && !fmt.is_signed() {
        return Ok(invalid_result(fmt));
    }
    let min_normal = pow2(fmt.emin() as i64);
    // |x| < 2^emin, decided on the truncation (2^emin has one bit, so this is exact).
    let below_normal = z.cmp_abs(&min_normal) == Some(Ordering::Less);
    if !fmt.has_zero() && below_normal {
        return Ok(Flagged::new(smallest(fmt, neg), tiny_flags));
    }

    // Step 1: p bits, unbounded exponent.
    let (unbounded, unbounded_ternary) = in_mode(&mut compute, rounding.mode, p, p, None);
    if unbounded.cmp_abs(&max_finite_float(fmt)) == Some(Ordering::Greater) {
        return Ok(overflow_result(fmt, neg, rounding));
    }
    let tiny = match rounding.tininess {
        Tininess::AfterRounding => unbounded.cmp_abs(&min_normal) == Some(Ordering::Less),
        Tininess::BeforeRounding => below_normal,
    };

    // Step 2: the lowest grid, below 2^emin.
    let (result, ternary) = if below_normal {
        let grid_prec = if fmt.has_subnormals() { p } else { 1 };
        in_mode(
            &mut compute,
            rounding.mode,
            p,
            grid_prec,
            Some(fmt.emin() + 1),
        )
    } else {
        (unbounded, unbounded_ternary)
    };

    // Step 3: the encoding.
    let mut flags = Flags::NONE;
    if ternary != Ordering::Equal {
        flags |= Flags::INEXACT;
        if tiny {
            flags |= Flags::UNDERFLOW;
        }
    }
    let code = if result.is_zero() {
        fmt.zero(neg).expect("only formats with zero reach zero")
    } else {
        float_to_code(fmt, &result).unwrap_or_else(|| {
            panic!("oracle: {result:e} is not a value of {fmt} (internal error)")
        })
    };
    Ok(Flagged::new(code, flags))
}

/// MPFR's result at `prec` bits in direction `round`; with `normal_exp_min`, then clamped to the
/// exponent range of that grid (`check_range`) and subnormalized, passing the ternary along.
fn mpfr_round<F>(
    compute: &mut F,
    prec: u32,
    round: Round,
    normal_exp_min: Option<i32>,
) -> (Float, Ordering)
where
    F: FnMut(u32, Round) -> (Float, Ordering),
{
    let (mut y, mut t) = compute(prec, round);
    if let Some(nem) = normal_exp_min {
        // MPFR exponents: a value is m·2^E with m in [1/2, 1). The smallest positive value of
        // the grid is 2^(nem − prec) = (1/2)·2^(nem − prec + 1).
        let sub_exp_min = nem - (prec as i32 - 1);
        t = y
            .clamp_exp(t, round, sub_exp_min, rug::float::exp_max())
            .expect("the format's exponent range fits MPFR's");
        t = y.subnormalize_round(nem, t, round);
    }
    (y, t)
}

/// The exact result rounded in `mode` on the grid of `grid_prec`-bit numbers (bounded below by
/// `normal_exp_min` if given). `p` is the format's precision, used for the ties-away midpoint.
fn in_mode<F>(
    compute: &mut F,
    mode: RoundingMode,
    p: u32,
    grid_prec: u32,
    normal_exp_min: Option<i32>,
) -> (Float, Ordering)
where
    F: FnMut(u32, Round) -> (Float, Ordering),
{
    let round = match mode {
        RoundingMode::NearestEven => Some(Round::Nearest),
        RoundingMode::TowardZero => Some(Round::Zero),
        RoundingMode::TowardPositive => Some(Round::Up),
        RoundingMode::TowardNegative => Some(Round::Down),
        _ => None,
    };
    if let Some(round) = round {
        return mpfr_round(compute, grid_prec, round, normal_exp_min);
    }
    let (z, zt) = mpfr_round(compute, grid_prec, Round::Zero, normal_exp_min);
    if zt == Ordering::Equal {
        return (z, zt);
    }
    match mode {
        RoundingMode::NearestAway => {
            let (a, at) = mpfr_round(compute, grid_prec, Round::AwayZero, normal_exp_min);
            // The midpoint of two neighbours on a grid of grid_prec ≤ p bits has at most
            // grid_prec + 1 bits, and it is a multiple of the quantum of the exact value
            // truncated to p + 1 bits: so that truncation reaches it iff the value does.
            let mid = Float::with_val(grid_prec + 2, &z + &a) / 2u32;
            let (t1, _) = compute(p + 1, Round::Zero);
            if t1.cmp_abs(&mid) == Some(Ordering::Less) {
                (z, zt)
            } else {
                (a, at)
            }
        }
        RoundingMode::ToOdd => {
            if is_odd(&z, grid_prec, normal_exp_min) {
                (z, zt)
            } else {
                mpfr_round(compute, grid_prec, Round::AwayZero, normal_exp_min)
            }
        }
        _ => unreachable!("stochastic modes are rejected before rounding"),
    }
}

/// Whether the last bit of the `grid_prec`-bit significand of the grid value `z` is 1. On the
/// bounded grid (below 2^normal_exp_min−1) the quantum is 2^(normal_exp_min − grid_prec); zero is
/// even.
fn is_odd(z: &Float, grid_prec: u32, normal_exp_min: Option<i32>) -> bool {
    let Some(e) = z.get_exp() else {
        return false; // zero
    };
    let quantum_exp = match normal_exp_min {
        Some(nem) => nem - grid_prec as i32,
        None => e - grid_prec as i32,
    };
    let mut m = Float::with_val(z.prec(), z.abs_ref());
    m >>= quantum_exp;
    let int = m.to_integer().expect("finite");
    debug_assert!(
        Float::with_val(z.prec(), &int) == m,
        "grid value off its grid"
    );
    int.is_odd()
}

/// ± the smallest magnitude of a format without zero (the sign kept where there is one).
fn smallest(fmt: &Format, neg: bool) -> u128 {
    let sign = if neg { fmt.sign_bit() } else { 0 };
    sign | fmt.min_positive_magnitude_code()
}
