//! Models written once over [`crate::real::Real`], so they run in f64, any emulated format or
//! arbitrary precision.

pub mod dopri;
pub mod intrl;
pub mod lorenz;
pub mod ode;
pub mod riccati;
pub mod shallow_water;
