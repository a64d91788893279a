//! `Emu`: a scalar for model code whose every operation is rounded into the current format.
//!
//! The format, rounding mode and random stream form a [`Context`] that code sets for a scope
//! with [`with_context`]; it is per thread, so rayon workers each run their own. Basic
//! operations (+ − × ÷ √) are correctly rounded, and every rounding goes through the slice
//! engine's scalar kernel ([`crate::fast::Kernel::round_f64`], bit-identical to the core). The
//! operation itself runs in f64 where that is provably the same as the exact operation:
//! - round-to-nearest-even with 2p + 2 ≤ 53, away from f64's subnormal range: rounding the f64
//!   result once equals rounding the exact result (the double-rounding theorem); in binary64
//!   itself (`e11m52`) the f64 result is the result;
//! - any mode, when the f64 result is exact (checked with an error-free transformation:
//!   TwoSum for + −, exact products for 2p ≤ 53 or an fma residual, the fma remainder for ÷ and
//!   √), away from f64's subnormal range;
//! - directed modes, round-to-odd and `sr-eq` when the f64 result is inexact but strictly
//!   between two points of the format's grid (then so is the exact result, on the same side of
//!   every point: the same result), and `rne`/`rna` when it is also not the midpoint (p ≤ 52);
//! - stochastic modes in binary64 itself, for + − × ÷: the exact error (TwoSum, an fma
//!   residual, the division's remainder over the divisor) gives the remainder the mode decides
//!   on (`Active::stochastic_binary64`).
//!
//! Everything else (zero results of + −, `sr`/`sr:<r>` with an inexact f64 result, fma,
//! operands near f64's subnormal range) takes the exact integer path of [`crate::arith`].
//! Both paths advance the random stream by one position per rounding, so they give the same
//! results and the same streams. Elementary functions are computed in f64 and rounded once, so
//! they are not guaranteed correctly rounded in the target format (they can be one unit in the
//! last place off when the f64 value lies next to a rounding boundary of the format).

use crate::arith::{self, Unrounded};
use crate::codec;
use crate::error::{Error, Result};
use crate::exact::Value;
use crate::fast::{Kernel, Nudge, Position};
use crate::format::Format;
use crate::mode::{Rounding, RoundingMode};
use crate::real::Real;
use crate::rng::{self, ElementStream};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// What `Emu` arithmetic does on one thread.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Context {
    format: Format,
    rounding: Rounding,
    key: u64,
}

impl Context {
    /// Arithmetic in `format` with `rounding`; stochastic modes draw from the stream keyed by
    /// `key` (see [`crate::rng::derive_key`]). The format's values must fit in f64.
    pub fn new(format: Format, rounding: impl Into<Rounding>, key: u64) -> Result<Context> {
        if !format.fits_in_f64() {
            return Err(Error::Invalid(format!(
                "Emu holds values as f64, and {format} does not fit in binary64; use anyfloat::mp::Mp for wider formats"
            )));
        }
        Ok(Context {
            format,
            rounding: rounding.into(),
            key,
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
}

/// The active context with its derived state, for everything but the common case (see
/// [`Hot`]).
struct Active {
    ctx: Context,
    kernel: Kernel,
    rules: Rules,
    /// Which inexact f64 results round like the exact result.
    between: Between,
    /// The common case, for modes whose ordinary rounding is one formula (all but `rto` and
    /// `sr-eq`, which always take the path through here).
    hot: Option<Hot>,
    /// Whether the format is binary64 and the mode stochastic (see
    /// [`Active::stochastic_binary64`]).
    binary64_stochastic: bool,
}

/// What the common case of a basic operation reads — an ordinary result, correctly rounded by
/// rounding the f64 result: a few words kept in their own thread-local `Cell`, so that an
/// operation reads them without a borrow flag and without touching the rest of the context,
/// and rounds with one formula, without a jump on the mode.
#[derive(Clone, Copy)]
struct Hot {
    nudge: Nudge,
    rules: Rules,
}

/// What the operations of a context may assume, and its random stream.
#[derive(Clone, Copy)]
struct Rules {
    /// The stream's key.
    key: u64,
    /// Whether the mode draws random words.
    stochastic: bool,
    /// Whether rounding an f64 result of + − × ÷ √ equals rounding the exact result.
    f64_is_exact_enough: bool,
    /// Whether the product of two format values is exact in f64 (2p ≤ 53).
    exact_products: bool,
}

impl Rules {
    /// The random word of the next rounding, advancing the stream (0 for deterministic modes,
    /// whose roundings draw nothing and leave the position alone).
    #[inline(always)]
    fn next_word(&self) -> u64 {
        if self.stochastic {
            rng::word(self.key, self.next_position())
        } else {
            0
        }
    }

    /// The stream position of the next rounding, advancing it (stochastic modes only).
    #[inline(always)]
    fn next_position(&self) -> u64 {
        let k = DRAWS.get();
        DRAWS.set(k + 1);
        k
    }
}

/// Which inexact f64 results of a basic operation round like the exact result: those strictly
/// inside an interval of the format's grid (the exact result is then in the same interval), and
/// for round-to-nearest not at its midpoint either (nor is the exact result, on the same side).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Between {
    /// None: the decision depends on the remainder's value (`sr`, `sr:<r>`), or p = 53.
    Never,
    /// Inside an interval (directed modes, round-to-odd, `sr-eq`).
    Inside,
    /// Inside an interval and not at its midpoint (`rne`, `rna`).
    OffMidpoint,
}

thread_local! {
    static ACTIVE: RefCell<Option<Active>> = const { RefCell::new(None) };
    static HOT: Cell<Option<Hot>> = const { Cell::new(None) };
    /// Position in the random stream: every rounding advances it by one.
    static DRAWS: Cell<u64> = const { Cell::new(0) };
}

/// Runs `f` with `ctx` as this thread's `Emu` context, restoring the previous one afterwards
/// (also if `f` panics). The random stream starts at position 0.
pub fn with_context<T>(ctx: &Context, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Active>, u64);
    impl Drop for Restore {
        fn drop(&mut self) {
            let active = self.0.take();
            HOT.set(active.as_ref().and_then(|a| a.hot));
            ACTIVE.with(|a| *a.borrow_mut() = active);
            DRAWS.set(self.1);
        }
    }
    let p = ctx.format.precision();
    let between = match ctx.rounding.mode {
        _ if p > 52 => Between::Never,
        RoundingMode::NearestEven | RoundingMode::NearestAway => Between::OffMidpoint,
        RoundingMode::Stochastic { .. } => Between::Never,
        _ => Between::Inside,
    };
    let kernel = Kernel::new(&ctx.format, &ctx.rounding)
        .expect("Context::new checked that the format fits in f64");
    let binary64 = ctx.format == Format::binary64();
    let rules = Rules {
        key: ctx.key,
        stochastic: ctx.rounding.mode.is_stochastic(),
        // (In binary64 itself, e.g. `e11m52`, the f64 operation is the correctly rounded
        // result, with nothing to round twice.)
        f64_is_exact_enough: ctx.rounding.mode == RoundingMode::NearestEven
            && (2 * p + 2 <= 53 || binary64),
        exact_products: 2 * p <= 53,
    };
    let hot = kernel.ordinary().nudge().map(|&nudge| Hot { nudge, rules });
    let active = Active {
        ctx: *ctx,
        kernel,
        rules,
        between,
        hot,
        binary64_stochastic: binary64 && ctx.rounding.mode.is_stochastic(),
    };
    HOT.set(hot);
    let previous = ACTIVE.with(|a| a.borrow_mut().replace(active));
    let _restore = Restore(previous, DRAWS.replace(0));
    f()
}

/// Runs `g` on the active context (panics outside [`with_context`]: using `Emu` without a
/// format is a programming error, like indexing out of bounds).
#[inline(always)]
fn active<T>(g: impl FnOnce(&Active) -> T) -> T {
    ACTIVE.with(|a| match a.borrow().as_ref() {
        Some(a) => g(a),
        None => no_context(),
    })
}

#[cold]
fn no_context() -> ! {
    panic!("Emu arithmetic needs a context: wrap the code in anyfloat::emu::with_context")
}

/// Rounds `x` into the current format: the fast way when it is ordinary.
#[inline(always)]
fn round_current(x: f64) -> f64 {
    round_hot(x, |_| true).unwrap_or_else(|| round_other(x))
}

/// The common case of every rounding: `x` rounded by the hot state's ordinary rounding when
/// `x` is ordinary and `correct` says that rounding it gives the wanted result; `None` (and the
/// stream untouched) otherwise, also outside a context.
#[inline(always)]
fn round_hot(x: f64, correct: impl FnOnce(&Rules) -> bool) -> Option<f64> {
    let Hot { nudge, rules } = HOT.get()?;
    (nudge.is_ordinary(x) && correct(&rules)).then(|| nudge.round(x, rules.next_word()))
}

#[inline(never)]
fn round_other(x: f64) -> f64 {
    active(|a| a.round(x))
}

/// A basic operation whose f64 result `s` is not an ordinary value rounded exactly, out of line
/// (a tail call with the operands still in their argument registers).
#[inline(never)]
fn other<O: BasicOp>(x: f64, y: f64, s: f64) -> f64 {
    active(|a| {
        if a.fast_ok(s, || O::exact_in_f64(a.rules.exact_products, x, y, s)) {
            return a.round(s);
        }
        if a.binary64_stochastic
            && let Some(v) = O::error(x, y, s).and_then(|(n, d)| a.stochastic_binary64(s, n, d))
        {
            return v;
        }
        let u = O::exact(&value(x), &value(y), &a.ctx);
        a.finish(&u)
    })
}

/// A basic two-operand operation: its f64 version, the checks that its f64 result is exact, and
/// the exact operation.
trait BasicOp {
    /// The operation in f64.
    fn f64(x: f64, y: f64) -> f64;
    /// Whether `s = f64(x, y)` is exact, for finite `s` at least `SAFE` in magnitude;
    /// `exact_products` tells whether products of format values are exact in f64.
    fn exact_in_f64(exact_products: bool, x: f64, y: f64, s: f64) -> bool;
    /// [`BasicOp::exact_in_f64`] where it needs no function call, else `false`.
    fn exact_without_calls(exact_products: bool, x: f64, y: f64, s: f64) -> bool;
    /// The exact error `x op y − s` of the f64 result `s` (finite, at least `SAFE` in
    /// magnitude) as a quotient `n / d` of two f64, where an error-free transformation gives
    /// it.
    fn error(x: f64, y: f64, s: f64) -> Option<(f64, f64)>;
    /// The exact operation.
    fn exact(x: &Value, y: &Value, ctx: &Context) -> Unrounded;
}

struct AddOp;
impl BasicOp for AddOp {
    #[inline(always)]
    fn f64(x: f64, y: f64) -> f64 {
        x + y
    }
    #[inline(always)]
    fn exact_in_f64(_: bool, x: f64, y: f64, s: f64) -> bool {
        sum_is_exact(x, y, s)
    }
    #[inline(always)]
    fn exact_without_calls(_: bool, x: f64, y: f64, s: f64) -> bool {
        sum_is_exact(x, y, s)
    }
    fn error(x: f64, y: f64, s: f64) -> Option<(f64, f64)> {
        Some((sum_error(x, y, s), 1.0))
    }
    fn exact(x: &Value, y: &Value, ctx: &Context) -> Unrounded {
        arith::add(x, y, ctx.rounding.mode)
    }
}

struct SubOp;
impl BasicOp for SubOp {
    #[inline(always)]
    fn f64(x: f64, y: f64) -> f64 {
        x - y
    }
    #[inline(always)]
    fn exact_in_f64(_: bool, x: f64, y: f64, s: f64) -> bool {
        sum_is_exact(x, -y, s)
    }
    #[inline(always)]
    fn exact_without_calls(_: bool, x: f64, y: f64, s: f64) -> bool {
        sum_is_exact(x, -y, s)
    }
    fn error(x: f64, y: f64, s: f64) -> Option<(f64, f64)> {
        Some((sum_error(x, -y, s), 1.0))
    }
    fn exact(x: &Value, y: &Value, ctx: &Context) -> Unrounded {
        arith::sub(x, y, ctx.rounding.mode)
    }
}

struct MulOp;
impl BasicOp for MulOp {
    #[inline(always)]
    fn f64(x: f64, y: f64) -> f64 {
        x * y
    }
    #[inline(always)]
    fn exact_in_f64(exact_products: bool, x: f64, y: f64, s: f64) -> bool {
        exact_products || x.mul_add(y, -s) == 0.0
    }
    #[inline(always)]
    fn exact_without_calls(exact_products: bool, _: f64, _: f64, _: f64) -> bool {
        exact_products
    }
    fn error(x: f64, y: f64, s: f64) -> Option<(f64, f64)> {
        // Exact: the product is far from underflow (|s| ≥ SAFE).
        Some((x.mul_add(y, -s), 1.0))
    }
    fn exact(x: &Value, y: &Value, _: &Context) -> Unrounded {
        arith::mul(x, y)
    }
}

struct DivOp;
impl BasicOp for DivOp {
    #[inline(always)]
    fn f64(x: f64, y: f64) -> f64 {
        x / y
    }
    #[inline(always)]
    fn exact_in_f64(_: bool, x: f64, y: f64, s: f64) -> bool {
        // The remainder x − s·y is exact when x is not tiny either.
        x.abs() >= SAFE && (-s).mul_add(y, x) == 0.0
    }
    #[inline(always)]
    fn exact_without_calls(_: bool, _: f64, _: f64, _: f64) -> bool {
        false
    }
    fn error(x: f64, y: f64, s: f64) -> Option<(f64, f64)> {
        // x / y − s = (x − s·y) / y, the remainder exact when x is not tiny either.
        (x.abs() >= SAFE).then(|| ((-s).mul_add(y, x), y))
    }
    fn exact(x: &Value, y: &Value, ctx: &Context) -> Unrounded {
        arith::div(x, y, ctx.format.precision())
    }
}

impl Active {
    /// Rounds an exact result into the format, as an f64.
    fn finish(&self, u: &Unrounded) -> f64 {
        let fmt = self.ctx.format;
        // The k-th rounding (exact or not) draws from position k of the stream.
        let k = if self.rules.stochastic {
            self.rules.next_position()
        } else {
            0
        };
        let mut rng = ElementStream::new(self.ctx.key, k);
        let r = arith::finish(&fmt, u, &self.ctx.rounding, &mut rng);
        codec::to_f64(&fmt, r.value)
    }

    /// Rounds the value of an f64 into the format (the fast kernel; the same result and the
    /// same stream position as [`Active::finish`]).
    #[inline(always)]
    fn round(&self, x: f64) -> f64 {
        let w = self.rules.next_word();
        self.kernel.round_f64(x, w)
    }

    /// Whether the f64 result `s` of a basic operation, rounded once, is the correctly rounded
    /// result. `exact` tells whether `s` is the exact result; it is only asked for finite `s`
    /// at least `SAFE` in magnitude, where the error-free transformations are exact.
    #[inline(always)]
    fn fast_ok(&self, s: f64, exact: impl FnOnce() -> bool) -> bool {
        if self.rules.f64_is_exact_enough {
            // The double-rounding theorem needs s away from f64's subnormal range.
            return s == 0.0 || !s.is_finite() || s.abs() >= SAFE;
        }
        if !s.is_finite() || s.abs() < SAFE {
            return false;
        }
        if exact() {
            return true;
        }
        match self.between {
            Between::Never => false,
            Between::Inside => self.kernel.position(s) != Position::OnGrid,
            Between::OffMidpoint => self.kernel.position(s) == Position::Between,
        }
    }

    /// A stochastic rounding in binary64 itself (`e11m52`) of the exact value `s + n/d`, `s` the
    /// f64 result and `n/d` its exact error: every f64 is on the format's grid, so rounding `s`
    /// tells nothing, but the error gives the remainder — the decision of the exact path,
    /// drawing the same word. `None` (the stream untouched) where the exact path must decide:
    /// `s` outside the normal range away from both ends, or exact `sr` with the word equal to
    /// the remainder's first 64 bits and more bits following (it would draw again).
    fn stochastic_binary64(&self, s: f64, n: f64, d: f64) -> Option<f64> {
        if !(SAFE..=f64::MAX / 4.0).contains(&s.abs()) {
            return None;
        }
        if n == 0.0 {
            return Some(self.round(s));
        }
        let (toward, away, f, more) = binary64_fraction(s, n, d);
        let k = DRAWS.get();
        let w = rng::word(self.rules.key, k);
        let up = match self.ctx.rounding.mode {
            RoundingMode::Stochastic { bits: None } => {
                if w == f && more {
                    return None;
                }
                w < f
            }
            RoundingMode::Stochastic { bits: Some(r) } => {
                let r = u32::from(r);
                (w >> (64 - r)) < (f >> (64 - r))
            }
            _ => w >> 63 == 1,
        };
        DRAWS.set(k + 1);
        Some(if up { away } else { toward }.copysign(s))
    }
}

/// Far above 2^−1022 · 2^106: products, quotients and their residuals of operands and results
/// this large in magnitude are exact in f64.
const SAFE: f64 = 1.0e-280;

/// Whether `x + y == s` exactly (TwoSum: the rounding error of s is zero).
#[inline(always)]
fn sum_is_exact(x: f64, y: f64, s: f64) -> bool {
    sum_error(x, y, s) == 0.0
}

/// The exact rounding error `x + y − s` of `s = x + y` (TwoSum, for finite non-overflowing s).
#[inline(always)]
fn sum_error(x: f64, y: f64, s: f64) -> f64 {
    let yy = s - x;
    let xx = s - yy;
    (x - xx) + (y - yy)
}

/// The remainder fraction of the exact value `s + n/d` on the f64 grid (`s` its correctly
/// rounded f64 value, normal and below 2^1022, `n/d ≠ 0` its error, `d` nonzero): the
/// neighbours toward and away from zero, as magnitudes, and the first 64 bits of
/// (|s + n/d| − toward) / (away − toward) with whether more nonzero bits follow.
fn binary64_fraction(s: f64, n: f64, d: f64) -> (f64, f64, u64, bool) {
    let mag = s.abs();
    // |n/d| in units of 2^−64 of the grid step `step`: its integer part, and whether it has
    // more. The integer part is below 2^63 (|n/d| is at most half a step), so the numerator
    // stays below 2^116.
    let scaled = |step: f64| {
        let ((mn, qn), (md, qd)) = (significand(n), significand(d));
        let k = qn - qd - ((step.to_bits() >> 52) as i64 - 1023) + 64;
        let (num, den) = if k >= 0 {
            (u128::from(mn) << k, u128::from(md))
        } else if k > -64 {
            (u128::from(mn), u128::from(md) << -k)
        } else {
            return (0, true);
        };
        ((num / den) as u64, num % den != 0)
    };
    let error_up = (n > 0.0) == (d > 0.0);
    if error_up == (s > 0.0) {
        // Beyond |s|: the remainder is |n/d| above |s|.
        let away = f64::from_bits(mag.to_bits() + 1);
        let (f, more) = scaled(away - mag);
        (mag, away, f, more)
    } else {
        // Short of |s|: the remainder is one step minus |n/d| above the neighbour below.
        let toward = f64::from_bits(mag.to_bits() - 1);
        let (g, more) = scaled(mag - toward);
        // 2^64 − g·2^64, truncated: g·2^64 is in (0, 2^64).
        let f = if more { !g } else { g.wrapping_neg() };
        (toward, mag, f, more)
    }
}

/// |x| = m · 2^q with m an integer below 2^53, for finite x.
fn significand(x: f64) -> (u64, i64) {
    let b = x.abs().to_bits();
    let (field, mant) = ((b >> 52) as i64, b & ((1 << 52) - 1));
    if field == 0 {
        (mant, -1074)
    } else {
        (mant | 1 << 52, field - 1075)
    }
}

fn value(x: f64) -> Value {
    Value::from_f64(x)
}

/// A number of the current context's format, held as the f64 of equal value.
#[derive(Clone, Copy, Default, PartialEq, PartialOrd)]
pub struct Emu(f64);

impl Emu {
    /// The value as f64 (exact).
    pub fn value(self) -> f64 {
        self.0
    }

    /// The value rounded into the current format.
    pub fn new(x: f64) -> Emu {
        Emu(round_current(x))
    }

    /// The basic operation `O` on `self` and `rhs`.
    #[inline(always)]
    fn binary<O: BasicOp>(self, rhs: Emu) -> Emu {
        let (x, y) = (self.0, rhs.0);
        let s = O::f64(x, y);
        // The common case first, with one range check: an ordinary result that is correctly
        // rounded by the theorem or exact. Ordinary results are f64 normal numbers, which is
        // all the theorem needs. Nothing here calls a function (f64 `mul_add` is a libm call
        // on the x86-64 baseline): a call would make the compiler keep x and y in memory.
        let hot = round_hot(s, |h| {
            h.f64_is_exact_enough
                || (s.abs() >= SAFE && O::exact_without_calls(h.exact_products, x, y, s))
        });
        Emu(hot.unwrap_or_else(|| other::<O>(x, y, s)))
    }

    /// An elementary function: evaluated in f64, then rounded once.
    fn function(self, f64_version: fn(f64) -> f64) -> Emu {
        Emu(round_current(f64_version(self.0)))
    }
}

impl fmt::Debug for Emu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", codec::shortest(self.0))
    }
}

impl fmt::Display for Emu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&codec::shortest(self.0))
    }
}

impl Add for Emu {
    type Output = Emu;
    #[inline(always)]
    fn add(self, rhs: Emu) -> Emu {
        self.binary::<AddOp>(rhs)
    }
}

impl Sub for Emu {
    type Output = Emu;
    #[inline(always)]
    fn sub(self, rhs: Emu) -> Emu {
        self.binary::<SubOp>(rhs)
    }
}

impl Mul for Emu {
    type Output = Emu;
    #[inline(always)]
    fn mul(self, rhs: Emu) -> Emu {
        self.binary::<MulOp>(rhs)
    }
}

impl Div for Emu {
    type Output = Emu;
    #[inline(always)]
    fn div(self, rhs: Emu) -> Emu {
        self.binary::<DivOp>(rhs)
    }
}

impl Neg for Emu {
    type Output = Emu;
    /// Negation is exact (in formats without −0, −0 stays +0).
    fn neg(self) -> Emu {
        if self.0 == 0.0 {
            return Emu::new(-self.0);
        }
        Emu(-self.0)
    }
}

macro_rules! assign_op {
    ($trait:ident, $method:ident, $op:tt) => {
        impl $trait for Emu {
            #[inline(always)]
            fn $method(&mut self, rhs: Emu) {
                *self = *self $op rhs;
            }
        }
    };
}
assign_op!(AddAssign, add_assign, +);
assign_op!(SubAssign, sub_assign, -);
assign_op!(MulAssign, mul_assign, *);
assign_op!(DivAssign, div_assign, /);

impl Real for Emu {
    fn from_f64(x: f64) -> Emu {
        Emu::new(x)
    }
    fn to_f64(&self) -> f64 {
        self.0
    }
    fn sqrt(&self) -> Emu {
        let s = self.0.sqrt();
        if let Some(r) = round_hot(s, |h| h.f64_is_exact_enough) {
            return Emu(r);
        }
        active(|a| {
            // The residual x − s² is exact when x is not tiny (as for ÷); below that it can
            // underflow to zero although s² ≠ x.
            if a.fast_ok(s, || self.0 >= SAFE && (-s).mul_add(s, self.0) == 0.0) {
                return Emu(a.round(s));
            }
            let u = arith::sqrt(&value(self.0), a.ctx.format.precision());
            Emu(a.finish(&u))
        })
    }
    fn mul_add(&self, b: &Emu, c: &Emu) -> Emu {
        // f64 fma rounds once to 53 bits; with 2p + 2 ≤ 53 that is as good as exact here only
        // for the product part, so fma always takes the exact path unless the result is exact.
        active(|a| {
            let u = arith::fma(
                &value(self.0),
                &value(b.0),
                &value(c.0),
                a.ctx.rounding.mode,
            );
            Emu(a.finish(&u))
        })
    }
    fn abs(&self) -> Emu {
        Emu(self.0.abs()).canonical()
    }
    fn exp(&self) -> Emu {
        self.function(f64::exp)
    }
    fn ln(&self) -> Emu {
        self.function(f64::ln)
    }
    fn sin(&self) -> Emu {
        self.function(f64::sin)
    }
    fn cos(&self) -> Emu {
        self.function(f64::cos)
    }
    fn tanh(&self) -> Emu {
        self.function(f64::tanh)
    }
    fn powi(&self, n: i32) -> Emu {
        // Repeated multiplication, each product rounded: what model code written with `*`
        // would compute.
        let mut result = Emu::new(1.0);
        let mut base = *self;
        let mut k = n.unsigned_abs();
        while k > 0 {
            if k & 1 == 1 {
                result *= base;
            }
            base *= base;
            k >>= 1;
        }
        if n < 0 {
            Emu::new(1.0) / result
        } else {
            result
        }
    }
    fn min(&self, other: &Emu) -> Emu {
        if other.0 < self.0 { *other } else { *self }
    }
    fn max(&self, other: &Emu) -> Emu {
        if other.0 > self.0 { *other } else { *self }
    }
}

impl Emu {
    /// The same value re-rounded (used where −0/+0 conventions of the format matter).
    fn canonical(self) -> Emu {
        Emu::new(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::binary64_fraction;
    use crate::rng::{RandomSource, Stream};
    use rug::{Integer, Rational};

    fn exact(x: f64) -> Rational {
        Rational::from_f64(x).expect("finite")
    }

    /// `binary64_fraction` against exact rational arithmetic: the value s + n/d, its
    /// remainder fraction between the f64 neighbours, and that fraction's first 64 bits — on
    /// sums' and products' errors (d = 1) at every scale, at powers of two (where the step
    /// below is half the step above), of half a step, and far below a step (whose bits fall past
    /// the first 64); and on quotients' errors (x − q·y)/y.
    #[test]
    fn binary64_fraction_matches_exact_rationals() {
        let mut rng = Stream::new(64);
        let mut cases = Vec::new();
        for i in 0..20_000 {
            let s = match i % 4 {
                0 => 1.0,
                1 => -2f64.powi((rng.next_u64() % 200) as i32 - 100),
                _ => rng.next_normal() * 2f64.powi((rng.next_u64() % 400) as i32 - 200),
            };
            // An error s may have as the correctly rounded value: at most half the step on
            // its side.
            let beyond = rng.next_u64().is_multiple_of(2);
            let m = s.abs();
            let step = if beyond {
                f64::from_bits(m.to_bits() + 1) - m
            } else {
                m - f64::from_bits(m.to_bits() - 1)
            };
            let size = match i % 3 {
                0 => 0.5 * step * rng.next_f64(),
                1 => 0.5 * step * 2f64.powi(-((rng.next_u64() % 120) as i32)),
                _ => 0.5 * step,
            };
            let e = if beyond == (s > 0.0) { size } else { -size };
            if e != 0.0 {
                cases.push((s, e, 1.0));
            }
            let scale = |rng: &mut Stream| 2f64.powi((rng.next_u64() % 200) as i32 - 100);
            let (x, y) = (
                rng.next_normal() * scale(&mut rng),
                rng.next_normal() * scale(&mut rng),
            );
            let q = x / y;
            let r = (-q).mul_add(y, x);
            if r != 0.0 {
                cases.push((q, r, y));
            }
        }
        for (s, n, d) in cases {
            let (toward, away, f, more) = binary64_fraction(s, n, d);
            let z = (exact(s) + exact(n) / exact(d)).abs();
            let (t, a) = (exact(toward), exact(away));
            assert!(t < a && z > t && z < a, "{s:e} {n:e}/{d:e}");
            let scaled = (z - &t) / (a - t) * Rational::from(Integer::from(1) << 64u32);
            let (fract, int) = scaled.fract_trunc(Integer::new());
            assert_eq!(
                Integer::from(f),
                int,
                "s {s:e}, error {n:e}/{d:e}: first 64 bits"
            );
            assert_eq!(more, fract != 0, "s {s:e}, error {n:e}/{d:e}: more bits");
        }
    }
}
