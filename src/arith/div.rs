//! Division, square root and the IEEE remainder.
//!
//! Quotients and roots need not have finite binary expansions: they are computed to
//! `precision + Exact::STICKY_GUARD_BITS + 2` significant bits with a sticky bit, which the
//! rounding core needs to decide every mode (and exact stochastic rounding to 2^−128).

use super::{Unrounded, align, propagate_nan};
use crate::exact::{Exact, Value};
use crate::flags::Flags;
use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::Zero;

/// Significant bits to compute for a target precision `p`.
fn working_bits(p: u32) -> u64 {
    p as u64 + Exact::STICKY_GUARD_BITS as u64 + 2
}

/// The quotient `a / b`, carrying enough bits for a format of precision `p`.
pub fn div(a: &Value, b: &Value, p: u32) -> Unrounded {
    if let Some(nan) = propagate_nan(&[a, b]) {
        return nan;
    }
    let neg = a.is_negative() != b.is_negative();
    match (a, b) {
        (Value::Inf { .. }, Value::Inf { .. }) => Unrounded::invalid(),
        (Value::Inf { .. }, _) => Unrounded::inf(neg),
        (_, Value::Inf { .. }) => Unrounded::finite(Exact::zero(neg)),
        (Value::Finite(x), Value::Finite(y)) if y.is_zero() => {
            if x.is_zero() {
                Unrounded::invalid()
            } else {
                Unrounded {
                    value: Value::Inf { neg },
                    flags: Flags::DIV_BY_ZERO,
                }
            }
        }
        (Value::Finite(x), Value::Finite(y)) => Unrounded::finite(quotient(x, y, p)),
        _ => unreachable!("NaN operands were handled above"),
    }
}

fn quotient(x: &Exact, y: &Exact, p: u32) -> Exact {
    let neg = x.neg != y.neg;
    if x.is_zero() {
        return Exact::zero(neg);
    }
    // Shift the dividend so the quotient has at least `working_bits` bits.
    let k = (working_bits(p) + y.sig.bits()).saturating_sub(x.sig.bits()) + 1;
    let (q, r) = (&x.sig << k).div_rem(&y.sig);
    Exact {
        neg,
        sig: q,
        exp: x.exp - y.exp - k as i64,
        sticky: !r.is_zero(),
    }
}

/// The square root of `a`, carrying enough bits for a format of precision `p`.
/// √(−0) = −0; √(x < 0) is invalid.
pub fn sqrt(a: &Value, p: u32) -> Unrounded {
    if let Some(nan) = propagate_nan(&[a]) {
        return nan;
    }
    match a {
        Value::Inf { neg: false } => Unrounded::inf(false),
        Value::Inf { neg: true } => Unrounded::invalid(),
        Value::Finite(x) if x.is_zero() => Unrounded::finite(x.clone()),
        Value::Finite(x) if x.neg => Unrounded::invalid(),
        Value::Finite(x) => Unrounded::finite(root(x, p)),
        Value::Nan { .. } => unreachable!("NaN operands were handled above"),
    }
}

fn root(x: &Exact, p: u32) -> Exact {
    // √(s · 2^e) = √(s · 2^(2k) · 2^(e − 2k)) with e − 2k even and s · 2^(2k) wide enough.
    let want = 2 * working_bits(p) + 2;
    let mut shift = want.saturating_sub(x.sig.bits());
    if (x.exp - shift as i64) % 2 != 0 {
        shift += 1;
    }
    let s = &x.sig << shift;
    let r = s.sqrt();
    let exact = &r * &r == s;
    Exact {
        neg: false,
        sig: r,
        exp: (x.exp - shift as i64) / 2,
        sticky: !exact,
    }
}

/// The IEEE remainder `a − n·b`, n the integer nearest `a/b` (ties to even). It is always
/// exact; its sign is that of `a` when it is zero. rem(±∞, b) and rem(a, 0) are invalid;
/// rem(a, ±∞) = a.
pub fn rem(a: &Value, b: &Value) -> Unrounded {
    if let Some(nan) = propagate_nan(&[a, b]) {
        return nan;
    }
    match (a, b) {
        (Value::Inf { .. }, _) => Unrounded::invalid(),
        (Value::Finite(x), Value::Inf { .. }) => Unrounded::finite(x.clone()),
        (Value::Finite(_), Value::Finite(y)) if y.is_zero() => Unrounded::invalid(),
        (Value::Finite(x), Value::Finite(y)) => Unrounded::finite(remainder(x, y)),
        _ => unreachable!("NaN operands were handled above"),
    }
}

fn remainder(x: &Exact, y: &Exact) -> Exact {
    let (sx, sy, e) = align(x, y);
    let (n, r) = sx.div_rem(&sy);
    // Nearest integer quotient: round n up when the remainder exceeds half of |y| (ties to
    // even n); the result is then r − |y|, of opposite sign to x.
    let twice: BigUint = &r << 1u32;
    let up = twice > sy || (twice == sy && n.is_odd());
    let (neg, sig) = if up { (!x.neg, &sy - &r) } else { (x.neg, r) };
    if sig.is_zero() {
        return Exact::zero(x.neg);
    }
    Exact::new(neg, sig, e)
}
