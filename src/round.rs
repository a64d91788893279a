//! The rounding core: the one place where a rounding decision is made.
//!
//! [`round`] takes an exact finite value and returns the code of the format value it rounds to,
//! with the IEEE exception flags. Every conversion and every operation in this crate ends here
//! (as every Berkeley SoftFloat operation ends in `roundPack`), and every fast path is tested
//! bit for bit against it. [`round_value`] adds the special operands (NaN, ±Inf).

use crate::exact::{Exact, Value};
use crate::flags::{Flagged, Flags};
use crate::format::Format;
use crate::mode::{Overflow, Rounding, RoundingMode, Tininess};
use crate::rng::RandomSource;
use num_bigint::BigUint;
use num_traits::{ToPrimitive, Zero};
use std::cmp::Ordering;

/// Rounds the exact finite value `x` into `fmt`.
///
/// Stochastic modes draw from `rng` (deterministic modes never touch it). The result is the
/// code of the rounded value and the flags: inexact; underflow (tiny and inexact, tininess per
/// `rounding.tininess`); overflow (the value rounded with unbounded exponent exceeds the largest
/// finite value); invalid (a negative value for an unsigned format).
pub fn round<R: RandomSource + ?Sized>(
    fmt: &Format,
    x: &Exact,
    rounding: &Rounding,
    rng: &mut R,
) -> Flagged<u128> {
    let neg = x.neg;
    let Some(e) = x.leading_exp() else {
        return match fmt.zero(neg) {
            Some(code) => Flagged::exact(code),
            // No zero (E8M0): the smallest value is the nearest in every mode.
            None => Flagged::new(smallest(fmt, neg), Flags::INEXACT | Flags::UNDERFLOW),
        };
    };
    if neg && !fmt.is_signed() {
        return invalid(fmt);
    }
    let p = fmt.precision() as i64;
    let emin = fmt.emin() as i64;
    if !fmt.has_zero() && e < emin {
        return Flagged::new(smallest(fmt, neg), Flags::INEXACT | Flags::UNDERFLOW);
    }

    // Position (exponent) of the last bit kept. Without subnormals a value below the smallest
    // normal is rounded on a grid whose one step spans [0, 2^emin].
    let q = if e >= emin {
        e - (p - 1)
    } else if fmt.has_subnormals() {
        emin - (p - 1)
    } else {
        emin
    };
    let (t, rem) = split(x, q);
    let inexact = !rem.is_zero();
    let away = inexact && rounds_away(rounding.mode, neg, t & 1 == 1, &rem, rng);

    let mut flags = Flags::NONE;
    if inexact {
        flags |= Flags::INEXACT;
        if is_tiny(fmt, x, e, rounding) {
            flags |= Flags::UNDERFLOW;
        }
    }

    let (mut t, mut q) = (t + away as u128, q);
    if t >> p != 0 {
        // Carry out of the top bit: the next binade.
        t >>= 1;
        q += 1;
    }
    if t != 0 {
        let e_result = q + 127 - t.leading_zeros() as i64;
        let emax = fmt.emax() as i64;
        if e_result > emax || (e_result == emax && t > fmt.max_sig()) {
            return Flagged::new(
                overflow_code(fmt, neg, rounding),
                flags | Flags::OVERFLOW | Flags::INEXACT,
            );
        }
    }
    Flagged::new(encode(fmt, neg, t, q), flags)
}

/// Rounds the exact finite value `x` to an integer in `mode` (stochastic modes draw from
/// `rng`): the integer as an exact value with the sign of `x` (so −0.3 gives −0), and whether
/// it differs from `x`. Integer conversions and round-to-integral end here.
pub fn round_to_integral<R: RandomSource + ?Sized>(
    x: &Exact,
    mode: RoundingMode,
    rng: &mut R,
) -> (Exact, bool) {
    if x.exp >= 0 {
        debug_assert!(
            !x.sticky,
            "sticky values must carry guard bits below the integer"
        );
        return (x.clone(), false);
    }
    let width = (-x.exp) as u64;
    let t = &x.sig >> width;
    let rem = Remainder {
        sig: &x.sig,
        width,
        sticky: x.sticky,
    };
    let inexact = !rem.is_zero();
    let away = inexact && rounds_away(mode, x.neg, t.bit(0), &rem, rng);
    let t = if away { t + 1u32 } else { t };
    (Exact::new(x.neg, t, 0), inexact)
}

/// Rounds any value — NaN, ±Inf or finite — into `fmt`.
///
/// NaN stays NaN (the format's default NaN; invalid if it was signaling; +0 with invalid in a
/// format without NaN). ±Inf stays ±Inf where the format has it; otherwise it becomes ±max with
/// the saturating policy or in a format without NaN (overflow, inexact), and NaN (invalid)
/// otherwise.
pub fn round_value<R: RandomSource + ?Sized>(
    fmt: &Format,
    v: &Value,
    rounding: &Rounding,
    rng: &mut R,
) -> Flagged<u128> {
    match v {
        Value::Finite(x) => round(fmt, x, rounding, rng),
        Value::Nan { signaling } => {
            let flags = if *signaling {
                Flags::INVALID
            } else {
                Flags::NONE
            };
            match fmt.default_nan() {
                Some(nan) => Flagged::new(nan, flags),
                None => Flagged::new(fmt.zero(false).unwrap_or(0), Flags::INVALID),
            }
        }
        Value::Inf { neg } => {
            if *neg && !fmt.is_signed() {
                return invalid(fmt);
            }
            match fmt.inf(*neg) {
                Some(inf) if rounding.overflow == Overflow::Ieee => Flagged::exact(inf),
                _ if rounding.overflow == Overflow::Ieee && fmt.has_nan() => invalid(fmt),
                _ => Flagged::new(fmt.max_finite(*neg), Flags::OVERFLOW | Flags::INEXACT),
            }
        }
    }
}

/// ± the smallest magnitude, for values below it in a format without zero.
fn smallest(fmt: &Format, neg: bool) -> u128 {
    let sign = if neg { fmt.sign_bit() } else { 0 };
    sign | fmt.min_positive_magnitude_code()
}

/// The default NaN with the invalid flag, or +0 with it where the format has no NaN.
pub fn invalid(fmt: &Format) -> Flagged<u128> {
    let code = fmt
        .default_nan()
        .or_else(|| fmt.zero(false))
        .unwrap_or_else(|| fmt.min_positive_magnitude_code());
    Flagged::new(code, Flags::INVALID)
}

/// The result of an overflow: ±Inf (or NaN, or ±max without either) when the mode rounds away
/// from zero, ±max finite when it rounds toward zero or the policy saturates.
fn overflow_code(fmt: &Format, neg: bool, rounding: &Rounding) -> u128 {
    let to_infinity = match rounding.mode {
        RoundingMode::NearestEven
        | RoundingMode::NearestAway
        | RoundingMode::Stochastic { .. }
        | RoundingMode::StochasticEqual => true,
        RoundingMode::TowardZero | RoundingMode::ToOdd => false,
        RoundingMode::TowardPositive => !neg,
        RoundingMode::TowardNegative => neg,
    };
    if rounding.overflow == Overflow::Saturate || !to_infinity {
        return fmt.max_finite(neg);
    }
    fmt.inf(neg)
        .or_else(|| fmt.default_nan())
        .unwrap_or_else(|| fmt.max_finite(neg))
}

/// Whether the inexact value `x` (leading exponent `e`) is tiny.
fn is_tiny(fmt: &Format, x: &Exact, e: i64, rounding: &Rounding) -> bool {
    let emin = fmt.emin() as i64;
    let before = rounding.tininess == Tininess::BeforeRounding || rounding.mode.is_stochastic();
    if e >= emin {
        return false;
    }
    if before || e < emin - 1 || !fmt.has_zero() {
        return true;
    }
    // Just below the smallest normal: tiny unless rounding to p bits with unbounded exponent
    // carries it up to 2^emin, which needs an all-ones significand rounded away.
    let p = fmt.precision() as i64;
    let (t, rem) = split(x, e - (p - 1));
    let all_ones = t == (1u128 << p) - 1;
    let away = !rem.is_zero()
        && rounds_away(
            rounding.mode,
            x.neg,
            t & 1 == 1,
            &rem,
            &mut crate::rng::NoRandom,
        );
    !(all_ones && away)
}

/// Whether an inexact magnitude rounds away from zero (to the next code up in magnitude).
fn rounds_away<R: RandomSource + ?Sized>(
    mode: RoundingMode,
    neg: bool,
    odd: bool,
    rem: &Remainder,
    rng: &mut R,
) -> bool {
    match mode {
        RoundingMode::NearestEven => match rem.cmp_half() {
            Ordering::Greater => true,
            Ordering::Equal => odd,
            Ordering::Less => false,
        },
        RoundingMode::NearestAway => rem.cmp_half() != Ordering::Less,
        RoundingMode::TowardZero => false,
        RoundingMode::TowardPositive => !neg,
        RoundingMode::TowardNegative => neg,
        RoundingMode::ToOdd => !odd,
        RoundingMode::Stochastic { bits: None } => rem.exceeds_uniform(rng),
        RoundingMode::Stochastic { bits: Some(r) } => {
            (rng.next_u64() >> (64 - r as u32)) < rem.top_bits(r as u32)
        }
        RoundingMode::StochasticEqual => rng.next_u64() >> 63 == 1,
    }
}

/// The code of the finite value `±t · 2^q`, which the caller guarantees is representable.
fn encode(fmt: &Format, neg: bool, t: u128, q: i64) -> u128 {
    if t == 0 {
        return fmt
            .zero(neg)
            .expect("a format without zero never rounds to zero");
    }
    let p = fmt.precision() as i64;
    let q_min = fmt.min_quantum_exp() as i64;
    let bits = 128 - t.leading_zeros() as i64;
    let shift = (p - bits).min(q - q_min).max(0);
    let (t, q) = (t << shift, q - shift);
    let sign = if neg { fmt.sign_bit() } else { 0 };
    let hidden = 1u128 << (p - 1);
    if t >= hidden {
        let field = (q + p - 1 + fmt.bias() as i64) as u128;
        sign | (field << fmt.man_bits()) | (t - hidden)
    } else {
        sign | t
    }
}

/// Splits `|x|` at bit position `q`: the integer `floor(|x| / 2^q)` and what lies below.
fn split(x: &Exact, q: i64) -> (u128, Remainder<'_>) {
    let width = q - x.exp;
    let t = if width <= 0 {
        debug_assert!(
            !x.sticky || x.sig.is_zero(),
            "sticky value without guard bits"
        );
        (&x.sig << (-width) as u64).to_u128()
    } else {
        (&x.sig >> width as u64).to_u128()
    };
    let rem = Remainder {
        sig: &x.sig,
        width: width.max(0) as u64,
        sticky: x.sticky,
    };
    (t.expect("the kept part has at most p ≤ 127 bits"), rem)
}

/// The part of a value below the rounding position, as a fraction `R ∈ [0, 1)` of one unit
/// in the last place: the low `width` bits of `sig`, then a sticky tail.
struct Remainder<'a> {
    sig: &'a BigUint,
    width: u64,
    sticky: bool,
}

impl Remainder<'_> {
    fn is_zero(&self) -> bool {
        !self.sticky && self.sig.trailing_zeros().is_none_or(|tz| tz >= self.width)
    }

    /// R compared with 1/2.
    fn cmp_half(&self) -> Ordering {
        if self.width == 0 {
            return Ordering::Less;
        }
        let below_half = self.sticky
            || self
                .sig
                .trailing_zeros()
                .is_some_and(|tz| tz < self.width - 1);
        match (self.sig.bit(self.width - 1), below_half) {
            (false, _) => Ordering::Less,
            (true, false) => Ordering::Equal,
            (true, true) => Ordering::Greater,
        }
    }

    /// `floor(R · 2^r)` for r ≤ 64.
    fn top_bits(&self, r: u32) -> u64 {
        self.window(self.width as i64 - r as i64, r)
    }

    /// Bits `[lo, lo + n)` of `sig` restricted to the remainder (n ≤ 64; positions below 0
    /// read as zeros).
    fn window(&self, lo: i64, n: u32) -> u64 {
        let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
        let bits = if lo >= 0 {
            (self.sig >> lo as u64)
                .iter_u64_digits()
                .next()
                .unwrap_or(0)
        } else {
            (self.sig << (-lo) as u64)
                .iter_u64_digits()
                .next()
                .unwrap_or(0)
        };
        // Drop bits at or above `width` (they belong to the kept part).
        let keep = (self.width as i64 - lo).clamp(0, 64) as u32;
        let keep_mask = if keep == 64 {
            u64::MAX
        } else {
            (1u64 << keep) - 1
        };
        bits & mask & keep_mask
    }

    /// Exact stochastic decision: with U an unbounded uniform bit string, whether U < R.
    /// Words of U are drawn until one differs from the matching word of R; if R's explicit
    /// bits run out first, U ≥ R unless a sticky tail makes R larger.
    fn exceeds_uniform<R: RandomSource + ?Sized>(&self, rng: &mut R) -> bool {
        let mut k = 0i64;
        loop {
            let u = rng.next_u64();
            let r = self.window(self.width as i64 - 64 * (k + 1), 64);
            if u != r {
                return u < r;
            }
            k += 1;
            if 64 * k >= self.width as i64 {
                return self.sticky;
            }
        }
    }
}
