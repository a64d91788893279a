//! Multiplication and fused multiply-add.

use super::add::exact_sum;
use super::{Unrounded, propagate_nan};
use crate::exact::{Exact, Value};
use crate::mode::RoundingMode;

/// The exact product `a · b`.
pub fn mul(a: &Value, b: &Value) -> Unrounded {
    if let Some(nan) = propagate_nan(&[a, b]) {
        return nan;
    }
    let neg = a.is_negative() != b.is_negative();
    match (a, b) {
        (Value::Finite(x), Value::Finite(y)) => Unrounded::finite(product(x, y)),
        (Value::Finite(x), _) | (_, Value::Finite(x)) if x.is_zero() => Unrounded::invalid(),
        _ => Unrounded::inf(neg),
    }
}

/// The exact `a · b + c`, rounded once by the caller. `mode` decides the sign of an exact zero.
///
/// 0 · ∞ is invalid even when `c` is a quiet NaN (IEEE 754 leaves it to the implementation;
/// this is Berkeley SoftFloat's and x86's choice).
pub fn fma(a: &Value, b: &Value, c: &Value, mode: RoundingMode) -> Unrounded {
    let zero_times_inf = matches!(
        (a, b),
        (Value::Finite(x), Value::Inf { .. }) | (Value::Inf { .. }, Value::Finite(x)) if x.is_zero()
    );
    if zero_times_inf {
        return Unrounded::invalid();
    }
    if let Some(nan) = propagate_nan(&[a, b, c]) {
        return nan;
    }
    let ab = mul(a, b);
    match (&ab.value, c) {
        (Value::Inf { neg: p }, Value::Inf { neg: q }) if p != q => Unrounded::invalid(),
        (Value::Inf { neg }, _) | (_, Value::Inf { neg }) => Unrounded::inf(*neg),
        (Value::Finite(p), Value::Finite(z)) => Unrounded::finite(exact_sum(p, z, mode)),
        _ => unreachable!("NaN and invalid cases were handled above"),
    }
}

/// `x · y` exactly.
fn product(x: &Exact, y: &Exact) -> Exact {
    Exact::new(x.neg != y.neg, &x.sig * &y.sig, x.exp + y.exp)
}
