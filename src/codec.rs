//! Codes ↔ values: decoding every bit pattern of a format exactly, and rounding f64, f32 and
//! other formats' codes into a format.

use crate::exact::{Exact, Value};
use crate::flags::Flagged;
use crate::format::{Format, Specials};
use crate::mode::Rounding;
use crate::rng::RandomSource;
use crate::round::round_value;
use std::fmt;

/// The IEEE class of a code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// ±0.
    Zero,
    /// Exponent field 0, nonzero mantissa (also for formats that never produce subnormals).
    Subnormal,
    /// A normal number.
    Normal,
    /// ±Inf.
    Inf,
    /// Not a number.
    Nan,
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Class::Zero => "zero",
            Class::Subnormal => "subnormal",
            Class::Normal => "normal",
            Class::Inf => "inf",
            Class::Nan => "nan",
        })
    }
}

/// The class of `code` in `fmt` (bits above the format's width are ignored).
pub fn classify(fmt: &Format, code: u128) -> Class {
    let code = code & fmt.code_mask();
    let mag = code & fmt.magnitude_mask();
    let neg = code & fmt.sign_bit() != 0;
    let field = mag >> fmt.man_bits();
    let man = mag & fmt.man_mask();
    let top_field = field == fmt.exp_field_max();
    let all_ones = mag == fmt.magnitude_mask();
    match fmt.specials() {
        Specials::Ieee if top_field => return if man == 0 { Class::Inf } else { Class::Nan },
        Specials::FiniteNan if all_ones => return Class::Nan,
        Specials::Fnuz if neg && mag == 0 => return Class::Nan,
        Specials::P3109 if neg && mag == 0 => return Class::Nan,
        Specials::P3109 if all_ones => return Class::Inf,
        _ => {}
    }
    if field == 0 && fmt.has_zero() {
        if man == 0 {
            Class::Zero
        } else {
            Class::Subnormal
        }
    } else {
        Class::Normal
    }
}

/// The exact value of `code` in `fmt`.
///
/// Codes in exponent field 0 of a format without subnormals decode to their subnormal values
/// (they are never produced by rounding). In IEEE-style formats a NaN whose top mantissa bit is
/// clear is signaling; NaNs of the other encodings are quiet.
pub fn decode(fmt: &Format, code: u128) -> Value {
    let code = code & fmt.code_mask();
    let neg = code & fmt.sign_bit() != 0;
    let mag = code & fmt.magnitude_mask();
    let field = (mag >> fmt.man_bits()) as i64;
    let man = mag & fmt.man_mask();
    let m = fmt.man_bits() as i64;
    match classify(fmt, code) {
        Class::Nan => Value::Nan {
            signaling: fmt.specials() == Specials::Ieee && man >> (m - 1) == 0,
        },
        Class::Inf => Value::Inf { neg },
        Class::Zero => Value::Finite(Exact::zero(neg)),
        Class::Subnormal => Value::Finite(Exact::new(neg, man, fmt.emin() as i64 - m)),
        Class::Normal => Value::Finite(Exact::new(
            neg,
            man | (1u128 << m),
            field - fmt.bias() as i64 - m,
        )),
    }
}

/// The value of `code` as the nearest f64 (exact for every format that fits in binary64).
///
/// For those formats the value comes from the code's fields in f64 arithmetic: the significand
/// has at most 53 bits and its exponent lies in f64's range, so significand · 2^e is one exact
/// product (a tenth of the time of [`decode`]'s exact value rounded through the core, which
/// the others take, and which made the scale tables most of a block quantiser's fixed cost).
pub fn to_f64(fmt: &Format, code: u128) -> f64 {
    if !fmt.fits_in_f64() {
        return decode(fmt, code).to_f64();
    }
    let code = code & fmt.code_mask();
    let mag = code & fmt.magnitude_mask();
    let man = mag & fmt.man_mask();
    let m = fmt.man_bits() as i64;
    let magnitude = match classify(fmt, code) {
        Class::Nan => return f64::NAN,
        Class::Inf => f64::INFINITY,
        Class::Zero => 0.0,
        Class::Subnormal => times_pow2(man, fmt.emin() as i64 - m),
        Class::Normal => {
            let field = (mag >> fmt.man_bits()) as i64;
            times_pow2(man | (1 << m), field - fmt.bias() as i64 - m)
        }
    };
    if code & fmt.sign_bit() != 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// sig · 2^exp, exactly, for a significand of at most 53 bits and exp from −1074 to 1023 whose
/// product is an f64: 2^exp from its bits, then one exact multiplication.
fn times_pow2(sig: u128, exp: i64) -> f64 {
    let pow2 = if exp >= -1022 {
        f64::from_bits(((exp + 1023) as u64) << 52)
    } else {
        f64::from_bits(1 << (exp + 1074))
    };
    sig as f64 * pow2
}

/// Rounds an f64 into `fmt`.
pub fn from_f64<R: RandomSource + ?Sized>(
    fmt: &Format,
    x: f64,
    rounding: &Rounding,
    rng: &mut R,
) -> Flagged<u128> {
    round_value(fmt, &Value::from_f64(x), rounding, rng)
}

/// Rounds an f32 into `fmt`.
pub fn from_f32<R: RandomSource + ?Sized>(
    fmt: &Format,
    x: f32,
    rounding: &Rounding,
    rng: &mut R,
) -> Flagged<u128> {
    // f32 → f64 is exact, and keeps a signaling NaN signaling.
    let v = if x.is_nan() {
        Value::Nan {
            signaling: x.to_bits() & (1 << 22) == 0,
        }
    } else {
        Value::from_f64(x as f64)
    };
    round_value(fmt, &v, rounding, rng)
}

/// Converts a code of `from` into `to` with a single rounding.
pub fn convert<R: RandomSource + ?Sized>(
    from: &Format,
    code: u128,
    to: &Format,
    rounding: &Rounding,
    rng: &mut R,
) -> Flagged<u128> {
    round_value(to, &decode(from, code), rounding, rng)
}

/// An f64 printed as its shortest round-trip decimal: positional between 1e-5 and 1e16,
/// scientific outside; `inf`, `-inf`, `nan`; `-0` keeps its sign.
pub fn shortest(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x < 0.0 { "-inf".into() } else { "inf".into() }
    } else if x == 0.0 || (1e-5..1e16).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// A code as `0x…` zero-padded to the format's width.
pub fn hex(fmt: &Format, code: u128) -> String {
    format!("0x{:0width$x}", code, width = fmt.hex_digits())
}

/// The value of a code as text: the shortest round-trip f64 decimal for formats inside binary64
/// (see [`shortest`]), otherwise a correctly rounded decimal with enough digits to identify the
/// value in its format (36 for binary128).
pub fn display_value(fmt: &Format, code: u128) -> String {
    match decode(fmt, code) {
        Value::Finite(x) if !fmt.fits_in_f64() => x.to_decimal(fmt.decimal_digits()),
        v => shortest(v.to_f64()),
    }
}

/// A code's fields separated by spaces: sign (if any), exponent, mantissa (`0 1111 001`).
pub fn fields(fmt: &Format, code: u128) -> String {
    let bits = |value: u128, n: u32| -> String {
        (0..n)
            .rev()
            .map(|i| if value >> i & 1 == 1 { '1' } else { '0' })
            .collect()
    };
    let mag = code & fmt.magnitude_mask();
    let mut parts = Vec::new();
    if fmt.is_signed() {
        parts.push(bits(code >> (fmt.exp_bits() + fmt.man_bits()), 1));
    }
    parts.push(bits(mag >> fmt.man_bits(), fmt.exp_bits()));
    if fmt.man_bits() > 0 {
        parts.push(bits(mag & fmt.man_mask(), fmt.man_bits()));
    }
    parts.join(" ")
}
