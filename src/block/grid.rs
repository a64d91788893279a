//! The direct element path for formats of at most eight magnitudes (FP4) under a mode
//! symmetric in sign (`rne`, `rna`, `rtz`, exact `sr`): no quotient at all.
//!
//! The rounding of x / S to an element is a step function of |x| / S that changes at a few
//! boundaries t_i in element units: between the magnitudes v_i and v_(i+1), their midpoint
//! (nearest modes) or v_(i+1) itself (`rtz`, and `sr` for the floor it starts from), and one
//! more beyond the largest value, where the rounding overflows. Each boundary belongs to one
//! side, as the mode rounds it (a tie). So x / S rounds to v_k with k = #{i : |x| > b_i}, where
//! b_i = t_i · S, or its f64 predecessor where the boundary rounds up (for f64 values,
//! |x| ≥ b ⇔ |x| > pred(b)). The comparison |x| > t_i · S is the exact comparison |x| / S > t_i
//! wherever the product is exact, which [`Grid::scaled`] checks per block: S's significand
//! leaves room for t_i's few bits, and t_0 · S is an f64 normal (a product too large for f64
//! overflows to +Inf, which compares as the exact product would: above every finite |x|).
//! Exact `sr` then rounds up from v_k at random ([`Scaled::round_sr`]).
//!
//! Where NVFP4's scales are not powers of two, the quotient paths divide every element and
//! check the quotients for midpoints; here a few compares per element decide the rounding
//! exactly, and the dequantised value v_k · S is the product the exact path forms.

use super::Element;
use crate::codec;
use crate::exact::Exact;
use crate::flags::Flags;
use crate::format::Format;
use crate::mode::{Rounding, RoundingMode};
use crate::rng::{self, NoRandom};

const SIGN: u64 = 1 << 63;
/// 2^52: [`Scaled::round_sr`] compares fractions in units of 2^−52, with the top 52 bits of
/// the word.
pub(super) const TWO52: f64 = 4503599627370496.0;
/// z's cap in [`Scaled::round_sr`], where the fraction exceeds 1 for sure.
pub(super) const SR_CAP: f64 = 2.0 * TWO52;
/// How far z must be from the word's top bits in [`Scaled::round_sr`]: more than z's error
/// (below the cap at most 2^−52 · 2^53 · (1 + 2^−53), just over 2) plus the 12 bits dropped
/// from the word (less than 1).
pub(super) const SR_MARGIN: f64 = 4.0;

/// The top 52 bits of the word `w` as an f64, exactly (2^52 + them, minus 2^52: two
/// operations on every instruction set, where a u64 conversion without AVX-512 is a scalar
/// sequence per element).
#[inline(always)]
pub(super) fn word_top(w: u64) -> f64 {
    f64::from_bits((w >> 12) | TWO52.to_bits()) - TWO52
}
/// Boundaries below the largest magnitude: seven for eight magnitudes (FP4's ±0 … ±max).
const BOUNDS: usize = 7;

/// An element format's boundaries and magnitudes, in element units.
#[derive(Clone, Copy, Debug)]
pub(super) struct Grid {
    /// t_0 < t_1 < …, then +Inf (a format with fewer magnitudes).
    bounds: [f64; BOUNDS],
    /// 1 where the boundary itself rounds up (to v_(i+1)), else 0.
    up: [u64; BOUNDS],
    /// The overflow boundary between the largest magnitude and the next one with unbounded
    /// exponent, and 1 where it overflows itself.
    over: f64,
    over_up: u64,
    /// v_0 = 0, v_1, …, the largest repeated past it.
    values: [f64; BOUNDS + 1],
    /// Position of the codes' sign bit: a magnitude's code is its index k.
    sign_shift: u32,
    /// Exact `sr`: 2^52 / (v_(k+1) − v_k) for k = 0 … n (v_(n+1) the magnitude beyond the
    /// largest, with unbounded exponent); `None` for the deterministic modes.
    inv_steps: Option<[f64; BOUNDS + 1]>,
    /// n, the index of the largest magnitude.
    top: u64,
    /// The smallest S for which t_0 · S is an f64 normal.
    min_scale: f64,
    /// Low mantissa bits of S that must be zero for t_i · S to be exact.
    low_bits: u64,
}

/// A [`Grid`]'s boundaries and magnitudes times a block's scale S, in the layout the AVX-512
/// kernel ([`super::simd`]) loads as two registers.
#[derive(Clone, Copy)]
pub(super) struct Scaled {
    /// t_i · S (or its predecessor where t_i rounds up), +Inf past the format's boundaries;
    /// last, the overflow boundary.
    pub(super) bounds: [f64; BOUNDS + 1],
    /// v_k · S.
    pub(super) values: [f64; BOUNDS + 1],
    /// Position of the codes' sign bit.
    pub(super) sign_shift: u32,
    /// Exact `sr`: 2^52 / ((v_(k+1) − v_k) · S), for [`Scaled::round_sr`].
    pub(super) inv_steps: Option<[f64; BOUNDS + 1]>,
    /// The index of the largest magnitude.
    pub(super) top: u64,
}

impl Grid {
    /// The grid of `elem` rounded with `rounding`, where this path applies: a signed float
    /// element with −0 and at most eight magnitudes whose codes are 0, 1, … in order, a mode
    /// that rounds each magnitude alike for either sign, and overflow to the largest value.
    pub(super) fn new(elem: &Element, rounding: &Rounding) -> Option<Grid> {
        let Element::Float(fmt) = *elem else {
            return None;
        };
        // Exact `sr` takes the boundaries of `rtz` (the floor of |x| / S on the grid) and
        // rounds up from there at random.
        let (mid, stochastic) = match rounding.mode {
            RoundingMode::NearestEven | RoundingMode::NearestAway => (true, false),
            RoundingMode::TowardZero => (false, false),
            RoundingMode::Stochastic { bits: None } => (false, true),
            _ => return None,
        };
        let n = fmt.max_finite(false) as usize;
        if !fmt.is_signed() || !fmt.has_neg_zero() || n > BOUNDS || n == 0 || fmt.width() > 8 {
            return None;
        }
        let value = |c: usize| codec::to_f64(&fmt, c as u128);
        let sign_bit = fmt.sign_bit() as u64;
        let round = |t: f64| {
            Exact::from_f64(t).map(|e| crate::round::round(&fmt, &e, rounding, &mut NoRandom))
        };
        // Codes 0 … n are the magnitudes in order, each a value the core rounds to itself (not
        // so for a format without subnormals, whose field-0 codes decode to values it flushes),
        // and their negatives carry the sign bit.
        let layout = (0..=n).all(|c| {
            let neg = value(c | sign_bit as usize);
            (c == 0 || value(c) > value(c - 1))
                && neg.to_bits() == value(c).to_bits() | SIGN
                && round(value(c)).is_some_and(|r| r.value == c as u128)
        });
        if !layout {
            return None;
        }
        let max = value(n);
        // The next magnitude with unbounded exponent: max plus the step of its binade.
        let next = max + 2f64.powi(fmt.emax() - fmt.man_bits() as i32);
        let boundary = |lo: f64, hi: f64| if mid { (lo + hi) / 2.0 } else { hi };
        let mut bounds = [f64::INFINITY; BOUNDS];
        let mut up = [0; BOUNDS];
        for i in 0..n {
            bounds[i] = boundary(value(i), value(i + 1));
            up[i] = (round(bounds[i])?.value == (i + 1) as u128) as u64;
        }
        // (Under `sr` the rounding counts overflows itself: no boundary.)
        let (over, over_up) = match stochastic {
            true => (f64::INFINITY, 0),
            false => {
                let over = boundary(max, next);
                (over, round(over)?.flags.contains(Flags::OVERFLOW) as u64)
            }
        };
        // Overflow must give the largest value (saturation, or a format without Inf).
        if round(2.0 * next)?.value != n as u128 {
            return None;
        }
        // t_0 a power of two (v_1 or half of it), so that `min_scale` is exact.
        if bounds[0].to_bits() & ((1 << 52) - 1) != 0 {
            return None;
        }
        // The most significant bits of any boundary: S may have 53 minus these.
        let bits = bounds[..n]
            .iter()
            .chain([&over].into_iter().filter(|t| t.is_finite()))
            .map(|t| 53 - (t.to_bits() | 1 << 52).trailing_zeros())
            .max()?;
        // Under `sr`, |x| − v_k · S is exact where v_(k+1) ≤ 2 v_k (Sterbenz; for k = 0 it is
        // |x|), and 2^52 / (v_(k+1) − v_k) where the step is a power of two.
        let inv_steps = match stochastic {
            false => None,
            true => {
                let mut inv = [0.0; BOUNDS + 1];
                for (k, inv) in inv.iter_mut().enumerate().take(n + 1) {
                    let (lo, hi) = (value(k), if k < n { value(k + 1) } else { next });
                    let step = hi - lo;
                    if (k > 0 && hi > 2.0 * lo) || step.to_bits() & ((1 << 52) - 1) != 0 {
                        return None;
                    }
                    *inv = TWO52 / step;
                }
                Some(inv)
            }
        };
        Some(Grid {
            bounds,
            up,
            over,
            over_up,
            values: std::array::from_fn(|i| value(i.min(n))),
            sign_shift: sign_bit.trailing_zeros(),
            inv_steps,
            top: n as u64,
            min_scale: f64::MIN_POSITIVE / bounds[0],
            low_bits: (1 << bits) - 1,
        })
    }

    /// Whether this is exact `sr`'s grid.
    pub(super) fn stochastic(&self) -> bool {
        self.inv_steps.is_some()
    }

    /// Whether every scale this path will meet (of the scale format `scale`, or powers of two
    /// where `pow2`, times the tensor scale `tensor`) leaves room for the boundaries' bits, so
    /// that blocks are not sent to the exact path one element at a time ([`Grid::scaled`]
    /// still checks each).
    pub(super) fn fits(&self, scale: &Format, pow2: bool, tensor: f64) -> bool {
        let bits = |v: f64| 53 - (v.to_bits() | 1 << 52).trailing_zeros();
        let scale_bits = if pow2 { 1 } else { scale.precision() };
        scale_bits + bits(tensor) + self.low_bits.count_ones() <= 53
    }

    /// The boundaries and magnitudes times the block scale `s`, where every product t_i · s is
    /// exact (see the module docs); `None` sends the block to the exact path.
    #[inline(always)]
    pub(super) fn scaled(&self, s: f64) -> Option<Scaled> {
        if !(self.min_scale..f64::INFINITY).contains(&s) || s.to_bits() & self.low_bits != 0 {
            return None;
        }
        // (Bits minus one: the predecessor of a positive f64, or f64::MAX for +Inf.)
        let bound = |t: f64, up: u64| f64::from_bits((t * s).to_bits() - up);
        // (Loops, not `array::from_fn` or `map`, whose closures may be compiled outside the
        // per-CPU copies.)
        let mut g = Scaled {
            bounds: [0.0; BOUNDS + 1],
            values: self.values,
            sign_shift: self.sign_shift,
            inv_steps: self.inv_steps,
            top: self.top,
        };
        if let Some(inv) = &mut g.inv_steps {
            // One rounding each (2^52 / step is exact); a quotient of f64's range sends the
            // block to the exact path.
            let mut finite = true;
            for v in inv.iter_mut() {
                *v /= s;
                finite &= *v < f64::INFINITY;
            }
            if !finite {
                return None;
            }
        }
        for i in 0..BOUNDS {
            g.bounds[i] = bound(self.bounds[i], self.up[i]);
        }
        g.bounds[BOUNDS] = bound(self.over, self.over_up);
        for v in &mut g.values {
            *v *= s;
        }
        Some(g)
    }
}

impl Scaled {
    /// Rounds the block `xs` (finite values) into `codes` (the format's, of at most 8 bits) and
    /// the dequantised values `vs`, saturating. One branch-free loop, vectorised across
    /// elements.
    #[inline(always)]
    pub(super) fn round(&self, xs: &[f64], codes: &mut [u8], vs: &mut [f64]) {
        for ((&x, c), v) in xs.iter().zip(codes.iter_mut()).zip(vs.iter_mut()) {
            let b = x.to_bits();
            let a = f64::from_bits(b & !SIGN);
            let (mut k, mut m) = (0, self.values[0]);
            for i in 0..BOUNDS {
                let past = a > self.bounds[i];
                k += past as u64;
                m = if past { self.values[i + 1] } else { m };
            }
            *c = (k | (b >> 63) << self.sign_shift) as u8;
            *v = f64::from_bits(m.to_bits() | (b & SIGN));
        }
    }

    /// Exact `sr` of the block `xs` (finite values; element j draws the word of the stream
    /// state [`rng::advance`]`(state, j)`) into `codes` and `vs`: the number of elements that
    /// overflowed (and saturated), or `None` where the exact path must round the block.
    ///
    /// k from the boundaries of `rtz`, so v_k · S ≤ |x| < v_(k+1) · S (or |x| beyond the
    /// largest magnitude, k = n); the fraction f = (|x| − v_k · S) / ((v_(k+1) − v_k) · S) in
    /// units of 2^−52 as z = (|x| − v_k · S) · fl(2^52 / (step · S)). The difference is exact
    /// (Sterbenz) but where k = n and |x| ≥ 2 v_n · S, and there z ≥ 2^52 − ½ exceeds every
    /// word; elsewhere z is within 2^−52 · z of f · 2^52 (two roundings; capped at 2^53, where
    /// f > 1 for sure), i.e. within about 2 units. The core rounds up iff the uniform bits
    /// drawn for the element lie below f's: iff their first word w < f · 2^64 wherever w is not
    /// ⌊f · 2^64⌋. So wherever z is more than [`SR_MARGIN`] from w's top 52 bits t (beyond z's
    /// error and the 12 bits t drops), up iff t < z. An element closer than that (probability
    /// about 2^−50) leaves the block undecided: `None`.
    #[inline(always)]
    pub(super) fn round_sr(
        &self,
        xs: &[f64],
        codes: &mut [u8],
        vs: &mut [f64],
        state: u64,
    ) -> Option<u64> {
        let inv_steps = self.inv_steps.unwrap_or_default();
        let (mut over, mut undecided) = (0, false);
        let elements = xs.iter().zip(codes.iter_mut()).zip(vs.iter_mut());
        for (j, ((&x, c), v)) in elements.enumerate() {
            let b = x.to_bits();
            let a = f64::from_bits(b & !SIGN);
            let (mut k, mut lo, mut hi, mut inv) =
                (0, self.values[0], self.values[1], inv_steps[0]);
            for i in 0..BOUNDS {
                let past = a > self.bounds[i];
                k += past as u64;
                lo = if past { self.values[i + 1] } else { lo };
                hi = if past {
                    self.values[(i + 2).min(BOUNDS)]
                } else {
                    hi
                };
                inv = if past { inv_steps[i + 1] } else { inv };
            }
            let z = ((a - lo) * inv).min(SR_CAP);
            let w = word_top(rng::mix(rng::advance(state, j as u64)));
            undecided |= (z - w).abs() <= SR_MARGIN;
            let up = w < z;
            let k = k + up as u64;
            over += (k > self.top) as u64;
            let m = if up { hi } else { lo };
            *c = (k.min(self.top) | (b >> 63) << self.sign_shift) as u8;
            *v = f64::from_bits(m.to_bits() | (b & SIGN));
        }
        (!undecided).then_some(over)
    }

    /// The number of elements of the block `xs` with largest magnitude `amax` that overflow
    /// (and saturate): none unless `amax` does (NVFP4's `nearest` scale keeps amax / S at most
    /// 6.375 where it is normal, below E2M1's overflow boundary 7), so no count in
    /// [`Scaled::round`].
    #[inline(always)]
    pub(super) fn overflows(&self, xs: &[f64], amax: f64) -> usize {
        let over = self.bounds[BOUNDS];
        if amax > over {
            xs.iter().filter(|x| x.abs() > over).count()
        } else {
            0
        }
    }
}
