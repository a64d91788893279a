//! ULP error of an implementation of a function against the correctly rounded result in a
//! format, over every input (exhaustive) or a seeded sample.
//!
//! Two definitions, as in the literature:
//! - **(a)** |y − f(x)| / ulp(f(x)), f(x) the exact value and ulp(t) = 2^(max(⌊log2 |t|⌋, emin)
//!   − p + 1) (unbounded above), as in the accuracy tables of Gladman, Innocente, Mather and
//!   Zimmermann: ≤ 0.5 means correctly rounded to nearest. f(x) comes from MPFR at p + 64 bits
//!   or, on the fast path, from an f64 evaluation whose error bound makes (a) exact to 2^−20
//!   ULP (see [`mod@reference`]).
//! - **(b)** the distance, in representable values, between y and the correctly rounded result
//!   (glibc's tests): 0 means correctly rounded, ±0 count as one value, ±Inf as one step beyond
//!   ±max.
//!
//! Each input is classified: both results NaN, or the same infinity, count as measured with
//! error 0; a NaN or infinity on one side only is a special-case mismatch and is left out of the
//! ULP statistics; finite results are measured (a zero on one side only is also counted as a
//! spurious or missing underflow, zeros of different sign as a signed-zero mismatch). Results
//! that are not values of the format are counted and measured by (b) after rounding to nearest.
//!
//! The inputs are split into fixed chunks whose statistics are combined in input order, so the
//! report — means included — does not depend on the number of threads. Sampled inputs draw
//! from [`crate::rng::word`] at (seed, position).

pub mod grid;
pub mod impls;
pub mod reference;

pub use impls::{Binary, BinaryF32, IMPLEMENTATION_NAMES, Unary, UnaryF32, named};
pub use reference::{ASSUMED_LIBM_ERROR, Reference};

use crate::codec;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::mode::{Rounding, RoundingMode};
use crate::oracle::Function;
use crate::rng::{NoRandom, derive_key, word};
use grid::Grid;
use rayon::prelude::*;
use serde::Serialize;

/// An implementation of a function to measure.
///
/// ```
/// use anyfloat::oracle::Function;
/// use anyfloat::ulp::{self, Config, Inputs, UnaryF32};
///
/// // f32::sqrt is correctly rounded: (a) at most 0.5, every result the correctly rounded one.
/// let mut cfg = Config::new(Function::Sqrt, anyfloat::Format::binary32());
/// cfg.inputs = Inputs::Samples { count: 10_000, seed: 1 };
/// let report = ulp::measure(&cfg, &UnaryF32(f32::sqrt)).unwrap();
/// assert!(report.max_ulp <= 0.5);
/// assert_eq!(report.incorrectly_rounded, 0);
/// ```
pub trait Implementation: Sync {
    /// The function at `args` (values of the measured format as f64, one per operand; atan2
    /// takes (y, x)), as a value of the format. `index` is the input's position in the scan,
    /// for implementations that draw random numbers, so they do not depend on scheduling.
    fn eval(&self, args: &[f64], index: u64) -> f64;

    /// A one-argument function at each of `xs`, the inputs at positions `first`, `first` + 1, …
    /// of the scan, into `out` (as long as `xs`): the scan calls this on runs of inputs, so an
    /// implementation pays its dispatch once per run. By default, [`Implementation::eval`] per
    /// input.
    fn eval_run(&self, xs: &[f64], first: u64, out: &mut [f64]) {
        for (k, (&x, y)) in xs.iter().zip(out.iter_mut()).enumerate() {
            *y = self.eval(&[x], first + k as u64);
        }
    }
}

/// Which inputs to measure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Inputs {
    /// Every code of the format (NaN, ±Inf and ±0 included unless a range is given); pairs of
    /// codes for two-argument functions (at most 2^24 pairs).
    Exhaustive,
    /// `count` inputs drawn uniformly among the values of the range (each operand), by code.
    Samples {
        /// Number of inputs.
        count: u64,
        /// Seed of the draws.
        seed: u64,
    },
}

/// A measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The function.
    pub function: Function,
    /// The format of inputs and results.
    pub format: Format,
    /// The rounding of the correctly rounded result; a stochastic mode (for an implementation
    /// that rounds stochastically) is measured against round-to-nearest-even.
    pub rounding: Rounding,
    /// Which inputs.
    pub inputs: Inputs,
    /// Only operands x with a ≤ x ≤ b (NaN excluded).
    pub range: Option<(f64, f64)>,
    /// Number of buckets of the per-input profile ([`Report::buckets`]).
    pub buckets: usize,
    /// Whether the f64 fast path may decide the reference (false: MPFR for every input).
    pub fast: bool,
    /// Whether one-argument functions on the fast path are scanned by runs of inputs (false:
    /// one input at a time, the general path; the report is the same, which the tests check).
    pub runs: bool,
}

impl Config {
    /// Exhaustive, round-to-nearest-even, whole range, 200 buckets, fast path on.
    pub fn new(function: Function, format: Format) -> Config {
        Config {
            function,
            format,
            rounding: Rounding::new(RoundingMode::NearestEven),
            inputs: Inputs::Exhaustive,
            range: None,
            buckets: 200,
            fast: true,
            runs: true,
        }
    }
}

/// One input, as codes and decimals.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Input {
    /// The operands' codes in hex.
    pub hex: Vec<String>,
    /// The operands' values.
    pub decimal: Vec<String>,
    /// The implementation's result.
    pub result: String,
    /// The correctly rounded result.
    pub correct: String,
}

/// A histogram bin: `count` inputs with error in (lo, hi] (the first bin includes 0).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bin {
    /// Lower end (exclusive, except 0).
    pub lo: f64,
    /// Upper end (inclusive; +Inf for the last bin).
    pub hi: f64,
    /// Inputs in the bin.
    pub count: u64,
}

/// Special-case mismatches (inputs counted once per kind that applies).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Specials {
    /// The correct result is NaN, the result is not.
    pub missing_nan: u64,
    /// The result is NaN, the correct one is not.
    pub spurious_nan: u64,
    /// The correct result is ±Inf (overflow or pole), the result is not that infinity.
    pub missing_overflow: u64,
    /// The result is ±Inf, the correct one is finite.
    pub spurious_overflow: u64,
    /// The correct result is ±0 (underflow or exact zero), the result is nonzero.
    pub missing_underflow: u64,
    /// The result is ±0, the correct one is nonzero.
    pub spurious_underflow: u64,
    /// Both are zeros, of different signs.
    pub signed_zero: u64,
    /// The result is not a value of the format.
    pub unrepresentable: u64,
}

impl Specials {
    /// Every count with its name.
    pub fn named(&self) -> [(&'static str, u64); 8] {
        [
            ("missing_nan", self.missing_nan),
            ("spurious_nan", self.spurious_nan),
            ("missing_overflow", self.missing_overflow),
            ("spurious_overflow", self.spurious_overflow),
            ("missing_underflow", self.missing_underflow),
            ("spurious_underflow", self.spurious_underflow),
            ("signed_zero", self.signed_zero),
            ("unrepresentable", self.unrepresentable),
        ]
    }

    /// The number of inputs with some mismatch (at most the sum of the counts).
    pub fn total(&self) -> u64 {
        self.named().iter().map(|(_, n)| n).sum()
    }

    fn add(&mut self, o: &Specials) {
        self.missing_nan += o.missing_nan;
        self.spurious_nan += o.spurious_nan;
        self.missing_overflow += o.missing_overflow;
        self.spurious_overflow += o.spurious_overflow;
        self.missing_underflow += o.missing_underflow;
        self.spurious_underflow += o.spurious_underflow;
        self.signed_zero += o.signed_zero;
        self.unrepresentable += o.unrepresentable;
    }
}

/// The errors over a range of inputs (by the first operand's position in the format's order).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bucket {
    /// Smallest first operand of the bucket's range.
    pub x_lo: f64,
    /// Largest first operand of the bucket's range.
    pub x_hi: f64,
    /// Inputs in the bucket.
    pub inputs: u64,
    /// Inputs measured (see [`Report::measured`]).
    pub measured: u64,
    /// Largest error (a).
    pub max_ulp: f64,
    /// Mean error (a).
    pub mean_ulp: f64,
    /// Largest distance (b).
    pub max_distance: u64,
    /// Results that are not the correctly rounded one.
    pub incorrectly_rounded: u64,
}

/// The result of a measurement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The function.
    pub function: String,
    /// The format.
    pub format: String,
    /// The rounding asked for.
    pub rounding: String,
    /// The rounding of the correctly rounded result.
    pub reference_rounding: String,
    /// "exhaustive" or "sampled".
    pub inputs_kind: String,
    /// Seed of sampled inputs.
    pub seed: Option<u64>,
    /// The range of operands, if restricted.
    pub range: Option<[f64; 2]>,
    /// Inputs evaluated.
    pub inputs: u64,
    /// Inputs in the ULP statistics: both results finite, or both the same NaN/infinity.
    pub measured: u64,
    /// Largest error (a), |y − f(x)| / ulp(f(x)).
    pub max_ulp: f64,
    /// Where (the first such input in scan order; none if the max is 0).
    pub argmax: Option<Input>,
    /// Mean error (a) over the measured inputs.
    pub mean_ulp: f64,
    /// Largest distance (b) from the correctly rounded result, in representable values.
    pub max_distance: u64,
    /// Where (none if the max is 0).
    pub argmax_distance: Option<Input>,
    /// Mean distance (b).
    pub mean_distance: f64,
    /// Inputs whose result is not the correctly rounded one (NaNs count as equal, ±0 not).
    pub incorrectly_rounded: u64,
    /// Histogram of error (a): [0, 0.5], (0.5, 1], (1, 2], (2, 4], …, (2^20, ∞]; empty bins left out.
    pub histogram: Vec<Bin>,
    /// Histogram of distance (b): 0, 1, 2, (2, 4], (4, 8], …, (2^20, ∞]; empty bins left out.
    pub histogram_distance: Vec<Bin>,
    /// Special-case mismatches.
    pub special: Specials,
    /// Inputs whose reference MPFR computed (the rest: the f64 fast path).
    pub mpfr_inputs: u64,
    /// Errors by input range, in the format's order of the first operand.
    #[serde(skip)]
    pub buckets: Vec<Bucket>,
}

/// Definition (a), as printed.
pub const DEFINITION_A: &str = "|y - f(x)| / ulp(f(x)), f(x) exact (Zimmermann et al.; <= 0.5 means correctly rounded to nearest)";
/// Definition (b), as printed.
pub const DEFINITION_B: &str =
    "distance from the correctly rounded result in representable values (glibc's tests)";

const NBINS: usize = 23;

/// Upper ends of the histogram bins of (a).
fn bin_hi_a(i: usize) -> f64 {
    match i {
        _ if i + 1 == NBINS => f64::INFINITY,
        0 => 0.5,
        _ => (1u64 << (i - 1)) as f64,
    }
}

/// Upper ends of the histogram bins of (b).
fn bin_hi_b(i: usize) -> f64 {
    match i {
        _ if i + 1 == NBINS => f64::INFINITY,
        0 => 0.0,
        _ => (1u64 << (i - 1)) as f64,
    }
}

/// The bin of error (a): 0 for [0, 0.5], k + 1 for (2^(k−1), 2^k].
fn bin_a(v: f64) -> usize {
    if v <= 0.5 {
        return 0;
    }
    if !v.is_finite() || v > (1u64 << (NBINS - 3)) as f64 {
        return NBINS - 1;
    }
    let e = ((v.to_bits() >> 52) & 0x7ff) as i64 - 1023;
    let ceil = if v.to_bits() & ((1 << 52) - 1) == 0 {
        e
    } else {
        e + 1
    };
    (ceil + 1) as usize
}

/// The bin of distance (b): 0 for 0, k + 1 for (2^(k−1), 2^k].
fn bin_b(d: u64) -> usize {
    if d == 0 {
        return 0;
    }
    let ceil = 64 - (d - 1).leading_zeros() as usize;
    (ceil + 1).min(NBINS - 1)
}

/// Where the max of a statistic sits.
#[derive(Clone, Copy, Debug, Default)]
struct At {
    codes: [u64; 2],
    y: f64,
    correct: f64,
}

#[derive(Clone, Debug, Default)]
struct BucketAcc {
    inputs: u64,
    measured: u64,
    max_ulp: f64,
    sum_ulp: f64,
    max_distance: u64,
    incorrect: u64,
}

/// Statistics of a chunk of inputs; chunks combine in order.
#[derive(Clone, Debug)]
struct Acc {
    inputs: u64,
    measured: u64,
    max_ulp: f64,
    argmax: Option<At>,
    sum_ulp: f64,
    max_distance: u64,
    argmax_distance: Option<At>,
    sum_distance: f64,
    incorrect: u64,
    hist_a: [u64; NBINS],
    hist_b: [u64; NBINS],
    special: Specials,
    mpfr: u64,
    buckets: Vec<BucketAcc>,
    /// The ordinal range and index of the bucket last looked up.
    last_bucket: (i64, i64, usize),
}

impl Acc {
    fn new(buckets: usize) -> Acc {
        Acc {
            inputs: 0,
            measured: 0,
            max_ulp: 0.0,
            argmax: None,
            sum_ulp: 0.0,
            max_distance: 0,
            argmax_distance: None,
            sum_distance: 0.0,
            incorrect: 0,
            hist_a: [0; NBINS],
            hist_b: [0; NBINS],
            special: Specials::default(),
            mpfr: 0,
            buckets: vec![BucketAcc::default(); buckets],
            last_bucket: (1, 0, 0),
        }
    }

    /// Adds `o`, which follows `self` in input order (ties of the maxima keep the first).
    fn add(&mut self, o: &Acc) {
        self.inputs += o.inputs;
        self.measured += o.measured;
        if o.argmax.is_some() && (self.argmax.is_none() || o.max_ulp > self.max_ulp) {
            self.max_ulp = o.max_ulp;
            self.argmax = o.argmax;
        }
        self.sum_ulp += o.sum_ulp;
        if o.argmax_distance.is_some()
            && (self.argmax_distance.is_none() || o.max_distance > self.max_distance)
        {
            self.max_distance = o.max_distance;
            self.argmax_distance = o.argmax_distance;
        }
        self.sum_distance += o.sum_distance;
        self.incorrect += o.incorrect;
        for i in 0..NBINS {
            self.hist_a[i] += o.hist_a[i];
            self.hist_b[i] += o.hist_b[i];
        }
        self.special.add(&o.special);
        self.mpfr += o.mpfr;
        for (b, ob) in self.buckets.iter_mut().zip(&o.buckets) {
            b.inputs += ob.inputs;
            b.measured += ob.measured;
            b.max_ulp = b.max_ulp.max(ob.max_ulp);
            b.sum_ulp += ob.sum_ulp;
            b.max_distance = b.max_distance.max(ob.max_distance);
            b.incorrect += ob.incorrect;
        }
    }
}

/// The format's values in order, for enumeration, sampling and distances.
struct Space {
    fmt: Format,
    grid: Option<Grid>,
    width: u32,
    binary32: bool,
}

impl Space {
    /// The value of `code` (NaN for NaN codes).
    #[inline]
    fn value(&self, code: u64) -> f64 {
        if self.binary32 {
            let v = f64::from(f32::from_bits(code as u32));
            return if v.is_nan() { f64::NAN } else { v };
        }
        match &self.grid {
            Some(g) => {
                let mag = code & !(1u64 << (self.width - 1));
                let inf = g.ordinal(f64::INFINITY) as u64;
                if mag > inf {
                    return f64::NAN;
                }
                let v = g.from_ordinal(mag as i64);
                if code >> (self.width - 1) & 1 == 1 {
                    -v
                } else {
                    v
                }
            }
            None => codec::to_f64(&self.fmt, u128::from(code)),
        }
    }

    /// The code at position `i` of the format's codes in ascending order of value (negative
    /// codes from the most negative, then the nonnegative ones; NaN codes sit at the ends, or
    /// where their encoding puts them).
    #[inline]
    fn code_at(&self, i: u64) -> u64 {
        if !self.fmt.is_signed() {
            return i;
        }
        let half = 1u64 << (self.width - 1);
        if i < half {
            half | (half - 1 - i)
        } else {
            i - half
        }
    }

    /// The position (see [`Space::code_at`]) of the code at ordinal `o`; for 0, that of −0
    /// (`last` false) or +0 (`last` true).
    fn position(&self, o: i64, last: bool) -> u64 {
        if !self.fmt.is_signed() {
            return o as u64;
        }
        let half = 1u64 << (self.width - 1);
        if o < 0 || (o == 0 && !last) {
            (half - 1).wrapping_add_signed(o)
        } else {
            half + o as u64
        }
    }

    /// The ordinal of a code: its magnitude, negated for negative codes.
    fn ordinal_of_code(&self, code: u64) -> i64 {
        if !self.fmt.is_signed() {
            return code as i64;
        }
        let half = 1u64 << (self.width - 1);
        let mag = (code & (half - 1)) as i64;
        if code & half != 0 { -mag } else { mag }
    }

    /// The code at an ordinal.
    fn code_of_ordinal(&self, o: i64) -> u64 {
        if o < 0 {
            (1u64 << (self.width - 1)) | o.unsigned_abs()
        } else {
            o as u64
        }
    }

    /// The ordinal of a value of the format (±Inf included), or of `v` rounded per `mode`.
    fn ordinal(&self, v: f64, mode: RoundingMode) -> i64 {
        match &self.grid {
            Some(g) => g.ordinal(g.round(v, mode)),
            None => {
                let code = codec::from_f64(&self.fmt, v, &Rounding::new(mode), &mut NoRandom).value;
                self.ordinal_of_code(code as u64)
            }
        }
    }

    /// Whether `v` is a value of the format.
    fn contains(&self, v: f64) -> bool {
        match &self.grid {
            Some(g) => g.contains(v),
            None => {
                let r = Rounding::new(RoundingMode::NearestEven);
                codec::to_f64(
                    &self.fmt,
                    codec::from_f64(&self.fmt, v, &r, &mut NoRandom).value,
                ) == v
            }
        }
    }
}

/// Measures `imp` per `cfg`.
pub fn measure(cfg: &Config, imp: &dyn Implementation) -> Result<Report> {
    let f = cfg.function;
    let fmt = cfg.format;
    let arity = f.arity();
    let det_mode = if cfg.rounding.mode.is_stochastic() {
        RoundingMode::NearestEven
    } else {
        cfg.rounding.mode
    };
    let ref_rounding = Rounding {
        mode: det_mode,
        ..cfg.rounding
    };
    let reference = Reference::new(f, &fmt, &ref_rounding, cfg.fast)?;
    if fmt.width() > 64 {
        return Err(Error::Invalid(format!("{fmt} is wider than 64 bits")));
    }
    let space = Space {
        fmt,
        grid: Grid::new(&fmt),
        width: fmt.width(),
        binary32: fmt == Format::binary32(),
    };
    if let Some((a, b)) = cfg.range
        && (a.is_nan() || b.is_nan() || a > b)
    {
        return Err(Error::Invalid(format!(
            "range {a},{b}: expected two numbers a <= b"
        )));
    }
    if cfg.buckets == 0 {
        return Err(Error::Invalid("buckets: expected at least 1".to_string()));
    }
    // The ordinal range of the first operand (buckets) and of sampled operands.
    let max = codec::to_f64(&fmt, fmt.max_finite(false));
    let top = if fmt.has_inf() { f64::INFINITY } else { max };
    let bottom = if !fmt.is_signed() {
        0.0
    } else if fmt.has_inf() {
        f64::NEG_INFINITY
    } else {
        -max
    };
    let (a, b) = cfg.range.unwrap_or((bottom, top));
    let (a, b) = (a.max(bottom), b.min(top));
    let (olo, ohi) = (
        space.ordinal(a, RoundingMode::TowardPositive),
        space.ordinal(b, RoundingMode::TowardNegative),
    );
    if olo > ohi {
        return Err(Error::Invalid(format!(
            "range {a},{b} holds no value of {fmt}"
        )));
    }
    let span = (ohi - olo) as u128 + 1;
    let (n, kind, seed) = match cfg.inputs {
        Inputs::Exhaustive => {
            let bits = space.width * arity as u32;
            if arity == 2 && bits > 24 {
                return Err(Error::Invalid(format!(
                    "exhaustive {f} over {fmt} is 2^{bits} pairs of operands; at most 2^24 \
                     are measured exhaustively, use samples"
                )));
            }
            if bits > 32 {
                return Err(Error::Invalid(format!(
                    "exhaustive {f} over {fmt} is 2^{bits} inputs; at most 2^32 are measured \
                     exhaustively, use samples"
                )));
            }
            if arity == 1 && cfg.range.is_some() {
                // The positions of the range's codes are contiguous: scan only those.
                let (p0, p1) = (space.position(olo, false), space.position(ohi, true));
                (p1 - p0 + 1, "exhaustive", None)
            } else {
                (1u64 << bits, "exhaustive", None)
            }
        }
        Inputs::Samples { count, seed } => {
            if count == 0 {
                return Err(Error::Invalid("samples: expected at least 1".to_string()));
            }
            (count, "sampled", Some(seed))
        }
    };
    let first = match (cfg.inputs, arity) {
        (Inputs::Exhaustive, 1) if cfg.range.is_some() => space.position(olo, false),
        _ => 0,
    };
    let key = derive_key(seed.unwrap_or(0), &[0x756c70]);
    let nb = cfg.buckets;
    let in_range = |v: f64| cfg.range.is_none_or(|(a, b)| v >= a && v <= b);
    // Bucket k holds the ordinals olo + [⌈k·span/nb⌉, ⌈(k+1)·span/nb⌉).
    let bucket_start = |k: usize| olo + (k as u128 * span).div_ceil(nb as u128) as i64;
    let bucket_of = |acc: &mut Acc, code: u64, v: f64| -> Option<usize> {
        let o = space.ordinal_of_code(code);
        if v.is_nan() || !(olo..=ohi).contains(&o) {
            return None;
        }
        // Consecutive inputs mostly share a bucket: no division for them.
        let (lo, hi, k) = acc.last_bucket;
        if (lo..=hi).contains(&o) {
            return Some(k);
        }
        let k = ((o - olo) as u128 * nb as u128 / span) as usize;
        acc.last_bucket = (bucket_start(k), bucket_start(k + 1) - 1, k);
        Some(k)
    };
    // The operands' codes at position i.
    let codes_at = |i: u64| -> [u64; 2] {
        let mut codes = [0u64; 2];
        match cfg.inputs {
            Inputs::Exhaustive => {
                let w = space.width;
                let mask = (1u64 << w) - 1;
                codes[0] = space.code_at(if arity == 2 { i >> w } else { first + i });
                codes[1] = space.code_at(i & mask);
            }
            Inputs::Samples { .. } => {
                for (k, c) in codes.iter_mut().enumerate().take(arity) {
                    let r = word(key, i * 2 + k as u64);
                    let o = olo + ((r as u128 * span) >> 64) as i64;
                    *c = space.code_of_ordinal(o);
                }
            }
        }
        codes
    };
    // The operands' codes and values at position i, or None if outside the range.
    let operands = |i: u64| -> Option<([u64; 2], [f64; 2])> {
        let codes = codes_at(i);
        let mut values = [0.0; 2];
        for k in 0..arity {
            values[k] = space.value(codes[k]);
        }
        (cfg.range.is_none() || values[..arity].iter().all(|&v| in_range(v)))
            .then_some((codes, values))
    };

    // Counts the input with operands `codes` (first operand's value `x`), result `y` and
    // reference `j` into `acc`.
    let tally = |acc: &mut Acc, codes: [u64; 2], x: f64, y: f64, j: reference::Judgement| {
        acc.inputs += 1;
        acc.mpfr += u64::from(j.mpfr);
        let cr = j.correct;
        let bucket = bucket_of(acc, codes[0], x);
        if let Some(b) = bucket {
            acc.buckets[b].inputs += 1;
        }
        let same = (y.is_nan() && cr.is_nan())
            || (y == cr && y.is_sign_negative() == cr.is_sign_negative());
        if !same {
            acc.incorrect += 1;
            if let Some(b) = bucket {
                acc.buckets[b].incorrect += 1;
            }
        }
        let sp = &mut acc.special;
        match (y.is_nan(), cr.is_nan()) {
            (true, false) => sp.spurious_nan += 1,
            (false, true) => sp.missing_nan += 1,
            _ => {}
        }
        if cr.is_infinite() && !same && !y.is_nan() {
            sp.missing_overflow += 1;
        }
        if y.is_infinite() && cr.is_finite() {
            sp.spurious_overflow += 1;
        }
        let finite = y.is_finite() && cr.is_finite();
        if finite {
            match (y == 0.0, cr == 0.0) {
                (false, true) => sp.missing_underflow += 1,
                (true, false) => sp.spurious_underflow += 1,
                (true, true) if !same => sp.signed_zero += 1,
                _ => {}
            }
            if !same && !space.contains(y) {
                sp.unrepresentable += 1;
            }
        }
        if !(same || finite) {
            return;
        }
        let (ulp, dist) = if finite {
            let ulp = j.ulp.unwrap_or(f64::INFINITY);
            let dist = if same {
                0
            } else {
                let oy = space.ordinal(y, RoundingMode::NearestEven);
                let oc = space.ordinal(cr, RoundingMode::NearestEven);
                oy.abs_diff(oc)
            };
            (ulp, dist)
        } else {
            (0.0, 0)
        };
        acc.measured += 1;
        acc.sum_ulp += ulp;
        acc.sum_distance += dist as f64;
        let at = At {
            codes,
            y,
            correct: cr,
        };
        if ulp > acc.max_ulp || acc.argmax.is_none() {
            acc.max_ulp = ulp;
            acc.argmax = Some(at);
        }
        if dist > acc.max_distance || acc.argmax_distance.is_none() {
            acc.max_distance = dist;
            acc.argmax_distance = Some(at);
        }
        acc.hist_a[bin_a(ulp)] += 1;
        acc.hist_b[bin_b(dist)] += 1;
        if let Some(b) = bucket {
            let b = &mut acc.buckets[b];
            b.measured += 1;
            b.max_ulp = b.max_ulp.max(ulp);
            b.sum_ulp += ulp;
            b.max_distance = b.max_distance.max(dist);
        }
    };
    let one = |acc: &mut Acc, i: u64| -> Result<()> {
        let Some((codes, values)) = operands(i) else {
            return Ok(());
        };
        let args = &values[..arity];
        let y = imp.eval(args, i);
        let j = reference.judge(&codes[..arity], args, y)?;
        tally(acc, codes, values[0], y, j);
        Ok(())
    };
    // The inputs at positions i0..i1 in order. One-argument functions on the fast path go by
    // runs: the operands of a run, then the implementation and the f64 reference on all of them
    // (one dynamic call, tight libm loops), then the judgements and tallies in input order —
    // the same arithmetic in the same order as `one`, so the same report.
    let libm = match (arity, reference.libm_function()) {
        (1, Some(reference::F64Fn::One(g))) if cfg.runs => Some(g),
        _ => None,
    };
    let inputs = |acc: &mut Acc, i0: u64, i1: u64| -> Result<()> {
        let Some(libm) = libm else {
            return (i0..i1).try_for_each(|i| one(acc, i));
        };
        const RUN: usize = 256;
        let (mut codes, mut xs) = ([0u64; RUN], [0.0f64; RUN]);
        let (mut ys, mut rs) = ([0.0f64; RUN], [0.0f64; RUN]);
        let mut i = i0;
        while i < i1 {
            let len = (i1 - i).min(RUN as u64) as usize;
            let mut whole = true;
            for k in 0..len {
                let c = codes_at(i + k as u64)[0];
                let x = space.value(c);
                if !in_range(x) {
                    whole = false;
                    break;
                }
                (codes[k], xs[k]) = (c, x);
            }
            if !whole {
                // Inputs outside the range (only at its ends): one at a time.
                (i..i + len as u64).try_for_each(|i| one(acc, i))?;
                i += len as u64;
                continue;
            }
            imp.eval_run(&xs[..len], i, &mut ys[..len]);
            for (r, &x) in rs[..len].iter_mut().zip(&xs[..len]) {
                *r = libm(x);
            }
            for k in 0..len {
                let (code, x, y) = (codes[k], xs[k], ys[k]);
                let j = match reference.judge_fast(&xs[k..=k], rs[k], y) {
                    Some(j) => j,
                    None => reference.judge_mpfr(&codes[k..=k], y)?,
                };
                let cr = j.correct;
                let same = y.to_bits() == cr.to_bits() || (y.is_nan() && cr.is_nan());
                if j.mpfr || !same {
                    tally(acc, [code, 0], x, y, j);
                } else {
                    // `tally` for the common case, the correctly rounded result: no mismatch,
                    // distance 0, error (a) that of the reference if finite, else (the same
                    // infinity or NaN) 0.
                    let ulp = if y.is_finite() {
                        j.ulp.unwrap_or(f64::INFINITY)
                    } else {
                        0.0
                    };
                    acc.inputs += 1;
                    acc.measured += 1;
                    acc.sum_ulp += ulp;
                    if ulp > acc.max_ulp || acc.argmax.is_none() {
                        acc.max_ulp = ulp;
                        acc.argmax = Some(At {
                            codes: [code, 0],
                            y,
                            correct: cr,
                        });
                    }
                    if acc.argmax_distance.is_none() {
                        acc.argmax_distance = Some(At {
                            codes: [code, 0],
                            y,
                            correct: cr,
                        });
                    }
                    acc.hist_a[bin_a(ulp)] += 1;
                    acc.hist_b[0] += 1;
                    if let Some(b) = bucket_of(acc, code, x) {
                        let b = &mut acc.buckets[b];
                        b.inputs += 1;
                        b.measured += 1;
                        b.max_ulp = b.max_ulp.max(ulp);
                        b.sum_ulp += ulp;
                    }
                }
            }
            i += len as u64;
        }
        Ok(())
    };

    const CHUNK: u64 = 1 << 14;
    const BATCH: u64 = 256;
    let chunks = n.div_ceil(CHUNK);
    let mut total = Acc::new(nb);
    let mut first = 0;
    while first < chunks {
        let last = (first + BATCH).min(chunks);
        let accs: Vec<Result<Acc>> = (first..last)
            .into_par_iter()
            .map(|c| {
                let mut acc = Acc::new(nb);
                inputs(&mut acc, c * CHUNK, ((c + 1) * CHUNK).min(n))?;
                Ok(acc)
            })
            .collect();
        for acc in accs {
            total.add(&acc?);
        }
        first = last;
    }

    let input = |at: &At| -> Input {
        let codes = &at.codes[..arity];
        Input {
            hex: codes
                .iter()
                .map(|&c| codec::hex(&fmt, u128::from(c)))
                .collect(),
            decimal: codes
                .iter()
                .map(|&c| codec::shortest(space.value(c)))
                .collect(),
            result: codec::shortest(at.y),
            correct: codec::shortest(at.correct),
        }
    };
    let bins = |h: &[u64; NBINS], hi: fn(usize) -> f64| -> Vec<Bin> {
        (0..NBINS)
            .filter(|&i| h[i] > 0)
            .map(|i| Bin {
                lo: if i == 0 { 0.0 } else { hi(i - 1) },
                hi: hi(i),
                count: h[i],
            })
            .collect()
    };
    let value_at = |o: i64| space.value(space.code_of_ordinal(o));
    let buckets = total
        .buckets
        .iter()
        .enumerate()
        .map(|(k, b)| {
            let (o_lo, o_hi) = (bucket_start(k), bucket_start(k + 1) - 1);
            Bucket {
                x_lo: value_at(o_lo),
                x_hi: value_at(o_hi.max(o_lo)),
                inputs: b.inputs,
                measured: b.measured,
                max_ulp: b.max_ulp,
                mean_ulp: if b.measured > 0 {
                    b.sum_ulp / b.measured as f64
                } else {
                    0.0
                },
                max_distance: b.max_distance,
                incorrectly_rounded: b.incorrect,
            }
        })
        .filter(|b| b.inputs > 0)
        .collect();
    let mean = |s: f64| {
        if total.measured > 0 {
            s / total.measured as f64
        } else {
            0.0
        }
    };
    Ok(Report {
        function: f.to_string(),
        format: fmt.to_string(),
        rounding: cfg.rounding.mode.to_string(),
        reference_rounding: det_mode.to_string(),
        inputs_kind: kind.to_string(),
        seed,
        range: cfg.range.map(|(a, b)| [a, b]),
        inputs: total.inputs,
        measured: total.measured,
        max_ulp: total.max_ulp,
        argmax: total
            .argmax
            .as_ref()
            .filter(|_| total.max_ulp > 0.0)
            .map(input),
        mean_ulp: mean(total.sum_ulp),
        max_distance: total.max_distance,
        argmax_distance: total
            .argmax_distance
            .as_ref()
            .filter(|_| total.max_distance > 0)
            .map(input),
        mean_distance: mean(total.sum_distance),
        incorrectly_rounded: total.incorrect,
        histogram: bins(&total.hist_a, bin_hi_a),
        histogram_distance: bins(&total.hist_b, bin_hi_b),
        special: total.special,
        mpfr_inputs: total.mpfr,
        buckets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_the_first_whose_upper_end_holds_the_value() {
        let mut values = vec![0.0, 0.5, 1.0, 2.0, 3.0, 1048576.0, 1048577.0, f64::INFINITY];
        values.extend((0..2000).map(|i| (i as f64 * 0.37).powf(1.7) / 7.0));
        for v in values {
            let want = (0..NBINS).find(|&i| v <= bin_hi_a(i)).unwrap();
            assert_eq!(bin_a(v), want, "(a) {v}");
            let d = v as u64;
            let want = (0..NBINS).find(|&i| d as f64 <= bin_hi_b(i)).unwrap();
            assert_eq!(bin_b(d), want, "(b) {d}");
        }
    }
}
