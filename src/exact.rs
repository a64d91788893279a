//! `Exact`: a finite real number held exactly, the input of the rounding core.

use num_bigint::BigUint;
use num_traits::{One, ToPrimitive, Zero};
use std::cmp::Ordering;

/// The finite real `(−1)^neg · (sig + t) · 2^exp`, where `t = 0` unless `sticky`, in which case
/// `0 < t < 1` (the value lies strictly between two consecutive multiples of `2^exp`).
///
/// Every result with a finite binary expansion (sums, products, fma, conversions) is held with
/// `sticky == false`, so nothing about it is lost. Division and square root, whose expansions
/// may not end, carry at least p + 130 significant bits and the sticky bit; the rounding core
/// relies on that (see [`Exact::STICKY_GUARD_BITS`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Exact {
    /// Sign: true for negative (also for −0).
    pub neg: bool,
    /// Integer significand.
    pub sig: BigUint,
    /// Exponent of the significand's last bit.
    pub exp: i64,
    /// Whether the value lies strictly above `sig · 2^exp` (in magnitude), by less than `2^exp`.
    pub sticky: bool,
}

impl Exact {
    /// Bits beyond the target precision that an inexact (sticky) value must carry: enough to
    /// decide every deterministic rounding and exact stochastic rounding to within 2^−128.
    pub const STICKY_GUARD_BITS: u32 = 130;

    /// ±0.
    pub fn zero(neg: bool) -> Exact {
        Exact {
            neg,
            sig: BigUint::zero(),
            exp: 0,
            sticky: false,
        }
    }

    /// `(−1)^neg · sig · 2^exp`, exactly.
    pub fn new(neg: bool, sig: impl Into<BigUint>, exp: i64) -> Exact {
        Exact {
            neg,
            sig: sig.into(),
            exp,
            sticky: false,
        }
    }

    /// A finite f64, exactly (None for NaN and ±Inf).
    pub fn from_f64(x: f64) -> Option<Exact> {
        if !x.is_finite() {
            return None;
        }
        let bits = x.to_bits();
        let neg = bits >> 63 == 1;
        let field = ((bits >> 52) & 0x7FF) as i64;
        let man = bits & ((1u64 << 52) - 1);
        let (sig, exp) = if field == 0 {
            (man, -1074)
        } else {
            (man | (1u64 << 52), field - 1075)
        };
        Some(Exact::new(neg, sig, exp))
    }

    /// A finite f32, exactly (None for NaN and ±Inf).
    pub fn from_f32(x: f32) -> Option<Exact> {
        Exact::from_f64(x as f64) // f32 → f64 is exact
    }

    /// An integer, exactly.
    pub fn from_i128(x: i128) -> Exact {
        Exact::new(x < 0, x.unsigned_abs(), 0)
    }

    /// Whether the value is ±0.
    pub fn is_zero(&self) -> bool {
        self.sig.is_zero() && !self.sticky
    }

    /// Exponent of the leading bit: the value's magnitude lies in `[2^e, 2^(e+1))`.
    /// For a sticky value with zero significand (strictly inside `(0, 2^exp)`) this is `exp − 1`,
    /// an upper bound that is all rounding needs. None for zero.
    pub fn leading_exp(&self) -> Option<i64> {
        if self.sig.is_zero() {
            return self.sticky.then_some(self.exp - 1);
        }
        Some(self.exp + self.sig.bits() as i64 - 1)
    }

    /// The same value with the opposite sign.
    pub fn negated(mut self) -> Exact {
        self.neg = !self.neg;
        self
    }

    /// The magnitude.
    pub fn abs(mut self) -> Exact {
        self.neg = false;
        self
    }

    /// Drops trailing zero bits of the significand (same value, smallest significand).
    pub fn normalized(mut self) -> Exact {
        if self.sticky || self.sig.is_zero() {
            return self;
        }
        let tz = self.sig.trailing_zeros().unwrap_or(0);
        if tz > 0 {
            self.sig >>= tz;
            self.exp += tz as i64;
        }
        self
    }

    /// Compares magnitudes of two exact (non-sticky) values.
    pub fn cmp_abs(&self, other: &Exact) -> Ordering {
        match (self.sig.is_zero(), other.sig.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let (a, b) = (self.leading_exp().unwrap(), other.leading_exp().unwrap());
        if a != b {
            return a.cmp(&b);
        }
        let e = self.exp.min(other.exp);
        let x = &self.sig << (self.exp - e) as u64;
        let y = &other.sig << (other.exp - e) as u64;
        x.cmp(&y)
    }

    /// The nearest f64 (ties to even, IEEE overflow), for display and plotting.
    pub fn to_f64(&self) -> f64 {
        let r = crate::round::round(
            &crate::format::Format::binary64(),
            self,
            &crate::mode::Rounding::default(),
            &mut crate::rng::NoRandom,
        );
        f64::from_bits(r.value as u64)
    }

    /// The value as `±0x1.hhhh…p±e` (exact for non-sticky values; sticky ones end in `…`).
    pub fn to_hex_string(&self) -> String {
        let sign = if self.neg { "-" } else { "" };
        if self.sig.is_zero() {
            return format!("{sign}0x0p+0{}", if self.sticky { "…" } else { "" });
        }
        let n = self.sig.bits();
        // Pad the fraction to whole hex digits.
        let frac_bits = n - 1;
        let digits = frac_bits.div_ceil(4);
        let frac = (&self.sig - (BigUint::one() << frac_bits)) << (digits * 4 - frac_bits);
        let e = self.exp + frac_bits as i64;
        let mut s = format!("{sign}0x1");
        if digits > 0 {
            let mut hex = frac.to_str_radix(16);
            while hex.len() < digits as usize {
                hex.insert(0, '0');
            }
            let hex = hex.trim_end_matches('0');
            if !hex.is_empty() {
                s.push('.');
                s.push_str(hex);
            }
        }
        s.push_str(&format!("p{e:+}"));
        if self.sticky {
            s.push('…');
        }
        s
    }

    /// The significand as u128 if it fits.
    pub fn sig_u128(&self) -> Option<u128> {
        self.sig.to_u128()
    }
}

/// Any value a format can hold: NaN, ±Inf, or a finite number.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// Not a number; `signaling` raises invalid when the NaN is used.
    Nan {
        /// Whether it is a signaling NaN.
        signaling: bool,
    },
    /// ±Infinity.
    Inf {
        /// Sign: true for −∞.
        neg: bool,
    },
    /// A finite number (including ±0).
    Finite(Exact),
}

impl Value {
    /// An f64 as an exact value (sNaN is kept as signaling).
    pub fn from_f64(x: f64) -> Value {
        if x.is_nan() {
            // binary64: quiet NaNs have the top mantissa bit set.
            Value::Nan {
                signaling: x.to_bits() & (1u64 << 51) == 0,
            }
        } else if x.is_infinite() {
            Value::Inf {
                neg: x.is_sign_negative(),
            }
        } else {
            Value::Finite(Exact::from_f64(x).expect("finite"))
        }
    }

    /// Whether the value is a NaN.
    pub fn is_nan(&self) -> bool {
        matches!(self, Value::Nan { .. })
    }

    /// The sign (false for NaN).
    pub fn is_negative(&self) -> bool {
        match self {
            Value::Nan { .. } => false,
            Value::Inf { neg } => *neg,
            Value::Finite(x) => x.neg,
        }
    }

    /// The nearest f64 (NaN, ±Inf kept).
    pub fn to_f64(&self) -> f64 {
        match self {
            Value::Nan { .. } => f64::NAN,
            Value::Inf { neg: false } => f64::INFINITY,
            Value::Inf { neg: true } => f64::NEG_INFINITY,
            Value::Finite(x) => x.to_f64(),
        }
    }
}

impl Exact {
    /// The value in decimal scientific notation with `digits` significant digits, correctly
    /// rounded (ties to even); sticky values round as the number just above their significand.
    pub fn to_decimal(&self, digits: usize) -> String {
        let sign = if self.neg { "-" } else { "" };
        if self.is_zero() {
            return format!("{sign}0");
        }
        let digits = digits.max(1);
        // value = n · 10^d10 exactly (n an integer), plus the sticky tail below n's last digit.
        let (n, d10) = if self.exp >= 0 {
            (&self.sig << self.exp as u64, 0i64)
        } else {
            let k = (-self.exp) as u32;
            (&self.sig * BigUint::from(5u32).pow(k), self.exp)
        };
        let text = n.to_str_radix(10);
        let len = text.len();
        let (mut kept, tail_exp) = if len > digits {
            let (head, rest) = text.split_at(digits);
            let first = rest.as_bytes()[0];
            let beyond = rest[1..].bytes().any(|b| b != b'0') || self.sticky;
            let mut head = head.parse::<BigUint>().expect("digits");
            let odd = head.bit(0);
            if first > b'5' || (first == b'5' && (beyond || odd)) {
                head += 1u32;
            }
            (head.to_str_radix(10), d10 + (len - digits) as i64)
        } else {
            (text, d10)
        };
        // Rounding up may add a digit (999 → 1000).
        let mut exp10 = tail_exp + kept.len() as i64 - 1;
        if kept.len() > digits {
            kept.truncate(digits);
            exp10 = tail_exp + digits as i64;
        }
        let kept = kept.trim_end_matches('0');
        let kept = if kept.is_empty() { "0" } else { kept };
        let (first, rest) = kept.split_at(1);
        if rest.is_empty() {
            format!("{sign}{first}e{exp10}")
        } else {
            format!("{sign}{first}.{rest}e{exp10}")
        }
    }
}
