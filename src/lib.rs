//! anyfloat: bit-exact emulation of any binary floating-point format.
//!
//! The layers, each knowing only those above it:
//! - [`mod@format`]: a [`Format`] as data, and the name grammar;
//! - [`exact`], [`parse`]: exact values and how text becomes one;
//! - [`round`]: the rounding core — the only place a rounding decision is made;
//! - [`codec`]: codes ↔ values, and conversions that end in the core;
//! - [`oracle`]: MPFR-computed correctly rounded results, an independent check of the core.
//!
//! ```
//! use anyfloat::{Format, Rounding, RoundingMode, codec, rng::NoRandom};
//!
//! let e4m3 = Format::parse("e4m3").unwrap();
//! let r = codec::from_f64(&e4m3, 300.0, &Rounding::new(RoundingMode::NearestEven), &mut NoRandom);
//! assert_eq!(r.value, 0x79); // 288 = 1.125 · 2^8: sign 0, exponent 1111, mantissa 001
//! assert_eq!(codec::to_f64(&e4m3, r.value), 288.0);
//! assert!(r.flags.contains(anyfloat::Flags::INEXACT));
//! ```
// `deny`, not `forbid`: `fast::dispatch` and `block::simd` allow it, to call CPU-specific
// loops, and `fast::split`, to round in an SSE2 register.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod arith;
pub mod block;
pub mod codec;
pub mod emu;
pub mod error;
pub mod exact;
pub mod exp;
pub mod experiments;
pub mod fast;
pub mod flags;
pub mod format;
pub mod linalg;
pub mod mode;
pub mod models;
pub mod mp;
pub mod npy;
pub mod oracle;
pub mod parse;
pub mod plot;
pub mod quad;
pub mod real;
pub mod rng;
pub mod round;
pub mod stats;
pub mod ulp;
pub mod vectors;

pub use error::{Error, Result};
pub use exact::{Exact, Value};
pub use flags::{Flagged, Flags};
pub use format::{Format, Specials};
pub use mode::{Overflow, Rounding, RoundingMode, Tininess};

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
