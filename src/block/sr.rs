//! The direct element path of block quantisation under exact `sr`, for groups whose quotients
//! are all x·2^−k (power-of-two scales: the MX presets): the array kernel's stochastic
//! rounding of each quotient into the element format's wide twin (its ordinary formula where
//! every quotient of the group is ordinary, else its finite tier), then the element's
//! overflow, code and dequantised value as on the `rne` path, in one loop with the random word
//! drawn once, where the general engine ([`super::engine`]) spends two passes and checks that
//! only inexact quotients need. A group with a division quotient, an f64-subnormal (or
//! vanished) quotient of a nonzero x, or an element whose word ties the remainder's first 64
//! bits while more bits follow (the core then draws again), goes to the general engine.

use super::Element;
use super::engine::Engine;
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

    /// Settles a group of elements with quotients `ys` and scales `ss` (see
    /// [`super::engine::Engine::finish`] for the arguments; element j draws its word at index
    /// `first + j` of the stream `key`) into `codes` and `vs`: the number of saturated
    /// elements, or `None` (with `codes` and `vs` holding anything) where the general engine
    /// must settle the group. One branch-free loop, so that it vectorises.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn finish(
        &self,
        xs: &[f64],
        ys: &[f64],
        ss: &[f64],
        all_exact: bool,
        vs: &mut [f64],
        codes: &mut [u64],
        key: u64,
        first: u64,
    ) -> Option<usize> {
        if !all_exact {
            return None;
        }
        // A local copy keeps the constants in registers (see `Engine::finish`).
        let sr = &{ *self };
        // Where every quotient is ordinary (an E4M3 or wider element's usual group), the
        // ordinary rounding, a few integer operations; else the finite tier (E2M1's).
        let ord = sr.kernel.ordinary();
        if ys.iter().fold(true, |all, y| all & ord.is_ordinary(*y)) {
            sr.finish_with::<true>(xs, ys, ss, vs, codes, key, first)
        } else {
            sr.finish_with::<false>(xs, ys, ss, vs, codes, key, first)
        }
    }

    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn finish_with<const ORDINARY: bool>(
        &self,
        xs: &[f64],
        ys: &[f64],
        ss: &[f64],
        vs: &mut [f64],
        codes: &mut [u64],
        key: u64,
        first: u64,
    ) -> Option<usize> {
        let n = xs.len();
        let (ys, ss, vs, codes) = (&ys[..n], &ss[..n], &mut vs[..n], &mut codes[..n]);
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
            let tiny = (yb & !SIGN < MIN_NORMAL) & (xs[j].to_bits() & !SIGN != 0);
            left |= (rare | tiny) as u64;
        }
        (left == 0).then_some(saturated as usize)
    }
}
