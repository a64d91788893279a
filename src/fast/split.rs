//! Round-to-nearest-even of one f64 to fewer significand bits in the FP unit: `Emu`'s `rne`
//! rounding ([`super::Nudge::round`]), where operation chains wait on every rounding.
//!
//! For x with 2^e ≤ |x| < 2^(e+1), rounded to drop `s0 ≥ 1` of its 52 fraction bits: with
//! c = ±2^(e + s0) (x's sign), x + c lies in [2^(e+s0), 2^(e+s0+1)], where the f64 step is
//! 2^(e + s0 − 52), the format's step at x. So f64's own round-to-nearest-even rounds x to
//! the format's grid (c is an even multiple of the step, so a tie goes to the even kept part,
//! as the format's; a carry into the next binade gives exactly 2^(e+s0+1)), and subtracting c
//! is exact. Valid for |x| < 2^(1023 − s0) (the sum is at most 2^(e+s0+1), finite). It relies
//! on f64 arithmetic in the default rounding mode, round to nearest even, in which Rust code
//! always runs unless foreign code changes it (every value involved is normal, so flushing
//! subnormals would not matter), and rounded to f64 itself: on targets whose f64 arithmetic
//! uses x87 extended precision (i586) the portable version would round twice.
//!
//! c's bits are x's sign and exponent bits plus `s0 << 52` (the `offset`). Two dependent
//! integer operations and two FP ones: computed in general registers, the moves there and back
//! cost more than the rounding itself, so on x86-64 the integer operations run in the SSE2
//! register that holds x (SSE2 is part of the x86-64 baseline).
//!
//! This module, `fast::dispatch` and `block::simd` hold the crate's only `unsafe`: the SSE2
//! intrinsics are `#[target_feature(enable = "sse2")]` functions, unsafe to call from code
//! that does not itself enable the feature, although every x86-64 CPU has it; the compile-time
//! guard below uses them only where the build target enables SSE2 (every x86-64 target does).
#![allow(unsafe_code)]

const SIGN_AND_EXPONENT: u64 = 0xFFF0_0000_0000_0000;

/// The `offset` for rounding to drop `s0` bits (1 ≤ s0 ≤ 52).
pub(super) fn offset(s0: u64) -> u64 {
    debug_assert!((1..=52).contains(&s0));
    s0 << 52
}

/// x rounded to nearest even, dropping the bits that `offset` says (see the module docs);
/// computed in general registers, for any target.
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
#[inline(always)]
pub(super) fn round_portable(x: f64, offset: u64) -> f64 {
    let c = f64::from_bits((x.to_bits() & SIGN_AND_EXPONENT) + offset);
    (x + c) - c
}

/// [`round_portable`], the integer operations in x's SSE2 register.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
pub(super) fn round(x: f64, offset: u64) -> f64 {
    use std::arch::x86_64::{
        _mm_add_epi64, _mm_and_si128, _mm_castpd_si128, _mm_castsi128_pd, _mm_cvtsd_f64,
        _mm_set_sd, _mm_set1_epi64x,
    };
    // SAFETY: these intrinsics only need SSE2, which the build target enables (the `cfg`).
    let c = unsafe {
        let bits = _mm_castpd_si128(_mm_set_sd(x));
        let mask = _mm_set1_epi64x(SIGN_AND_EXPONENT as i64);
        let c = _mm_add_epi64(_mm_and_si128(bits, mask), _mm_set1_epi64x(offset as i64));
        _mm_cvtsd_f64(_mm_castsi128_pd(c))
    };
    (x + c) - c
}

/// [`round_portable`] where SSE2 is not there.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
pub(super) fn round(x: f64, offset: u64) -> f64 {
    round_portable(x, offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{RandomSource, Stream};

    /// Both versions against round-to-nearest-even computed on the integer significand, for
    /// every `s0`, on random values over the valid range, ties and their neighbours, and the
    /// binades' ends.
    #[test]
    fn the_split_is_round_to_nearest_even() {
        let mut s = Stream::new(3);
        let mut ties = 0;
        for s0 in 1..=52u64 {
            // Exponent fields 1 ..= 2045 − s0: |x| < 2^(1023 − s0); the last binade's largest
            // value (it carries) early on, the others at random.
            for i in 0..20_000 {
                let b = s.next_u64();
                let field = if i < 4 {
                    2045 - s0
                } else {
                    1 + b % (2045 - s0)
                };
                let mut frac = s.next_u64() & ((1 << 52) - 1);
                if i % 4 == 0 {
                    // A tie: the dropped bits a one and zeros.
                    frac = frac & !((1 << s0) - 1) | 1 << (s0 - 1);
                    ties += 1;
                } else if i == 1 {
                    frac = (1 << 52) - 1;
                } else if i % 4 == 1 {
                    frac = [0, (1 << 52) - 1, 1][i / 4 % 3];
                }
                let x = f64::from_bits(b & 1 << 63 | field << 52 | frac);
                let sig = frac | 1 << 52;
                let (kept, rem, half) = (sig >> s0, sig & ((1 << s0) - 1), 1u64 << (s0 - 1));
                let up = rem > half || (rem == half && kept & 1 == 1);
                // (kept + up) · 2^s0 (at most 2^53, exact) times x's step 2^(field − 1075): a
                // carry into the next binade is exact too.
                let k = field as i64 - 1075;
                let step = if k >= -1022 {
                    f64::from_bits(((k + 1023) as u64) << 52)
                } else {
                    f64::from_bits(1 << (k + 1074))
                };
                let want = ((((kept + up as u64) << s0) as f64) * step).copysign(x);
                assert!(want.is_finite());
                let off = offset(s0);
                assert_eq!(round_portable(x, off), want, "s0 {s0}: {x:e}");
                assert_eq!(round(x, off), want, "s0 {s0}: {x:e}");
            }
        }
        assert!(ties > 52 * 4000, "{ties}");
    }
}
