//! The direct element path for formats of at most eight magnitudes (FP4) under a mode
//! symmetric in sign (`rne`, `rna`, `rtz`, exact `sr`), and under exact `sr` for any float
//! element of up to eight bits with subnormals (FP6, FP8): no quotient at all under the
//! deterministic modes.
//!
//! The rounding of x / S to an element is a step function of |x| / S that changes at a few
//! boundaries t_i in element units: between the magnitudes v_i and v_(i+1), their midpoint
//! (nearest modes) or v_(i+1) itself (`rtz`), and one
//! more beyond the largest value, where the rounding overflows. Each boundary belongs to one
//! side, as the mode rounds it (a tie). So x / S rounds to v_k with k = #{i : |x| > b_i}, where
//! b_i = t_i · S, or its f64 predecessor where the boundary rounds up (for f64 values,
//! |x| ≥ b ⇔ |x| > pred(b)). The comparison |x| > t_i · S is the exact comparison |x| / S > t_i
//! wherever the product is exact, which [`Grid::scaled`] checks per block: S's significand
//! leaves room for t_i's few bits, and t_0 · S is an f64 normal (a product too large for f64
//! overflows to +Inf, which compares as the exact product would: above every finite |x|).
//! Exact `sr` instead reads k and the fraction beyond v_k from the bits of an estimate of
//! |x| / S, and leaves the rare element whose rounding the estimate cannot settle to the exact
//! path ([`Scaled::round_sr`]).
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
/// How near a grid point [`Scaled::round_sr`]'s sum may come, in f64 bits, before the block
/// is left to the exact path: more than the sum's error (under 6 bits), with room to spare.
pub(super) const SR_MARGIN: u64 = 16;
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
    /// v_0 = 0, v_1, …, the largest repeated past it (the first eight where there are more:
    /// `sr` then forms v_k from k).
    values: [f64; BOUNDS + 1],
    /// Position of the codes' sign bit: a magnitude's code is its index k.
    sign_shift: u32,
    /// Exact `sr`'s place for the grid in f64's bits (at S = 1); `None` for the deterministic
    /// modes.
    sr: Option<SrScale>,
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
    /// v_k · S (as in [`Grid`]).
    pub(super) values: [f64; BOUNDS + 1],
    /// Position of the codes' sign bit.
    pub(super) sign_shift: u32,
    /// Exact `sr`'s constants, for [`Scaled::round_sr`].
    pub(super) sr: Option<SrScale>,
    /// The index of the largest magnitude.
    pub(super) top: u64,
}

/// Where exact `sr` finds a block's grid in the bits of f64 ([`Scaled::round_sr`]).
///
/// For y ≥ 0 in element units, [`SrScale::lifted`] is f64's bits of y, or where y is below the
/// element's smallest normal 2^emin, of y + 2^emin less 2^52: so the element's subnormals are
/// spaced as its first binade, and magnitude k lies at k · 2^F + A, F = 52 − M, A = (1022 +
/// emin) · 2^52 (as f64's own subnormals would put them at y · 2^(−1022 − emin), but without
/// arithmetic on f64 subnormals, which took 1.4 times as long). Between magnitudes, lifted
/// bits are linear in y.
#[derive(Clone, Copy, Debug)]
pub(super) struct SrScale {
    /// fl(1 / S).
    pub(super) inv_scale: f64,
    /// 2^emin.
    pub(super) min_normal: f64,
    /// F: the f64 bits below a step of the grid.
    pub(super) frac_bits: u32,
    /// L · 2^F + [`SR_MARGIN`], added to the lifted bits: L makes the index (A >> F) + L = B
    /// past the magnitude's, B a multiple of 256, so that an index's last 8 bits are the
    /// magnitude's code and its last 3 a permute's lane.
    pub(super) lift: u64,
    /// B.
    pub(super) bias: u64,
    /// A, the lifted bits of 0.
    pub(super) zero: u64,
    /// S (1 in the grid, as `inv_scale`).
    pub(super) scale: f64,
}

impl SrScale {
    /// See [`SrScale`]. (At most half a bit from the exact lifted bits of a y below 2^emin:
    /// y + 2^emin rounds to its binade's bits.)
    #[inline(always)]
    pub(super) fn lifted(&self, y: f64) -> u64 {
        let sub = y < self.min_normal;
        let z = if sub { y + self.min_normal } else { y };
        z.to_bits() - ((sub as u64) << 52)
    }

    /// Magnitude k, from its lifted bits k · 2^F + A (exact: below 2^emin a difference of
    /// two f64s of the same binade).
    #[inline(always)]
    pub(super) fn magnitude(&self, k: u64) -> f64 {
        let lifted = (k << self.frac_bits) + self.zero;
        // (Selects, not branches, so that the loops vectorise.)
        let sub = lifted < self.min_normal.to_bits();
        let v = f64::from_bits(lifted + ((sub as u64) << 52));
        if sub { v - self.min_normal } else { v }
    }
}

impl Grid {
    /// The grid of `elem` rounded with `rounding`, where this path applies: a signed float
    /// element of at most eight bits with −0 and (but under exact `sr`) at most eight
    /// magnitudes, whose codes are 0, 1, … in order, a mode that rounds each magnitude alike
    /// for either sign, and overflow to the largest value.
    pub(super) fn new(elem: &Element, rounding: &Rounding) -> Option<Grid> {
        let Element::Float(fmt) = *elem else {
            return None;
        };
        // (Exact `sr` rounds by f64's bits, not the boundaries; its, those of `rtz`, only
        // limit the scales this path takes, which `sr` would not need.)
        let (mid, stochastic) = match rounding.mode {
            RoundingMode::NearestEven | RoundingMode::NearestAway => (true, false),
            RoundingMode::TowardZero => (false, false),
            RoundingMode::Stochastic { bits: None } => (false, true),
            _ => return None,
        };
        // (Exact `sr` takes wider elements too: it needs no boundaries.)
        let n = fmt.max_finite(false) as usize;
        let wide = n > BOUNDS;
        if !fmt.is_signed() || !fmt.has_neg_zero() || n == 0 || fmt.width() > 8 {
            return None;
        }
        if wide && !stochastic {
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
        for i in 0..n.min(BOUNDS) {
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
        // The most significant bits of any boundary (under `sr`, of any magnitude: the upper
        // ones of `rtz`): S may have 53 minus these.
        let bits = (bounds[..n.min(BOUNDS)].iter().copied())
            .chain((BOUNDS + 1..=n).filter(|_| wide).map(value))
            .chain([over].into_iter().filter(|t| t.is_finite()))
            .map(|t| 53 - (t.to_bits() | 1 << 52).trailing_zeros())
            .max()?;
        // Under `sr`, magnitude k (k ≤ n + 1, `next` for n + 1) must lift to k · 2^F + A, and
        // back: so for a format with subnormals whose codes are its fields.
        let sr = match stochastic {
            false => None,
            true => {
                let frac_bits = 52u32.checked_sub(fmt.man_bits())?;
                let min_normal = 2f64.powi(fmt.emin());
                let a = u64::try_from(1022 + fmt.emin()).ok()? << fmt.man_bits();
                let l = a.wrapping_neg() % 256;
                let sr = SrScale {
                    inv_scale: 1.0,
                    min_normal,
                    frac_bits,
                    lift: (l << frac_bits) + SR_MARGIN,
                    bias: a + l,
                    zero: a << frac_bits,
                    scale: 1.0,
                };
                let placed = (0..=n + 1).all(|k| {
                    let (v, k) = (if k <= n { value(k) } else { next }, k as u64);
                    sr.lifted(v) == (k << frac_bits) + sr.zero
                        && sr.magnitude(k).to_bits() == v.to_bits()
                });
                if !placed || !min_normal.is_normal() {
                    return None;
                }
                Some(sr)
            }
        };
        Some(Grid {
            bounds,
            up,
            over,
            over_up,
            values: std::array::from_fn(|i| value(i.min(n))),
            sign_shift: sign_bit.trailing_zeros(),
            sr,
            top: n as u64,
            min_scale: f64::MIN_POSITIVE / bounds[0],
            low_bits: (1 << bits) - 1,
        })
    }

    /// Whether the element has more than eight magnitudes (only under `sr`).
    pub(super) fn wide(&self) -> bool {
        self.top > BOUNDS as u64
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
            sr: self.sr,
            top: self.top,
        };
        match &mut g.sr {
            Some(sr) => {
                // (A subnormal 1 / S, for S > 2^1022, would lose bits: the exact path.)
                (sr.inv_scale, sr.scale) = (1.0 / s, s);
                if !sr.inv_scale.is_normal() {
                    return None;
                }
                // (`sr` counts its own overflows and needs no boundaries.)
                g.bounds = [f64::INFINITY; BOUNDS + 1];
            }
            None => {
                for i in 0..BOUNDS {
                    g.bounds[i] = bound(self.bounds[i], self.up[i]);
                }
                g.bounds[BOUNDS] = bound(self.over, self.over_up);
            }
        }
        for v in &mut g.values {
            *v *= s;
        }
        Some(g)
    }
}

impl Scaled {
    /// Whether the element has more than eight magnitudes (only under `sr`), so that v_k · S
    /// is formed from k, not looked up.
    #[inline(always)]
    pub(super) fn wide(&self) -> bool {
        self.top > BOUNDS as u64
    }

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
    /// In f64's bits the grid is evenly spaced (see [`SrScale`]): the lifted bits of a
    /// quotient q = |x| / S are β = A + k · 2^F + f · 2^F, where q = v_k + f · (v_(k+1) − v_k)
    /// (k past n where q overflows). The core rounds up iff the uniform bits U drawn for the
    /// element lie below f: to index ⌊(β − A + 2^F − V) / 2^F⌋ with V = U · 2^F, which lies in
    /// [w, w + 1) for w the top F bits of the element's first word. The loop lifts
    /// y = fl(|x| · fl(1 / S)), whose bits β' are within 5 of β (two roundings of 2^−53 each,
    /// which count double where q and y straddle a binade, and half a bit where lifting
    /// rounds), and takes the index from t = β' + 2^F − 1 − w, within 6 of β + 2^F − V: the
    /// exact index wherever t mod 2^F is more than 6 from 0 and 2^F. An element within
    /// [`SR_MARGIN`] of either leaves the block undecided: probability (2 · 16 + 1) · 2^−F per
    /// element, 2^−46 for E2M1. (No search, and one multiply per element.)
    ///
    /// For an element of more than eight magnitudes where `WIDE` (which forms v_k · S from k
    /// rather than looking it up); a loop for the other kind leaves the block to the exact
    /// path. (One loop for each kind, so that neither holds a branch: a choice inside the loop
    /// kept the compiler from vectorising it.)
    #[inline(always)]
    pub(super) fn round_sr<const WIDE: bool>(
        &self,
        xs: &[f64],
        codes: &mut [u8],
        vs: &mut [f64],
        state: u64,
    ) -> Option<u64> {
        let sr = self.sr?;
        if WIDE != self.wide() {
            return None;
        }
        let (f, frac) = (sr.frac_bits, (1u64 << sr.frac_bits) - 1);
        let (mut over, mut nearest) = (0, u64::MAX);
        let elements = xs.iter().zip(codes.iter_mut()).zip(vs.iter_mut());
        for (j, ((&x, c), v)) in elements.enumerate() {
            let b = x.to_bits();
            let a = f64::from_bits(b & !SIGN);
            let w = rng::mix(rng::advance(state, j as u64));
            // (2^F − 1 − w is the inverted word's top F bits; u mod 2^F is t + SR_MARGIN's.)
            let u = sr.lifted(a * sr.inv_scale) + (!w >> (64 - f)) + sr.lift;
            nearest = nearest.min(u & frac);
            // (t + SR_MARGIN has t's index where decided.)
            let k = (u >> f) - sr.bias;
            over += (k > self.top) as u64;
            let k = k.min(self.top);
            *c = (k | (b >> 63) << self.sign_shift) as u8;
            // (k ≤ top ≤ BOUNDS: the `min` only spares a bounds check.)
            let m = match WIDE {
                true => sr.magnitude(k) * sr.scale,
                false => self.values[(k as usize).min(BOUNDS)],
            };
            *v = f64::from_bits(m.to_bits() | (b & SIGN));
        }
        (nearest > 2 * SR_MARGIN).then_some(over)
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
