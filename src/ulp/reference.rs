//! The correctly rounded result and the exact value f(x), fast where an f64 evaluation with an
//! error bound decides them, from MPFR (the oracle) everywhere else.
//!
//! **Fast path.** For formats with a [`Grid`] (IEEE-style, p ≤ 24, e.g. binary32, binary16,
//! bfloat16, e11m10) and finite nonzero operands, the f64 libm value r of the function is taken
//! to satisfy |r − f(x)| ≤ 2^−45·|f(x)| ([`ASSUMED_LIBM_ERROR`], 128 units in the last place of
//! f64, with the sign of f(x), a value below 2^−1060 in magnitude where f(x) is that small). The
//! interval r·(1 ± 2^−44) ± 2^−1060 then holds f(x); when both of its ends round to the same
//! value of the format — rounding is monotone, so every point between does too — that value is
//! the correctly rounded result, and when both lie in one binade of the format, ulp(f(x)) =
//! ulp(r), so |y − r| / ulp(r) is the ULP error of definition (a) within 2^(p−44) ≤ 2^−20 ULP.
//! Across a power of two it is still within 2^−19 if y is the correctly rounded result (y and
//! f(x) are then that close); other results there go to MPFR. Intervals that hold a rounding
//! boundary (the result is near a midpoint, for directed modes near a value of the format, or
//! an exact case like √4 = 2 in a directed mode)
//! go to MPFR; so do zero, infinite and NaN operands (except NaN for one-argument functions, whose
//! result is NaN) and the exact zeros log(1), log2(1), log10(1), acos(1) and the pole log1p(−1).
//! An f64 overflow (r = ±Inf from finite operands) means |f(x)| > 2^1024, far beyond every grid
//! format: rounded as ±f64::MAX, with ULP error (a) +Inf for a finite result. NaN from finite
//! operands means a domain error (C99 Annex F, as the oracle decides it): NaN.
//!
//! **Which libm.** Rust's f64 functions call the platform libm (glibc here); erf and exp10 come
//! from the `libm` crate (a port of musl), since std has neither. glibc's manual lists the known
//! maximum errors of its double functions, all ≤ 4 ULP for these functions on x86_64, and musl's
//! are below 1–2 ULP: the assumed 128 ULP leaves a margin of 30×. The assumption is tested (tests/ulp_fast_path.rs): the fast
//! path against MPFR on random inputs of every function and on inputs whose f64 value lies
//! within 2^−30 of a rounding boundary, and the libm error itself measured against MPFR.
//! On another platform the same tests check that platform's libm.

use super::grid::Grid;
use crate::codec;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::mode::{Overflow, Rounding, RoundingMode};
use crate::oracle::{self, Function};
use rug::Float;

/// The relative error assumed of the f64 libm functions: 2^−45 (see the module docs).
pub const ASSUMED_LIBM_ERROR: f64 = 1.0 / (1u64 << 45) as f64;

/// Half-width of the fast path's interval, relative: twice the assumed error, which absorbs
/// the rounding of the interval's ends.
const REL: f64 = 1.0 / (1u64 << 44) as f64;

/// Absolute slack of the interval, 2^−1060: covers libm errors of up to 2^14 f64 subnormal
/// units, far below every grid format's smallest subnormal (≥ 2^−1022).
const ABS: f64 = f64::from_bits(1 << 14);

/// A one- or two-argument f64 function.
#[derive(Clone, Copy)]
pub enum F64Fn {
    /// f(x).
    One(fn(f64) -> f64),
    /// f(x, y) (atan2 as atan2(y, x)).
    Two(fn(f64, f64) -> f64),
}

impl F64Fn {
    /// The value at `args` (one or two).
    pub fn eval(&self, args: &[f64]) -> f64 {
        match self {
            F64Fn::One(f) => f(args[0]),
            F64Fn::Two(f) => f(args[0], args[1]),
        }
    }
}

/// The f64 evaluation of `f` the fast path relies on: Rust's std (the platform libm), and the
/// `libm` crate for erf and exp10.
pub fn f64_function(f: Function) -> F64Fn {
    use F64Fn::{One, Two};
    match f {
        Function::Exp => One(f64::exp),
        Function::Exp2 => One(f64::exp2),
        Function::Exp10 => One(libm::exp10),
        Function::Expm1 => One(f64::exp_m1),
        Function::Log => One(f64::ln),
        Function::Log2 => One(f64::log2),
        Function::Log10 => One(f64::log10),
        Function::Log1p => One(f64::ln_1p),
        Function::Sin => One(f64::sin),
        Function::Cos => One(f64::cos),
        Function::Tan => One(f64::tan),
        Function::Asin => One(f64::asin),
        Function::Acos => One(f64::acos),
        Function::Atan => One(f64::atan),
        Function::Sinh => One(f64::sinh),
        Function::Cosh => One(f64::cosh),
        Function::Tanh => One(f64::tanh),
        Function::Erf => One(libm::erf),
        Function::Cbrt => One(f64::cbrt),
        Function::Sqrt => One(f64::sqrt),
        Function::Pow => Two(f64::powf),
        Function::Atan2 => Two(f64::atan2),
        Function::Hypot => Two(f64::hypot),
    }
}

/// What the reference says about one input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Judgement {
    /// The correctly rounded result as an f64 (NaN and ±Inf included).
    pub correct: f64,
    /// The ULP error of definition (a), |y − f(x)| / ulp(f(x)), when the result y and the
    /// correctly rounded result are both finite.
    pub ulp: Option<f64>,
    /// Whether MPFR decided it.
    pub mpfr: bool,
}

/// A fast-path decision: the correctly rounded result and f(x) within the bound.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fast {
    /// The correctly rounded result.
    pub correct: f64,
    /// The f64 value of f(x) (±Inf: beyond the f64 range; NaN: a domain error).
    pub exact: f64,
    /// Whether f(x) may lie on either side of a power of two (so ulp(f(x)) is one of two).
    pub straddle: bool,
}

/// The fast path's decision from the f64 value `r` (not NaN): whether the interval around it
/// that holds f(x) rounds to one value of `grid` in `mode`.
fn interval_decision(grid: &Grid, mode: RoundingMode, r: f64) -> Option<Fast> {
    let (lo, hi) = if r.is_infinite() {
        (f64::MAX, f64::MAX)
    } else {
        let a = r.abs();
        (
            (a - (a * REL + ABS)).max(f64::from_bits(1)),
            a + (a * REL + ABS),
        )
    };
    let sign = if r.is_sign_negative() { -1.0 } else { 1.0 };
    let (lo, hi) = (sign * lo, sign * hi);
    let (cl, ch) = (grid.round(lo, mode), grid.round(hi, mode));
    (cl == ch).then_some(Fast {
        correct: cl,
        exact: r,
        straddle: grid.quantum_exp(lo) != grid.quantum_exp(hi),
    })
}

/// The reference for one function in one format and rounding.
#[derive(Clone)]
pub struct Reference {
    f: Function,
    fmt: Format,
    rounding: Rounding,
    fast: Option<(Grid, F64Fn)>,
    /// [`interval_decision`] at r = +0 and −0, whose interval is all f64 subnormals, slow to
    /// compute with (exp underflows to 0 for a quarter of the binary32 inputs).
    at_zero: [Option<Fast>; 2],
}

impl Reference {
    /// The reference for `f` in `fmt`, correctly rounded per `rounding` (deterministic modes
    /// only: stochastic ones give [`Error::Invalid`]); `fast` false forces MPFR everywhere.
    pub fn new(f: Function, fmt: &Format, rounding: &Rounding, fast: bool) -> Result<Reference> {
        if rounding.mode.is_stochastic() {
            return Err(Error::Invalid(format!(
                "the correctly rounded reference needs a deterministic rounding, not {}",
                rounding.mode
            )));
        }
        if !fmt.fits_in_f64() {
            return Err(Error::Invalid(format!(
                "ULP measurement takes formats whose values are f64 values; {fmt} is not one"
            )));
        }
        let grid_ok =
            fast && rounding.overflow == Overflow::Ieee && rounding.mode != RoundingMode::ToOdd;
        let fast = Grid::new(fmt)
            .filter(|_| grid_ok)
            .map(|g| (g, f64_function(f)));
        let at_zero = |r: f64| fast.and_then(|(g, _)| interval_decision(&g, rounding.mode, r));
        Ok(Reference {
            f,
            fmt: *fmt,
            rounding: *rounding,
            fast,
            at_zero: [at_zero(0.0), at_zero(-0.0)],
        })
    }

    /// The format's grid, if the fast path is on.
    pub fn grid(&self) -> Option<&Grid> {
        self.fast.as_ref().map(|(g, _)| g)
    }

    /// The f64 libm value at `args` the fast path decides from (NaN without a fast path).
    pub fn f64_value(&self, args: &[f64]) -> f64 {
        self.fast
            .as_ref()
            .map_or(f64::NAN, |(_, func)| func.eval(args))
    }

    /// The f64 libm function the fast path decides from, if the fast path is on: the scan
    /// computes a run of values with it, then [`Reference::judge_fast`] each.
    pub fn libm_function(&self) -> Option<F64Fn> {
        self.fast.as_ref().map(|(_, func)| *func)
    }

    /// The fast path's decision at `args`, or `None` where it defers to MPFR.
    pub fn decide_fast(&self, args: &[f64]) -> Option<Fast> {
        self.decide_fast_with(args, self.f64_value(args))
    }

    /// [`Reference::decide_fast`] from `r`, the f64 value at `args` ([`Reference::f64_value`]).
    #[inline(always)]
    fn decide_fast_with(&self, args: &[f64], r: f64) -> Option<Fast> {
        let (grid, _) = self.fast.as_ref()?;
        if args.iter().any(|a| a.is_nan()) {
            // One-argument functions of NaN are NaN; pow(NaN, 0) = 1 and friends go to MPFR.
            return (args.len() == 1).then_some(Fast {
                correct: f64::NAN,
                exact: f64::NAN,
                straddle: false,
            });
        }
        if args.iter().any(|a| *a == 0.0 || a.is_infinite()) || self.exact_special(args[0]) {
            return None;
        }
        if r.is_nan() {
            return Some(Fast {
                correct: f64::NAN,
                exact: f64::NAN,
                straddle: false,
            });
        }
        if r == 0.0 {
            return self.at_zero[usize::from(r.is_sign_negative())];
        }
        interval_decision(grid, self.rounding.mode, r)
    }

    /// Operands whose exact result the fast path's interval cannot represent: exact zeros at
    /// x = 1 and the pole of log1p.
    fn exact_special(&self, x: f64) -> bool {
        match self.f {
            Function::Log | Function::Log2 | Function::Log10 | Function::Acos => x == 1.0,
            Function::Log1p => x == -1.0,
            _ => false,
        }
    }

    /// The reference at the operands `codes` (values `args`) for the result `y`.
    pub fn judge(&self, codes: &[u64], args: &[f64], y: f64) -> Result<Judgement> {
        match self.judge_fast(args, self.f64_value(args), y) {
            Some(j) => Ok(j),
            None => self.judge_mpfr(codes, y),
        }
    }

    /// The fast path's judgement from `r`, the f64 value at `args` ([`Reference::f64_value`]),
    /// or `None` where MPFR decides ([`Reference::judge_mpfr`]).
    #[inline(always)]
    pub fn judge_fast(&self, args: &[f64], r: f64, y: f64) -> Option<Judgement> {
        // Across a power of two, |y − r| / ulp(r) is within 2^−19 of (a) only for y the correctly
        // rounded result (then |y − f(x)| is below 2^−43·|f(x)|); other results go to MPFR.
        let fast = self
            .decide_fast_with(args, r)
            .filter(|fast| !fast.straddle || fast.correct == y)?;
        let grid = self.grid().expect("the fast path has a grid");
        let ulp = (y.is_finite() && fast.correct.is_finite()).then(|| {
            if fast.exact.is_infinite() {
                f64::INFINITY
            } else {
                grid.in_ulps((y - fast.exact).abs(), fast.exact)
            }
        });
        Some(Judgement {
            correct: fast.correct,
            ulp,
            mpfr: false,
        })
    }

    /// The reference from MPFR, at the operands `codes` for the result `y`.
    #[cold]
    pub fn judge_mpfr(&self, codes: &[u64], y: f64) -> Result<Judgement> {
        let codes: Vec<u128> = codes.iter().map(|&c| u128::from(c)).collect();
        let cr = oracle::function(self.f, &self.fmt, &codes, &self.rounding)?;
        let correct = codec::to_f64(&self.fmt, cr.value);
        let ulp = if y.is_finite() && correct.is_finite() {
            Some(self.mpfr_ulp(&codes, y)?)
        } else {
            None
        };
        Ok(Judgement {
            correct,
            ulp,
            mpfr: true,
        })
    }

    /// |y − f(x)| / ulp(f(x)) with f(x) from MPFR at p + 64 bits (+Inf if f(x) is not finite).
    fn mpfr_ulp(&self, codes: &[u128], y: f64) -> Result<f64> {
        let p = self.fmt.precision();
        let fx = oracle::value(self.f, &self.fmt, codes, p + 64)?;
        if !fx.is_finite() {
            return Ok(f64::INFINITY);
        }
        let e = fx.get_exp().map_or(i32::MIN, |e| e - 1);
        let q = e.max(self.fmt.emin()) - p as i32 + 1;
        let mut d = Float::with_val(p + 128, y - &fx);
        d.abs_mut();
        d >>= q;
        Ok(d.to_f64())
    }
}
