//! Runtime CPU dispatch for block quantisation's passes: the same task body compiled for
//! AVX-512, AVX2 and the baseline, chosen per task.
//!
//! This module is the block module's only `unsafe`, for two reasons. As in
//! [`crate::fast::isa`]'s dispatch, calling a `#[target_feature]` function is unsafe because
//! running instructions the CPU lacks is undefined behaviour, and each call below is guarded by
//! `is_x86_feature_detected!` for exactly the features the callee enables; the features let
//! the compiler vectorise the per-element passes (64-bit integer compares, selects and
//! conversions, which the x86-64 baseline does not have: built for the baseline, pass 2 was a
//! scalar loop of about 60 instructions per element). Everything [`Plan::task_fast`] runs per
//! element is `#[inline(always)]`, so it is compiled into these functions. And the grid path's
//! AVX-512 kernels ([`x86::round_grid`], [`x86::round_grid_sr`]) load and store through raw
//! pointers, within bounds each states; the portable loops they replace
//! ([`Scaled::round`], [`Scaled::round_sr`]) are the reference the tests hold them to.
#![allow(unsafe_code)]

use super::grid::{SR_CAP, SR_MARGIN, Scaled, TWO52};
use super::{GridKernels, Plan, Task, max_finite_abs as max_portable};
use crate::rng;

/// The grid path's portable roundings as closures, written where they are used so that they
/// are compiled with the enclosing function's target features (as function items or pointers,
/// or closures defined elsewhere, they were calls to baseline code: AVX2 `sr` at half the
/// speed of the engine it replaces).
macro_rules! portable {
    ($sr_grid:expr) => {
        GridKernels {
            sr_grid: $sr_grid,
            round: |g: &Scaled, xs: &[f64], codes: &mut [u8], vs: &mut [f64]| {
                g.round(xs, codes, vs)
            },
            sr: |g: &Scaled, xs: &[f64], codes: &mut [u8], vs: &mut [f64], state| {
                g.round_sr(xs, codes, vs, state)
            },
        }
    };
}

/// [`Plan::task_fast`] compiled for the best instruction set of this CPU.
pub(super) fn task(plan: &Plan, work: &[f64], t: Task<'_>) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        if x86::has_avx512() {
            // SAFETY: the CPU has every feature `x86::avx512` enables (checked just above).
            return unsafe { x86::avx512(plan, work, t) };
        }
        if x86::has_avx2() {
            // SAFETY: the CPU has every feature `x86::avx2` enables (checked just above).
            return unsafe { x86::avx2(plan, work, t) };
        }
    }
    plan.task_fast(work, t, portable!(true))
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

/// [`GridKernels::apply`] with the kernels the grid path uses on this CPU (for the tests).
#[cfg(test)]
pub(super) fn apply_grid(
    g: &Scaled,
    xs: &[f64],
    codes: &mut [u8],
    vs: &mut [f64],
    state: u64,
) -> Option<u64> {
    #[cfg(target_arch = "x86_64")]
    {
        if x86::has_avx512() {
            // SAFETY: the CPU has every feature `x86::round_grid` and `x86::round_grid_sr`
            // enable (checked just above).
            return unsafe {
                match g.inv_steps {
                    Some(_) => x86::round_grid_sr(g, xs, codes, vs, state),
                    None => {
                        x86::round_grid(g, xs, codes, vs);
                        Some(0)
                    }
                }
            };
        }
    }
    portable!(true).apply(g, xs, codes, vs, state)
}

/// [`GridKernels::apply`] with the portable roundings (for the tests).
#[cfg(test)]
pub(super) fn apply_portable(
    g: &Scaled,
    xs: &[f64],
    codes: &mut [u8],
    vs: &mut [f64],
    state: u64,
) -> Option<u64> {
    portable!(true).apply(g, xs, codes, vs, state)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::*;
    pub(super) use crate::fast::{has_avx2, has_avx512};

    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi2")]
    pub fn avx512(plan: &Plan, work: &[f64], t: Task<'_>) -> usize {
        let kernels = GridKernels {
            sr_grid: true,
            round: |g: &Scaled, xs: &[f64], codes: &mut [u8], vs: &mut [f64]| {
                round_grid(g, xs, codes, vs)
            },
            sr: |g: &Scaled, xs: &[f64], codes: &mut [u8], vs: &mut [f64], state| {
                round_grid_sr(g, xs, codes, vs, state)
            },
        };
        plan.task_fast(work, t, kernels)
    }

    #[target_feature(enable = "avx2,bmi2")]
    pub fn avx2(plan: &Plan, work: &[f64], t: Task<'_>) -> usize {
        plan.task_fast(work, t, portable!(false))
    }

    /// [`Scaled::round`] in AVX-512, eight elements per iteration: the magnitude index k by a
    /// binary search of the boundaries held in one register (three compares, two permutes),
    /// the value v_k · S by a third permute; the elements past the last multiple of eight by
    /// the portable loop. Where the portable loop (seven compares, counts and selects) kept
    /// its sixteen broadcast constants on the stack, this needs five registers.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi2")]
    pub fn round_grid(g: &Scaled, xs: &[f64], codes: &mut [u8], vs: &mut [f64]) {
        use std::arch::x86_64::*;
        let n = xs.len().min(codes.len()).min(vs.len()) / 8 * 8;
        // SAFETY: `bounds` and `values` are arrays of eight f64; each load and store below
        // reads or writes eight elements at j + 8 ≤ n, within all three slices.
        let (t, v) = unsafe {
            (
                _mm512_loadu_pd(g.bounds.as_ptr()),
                _mm512_castpd_si512(_mm512_loadu_pd(g.values.as_ptr())),
            )
        };
        let lane = _mm512_set1_epi64;
        let (one, two, four) = (lane(1), lane(2), lane(4));
        let middle = _mm512_permutexvar_pd(lane(3), t);
        let sign = lane(i64::MIN);
        let (to_code, code_sign) = (lane(63 - g.sign_shift as i64), lane(1 << g.sign_shift));
        let past = |a, b| _mm512_cmp_pd_mask::<_CMP_GT_OQ>(a, b);
        for j in (0..n).step_by(8) {
            // SAFETY: see above.
            let x = unsafe { _mm512_loadu_pd(xs.as_ptr().add(j)) };
            let a = _mm512_abs_pd(x);
            // k = #{i < 7 : a > bounds[i]}: 4 if past bounds[3]; then 2 more if past
            // bounds[k + 1]; then 1 more if past bounds[k].
            let k = _mm512_maskz_mov_epi64(past(a, middle), four);
            let m = past(a, _mm512_permutexvar_pd(_mm512_or_si512(k, one), t));
            let k = _mm512_mask_add_epi64(k, m, k, two);
            let m = past(a, _mm512_permutexvar_pd(k, t));
            let k = _mm512_mask_add_epi64(k, m, k, one);
            let xb = _mm512_castpd_si512(x);
            // value | (x & sign), k | ((x >> (63 − shift)) & sign bit): A | (B & C).
            let value = _mm512_ternarylogic_epi64::<0xF8>(_mm512_permutexvar_epi64(k, v), xb, sign);
            let code =
                _mm512_ternarylogic_epi64::<0xF8>(k, _mm512_srlv_epi64(xb, to_code), code_sign);
            // SAFETY: see above.
            unsafe {
                _mm_storel_epi64(codes.as_mut_ptr().add(j).cast(), _mm512_cvtepi64_epi8(code));
                _mm512_storeu_si512(vs.as_mut_ptr().add(j).cast(), value);
            }
        }
        g.round(&xs[n..], &mut codes[n..], &mut vs[n..]);
    }

    /// [`Scaled::round_sr`] in AVX-512, eight elements per iteration: k by the binary search
    /// of [`round_grid`], v_k · S and 2^52 / (step · S) by permutes, the words by SplitMix64
    /// in vector registers, the elements past the last multiple of eight by the portable loop.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi2")]
    pub fn round_grid_sr(
        g: &Scaled,
        xs: &[f64],
        codes: &mut [u8],
        vs: &mut [f64],
        state: u64,
    ) -> Option<u64> {
        use std::arch::x86_64::*;
        let n = xs.len().min(codes.len()).min(vs.len()) / 8 * 8;
        let inv_steps = g.inv_steps.unwrap_or_default();
        // SAFETY: `bounds`, `values` and `inv_steps` are arrays of eight f64; each load and
        // store below reads or writes eight elements at j + 8 ≤ n, within all three slices.
        let (t, v, inv) = unsafe {
            (
                _mm512_loadu_pd(g.bounds.as_ptr()),
                _mm512_loadu_pd(g.values.as_ptr()),
                _mm512_loadu_pd(inv_steps.as_ptr()),
            )
        };
        let lane = _mm512_set1_epi64;
        let (one, two, four) = (lane(1), lane(2), lane(4));
        let middle = _mm512_permutexvar_pd(lane(3), t);
        let sign = lane(i64::MIN);
        let (to_code, code_sign) = (lane(63 - g.sign_shift as i64), lane(1 << g.sign_shift));
        let top = lane(g.top as i64);
        let (cap, margin) = (_mm512_set1_pd(SR_CAP), _mm512_set1_pd(SR_MARGIN));
        let two52 = _mm512_set1_pd(TWO52);
        let past = |a, b| _mm512_cmp_pd_mask::<_CMP_GT_OQ>(a, b);
        // The states of words j … j + 7, stepped by 8 · GAMMA (wrapping, as `rng::advance`).
        let gamma = rng::advance(0, 1) as i64;
        let mut states = _mm512_add_epi64(
            lane(state as i64),
            _mm512_mullo_epi64(_mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7), lane(gamma)),
        );
        let stride = lane(gamma.wrapping_mul(8));
        let (m1, m2) = (
            lane(0xBF58_476D_1CE4_E5B9u64 as i64),
            lane(0x94D0_49BB_1331_11EBu64 as i64),
        );
        let (mut over, mut undecided) = (_mm512_setzero_si512(), 0u8);
        for j in (0..n).step_by(8) {
            // SAFETY: see above.
            let x = unsafe { _mm512_loadu_pd(xs.as_ptr().add(j)) };
            let a = _mm512_abs_pd(x);
            let k = _mm512_maskz_mov_epi64(past(a, middle), four);
            let m = past(a, _mm512_permutexvar_pd(_mm512_or_si512(k, one), t));
            let k = _mm512_mask_add_epi64(k, m, k, two);
            let m = past(a, _mm512_permutexvar_pd(k, t));
            let k = _mm512_mask_add_epi64(k, m, k, one);
            let lo = _mm512_permutexvar_pd(k, v);
            let z = _mm512_min_pd(
                _mm512_mul_pd(_mm512_sub_pd(a, lo), _mm512_permutexvar_pd(k, inv)),
                cap,
            );
            // rng::mix of each lane's state.
            let mut w = states;
            w = _mm512_mullo_epi64(_mm512_xor_si512(w, _mm512_srli_epi64::<30>(w)), m1);
            w = _mm512_mullo_epi64(_mm512_xor_si512(w, _mm512_srli_epi64::<27>(w)), m2);
            w = _mm512_xor_si512(w, _mm512_srli_epi64::<31>(w));
            states = _mm512_add_epi64(states, stride);
            // grid::word_top: the word's top 52 bits, exactly.
            let top52 = _mm512_or_si512(_mm512_srli_epi64::<12>(w), _mm512_castpd_si512(two52));
            let wf = _mm512_sub_pd(_mm512_castsi512_pd(top52), two52);
            let d = _mm512_abs_pd(_mm512_sub_pd(z, wf));
            undecided |= _mm512_cmp_pd_mask::<_CMP_LE_OQ>(d, margin);
            let up = past(z, wf);
            let k = _mm512_mask_add_epi64(k, up, k, one);
            over = _mm512_mask_add_epi64(over, _mm512_cmpgt_epu64_mask(k, top), over, one);
            let k = _mm512_min_epu64(k, top);
            let xb = _mm512_castpd_si512(x);
            let value = _mm512_castpd_si512(_mm512_permutexvar_pd(k, v));
            let value = _mm512_ternarylogic_epi64::<0xF8>(value, xb, sign);
            let code =
                _mm512_ternarylogic_epi64::<0xF8>(k, _mm512_srlv_epi64(xb, to_code), code_sign);
            // SAFETY: see above.
            unsafe {
                _mm_storel_epi64(codes.as_mut_ptr().add(j).cast(), _mm512_cvtepi64_epi8(code));
                _mm512_storeu_si512(vs.as_mut_ptr().add(j).cast(), value);
            }
        }
        let tail = g.round_sr(
            &xs[n..],
            &mut codes[n..],
            &mut vs[n..],
            rng::advance(state, n as u64),
        )?;
        (undecided == 0).then(|| _mm512_reduce_add_epi64(over) as u64 + tail)
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
