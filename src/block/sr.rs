//! The direct element path of block quantisation under exact `sr`: the array kernel's
//! stochastic rounding of each quotient into the element format's wide twin (its ordinary
//! formula where every quotient of the group is ordinary, else its finite tier), then the
//! element's overflow, code and dequantised value as on the `rne` path, in one loop with the
//! random word drawn once, where the general engine ([`super::engine`]) spends two passes.
//! Quotients x / S by a scale that is not a power of two (NVFP4's) are correctly rounded f64s
//! within an ulp of the exact quotient: they round alike when the word is more than an ulp's
//! worth from the remainder's first 64 bits and the quotient is off the grid ([`word_decides`],
//! the general engine's check; for a quotient off the grid it fails with probability about
//! 2^−50 for E2M1, but always for one on a grid point, as when dequantised output is quantised
//! again: then the whole group goes to the general engine, which leaves such elements to the
//! exact path — slower, not different). A group with a quotient that fails it, an
//! f64-subnormal (or vanished) quotient of a nonzero x, or a rare element (see
//! [`crate::fast::Kernel::round_sr_finite`]), goes to the general engine.

use super::Element;
use super::engine::{Engine, GroupView, word_decides};
use super::rne::Rne;
use crate::fast::Kernel;
use crate::mode::{Rounding, RoundingMode};
use crate::rng;

const SIGN: u64 = 1 << 63;
/// Bits of f64's smallest normal, 2^−1022.
const MIN_NORMAL: u64 = 1 << 52;

/// The direct `sr` path's kernel and the element format's constants.
#[derive(Clone, Copy, Debug)]
pub(super) struct Sr {
    /// Rounds into the element format's wide twin (the general engine's kernel).
    kernel: Kernel,
    /// The element format's encoding and overflow (of its `rne` direct path: the same format
    /// and overflow policy).
    element: Rne,
}

impl Sr {
    /// The direct path for elements of type `elem` rounded with `rounding` by the general
    /// `engine`, where it applies: exact `sr`, the wide twin's kernel with a finite tier, and
    /// an element that the `rne` direct path would take with the same overflow policy.
    pub(super) fn new(elem: &Element, rounding: &Rounding, engine: Option<&Engine>) -> Option<Sr> {
        let kernel = *engine?.kernel();
        if !kernel.has_sr_finite() {
            return None;
        }
        let nearest = Rounding {
            mode: RoundingMode::NearestEven,
            ..*rounding
        };
        Some(Sr {
            kernel,
            element: Rne::new(elem, &nearest, true)?,
        })
    }

    /// Settles the group `g` (see [`GroupView`]; element j draws its word at index
    /// `first + j` of the stream `key`) into its codes and values: the number of saturated
    /// elements, or `None` (with `codes` and `vs` holding anything) where the general engine
    /// must settle the group. One branch-free loop, so that it vectorises.
    #[inline(always)]
    pub(super) fn finish(&self, g: &mut GroupView<'_>, key: u64, first: u64) -> Option<usize> {
        // A local copy keeps the constants in registers (see `Engine::finish`).
        let sr = &{ *self };
        // Where every quotient is ordinary (an E4M3 or wider element's usual group), the
        // ordinary rounding, a few integer operations; else the finite tier (E2M1's). One loop
        // per case, the check of inexact quotients a constant inside it.
        let g = g.trimmed();
        let ord = sr.kernel.ordinary();
        let ordinary = g.ys.iter().fold(true, |all, y| all & ord.is_ordinary(*y));
        match (ordinary, g.all_exact) {
            (true, true) => sr.finish_with::<true, false>(g, key, first),
            (true, false) => sr.finish_with::<true, true>(g, key, first),
            (false, true) => sr.finish_with::<false, false>(g, key, first),
            (false, false) => sr.finish_with::<false, true>(g, key, first),
        }
    }

    #[inline(always)]
    fn finish_with<const ORDINARY: bool, const CHECK: bool>(
        &self,
        g: GroupView<'_>,
        key: u64,
        first: u64,
    ) -> Option<usize> {
        let GroupView {
            xs,
            ys,
            ss,
            exact,
            vs,
            codes,
            ..
        } = g;
        let n = xs.len();
        let state = rng::state(key, first);
        let (mut saturated, mut left) = (0u64, 0u64);
        for j in 0..n {
            let yb = ys[j].to_bits();
            let w = rng::mix(rng::advance(state, j as u64));
            let (u, rare) = if ORDINARY {
                (self.kernel.round_sr_ordinary(yb, w), false)
            } else {
                self.kernel.round_sr_finite(yb, w)
            };
            let over;
            (codes[j], vs[j], over) = self.element.element(yb, f64::from_bits(u & !SIGN), ss[j]);
            saturated += over as u64;
            // An f64-subnormal (or vanished) quotient of a nonzero x is not the exact quotient,
            // and unlike `rne`, `sr` can tell: the general engine leaves it to the exact path.
            let x_zero = xs[j].to_bits() & !SIGN == 0;
            let tiny = (yb & !SIGN < MIN_NORMAL) & !x_zero;
            // With CHECK, a division's quotient must round as the exact quotient would.
            let undecided =
                CHECK && (exact[j] == 0) & !x_zero & !word_decides(&self.kernel, ys[j], w);
            left |= (rare | tiny | undecided) as u64;
        }
        (left == 0).then_some(saturated as usize)
    }
}
