//! Runtime CPU dispatch: the same element loop compiled for AVX-512, AVX2 and the baseline,
//! chosen per call.
//!
//! This is the crate's only `unsafe`: calling a `#[target_feature]` function is unsafe
//! because running instructions the CPU lacks is undefined behaviour. Each call below is
//! guarded by `is_x86_feature_detected!` for exactly the features the callee enables. The
//! loops themselves are safe code; the feature attributes only let the compiler vectorise them
//! with per-lane variable shifts (AVX2) and 64-bit multiplies and masks (AVX-512), which the
//! x86-64 baseline does not have (issue #4 measured a scalar e4m3 loop built for the baseline
//! at 0.27× the copy speed, and at the copy's speed built for AVX-512).
#![allow(unsafe_code)]

use super::Lane;
use super::kernel::{Kernel, Mode, element};
use crate::rng;

/// Rounds `xs` in place; element j draws `word(key, first + j)`. Whether any element was rare
/// (left unchanged for the caller to round with the core).
#[inline(always)]
fn in_place<M: Mode, T: Lane>(k: &Kernel, key: u64, first: u64, xs: &mut [T]) -> bool {
    // A local copy keeps the constants in registers: read through the reference, a select
    // between two per-sign constants became a gather.
    let k = &{ *k };
    let mut rare = false;
    for (j, x) in xs.iter_mut().enumerate() {
        let w = if M::RANDOM {
            rng::word(key, first + j as u64)
        } else {
            0
        };
        let (y, r) = element::<M>(k, x.to_f64_bits(), w);
        *x = T::from_f64_bits(y);
        rare |= r;
    }
    rare
}

/// Rounds `src` into `dst` (equal lengths), as [`in_place`].
#[inline(always)]
fn into<M: Mode, T: Lane>(k: &Kernel, key: u64, first: u64, src: &[T], dst: &mut [T]) -> bool {
    let k = &{ *k }; // see `in_place`
    let mut rare = false;
    for (j, (x, out)) in src.iter().zip(dst.iter_mut()).enumerate() {
        let w = if M::RANDOM {
            rng::word(key, first + j as u64)
        } else {
            0
        };
        let (y, r) = element::<M>(k, x.to_f64_bits(), w);
        *out = T::from_f64_bits(y);
        rare |= r;
    }
    rare
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::*;

    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi2")]
    pub fn in_place_avx512<M: Mode, T: Lane>(k: &Kernel, key: u64, f: u64, xs: &mut [T]) -> bool {
        in_place::<M, T>(k, key, f, xs)
    }

    #[target_feature(enable = "avx2,bmi2")]
    pub fn in_place_avx2<M: Mode, T: Lane>(k: &Kernel, key: u64, f: u64, xs: &mut [T]) -> bool {
        in_place::<M, T>(k, key, f, xs)
    }

    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi2")]
    pub fn into_avx512<M: Mode, T: Lane>(
        k: &Kernel,
        key: u64,
        f: u64,
        src: &[T],
        dst: &mut [T],
    ) -> bool {
        into::<M, T>(k, key, f, src, dst)
    }

    #[target_feature(enable = "avx2,bmi2")]
    pub fn into_avx2<M: Mode, T: Lane>(
        k: &Kernel,
        key: u64,
        f: u64,
        src: &[T],
        dst: &mut [T],
    ) -> bool {
        into::<M, T>(k, key, f, src, dst)
    }

    pub fn has_avx512() -> bool {
        is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("bmi2")
    }

    pub fn has_avx2() -> bool {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("bmi2")
    }
}

/// The instruction set the loops run with on this CPU: `avx512`, `avx2` or `baseline`.
pub fn isa() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if x86::has_avx512() {
            return "avx512";
        }
        if x86::has_avx2() {
            return "avx2";
        }
    }
    "baseline"
}

/// [`in_place`] with the best instruction set of this CPU.
pub(super) fn run_in_place<M: Mode, T: Lane>(
    k: &Kernel,
    key: u64,
    first: u64,
    xs: &mut [T],
) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if x86::has_avx512() {
            // SAFETY: the CPU has every feature `in_place_avx512` enables (checked just above).
            return unsafe { x86::in_place_avx512::<M, T>(k, key, first, xs) };
        }
        if x86::has_avx2() {
            // SAFETY: the CPU has every feature `in_place_avx2` enables (checked just above).
            return unsafe { x86::in_place_avx2::<M, T>(k, key, first, xs) };
        }
    }
    in_place::<M, T>(k, key, first, xs)
}

/// [`into`] with the best instruction set of this CPU.
pub(super) fn run_into<M: Mode, T: Lane>(
    k: &Kernel,
    key: u64,
    first: u64,
    src: &[T],
    dst: &mut [T],
) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if x86::has_avx512() {
            // SAFETY: the CPU has every feature `into_avx512` enables (checked just above).
            return unsafe { x86::into_avx512::<M, T>(k, key, first, src, dst) };
        }
        if x86::has_avx2() {
            // SAFETY: the CPU has every feature `into_avx2` enables (checked just above).
            return unsafe { x86::into_avx2::<M, T>(k, key, first, src, dst) };
        }
    }
    into::<M, T>(k, key, first, src, dst)
}
