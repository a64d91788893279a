//! Comparisons and the IEEE 754-2019 minimum/maximum operations.

use crate::exact::Value;
use crate::flags::{Flagged, Flags};

/// The result of comparing two values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ordering {
    /// a < b.
    Less,
    /// a = b (−0 = +0).
    Equal,
    /// a > b.
    Greater,
    /// At least one is NaN.
    Unordered,
}

/// Compares `a` with `b`. A signaling NaN raises invalid; with `signaling`, any NaN does
/// (IEEE compareSignaling*, TestFloat's `_signaling` variants).
pub fn compare(a: &Value, b: &Value, signaling: bool) -> Flagged<Ordering> {
    let nan = |v: &Value| matches!(v, Value::Nan { .. });
    let snan = |v: &Value| matches!(v, Value::Nan { signaling: true });
    if nan(a) || nan(b) {
        let invalid = signaling || snan(a) || snan(b);
        let flags = if invalid { Flags::INVALID } else { Flags::NONE };
        return Flagged::new(Ordering::Unordered, flags);
    }
    Flagged::exact(order(a, b))
}

/// Total order of two non-NaN values, with −0 = +0.
fn order(a: &Value, b: &Value) -> Ordering {
    use std::cmp::Ordering as O;
    let rank = |v: &Value| match v {
        Value::Inf { neg: true } => -1,
        Value::Inf { neg: false } => 1,
        _ => 0,
    };
    let ordering = match (a, b) {
        (Value::Finite(x), Value::Finite(y)) => {
            let (xz, yz) = (x.is_zero(), y.is_zero());
            match (xz, yz) {
                (true, true) => O::Equal,
                _ if x.neg != y.neg || xz || yz => {
                    let sign = |neg: bool, zero: bool| {
                        if zero {
                            0
                        } else if neg {
                            -1
                        } else {
                            1
                        }
                    };
                    sign(x.neg, xz).cmp(&sign(y.neg, yz))
                }
                _ if x.neg => y.cmp_abs(x),
                _ => x.cmp_abs(y),
            }
        }
        _ => rank(a).cmp(&rank(b)),
    };
    match ordering {
        O::Less => Ordering::Less,
        O::Equal => Ordering::Equal,
        O::Greater => Ordering::Greater,
    }
}

/// Which operand a min/max operation returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// The first operand.
    First,
    /// The second operand.
    Second,
    /// The default NaN.
    Nan,
}

/// Picks per IEEE 754-2019 §9.6: `number` selects the *Number variants (a NaN operand is
/// ignored if the other is a number); ±0 are ordered −0 < +0; a signaling NaN raises invalid.
fn pick(a: &Value, b: &Value, want_max: bool, number: bool) -> Flagged<Choice> {
    let snan =
        matches!(a, Value::Nan { signaling: true }) || matches!(b, Value::Nan { signaling: true });
    let flags = if snan { Flags::INVALID } else { Flags::NONE };
    let choice = match (a.is_nan(), b.is_nan()) {
        (true, true) => Choice::Nan,
        (true, false) if number => Choice::Second,
        (false, true) if number => Choice::First,
        (true, _) | (_, true) => Choice::Nan,
        _ => {
            let ordering = match order(a, b) {
                // Equal values: order the zeros by sign, otherwise either will do.
                Ordering::Equal => (a.is_negative() as i8)
                    .cmp(&(b.is_negative() as i8))
                    .reverse(),
                Ordering::Less => std::cmp::Ordering::Less,
                _ => std::cmp::Ordering::Greater,
            };
            let a_wins = if want_max {
                ordering.is_ge()
            } else {
                ordering.is_le()
            };
            if a_wins {
                Choice::First
            } else {
                Choice::Second
            }
        }
    };
    Flagged::new(choice, flags)
}

/// IEEE minimumNumber: the smaller operand, ignoring a NaN when the other is a number.
pub fn min(a: &Value, b: &Value) -> Flagged<Choice> {
    pick(a, b, false, true)
}
/// IEEE maximumNumber: the larger operand, ignoring a NaN when the other is a number.
pub fn max(a: &Value, b: &Value) -> Flagged<Choice> {
    pick(a, b, true, true)
}
/// IEEE minimum: the smaller operand; NaN if either is NaN.
pub fn minimum(a: &Value, b: &Value) -> Flagged<Choice> {
    pick(a, b, false, false)
}
/// IEEE maximum: the larger operand; NaN if either is NaN.
pub fn maximum(a: &Value, b: &Value) -> Flagged<Choice> {
    pick(a, b, true, false)
}
