//! Rounding modes, overflow policies and tininess detection: the arguments of every rounding.

use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// Accepted rounding-mode names, shown with every rounding-mode error.
pub const MODE_NAMES: &str = "rne, rna, rtz, rup, rdn, rto, sr, sr:<bits> (1..=64), sr-eq";

/// How an inexact result is rounded to one of its two neighbours in the format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RoundingMode {
    /// `rne`: to nearest, ties to even (IEEE roundTiesToEven).
    #[default]
    NearestEven,
    /// `rna`: to nearest, ties away from zero (IEEE roundTiesToAway).
    NearestAway,
    /// `rtz`: toward zero (truncation).
    TowardZero,
    /// `rup`: toward +∞.
    TowardPositive,
    /// `rdn`: toward −∞.
    TowardNegative,
    /// `rto`: round to odd — truncate, then set the last bit if anything was lost.
    ToOdd,
    /// `sr` / `sr:<r>`: stochastic, away from zero with probability proportional to the
    /// distance from the lower-magnitude neighbour.
    ///
    /// `bits: None` is exact: the random number is an unbounded bit string compared with the
    /// exact remainder, drawn 64 bits at a time until they differ (one draw almost always).
    /// `bits: Some(r)` uses the top r bits of one 64-bit draw and the remainder truncated to r
    /// bits, so the probability is quantised down to a multiple of 2^−r (hardware's "add r random
    /// bits below the rounding point, then truncate").
    Stochastic {
        /// Random bits per rounding, or `None` for exact probabilities.
        bits: Option<u8>,
    },
    /// `sr-eq`: stochastic with probability 1/2 for each neighbour (CPFloat mode 6); uses the
    /// top bit of one 64-bit draw.
    StochasticEqual,
}

impl RoundingMode {
    /// Every deterministic mode, for tests and tables.
    pub const DETERMINISTIC: [RoundingMode; 6] = [
        RoundingMode::NearestEven,
        RoundingMode::NearestAway,
        RoundingMode::TowardZero,
        RoundingMode::TowardPositive,
        RoundingMode::TowardNegative,
        RoundingMode::ToOdd,
    ];

    /// Whether the mode draws random bits.
    pub fn is_stochastic(self) -> bool {
        matches!(
            self,
            RoundingMode::Stochastic { .. } | RoundingMode::StochasticEqual
        )
    }
}

impl FromStr for RoundingMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<RoundingMode> {
        let name = s.trim().to_ascii_lowercase();
        let mode = match name.as_str() {
            "rne" | "nearest" | "nearest-even" => RoundingMode::NearestEven,
            "rna" | "nearest-away" => RoundingMode::NearestAway,
            "rtz" | "rz" | "toward-zero" => RoundingMode::TowardZero,
            "rup" | "ru" | "rtp" | "toward-positive" => RoundingMode::TowardPositive,
            "rdn" | "rd" | "rtn" | "toward-negative" => RoundingMode::TowardNegative,
            "rto" | "odd" => RoundingMode::ToOdd,
            "sr" | "stochastic" => RoundingMode::Stochastic { bits: None },
            "sr-eq" | "sreq" | "sr_eq" => RoundingMode::StochasticEqual,
            other => {
                let bits = other
                    .strip_prefix("sr:")
                    .and_then(|b| b.parse::<u8>().ok())
                    .filter(|b| (1..=64).contains(b))
                    .ok_or_else(|| Error::Rounding { input: s.into() })?;
                RoundingMode::Stochastic { bits: Some(bits) }
            }
        };
        Ok(mode)
    }
}

impl fmt::Display for RoundingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoundingMode::NearestEven => f.write_str("rne"),
            RoundingMode::NearestAway => f.write_str("rna"),
            RoundingMode::TowardZero => f.write_str("rtz"),
            RoundingMode::TowardPositive => f.write_str("rup"),
            RoundingMode::TowardNegative => f.write_str("rdn"),
            RoundingMode::ToOdd => f.write_str("rto"),
            RoundingMode::Stochastic { bits: None } => f.write_str("sr"),
            RoundingMode::Stochastic { bits: Some(r) } => write!(f, "sr:{r}"),
            RoundingMode::StochasticEqual => f.write_str("sr-eq"),
        }
    }
}

/// What a result beyond the largest finite value becomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Overflow {
    /// IEEE 754: ±Inf where the mode rounds away (nearest, stochastic, directed away), ±max
    /// finite where it rounds toward zero. Formats without Inf give NaN instead, or ±max when
    /// they have no NaN either. Inf operands stay Inf (or NaN/±max likewise).
    #[default]
    Ieee,
    /// Clamp to ±max finite whatever the mode (OCP "saturating" conversion); ±Inf operands
    /// also become ±max. The overflow and inexact flags are still raised.
    Saturate,
}

/// When a result counts as tiny for the underflow flag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Tininess {
    /// Tiny if the result rounded to p bits with unbounded exponent is below the smallest
    /// normal (x86 SSE, RISC-V, Berkeley SoftFloat's default; ARM detects before rounding).
    /// Stochastic modes, whose unbounded
    /// rounding would need a second random decision, use the before-rounding rule.
    #[default]
    AfterRounding,
    /// Tiny if the exact result is below the smallest normal.
    BeforeRounding,
}

/// Everything that decides a rounding besides the value, the format and the random bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Rounding {
    /// The rounding mode.
    pub mode: RoundingMode,
    /// The overflow policy.
    pub overflow: Overflow,
    /// The tininess rule for the underflow flag.
    pub tininess: Tininess,
}

impl Rounding {
    /// IEEE defaults (overflow to Inf, tininess after rounding) with the given mode.
    pub fn new(mode: RoundingMode) -> Rounding {
        Rounding {
            mode,
            ..Rounding::default()
        }
    }
    /// The same rounding with the saturating overflow policy.
    pub fn saturating(mut self) -> Rounding {
        self.overflow = Overflow::Saturate;
        self
    }
}

impl From<RoundingMode> for Rounding {
    fn from(mode: RoundingMode) -> Rounding {
        Rounding::new(mode)
    }
}
