//! The per-element rounding function on f64 bit patterns, and its constants.
//!
//! A finite f64 magnitude `a` (bits) has the integer significand `sig` (hidden bit included,
//! none for f64 subnormals) and drops `d` low bits when rounded into the format: `52 − M` in
//! the format's normal range, more below it (one constant grid step, `2^qlow`, once the value is
//! below the last subnormal binade or, without subnormals, below the smallest normal). The
//! rounded magnitude is then `a` with its low `d` bits cleared, plus `2^d` if it rounds away —
//! carries into the exponent field are exactly the carries of the value — or, when `d > 52`
//! (the value is below one grid step), 0 or one step. Everything that is not an ordinary
//! rounding (zeros, NaN, ±Inf, overflow, negative values in unsigned formats, the range below
//! the smallest value of a format without zero) is a compare-and-select against constants that
//! the rounding core itself computed when the kernel was built.
//!
//! Most data lies in the format's normal range, below its largest finite value, where none of
//! that can happen and `d = 52 − M` is constant: [`ordinary_element`] rounds such elements with
//! a third of the operations, and the loops take it for a whole block of elements when every
//! element of the block is ordinary (one compare per element decides). A block of finite
//! elements that are not all ordinary (wide data: underflow, overflow) takes the finite tier,
//! [`finite_element`]: the general arithmetic with only the zero and overflow selects, and under
//! `rne` the shift-free [`rne_finite_element`].

use super::split;
use crate::codec;
use crate::error::{Error, Result};
use crate::exact::{Exact, Value};
use crate::format::Format;
use crate::mode::{Rounding, RoundingMode};
use crate::rng::{ElementStream, NoRandom};
use crate::round::round_value;

const SIGN: u64 = 1 << 63;
const MANT: u64 = (1 << 52) - 1;
const INF: u64 = 0x7FF0_0000_0000_0000;

/// Evaluates `$e` with the type `$m` standing for the [`Mode`] of the rounding mode `$mode`:
/// the one place that maps modes to their monomorphised kernels.
macro_rules! with_mode {
    ($mode:expr, $m:ident => $e:expr) => {
        match $mode {
            RoundingMode::NearestEven => {
                type $m = $crate::fast::kernel::Rne;
                $e
            }
            RoundingMode::NearestAway => {
                type $m = $crate::fast::kernel::Rna;
                $e
            }
            RoundingMode::TowardZero => {
                type $m = $crate::fast::kernel::Rtz;
                $e
            }
            RoundingMode::TowardPositive => {
                type $m = $crate::fast::kernel::Rup;
                $e
            }
            RoundingMode::TowardNegative => {
                type $m = $crate::fast::kernel::Rdn;
                $e
            }
            RoundingMode::ToOdd => {
                type $m = $crate::fast::kernel::Rto;
                $e
            }
            RoundingMode::Stochastic { bits: None } => {
                type $m = $crate::fast::kernel::Sr;
                $e
            }
            RoundingMode::Stochastic { bits: Some(_) } => {
                type $m = $crate::fast::kernel::SrBits;
                $e
            }
            RoundingMode::StochasticEqual => {
                type $m = $crate::fast::kernel::SrEq;
                $e
            }
        }
    };
}
pub(super) use with_mode;

/// Everything a rounding into one format with one rounding needs, precomputed once: thresholds
/// and shifts for the bit arithmetic, and the f64 bits of every special result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Kernel {
    format: Format,
    rounding: Rounding,
    /// The rounding of ordinary values.
    ord: Ordinary,
    /// f64 exponent field of the format's smallest normal (2^emin); below it
    /// `d = dsub − max(F, 1)`.
    fmin: u64,
    /// `qlow + 1075`, where `2^qlow` is the grid step below the normal range.
    dsub: u64,
    /// Bits of one grid step `2^qlow`.
    step: u64,
    /// Magnitudes below this (bits) become ± the smallest value (formats without zero), else 0.
    below_smallest: u64,
    /// All ones for unsigned formats: negative nonzero values are invalid.
    unsigned: u64,
    /// The results of special cases, per sign ([+, −]), as f64 bits.
    rounded_zero: [u64; 2],
    input_zero: [u64; 2],
    smallest: [u64; 2],
    overflow: [u64; 2],
    inf: [u64; 2],
    nan: u64,
    invalid: u64,
    /// Whether finite elements may take [`finite_element`] (see [`Kernel::has_finite_tier`]).
    finite_tier: bool,
    /// `2^(qlow + 52)` where [`rne_finite_element`] applies (see [`Kernel::has_rne_shift`]),
    /// else 0.
    rne_shift: f64,
}

impl Kernel {
    /// The kernel for rounding f64 values into `fmt` with `rounding`; the format's values must
    /// be f64 values (precision ≤ 53 and exponent range inside binary64's).
    pub fn new(fmt: &Format, rounding: &Rounding) -> Result<Kernel> {
        if !fmt.fits_in_f64() {
            return Err(Error::Invalid(format!(
                "the slice engine holds values as f64, and {fmt} does not fit in binary64 \
                 (it needs precision ≤ 53 and an exponent range inside binary64's); use \
                 anyfloat::round::round_value for wider formats"
            )));
        }
        let m = fmt.man_bits() as i64;
        let emin = fmt.emin() as i64;
        let qlow = if fmt.has_subnormals() { emin - m } else { emin };
        // Every special result comes from the core, so the kernel cannot disagree on them.
        let core = |v: Value| -> u64 {
            let code = round_value(fmt, &v, rounding, &mut NoRandom).value;
            codec::to_f64(fmt, code).to_bits()
        };
        let finite = |neg: bool, exp: i64| Value::Finite(Exact::new(neg, 1u32, exp));
        let per_sign = |f: &dyn Fn(bool) -> u64| [f(false), f(true)];
        // Exactly, also where 2^e is an f64 subnormal (`powi` computes 1 / 2^−e, which
        // overflows for e < −1023).
        let pow2 = |e: i64| match e {
            -1022.. => ((e + 1023) as u64) << 52,
            -1074..=-1023 => 1u64 << (e + 1074),
            _ => 0,
        };
        let rounded_zero = match fmt.zero(false) {
            Some(_) => {
                per_sign(&|neg| codec::to_f64(fmt, fmt.zero(neg).expect("has zero")).to_bits())
            }
            None => [0, 0],
        };
        let max = codec::to_f64(fmt, fmt.max_finite_magnitude_code()).to_bits();
        let input_zero = per_sign(&|neg| core(Value::Finite(Exact::zero(neg))));
        let finite_tier = fmt.is_signed() && fmt.has_zero() && input_zero == rounded_zero;
        Ok(Kernel {
            format: *fmt,
            rounding: *rounding,
            ord: Ordinary {
                mode: rounding.mode,
                s0: (52 - m) as u64,
                r: match rounding.mode {
                    RoundingMode::Stochastic { bits: Some(r) } => r as u64,
                    _ => 64,
                },
                max,
                range: OrdinaryRange {
                    mask: if fmt.is_signed() { !SIGN } else { u64::MAX },
                    min_normal: pow2(emin),
                    span: max - pow2(emin),
                },
                nudge: None,
            }
            .with_nudge(),
            fmin: (emin + 1023) as u64,
            dsub: (qlow + 1075) as u64,
            step: pow2(qlow),
            below_smallest: if fmt.has_zero() { 0 } else { pow2(emin) },
            unsigned: if fmt.is_signed() { 0 } else { u64::MAX },
            rounded_zero,
            input_zero,
            smallest: per_sign(&|neg| {
                let sign = if neg { fmt.sign_bit() } else { 0 };
                codec::to_f64(fmt, sign | fmt.min_positive_magnitude_code()).to_bits()
            }),
            overflow: per_sign(&|neg| core(finite(neg, fmt.emax() as i64 + 2))),
            inf: per_sign(&|neg| core(Value::Inf { neg })),
            nan: core(Value::Nan { signaling: false }),
            // Only read for unsigned formats, where the core makes any negative value invalid.
            invalid: core(finite(true, 0)),
            finite_tier,
            rne_shift: if finite_tier && fmt.has_subnormals() && m <= 51 {
                f64::from_bits(pow2(qlow + 52))
            } else {
                0.0
            },
        })
    }

    /// The format.
    pub fn format(&self) -> &Format {
        &self.format
    }

    /// The rounding.
    pub fn rounding(&self) -> &Rounding {
        &self.rounding
    }

    /// Rounds one f64 into the format (the value of the result, as f64); stochastic modes use
    /// `word` as their first random word, as the core does when fed
    /// [`ElementStream::from_word`]`(word)` (later words, needed with probability 2^−64 by
    /// exact `sr`, come from that stream).
    #[inline]
    pub fn round_f64(&self, x: f64, word: u64) -> f64 {
        // Model code rounds one value at a time and mostly ordinary ones: a predictable branch
        // to the few operations of the ordinary case, small enough to inline into every
        // `Emu` operation, and everything else out of line.
        if !self.ord.is_ordinary(x) {
            return self.round_general(x, word);
        }
        self.ord.round(x, word)
    }

    /// [`Kernel::round_f64`] for any element: the general element function, and the core for
    /// the rare ones.
    #[inline(never)]
    fn round_general(&self, x: f64, word: u64) -> f64 {
        let b = x.to_bits();
        let (y, rare) = with_mode!(self.rounding.mode, M => element::<M>(self, b, word));
        if rare {
            return self.round_exact(x, &mut ElementStream::from_word(word));
        }
        f64::from_bits(y)
    }

    /// Whether finite values round by [`finite_element`]: the format is signed and has zero,
    /// and rounds ±0 as it rounds values to zero, so that of the special cases only rounding
    /// to zero and overflow can occur.
    #[inline(always)]
    pub(super) fn has_finite_tier(&self) -> bool {
        self.finite_tier
    }

    /// Whether rounding to zero gives zero with the input's sign (every format with −0; not
    /// `fnuz` and the P3109 formats, whose negative values round to +0).
    #[inline(always)]
    pub(super) fn zero_keeps_sign(&self) -> bool {
        self.rounded_zero == [0, SIGN]
    }

    /// Whether finite values round by [`rne_finite_element`] under `rne`: the finite tier, in a
    /// format with subnormals whose grid step below the normal range, 2^qlow, is at most 2^−52
    /// of its smallest normal value (precision ≤ 52).
    #[inline(always)]
    pub(super) fn has_rne_shift(&self) -> bool {
        self.rne_shift != 0.0
    }

    /// The kernel's rounding of ordinary values.
    pub fn ordinary(&self) -> &Ordinary {
        &self.ord
    }

    /// Where the finite `x` lies relative to the format's grid (the grid of the core's
    /// rounding, exponent unbounded above).
    pub(crate) fn position(&self, x: f64) -> Position {
        let (rem, d) = self.remainder(x);
        if rem == 0 {
            Position::OnGrid
        } else if d <= 63 && rem == 1 << (d - 1) {
            Position::Midpoint
        } else {
            Position::Between
        }
    }

    /// The bits the rounding of the finite `x` drops: `(rem, d)`, the remainder `rem` (the low
    /// `d` bits of x's integer significand, in units of x's ulp) and their count `d`, so that
    /// the remainder is `rem / 2^d` of a grid step — what the modes decide on.
    #[inline(always)]
    pub(crate) fn remainder(&self, x: f64) -> (u64, u64) {
        let (sig, d) = self.significand(x.to_bits() & !SIGN);
        (sig & low_bits(d), d)
    }

    /// The integer significand `sig` of the finite magnitude `a` (bits; hidden bit included,
    /// none for f64 subnormals) and the number `d` of its low bits that the rounding drops:
    /// `s0` from the smallest normal exponent up, more below (see the module docs).
    #[inline(always)]
    fn significand(&self, a: u64) -> (u64, u64) {
        let f = a >> 52;
        let sig = (a & MANT) | (((f != 0) as u64) << 52);
        let d = if f < self.fmin {
            self.dsub - f.max(1)
        } else {
            self.ord.s0
        };
        (sig, d)
    }

    /// The core's rounding of `x` drawing from `rng`: the path for the rare elements the bit
    /// kernel leaves alone.
    pub(super) fn round_exact(&self, x: f64, rng: &mut ElementStream) -> f64 {
        let code = round_value(&self.format, &Value::from_f64(x), &self.rounding, rng).value;
        codec::to_f64(&self.format, code)
    }
}

/// The rounding of ordinary values — in the format's normal range, at most its largest finite
/// magnitude, and not negative in an unsigned format — where `d = 52 − M` is constant and
/// nothing special can happen: a few integer operations. Small and `Copy`, so that `Emu` can
/// keep it in a thread-local cell and read it on every operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ordinary {
    mode: RoundingMode,
    /// Bits dropped: 52 − M.
    s0: u64,
    /// Random bits of `sr:<r>` (r), 64 otherwise.
    r: u64,
    /// Bits of the largest finite magnitude (a rounded magnitude above it overflows).
    max: u64,
    /// Which values are ordinary.
    range: OrdinaryRange,
    /// The mode as one formula, where it has one.
    nudge: Option<Nudge>,
}

/// Which f64 values are ordinary: one masked subtraction and compare on the bits.
#[derive(Clone, Copy, Debug, PartialEq)]
struct OrdinaryRange {
    /// `!SIGN` for signed formats; all ones for unsigned ones, where a negative element is not
    /// ordinary (it is invalid or rounds to zero).
    mask: u64,
    /// Bits of the smallest normal magnitude 2^emin.
    min_normal: u64,
    /// Bits of the largest finite magnitude minus `min_normal`.
    span: u64,
}

impl OrdinaryRange {
    #[inline(always)]
    fn contains_bits(&self, b: u64) -> bool {
        (b & self.mask).wrapping_sub(self.min_normal) <= self.span
    }
}

impl Ordinary {
    /// This with its [`Nudge`], for modes that have one.
    fn with_nudge(self) -> Ordinary {
        Ordinary {
            nudge: Nudge::new(&self),
            ..self
        }
    }

    /// The one-formula rounding of the ordinary case, self-contained ([`Nudge`]); `None` for
    /// `rto` and `sr-eq`.
    pub(crate) fn nudge(&self) -> Option<&Nudge> {
        self.nudge.as_ref()
    }

    /// Whether `x` is ordinary. An ordinary value is also an f64 normal number.
    #[inline(always)]
    pub fn is_ordinary(&self, x: f64) -> bool {
        self.is_ordinary_bits(x.to_bits())
    }

    /// [`Ordinary::is_ordinary`] on the bits of an f64.
    #[inline(always)]
    pub(super) fn is_ordinary_bits(&self, b: u64) -> bool {
        self.range.contains_bits(b)
    }

    /// Rounds the ordinary `x` (as [`Kernel::round_f64`] would): one formula for every mode
    /// but `rto` and `sr-eq`, so that code rounding one value at a time (`Emu`) inlines a dozen
    /// operations and no jump on the mode.
    #[inline(always)]
    pub fn round(&self, x: f64, word: u64) -> f64 {
        let b = x.to_bits();
        match &self.nudge {
            // (The nudge's range is narrower under `rne`, see [`Nudge::new`].)
            Some(n) if n.is_ordinary(x) => n.round(x, word),
            _ => f64::from_bits(self.round_by_mode(b, word)),
        }
    }

    /// [`Ordinary::round`] through the mode's own kernel. (By value: a reference would make
    /// the caller keep its copy of `self` in memory on every path, for this rare one.)
    #[inline(never)]
    fn round_by_mode(self, b: u64, word: u64) -> u64 {
        with_mode!(self.mode, M => M::ordinary(&self, b, word))
    }
}

/// The ordinary rounding of `rne`, `rna`, `rtz`, `rup`, `rdn`, `sr` and `sr:<r>` with the
/// range check: everything code that rounds one value at a time (`Emu`) needs, in a few words
/// it can keep in registers, and one predictable branch (`rne` or not) instead of a jump on
/// the mode.
///
/// `rne` rounds in the FP unit ([`split::round`]: two dependent FP operations and two integer
/// ones in the same register, where the nudge needs moves to the integer registers and back).
/// The others add a nudge to the bits and clear the `s0` dropped ones. The kept part carries up
/// by one unit exactly when the remainder `rem` exceeds `t = low − nudge` (`low = 2^s0 − 1`),
/// so a mode is its threshold `t`, away iff `rem > t`:
/// - `rna`: `t = half − 1`; directed: `t = low` (never away) or 0 (away when inexact) by the
///   sign;
/// - `sr`: away iff `w < rem · 2^(64 − s0)`, i.e. `t = w >> (64 − s0)` (the word's top `s0`
///   bits); `sr:<r>` with `r ≥ s0` is the same, and with `r < s0` it compares the word's top
///   `r` bits with the remainder's, i.e. `t` = the top `s0` bits with the low `s0 − r` set.
///
/// (`rto` sets the low kept bit instead of carrying, and `sr-eq` ignores the remainder's
/// value: they keep their own kernels.)
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Nudge {
    /// The range check of [`Ordinary::is_ordinary`]; under `rne` without the values at and
    /// above 2^(1023 − s0), where the split does not apply.
    range: OrdinaryRange,
    /// Clears the dropped bits: `!low`.
    keep: u64,
    /// The constant part of the nudge, per sign ([+, −]).
    base: [u64; 2],
    /// All ones for stochastic modes; 0 for the others, which ignore the word.
    word_mask: u64,
    /// `63 − s0`: `(w >> 1) >> shift` is the word's top `s0` bits (none when `s0 = 0`).
    shift: u64,
    /// Set in the threshold after the word's bits: `2^(s0 − r) − 1` for `sr:<r>`, `r < s0`.
    fill: u64,
    /// `rne` (dropping bits): the offset of [`split::round`], which rounds in the FP unit; 0
    /// for the other modes (and for `rne` without dropped bits, where the nudge formula with a
    /// zero base is the identity).
    split: u64,
}

impl Nudge {
    fn new(k: &Ordinary) -> Option<Nudge> {
        let s0 = k.s0;
        let low = (1u64 << s0) - 1;
        let half = (low + 1) >> 1;
        let (base, fill) = match k.mode {
            // (`rne` splits; with s0 = 0 the base 0 makes the formula the identity.)
            RoundingMode::NearestEven => ([0; 2], 0),
            RoundingMode::NearestAway => ([half; 2], 0),
            RoundingMode::TowardZero => ([0; 2], 0),
            RoundingMode::TowardPositive => ([low, 0], 0),
            RoundingMode::TowardNegative => ([0, low], 0),
            RoundingMode::Stochastic { .. } => ([low; 2], (1u64 << s0.saturating_sub(k.r)) - 1),
            RoundingMode::ToOdd | RoundingMode::StochasticEqual => return None,
        };
        let split = k.mode == RoundingMode::NearestEven && s0 > 0;
        let range = if split {
            // The split's sum must be finite: |x| < 2^(1023 − s0) (see `split`).
            let top = (2046 - s0) << 52;
            OrdinaryRange {
                span: k.range.span.min(top.saturating_sub(k.range.min_normal + 1)),
                ..k.range
            }
        } else {
            k.range
        };
        Some(Nudge {
            range,
            keep: !low,
            base,
            word_mask: if k.mode.is_stochastic() { u64::MAX } else { 0 },
            shift: 63 - s0,
            fill,
            split: if split { split::offset(s0) } else { 0 },
        })
    }

    /// [`Ordinary::is_ordinary`].
    #[inline(always)]
    pub(crate) fn is_ordinary(&self, x: f64) -> bool {
        self.range.contains_bits(x.to_bits())
    }

    /// The rounding of the ordinary `x` with random word `w` (ignored by deterministic modes).
    #[inline(always)]
    pub(crate) fn round(&self, x: f64, w: u64) -> f64 {
        if self.split != 0 {
            return split::round(x, self.split);
        }
        let b = x.to_bits();
        let base = if (b as i64) < 0 {
            self.base[1]
        } else {
            self.base[0]
        };
        let threshold_bits = (((w & self.word_mask) >> 1) >> self.shift) | self.fill;
        // (The threshold never exceeds the base, so the subtraction cannot wrap.)
        f64::from_bits((b + (base - threshold_bits)) & self.keep)
    }
}

/// Where a value lies relative to a format's grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Position {
    /// On a grid point (representable, or beyond the range on the unbounded grid).
    OnGrid,
    /// Exactly halfway between two grid points.
    Midpoint,
    /// Strictly between two grid points, not halfway.
    Between,
}

/// How one rounding mode decides "away from zero" for an inexact magnitude.
pub(super) trait Mode {
    /// Whether the mode reads the random word.
    const RANDOM: bool;
    /// Whether the mode is `rne`, the rounding of f64 arithmetic (see [`rne_finite_element`]).
    const NEAREST_EVEN: bool = false;
    /// Whether [`Mode::away`] ignores its `low` (see [`magnitude`]).
    const KEPT_MASK_ONLY: bool = false;
    /// Given the significand `sig` (at least its low `d` bits, the remainder; the modes but
    /// exact `sr` take `sig & low`), `low` = [`low_bits`]`(d)`,
    /// the parity of the kept part, the sign and the random word: whether to round away, and
    /// whether the element is rare (only exact `sr`: the first word equals the remainder's first
    /// 64 bits and more bits may follow, d > 64, so the core decides; this includes ±0 with a
    /// word of 0, which the core rounds to itself).
    fn away(k: &Ordinary, sig: u64, d: u64, low: u64, odd: bool, neg: bool, w: u64)
    -> (bool, bool);

    /// The rounding of an ordinary element with bits `b` (see [`ordinary_element`]), as
    /// straight-line arithmetic so that a block of them vectorises without masks.
    #[inline(always)]
    fn ordinary(k: &Ordinary, b: u64, w: u64) -> u64 {
        let low = (1u64 << k.s0) - 1;
        let (away, _) = Self::away(k, b, k.s0, low, kept_is_odd(k, b), b & SIGN != 0, w);
        (b & !low) + ((away as u64) << k.s0)
    }
}

macro_rules! deterministic {
    ($name:ident, $doc:literal, $nearest_even:literal,
        |$rem:ident, $half:ident, $odd:ident, $neg:ident| $e:expr
        $(, |$k:ident, $b:ident| $ordinary:expr)?) => {
        #[doc = $doc]
        pub(super) struct $name;
        impl Mode for $name {
            const RANDOM: bool = false;
            const NEAREST_EVEN: bool = $nearest_even;
            #[inline(always)]
            fn away(
                _: &Ordinary,
                sig: u64,
                _: u64,
                low: u64,
                $odd: bool,
                $neg: bool,
                _: u64,
            ) -> (bool, bool) {
                let $rem = sig & low;
                // 2^(d − 1) for 1 ≤ d ≤ 63, 2^63 above (the remainder is then below 2^53); 1 for
                // d = 0 (the remainder is then 0).
                let $half = (low >> 1) + 1;
                (($rem != 0) & $e, false)
            }
            $(
                #[inline(always)]
                fn ordinary($k: &Ordinary, $b: u64, _: u64) -> u64 {
                    $ordinary
                }
            )?
        }
    };
}

deterministic!(
    Rne,
    "`rne`",
    true,
    |rem, half, odd, _neg| (rem > half) | ((rem == half) & odd),
    |k, b| {
        // b + half − 1 carries past the kept bits iff the remainder exceeds half; the odd bit
        // of the kept part adds the missing one for the tie.
        // (With s0 = 0 nothing is dropped and the odd bit must not count.)
        let low = (1u64 << k.s0) - 1;
        (b + (low >> 1) + (kept_is_odd(k, b) & (k.s0 != 0)) as u64) & !low
    }
);
deterministic!(
    Rna,
    "`rna`",
    false,
    |rem, half, _odd, _neg| rem >= half,
    |k, b| {
        let low = (1u64 << k.s0) - 1;
        (b + ((low + 1) >> 1)) & !low
    }
);
deterministic!(
    Rtz,
    "`rtz`",
    false,
    |_rem, _half, _odd, _neg| false,
    |k, b| b & !((1u64 << k.s0) - 1)
);
deterministic!(Rup, "`rup`", false, |_rem, _half, _odd, neg| !neg);
deterministic!(Rdn, "`rdn`", false, |_rem, _half, _odd, neg| neg);
deterministic!(Rto, "`rto`", false, |_rem, _half, odd, _neg| !odd);

/// Exact `sr`: away iff the 64-bit word is below the first 64 bits of the remainder fraction;
/// on equality the core stops when the remainder has no more bits (`d ≤ 64`: not away) and
/// otherwise draws again (rare; for d > 64 it is called rare whether or not bits follow).
pub(super) struct Sr;
impl Mode for Sr {
    const RANDOM: bool = true;
    const KEPT_MASK_ONLY: bool = true;
    #[inline(always)]
    fn away(_: &Ordinary, sig: u64, d: u64, _: u64, _: bool, _: bool, w: u64) -> (bool, bool) {
        // The remainder's first 64 bits, rem · 2^(64 − d): one of the two shifts (the other
        // count wraps above 63, giving 0); with d = 0 both give 0 = rem. From `sig`, not the
        // remainder: the left shift drops the kept bits, and for d > 64 they are the remainder
        // (sig < 2^53); so the dropped bits' mask is not needed (three instructions).
        let window = shl_or_zero(sig, 64u64.wrapping_sub(d)) | shr_or_zero(sig, d.wrapping_sub(64));
        // No test of rem ≠ 0 (two instructions of the finite tier's ~50, which is compute-bound
        // on wide data): a zero remainder has a zero window, which no word is below; and where
        // a word of 0 meets it with d > 64, calling the element rare only sends it to the core.
        (w < window, (w == window) & (d > 64))
    }
}

/// `sr:<r>`: the top r bits of the word against the remainder truncated to r bits.
pub(super) struct SrBits;
impl Mode for SrBits {
    const RANDOM: bool = true;
    #[inline(always)]
    fn away(k: &Ordinary, sig: u64, d: u64, low: u64, _: bool, _: bool, w: u64) -> (bool, bool) {
        let (r, rem) = (k.r, sig & low);
        // rem · 2^(r − d), as in `Sr::away`.
        let top = shr_or_zero(rem, d.wrapping_sub(r)) | shl_or_zero(rem, r.wrapping_sub(d));
        ((rem != 0) & ((w >> (64 - r)) < top), false)
    }
}

/// `sr-eq`: the top bit of the word.
pub(super) struct SrEq;
impl Mode for SrEq {
    const RANDOM: bool = true;
    #[inline(always)]
    fn away(_: &Ordinary, sig: u64, _: u64, low: u64, _: bool, _: bool, w: u64) -> (bool, bool) {
        ((sig & low != 0) & (w >> 63 == 1), false)
    }
}

/// Rounds an ordinary element (see [`Ordinary::is_ordinary`]) with bits `b`: `d = s0`, the sign
/// bit rides along, a carry out of the kept bits is the carry into the exponent, and the result
/// cannot overflow (the largest finite value is on the grid). Never rare: `d ≤ 52`.
#[inline(always)]
pub(super) fn ordinary_element<M: Mode>(k: &Kernel, b: u64, w: u64) -> u64 {
    M::ordinary(&k.ord, b, w)
}

/// Whether the kept significand of the ordinary element `b` is odd: bit `s0` of the
/// significand, which for `s0 = 52` (precision 1) is the hidden bit, always set.
#[inline(always)]
fn kept_is_odd(k: &Ordinary, b: u64) -> bool {
    ((b | 1 << 52) >> k.s0) & 1 == 1
}

#[inline(always)]
fn pick(c: bool, yes: u64, no: u64) -> u64 {
    if c { yes } else { no }
}

/// The rounding of the finite f64 with bits `b` (random word `w`) before its special cases:
/// `r`, the magnitude bits of the rounded value on the grid with unbounded exponent (0 where it
/// rounds to zero), and whether the element is rare (only exact `sr`, see [`Mode::away`]).
#[inline(always)]
fn magnitude<M: Mode>(k: &Kernel, b: u64, w: u64) -> (u64, bool) {
    let a = b & !SIGN;
    let (sig, d) = k.significand(a);
    // The masks of the kept and the dropped bits, and 2^d (for d > 52 the step is picked
    // instead). Exact `sr` needs no dropped bits' mask: from the kept bits' mask alone (one
    // vector shift) the rest is three instructions fewer. For the other modes the compiler
    // did the same with the dropped bits' mask first (and its loops for `rup` and `rdn` ran at
    // half the speed the other way).
    let (high, low, pow) = if M::KEPT_MASK_ONLY {
        let high = shl_or_zero(u64::MAX, d);
        (high, !high, high.wrapping_neg())
    } else {
        let low = low_bits(d);
        (!low, low, low.wrapping_add(1))
    };
    let odd = shr_or_zero(sig, d) & 1 == 1;
    let (away, rare) = M::away(&k.ord, sig, d, low, odd, b & SIGN != 0, w);
    let in_grid = d <= 52;
    let kept = pick(in_grid, a & high, 0);
    let up = pick(in_grid, pow, k.step);
    (kept + pick(away, up, 0), rare)
}

/// `x << n`, and 0 for `n ≥ 64`: what the vector shifts (AVX2, AVX-512) do, so that this
/// compiles to one of them, where a shift count clamped to 63 took a minimum and a select too.
#[inline(always)]
fn shl_or_zero(x: u64, n: u64) -> u64 {
    if n < 64 { x << n } else { 0 }
}

/// `x >> n`, and 0 for `n ≥ 64` (see [`shl_or_zero`]).
#[inline(always)]
fn shr_or_zero(x: u64, n: u64) -> u64 {
    if n < 64 { x >> n } else { 0 }
}

/// The low `d` bits set: 2^d − 1, all ones for `d ≥ 64`.
#[inline(always)]
fn low_bits(d: u64) -> u64 {
    shl_or_zero(1, d).wrapping_sub(1)
}

/// The result for the input bits `b` from its rounded magnitude `r`: `r` with `b`'s sign, or
/// the format's rounding to zero or overflow for that sign — the special cases every element
/// function has. With `ZERO_SIGNED` (only where [`Kernel::zero_keeps_sign`]) the rounding to
/// zero is r = 0 with `b`'s sign and needs no select of its own.
#[inline(always)]
fn signed_result<const ZERO_SIGNED: bool>(k: &Kernel, b: u64, r: u64) -> u64 {
    let neg = b & SIGN != 0;
    // Per-sign constants by select, not by index (an index would be a gather).
    let signed = |c: [u64; 2]| pick(neg, c[1], c[0]);
    let y = r | (b & SIGN);
    let y = if ZERO_SIGNED {
        y
    } else {
        pick(r == 0, signed(k.rounded_zero), y)
    };
    pick(r > k.ord.max, signed(k.overflow), y)
}

/// Whether the f64 with bits `b` is finite.
#[inline(always)]
pub(super) fn is_finite_bits(b: u64) -> bool {
    b & !SIGN < INF
}

/// Rounds the f64 with bits `b` (random word `w`): the bits of the result, and whether the
/// element is rare (then the result is `b` itself, and the caller must use the core).
#[inline(always)]
pub(super) fn element<M: Mode>(k: &Kernel, b: u64, w: u64) -> (u64, bool) {
    let a = b & !SIGN;
    let neg = b & SIGN != 0;
    let (r, rare) = magnitude::<M>(k, b, w);
    let signed = |c: [u64; 2]| pick(neg, c[1], c[0]);
    // (Below the smallest value of a format without zero, `r` is at most 2^emin, never an
    // overflow: the two cases exclude each other, so their order does not matter.)
    let mut y = signed_result::<false>(k, b, r);
    y = pick(a < k.below_smallest, signed(k.smallest), y);
    y = pick(neg & (k.unsigned != 0), k.invalid, y);
    y = pick(a == 0, signed(k.input_zero), y);
    y = pick(a == INF, signed(k.inf), y);
    y = pick(a > INF, k.nan, y);
    (pick(rare, b, y), rare)
}

/// [`element`] for a finite `b` where the kernel [`Kernel::has_finite_tier`]: a signed format
/// with zero, whose rounding of ±0 is the rounding to zero. Of the special cases only
/// rounding to zero and overflow remain, two selects where [`element`] has seven (for wide
/// data in a small-range format most blocks are neither ordinary nor hold NaN or Inf), one with
/// `ZERO_SIGNED` where [`Kernel::zero_keeps_sign`] (the tier is compute-bound: each vector
/// instruction is about 2 % of its time).
#[inline(always)]
pub(super) fn finite_element<M: Mode, const ZERO_SIGNED: bool>(
    k: &Kernel,
    b: u64,
    w: u64,
) -> (u64, bool) {
    let (r, rare) = magnitude::<M>(k, b, w);
    (pick(rare, b, signed_result::<ZERO_SIGNED>(k, b, r)), rare)
}

impl Kernel {
    /// Whether this kernel rounds by exact `sr` and has the finite tier: the condition of
    /// [`Kernel::round_sr_finite`].
    pub(crate) fn has_sr_finite(&self) -> bool {
        self.has_finite_tier() && self.rounding.mode == (RoundingMode::Stochastic { bits: None })
    }

    /// The rounding of the finite f64 with bits `b`, random word `w`, where
    /// [`Kernel::has_sr_finite`]: the magnitude bits of the result and whether the element is
    /// rare (see [`Mode::away`]: the core decides, and the result is |b|). For loops that fuse the rounding with work of their own
    /// (block quantisation's direct `sr` path).
    #[inline(always)]
    pub(crate) fn round_sr_finite(&self, b: u64, w: u64) -> (u64, bool) {
        debug_assert!(self.has_sr_finite());
        // Without its sign, rounding to zero is +0 in every format with the finite tier, so
        // the variant without a select for it serves them all.
        let (r, rare) = finite_element::<Sr, true>(self, b, w);
        (r & !SIGN, rare)
    }

    /// [`Kernel::round_sr_finite`] of an ordinary `b` (see [`Ordinary::is_ordinary`]), which
    /// is never rare: a few integer operations.
    #[inline(always)]
    pub(crate) fn round_sr_ordinary(&self, b: u64, w: u64) -> u64 {
        debug_assert!(self.has_sr_finite() && self.ord.is_ordinary_bits(b));
        ordinary_element::<Sr>(self, b, w)
    }
}

/// [`finite_element`] under `rne` where the kernel [`Kernel::has_rne_shift`]: the normal
/// range (and beyond: overflow) by the ordinary formula; below it, |x| + C − C with
/// C = 2^(qlow + 52), two f64 operations. The sum lies in [C, 2C), where the f64 step is the
/// format's subnormal step 2^qlow, so f64's own round-to-nearest-even rounds |x| to that grid
/// (C is an even multiple of the step, so its ties go to even subnormal significands, as the
/// format's), and the subtraction is exact. No variable shift, few selects: the common case of
/// wide data in a small-range format. The only rounding here that uses the FP unit: it relies
/// on the default floating-point environment (round to nearest even, no flush-to-zero or
/// denormals-are-zero), in which Rust code always runs unless foreign code changes MXCSR.
#[inline(always)]
pub(super) fn rne_finite_element(k: &Kernel, b: u64) -> u64 {
    let a = b & !SIGN;
    let normal = Rne::ordinary(&k.ord, a, 0);
    let below = ((f64::from_bits(a) + k.rne_shift) - k.rne_shift).to_bits();
    // A mask, not `pick`: with a select the compiler moved the f64 arithmetic into a branch
    // per element, and the loop no longer vectorised.
    let sub = ((a < k.ord.range.min_normal) as u64).wrapping_neg();
    signed_result::<false>(k, b, (below & sub) | (normal & !sub))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{RandomSource, Stream};

    /// [`Nudge::round`] (and [`Ordinary::round`], which falls back to the mode's kernel outside
    /// the nudge's range) against the general element function (itself tested against the core
    /// in tests/fast_slice.rs) on ordinary values: random ones over the whole range, both ends,
    /// and under `rne` values around 2^(1023 − s0), where the split's range ends, and ties.
    #[test]
    fn the_nudge_is_the_general_element_function_on_ordinary_values() {
        let modes = ["rne", "rna", "rtz", "rup", "rdn", "sr", "sr:3", "sr:20"];
        let names = [
            "e4m0", "e2m1", "e4m3", "e5m2", "e5m10", "bf16", "binary32", "e11m0", "e11m3",
            "e11m10", "e11m30", "e11m50", "e11m51", "e11m52", "e8m52",
        ];
        let mut s = Stream::new(10);
        let mut checked = [0usize; 2];
        for name in names {
            let fmt = Format::parse(name).unwrap();
            for mode in modes {
                let rounding = Rounding::new(mode.parse().unwrap());
                let k = Kernel::new(&fmt, &rounding).unwrap();
                let nudge = k.ord.nudge().unwrap();
                let (min, max) = (k.ord.range.min_normal, k.ord.max);
                let s0 = k.ord.s0;
                let top = f64::from_bits((2046 - s0) << 52);
                let mut xs = vec![f64::from_bits(min), f64::from_bits(max), top, 2.0 * top];
                xs.extend(xs.clone().iter().flat_map(|v| [v.next_up(), v.next_down()]));
                for _ in 0..20_000 {
                    let b = s.next_u64();
                    // Uniform in the bits of the ordinary range, and around 2^(1023 − s0).
                    xs.push(f64::from_bits(min + b % (max - min + 1)));
                    xs.push(top * (1.0 + (b >> 11) as f64 * 2f64.powi(-54)));
                    // A tie, and its neighbours: a kept part, then a one and zeros dropped.
                    let tie =
                        (min + b % (max - min + 1)) & !((1u64 << s0) - 1) | ((1u64 << s0) >> 1);
                    let tie = f64::from_bits(tie);
                    xs.extend([tie, tie.next_up(), tie.next_down()]);
                }
                for x in xs.into_iter().flat_map(|x| [x, -x]) {
                    if !k.ord.is_ordinary(x) {
                        continue;
                    }
                    let w = s.next_u64();
                    let (general, _) =
                        with_mode!(rounding.mode, M => element::<M>(&k, x.to_bits(), w));
                    let got = k.ord.round(x, w).to_bits();
                    assert_eq!(got, general, "{name} {mode}: {x:e} word {w:#x}");
                    let by_nudge = nudge.is_ordinary(x);
                    if by_nudge {
                        assert_eq!(nudge.round(x, w).to_bits(), general, "{name} {mode}: {x:e}");
                    }
                    checked[by_nudge as usize] += 1;
                }
            }
        }
        // Under `rne`, the e11 formats' values from 2^(1023 − s0) on fall back to the kernel.
        assert!(
            checked[0] > 10_000 && checked[1] > 13 * 8 * 40_000,
            "{checked:?}"
        );
    }

    /// The finite tier, and its `rne` variant, against the general element function (itself
    /// tested against the core in tests/fast_slice.rs), on every finite class of input: random
    /// bit patterns and values at and around zero, the subnormal steps, the normal range's ends
    /// and beyond.
    /// Exact `sr` calls ±0 with a word of 0 rare (its window and the word are both 0 with
    /// d > 64): the result must still be the core's, ±0 (the slice loops and `fix_rare` hand
    /// rare elements to the core the same way as `round_f64`).
    #[test]
    fn signed_zeros_with_a_zero_word_round_to_themselves() {
        for name in ["e4m3", "binary16", "e4m3fnuz", "e2m1"] {
            let fmt = Format::parse(name).unwrap();
            let k = Kernel::new(&fmt, &Rounding::new("sr".parse().unwrap())).unwrap();
            for z in [0.0f64, -0.0] {
                let (_, rare) = element::<Sr>(&k, z.to_bits(), 0);
                assert!(rare, "{name} {z}");
                let core = k.round_exact(z, &mut ElementStream::from_word(0));
                assert_eq!(k.round_f64(z, 0).to_bits(), core.to_bits(), "{name} {z}");
            }
        }
    }

    #[test]
    fn the_finite_tiers_are_the_general_element_function_on_finite_values() {
        let modes = [
            "rne", "rna", "rtz", "rup", "rdn", "rto", "sr", "sr:3", "sr-eq",
        ];
        let names = [
            "e4m3", "e5m2", "e2m1", "e3m2", "binary16", "bf16", "e4m3fnuz", "e5m2fnuz", "e11m3",
            "binary32", "ue4m3", "e8m0",
        ];
        let mut s = Stream::new(9);
        let (mut with, mut without, mut with_shift) = (0, 0, 0);
        let (mut signed_zero_kernels, mut with_signed_zero) = (0, 0);
        for name in names {
            let fmt = Format::parse(name).unwrap();
            for mode in modes {
                for rounding in [
                    Rounding::new(mode.parse().unwrap()),
                    Rounding::new(mode.parse().unwrap()).saturating(),
                ] {
                    let k = Kernel::new(&fmt, &rounding).unwrap();
                    if !k.has_finite_tier() {
                        without += 1;
                        continue;
                    }
                    with += 1;
                    signed_zero_kernels += k.zero_keeps_sign() as usize;
                    let min = f64::from_bits(k.ord.range.min_normal);
                    let max = f64::from_bits(k.ord.max);
                    let step = f64::from_bits(k.step);
                    let mut xs = vec![0.0, 5e-324, f64::MIN_POSITIVE, f64::MAX, 1.0];
                    for v in [
                        min,
                        max,
                        step,
                        step / 2.0,
                        step * 1.5,
                        max * 1.0625,
                        max * 2.0,
                    ] {
                        xs.extend([v, v.next_up(), v.next_down()]);
                    }
                    for _ in 0..20_000 {
                        let b = s.next_u64();
                        let v = f64::from_bits(b);
                        // Half arbitrary bit patterns, half scaled into the format's range.
                        let scaled = f64::from_bits(b & MANT | 1023 << 52)
                            * min
                            * 2f64.powi((b % 40) as i32 - 8);
                        xs.push(if v.is_finite() { v } else { scaled });
                        xs.push(scaled);
                    }
                    for x in xs.iter().filter(|x| x.is_finite()).flat_map(|&x| [x, -x]) {
                        let (b, w) = (x.to_bits(), s.next_u64());
                        let (general, tier, signed) = with_mode!(rounding.mode, M => (
                            element::<M>(&k, b, w),
                            finite_element::<M, false>(&k, b, w),
                            finite_element::<M, true>(&k, b, w),
                        ));
                        assert_eq!(tier, general, "{name} {rounding:?}: {x:e} word {w:#x}");
                        if k.zero_keeps_sign() {
                            assert_eq!(signed, general, "{name} {rounding:?}: {x:e} (±0)");
                            with_signed_zero += 1;
                        }
                        if rounding.mode == RoundingMode::NearestEven && k.has_rne_shift() {
                            let shifted = rne_finite_element(&k, b);
                            assert_eq!(shifted, general.0, "{name} {rounding:?}: {x:e} (rne)");
                            with_shift += 1;
                        }
                    }
                }
            }
        }
        // The tier covers the signed formats with zero, not `ue4m3` (unsigned) or `e8m0`; the
        // rne shift every one of them under rne (two overflow policies, both signs).
        assert_eq!((with, without), (10 * 18, 2 * 18));
        assert!(with_shift > 10 * 2 * 2 * 40_000, "{with_shift}");
        // Rounding to zero keeps the sign in all but the two `fnuz` formats.
        assert_eq!(signed_zero_kernels, 8 * 18);
        assert!(with_signed_zero > 8 * 18 * 40_000, "{with_signed_zero}");
    }
}
