//! `Real`: the number type models are written over, so one model runs in f32, f64, any
//! emulated format ([`crate::emu::Emu`]) or arbitrary precision ([`crate::mp::Mp`]).

use std::fmt::Debug;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// A real-number type for model code.
///
/// Arithmetic takes operands by value; types that are not `Copy` (the MPFR-backed
/// [`crate::mp::Mp`]) are cloned where a value is reused. Constants enter through
/// [`Real::from_f64`], so in an emulated format they are rounded like every other value.
pub trait Real:
    Clone
    + PartialOrd
    + Debug
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
{
    /// The value nearest `x` in this type (rounded into the current format for `Emu`).
    fn from_f64(x: f64) -> Self;
    /// The nearest f64.
    fn to_f64(&self) -> f64;
    /// Square root.
    fn sqrt(&self) -> Self;
    /// `self · a + b` with one rounding.
    fn mul_add(&self, a: &Self, b: &Self) -> Self;
    /// Absolute value.
    fn abs(&self) -> Self;
    /// e^self.
    fn exp(&self) -> Self;
    /// Natural logarithm.
    fn ln(&self) -> Self;
    /// Sine.
    fn sin(&self) -> Self;
    /// Cosine.
    fn cos(&self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(&self) -> Self;
    /// `self^n`.
    fn powi(&self, n: i32) -> Self;

    /// 0.
    fn zero() -> Self {
        Self::from_f64(0.0)
    }
    /// 1.
    fn one() -> Self {
        Self::from_f64(1.0)
    }
    /// An integer, exactly where the format allows.
    fn from_i64(n: i64) -> Self {
        Self::from_f64(n as f64)
    }
    /// The smaller value (either for equal values and NaN handling per the type).
    fn min(&self, other: &Self) -> Self {
        if other < self {
            other.clone()
        } else {
            self.clone()
        }
    }
    /// The larger value.
    fn max(&self, other: &Self) -> Self {
        if other > self {
            other.clone()
        } else {
            self.clone()
        }
    }
    /// The square `self · self`.
    fn square(&self) -> Self {
        self.clone() * self.clone()
    }
}

macro_rules! native_real {
    ($t:ty) => {
        impl Real for $t {
            #[inline]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline]
            fn to_f64(&self) -> f64 {
                *self as f64
            }
            #[inline]
            fn sqrt(&self) -> Self {
                <$t>::sqrt(*self)
            }
            #[inline]
            fn mul_add(&self, a: &Self, b: &Self) -> Self {
                <$t>::mul_add(*self, *a, *b)
            }
            #[inline]
            fn abs(&self) -> Self {
                <$t>::abs(*self)
            }
            fn exp(&self) -> Self {
                <$t>::exp(*self)
            }
            fn ln(&self) -> Self {
                <$t>::ln(*self)
            }
            fn sin(&self) -> Self {
                <$t>::sin(*self)
            }
            fn cos(&self) -> Self {
                <$t>::cos(*self)
            }
            fn tanh(&self) -> Self {
                <$t>::tanh(*self)
            }
            fn powi(&self, n: i32) -> Self {
                <$t>::powi(*self, n)
            }
        }
    };
}

native_real!(f32);
native_real!(f64);
