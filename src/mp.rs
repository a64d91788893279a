//! `Mp`: an arbitrary-precision [`Real`] backed by MPFR, to run a model at 113, 200 or more
//! significand bits as the reference for its own binary64 run. Slow; that is its job.
//!
//! Every operation rounds once to the precision and mode of the thread's [`MpContext`]
//! (set for a scope with [`with_context`]). Round-to-nearest-even, toward zero, up and down
//! are MPFR's own; ties-away and round-to-odd are computed to p + 2 bits with round-to-odd
//! and then rounded to p bits, which is exact (Boldo & Melquiond, 2008). With an exponent range
//! set, results are subnormalised and overflow like an IEEE format (nearest-even and directed
//! modes only).

use crate::error::{Error, Result};
use crate::mode::RoundingMode;
use crate::real::Real;
use rug::Float;
use rug::float::Round;
use rug::ops::AssignRound;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// Precision, rounding mode and exponent range of `Mp` arithmetic on one thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MpContext {
    precision: u32,
    mode: RoundingMode,
    range: Option<(i32, i32)>,
}

impl MpContext {
    /// `precision` significand bits (hidden bit included, ≥ 2), the given deterministic mode,
    /// unbounded exponent.
    pub fn new(precision: u32, mode: RoundingMode) -> Result<MpContext> {
        if mode.is_stochastic() {
            return Err(Error::Invalid(format!(
                "Mp supports deterministic rounding modes only, not {mode}"
            )));
        }
        if !(2..=1 << 24).contains(&precision) {
            return Err(Error::Invalid(format!(
                "Mp precision must be 2 to 2^24 bits, not {precision}"
            )));
        }
        Ok(MpContext {
            precision,
            mode,
            range: None,
        })
    }

    /// The same context with an IEEE-style exponent range: normal numbers have exponents in
    /// `[emin, emax]` (binary128: −16382, 16383), below are subnormals, beyond overflows.
    pub fn with_exponent_range(mut self, emin: i32, emax: i32) -> Result<MpContext> {
        if !matches!(
            self.mode,
            RoundingMode::NearestEven
                | RoundingMode::TowardZero
                | RoundingMode::TowardPositive
                | RoundingMode::TowardNegative
        ) {
            return Err(Error::Invalid(format!(
                "Mp with an exponent range supports rne, rtz, rup and rdn, not {}",
                self.mode
            )));
        }
        if emin >= emax {
            return Err(Error::Invalid(format!(
                "empty exponent range [{emin}, {emax}]"
            )));
        }
        self.range = Some((emin, emax));
        Ok(self)
    }

    /// Significand bits.
    pub fn precision(&self) -> u32 {
        self.precision
    }
}

impl Default for MpContext {
    /// 113 bits (binary128's precision), round to nearest even, unbounded exponent.
    fn default() -> Self {
        MpContext {
            precision: 113,
            mode: RoundingMode::NearestEven,
            range: None,
        }
    }
}

thread_local! {
    static CONTEXT: RefCell<MpContext> = RefCell::new(MpContext::default());
}

/// Runs `f` with `ctx` as this thread's `Mp` context, restoring the previous one afterwards
/// (also when `f` panics).
pub fn with_context<T>(ctx: MpContext, f: impl FnOnce() -> T) -> T {
    struct Restore(MpContext);
    impl Drop for Restore {
        fn drop(&mut self) {
            CONTEXT.with(|c| *c.borrow_mut() = self.0);
        }
    }
    let _restore = Restore(CONTEXT.with(|c| std::mem::replace(&mut *c.borrow_mut(), ctx)));
    f()
}

fn context() -> MpContext {
    CONTEXT.with(|c| *c.borrow())
}

/// An MPFR number rounded to the thread's context after every operation.
#[derive(Clone, PartialEq, PartialOrd)]
pub struct Mp(Float);

impl Mp {
    /// The underlying MPFR value.
    pub fn as_float(&self) -> &Float {
        &self.0
    }

    /// Rounds the result of `compute` (which assigns into a Float with a rounding direction
    /// and returns MPFR's ternary value) to the context.
    fn rounded(compute: impl Fn(&mut Float, Round) -> Ordering) -> Mp {
        let ctx = context();
        let p = ctx.precision;
        let direct = |round| {
            let mut out = Float::new(p);
            let dir = compute(&mut out, round);
            (out, dir)
        };
        let (mut value, dir, round) = match ctx.mode {
            RoundingMode::NearestEven => with_round(direct(Round::Nearest), Round::Nearest),
            RoundingMode::TowardZero => with_round(direct(Round::Zero), Round::Zero),
            RoundingMode::TowardPositive => with_round(direct(Round::Up), Round::Up),
            RoundingMode::TowardNegative => with_round(direct(Round::Down), Round::Down),
            RoundingMode::ToOdd | RoundingMode::NearestAway => {
                let mut wide = Float::new(p + 2);
                let dir = compute(&mut wide, Round::Zero);
                to_odd(&mut wide, dir);
                let v = if ctx.mode == RoundingMode::ToOdd {
                    let dir = wide.set_prec_round(p, Round::Zero);
                    to_odd(&mut wide, dir);
                    wide
                } else {
                    nearest_away(wide, p)
                };
                (v, Ordering::Equal, Round::Nearest)
            }
            RoundingMode::Stochastic { .. } | RoundingMode::StochasticEqual => {
                unreachable!("MpContext rejects stochastic modes")
            }
        };
        if let Some((emin, emax)) = ctx.range {
            // MPFR exponents put the significand in [1/2, 1): IEEE emin is MPFR emin + 1.
            value.subnormalize_round(emin + 1, dir, round);
            if value.is_finite()
                && !value.is_zero()
                && value.get_exp().is_some_and(|e| e > emax + 1)
            {
                let neg = value.is_sign_negative();
                let to_max = matches!(
                    (round, neg),
                    (Round::Zero, _) | (Round::Up, true) | (Round::Down, false)
                );
                value = if to_max {
                    // The largest finite: (1 − 2^−p) · 2^(emax + 1).
                    let mut max = Float::with_val(p, 1);
                    max.next_down();
                    max <<= emax + 1;
                    if neg { -max } else { max }
                } else {
                    Float::with_val(
                        p,
                        if neg {
                            f64::NEG_INFINITY
                        } else {
                            f64::INFINITY
                        },
                    )
                };
            }
        }
        Mp(value)
    }
}

fn with_round((value, dir): (Float, Ordering), round: Round) -> (Float, Ordering, Round) {
    (value, dir, round)
}

/// Turns a truncated value into the round-to-odd one: if inexact, set the last bit.
fn to_odd(x: &mut Float, dir: Ordering) {
    if dir == Ordering::Equal || !x.is_finite() {
        return;
    }
    let last_bit_set = x.to_integer_exp().is_some_and(|(m, _)| m.is_odd());
    if !last_bit_set {
        if x.is_sign_negative() {
            x.next_down();
        } else {
            x.next_up();
        }
    }
}

/// Rounds a round-to-odd value of p + 2 bits to p bits, ties away from zero.
fn nearest_away(mut x: Float, p: u32) -> Float {
    let tie = {
        let mut y = x.clone();
        let exact_at_p1 = y.set_prec_round(p + 1, Round::Zero) == Ordering::Equal;
        let mut z = x.clone();
        let exact_at_p = z.set_prec_round(p, Round::Zero) == Ordering::Equal;
        exact_at_p1 && !exact_at_p
    };
    let round = if tie { Round::AwayZero } else { Round::Nearest };
    x.set_prec_round(p, round);
    x
}

impl fmt::Debug for Mp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for Mp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

macro_rules! binary_op {
    ($trait:ident, $method:ident, $assign_trait:ident, $assign_method:ident, $op:tt) => {
        impl $trait for Mp {
            type Output = Mp;
            fn $method(self, rhs: Mp) -> Mp {
                Mp::rounded(|out, r| out.assign_round(&self.0 $op &rhs.0, r))
            }
        }
        impl $assign_trait for Mp {
            fn $assign_method(&mut self, rhs: Mp) {
                *self = self.clone() $op rhs;
            }
        }
    };
}

binary_op!(Add, add, AddAssign, add_assign, +);
binary_op!(Sub, sub, SubAssign, sub_assign, -);
binary_op!(Mul, mul, MulAssign, mul_assign, *);
binary_op!(Div, div, DivAssign, div_assign, /);

impl Neg for Mp {
    type Output = Mp;
    fn neg(self) -> Mp {
        Mp(-self.0)
    }
}

impl Real for Mp {
    fn from_f64(x: f64) -> Self {
        Mp::rounded(|out, r| out.assign_round(x, r))
    }
    fn to_f64(&self) -> f64 {
        self.0.to_f64()
    }
    fn sqrt(&self) -> Self {
        Mp::rounded(|out, r| out.assign_round(self.0.sqrt_ref(), r))
    }
    fn mul_add(&self, a: &Self, b: &Self) -> Self {
        Mp::rounded(|out, r| out.assign_round(&self.0 * &a.0 + &b.0, r))
    }
    fn abs(&self) -> Self {
        Mp(self.0.clone().abs())
    }
    fn exp(&self) -> Self {
        Mp::rounded(|out, r| out.assign_round(self.0.exp_ref(), r))
    }
    fn ln(&self) -> Self {
        Mp::rounded(|out, r| out.assign_round(self.0.ln_ref(), r))
    }
    fn sin(&self) -> Self {
        Mp::rounded(|out, r| out.assign_round(self.0.sin_ref(), r))
    }
    fn cos(&self) -> Self {
        Mp::rounded(|out, r| out.assign_round(self.0.cos_ref(), r))
    }
    fn tanh(&self) -> Self {
        Mp::rounded(|out, r| out.assign_round(self.0.tanh_ref(), r))
    }
    fn powi(&self, n: i32) -> Self {
        Mp::rounded(|out, r| out.assign_round(rug::ops::Pow::pow(&self.0, n), r))
    }
    fn from_i64(n: i64) -> Self {
        Mp::rounded(|out, r| out.assign_round(n, r))
    }
}

impl From<Float> for Mp {
    /// Wraps an MPFR value as it is (no rounding to the context).
    fn from(x: Float) -> Mp {
        Mp(x)
    }
}
