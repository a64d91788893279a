//! Addition and subtraction.

use super::{Unrounded, align, propagate_nan, zero_sum_sign};
use crate::exact::{Exact, Value};
use crate::mode::RoundingMode;

/// The exact sum `a + b`; `mode` only decides the sign of an exact zero.
pub fn add(a: &Value, b: &Value, mode: RoundingMode) -> Unrounded {
    if let Some(nan) = propagate_nan(&[a, b]) {
        return nan;
    }
    match (a, b) {
        (Value::Inf { neg: x }, Value::Inf { neg: y }) if x != y => Unrounded::invalid(),
        (Value::Inf { neg }, _) | (_, Value::Inf { neg }) => Unrounded::inf(*neg),
        (Value::Finite(x), Value::Finite(y)) => Unrounded::finite(exact_sum(x, y, mode)),
        _ => unreachable!("NaN operands were handled above"),
    }
}

/// The exact difference `a − b`.
pub fn sub(a: &Value, b: &Value, mode: RoundingMode) -> Unrounded {
    let negated = match b {
        Value::Finite(y) => Value::Finite(y.clone().negated()),
        Value::Inf { neg } => Value::Inf { neg: !neg },
        nan => nan.clone(),
    };
    add(a, &negated, mode)
}

/// `x + y` exactly (neither may be sticky).
pub(super) fn exact_sum(x: &Exact, y: &Exact, mode: RoundingMode) -> Exact {
    debug_assert!(!x.sticky && !y.sticky);
    let (sx, sy, e) = align(x, y);
    let (neg, sig) = if x.neg == y.neg {
        (x.neg, sx + sy)
    } else if sx >= sy {
        (x.neg, sx - sy)
    } else {
        (y.neg, sy - sx)
    };
    if sig.bits() == 0 {
        return Exact::zero(zero_sum_sign(x.neg, y.neg, mode));
    }
    Exact::new(neg, sig, e)
}
