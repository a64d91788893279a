//! Arithmetic in any format: each operation computes its exact result with integers, then
//! ends in the rounding core, so no result is ever rounded twice.
//!
//! Each submodule has one shape: special operands first (NaN, Inf, zeros), then integer
//! significand arithmetic producing an [`Unrounded`] value, then [`finish`].
//!
//! Semantics (IEEE 754-2019 for IEEE-style formats, and the same rules for the others):
//! - A NaN operand gives the format's default NaN (quiet, positive; payloads are not
//!   propagated); a signaling NaN operand (IEEE-style formats only) raises invalid.
//! - Invalid operations (∞ − ∞, 0 · ∞, 0/0, ∞/∞, √(x<0), rem(∞, y), rem(x, 0),
//!   fma(∞, 0, c) even when c is a quiet NaN) give the default NaN with invalid; in a format
//!   without NaN, +0 with invalid.
//! - An infinite result (from ∞ operands, or x/0 with divide-by-zero) is handled like
//!   converting ∞ into the format: ±Inf where it exists; otherwise NaN with invalid, or ±max
//!   with overflow and inexact under the saturating policy or without NaN.
//! - An exact zero sum of opposite-signed operands is +0, or −0 when rounding toward −∞; formats
//!   without −0 (fnuz, P3109, unsigned) give +0. A negative result in an unsigned format is
//!   invalid. In a format without zero (E8M0) a zero result becomes the smallest value (inexact,
//!   underflow), as the rounding core does for any value below it.

mod add;
mod compare;
mod div;
mod integer;
mod mul;
mod op;

pub use add::{add, sub};
pub use compare::{Choice, Ordering, compare, max, maximum, min, minimum};
pub use div::{div, rem, sqrt};
pub use integer::{from_int, round_to_int, to_int};
pub use mul::{fma, mul};
pub use op::{Op, Operand};

use crate::exact::{Exact, Value};
use crate::flags::{Flagged, Flags};
use crate::format::Format;
use crate::mode::{Rounding, RoundingMode};
use crate::rng::RandomSource;
use crate::round::round_value;

/// An operation's exact result before rounding, with the flags its operands raised
/// (invalid for a signaling NaN or an invalid operation, divide-by-zero for x/0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unrounded {
    /// The exact result; `Nan` for invalid operations and NaN operands.
    pub value: Value,
    /// Flags raised before rounding.
    pub flags: Flags,
}

impl Unrounded {
    /// An exact finite result.
    pub fn finite(x: Exact) -> Unrounded {
        Unrounded {
            value: Value::Finite(x),
            flags: Flags::NONE,
        }
    }
    /// An infinite result without a flag of its own (∞ operands).
    pub fn inf(neg: bool) -> Unrounded {
        Unrounded {
            value: Value::Inf { neg },
            flags: Flags::NONE,
        }
    }
    /// An invalid operation.
    pub fn invalid() -> Unrounded {
        Unrounded {
            value: Value::Nan { signaling: false },
            flags: Flags::INVALID,
        }
    }
}

/// Rounds an exact result into `fmt`: the one exit of every operation.
pub fn finish<R: RandomSource + ?Sized>(
    fmt: &Format,
    u: &Unrounded,
    rounding: &Rounding,
    rng: &mut R,
) -> Flagged<u128> {
    round_value(fmt, &u.value, rounding, rng).with(u.flags)
}

/// If any operand is a NaN, the result: default NaN, invalid if one was signaling.
fn propagate_nan(operands: &[&Value]) -> Option<Unrounded> {
    let mut nan = false;
    let mut signaling = false;
    for v in operands {
        if let Value::Nan { signaling: s } = v {
            nan = true;
            signaling |= *s;
        }
    }
    nan.then_some(Unrounded {
        value: Value::Nan { signaling: false },
        flags: if signaling {
            Flags::INVALID
        } else {
            Flags::NONE
        },
    })
}

/// The sign of an exact zero sum of two terms with signs `a` and `b` (IEEE 754 §6.3).
fn zero_sum_sign(a: bool, b: bool, mode: RoundingMode) -> bool {
    if a == b {
        a
    } else {
        mode == RoundingMode::TowardNegative
    }
}

/// `x` and `y` scaled to a common exponent: (signed significands as magnitudes, exponent).
fn align(x: &Exact, y: &Exact) -> (num_bigint::BigUint, num_bigint::BigUint, i64) {
    let e = x.exp.min(y.exp);
    (
        &x.sig << (x.exp - e) as u64,
        &y.sig << (y.exp - e) as u64,
        e,
    )
}
