//! The MPFR oracle: correctly rounded results in any format, computed by MPFR (through `rug`)
//! independently of the rounding core in [`crate::round`] and of [`crate::arith`].
//!
//! - Rounding ([`round`](mod@round)): MPFR's result at a precision mapped onto a format's
//!   encoding — [`round_computed`], [`round_value`], [`round_float`] — and the oracle's own
//!   decoding of codes, [`code_to_float`]. MPFR rounds to a precision, not to a format: the
//!   result rounded to p bits with unbounded exponent decides overflow and tininess; below
//!   2^emin it is rounded again from the exact value on the format's lowest grid
//!   (`check_range` and `subnormalize` with the ternary value, so never twice); ties-away and
//!   round-to-odd are built from MPFR's directed modes; Inf, NaN, saturation and signed zeros
//!   come from the [`crate::Format`]'s data. Every result is produced by a closure "the exact
//!   result at precision `prec` in direction `round`", so any MPFR operation can be checked.
//! - Operations ([`ops`]): [`apply`], the result of every [`crate::arith::Op`] on bit
//!   patterns — the contract of [`crate::arith::Op::apply`] — with the special cases decided
//!   from the semantics documented in [`crate::arith`].
//! - Elementary functions ([`functions`]): [`function`], correctly rounded exp, log,
//!   sin, pow, atan2, … in any format ([`Function`]), with the special cases of C99 Annex F and
//!   IEEE 754-2019 §9.2; the module docs list them and the choices made where the
//!   two leave one.
//!
//! Nothing here calls the rounding core, `codec` or `arith`'s computations, so the
//! differential tests compare two independent implementations. Stochastic modes are rejected
//! with an error: the oracle is for deterministic roundings only.

pub mod functions;
pub mod ops;
pub mod round;

pub use functions::{FUNCTION_NAMES, Function, function, value};
pub use ops::apply;
pub use round::*;
