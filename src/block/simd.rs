//! Runtime CPU dispatch for block quantisation's passes: the same task body compiled for
//! AVX-512, AVX2 and the baseline, chosen per task.
//!
//! This module is the block module's only `unsafe`, for the same reason as
//! [`crate::fast::isa`]'s dispatch: calling a `#[target_feature]` function is unsafe because
//! running instructions the CPU lacks is undefined behaviour, and each call below is guarded by
//! `is_x86_feature_detected!` for exactly the features the callee enables. The code it runs is
//! safe; the features let the compiler vectorise the per-element passes (64-bit integer
//! compares, selects and conversions, which the x86-64 baseline does not have: built for the
//! baseline, pass 2 was a scalar loop of about 60 instructions per element). Everything
//! [`Plan::task_fast`] runs per element is `#[inline(always)]`, so it is compiled into these
//! functions.
#![allow(unsafe_code)]

use super::engine::Engine;
use super::{Plan, Task, max_finite_abs as max_portable};

/// [`Plan::task_fast`] compiled for the best instruction set of this CPU.
pub(super) fn task(plan: &Plan, engine: &Engine, work: &[f64], t: Task<'_>) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        if x86::has_avx512() {
            // SAFETY: the CPU has every feature `x86::avx512` enables (checked just above).
            return unsafe { x86::avx512(plan, engine, work, t) };
        }
        if x86::has_avx2() {
            // SAFETY: the CPU has every feature `x86::avx2` enables (checked just above).
            return unsafe { x86::avx2(plan, engine, work, t) };
        }
    }
    plan.task_fast(engine, work, t)
}

/// [`super::max_finite_abs`] compiled for the best instruction set of this CPU (built for the
/// baseline it runs on two lanes: 12 % of an in-cache NVFP4 quantisation with one thread).
pub(super) fn max_finite_abs(xs: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if x86::has_avx512() {
            // SAFETY: the CPU has every feature `x86::max_avx512` enables (checked just above).
            return unsafe { x86::max_avx512(xs) };
        }
        if x86::has_avx2() {
            // SAFETY: the CPU has every feature `x86::max_avx2` enables (checked just above).
            return unsafe { x86::max_avx2(xs) };
        }
    }
    max_portable(xs)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::*;
    pub(super) use crate::fast::{has_avx2, has_avx512};

    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi2")]
    pub fn avx512(plan: &Plan, engine: &Engine, work: &[f64], t: Task<'_>) -> usize {
        plan.task_fast(engine, work, t)
    }

    #[target_feature(enable = "avx2,bmi2")]
    pub fn avx2(plan: &Plan, engine: &Engine, work: &[f64], t: Task<'_>) -> usize {
        plan.task_fast(engine, work, t)
    }

    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi2")]
    pub fn max_avx512(xs: &[f64]) -> f64 {
        max_portable(xs)
    }

    #[target_feature(enable = "avx2,bmi2")]
    pub fn max_avx2(xs: &[f64]) -> f64 {
        max_portable(xs)
    }
}
