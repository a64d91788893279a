//! Correctly rounded elementary functions in any format, for deterministic rounding modes.
//!
//! MPFR evaluates each function correctly rounded at whatever precision and direction
//! [`round_computed`] asks for, so the result in the format is correctly rounded too, with the
//! inexact, underflow and overflow flags of that single rounding (results beyond MPFR's own
//! exponent range — exp of a huge binary128 — are still decided right: MPFR's overflow and
//! underflow values lie far outside every format's range, on the correct side).
//!
//! Special operands follow C99 Annex F (ISO C11 F.10) and IEEE 754-2019 §9.2, which agree except
//! where noted; the oracle decides the exceptional cases itself and leaves the limits of
//! infinite operands (exp(−∞) = +0, atan(±∞) = ±π/2, tanh(±∞) = ±1, …) to MPFR, which follows
//! Annex F:
//!
//! - NaN operands give the default NaN; a signaling NaN raises invalid. Exceptions:
//!   pow(x, ±0) = 1 and pow(+1, y) = 1 for any quiet NaN x or y, hypot(±∞, qNaN) = +∞. A
//!   signaling NaN always gives NaN with invalid (IEEE 754-2019 §9.2: "for any x (even a quiet
//!   NaN)").
//! - Invalid (domain errors), giving [`invalid_result`] (NaN, or +0 in a format without NaN):
//!   log, log2, log10 of x < 0 (−∞ included); log1p(x < −1); sin, cos, tan of ±∞; asin, acos
//!   of |x| > 1; sqrt(x < 0); pow(x < 0 finite, y finite non-integer).
//! - Divide-by-zero (an exact infinity from finite operands), giving ±∞ through
//!   [`inf_result`]: log, log2, log10 of ±0 = −∞; log1p(−1) = −∞; pow(±0, y < 0 finite) = ±∞
//!   for odd integers y (the sign of the zero), +∞ otherwise.
//! - pow(±0, −∞) = +∞ *without* divide-by-zero: C99 says it "may" raise it, IEEE 754-2019
//!   §9.2.1 says no exception; the oracle follows IEEE.
//! - Exact results: exp(±0) = 1, log(1) = +0, sin(±0) = ±0, pow(−1, ±∞) = 1, exp2 and exp10
//!   of integers, cbrt of cubes and so on are exact (no inexact flag), as MPFR reports.
//! - atan2 takes its operands as C does: `atan2(y, x)`, the angle of the point (x, y);
//!   atan2(±0, −0) = ±π, atan2(±0, +0) = ±0, atan2(±∞, −∞) = ±3π/4, no exceptions besides
//!   inexact.
//! - Results, including infinite ones, are then treated like any other: an infinite result in
//!   a format without Inf is NaN with invalid or ±max under the saturating policy, a negative
//!   result in an unsigned format is invalid, a zero result in a format without zero is the
//!   smallest value (inexact, underflow).

use super::ops::{Arg, nan_operands};
use super::round::{inf_result, invalid_result, reject_stochastic, round_computed, round_float};
use crate::error::{Error, Result};
use crate::flags::{Flagged, Flags};
use crate::format::Format;
use crate::mode::Rounding;
use rug::Float;
use rug::float::{Round, Special};
use rug::ops::Pow;
use std::cmp::Ordering;
use std::fmt;

/// An elementary function the oracle evaluates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Function {
    /// e^x.
    Exp,
    /// 2^x.
    Exp2,
    /// 10^x.
    Exp10,
    /// e^x − 1.
    Expm1,
    /// Natural logarithm.
    Log,
    /// Base-2 logarithm.
    Log2,
    /// Base-10 logarithm.
    Log10,
    /// ln(1 + x).
    Log1p,
    /// Sine.
    Sin,
    /// Cosine.
    Cos,
    /// Tangent.
    Tan,
    /// Arcsine.
    Asin,
    /// Arccosine.
    Acos,
    /// Arctangent.
    Atan,
    /// Hyperbolic sine.
    Sinh,
    /// Hyperbolic cosine.
    Cosh,
    /// Hyperbolic tangent.
    Tanh,
    /// The error function.
    Erf,
    /// Cube root.
    Cbrt,
    /// Square root.
    Sqrt,
    /// x^y.
    Pow,
    /// atan2(y, x): the angle of the point (x, y), operands in C's order (y first).
    Atan2,
    /// √(x² + y²).
    Hypot,
}

/// Accepted function names, shown with every function-name error.
pub const FUNCTION_NAMES: &str = "exp, exp2, exp10, expm1, log, log2, log10, log1p, sin, cos, \
tan, asin, acos, atan, sinh, cosh, tanh, erf, cbrt, sqrt, pow, atan2, hypot";

impl Function {
    /// Every function.
    pub const ALL: [Function; 23] = [
        Function::Exp,
        Function::Exp2,
        Function::Exp10,
        Function::Expm1,
        Function::Log,
        Function::Log2,
        Function::Log10,
        Function::Log1p,
        Function::Sin,
        Function::Cos,
        Function::Tan,
        Function::Asin,
        Function::Acos,
        Function::Atan,
        Function::Sinh,
        Function::Cosh,
        Function::Tanh,
        Function::Erf,
        Function::Cbrt,
        Function::Sqrt,
        Function::Pow,
        Function::Atan2,
        Function::Hypot,
    ];

    /// The function's name (what [`Function::parse`] accepts).
    pub fn name(self) -> &'static str {
        match self {
            Function::Exp => "exp",
            Function::Exp2 => "exp2",
            Function::Exp10 => "exp10",
            Function::Expm1 => "expm1",
            Function::Log => "log",
            Function::Log2 => "log2",
            Function::Log10 => "log10",
            Function::Log1p => "log1p",
            Function::Sin => "sin",
            Function::Cos => "cos",
            Function::Tan => "tan",
            Function::Asin => "asin",
            Function::Acos => "acos",
            Function::Atan => "atan",
            Function::Sinh => "sinh",
            Function::Cosh => "cosh",
            Function::Tanh => "tanh",
            Function::Erf => "erf",
            Function::Cbrt => "cbrt",
            Function::Sqrt => "sqrt",
            Function::Pow => "pow",
            Function::Atan2 => "atan2",
            Function::Hypot => "hypot",
        }
    }

    /// Parses a function name (case-insensitive; `ln` is accepted for `log`).
    pub fn parse(name: &str) -> Result<Function> {
        let lower = name.trim().to_ascii_lowercase();
        let lower = if lower == "ln" { "log".into() } else { lower };
        Function::ALL
            .into_iter()
            .find(|f| f.name() == lower)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "unknown function {name:?}; expected one of {FUNCTION_NAMES}"
                ))
            })
    }

    /// The number of operands: 2 for pow, atan2 and hypot, else 1.
    pub fn arity(self) -> usize {
        match self {
            Function::Pow | Function::Atan2 | Function::Hypot => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Function {
    type Err = Error;
    fn from_str(s: &str) -> Result<Function> {
        Function::parse(s)
    }
}

/// The correctly rounded value of `f` at the codes `operands` of `fmt` (one per
/// [`Function::arity`]; `atan2` takes y then x), with its flags. See the module docs for the
/// special cases.
///
/// Stochastic modes and a wrong number of operands give [`Error::Invalid`].
///
/// ```
/// use anyfloat::oracle::{Function, function};
/// use anyfloat::{Flagged, Flags, Format, Rounding, RoundingMode};
///
/// let h = Format::parse("binary16").unwrap();
/// let rne = Rounding::new(RoundingMode::NearestEven);
/// // exp(1) = 2.71828… rounds to 0x4170 = 2.71875 in binary16.
/// assert_eq!(function(Function::Exp, &h, &[0x3c00], &rne).unwrap(), Flagged::new(0x4170, Flags::INEXACT));
/// // log(0) = −∞ exactly: divide-by-zero.
/// assert_eq!(function(Function::Log, &h, &[0x0000], &rne).unwrap(), Flagged::new(0xfc00, Flags::DIV_BY_ZERO));
/// ```
pub fn function(
    f: Function,
    fmt: &Format,
    operands: &[u128],
    rounding: &Rounding,
) -> Result<Flagged<u128>> {
    reject_stochastic(rounding)?;
    if operands.len() != f.arity() {
        return Err(Error::Invalid(format!(
            "{f} takes {} operand(s), got {}",
            f.arity(),
            operands.len()
        )));
    }
    let args: Vec<Arg> = operands.iter().map(|&c| Arg::decode(fmt, c)).collect();
    let refs: Vec<&Arg> = args.iter().collect();
    match special(f, &refs) {
        Some(Outcome::Nan) => Ok(nan_operands(fmt, &refs).expect("a NaN operand")),
        Some(Outcome::Invalid) => Ok(invalid_result(fmt)),
        Some(Outcome::Pole { neg }) => Ok(inf_result(fmt, neg, rounding).with(Flags::DIV_BY_ZERO)),
        Some(Outcome::Value(v)) => round_float(fmt, &v, rounding),
        None => {
            // Every domain error is decided above; should MPFR still answer NaN, the operands
            // are outside the function's domain all the same: invalid.
            if evaluate(f, &args, 2, Round::Nearest).0.is_nan() {
                return Ok(invalid_result(fmt));
            }
            round_computed(fmt, rounding, |prec, round| evaluate(f, &args, prec, round))
        }
    }
}

/// How an exceptional case ends.
enum Outcome {
    /// The default NaN (invalid if an operand is a signaling NaN).
    Nan,
    /// A domain error.
    Invalid,
    /// An exact infinity from finite operands (divide-by-zero).
    Pole { neg: bool },
    /// An exact value without exception.
    Value(Float),
}

/// The exceptional cases of the module docs; `None` when MPFR's value is the answer.
fn special(f: Function, args: &[&Arg]) -> Option<Outcome> {
    let one = || Some(Outcome::Value(Float::with_val(1, 1)));
    match f {
        Function::Pow => {
            let (x, y) = (args[0], args[1]);
            if x.snan || y.snan {
                return Some(Outcome::Nan);
            }
            if y.x.is_zero() || x.x == 1 {
                return one();
            }
            if x.x.is_nan() || y.x.is_nan() {
                return Some(Outcome::Nan);
            }
            let y_finite = y.x.is_finite();
            if x.x.is_zero() && y_finite && y.x.is_sign_negative() {
                return Some(Outcome::Pole {
                    neg: x.x.is_sign_negative() && is_odd_integer(&y.x),
                });
            }
            if x.x.is_finite() && x.x < 0 && y_finite && !y.x.is_integer() {
                return Some(Outcome::Invalid);
            }
            None
        }
        Function::Hypot => {
            let (x, y) = (args[0], args[1]);
            if x.snan || y.snan {
                return Some(Outcome::Nan);
            }
            if x.x.is_infinite() || y.x.is_infinite() {
                return Some(Outcome::Value(Float::with_val(1, Special::Infinity)));
            }
            args.iter().any(|a| a.x.is_nan()).then_some(Outcome::Nan)
        }
        Function::Atan2 => args.iter().any(|a| a.x.is_nan()).then_some(Outcome::Nan),
        _ => {
            let x = &args[0].x;
            if x.is_nan() {
                return Some(Outcome::Nan);
            }
            let negative = x.is_sign_negative() && !x.is_zero();
            let pole = Some(Outcome::Pole { neg: true });
            let invalid = Some(Outcome::Invalid);
            match f {
                Function::Log | Function::Log2 | Function::Log10 if x.is_zero() => pole,
                Function::Log | Function::Log2 | Function::Log10 if negative => invalid,
                Function::Log1p => match x.partial_cmp(&-1) {
                    Some(Ordering::Equal) => pole,
                    Some(Ordering::Less) => invalid,
                    _ => None,
                },
                Function::Sin | Function::Cos | Function::Tan if x.is_infinite() => invalid,
                Function::Asin | Function::Acos
                    if x.cmp_abs(&Float::with_val(1, 1)) == Some(Ordering::Greater) =>
                {
                    invalid
                }
                Function::Sqrt if negative => invalid,
                _ => None,
            }
        }
    }
}

/// Whether the finite `y` is an odd integer.
fn is_odd_integer(y: &Float) -> bool {
    y.is_integer() && !Float::with_val(y.prec(), y / 2u32).is_integer()
}

/// MPFR's value of `f` at the codes `operands` of `fmt`, rounded to nearest at `prec` bits,
/// without the special-case handling of [`function`] (MPFR follows C99 Annex F for infinities
/// and NaN): what the ULP error |y − f(x)| / ulp(f(x)) needs, f(x) itself rather than its
/// rounding into the format. A wrong number of operands gives [`Error::Invalid`].
pub fn value(f: Function, fmt: &Format, operands: &[u128], prec: u32) -> Result<Float> {
    if operands.len() != f.arity() {
        return Err(Error::Invalid(format!(
            "{f} takes {} operand(s), got {}",
            f.arity(),
            operands.len()
        )));
    }
    let args: Vec<Arg> = operands.iter().map(|&c| Arg::decode(fmt, c)).collect();
    Ok(evaluate(f, &args, prec, Round::Nearest).0)
}

/// MPFR's value of `f` at `args`, rounded to `prec` bits in direction `round`, with the ternary.
fn evaluate(f: Function, args: &[Arg], prec: u32, round: Round) -> (Float, Ordering) {
    let x = &args[0].x;
    let y = || &args[1].x;
    match f {
        Function::Exp => Float::with_val_round(prec, x.exp_ref(), round),
        Function::Exp2 => Float::with_val_round(prec, x.exp2_ref(), round),
        Function::Exp10 => Float::with_val_round(prec, x.exp10_ref(), round),
        Function::Expm1 => Float::with_val_round(prec, x.exp_m1_ref(), round),
        Function::Log => Float::with_val_round(prec, x.ln_ref(), round),
        Function::Log2 => Float::with_val_round(prec, x.log2_ref(), round),
        Function::Log10 => Float::with_val_round(prec, x.log10_ref(), round),
        Function::Log1p => Float::with_val_round(prec, x.ln_1p_ref(), round),
        Function::Sin => Float::with_val_round(prec, x.sin_ref(), round),
        Function::Cos => Float::with_val_round(prec, x.cos_ref(), round),
        Function::Tan => Float::with_val_round(prec, x.tan_ref(), round),
        Function::Asin => Float::with_val_round(prec, x.asin_ref(), round),
        Function::Acos => Float::with_val_round(prec, x.acos_ref(), round),
        Function::Atan => Float::with_val_round(prec, x.atan_ref(), round),
        Function::Sinh => Float::with_val_round(prec, x.sinh_ref(), round),
        Function::Cosh => Float::with_val_round(prec, x.cosh_ref(), round),
        Function::Tanh => Float::with_val_round(prec, x.tanh_ref(), round),
        Function::Erf => Float::with_val_round(prec, x.erf_ref(), round),
        Function::Cbrt => Float::with_val_round(prec, x.cbrt_ref(), round),
        Function::Sqrt => Float::with_val_round(prec, x.sqrt_ref(), round),
        Function::Pow => Float::with_val_round(prec, x.pow(y()), round),
        Function::Atan2 => Float::with_val_round(prec, x.atan2_ref(y()), round),
        Function::Hypot => Float::with_val_round(prec, x.hypot_ref(y()), round),
    }
}
