//! The experiment kinds that recipes can name.

mod block_scales;
pub mod climate;
mod exmy_sweep;
mod intrl;
mod lmul;
mod lorenz;
mod rounding_error;
mod shallow_water;
mod ulp_survey;

use crate::exp::Experiment;
use climate::Climate;

/// Every experiment kind.
pub fn all() -> Vec<&'static dyn Experiment> {
    vec![
        &rounding_error::RoundingError,
        &Climate(lorenz::L63),
        &Climate(lorenz::L96),
        &Climate(shallow_water::Sw),
        &intrl::IntRl,
        &block_scales::BlockScales,
        &exmy_sweep::ExmySweep,
        &lmul::Lmul,
        &ulp_survey::UlpSurvey,
    ]
}
