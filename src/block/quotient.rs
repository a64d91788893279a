//! Rounding the exact quotient `x / d` of two f64 values into a format: the one rounding step
//! of block quantisation (element = x / scale, NVFP4 scale = amax / (6 · tensor scale)).
//!
//! [`round_quotient`] is defined as the rounding core ([`crate::round`]) applied to the exact
//! quotient. A fast f64 path computes q = x / d and the exact residual x − q·d (one fma), which
//! places the true quotient strictly on one side of q; it decides every mode from that and
//! defers to the core whenever it cannot be sure: non-finite or extreme operands, an inexact q
//! on a grid point or midpoint, a stochastic word equal to the remainder's leading bits (or
//! within 10^−6 of it after the residual's correction), overflow, tininess it cannot settle,
//! and formats without subnormals or zero or wider than 51 significand bits. The tests compare
//! the two paths bit for bit, codes and flags.

use crate::arith;
use crate::exact::Value;
use crate::flags::{Flagged, Flags};
use crate::format::Format;
use crate::mode::{Rounding, RoundingMode, Tininess};
use crate::rng::ElementStream;

/// Precomputed parameters of a format for the fast path (only for formats whose values are
/// all f64 values and whose precision leaves f64 room for one more bit below the last).
#[derive(Clone, Copy, Debug)]
pub struct FastFormat {
    fmt: Format,
    p: i32,
    emin: i32,
    bias: i64,
    max: f64,
    usable: bool,
}

impl FastFormat {
    /// Precomputes the fast path's parameters of `fmt`.
    pub fn new(fmt: &Format) -> FastFormat {
        let usable = fmt.fits_in_f64()
            && fmt.precision() <= 51
            && fmt.has_subnormals()
            && fmt.has_zero()
            && fmt.width() <= 64;
        FastFormat {
            fmt: *fmt,
            p: fmt.precision() as i32,
            emin: fmt.emin(),
            bias: fmt.bias() as i64,
            max: crate::codec::to_f64(fmt, fmt.max_finite(false)),
            usable,
        }
    }
}

/// `2^k` for a normal-range exponent.
#[inline(always)]
fn pow2(k: i32) -> f64 {
    debug_assert!((-1022..=1023).contains(&k));
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// The exact quotient `x / d` rounded into `fmt` (element `index` of the stream `key` for
/// stochastic modes), with the core's flags.
pub fn round_quotient(
    fmt: &Format,
    x: f64,
    d: f64,
    rounding: &Rounding,
    key: u64,
    index: u64,
) -> Flagged<u128> {
    let fast = FastFormat::new(fmt);
    round_quotient_with(&fast, x, d, rounding, key, index)
}

/// [`round_quotient`] with the format's parameters computed once (for many calls).
#[inline]
pub fn round_quotient_with(
    fast: &FastFormat,
    x: f64,
    d: f64,
    rounding: &Rounding,
    key: u64,
    index: u64,
) -> Flagged<u128> {
    if fast.usable
        && let Some(code) = try_fast(fast, x, d, rounding, key, index)
    {
        return code;
    }
    core_quotient(&fast.fmt, x, d, rounding, key, index)
}

/// The reference: the exact quotient (with the core's guard bits and sticky bit), rounded by
/// the core.
pub fn core_quotient(
    fmt: &Format,
    x: f64,
    d: f64,
    rounding: &Rounding,
    key: u64,
    index: u64,
) -> Flagged<u128> {
    let q = arith::div(&Value::from_f64(x), &Value::from_f64(d), fmt.precision());
    let mut rng = ElementStream::new(key, index);
    arith::finish(fmt, &q, rounding, &mut rng)
}

/// The fast path; `None` where it cannot be sure of the core's answer.
#[inline(always)]
fn try_fast(
    f: &FastFormat,
    x: f64,
    d: f64,
    rounding: &Rounding,
    key: u64,
    index: u64,
) -> Option<Flagged<u128>> {
    let mode = rounding.mode;
    // Operand ranges where the quotient and its fma residual are exact f64 computations.
    let (ax, ad) = (x.abs(), d.abs());
    if !(ax == 0.0 || (1e-290..1e290).contains(&ax)) || !(1e-290..1e290).contains(&ad) {
        return None;
    }
    let neg = x.is_sign_negative() != d.is_sign_negative();
    if neg && !f.fmt.is_signed() {
        return None;
    }
    if x == 0.0 {
        return Some(Flagged::exact(f.fmt.zero(neg)?));
    }
    let q = x / d;
    let a = q.abs();
    if !(1e-280..1e280).contains(&a) {
        return None;
    }
    // x − q·d is exact, so its sign says on which side of q the true quotient lies:
    // dir = +1 if |x/d| > |q|, −1 if below, 0 if q is exact.
    // (A power-of-two divisor gives an exact quotient in this range: no fma needed.)
    let residual = if d.to_bits() & ((1u64 << 52) - 1) == 0 {
        0.0
    } else {
        (-q).mul_add(d, x)
    };
    let dir = if residual == 0.0 {
        0
    } else if ((residual > 0.0) == (d > 0.0)) == (q > 0.0) {
        1
    } else {
        -1
    };
    let e = ((a.to_bits() >> 52) as i32) - 1023;
    let quantum = e.max(f.emin) - (f.p - 1);
    if !(-1000..=1000).contains(&quantum) {
        return None;
    }
    let scaled = a * pow2(-quantum);
    if scaled < 1e-290 {
        return None;
    }
    let t0 = scaled.floor();
    let frac = scaled - t0;
    // An inexact q decides like the true quotient unless it sits on a grid point or midpoint
    // (the grid's half-quantum is a multiple of q's ulp since p ≤ 51).
    if dir != 0 && (frac == 0.0 || frac == 0.5) {
        return None;
    }
    // The true remainder is frac + delta (in units of the quantum), |delta| < ulp(scaled).
    let delta = if dir == 0 {
        0.0
    } else {
        dir as f64 * (residual / d).abs() * pow2(-quantum)
    };
    let inexact = frac != 0.0 || dir != 0;
    let before = rounding.tininess == Tininess::BeforeRounding || mode.is_stochastic();
    let t0 = t0 as u64;
    let away = if !inexact {
        false
    } else {
        match mode {
            RoundingMode::Stochastic { bits: None } => {
                // The core compares an unbounded uniform bit string with the remainder word
                // by word; the first words decide unless they are equal.
                let u = crate::rng::word(key, index);
                let r = top_bits(frac, delta, 64)?;
                if u == r {
                    return None;
                }
                u < r
            }
            RoundingMode::Stochastic { bits: Some(r) } => {
                let u = crate::rng::word(key, index) >> (64 - r as u32);
                u < top_bits(frac, delta, r as i32)?
            }
            RoundingMode::StochasticEqual => crate::rng::word(key, index) >> 63 == 1,
            m => decide(m, neg, t0 & 1 == 1, frac),
        }
    };
    // Tininess after rounding just below 2^emin: tiny unless rounding to p bits with unbounded
    // exponent carries the value up to 2^emin (an all-ones significand rounded away).
    let mut tiny = e < f.emin;
    if inexact && e == f.emin - 1 && !before {
        let su = a * pow2(-(e - (f.p - 1)));
        let (tu, fu) = (su.floor(), su - su.floor());
        if dir != 0 && (fu == 0.0 || fu == 0.5) {
            return None;
        }
        let all_ones = tu as u64 == (1u64 << f.p) - 1;
        tiny = !(all_ones && fu != 0.0 && decide(mode, neg, tu as u64 & 1 == 1, fu));
    }
    let (mut t, mut quantum) = (t0 + away as u64, quantum);
    if t >> f.p != 0 {
        t >>= 1;
        quantum += 1;
    }
    if t as f64 * pow2(quantum) > f.max {
        return None;
    }
    let sign = if neg { f.fmt.sign_bit() } else { 0 };
    let code = if t == 0 {
        f.fmt.zero(neg)?
    } else if t >> (f.p - 1) != 0 {
        let field = (quantum as i64 + f.p as i64 - 1 + f.bias) as u128;
        sign | (field << f.fmt.man_bits()) | (t as u128 - (1u128 << (f.p - 1)))
    } else {
        sign | t as u128
    };
    let mut flags = Flags::NONE;
    if inexact {
        flags |= Flags::INEXACT;
        if tiny {
            flags |= Flags::UNDERFLOW;
        }
    }
    Some(Flagged::new(code, flags))
}

/// Whether a deterministic mode rounds an inexact magnitude away from zero, given the parity
/// of the truncated significand and the remainder `frac` ∈ (0, 1) (never exactly 0 or 1/2 when
/// the f64 quotient was inexact; see the caller).
#[inline(always)]
fn decide(mode: RoundingMode, neg: bool, odd: bool, frac: f64) -> bool {
    match mode {
        RoundingMode::NearestEven => frac > 0.5 || (frac == 0.5 && odd),
        RoundingMode::NearestAway => frac >= 0.5,
        RoundingMode::TowardZero => false,
        RoundingMode::TowardPositive => !neg,
        RoundingMode::TowardNegative => neg,
        RoundingMode::ToOdd => !odd,
        RoundingMode::Stochastic { .. } | RoundingMode::StochasticEqual => {
            unreachable!("stochastic modes are decided by the caller")
        }
    }
}

/// floor((frac + delta) · 2^r) for the remainder frac + delta ∈ (0, 1), where frac is exact
/// and delta (|delta| below frac's last bit) carries relative error 2^−53; `None` when that
/// error could change the floor.
#[inline(always)]
fn top_bits(frac: f64, delta: f64, r: i32) -> Option<u64> {
    let y0 = frac * pow2(r);
    let i = y0.floor();
    if delta == 0.0 {
        return Some(i as u64);
    }
    let y = (y0 - i) + delta * pow2(r);
    let n = y.floor();
    let gap = y - n;
    if !(1e-6..1.0 - 1e-6).contains(&gap) {
        return None;
    }
    let v = i as u64 as i128 + n as i128;
    (0..1i128 << r).contains(&v).then_some(v as u64)
}
