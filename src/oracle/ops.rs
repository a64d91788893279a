//! The oracle's result of every [`Op`], for deterministic rounding modes.
//!
//! The semantics are those written down in [`crate::arith`]'s module docs, implemented again
//! here without calling `arith`, `codec` or the rounding core: operands are decoded by
//! [`code_to_float`], special operands are decided by the rules below, and every finite result
//! is computed by MPFR at the precision [`round_computed`] asks for, then mapped onto the format.
//!
//! - A NaN operand gives the default NaN; a signaling one (IEEE-style encodings, top mantissa
//!   bit clear) raises invalid.
//! - Invalid operations (∞ − ∞, 0 · ∞, 0/0, ∞/∞, √(x < 0), rem(∞, y), rem(x, 0), and
//!   fma(0, ∞, c) even when c is a quiet NaN) give [`invalid_result`].
//! - An exact infinite result goes through [`inf_result`] (±Inf, or NaN with invalid, or ±max
//!   with overflow and inexact when saturating or without NaN); x/0 adds divide-by-zero.
//! - An exact zero sum of terms of opposite signs is +0, or −0 when rounding toward −∞; MPFR's
//!   own choice is overridden because the oracle calls MPFR in directions other than the
//!   requested mode. The remainder's zero has the sign of the dividend, √(−0) = −0.
//! - min/max (IEEE minimumNumber/maximumNumber) ignore a NaN beside a number; minimum/maximum
//!   propagate it; −0 < +0; equal operands give the first. A signaling NaN raises invalid.
//! - Comparisons are false on NaN; quiet ones raise invalid only for a signaling NaN, signaling
//!   ones (`lt`, `le`, `eq_signaling`) for any NaN.
//! - Rounding to an integral value keeps the sign (−0.3 → −0); the integral value is then
//!   rounded into the format like any result (it can overflow where emax < p − 1, or be zero in
//!   a format without zero); `round_to_int_exact` adds inexact when the value changed.
//! - Conversion to an integer: the integral value in the mode, inexact if it changed; NaN and
//!   out-of-range values give invalid alone, saturating to the type's maximum (NaN, positive)
//!   or minimum (negative).

use super::round::{
    code_to_float, inf_result, invalid_result, nan_result, reject_stochastic, round_computed,
    round_float,
};
use crate::arith::Op;
use crate::error::{Error, Result};
use crate::flags::{Flagged, Flags};
use crate::format::{Format, Specials};
use crate::mode::{Rounding, RoundingMode};
use rug::float::Special;
use rug::{Float, Integer};
use std::cmp::Ordering;

/// An operand decoded by the oracle.
pub(super) struct Arg {
    /// Its value (NaN and ±Inf included).
    pub x: Float,
    /// Whether it is a signaling NaN.
    pub snan: bool,
}

impl Arg {
    /// The operand `code` of `fmt` (bits above the format's width are ignored).
    pub fn decode(fmt: &Format, code: u128) -> Arg {
        let code = code & fmt.code_mask();
        let x = code_to_float(fmt, code);
        // IEEE-style NaNs with the top mantissa bit clear are signaling; other encodings have
        // one quiet NaN. (An IEEE-style format with a NaN has at least one mantissa bit.)
        let snan = x.is_nan()
            && fmt.specials() == Specials::Ieee
            && (code >> (fmt.man_bits() - 1)) & 1 == 0;
        Arg { x, snan }
    }

    fn neg(&self) -> bool {
        self.x.is_sign_negative()
    }
}

/// The result for NaN operands, if any: the default NaN, invalid if one is signaling.
pub(super) fn nan_operands(fmt: &Format, args: &[&Arg]) -> Option<Flagged<u128>> {
    args.iter()
        .any(|a| a.x.is_nan())
        .then(|| nan_result(fmt, args.iter().any(|a| a.snan)))
}

/// ±0 as a [`Float`].
pub(super) fn signed_zero(neg: bool) -> Float {
    Float::with_val(1, if neg { Special::NegZero } else { Special::Zero })
}

/// MPFR's result with an exact zero given the sign `zero_neg`.
fn zero_signed(r: (Float, Ordering), zero_neg: bool) -> (Float, Ordering) {
    if r.0.is_zero() && r.1 == Ordering::Equal {
        (signed_zero(zero_neg), Ordering::Equal)
    } else {
        r
    }
}

/// The sign of an exact zero sum of terms with signs `a` and `b`.
fn zero_sum_sign(a: bool, b: bool, rounding: &Rounding) -> bool {
    if a == b {
        a
    } else {
        rounding.mode == RoundingMode::TowardNegative
    }
}

/// The oracle's result of `op` in `fmt` on the bit patterns `operands` (one per
/// [`Op::operands`] type): the result's bit pattern (a code, an integer's two's complement bits,
/// or 0/1 for comparisons) and its flags — what [`Op::apply`] must return.
///
/// Stochastic modes give [`Error::Invalid`], as does a wrong number of operands.
///
/// ```
/// use anyfloat::arith::Op;
/// use anyfloat::{Flagged, Flags, Format, Rounding, RoundingMode, oracle};
///
/// let e4m3 = Format::parse("e4m3").unwrap();
/// let rne = Rounding::new(RoundingMode::NearestEven);
/// // 448 + 32 = 480 is the midpoint between 448 (max) and 512: it overflows to NaN.
/// let r = oracle::apply(&Op::Add, &e4m3, &[0x7e, 0x60], &rne).unwrap();
/// assert_eq!(r, Flagged::new(0x7f, Flags::OVERFLOW | Flags::INEXACT));
/// ```
pub fn apply(
    op: &Op,
    fmt: &Format,
    operands: &[u128],
    rounding: &Rounding,
) -> Result<Flagged<u128>> {
    reject_stochastic(rounding)?;
    let kinds = op.operands(fmt);
    if operands.len() != kinds.len() {
        return Err(Error::Invalid(format!(
            "{op} takes {} operand(s), got {}",
            kinds.len(),
            operands.len()
        )));
    }
    let arg = |i: usize| Arg::decode(fmt, operands[i]);
    Ok(match op {
        Op::Add | Op::Sub => {
            let (a, mut b) = (arg(0), arg(1));
            if *op == Op::Sub {
                b.x = -b.x;
            }
            if let Some(nan) = nan_operands(fmt, &[&a, &b]) {
                return Ok(nan);
            }
            sum(fmt, &a, &b, rounding)?
        }
        Op::Mul => mul(fmt, &arg(0), &arg(1), rounding)?,
        Op::Div => div(fmt, &arg(0), &arg(1), rounding)?,
        Op::Sqrt => sqrt(fmt, &arg(0), rounding)?,
        Op::Fma => fma(fmt, &arg(0), &arg(1), &arg(2), rounding)?,
        Op::Rem => rem(fmt, &arg(0), &arg(1), rounding)?,
        Op::Min | Op::Max | Op::Minimum | Op::Maximum => pick(fmt, op, operands, &arg(0), &arg(1)),
        Op::Eq { signaling } => compare(&arg(0), &arg(1), *signaling, |o| o == Ordering::Equal),
        Op::Lt { quiet } => compare(&arg(0), &arg(1), !quiet, |o| o == Ordering::Less),
        Op::Le { quiet } => compare(&arg(0), &arg(1), !quiet, |o| o != Ordering::Greater),
        Op::RoundToInt { exact } => round_to_int(fmt, &arg(0), *exact, rounding)?,
        Op::ToInt { bits, signed } => to_int(&arg(0), *bits, *signed, rounding.mode),
        Op::FromInt { bits, signed } => {
            let i = int_value(operands[0], *bits, *signed);
            round_float(fmt, &Float::with_val(bits + 1, &i), rounding)?
        }
        Op::Convert { from } => {
            let a = Arg::decode(from, operands[0]);
            if let Some(nan) = nan_operands(fmt, &[&a]) {
                return Ok(nan);
            }
            round_float(fmt, &a.x, rounding)?
        }
    })
}

/// `a + b` for non-NaN operands.
fn sum(fmt: &Format, a: &Arg, b: &Arg, rounding: &Rounding) -> Result<Flagged<u128>> {
    let (na, nb) = (a.neg(), b.neg());
    match (a.x.is_infinite(), b.x.is_infinite()) {
        (true, true) if na != nb => return Ok(invalid_result(fmt)),
        (true, _) => return Ok(inf_result(fmt, na, rounding)),
        (_, true) => return Ok(inf_result(fmt, nb, rounding)),
        _ => {}
    }
    let zero_neg = zero_sum_sign(na, nb, rounding);
    round_computed(fmt, rounding, |prec, round| {
        zero_signed(Float::with_val_round(prec, &a.x + &b.x, round), zero_neg)
    })
}

fn mul(fmt: &Format, a: &Arg, b: &Arg, rounding: &Rounding) -> Result<Flagged<u128>> {
    if let Some(nan) = nan_operands(fmt, &[a, b]) {
        return Ok(nan);
    }
    if zero_times_inf(a, b) {
        return Ok(invalid_result(fmt));
    }
    if a.x.is_infinite() || b.x.is_infinite() {
        return Ok(inf_result(fmt, a.neg() != b.neg(), rounding));
    }
    round_computed(fmt, rounding, |prec, round| {
        Float::with_val_round(prec, &a.x * &b.x, round)
    })
}

fn zero_times_inf(a: &Arg, b: &Arg) -> bool {
    (a.x.is_zero() && b.x.is_infinite()) || (a.x.is_infinite() && b.x.is_zero())
}

fn div(fmt: &Format, a: &Arg, b: &Arg, rounding: &Rounding) -> Result<Flagged<u128>> {
    if let Some(nan) = nan_operands(fmt, &[a, b]) {
        return Ok(nan);
    }
    let neg = a.neg() != b.neg();
    match (a.x.is_infinite(), b.x.is_infinite()) {
        (true, true) => return Ok(invalid_result(fmt)),
        (true, false) => return Ok(inf_result(fmt, neg, rounding)),
        (false, true) => return round_float(fmt, &signed_zero(neg), rounding),
        _ => {}
    }
    if b.x.is_zero() {
        return Ok(if a.x.is_zero() {
            invalid_result(fmt)
        } else {
            inf_result(fmt, neg, rounding).with(Flags::DIV_BY_ZERO)
        });
    }
    round_computed(fmt, rounding, |prec, round| {
        Float::with_val_round(prec, &a.x / &b.x, round)
    })
}

fn sqrt(fmt: &Format, a: &Arg, rounding: &Rounding) -> Result<Flagged<u128>> {
    if let Some(nan) = nan_operands(fmt, &[a]) {
        return Ok(nan);
    }
    if a.x.is_zero() {
        return round_float(fmt, &a.x, rounding); // √(±0) = ±0
    }
    if a.neg() {
        return Ok(invalid_result(fmt));
    }
    if a.x.is_infinite() {
        return Ok(inf_result(fmt, false, rounding));
    }
    round_computed(fmt, rounding, |prec, round| {
        Float::with_val_round(prec, a.x.sqrt_ref(), round)
    })
}

fn fma(fmt: &Format, a: &Arg, b: &Arg, c: &Arg, rounding: &Rounding) -> Result<Flagged<u128>> {
    // 0 · ∞ is invalid even beside a quiet NaN addend.
    if zero_times_inf(a, b) {
        return Ok(invalid_result(fmt));
    }
    if let Some(nan) = nan_operands(fmt, &[a, b, c]) {
        return Ok(nan);
    }
    let (np, nc) = (a.neg() != b.neg(), c.neg());
    match (a.x.is_infinite() || b.x.is_infinite(), c.x.is_infinite()) {
        (true, true) if np != nc => return Ok(invalid_result(fmt)),
        (true, _) => return Ok(inf_result(fmt, np, rounding)),
        (_, true) => return Ok(inf_result(fmt, nc, rounding)),
        _ => {}
    }
    let zero_neg = zero_sum_sign(np, nc, rounding);
    round_computed(fmt, rounding, |prec, round| {
        zero_signed(
            Float::with_val_round(prec, a.x.mul_add_ref(&b.x, &c.x), round),
            zero_neg,
        )
    })
}

fn rem(fmt: &Format, a: &Arg, b: &Arg, rounding: &Rounding) -> Result<Flagged<u128>> {
    if let Some(nan) = nan_operands(fmt, &[a, b]) {
        return Ok(nan);
    }
    if a.x.is_infinite() || b.x.is_zero() {
        return Ok(invalid_result(fmt));
    }
    if b.x.is_infinite() {
        return round_float(fmt, &a.x, rounding);
    }
    let zero_neg = a.neg();
    round_computed(fmt, rounding, |prec, round| {
        zero_signed(
            Float::with_val_round(prec, a.x.remainder_ref(&b.x), round),
            zero_neg,
        )
    })
}

/// min, max, minimum, maximum: one of the operand codes, or the default NaN.
fn pick(fmt: &Format, op: &Op, codes: &[u128], a: &Arg, b: &Arg) -> Flagged<u128> {
    let flags = if a.snan || b.snan {
        Flags::INVALID
    } else {
        Flags::NONE
    };
    let number = matches!(op, Op::Min | Op::Max);
    let want_max = matches!(op, Op::Max | Op::Maximum);
    let nan = fmt.default_nan().unwrap_or(0);
    let (first, second) = (codes[0] & fmt.code_mask(), codes[1] & fmt.code_mask());
    let code = match (a.x.is_nan(), b.x.is_nan()) {
        (true, true) => nan,
        (true, false) => {
            if number {
                second
            } else {
                nan
            }
        }
        (false, true) => {
            if number {
                first
            } else {
                nan
            }
        }
        (false, false) => {
            let order = match a.x.partial_cmp(&b.x).expect("no NaN") {
                // −0 < +0.
                Ordering::Equal => b.neg().cmp(&a.neg()),
                o => o,
            };
            let first_wins = if want_max {
                order != Ordering::Less
            } else {
                order != Ordering::Greater
            };
            if first_wins { first } else { second }
        }
    };
    Flagged::new(code, flags)
}

/// A comparison: 1 if `holds(a ⋚ b)`, 0 when unordered.
fn compare(a: &Arg, b: &Arg, signaling: bool, holds: impl Fn(Ordering) -> bool) -> Flagged<u128> {
    match a.x.partial_cmp(&b.x) {
        Some(o) => Flagged::exact(holds(o) as u128),
        None => {
            let invalid = signaling || a.snan || b.snan;
            Flagged::new(0, if invalid { Flags::INVALID } else { Flags::NONE })
        }
    }
}

/// The finite `x` rounded to an integral value in `mode` (sign kept), and whether it changed.
pub(super) fn integral(x: &Float, mode: RoundingMode) -> (Float, bool) {
    let prec = x.prec() + 2;
    let t = Float::with_val(prec, x.trunc_ref());
    let n = match mode {
        RoundingMode::NearestEven => Float::with_val(prec, x.round_even_ref()),
        RoundingMode::NearestAway => Float::with_val(prec, x.round_ref()),
        RoundingMode::TowardZero => t,
        RoundingMode::TowardPositive => Float::with_val(prec, x.ceil_ref()),
        RoundingMode::TowardNegative => Float::with_val(prec, x.floor_ref()),
        RoundingMode::ToOdd => {
            // Truncate; if that lost something and left an even integer, step away from zero.
            let even = t != *x && t.to_integer().expect("finite").is_even();
            if even {
                let step = if x.is_sign_negative() { -1 } else { 1 };
                Float::with_val(prec, &t + step)
            } else {
                t
            }
        }
        RoundingMode::Stochastic { .. } | RoundingMode::StochasticEqual => {
            unreachable!("stochastic modes are rejected first")
        }
    };
    let changed = n != *x;
    let n = if n.is_zero() {
        signed_zero(x.is_sign_negative())
    } else {
        n
    };
    (n, changed)
}

fn round_to_int(fmt: &Format, a: &Arg, exact: bool, rounding: &Rounding) -> Result<Flagged<u128>> {
    if let Some(nan) = nan_operands(fmt, &[a]) {
        return Ok(nan);
    }
    if a.x.is_infinite() {
        return Ok(inf_result(fmt, a.neg(), rounding));
    }
    let (n, changed) = integral(&a.x, rounding.mode);
    let flags = if exact && changed {
        Flags::INEXACT
    } else {
        Flags::NONE
    };
    Ok(round_float(fmt, &n, rounding)?.with(flags))
}

/// The range of a `bits`-wide integer type.
fn int_range(bits: u32, signed: bool) -> (Integer, Integer) {
    if signed {
        (
            -(Integer::from(1) << (bits - 1)),
            (Integer::from(1) << (bits - 1)) - 1,
        )
    } else {
        (Integer::new(), (Integer::from(1) << bits) - 1)
    }
}

/// The two's complement bit pattern of `i` in `bits` bits.
fn int_pattern(i: &Integer, bits: u32) -> u128 {
    Integer::from(i.keep_bits_ref(bits))
        .to_u128()
        .expect("at most 128 bits")
}

/// The integer a `bits`-wide bit pattern holds.
fn int_value(pattern: u128, bits: u32, signed: bool) -> Integer {
    let mut i = Integer::from(pattern);
    i.keep_bits_mut(bits);
    if signed && i.get_bit(bits - 1) {
        i -= Integer::from(1) << bits;
    }
    i
}

fn to_int(a: &Arg, bits: u32, signed: bool, mode: RoundingMode) -> Flagged<u128> {
    let (min, max) = int_range(bits, signed);
    let saturate = |neg: bool| {
        Flagged::new(
            int_pattern(if neg { &min } else { &max }, bits),
            Flags::INVALID,
        )
    };
    if a.x.is_nan() {
        return saturate(false);
    }
    if a.x.is_infinite() {
        return saturate(a.neg());
    }
    let (n, changed) = integral(&a.x, mode);
    let i = n.to_integer().expect("finite");
    if i < min || i > max {
        return saturate(i < 0);
    }
    let flags = if changed { Flags::INEXACT } else { Flags::NONE };
    Flagged::new(int_pattern(&i, bits), flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_patterns_round_trip() {
        for (bits, signed) in [(1, true), (1, false), (8, true), (8, false), (128, true)] {
            let (min, max) = int_range(bits, signed);
            for i in [min.clone(), max.clone(), Integer::new()] {
                assert_eq!(int_value(int_pattern(&i, bits), bits, signed), i);
            }
        }
        assert_eq!(int_pattern(&Integer::from(-1), 8), 0xff);
        assert_eq!(int_value(0x80, 8, true), -128);
    }

    #[test]
    fn round_to_odd_integral() {
        let f = |v: f64| integral(&Float::with_val(53, v), RoundingMode::ToOdd);
        assert_eq!(f(2.5).0, 3);
        assert_eq!(f(3.5).0, 3);
        assert_eq!(f(-0.5).0, -1);
        assert_eq!(f(4.0), (Float::with_val(53, 4), false));
        let (z, changed) = integral(&Float::with_val(53, -0.25), RoundingMode::TowardZero);
        assert!(z.is_zero() && z.is_sign_negative() && changed);
    }
}
