//! IEEE 754 exception flags, and results that carry them.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// A set of IEEE 754 exception flags.
///
/// The bit layout is Berkeley TestFloat's flags byte, so `flags.bits()` is what a test-vector
/// line carries: bit 0 inexact, 1 underflow, 2 overflow, 3 infinite (divide by zero), 4 invalid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flags(u8);

impl Flags {
    /// No exception.
    pub const NONE: Flags = Flags(0);
    /// The delivered result differs from the exact result.
    pub const INEXACT: Flags = Flags(1);
    /// The result is tiny (below the smallest normal) and inexact.
    pub const UNDERFLOW: Flags = Flags(2);
    /// The rounded result (with unbounded exponent) exceeds the largest finite value.
    pub const OVERFLOW: Flags = Flags(4);
    /// An exact infinite result from finite operands (division by zero, log(0)).
    pub const DIV_BY_ZERO: Flags = Flags(8);
    /// No useful result is defined (0·∞, ∞−∞, sqrt(−1), a signaling NaN operand).
    pub const INVALID: Flags = Flags(16);

    const NAMES: [(Flags, &'static str); 5] = [
        (Flags::INEXACT, "inexact"),
        (Flags::UNDERFLOW, "underflow"),
        (Flags::OVERFLOW, "overflow"),
        (Flags::DIV_BY_ZERO, "divbyzero"),
        (Flags::INVALID, "invalid"),
    ];

    /// The TestFloat flags byte.
    pub const fn bits(self) -> u8 {
        self.0
    }
    /// Flags from a TestFloat flags byte; bits above bit 4 are rejected.
    pub fn from_bits(bits: u8) -> Option<Flags> {
        (bits < 32).then_some(Flags(bits))
    }
    /// Whether every flag in `other` is set here.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
    /// Whether no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Flags) {
        self.0 |= rhs.0;
    }
}

impl fmt::Display for Flags {
    /// Names joined by `|` (`inexact|underflow`), or `-` when empty: one CSV-safe token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("-");
        }
        let names: Vec<&str> = Flags::NAMES
            .iter()
            .filter(|(flag, _)| self.contains(*flag))
            .map(|(_, name)| *name)
            .collect();
        f.write_str(&names.join("|"))
    }
}

/// A result together with the exception flags its computation raised.
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Flagged<T> {
    /// The result (for rounding and arithmetic: the code of the result in its format).
    pub value: T,
    /// The exceptions raised.
    pub flags: Flags,
}

impl<T> Flagged<T> {
    /// Pairs a value with flags.
    pub fn new(value: T, flags: Flags) -> Self {
        Flagged { value, flags }
    }
    /// A value that raised no exception.
    pub fn exact(value: T) -> Self {
        Flagged {
            value,
            flags: Flags::NONE,
        }
    }
    /// Adds the flags of an earlier step.
    pub fn with(mut self, flags: Flags) -> Self {
        self.flags |= flags;
        self
    }
}
