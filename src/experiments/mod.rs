//! The experiment kinds that recipes can name.

mod rounding_error;

use crate::exp::Experiment;

/// Every experiment kind.
pub fn all() -> Vec<&'static dyn Experiment> {
    vec![&rounding_error::RoundingError]
}
