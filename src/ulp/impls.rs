//! Implementations to measure: closure adapters for user code, Rust's std (the platform libm),
//! the `libm` crate (a port of musl's libm) and `Emu` in any format.

use super::Implementation;
use super::reference::f64_function;
use crate::emu::{Context, Emu, with_context};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::mode::Rounding;
use crate::oracle::Function;
use crate::real::Real;
use crate::rng::derive_key;

/// A one-argument function on f64 as an [`Implementation`].
pub struct Unary<F>(pub F);

impl<F: Fn(f64) -> f64 + Sync> Implementation for Unary<F> {
    fn eval(&self, args: &[f64], _: u64) -> f64 {
        (self.0)(args[0])
    }

    fn eval_run(&self, xs: &[f64], _: u64, out: &mut [f64]) {
        for (y, &x) in out.iter_mut().zip(xs) {
            *y = (self.0)(x);
        }
    }
}

/// A two-argument function on f64 as an [`Implementation`] (atan2 receives (y, x)).
pub struct Binary<F>(pub F);

impl<F: Fn(f64, f64) -> f64 + Sync> Implementation for Binary<F> {
    fn eval(&self, args: &[f64], _: u64) -> f64 {
        (self.0)(args[0], args[1])
    }
}

/// A one-argument function on f32 as an [`Implementation`] for binary32.
pub struct UnaryF32<F>(pub F);

impl<F: Fn(f32) -> f32 + Sync> Implementation for UnaryF32<F> {
    fn eval(&self, args: &[f64], _: u64) -> f64 {
        f64::from((self.0)(args[0] as f32))
    }

    fn eval_run(&self, xs: &[f64], _: u64, out: &mut [f64]) {
        for (y, &x) in out.iter_mut().zip(xs) {
            *y = f64::from((self.0)(x as f32));
        }
    }
}

/// A two-argument function on f32 as an [`Implementation`] for binary32.
pub struct BinaryF32<F>(pub F);

impl<F: Fn(f32, f32) -> f32 + Sync> Implementation for BinaryF32<F> {
    fn eval(&self, args: &[f64], _: u64) -> f64 {
        f64::from((self.0)(args[0] as f32, args[1] as f32))
    }
}

/// Names accepted by [`named`].
pub const IMPLEMENTATION_NAMES: &str = "std (Rust's f32/f64 functions: the platform libm), \
libm (the libm crate, a port of musl), emu (Emu in the measured format), emu:FORMAT";

/// A built-in implementation by name (see [`IMPLEMENTATION_NAMES`]) and the format it is
/// measured in: `std` and `libm` take binary32 (f32, the default) or binary64 (f64); `emu`
/// takes the given format, `emu:FMT` its own (a different `format` is an error). Emu rounds per
/// `rounding`, stochastic modes drawing from a stream keyed by (`seed`, input position).
pub fn named(
    name: &str,
    f: Function,
    format: Option<&Format>,
    rounding: &Rounding,
    seed: u64,
) -> Result<(Box<dyn Implementation>, Format)> {
    let lower = name.trim().to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("emu") {
        let own = match rest.strip_prefix(':') {
            Some(fmt) => Some(Format::parse(fmt)?),
            None if rest.is_empty() => None,
            None => return Err(unknown(name)),
        };
        let fmt = match (own, format) {
            (Some(a), Some(b)) if a != *b => {
                return Err(Error::Invalid(format!(
                    "implementation {name:?} evaluates in {a}, but the format to measure is {b}; \
                     give one of them"
                )));
            }
            (Some(a), _) => a,
            (None, Some(b)) => *b,
            (None, None) => Format::binary32(),
        };
        // Validates that the format fits in f64.
        Context::new(fmt, *rounding, 0)?;
        return Ok((
            Box::new(EmuImpl {
                f,
                fmt,
                rounding: *rounding,
                seed,
            }),
            fmt,
        ));
    }
    let fmt = format.copied().unwrap_or_else(Format::binary32);
    let wide = if fmt == Format::binary32() {
        false
    } else if fmt == Format::binary64() {
        true
    } else {
        return Err(Error::Invalid(format!(
            "implementation {name:?} computes in binary32 (f32) or binary64 (f64), not {fmt}; \
             use emu:{fmt} for an emulated format"
        )));
    };
    let imp: Option<Box<dyn Implementation>> = match (lower.as_str(), wide) {
        ("std", false) => std_f32(f),
        ("std", true) => std_f64(f),
        ("libm", false) => Some(libm_f32(f)),
        ("libm", true) => Some(libm_f64(f)),
        _ => return Err(unknown(name)),
    };
    let imp = imp.ok_or_else(|| {
        Error::Invalid(format!(
            "Rust's std has no {f}; measure the libm crate's with --impl libm"
        ))
    })?;
    Ok((imp, fmt))
}

fn unknown(name: &str) -> Error {
    Error::Invalid(format!(
        "unknown implementation {name:?}; expected {IMPLEMENTATION_NAMES}"
    ))
}

fn one32(f: fn(f32) -> f32) -> Option<Box<dyn Implementation>> {
    Some(Box::new(UnaryF32(f)))
}

fn two32(f: fn(f32, f32) -> f32) -> Option<Box<dyn Implementation>> {
    Some(Box::new(BinaryF32(f)))
}

/// Rust's f32 functions (std has no erf or exp10).
fn std_f32(f: Function) -> Option<Box<dyn Implementation>> {
    match f {
        Function::Exp => one32(f32::exp),
        Function::Exp2 => one32(f32::exp2),
        Function::Exp10 | Function::Erf => None,
        Function::Expm1 => one32(f32::exp_m1),
        Function::Log => one32(f32::ln),
        Function::Log2 => one32(f32::log2),
        Function::Log10 => one32(f32::log10),
        Function::Log1p => one32(f32::ln_1p),
        Function::Sin => one32(f32::sin),
        Function::Cos => one32(f32::cos),
        Function::Tan => one32(f32::tan),
        Function::Asin => one32(f32::asin),
        Function::Acos => one32(f32::acos),
        Function::Atan => one32(f32::atan),
        Function::Sinh => one32(f32::sinh),
        Function::Cosh => one32(f32::cosh),
        Function::Tanh => one32(f32::tanh),
        Function::Cbrt => one32(f32::cbrt),
        Function::Sqrt => one32(f32::sqrt),
        Function::Pow => two32(f32::powf),
        Function::Atan2 => two32(f32::atan2),
        Function::Hypot => two32(f32::hypot),
    }
}

/// Rust's f64 functions (std has no erf or exp10).
fn std_f64(f: Function) -> Option<Box<dyn Implementation>> {
    match f {
        Function::Exp10 | Function::Erf => None,
        _ => Some(f64_impl(f64_function(f))),
    }
}

fn f64_impl(func: super::reference::F64Fn) -> Box<dyn Implementation> {
    use super::reference::F64Fn;
    match func {
        F64Fn::One(g) => Box::new(Unary(g)),
        F64Fn::Two(g) => Box::new(Binary(g)),
    }
}

/// The libm crate's f32 functions.
fn libm_f32(f: Function) -> Box<dyn Implementation> {
    let one = |g: fn(f32) -> f32| -> Box<dyn Implementation> { Box::new(UnaryF32(g)) };
    let two = |g: fn(f32, f32) -> f32| -> Box<dyn Implementation> { Box::new(BinaryF32(g)) };
    match f {
        Function::Exp => one(libm::expf),
        Function::Exp2 => one(libm::exp2f),
        Function::Exp10 => one(libm::exp10f),
        Function::Expm1 => one(libm::expm1f),
        Function::Log => one(libm::logf),
        Function::Log2 => one(libm::log2f),
        Function::Log10 => one(libm::log10f),
        Function::Log1p => one(libm::log1pf),
        Function::Sin => one(libm::sinf),
        Function::Cos => one(libm::cosf),
        Function::Tan => one(libm::tanf),
        Function::Asin => one(libm::asinf),
        Function::Acos => one(libm::acosf),
        Function::Atan => one(libm::atanf),
        Function::Sinh => one(libm::sinhf),
        Function::Cosh => one(libm::coshf),
        Function::Tanh => one(libm::tanhf),
        Function::Erf => one(libm::erff),
        Function::Cbrt => one(libm::cbrtf),
        Function::Sqrt => one(libm::sqrtf),
        Function::Pow => two(libm::powf),
        Function::Atan2 => two(libm::atan2f),
        Function::Hypot => two(libm::hypotf),
    }
}

/// The libm crate's f64 functions.
fn libm_f64(f: Function) -> Box<dyn Implementation> {
    let one = |g: fn(f64) -> f64| -> Box<dyn Implementation> { Box::new(Unary(g)) };
    let two = |g: fn(f64, f64) -> f64| -> Box<dyn Implementation> { Box::new(Binary(g)) };
    match f {
        Function::Exp => one(libm::exp),
        Function::Exp2 => one(libm::exp2),
        Function::Exp10 => one(libm::exp10),
        Function::Expm1 => one(libm::expm1),
        Function::Log => one(libm::log),
        Function::Log2 => one(libm::log2),
        Function::Log10 => one(libm::log10),
        Function::Log1p => one(libm::log1p),
        Function::Sin => one(libm::sin),
        Function::Cos => one(libm::cos),
        Function::Tan => one(libm::tan),
        Function::Asin => one(libm::asin),
        Function::Acos => one(libm::acos),
        Function::Atan => one(libm::atan),
        Function::Sinh => one(libm::sinh),
        Function::Cosh => one(libm::cosh),
        Function::Tanh => one(libm::tanh),
        Function::Erf => one(libm::erf),
        Function::Cbrt => one(libm::cbrt),
        Function::Sqrt => one(libm::sqrt),
        Function::Pow => two(libm::pow),
        Function::Atan2 => two(libm::atan2),
        Function::Hypot => two(libm::hypot),
    }
}

/// `Emu` in a format: exp, log, sin, cos, tanh and √ through the [`Real`] methods model code
/// calls, the other functions as `Emu` computes elementary functions (in f64, rounded once).
struct EmuImpl {
    f: Function,
    fmt: Format,
    rounding: Rounding,
    seed: u64,
}

impl Implementation for EmuImpl {
    fn eval(&self, args: &[f64], index: u64) -> f64 {
        let ctx = Context::new(self.fmt, self.rounding, derive_key(self.seed, &[index]))
            .expect("checked in named()");
        with_context(&ctx, || {
            let x = Emu::from_f64(args[0]);
            let y = match self.f {
                Function::Exp => x.exp(),
                Function::Log => x.ln(),
                Function::Sin => x.sin(),
                Function::Cos => x.cos(),
                Function::Tanh => x.tanh(),
                Function::Sqrt => x.sqrt(),
                _ => Emu::from_f64(f64_function(self.f).eval(args)),
            };
            y.value()
        })
    }
}
