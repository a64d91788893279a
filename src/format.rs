//! `Format`: a binary floating-point format as data.
//!
//! A format is a handful of primitive fields (exponent and mantissa widths, bias, signedness,
//! what the lowest exponent field means, how special values are encoded). Everything else —
//! precision, emin, emax, the largest finite value, the special codes — is derived from them,
//! once, when the format is built. Named formats and the name grammar live in [`names`].

pub mod names;

pub use names::NAME_GRAMMAR;

use crate::error::{Error, Result};

/// How a format spends its codes on special values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Specials {
    /// IEEE 754: the all-ones exponent field holds ±Inf (mantissa 0) and NaNs (the top mantissa
    /// bit set means quiet).
    Ieee,
    /// `fn` (OCP E4M3, "finite + NaN"): no infinities; only the all-ones exponent-and-mantissa
    /// pattern is NaN, so the top binade holds finite values.
    FiniteNan,
    /// `fnuz` ("finite, NaN, unsigned zero"): no infinities and no negative zero; the
    /// sign-bit-only pattern is the one NaN.
    Fnuz,
    /// `fin`: every pattern is a finite number (OCP FP6 and FP4).
    Finite,
    /// IEEE P3109 interim report v3: the sign-bit-only pattern is the one NaN, the all-ones
    /// magnitude is ±Inf, and there is no negative zero.
    P3109,
}

/// A binary floating-point format of at most 128 bits.
///
/// Build one from a name with [`Format::parse`] or from fields with [`Format::new`].
/// The value of a finite normal code is `(1.m) · 2^(exponent field − bias)`; with subnormals,
/// exponent field 0 holds `(0.m) · 2^(1 − bias)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Format {
    exp_bits: u32,
    man_bits: u32,
    bias: i32,
    signed: bool,
    subnormals: bool,
    has_zero: bool,
    specials: Specials,
    // Derived once by `new`.
    emin: i32,
    emax: i32,
    max_sig: u128,
}

/// Largest exponent field width accepted: 20 bits covers binary256's 19 and keeps every
/// exponent comfortably inside `i32`.
pub const MAX_EXP_BITS: u32 = 20;

impl Format {
    /// Builds a format from its primitive fields, checking that it is possible.
    ///
    /// * `exp_bits` — exponent field width E (1..=20);
    /// * `man_bits` — stored mantissa width M ≤ 126 (precision is M + 1 ≤ 127, so a
    ///   significand and its carry fit in a u128);
    /// * `bias` — exponent bias;
    /// * `signed` — whether there is a sign bit (total width is sign + E + M ≤ 128);
    /// * `subnormals` — whether exponent field 0 holds subnormals (if false, results in the
    ///   subnormal range are flushed by the rounding mode to 0 or the smallest normal);
    /// * `has_zero` — false only for scale formats such as OCP E8M0, where exponent field 0 is an
    ///   ordinary binade and there is no zero (requires `subnormals == false`);
    /// * `specials` — how NaN and Inf are encoded.
    pub fn new(
        exp_bits: u32,
        man_bits: u32,
        bias: i32,
        signed: bool,
        subnormals: bool,
        has_zero: bool,
        specials: Specials,
    ) -> Result<Format> {
        let mut fmt = Format {
            exp_bits,
            man_bits,
            bias,
            signed,
            subnormals,
            has_zero,
            specials,
            emin: 0,
            emax: 0,
            max_sig: 0,
        };
        let fail = |reason: String| Error::Format {
            input: spell(&fmt, false),
            reason,
        };
        if exp_bits == 0 || exp_bits > MAX_EXP_BITS {
            return Err(fail(format!(
                "the exponent field must have 1 to {MAX_EXP_BITS} bits, not {exp_bits}"
            )));
        }
        let width = signed as u64 + exp_bits as u64 + man_bits as u64;
        if width > 128 {
            return Err(fail(format!(
                "the format has {width} bits; at most 128 are supported"
            )));
        }
        let bias_limit = 1i64 << (exp_bits + 1);
        if (bias as i64).abs() > bias_limit {
            return Err(fail(format!(
                "bias {bias} is out of range for a {exp_bits}-bit exponent (|bias| ≤ {bias_limit})"
            )));
        }
        if man_bits > 126 {
            return Err(fail(format!(
                "precision {} is too wide: at most 127 significand bits (126 stored) are supported",
                man_bits + 1
            )));
        }
        if !has_zero && subnormals {
            return Err(fail(
                "a format without zero has no subnormals (exponent field 0 is a normal binade)"
                    .into(),
            ));
        }
        if !signed && matches!(specials, Specials::Fnuz | Specials::P3109) {
            return Err(fail(
                "fnuz and P3109 encodings put NaN at the sign-bit-only pattern, so they need a sign bit"
                    .into(),
            ));
        }
        let max_code = fmt.max_finite_magnitude_code();
        let max_field = (max_code >> man_bits) as i64;
        if max_field == 0 && has_zero {
            return Err(fail(
                "this encoding leaves no normal binade (use more exponent bits)".into(),
            ));
        }
        fmt.emin = (if has_zero { 1 } else { 0 }) - bias;
        fmt.emax = (max_field - bias as i64) as i32;
        fmt.max_sig = (1u128 << man_bits) | (max_code & fmt.man_mask());
        Ok(fmt)
    }

    /// IEEE binary64, the format of `f64`.
    pub fn binary64() -> Format {
        Format::new(11, 52, 1023, true, true, true, Specials::Ieee).expect("binary64 is valid")
    }

    /// IEEE binary32, the format of `f32`.
    pub fn binary32() -> Format {
        Format::new(8, 23, 127, true, true, true, Specials::Ieee).expect("binary32 is valid")
    }

    /// Parses a format name (case-insensitive); see [`NAME_GRAMMAR`].
    pub fn parse(name: &str) -> Result<Format> {
        names::parse(name)
    }

    /// Exponent field width E.
    pub fn exp_bits(&self) -> u32 {
        self.exp_bits
    }
    /// Stored mantissa width M.
    pub fn man_bits(&self) -> u32 {
        self.man_bits
    }
    /// Exponent bias.
    pub fn bias(&self) -> i32 {
        self.bias
    }
    /// Whether the format has a sign bit.
    pub fn is_signed(&self) -> bool {
        self.signed
    }
    /// Whether exponent field 0 holds subnormal values.
    pub fn has_subnormals(&self) -> bool {
        self.subnormals
    }
    /// Whether zero is representable (false for OCP E8M0).
    pub fn has_zero(&self) -> bool {
        self.has_zero
    }
    /// How special values are encoded.
    pub fn specials(&self) -> Specials {
        self.specials
    }

    /// Total width in bits: sign + E + M.
    pub fn width(&self) -> u32 {
        self.signed as u32 + self.exp_bits + self.man_bits
    }
    /// Precision p: significand bits including the hidden bit (IEEE `p`).
    pub fn precision(&self) -> u32 {
        self.man_bits + 1
    }
    /// Exponent of the smallest normal value (IEEE `emin`).
    pub fn emin(&self) -> i32 {
        self.emin
    }
    /// Exponent of the largest finite value (IEEE `emax`).
    pub fn emax(&self) -> i32 {
        self.emax
    }
    /// Integer significand (p bits, hidden bit included) of the largest finite value, whose
    /// value is `max_sig · 2^(emax − M)`.
    pub fn max_sig(&self) -> u128 {
        self.max_sig
    }
    /// Exponent of the last significand bit of subnormals (the quantum of the lowest binade).
    pub fn min_quantum_exp(&self) -> i32 {
        self.emin - self.man_bits as i32
    }
    /// Whether ±Inf is encodable.
    pub fn has_inf(&self) -> bool {
        match self.specials {
            Specials::Ieee | Specials::P3109 => true,
            Specials::FiniteNan | Specials::Fnuz | Specials::Finite => false,
        }
    }
    /// Whether NaN is encodable.
    pub fn has_nan(&self) -> bool {
        match self.specials {
            Specials::Ieee => self.man_bits > 0,
            Specials::FiniteNan | Specials::Fnuz | Specials::P3109 => true,
            Specials::Finite => false,
        }
    }
    /// Whether −0 is encodable.
    pub fn has_neg_zero(&self) -> bool {
        self.signed && self.has_zero && !matches!(self.specials, Specials::Fnuz | Specials::P3109)
    }

    /// Mask of the whole code.
    pub fn code_mask(&self) -> u128 {
        low_mask(self.width())
    }
    /// Mask of the magnitude (exponent and mantissa fields).
    pub fn magnitude_mask(&self) -> u128 {
        low_mask(self.exp_bits + self.man_bits)
    }
    /// The sign bit (0 for unsigned formats).
    pub fn sign_bit(&self) -> u128 {
        if self.signed {
            1u128 << (self.exp_bits + self.man_bits)
        } else {
            0
        }
    }
    /// Mask of the mantissa field.
    pub fn man_mask(&self) -> u128 {
        low_mask(self.man_bits)
    }
    /// The all-ones exponent field value.
    pub fn exp_field_max(&self) -> u128 {
        low_mask(self.exp_bits)
    }

    /// Magnitude code of the largest finite value.
    pub fn max_finite_magnitude_code(&self) -> u128 {
        let all = self.magnitude_mask();
        match self.specials {
            Specials::Ieee => ((self.exp_field_max() - 1) << self.man_bits) | self.man_mask(),
            Specials::FiniteNan | Specials::P3109 => all - 1,
            Specials::Fnuz | Specials::Finite => all,
        }
    }
    /// Code of the smallest positive value (min subnormal, or min normal without subnormals).
    pub fn min_positive_magnitude_code(&self) -> u128 {
        if self.subnormals && self.man_bits > 0 {
            1
        } else if self.has_zero {
            1u128 << self.man_bits
        } else {
            0
        }
    }
    /// Code of the smallest positive normal value.
    pub fn min_normal_magnitude_code(&self) -> u128 {
        if self.has_zero {
            1u128 << self.man_bits
        } else {
            0
        }
    }
    /// The NaN that operations produce: quiet, positive where the encoding allows.
    pub fn default_nan(&self) -> Option<u128> {
        match self.specials {
            Specials::Ieee if self.man_bits > 0 => {
                Some((self.exp_field_max() << self.man_bits) | (1u128 << (self.man_bits - 1)))
            }
            Specials::Ieee | Specials::Finite => None,
            Specials::FiniteNan => Some(self.magnitude_mask()),
            Specials::Fnuz | Specials::P3109 => Some(self.sign_bit()),
        }
    }
    /// The code of ±Inf, if the format has infinities.
    pub fn inf(&self, negative: bool) -> Option<u128> {
        let sign = if negative { self.sign_bit() } else { 0 };
        match self.specials {
            Specials::Ieee => Some(sign | (self.exp_field_max() << self.man_bits)),
            Specials::P3109 => Some(sign | self.magnitude_mask()),
            _ => None,
        }
    }
    /// The code of ±0 (−0 becomes +0 where the format has no negative zero), if zero exists.
    pub fn zero(&self, negative: bool) -> Option<u128> {
        if !self.has_zero {
            None
        } else if negative && self.has_neg_zero() {
            Some(self.sign_bit())
        } else {
            Some(0)
        }
    }
    /// The code of ± the largest finite value (+ for unsigned formats).
    pub fn max_finite(&self, negative: bool) -> u128 {
        let sign = if negative { self.sign_bit() } else { 0 };
        sign | self.max_finite_magnitude_code()
    }
    /// Whether every value of the format is exactly an f64 and its normal range lies inside
    /// binary64's: precision ≤ 53, emax ≤ 1023, emin ≥ −1022, and its smallest quantum at least
    /// 2^−1074. The slice engine, `Emu` and the block engine compute on f64 bit patterns and
    /// need the format's normal values to be f64 normals; a custom bias beyond binary64's (such
    /// as `e11m44b1031`, emin −1030) has exact f64 values but is left to the exact core.
    pub fn fits_in_f64(&self) -> bool {
        self.precision() <= 53
            && self.emax <= 1023
            && self.emin >= -1022
            && self.min_quantum_exp() >= -1074
    }
    /// Significant decimal digits that identify every value of the format (⌈p·log10 2⌉ + 1).
    pub fn decimal_digits(&self) -> usize {
        (self.precision() as f64 * std::f64::consts::LOG10_2).ceil() as usize + 1
    }
    /// Number of hex digits needed to print a code of this format.
    pub fn hex_digits(&self) -> usize {
        self.width().div_ceil(4).max(1) as usize
    }

    /// The same format with subnormals switched on or off (flush to zero / smallest normal).
    pub fn with_subnormals(&self, on: bool) -> Result<Format> {
        Format::new(
            self.exp_bits,
            self.man_bits,
            self.bias,
            self.signed,
            on && self.has_zero,
            self.has_zero,
            self.specials,
        )
    }
}

/// The default bias of an encoding: 2^(E−1) − 1, one more for `fnuz` and P3109.
pub fn default_bias(exp_bits: u32, specials: Specials) -> i32 {
    let ieee = (1i32 << (exp_bits - 1)) - 1;
    match specials {
        Specials::Fnuz | Specials::P3109 => ieee + 1,
        _ => ieee,
    }
}

fn low_mask(bits: u32) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

/// The generic name of a format's fields (the inverse of the name grammar); `explicit_ieee`
/// spells out the default encoding.
fn spell(f: &Format, explicit_ieee: bool) -> String {
    let Format {
        exp_bits,
        man_bits,
        bias,
        signed,
        subnormals,
        has_zero,
        specials,
        ..
    } = *f;
    let mut s = String::new();
    if !signed {
        s.push('u');
    }
    s.push_str(&format!("e{exp_bits}m{man_bits}"));
    if (1..=MAX_EXP_BITS).contains(&exp_bits) && bias != default_bias(exp_bits, specials) {
        s.push_str(&format!("b{bias}"));
    }
    s.push_str(match specials {
        Specials::Ieee if explicit_ieee => "ieee",
        Specials::Ieee => "",
        Specials::FiniteNan => "fn",
        Specials::Fnuz => "fnuz",
        Specials::Finite => "fin",
        Specials::P3109 => "p3109",
    });
    if !has_zero {
        s.push_str("nz");
    } else if !subnormals {
        s.push_str("ftz");
    }
    s
}

impl std::fmt::Display for Format {
    /// Prints the name a user would type: the registered name where there is one (`bfloat16`,
    /// `e4m3`), otherwise the generic spelling (`e11m10`, `ue5m3fn`, `e4m3b11fnuz`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match names::name_of(self) {
            Some(name) => f.write_str(name),
            None => f.write_str(&self.generic_name()),
        }
    }
}

impl Format {
    /// The generic spelling of this format, which [`Format::parse`] maps back to it.
    pub fn generic_name(&self) -> String {
        if self.specials == Specials::P3109
            && self.bias == default_bias(self.exp_bits, self.specials)
            && self.subnormals
        {
            return format!("binary{}p{}", self.width(), self.precision());
        }
        // Some bare spellings are registered names of other encodings (e4m3 is OCP's `fn`).
        let short = spell(self, false);
        if Format::parse(&short).as_ref() == Ok(self) {
            short
        } else {
            spell(self, true)
        }
    }
}
