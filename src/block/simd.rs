//! Runtime CPU dispatch for block quantisation's passes: the same task body compiled for
//! AVX-512, AVX2 and the baseline, chosen per task.
//!
//! This module is the block module's only `unsafe`, for two reasons. As in
//! [`crate::fast::isa`]'s dispatch, calling a `#[target_feature]` function is unsafe because
//! running instructions the CPU lacks is undefined behaviour, and each such call below is
//! guarded by the CPU's detected features (`has_avx512`, `has_avx2`) for exactly the features
//! the callee enables; the features let
//! the compiler vectorise the per-element passes (64-bit integer compares, selects and
//! conversions, which the x86-64 baseline does not have: built for the baseline, pass 2 was a
//! scalar loop of about 60 instructions per element). Everything [`Plan::task_fast`] runs per
//! element is `#[inline(always)]`, so it is compiled into these functions. And the grid path's
//! AVX-512 kernels ([`x86::round_grid`], [`x86::round_grid_sr`], [`x86::max_abs_bits`]) use the
//! intrinsics and load and store through raw pointers, within bounds each states. They are
//! `#[inline(always)]` unsafe functions, not `#[target_feature]` ones (which cannot be inlined
//! always, and as one a kernel became a call per block), compiled into [`x86::avx512`]; only
//! [`x86::Avx512Grid`], whose values exist only on CPUs with the features, calls them. The
//! portable loops they replace ([`Scaled::round`], [`Scaled::round_sr`]) are the reference the
//! tests hold them to.
#![allow(unsafe_code)]

use super::grid::{SR_MARGIN, Scaled};
use super::{GridKernels, Plan, Task, max_finite_abs as max_portable};
use crate::rng;

/// The grid path's portable loops, compiled into each per-CPU copy of the task; `sr` for
/// elements of more than eight magnitudes where `WIDE`.
#[derive(Clone, Copy)]
pub(super) struct Portable<const WIDE: bool>;

impl<const WIDE: bool> GridKernels for Portable<WIDE> {
    #[inline(always)]
    fn round(self, g: &Scaled, xs: &[f64], codes: &mut [u8], vs: &mut [f64]) {
        g.round(xs, codes, vs)
    }

    #[inline(always)]
    fn round_sr(
        self,
        g: &Scaled,
        xs: &[f64],
        codes: &mut [u8],
        vs: &mut [f64],
        state: u64,
    ) -> Option<u64> {
        g.round_sr::<WIDE>(xs, codes, vs, state)
    }
}

/// [`Plan::task_fast`] compiled for the best instruction set of this CPU, and for the grid's
/// `sr` of wide elements (FP6, FP8) apart: compiled into the same copy, that loop made the
/// register allocator spill NVFP4's scaled boundaries, whose reload waited on the store (`rne`
/// 1.35 times the time).
pub(super) fn task(plan: &Plan, work: &[f64], t: Task<'_>) -> usize {
    match plan.grid.as_ref().is_some_and(|g| g.wide()) {
        true => task_for::<true>(plan, work, t),
        false => task_for::<false>(plan, work, t),
    }
}

fn task_for<const WIDE: bool>(plan: &Plan, work: &[f64], t: Task<'_>) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        if x86::has_avx512() {
            // SAFETY: the CPU has every feature `x86::avx512` enables (checked just above).
            return unsafe { x86::avx512::<WIDE>(plan, work, t) };
        }
        if x86::has_avx2() {
            // SAFETY: the CPU has every feature `x86::avx2` enables (checked just above).
            return unsafe { x86::avx2::<WIDE>(plan, work, t) };
        }
    }
    plan.task_fast(work, t, Portable::<WIDE>)
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

/// [`GridKernels::apply`] with the kernels the grid path uses on this CPU where `best`, else
/// with the portable loops (for the tests).
#[cfg(test)]
pub(super) fn apply_grid(
    best: bool,
    g: &Scaled,
    xs: &[f64],
    codes: &mut [u8],
    vs: &mut [f64],
    state: u64,
) -> Option<u64> {
    match g.wide() {
        true => apply_grid_for::<true>(best, g, xs, codes, vs, state),
        false => apply_grid_for::<false>(best, g, xs, codes, vs, state),
    }
}

#[cfg(test)]
fn apply_grid_for<const WIDE: bool>(
    best: bool,
    g: &Scaled,
    xs: &[f64],
    codes: &mut [u8],
    vs: &mut [f64],
    state: u64,
) -> Option<u64> {
    #[cfg(target_arch = "x86_64")]
    if best && x86::has_avx512() {
        // SAFETY: the CPU has every feature `x86::apply_avx512` enables (checked just above).
        return unsafe { x86::apply_avx512::<WIDE>(g, xs, codes, vs, state) };
    }
    Portable::<WIDE>.apply(g, xs, codes, vs, state)
}

/// [`GridKernels::max_abs_bits`] of the grid path on this CPU where `best`, else of the
/// portable loop (for the tests).
#[cfg(test)]
pub(super) fn max_abs_bits(best: bool, xs: &[f64]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if best && x86::has_avx512() {
        // SAFETY: the CPU has every feature `x86::max_abs_bits_avx512` enables (checked just
        // above).
        return unsafe { x86::max_abs_bits_avx512(xs) };
    }
    Portable::<false>.max_abs_bits(xs)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::*;
    pub(super) use crate::fast::{has_avx2, has_avx512};

    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi2")]
    pub fn avx512<const WIDE: bool>(plan: &Plan, work: &[f64], t: Task<'_>) -> usize {
        plan.task_fast(work, t, Avx512Grid::<WIDE>(()))
    }

    /// The AVX-512 grid kernels, [`round_grid`], [`round_grid_sr`] and [`max_abs_bits`]; a value
    /// exists only on a CPU that has every feature [`avx512`] enables, which they need (its
    /// field is private to this module; values are made only in functions that enable those
    /// features).
    #[derive(Clone, Copy)]
    pub struct Avx512Grid<const WIDE: bool>(());

    /// [`GridKernels::apply`] with the AVX-512 kernels, compiled with the features as they are
    /// in [`avx512`] (for the tests).
    #[cfg(test)]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi2")]
    pub fn apply_avx512<const WIDE: bool>(
        g: &Scaled,
        xs: &[f64],
        codes: &mut [u8],
        vs: &mut [f64],
        state: u64,
    ) -> Option<u64> {
        Avx512Grid::<WIDE>(()).apply(g, xs, codes, vs, state)
    }

    /// [`GridKernels::max_abs_bits`] with the AVX-512 kernel, compiled as in [`avx512`] (for
    /// the tests).
    #[cfg(test)]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi2")]
    pub fn max_abs_bits_avx512(xs: &[f64]) -> u64 {
        Avx512Grid::<false>(()).max_abs_bits(xs)
    }

    impl<const WIDE: bool> GridKernels for Avx512Grid<WIDE> {
        #[inline(always)]
        fn max_abs_bits(self, xs: &[f64]) -> u64 {
            // SAFETY: the CPU has every feature `max_abs_bits` needs (see `Avx512Grid`).
            unsafe { max_abs_bits(xs) }
        }

        #[inline(always)]
        fn round(self, g: &Scaled, xs: &[f64], codes: &mut [u8], vs: &mut [f64]) {
            // SAFETY: the CPU has every feature `round_grid` needs (see `Avx512Grid`).
            unsafe { round_grid(g, xs, codes, vs) }
        }

        #[inline(always)]
        fn round_sr(
            self,
            g: &Scaled,
            xs: &[f64],
            codes: &mut [u8],
            vs: &mut [f64],
            state: u64,
        ) -> Option<u64> {
            // SAFETY: the CPU has every feature `round_grid_sr` needs (see `Avx512Grid`).
            unsafe { round_grid_sr::<WIDE>(g, xs, codes, vs, state) }
        }
    }

    #[target_feature(enable = "avx2,bmi2")]
    pub fn avx2<const WIDE: bool>(plan: &Plan, work: &[f64], t: Task<'_>) -> usize {
        plan.task_fast(work, t, Portable::<WIDE>)
    }

    use std::arch::x86_64::*;

    /// A scaled grid in AVX-512 registers, and the steps the two kernels share.
    struct Lanes {
        /// The boundaries (lane 7: the overflow boundary, unused here) and magnitudes · S.
        bounds: __m512d,
        values: __m512d,
        /// bounds[3] in every lane: the binary search's first step.
        middle: __m512d,
        /// Shifts the sign of an f64 to the codes' sign bit, and that bit.
        to_code: __m512i,
        code_sign: __m512i,
    }

    impl Lanes {
        #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi2")]
        #[inline]
        fn new(g: &Scaled) -> Lanes {
            // SAFETY: `bounds` and `values` are arrays of eight f64.
            let (bounds, values) = unsafe {
                (
                    _mm512_loadu_pd(g.bounds.as_ptr()),
                    _mm512_loadu_pd(g.values.as_ptr()),
                )
            };
            let lane = _mm512_set1_epi64;
            Lanes {
                bounds,
                values,
                middle: _mm512_permutexvar_pd(lane(3), bounds),
                to_code: lane(63 - g.sign_shift as i64),
                code_sign: lane(1 << g.sign_shift),
            }
        }

        /// k = #{i < 7 : a > bounds[i]} for the magnitudes `a`: 4 if past bounds[3]; then 2
        /// more if past bounds[k + 1]; then 1 more if past bounds[k] (three compares, two
        /// permutes; lane 7 is never read).
        #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi2")]
        #[inline]
        fn index(&self, a: __m512d) -> __m512i {
            let lane = _mm512_set1_epi64;
            let past = |b| _mm512_cmp_pd_mask::<_CMP_GT_OQ>(a, b);
            let k = _mm512_maskz_mov_epi64(past(self.middle), lane(4));
            let m = past(_mm512_permutexvar_pd(
                _mm512_or_si512(k, lane(1)),
                self.bounds,
            ));
            let k = _mm512_mask_add_epi64(k, m, k, lane(2));
            let m = past(_mm512_permutexvar_pd(k, self.bounds));
            _mm512_mask_add_epi64(k, m, k, lane(1))
        }

        /// v_k · S for the magnitude indices `k` (of eight magnitudes at most).
        #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi2")]
        #[inline]
        fn value(&self, k: __m512i) -> __m512d {
            _mm512_permutexvar_pd(k, self.values)
        }

        /// Stores the codes and dequantised values of the elements `x` with magnitude indices
        /// `k` and values `value` (v_k · S) into `codes` and `vs`: value | (x & sign), code
        /// k | ((x >> (63 − shift)) & sign bit), both A | (B & C).
        #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi2")]
        #[inline]
        fn store(
            &self,
            k: __m512i,
            value: __m512d,
            x: __m512d,
            codes: &mut [u8; 8],
            vs: &mut [f64; 8],
        ) {
            let xb = _mm512_castpd_si512(x);
            let value = _mm512_castpd_si512(value);
            let value = _mm512_ternarylogic_epi64::<0xF8>(value, xb, _mm512_set1_epi64(i64::MIN));
            let shifted = _mm512_srlv_epi64(xb, self.to_code);
            let code = _mm512_ternarylogic_epi64::<0xF8>(k, shifted, self.code_sign);
            // SAFETY: `codes` and `vs` are arrays of eight elements.
            unsafe {
                _mm_storel_epi64(codes.as_mut_ptr().cast(), _mm512_cvtepi64_epi8(code));
                _mm512_storeu_si512(vs.as_mut_ptr().cast(), value);
            }
        }
    }

    /// [`crate::block::max_abs_bits`] eight lanes at a time: one maximum per lane, then across
    /// them.
    ///
    /// # Safety
    /// The CPU has every feature [`avx512`] enables.
    #[inline(always)]
    unsafe fn max_abs_bits(xs: &[f64]) -> u64 {
        let (eights, tail) = xs.as_chunks::<8>();
        // SAFETY: the caller's CPU has the features; each load reads an array of eight f64.
        let m = unsafe {
            let magnitude = _mm512_set1_epi64(i64::MAX);
            let mut m = _mm512_setzero_si512();
            for x in eights {
                let bits = _mm512_loadu_si512(x.as_ptr().cast());
                m = _mm512_max_epu64(m, _mm512_and_si512(bits, magnitude));
            }
            _mm512_reduce_max_epu64(m)
        };
        tail.iter().fold(m, |m, x| m.max(x.to_bits() & !(1 << 63)))
    }

    /// `xs`, `codes` and `vs` in arrays of eight, as long as all three last.
    fn eights<'a>(
        xs: &'a [f64],
        codes: &'a mut [u8],
        vs: &'a mut [f64],
    ) -> impl Iterator<Item = ((&'a [f64; 8], &'a mut [u8; 8]), &'a mut [f64; 8])> {
        (xs.as_chunks::<8>().0.iter())
            .zip(codes.as_chunks_mut::<8>().0.iter_mut())
            .zip(vs.as_chunks_mut::<8>().0.iter_mut())
    }

    /// [`Scaled::round`] in AVX-512, eight elements per iteration: the magnitude index k by a
    /// binary search of the boundaries held in one register ([`Lanes::index`]), the value
    /// v_k · S by a permute; the elements past the last multiple of eight by the portable
    /// loop. Where the portable loop (seven compares, counts and selects) kept its sixteen
    /// broadcast constants on the stack, this needs five registers.
    ///
    /// # Safety
    /// The CPU has every feature [`avx512`] enables.
    #[inline(always)]
    pub unsafe fn round_grid(g: &Scaled, xs: &[f64], codes: &mut [u8], vs: &mut [f64]) {
        // SAFETY: the caller's CPU has the features (see `Avx512Grid`).
        unsafe {
            let lanes = Lanes::new(g);
            let n = xs.len().min(codes.len()).min(vs.len()) / 8 * 8;
            for ((x, c), v) in eights(xs, codes, vs) {
                // SAFETY: `x` is an array of eight f64.
                let x = _mm512_loadu_pd(x.as_ptr());
                let k = lanes.index(_mm512_abs_pd(x));
                lanes.store(k, lanes.value(k), x, c, v);
            }
            g.round(&xs[n..], &mut codes[n..], &mut vs[n..]);
        }
    }

    /// [`Scaled::round_sr`] in AVX-512, eight elements per iteration: the lifted bits by a
    /// multiply and a masked add, the words by SplitMix64 in vector registers, the index by two
    /// adds and a shift, v_k · S by a permute; the elements past the last multiple of eight by
    /// the portable loop. (It replaced a binary search for the floor and a fraction computed
    /// from it: 45 instructions per eight elements, now 31.) Where `WIDE` (more than eight
    /// magnitudes: FP6, FP8), v_k from k as [`super::grid::SrScale::magnitude`] forms it, in
    /// five more.
    ///
    /// # Safety
    /// The CPU has every feature [`avx512`] enables.
    #[inline(always)]
    pub unsafe fn round_grid_sr<const WIDE: bool>(
        g: &Scaled,
        xs: &[f64],
        codes: &mut [u8],
        vs: &mut [f64],
        state: u64,
    ) -> Option<u64> {
        let sr = g.sr?;
        if WIDE != g.wide() {
            return None;
        }
        // SAFETY: the caller's CPU has the features (see `Avx512Grid`).
        unsafe {
            let n = xs.len().min(codes.len()).min(vs.len()) / 8 * 8;
            let lanes = Lanes::new(g);
            let lane = _mm512_set1_epi64;
            let inv_scale = _mm512_set1_pd(sr.inv_scale);
            let (min_normal, two52) = (_mm512_set1_pd(sr.min_normal), lane(1 << 52));
            let (f, word_shift) = (lane(sr.frac_bits as i64), lane(64 - sr.frac_bits as i64));
            let (frac, lift) = (lane((1 << sr.frac_bits) - 1), lane(sr.lift as i64));
            // (B + top: B is a multiple of 256, so the index serves as code and lane.)
            let top = lane((sr.bias + g.top) as i64);
            // (Index k + B shifted to k · 2^F + A: less B · 2^F − A.)
            let unbias = lane(((sr.bias << sr.frac_bits) - sr.zero) as i64);
            let min_normal_bits = lane(sr.min_normal.to_bits() as i64);
            let scale = _mm512_set1_pd(sr.scale);
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
            // (The overflows counted in a scalar register: the vector pipes are the busy ones.)
            let (mut over, mut nearest) = (0, lane(-1));
            for ((x, c), v) in eights(xs, codes, vs) {
                // SAFETY: `x` is an array of eight f64.
                let x = _mm512_loadu_pd(x.as_ptr());
                let a = _mm512_abs_pd(x);
                let y = _mm512_mul_pd(a, inv_scale);
                let sub = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(y, min_normal);
                let z = _mm512_castpd_si512(_mm512_mask_add_pd(y, sub, y, min_normal));
                // rng::mix of each lane's state, inverted: !(w ^ w >> 31) in one ternary logic.
                let mut w = states;
                w = _mm512_mullo_epi64(_mm512_xor_si512(w, _mm512_srli_epi64::<30>(w)), m1);
                w = _mm512_mullo_epi64(_mm512_xor_si512(w, _mm512_srli_epi64::<27>(w)), m2);
                let inverted = _mm512_ternarylogic_epi64::<0xC3>(w, _mm512_srli_epi64::<31>(w), w);
                states = _mm512_add_epi64(states, stride);
                let t = _mm512_add_epi64(
                    _mm512_mask_sub_epi64(z, sub, z, two52),
                    _mm512_srlv_epi64(inverted, word_shift),
                );
                let u = _mm512_add_epi64(t, lift);
                nearest = _mm512_min_epu64(nearest, _mm512_and_si512(u, frac));
                let k = _mm512_srlv_epi64(u, f);
                over += _mm512_cmpgt_epu64_mask(k, top).count_ones() as u64;
                let k = _mm512_min_epu64(k, top);
                let value = match WIDE {
                    // v_k from its lifted bits k · 2^F + A (`SrScale::magnitude`), times S.
                    true => {
                        let lifted = _mm512_sub_epi64(_mm512_sllv_epi64(k, f), unbias);
                        let sub = _mm512_cmplt_epu64_mask(lifted, min_normal_bits);
                        let bits = _mm512_mask_add_epi64(lifted, sub, lifted, two52);
                        let v = _mm512_castsi512_pd(bits);
                        _mm512_mul_pd(_mm512_mask_sub_pd(v, sub, v, min_normal), scale)
                    }
                    false => lanes.value(k),
                };
                lanes.store(k, value, x, c, v);
            }
            let tail = g.round_sr::<WIDE>(
                &xs[n..],
                &mut codes[n..],
                &mut vs[n..],
                rng::advance(state, n as u64),
            )?;
            (_mm512_reduce_min_epu64(nearest) > 2 * SR_MARGIN).then_some(over + tail)
        }
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
