//! The MPFR oracle: correctly rounded results in any format, computed by MPFR (through `rug`)
//! independently of the rounding core in [`crate::round`] and of [`crate::arith`].
//!
//! - [`round`](self#functions) (module `oracle::round`): MPFR's result at a precision mapped
//!   onto a format's encoding — [`round_computed`], [`round_value`], [`round_float`], and the
//!   oracle's own decoding of codes ([`code_to_float`]).
//!
//! Stochastic modes are rejected: the oracle is for deterministic roundings only.

mod round;

pub use round::*;
