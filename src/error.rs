//! The library's error type: every failure names the input and says what was expected.

use std::fmt;

/// What went wrong, with the offending input and the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A format name that is malformed or describes an impossible format.
    Format {
        /// The name as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A number (decimal, hex-float, hex code or integer) that cannot be parsed.
    Value {
        /// The text as given.
        input: String,
        /// What was expected.
        reason: String,
    },
    /// A rounding-mode name that is not recognised.
    Rounding {
        /// The name as given.
        input: String,
    },
    /// Any other invalid argument (an operation name, a size, an option combination).
    Invalid(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Format { input, reason } => write!(
                f,
                "invalid format {input:?}: {reason}\n{}",
                crate::format::NAME_GRAMMAR
            ),
            Error::Value { input, reason } => write!(f, "invalid value {input:?}: {reason}"),
            Error::Rounding { input } => write!(
                f,
                "invalid rounding mode {input:?}: expected one of {}",
                crate::mode::MODE_NAMES
            ),
            Error::Invalid(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for results whose error is [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
