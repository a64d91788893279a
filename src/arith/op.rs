//! `Op`: every operation by name, with its operand and result types, applied to codes.
//!
//! This is the uniform view that test vectors (`gen`/`verify`), `calc` and the differential
//! tests use: operands and results are bit patterns (format codes, integers, or 0/1 for
//! comparisons).

use super::{Choice, Ordering, Unrounded};
use crate::codec::decode;
use crate::error::{Error, Result};
use crate::exact::Value;
use crate::flags::{Flagged, Flags};
use crate::format::Format;
use crate::mode::Rounding;
use crate::rng::RandomSource;
use std::fmt;

/// An operation on values of one format (its "home" format, given separately).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// a + b.
    Add,
    /// a − b.
    Sub,
    /// a · b.
    Mul,
    /// a / b.
    Div,
    /// √a.
    Sqrt,
    /// a · b + c with one rounding.
    Fma,
    /// IEEE remainder a − n·b, n = nearest integer to a/b.
    Rem,
    /// IEEE minimumNumber.
    Min,
    /// IEEE maximumNumber.
    Max,
    /// IEEE minimum (NaN-propagating).
    Minimum,
    /// IEEE maximum (NaN-propagating).
    Maximum,
    /// Round to an integral value in the rounding mode; `exact` raises inexact.
    RoundToInt {
        /// Raise inexact when the value changes (roundToIntegralExact).
        exact: bool,
    },
    /// a = b (quiet unless `signaling`).
    Eq {
        /// Any NaN raises invalid.
        signaling: bool,
    },
    /// a < b (signaling unless `quiet`).
    Lt {
        /// Only signaling NaNs raise invalid.
        quiet: bool,
    },
    /// a ≤ b (signaling unless `quiet`).
    Le {
        /// Only signaling NaNs raise invalid.
        quiet: bool,
    },
    /// Format → integer of `bits` bits.
    ToInt {
        /// Integer width (1..=128).
        bits: u32,
        /// Two's complement signed, or unsigned.
        signed: bool,
    },
    /// Integer of `bits` bits → format.
    FromInt {
        /// Integer width (1..=128).
        bits: u32,
        /// Two's complement signed, or unsigned.
        signed: bool,
    },
    /// Another format → the home format.
    Convert {
        /// The source format.
        from: Format,
    },
}

/// What an operand or result bit pattern holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    /// A code of a format.
    Float(Format),
    /// An integer of the given width.
    Int {
        /// Width in bits.
        bits: u32,
        /// Two's complement signed, or unsigned.
        signed: bool,
    },
    /// A comparison result, 0 or 1.
    Bool,
}

impl Operand {
    /// Width of the bit pattern.
    pub fn width(&self) -> u32 {
        match self {
            Operand::Float(f) => f.width(),
            Operand::Int { bits, .. } => *bits,
            Operand::Bool => 1,
        }
    }
}

/// Accepted operation names, shown with every operation-name error.
pub const OP_NAMES: &str = "add, sub, mul, div, sqrt, fma, rem, min, max, minimum, maximum, \
round_to_int, round_to_int_exact, eq, lt, le, eq_signaling, lt_quiet, le_quiet, \
to_i<N>, to_u<N>, from_i<N>, from_u<N> (N = 1..128), cvt:<FORMAT>";

impl Op {
    /// Parses an operation name: one of `OP_NAMES` (`add`, `sub`, `mul`, …, `cvt:<FORMAT>`).
    pub fn parse(name: &str) -> Result<Op> {
        let lower = name.trim().to_ascii_lowercase();
        let fail = || {
            Error::Invalid(format!(
                "unknown operation {name:?}; expected one of {OP_NAMES}"
            ))
        };
        let op = match lower.as_str() {
            "add" => Op::Add,
            "sub" => Op::Sub,
            "mul" => Op::Mul,
            "div" => Op::Div,
            "sqrt" => Op::Sqrt,
            "fma" | "muladd" => Op::Fma,
            "rem" => Op::Rem,
            "min" => Op::Min,
            "max" => Op::Max,
            "minimum" => Op::Minimum,
            "maximum" => Op::Maximum,
            "round_to_int" | "roundtoint" => Op::RoundToInt { exact: false },
            "round_to_int_exact" => Op::RoundToInt { exact: true },
            "eq" => Op::Eq { signaling: false },
            "eq_signaling" => Op::Eq { signaling: true },
            "lt" => Op::Lt { quiet: false },
            "lt_quiet" => Op::Lt { quiet: true },
            "le" => Op::Le { quiet: false },
            "le_quiet" => Op::Le { quiet: true },
            other => {
                if let Some(from) = other.strip_prefix("cvt:") {
                    return Ok(Op::Convert {
                        from: Format::parse(from)?,
                    });
                }
                let (dir, rest) = if let Some(r) = other.strip_prefix("to_") {
                    (true, r)
                } else if let Some(r) = other.strip_prefix("from_") {
                    (false, r)
                } else {
                    return Err(fail());
                };
                let signed = match rest.as_bytes().first() {
                    Some(b'i') => true,
                    Some(b'u') => false,
                    _ => return Err(fail()),
                };
                let rest = rest[1..].strip_prefix("i").unwrap_or(&rest[1..]); // `ui32` like TestFloat
                let bits: u32 = rest.parse().map_err(|_| fail())?;
                if !(1..=128).contains(&bits) {
                    return Err(Error::Invalid(format!(
                        "integer width {bits} in {name:?} is out of range 1..=128"
                    )));
                }
                if dir {
                    Op::ToInt { bits, signed }
                } else {
                    Op::FromInt { bits, signed }
                }
            }
        };
        Ok(op)
    }

    /// The operand types, given the home format.
    pub fn operands(&self, fmt: &Format) -> Vec<Operand> {
        let f = Operand::Float(*fmt);
        match self {
            Op::Sqrt | Op::RoundToInt { .. } | Op::ToInt { .. } => vec![f],
            Op::Fma => vec![f, f, f],
            Op::FromInt { bits, signed } => vec![Operand::Int {
                bits: *bits,
                signed: *signed,
            }],
            Op::Convert { from } => vec![Operand::Float(*from)],
            _ => vec![f, f],
        }
    }

    /// The result type, given the home format.
    pub fn result(&self, fmt: &Format) -> Operand {
        match self {
            Op::Eq { .. } | Op::Lt { .. } | Op::Le { .. } => Operand::Bool,
            Op::ToInt { bits, signed } => Operand::Int {
                bits: *bits,
                signed: *signed,
            },
            _ => Operand::Float(*fmt),
        }
    }

    /// Whether the result is rounded (so the rounding mode matters).
    pub fn rounds(&self) -> bool {
        !matches!(
            self,
            Op::Min
                | Op::Max
                | Op::Minimum
                | Op::Maximum
                | Op::Eq { .. }
                | Op::Lt { .. }
                | Op::Le { .. }
        )
    }

    /// The exact result before rounding, for operations that produce a value (None for
    /// comparisons, min/max and integer results). Stochastic round-to-integral draws here.
    pub fn exact<R: RandomSource + ?Sized>(
        &self,
        fmt: &Format,
        operands: &[u128],
        rounding: &Rounding,
        rng: &mut R,
    ) -> Option<Unrounded> {
        let kinds = self.operands(fmt);
        let v: Vec<Value> = kinds
            .iter()
            .zip(operands)
            .map(|(kind, &bits)| match kind {
                Operand::Float(f) => decode(f, bits),
                Operand::Int { bits: n, signed } => {
                    Value::Finite(super::from_int(bits, *n, *signed))
                }
                Operand::Bool => Value::Finite(crate::exact::Exact::from_i128(bits as i128)),
            })
            .collect();
        let mode = rounding.mode;
        let p = fmt.precision();
        Some(match self {
            Op::Add => super::add(&v[0], &v[1], mode),
            Op::Sub => super::sub(&v[0], &v[1], mode),
            Op::Mul => super::mul(&v[0], &v[1]),
            Op::Div => super::div(&v[0], &v[1], p),
            Op::Sqrt => super::sqrt(&v[0], p),
            Op::Fma => super::fma(&v[0], &v[1], &v[2], mode),
            Op::Rem => super::rem(&v[0], &v[1]),
            Op::RoundToInt { exact } => super::round_to_int(&v[0], mode, *exact, rng),
            Op::FromInt { .. } | Op::Convert { .. } => Unrounded {
                value: v[0].clone(),
                flags: Flags::NONE,
            },
            _ => return None,
        })
    }

    /// Applies the operation to bit patterns: the result's bit pattern and flags.
    ///
    /// `operands` must have one entry per [`Op::operands`] type; missing ones are an error.
    pub fn apply<R: RandomSource + ?Sized>(
        &self,
        fmt: &Format,
        operands: &[u128],
        rounding: &Rounding,
        rng: &mut R,
    ) -> Result<Flagged<u128>> {
        let kinds = self.operands(fmt);
        if operands.len() != kinds.len() {
            return Err(Error::Invalid(format!(
                "{self} takes {} operand(s), got {}",
                kinds.len(),
                operands.len()
            )));
        }
        if let Some(u) = self.exact(fmt, operands, rounding, rng) {
            return Ok(super::finish(fmt, &u, rounding, rng));
        }
        let a = decode(&kinds[0].as_format(), operands[0]);
        let result = match self {
            Op::ToInt { bits, signed } => super::to_int(&a, *bits, *signed, rounding.mode, rng),
            Op::Eq { signaling } => {
                let b = decode(fmt, operands[1]);
                let c = super::compare(&a, &b, *signaling);
                Flagged::new((c.value == Ordering::Equal) as u128, c.flags)
            }
            Op::Lt { quiet } | Op::Le { quiet } => {
                let b = decode(fmt, operands[1]);
                let c = super::compare(&a, &b, !quiet);
                let le = matches!(self, Op::Le { .. });
                let holds = c.value == Ordering::Less || (le && c.value == Ordering::Equal);
                Flagged::new(holds as u128, c.flags)
            }
            Op::Min | Op::Max | Op::Minimum | Op::Maximum => {
                let b = decode(fmt, operands[1]);
                let pick = match self {
                    Op::Min => super::min(&a, &b),
                    Op::Max => super::max(&a, &b),
                    Op::Minimum => super::minimum(&a, &b),
                    _ => super::maximum(&a, &b),
                };
                let code = match pick.value {
                    Choice::First => operands[0] & fmt.code_mask(),
                    Choice::Second => operands[1] & fmt.code_mask(),
                    Choice::Nan => crate::round::invalid(fmt).value,
                };
                Flagged::new(code, pick.flags)
            }
            _ => unreachable!("value-producing operations returned above"),
        };
        Ok(result)
    }
}

impl Operand {
    fn as_format(&self) -> Format {
        match self {
            Operand::Float(f) => *f,
            _ => unreachable!("only called on float operands"),
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Add => f.write_str("add"),
            Op::Sub => f.write_str("sub"),
            Op::Mul => f.write_str("mul"),
            Op::Div => f.write_str("div"),
            Op::Sqrt => f.write_str("sqrt"),
            Op::Fma => f.write_str("fma"),
            Op::Rem => f.write_str("rem"),
            Op::Min => f.write_str("min"),
            Op::Max => f.write_str("max"),
            Op::Minimum => f.write_str("minimum"),
            Op::Maximum => f.write_str("maximum"),
            Op::RoundToInt { exact: false } => f.write_str("round_to_int"),
            Op::RoundToInt { exact: true } => f.write_str("round_to_int_exact"),
            Op::Eq { signaling: false } => f.write_str("eq"),
            Op::Eq { signaling: true } => f.write_str("eq_signaling"),
            Op::Lt { quiet: false } => f.write_str("lt"),
            Op::Lt { quiet: true } => f.write_str("lt_quiet"),
            Op::Le { quiet: false } => f.write_str("le"),
            Op::Le { quiet: true } => f.write_str("le_quiet"),
            Op::ToInt { bits, signed } => write!(f, "to_{}{bits}", if *signed { 'i' } else { 'u' }),
            Op::FromInt { bits, signed } => {
                write!(f, "from_{}{bits}", if *signed { 'i' } else { 'u' })
            }
            Op::Convert { from } => write!(f, "cvt:{from}"),
        }
    }
}
