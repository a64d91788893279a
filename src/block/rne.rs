//! The direct element path of block quantisation under `rne` with saturation, the default of
//! every preset: a group's quotients rounded, encoded and dequantised in one loop of about
//! thirty vector instructions per eight elements, where the general engine ([`super::engine`])
//! spends about eighty over two passes (it serves every mode, overflow policy and element
//! type). A group this path cannot settle in full goes to the general engine unchanged.
//!
//! Rounding happens in the FP unit: for a quotient y with |y| in binade e, the constant
//! C = 2^(max(e, emin) + 52 − M) puts |y| + C where f64's step is the element grid's step, so
//! f64's own rounding to nearest even rounds |y| to the grid with unbounded exponent (ties to
//! even: C is an even multiple of the step; a carry into the next binade is exact), and
//! (|y| + C) − C is exact. Below 2^emin, C = 2^(emin + 52 − M) gives the subnormal step. A
//! rounded value above the element's largest is an overflow, which saturation turns into the
//! largest. This needs f64 arithmetic rounded to nearest even without flush-to-zero, the
//! environment Rust code runs in.
//!
//! Block scales under the `nearest` rule are rounded the same way, from amax · fl(1/d) with a
//! margin around midpoints ([`Rne::round_scale`]).
//!
//! Where the quotient q is inexact (x / S with a scale that is not a power of two), the exact
//! quotient lies within one f64 ulp of q, on one side. Rounding to nearest then gives the same
//! unless q is a midpoint of the grid (the grid's half step is a multiple of q's ulp, so
//! nothing else lies between them): a group with a quotient on a midpoint goes to the general
//! engine. Nothing else does:
//! - an f64-subnormal (or vanished) quotient of a nonzero x, which the general engine must
//!   leave to the exact path, rounds to ±0 here as its exact quotient does, since the path is
//!   only taken where half the element's smallest subnormal is an f64 normal;
//! - C is capped at 2^1023 (from the binade of 2^(972 + M) on it would be Inf, and the
//!   difference NaN, which a review found: the saturation count missed such elements). The
//!   path is only taken where that binade lies above the element's largest value, so a
//!   quotient there, rounded with the capped C (to a coarser grid, or to Inf where the sum
//!   overflows), still compares above it: an overflow, as it should be.

use super::Element;
use super::engine::GroupView;
use crate::fast::Kernel;
use crate::format::Format;
use crate::mode::{Rounding, RoundingMode};

const SIGN: u64 = 1 << 63;
const EXP: u64 = 0x7FF << 52;
const MANT: u64 = (1 << 52) - 1;
/// 2^−53: C times this is half the grid step where C is formed.
const HALF_ULP: f64 = f64::EPSILON / 2.0;
/// 2^−51: a `nearest` scale quotient by multiplication is this close to a midpoint (relative)
/// before the exact path decides it (see [`Rne::round_scale`]).
const SCALE_MARGIN: f64 = f64::EPSILON * 2.0;

/// A format's constants for the direct path (an element format's, or a `nearest` scale
/// format's).
#[derive(Clone, Copy, Debug)]
pub(super) struct Rne {
    /// Bits of 2^emin, the format's smallest normal value; as an exponent field it is the
    /// smallest binade C is formed from.
    min_normal: u64,
    /// (52 − M) << 52: added to an exponent field, it multiplies by 2^(52 − M).
    offset: u64,
    /// The largest exponent field C is formed from, so that C ≤ 2^1023 (beyond it, C would be
    /// Inf, and (|y| + C) − C NaN).
    top: u64,
    /// The format's largest finite value.
    max: f64,
    /// 2^(M − emin): a subnormal value times this is its code.
    sub_scale: f64,
    /// 52 − M: a normal value's bits shifted right by this are its exponent field (f64 bias)
    /// and mantissa ...
    shift: u64,
    /// ... minus this, (1023 − bias) · 2^M, its code.
    rebias: u64,
    /// The sign bit of the format's codes.
    sign_bit: u64,
}

impl Rne {
    /// The direct path for elements of type `elem` rounded with `rounding`, where it applies:
    /// see [`Rne::for_format`]; the element a float format, signed and with −0.
    pub(super) fn new(elem: &Element, rounding: &Rounding, engine: bool) -> Option<Rne> {
        match *elem {
            Element::Float(fmt) if fmt.is_signed() && fmt.has_neg_zero() => {
                Rne::for_format(&fmt, rounding, engine)
            }
            _ => None,
        }
    }

    /// The constants of `fmt` rounded with `rounding`, where the direct path applies: `rne`
    /// whose overflow gives the largest finite value, and a format that the general engine
    /// takes (`engine`: precision ≤ 51, subnormals, the standard encoding).
    pub(super) fn for_format(fmt: &Format, rounding: &Rounding, engine: bool) -> Option<Rne> {
        if !engine
            || rounding.mode != RoundingMode::NearestEven
            // Half the smallest subnormal is an f64 normal: every f64-subnormal quotient
            // rounds to ±0, as its exact quotient does (see the module docs).
            || fmt.emin() - (fmt.man_bits() as i32) - 1 < -1022
            // C is finite up to the binade above the largest value: C's cap at 2^1023 only
            // touches quotients beyond it.
            || fmt.emax() + 1 + (52 - fmt.man_bits() as i32) > 1023
        {
            return None;
        }
        let m = fmt.man_bits() as u64;
        let max = crate::codec::to_f64(fmt, fmt.max_finite(false));
        // Overflow must give the largest finite value: saturation does, and so does the IEEE
        // policy for a format without Inf and NaN.
        let beyond = 2f64.powi(fmt.emax() + 1);
        if Kernel::new(fmt, rounding).ok()?.round_f64(beyond, 0) != max {
            return None;
        }
        Some(Rne {
            min_normal: 2f64.powi(fmt.emin()).to_bits(),
            offset: (52 - m) << 52,
            top: (2046 - (52 - m)) << 52,
            max,
            sub_scale: 2f64.powi(m as i32 - fmt.emin()),
            shift: 52 - m,
            rebias: ((1023 - fmt.bias() as i64) as u64) << m,
            sign_bit: fmt.sign_bit() as u64,
        })
    }

    /// The magnitude with bits `a` (finite) rounded to the grid with unbounded exponent, and
    /// the constant C it was rounded with (at most 2^1023: see the module docs).
    #[inline(always)]
    fn round_magnitude(&self, a: u64) -> (f64, f64) {
        let field = (a & EXP).max(self.min_normal).min(self.top);
        let c = f64::from_bits(field + self.offset);
        ((f64::from_bits(a) + c) - c, c)
    }

    /// The code of a magnitude `t` of the format (at most its largest): exponent and mantissa
    /// from the bits of a normal value; a subnormal's integer significand (< 2^51, exact) from
    /// the low bits of 2^52 + it.
    #[inline(always)]
    fn magnitude_code(&self, t: f64) -> u64 {
        const TWO52: f64 = (1u64 << 52) as f64;
        let tb = t.to_bits();
        let sub = (t * self.sub_scale + TWO52).to_bits() & MANT;
        let normal = (tb >> self.shift).wrapping_sub(self.rebias);
        if tb < self.min_normal { sub } else { normal }
    }

    /// The code and dequantised value of an element with scale `s` whose quotient has the
    /// bits `yb` (for its sign) and whose magnitude rounded to the grid with unbounded exponent
    /// is `rounded`, and whether it overflowed (then it saturates).
    #[inline(always)]
    pub(super) fn element(&self, yb: u64, rounded: f64, s: f64) -> (u64, f64, bool) {
        let over = rounded > self.max;
        let t = rounded.min(self.max);
        let neg = ((yb as i64) >> 63) as u64;
        let code = self.magnitude_code(t) | (self.sign_bit & neg);
        (code, f64::from_bits(t.to_bits() | (yb & SIGN)) * s, over)
    }

    /// The `nearest` scale rule's rounding of the quotient amax / d (positive) into the scale
    /// format, from `inv` = fl(1/d): its code and value, or `None` where the exact path must
    /// decide. The product q = amax · inv is within (2^−52 + 2^−106)·q of the quotient (two
    /// roundings of at most 2^−53 each, relative), so both round alike unless a midpoint of the
    /// grid lies within [`SCALE_MARGIN`]·q of q (then `None`, the rare case). One multiply, where the
    /// division took 13 cycles on each block's dependency chain and the divider its quotients
    /// need.
    #[inline(always)]
    pub(super) fn round_scale(&self, amax: f64, inv: f64) -> Option<(u64, f64)> {
        let (code, t, ok) = self.round_scale_lane(amax, inv);
        ok.then_some((code, t))
    }

    /// [`Rne::round_scale`] without a branch, so that a loop over blocks vectorises: the code
    /// and value, and whether they are the rounding (false where `round_scale` gives `None`;
    /// code and value are then meaningless).
    #[inline(always)]
    pub(super) fn round_scale_lane(&self, amax: f64, inv: f64) -> (u64, f64, bool) {
        let q = amax * inv;
        // (Below f64's normal range the product's error is not relative.)
        let normal = (f64::MIN_POSITIVE..f64::INFINITY).contains(&q);
        // (A vanished, infinite or NaN q rounds to anything: `normal` discards it. q is never
        // negative: amax is a magnitude and `inv` positive.)
        let (rounded, c) = self.round_magnitude(q.to_bits());
        // |q − rounded| ≤ h/2, h = c·2^−52 the step of q's binade, and the midpoint beyond
        // `rounded` on q's side is h/2 from it. The one on the other side is farther from q,
        // except below a `rounded` at the bottom of q's binade: h/4 from it; but where this
        // test passes h/2 > 2^−51·q, so h/4 is still beyond the product's error (for scale
        // formats of 50 or 51 mantissa bits it never passes in the normal range: exact path).
        let clear = c * HALF_ULP - (q - rounded).abs() > q * SCALE_MARGIN;
        let t = rounded.min(self.max);
        (self.magnitude_code(t), t, normal & clear)
    }

    /// Settles the group `g` (see [`GroupView`]) into its codes and values: the number of
    /// saturated elements, or `None` (with `codes` and `vs` holding anything) where a quotient
    /// needs the general engine. One branch-free loop, so that it vectorises; elements of
    /// blocks the caller finishes otherwise (NaN/Inf or zero scale) are settled with junk.
    #[inline(always)]
    pub(super) fn finish(&self, g: &mut GroupView<'_>) -> Option<usize> {
        // A local copy keeps the constants in registers (see `Engine::finish`).
        let r = &{ *self };
        // One loop per case, the check of inexact quotients a constant inside it.
        if g.all_exact {
            r.finish_with::<false>(g.trimmed())
        } else {
            r.finish_with::<true>(g.trimmed())
        }
    }

    #[inline(always)]
    fn finish_with<const CHECK: bool>(&self, g: GroupView<'_>) -> Option<usize> {
        let GroupView {
            ys,
            ss,
            exact,
            vs,
            codes,
            ..
        } = g;
        let n = ys.len();
        let (mut saturated, mut left) = (0u64, 0u64);
        for j in 0..n {
            let yb = ys[j].to_bits();
            let a = yb & !SIGN;
            let (rounded, c) = self.round_magnitude(a);
            let over;
            (codes[j], vs[j], over) = self.element(yb, rounded, ss[j]);
            saturated += over as u64;
            // With CHECK, a division's quotient on a midpoint is left to the general engine,
            // exact or not (the difference of two multiples of its ulp is exact). The rounding
            // before saturation counts: a midpoint between the largest value and the next
            // decides whether the element overflowed.
            let leave = CHECK && {
                let d = (f64::from_bits(a) - rounded).abs();
                (exact[j] == 0) & (d == c * HALF_ULP)
            };
            left |= leave as u64;
        }
        (left == 0).then_some(saturated as usize)
    }
}
