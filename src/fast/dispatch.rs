//! Runtime CPU dispatch: the same element loop compiled for AVX-512, AVX2 and the baseline,
//! chosen per call.
//!
//! This module and `block::simd` (the same dispatch for block quantisation) hold the crate's
//! only `unsafe` besides `fast::split`'s SSE2 intrinsics: calling a `#[target_feature]`
//! function is unsafe because running instructions the CPU lacks is undefined behaviour. Each
//! call below is guarded by `is_x86_feature_detected!` (through [`level`], read once) for
//! exactly the features the callee enables. The loops themselves are safe code; the feature
//! attributes only let the compiler vectorise them with per-lane variable shifts (AVX2) and
//! 64-bit multiplies and masks (AVX-512), which the x86-64 baseline does not have (issue #4
//! measured a scalar e4m3 loop built for the baseline at 0.27× the copy speed, and at the
//! copy's speed built for AVX-512).
#![allow(unsafe_code)]

use super::Lane;
use super::kernel::{
    Kernel, Mode, element, finite_element, is_finite_bits, ordinary_element, rne_finite_element,
};
use crate::rng;
use std::sync::OnceLock;

/// Elements per block: the loops check a whole block for [`Ordinary::is_ordinary`] and round it
/// with [`ordinary_element`] when every element is. One AVX-512 vector of f64 for the
/// deterministic modes (fewer mixed blocks); two for the stochastic ones, whose generator's
/// long multiply latency wants two independent vectors in flight (measured in-cache with
/// AVX-512: rne 3.0 G values/s with 8, 2.5 with 16; sr 1.15 with 8, 1.45 with 16).
const fn block_len<M: Mode>() -> usize {
    if M::RANDOM { 16 } else { 8 }
}

/// Rounds the elements of `src` into `dst` (equal lengths): a block of ordinary elements by
/// [`ordinary_element`], a block of finite ones by [`finite_element`] (under `rne`, by
/// [`rne_finite_element`]) where the kernel allows it, any other (and a shorter tail) by
/// [`element`]; element j draws the word at
/// [`rng::advance`]`(state, j)`. Whether any element was rare (left holding its input, for the
/// caller to round with the core).
#[inline(always)]
fn block<M: Mode, T: Lane, const BLOCK: usize>(
    k: &Kernel,
    state: u64,
    src: &[T],
    dst: &mut [T],
) -> bool {
    let word = |j: usize| {
        if M::RANDOM {
            rng::mix(rng::advance(state, j as u64))
        } else {
            0
        }
    };
    if src.len() == BLOCK
        && src.iter().fold(true, |all, x| {
            all & k.ordinary().is_ordinary_bits(x.to_f64_bits())
        })
    {
        for (j, (x, y)) in src.iter().zip(dst.iter_mut()).enumerate() {
            *y = T::from_f64_bits(ordinary_element::<M>(k, x.to_f64_bits(), word(j)));
        }
        return false;
    }
    let mut rare = false;
    if k.has_finite_tier()
        && src.len() == BLOCK
        && src
            .iter()
            .fold(true, |all, x| all & is_finite_bits(x.to_f64_bits()))
    {
        if M::NEAREST_EVEN && k.has_rne_shift() {
            for (x, y) in src.iter().zip(dst.iter_mut()) {
                *y = T::from_f64_bits(rne_finite_element(k, x.to_f64_bits()));
            }
            return false;
        }
        // (The deterministic modes keep one loop: with the second, the compiler scalarised
        // some of them, `rto` and `rna` to a fifth of their speed.)
        return if M::RANDOM && k.zero_keeps_sign() {
            finite_block::<M, T, true>(k, &word, src, dst)
        } else {
            finite_block::<M, T, false>(k, &word, src, dst)
        };
    }
    for (j, (x, y)) in src.iter().zip(dst.iter_mut()).enumerate() {
        let (bits, r) = element::<M>(k, x.to_f64_bits(), word(j));
        *y = T::from_f64_bits(bits);
        rare |= r;
    }
    rare
}

/// A block of finite elements by [`finite_element`]; whether any was rare.
#[inline(always)]
fn finite_block<M: Mode, T: Lane, const ZERO_SIGNED: bool>(
    k: &Kernel,
    word: &impl Fn(usize) -> u64,
    src: &[T],
    dst: &mut [T],
) -> bool {
    let mut rare = false;
    for (j, (x, y)) in src.iter().zip(dst.iter_mut()).enumerate() {
        let (bits, r) = finite_element::<M, ZERO_SIGNED>(k, x.to_f64_bits(), word(j));
        *y = T::from_f64_bits(bits);
        rare |= r;
    }
    rare
}

/// Keeps the loop vectoriser off the loop over blocks, whose body (a block's elements, the
/// inner loops unrolled) is already vectorised: where that body is small (`rtz`), it vectorised
/// the outer loop instead, across blocks, each element a gather and a scatter, and `rtz` ran at
/// 0.17–0.19× the copy. A compiler fence is such a barrier and emits no instruction.
#[inline(always)]
fn one_block_at_a_time() {
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

/// Rounds `xs` in place; element j draws `word(key, first + j)`. Whether any element was rare
/// (left holding its input, for the caller to round with the core).
#[inline(always)]
fn in_place<M: Mode, T: Lane>(k: &Kernel, key: u64, first: u64, xs: &mut [T]) -> bool {
    match block_len::<M>() {
        16 => in_place_blocks::<M, T, 16>(k, key, first, xs),
        _ => in_place_blocks::<M, T, 8>(k, key, first, xs),
    }
}

#[inline(always)]
fn in_place_blocks<M: Mode, T: Lane, const BLOCK: usize>(
    k: &Kernel,
    key: u64,
    first: u64,
    xs: &mut [T],
) -> bool {
    // A local copy keeps the constants in registers: read through the reference, a select
    // between two per-sign constants became a gather.
    let k = &{ *k };
    let (blocks, tail) = xs.as_chunks_mut::<BLOCK>();
    let mut rare = false;
    let mut state = rng::state(key, first);
    for b in blocks {
        let src = *b;
        rare |= block::<M, T, BLOCK>(k, state, &src, b);
        state = rng::advance(state, BLOCK as u64);
        one_block_at_a_time();
    }
    let mut src = [T::from_f64_bits(0); BLOCK];
    let src = &mut src[..tail.len()];
    src.copy_from_slice(tail);
    rare | block::<M, T, BLOCK>(k, state, src, tail)
}

/// Rounds `src` into `dst` (equal lengths), as [`in_place`].
#[inline(always)]
fn into<M: Mode, T: Lane>(k: &Kernel, key: u64, first: u64, src: &[T], dst: &mut [T]) -> bool {
    match block_len::<M>() {
        16 => into_blocks::<M, T, 16>(k, key, first, src, dst),
        _ => into_blocks::<M, T, 8>(k, key, first, src, dst),
    }
}

#[inline(always)]
fn into_blocks<M: Mode, T: Lane, const BLOCK: usize>(
    k: &Kernel,
    key: u64,
    first: u64,
    src: &[T],
    dst: &mut [T],
) -> bool {
    let k = &{ *k }; // see `in_place_blocks`
    let (s_blocks, s_tail) = src.as_chunks::<BLOCK>();
    let (d_blocks, d_tail) = dst.as_chunks_mut::<BLOCK>();
    let mut rare = false;
    let mut state = rng::state(key, first);
    for (s, d) in s_blocks.iter().zip(d_blocks) {
        rare |= block::<M, T, BLOCK>(k, state, s, d);
        state = rng::advance(state, BLOCK as u64);
        one_block_at_a_time();
    }
    rare | block::<M, T, BLOCK>(k, state, s_tail, d_tail)
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

    /// Whether the CPU has every feature the AVX-512 variants enable.
    pub fn cpu_has_avx512() -> bool {
        is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("bmi2")
    }

    /// Whether the CPU has every feature the AVX2 variants enable.
    pub fn cpu_has_avx2() -> bool {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("bmi2")
    }
}

/// The instruction sets the loops are compiled for, in increasing order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Isa {
    Baseline,
    Avx2,
    Avx512,
}

impl Isa {
    const ALL: [(Isa, &'static str); 3] = [
        (Isa::Baseline, "baseline"),
        (Isa::Avx2, "avx2"),
        (Isa::Avx512, "avx512"),
    ];

    fn name(self) -> &'static str {
        Isa::ALL[self as usize].1
    }
}

/// The environment variable that caps the instruction set, to measure and test the other
/// variants on a CPU that has a better one.
pub const ISA_VARIABLE: &str = "ANYFLOAT_ISA";

/// The cap `ANYFLOAT_ISA` asks for: `None` when unset; an error naming the value when it is
/// not `baseline`, `avx2` or `avx512`.
pub fn isa_request() -> std::result::Result<Option<&'static str>, String> {
    requested_isa().map(|isa| isa.map(Isa::name))
}

/// [`isa_request`] as an [`Isa`].
fn requested_isa() -> std::result::Result<Option<Isa>, String> {
    let Some(v) = std::env::var_os(ISA_VARIABLE) else {
        return Ok(None);
    };
    Isa::ALL
        .iter()
        .find(|(_, name)| v.to_str() == Some(*name))
        .map(|&(isa, _)| Some(isa))
        .ok_or_else(|| {
            format!(
                "{ISA_VARIABLE}={}: expected baseline, avx2 or avx512",
                v.to_string_lossy()
            )
        })
}

/// The instruction set the loops run with, read once: the best this CPU has, capped by
/// `ANYFLOAT_ISA` (a request above what the CPU has, or an unknown value, leaves it there).
fn level() -> Isa {
    static LEVEL: OnceLock<Isa> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        let cpu = if x86::cpu_has_avx512() {
            Isa::Avx512
        } else if x86::cpu_has_avx2() {
            Isa::Avx2
        } else {
            Isa::Baseline
        };
        #[cfg(not(target_arch = "x86_64"))]
        let cpu = Isa::Baseline;
        cpu.min(requested_isa().ok().flatten().unwrap_or(Isa::Avx512))
    })
}

/// Whether the AVX-512 variants run: the CPU has every feature they enable ([`level`] is at
/// most what it has), and `ANYFLOAT_ISA` allows them.
#[cfg(target_arch = "x86_64")]
pub(crate) fn has_avx512() -> bool {
    level() >= Isa::Avx512
}

/// Whether the AVX2 variants run (see [`has_avx512`]).
#[cfg(target_arch = "x86_64")]
pub(crate) fn has_avx2() -> bool {
    level() >= Isa::Avx2
}

/// The instruction set the loops run with: `avx512`, `avx2` or `baseline` (the best this CPU
/// has, unless `ANYFLOAT_ISA` asks for less).
pub fn isa() -> &'static str {
    level().name()
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
        if has_avx512() {
            // SAFETY: the CPU has every feature `in_place_avx512` enables (checked just above).
            return unsafe { x86::in_place_avx512::<M, T>(k, key, first, xs) };
        }
        if has_avx2() {
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
        if has_avx512() {
            // SAFETY: the CPU has every feature `into_avx512` enables (checked just above).
            return unsafe { x86::into_avx512::<M, T>(k, key, first, src, dst) };
        }
        if has_avx2() {
            // SAFETY: the CPU has every feature `into_avx2` enables (checked just above).
            return unsafe { x86::into_avx2::<M, T>(k, key, first, src, dst) };
        }
    }
    into::<M, T>(k, key, first, src, dst)
}
