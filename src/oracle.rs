//! The MPFR oracle: correctly rounded results in any format, computed by MPFR (through `rug`)
//! independently of the rounding core in [`crate::round`] and of [`crate::arith`].
//!
//! - Rounding (module `oracle/round.rs`): MPFR's result at a precision mapped onto a format's
//!   encoding — [`round_computed`], [`round_value`], [`round_float`] — and the oracle's own
//!   decoding of codes, [`code_to_float`]. How ties-away, round-to-odd, subnormals and
//!   overflow are built from MPFR is described at [`round_computed`]'s module.
//! - Operations (`oracle/ops.rs`): [`apply`], the result of every [`crate::arith::Op`] on bit
//!   patterns, the same contract as [`crate::arith::Op::apply`].
//! - Elementary functions (`oracle/functions.rs`): [`function`], correctly rounded exp, log,
//!   sin, pow, atan2, … in any format, with C99 Annex F / IEEE 754-2019 special cases.
//!
//! Everything is implemented from MPFR and the [`crate::Format`]'s data; nothing here calls
//! the rounding core, `codec` or `arith`, so the differential tests compare two independent
//! implementations. Stochastic modes are rejected: the oracle is for deterministic roundings.

mod functions;
mod ops;
mod round;

pub use functions::{FUNCTION_NAMES, Function, function};
pub use ops::apply;
pub use round::*;
