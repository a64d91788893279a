//! Numbers from text, exactly: decimal (`0.1`, `-2.5e-3`), hex-float (`0x1.8p-3`), integers,
//! and the special names `inf`, `nan`, `snan`.
//!
//! A decimal is converted to an [`Exact`] with enough bits that rounding it into any format is
//! correct: "0.1" rounded into binary128 is the correctly rounded binary128 value, not a
//! widened double.

use crate::error::{Error, Result};
use crate::exact::{Exact, Value};
use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::{One, Zero};

/// Significant bits computed for a decimal that is not a finite binary fraction: the widest
/// precision (127) plus the guard bits the rounding core needs.
const DECIMAL_BITS: u64 = 127 + Exact::STICKY_GUARD_BITS as u64 + 3;

/// Decimal values whose binary exponent would exceed this are replaced by a value beyond every
/// format's range (the widest exponent field, 20 bits, with any allowed bias, stays below it).
const EXP_LIMIT: i64 = 1 << 23;

/// Parses a number. Accepts an optional sign, then one of: decimal digits with an optional
/// fraction and `e` exponent; `0x` hex digits with an optional fraction and `p` exponent;
/// `inf`/`infinity`; `nan`/`qnan`; `snan`. Underscores are not allowed; surrounding whitespace
/// is ignored.
pub fn parse_value(input: &str) -> Result<Value> {
    let fail = |reason: &str| Error::Value {
        input: input.to_string(),
        reason: reason.to_string(),
    };
    let text = input.trim();
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = body.to_ascii_lowercase();
    match lower.as_str() {
        "" => {
            return Err(fail(
                "empty; expected a number such as 1.5, -2e-3, 0x1.8p-3, inf or nan",
            ));
        }
        "inf" | "infinity" => return Ok(Value::Inf { neg }),
        "nan" | "qnan" => return Ok(Value::Nan { signaling: false }),
        "snan" => return Ok(Value::Nan { signaling: true }),
        _ => {}
    }
    let exact = if let Some(hex) = lower.strip_prefix("0x") {
        parse_hex(hex).map_err(|r| fail(&r))?
    } else {
        parse_decimal(&lower).map_err(|r| fail(&r))?
    };
    Ok(Value::Finite(Exact { neg, ..exact }))
}

/// `digits[.digits][p[+-]exp]` in hex.
fn parse_hex(s: &str) -> std::result::Result<Exact, String> {
    let (mantissa, exp) = match s.split_once('p') {
        Some((m, e)) => (m, parse_exponent(e, "binary exponent after 'p'")?),
        None => (s, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    if digits.is_empty() {
        return Err("expected hex digits after 0x".into());
    }
    let sig = BigUint::parse_bytes(digits.as_bytes(), 16)
        .ok_or_else(|| format!("{digits:?} is not a run of hex digits"))?;
    Ok(Exact::new(false, sig, exp - 4 * frac.len() as i64).normalized())
}

/// `digits[.digits][e[+-]exp]` in decimal.
fn parse_decimal(s: &str) -> std::result::Result<Exact, String> {
    let (mantissa, exp10) = match s.split_once('e') {
        Some((m, e)) => (m, parse_exponent(e, "decimal exponent after 'e'")?),
        None => (s, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("expected a number such as 1.5, -2e-3, 0x1.8p-3, inf or nan".into());
    }
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Ok(Exact::zero(false));
    }
    let d = BigUint::parse_bytes(digits.as_bytes(), 10).expect("checked digits");
    let k = exp10 - frac.len() as i64; // value = d · 10^k
    // log2 of the value lies within (k + digits − 1, k + digits] · log2(10).
    let magnitude = (k + digits.len() as i64) as f64 * std::f64::consts::LOG2_10;
    if magnitude > EXP_LIMIT as f64 {
        return Ok(Exact::new(false, 1u32, EXP_LIMIT));
    }
    if magnitude < -(EXP_LIMIT as f64) {
        // Strictly between 0 and every format's smallest value.
        return Ok(Exact {
            neg: false,
            sig: BigUint::one() << DECIMAL_BITS,
            exp: -2 * EXP_LIMIT,
            sticky: true,
        });
    }
    if k >= 0 {
        let sig = d * BigUint::from(5u32).pow(k as u32);
        return Ok(Exact::new(false, sig, k).normalized());
    }
    // d / 10^n = d / 5^n · 2^−n: divide with enough quotient bits, keep the remainder as sticky.
    let n = (-k) as u32;
    let five_n = BigUint::from(5u32).pow(n);
    let shift = (DECIMAL_BITS + five_n.bits()).saturating_sub(d.bits()) + 1;
    let (quot, rem) = (d << shift).div_rem(&five_n);
    Ok(Exact {
        neg: false,
        sig: quot,
        exp: -(n as i64) - shift as i64,
        sticky: !rem.is_zero(),
    }
    .normalized())
}

fn parse_exponent(s: &str, what: &str) -> std::result::Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("expected a {what}, got {s:?}"));
    }
    // Saturate absurd exponents: they only need to land beyond every format's range.
    let v: i64 = digits.parse().unwrap_or(i64::MAX / 4).min(i64::MAX / 4);
    Ok(if s.starts_with('-') { -v } else { v })
}

/// Parses a code written in hex (`0x3c00` or `3c00`), checking that it fits in `width` bits.
pub fn parse_code(input: &str, width: u32) -> Result<u128> {
    let text = input.trim();
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    let fail = |reason: String| Error::Value {
        input: input.to_string(),
        reason,
    };
    if digits.is_empty() {
        return Err(fail("expected a hex code such as 0x3c00".into()));
    }
    let code = u128::from_str_radix(digits, 16)
        .map_err(|_| fail("expected a hex code such as 0x3c00".into()))?;
    if width < 128 && code >> width != 0 {
        return Err(fail(format!("the code does not fit in {width} bits")));
    }
    Ok(code)
}
