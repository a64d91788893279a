//! The oracle's elementary functions: identities, C99 Annex F special cases, hand-computed
//! thresholds, known values, and monotonicity and consistency on every binary16 input.
//!
//! Known binary64 values were computed independently of MPFR with mpmath 1.3 at 300 bits and
//! rounded to nearest (`float(mpmath.erf(1))`, …); π, e, ln 2, √2 are the familiar constants.
//! Thresholds of exp in binary16 were computed by hand (see each test).

use anyfloat::arith::Op;
use anyfloat::codec::{self, Class};
use anyfloat::oracle::{self, Function, function};
use anyfloat::rng::NoRandom;
use anyfloat::{Flagged, Flags, Format, Overflow, Rounding, RoundingMode};
use rayon::prelude::*;

const INEXACT: Flags = Flags::INEXACT;
const NONE: Flags = Flags::NONE;

fn fmt(name: &str) -> Format {
    Format::parse(name).unwrap()
}

fn rne() -> Rounding {
    Rounding::default()
}

fn f64_code(x: f64) -> u128 {
    x.to_bits() as u128
}

/// The oracle's binary64 result of `f` at f64 operands, in `mode`.
fn d(f: Function, args: &[f64], mode: RoundingMode) -> Flagged<u128> {
    let codes: Vec<u128> = args.iter().map(|&x| f64_code(x)).collect();
    function(f, &Format::binary64(), &codes, &Rounding::new(mode)).unwrap()
}

/// Asserts a binary64 result: value (NaN by class) and flags.
#[track_caller]
fn check64(f: Function, args: &[f64], want: f64, flags: Flags) {
    let r = d(f, args, RoundingMode::NearestEven);
    let got = f64::from_bits(r.value as u64);
    let same = if want.is_nan() {
        got.is_nan()
    } else {
        r.value == f64_code(want)
    };
    assert!(
        same && r.flags == flags,
        "{f}({args:?}): got {got:?} ({:#x}) [{}], want {want:?} [{flags}]",
        r.value,
        r.flags
    );
}

#[test]
fn names_parse_display_and_arity() {
    for f in Function::ALL {
        assert_eq!(Function::parse(&f.to_string()).unwrap(), f);
        assert_eq!(f.name().parse::<Function>().unwrap(), f);
        let two = matches!(f, Function::Pow | Function::Atan2 | Function::Hypot);
        assert_eq!(f.arity(), if two { 2 } else { 1 });
    }
    assert_eq!(Function::parse(" LN ").unwrap(), Function::Log);
    let e = Function::parse("gamma").unwrap_err().to_string();
    assert!(e.contains("gamma") && e.contains("atan2"), "{e}");
    let h = fmt("binary16");
    assert!(function(Function::Pow, &h, &[0x3c00], &rne()).is_err());
    assert!(function(Function::Exp, &h, &[0x3c00, 0], &rne()).is_err());
    let sr = Rounding::new(RoundingMode::Stochastic { bits: None });
    assert!(function(Function::Exp, &h, &[0x3c00], &sr).is_err());
}

#[test]
fn exact_identities_in_every_format_and_mode() {
    for name in [
        "binary16",
        "bfloat16",
        "binary32",
        "binary64",
        "binary128",
        "e4m3",
        "e5m2",
        "e3m4",
        "e2m1",
    ] {
        let f = fmt(name);
        let one = oracle::float_to_code(&f, &rug::Float::with_val(8, 1)).unwrap();
        let (pz, nz) = (f.zero(false).unwrap(), f.zero(true).unwrap());
        for mode in RoundingMode::DETERMINISTIC {
            let r = Rounding::new(mode);
            let at = |g: Function, x: &[u128]| function(g, &f, x, &r).unwrap();
            let what = format!("{name} {mode}");
            for z in [pz, nz] {
                assert_eq!(
                    at(Function::Exp, &[z]),
                    Flagged::exact(one),
                    "{what} exp(±0)"
                );
                assert_eq!(at(Function::Exp2, &[z]), Flagged::exact(one), "{what}");
                assert_eq!(at(Function::Exp10, &[z]), Flagged::exact(one), "{what}");
                assert_eq!(
                    at(Function::Cos, &[z]),
                    Flagged::exact(one),
                    "{what} cos(±0)"
                );
                assert_eq!(at(Function::Cosh, &[z]), Flagged::exact(one), "{what}");
                for g in [
                    Function::Sin,
                    Function::Tan,
                    Function::Asin,
                    Function::Atan,
                    Function::Sinh,
                    Function::Tanh,
                    Function::Erf,
                    Function::Cbrt,
                    Function::Sqrt,
                    Function::Expm1,
                    Function::Log1p,
                ] {
                    assert_eq!(at(g, &[z]), Flagged::exact(z), "{what} {g}(±0) = ±0");
                }
            }
            for g in [Function::Log, Function::Log2, Function::Log10] {
                assert_eq!(at(g, &[one]), Flagged::exact(pz), "{what} {g}(1) = +0");
            }
            assert_eq!(at(Function::Acos, &[one]), Flagged::exact(pz), "{what}");
            assert_eq!(
                at(Function::Pow, &[one, one]),
                Flagged::exact(one),
                "{what}"
            );
            assert_eq!(at(Function::Hypot, &[nz, pz]), Flagged::exact(pz), "{what}");
        }
    }
}

#[test]
fn exact_powers_and_roots() {
    // exp2 and log2 of powers of two, exp10 of small integers, cbrt of cubes: exact.
    for k in -20..20 {
        let x = k as f64;
        check64(Function::Exp2, &[x], 2f64.powi(k), NONE);
        check64(Function::Log2, &[2f64.powi(k)], x, NONE);
        check64(Function::Pow, &[2.0, x], 2f64.powi(k), NONE);
    }
    for k in 0..=22 {
        check64(Function::Exp10, &[k as f64], 10f64.powi(k), NONE);
        check64(Function::Log10, &[10f64.powi(k)], k as f64, NONE);
    }
    check64(Function::Exp10, &[23.0], 1e23, INEXACT); // 10^23 needs 54 bits
    check64(Function::Cbrt, &[-27.0], -3.0, NONE);
    check64(Function::Cbrt, &[0.125], 0.5, NONE);
    check64(Function::Hypot, &[3.0, -4.0], 5.0, NONE);
    check64(Function::Pow, &[-2.0, 3.0], -8.0, NONE);
    check64(Function::Pow, &[4.0, 0.5], 2.0, NONE);
    check64(Function::Pow, &[4.0, -0.5], 0.5, NONE);
    check64(Function::Sqrt, &[2.0], std::f64::consts::SQRT_2, INEXACT);
}

#[test]
fn known_binary64_values() {
    use std::f64::consts as c;
    let hex = f64::from_bits;
    check64(Function::Exp, &[1.0], c::E, INEXACT);
    check64(Function::Log, &[2.0], c::LN_2, INEXACT);
    check64(Function::Log, &[10.0], c::LN_10, INEXACT);
    check64(Function::Acos, &[-1.0], c::PI, INEXACT);
    check64(Function::Asin, &[1.0], c::FRAC_PI_2, INEXACT);
    check64(Function::Atan, &[1.0], c::FRAC_PI_4, INEXACT);
    check64(Function::Atan, &[f64::INFINITY], c::FRAC_PI_2, INEXACT);
    check64(Function::Atan, &[f64::NEG_INFINITY], -c::FRAC_PI_2, INEXACT);
    check64(Function::Erf, &[1.0], hex(0x3feaf767a741088b), INEXACT);
    check64(Function::Sin, &[1.0], hex(0x3feaed548f090cee), INEXACT);
    check64(Function::Tanh, &[1.0], hex(0x3fe85efab514f394), INEXACT);
    check64(Function::Log10, &[2.0], hex(0x3fd34413509f79ff), INEXACT);
    check64(Function::Cbrt, &[2.0], hex(0x3ff428a2f98d728b), INEXACT);
    check64(Function::Expm1, &[1e-10], hex(0x3ddb7cdfd9dda4e3), INEXACT);
    // Directed modes bracket the nearest value by one ulp.
    let up = d(Function::Acos, &[-1.0], RoundingMode::TowardPositive).value;
    let down = d(Function::Acos, &[-1.0], RoundingMode::TowardNegative).value;
    assert_eq!(
        (down, up),
        (f64_code(c::PI), f64_code(c::PI) + 1),
        "π is just above its f64"
    );
}

#[test]
fn domain_errors_poles_and_nans() {
    let nan = f64::NAN;
    let snan = f64::from_bits(0x7ff4_0000_0000_0000);
    let inf = f64::INFINITY;
    let (inv, dz) = (Flags::INVALID, Flags::DIV_BY_ZERO);
    for g in [Function::Log, Function::Log2, Function::Log10] {
        check64(g, &[0.0], -inf, dz);
        check64(g, &[-0.0], -inf, dz);
        check64(g, &[-1.0], nan, inv);
        check64(g, &[-inf], nan, inv);
        check64(g, &[inf], inf, NONE);
    }
    check64(Function::Log1p, &[-1.0], -inf, dz);
    check64(Function::Log1p, &[-2.0], nan, inv);
    check64(Function::Log1p, &[-0.0], -0.0, NONE);
    for g in [Function::Sin, Function::Cos, Function::Tan] {
        check64(g, &[inf], nan, inv);
        check64(g, &[-inf], nan, inv);
    }
    for g in [Function::Asin, Function::Acos] {
        check64(g, &[2.0], nan, inv);
        check64(g, &[-1.0000000000000002], nan, inv);
        check64(g, &[inf], nan, inv);
    }
    check64(Function::Sqrt, &[-1.0], nan, inv);
    check64(Function::Sqrt, &[-0.0], -0.0, NONE);
    check64(Function::Exp, &[-inf], 0.0, NONE);
    check64(Function::Exp, &[inf], inf, NONE);
    check64(Function::Expm1, &[-inf], -1.0, NONE);
    check64(Function::Tanh, &[-inf], -1.0, NONE);
    check64(Function::Erf, &[inf], 1.0, NONE);
    check64(Function::Cosh, &[-inf], inf, NONE);
    check64(Function::Sinh, &[-inf], -inf, NONE);
    check64(Function::Cbrt, &[-inf], -inf, NONE);
    for g in Function::ALL {
        let args = |x: f64| vec![x; g.arity()];
        check64(g, &args(nan), nan, NONE);
        check64(g, &args(snan), nan, inv);
    }
    // In e4m3 (no Inf) a pole is NaN with invalid, or ±max when saturating.
    let e4m3 = fmt("e4m3");
    let r = function(Function::Log, &e4m3, &[0x00], &rne()).unwrap();
    assert_eq!(r, Flagged::new(0x7f, inv | dz));
    let sat = rne().saturating();
    let r = function(Function::Log, &e4m3, &[0x80], &sat).unwrap();
    assert_eq!(r, Flagged::new(0xfe, dz | Flags::OVERFLOW | INEXACT));
    // A finite result that overflows is NaN there too, but an overflow, not an invalid one.
    let r = function(Function::Exp, &e4m3, &[0x7e], &rne()).unwrap(); // e^448
    assert_eq!(r, Flagged::new(0x7f, Flags::OVERFLOW | INEXACT));
    let r = function(Function::Exp, &e4m3, &[0x7e], &sat).unwrap();
    assert_eq!(r, Flagged::new(0x7e, Flags::OVERFLOW | INEXACT));
    // A negative result in an unsigned format is invalid; a zero result without zero is the
    // smallest value.
    let r = function(Function::Log, &fmt("ue4m3"), &[0x30], &rne()).unwrap(); // log(0.5)
    assert_eq!(r.flags, inv);
    let e8m0 = fmt("e8m0");
    let r = function(Function::Log, &e8m0, &[127], &rne()).unwrap(); // log(1) = 0
    assert_eq!(r, Flagged::new(0, INEXACT | Flags::UNDERFLOW));
}

#[test]
fn pow_special_cases_of_c99_annex_f() {
    let (inf, nan) = (f64::INFINITY, f64::NAN);
    let snan = f64::from_bits(0x7ff4_0000_0000_0000);
    let (inv, dz) = (Flags::INVALID, Flags::DIV_BY_ZERO);
    let cases: &[(f64, f64, f64, Flags)] = &[
        // pow(±0, y): odd integer y < 0 → ±∞ (divide-by-zero); other y < 0 → +∞; −∞ → +∞
        // without exception (IEEE 754-2019); odd y > 0 → ±0; other y > 0 → +0.
        (0.0, -3.0, inf, dz),
        (-0.0, -3.0, -inf, dz),
        (-0.0, -2.0, inf, dz),
        (-0.0, -0.5, inf, dz),
        (-0.0, -1e300, inf, dz),
        (0.0, -inf, inf, NONE),
        (-0.0, -inf, inf, NONE),
        (-0.0, 3.0, -0.0, NONE),
        (-0.0, 2.0, 0.0, NONE),
        (-0.0, 0.5, 0.0, NONE),
        (-0.0, inf, 0.0, NONE),
        // pow(−1, ±∞) = 1; pow(+1, y) = 1 and pow(x, ±0) = 1 even for quiet NaNs.
        (-1.0, inf, 1.0, NONE),
        (-1.0, -inf, 1.0, NONE),
        (1.0, nan, 1.0, NONE),
        (1.0, -inf, 1.0, NONE),
        (nan, 0.0, 1.0, NONE),
        (nan, -0.0, 1.0, NONE),
        (inf, -0.0, 1.0, NONE),
        (-5.5, 0.0, 1.0, NONE),
        // Signaling NaNs give NaN and invalid even there.
        (snan, 0.0, nan, inv),
        (1.0, snan, nan, inv),
        (nan, 1.0, nan, NONE),
        (2.0, nan, nan, NONE),
        // Finite x < 0 with finite non-integer y: invalid.
        (-2.0, 0.5, nan, inv),
        (-8.0, 1.0 / 3.0, nan, inv),
        (-inf, 0.5, inf, NONE),
        // pow(x, ±∞) by |x| against 1.
        (0.5, -inf, inf, NONE),
        (-0.5, -inf, inf, NONE),
        (2.0, -inf, 0.0, NONE),
        (-0.5, inf, 0.0, NONE),
        (-2.0, inf, inf, NONE),
        // pow(−∞, y): odd y < 0 → −0, other y < 0 → +0, odd y > 0 → −∞, other y > 0 → +∞.
        (-inf, -3.0, -0.0, NONE),
        (-inf, -2.0, 0.0, NONE),
        (-inf, -0.5, 0.0, NONE),
        (-inf, 3.0, -inf, NONE),
        (-inf, 2.0, inf, NONE),
        // pow(+∞, y).
        (inf, -1.0, 0.0, NONE),
        (inf, 0.5, inf, NONE),
        // Large odd and even integers.
        (-1.0, 9007199254740991.0, -1.0, NONE),
        (-1.0, 1e300, 1.0, NONE),
        // Overflow and underflow of finite results.
        (2.0, 1024.0, inf, Flags::OVERFLOW | INEXACT),
        (-2.0, 1025.0, -inf, Flags::OVERFLOW | INEXACT),
        (2.0, -1074.0, f64::from_bits(1), NONE),
        (2.0, -1075.0, 0.0, Flags::UNDERFLOW | INEXACT),
        (10.0, -400.0, 0.0, Flags::UNDERFLOW | INEXACT),
    ];
    for &(x, y, want, flags) in cases {
        check64(Function::Pow, &[x, y], want, flags);
    }
}

#[test]
fn atan2_and_hypot_special_cases() {
    use std::f64::consts::{FRAC_PI_2, FRAC_PI_4, PI};
    let (inf, nan) = (f64::INFINITY, f64::NAN);
    let snan = f64::from_bits(0x7ff4_0000_0000_0000);
    let three_quarters_pi = f64::from_bits(0x4002d97c7f3321d2);
    let cases: &[(f64, f64, f64, Flags)] = &[
        (0.0, -0.0, PI, INEXACT),
        (-0.0, -0.0, -PI, INEXACT),
        (0.0, 0.0, 0.0, NONE),
        (-0.0, 0.0, -0.0, NONE),
        (0.0, -1.0, PI, INEXACT),
        (-0.0, -1.0, -PI, INEXACT),
        (0.0, 1.0, 0.0, NONE),
        (-0.0, 1.0, -0.0, NONE),
        (-1.0, 0.0, -FRAC_PI_2, INEXACT),
        (-1.0, -0.0, -FRAC_PI_2, INEXACT),
        (1.0, 0.0, FRAC_PI_2, INEXACT),
        (1.0, -inf, PI, INEXACT),
        (-1.0, -inf, -PI, INEXACT),
        (1.0, inf, 0.0, NONE),
        (-1.0, inf, -0.0, NONE),
        (inf, 5.0, FRAC_PI_2, INEXACT),
        (-inf, -5.0, -FRAC_PI_2, INEXACT),
        (inf, -inf, three_quarters_pi, INEXACT),
        (-inf, -inf, -three_quarters_pi, INEXACT),
        (inf, inf, FRAC_PI_4, INEXACT),
        (1.0, 1.0, FRAC_PI_4, INEXACT),
        (nan, 1.0, nan, NONE),
    ];
    for &(y, x, want, flags) in cases {
        check64(Function::Atan2, &[y, x], want, flags);
    }
    check64(Function::Hypot, &[inf, nan], inf, NONE);
    check64(Function::Hypot, &[nan, -inf], inf, NONE);
    check64(Function::Hypot, &[snan, inf], nan, Flags::INVALID);
    check64(Function::Hypot, &[nan, 1.0], nan, NONE);
    check64(Function::Hypot, &[-3.0, -0.0], 3.0, NONE);
    check64(
        Function::Hypot,
        &[f64::MAX, f64::MAX],
        inf,
        Flags::OVERFLOW | INEXACT,
    );
}

#[test]
fn exp_thresholds_in_binary16() {
    let h = fmt("binary16");
    let at = |code: u128, mode: RoundingMode| {
        function(Function::Exp, &h, &[code], &Rounding::new(mode)).unwrap()
    };
    let (rne, rtz) = (RoundingMode::NearestEven, RoundingMode::TowardZero);
    let uo = Flags::UNDERFLOW | INEXACT;
    let oo = Flags::OVERFLOW | INEXACT;
    // Overflow: max = 65504, and rne overflows from max + ulp/2 = 65520, e^11.0901… .
    // 0x498b = 11.0859375: e^x = 65247.14 = 2038.97 steps of 32 → 2039 · 32 = 65248 (0x7bf7),
    // toward zero 65216 (0x7bf6).
    assert_eq!(at(0x498b, rne), Flagged::new(0x7bf7, INEXACT));
    assert_eq!(at(0x498b, rtz), Flagged::new(0x7bf6, INEXACT));
    // 0x498c = 11.09375: e^x = 65758.9 > 65520: +Inf in rne, max toward zero, both overflow.
    assert_eq!(at(0x498c, rne), Flagged::new(0x7c00, oo));
    assert_eq!(at(0x498c, rtz), Flagged::new(0x7bff, oo));
    assert_eq!(
        function(
            Function::Exp,
            &h,
            &[0x498c],
            &Rounding::default().saturating()
        )
        .unwrap(),
        Flagged::new(0x7bff, oo)
    );
    // Underflow to zero: the smallest subnormal is 2^-24, rne flushes below 2^-25 = e^-17.3287.
    // 0xcc55 = −17.328125: e^x = 2.98189e-8 > 2^-25 = 2.98023e-8 → 2^-24 (0x0001).
    // 0xcc56 = −17.34375: e^x = 2.93566e-8 < 2^-25 → +0. Both tiny and inexact.
    assert_eq!(at(0xcc55, rne), Flagged::new(0x0001, uo));
    assert_eq!(at(0xcc55, rtz), Flagged::new(0x0000, uo));
    assert_eq!(at(0xcc56, rne), Flagged::new(0x0000, uo));
    assert_eq!(
        at(0xcc56, RoundingMode::TowardPositive),
        Flagged::new(0x0001, uo)
    );
    // The smallest normal 2^-14 = e^-9.70406.
    // 0xc8da = −9.703125: e^x = 2^-14 · 1.000936 → mantissa 0.958 → 0x0401, normal.
    // 0xc8db = −9.7109375: e^x = 1016.98 · 2^-24 → 0x03f9, tiny.
    assert_eq!(at(0xc8da, rne), Flagged::new(0x0401, INEXACT));
    assert_eq!(at(0xc8db, rne), Flagged::new(0x03f9, uo));
    // sin(2^-24) is just below 2^-24: nearest is 2^-24, toward zero is +0; tiny either way.
    let sin = |mode| function(Function::Sin, &h, &[0x0001], &Rounding::new(mode)).unwrap();
    assert_eq!(sin(rne), Flagged::new(0x0001, uo));
    assert_eq!(sin(rtz), Flagged::new(0x0000, uo));
}

#[test]
fn sqrt_matches_the_operation_on_every_binary16_code() {
    for name in ["binary16", "bfloat16", "e4m3", "e5m2fnuz"] {
        let f = fmt(name);
        (0..1u128 << f.width()).into_par_iter().for_each(|code| {
            for mode in RoundingMode::DETERMINISTIC {
                for r in [Rounding::new(mode), Rounding::new(mode).saturating()] {
                    let want = Op::Sqrt.apply(&f, &[code], &r, &mut NoRandom).unwrap();
                    let got = function(Function::Sqrt, &f, &[code], &r).unwrap();
                    assert_eq!(got, want, "{name} sqrt({code:#x}) {mode}");
                }
            }
        });
    }
}

/// Every binary16 code that is not NaN, in increasing order of value (−0 before +0).
fn ordered_binary16() -> Vec<u128> {
    let neg: Vec<u128> = (0x8000..=0xfc00u128).rev().collect();
    let pos: Vec<u128> = (0x0000..=0x7c00u128).collect();
    neg.into_iter().chain(pos).collect()
}

#[test]
fn monotone_and_bracketed_on_every_binary16_input() {
    let h = fmt("binary16");
    let codes = ordered_binary16();
    let value = |c: u128| codec::to_f64(&h, c);
    let rounds = |f: Function, mode: RoundingMode| -> Vec<Flagged<u128>> {
        codes
            .par_iter()
            .map(|&c| function(f, &h, &[c], &Rounding::new(mode)).unwrap())
            .collect()
    };
    for f in [Function::Exp, Function::Log, Function::Atan, Function::Tanh] {
        let by_mode: Vec<(RoundingMode, Vec<Flagged<u128>>)> = RoundingMode::DETERMINISTIC
            .into_iter()
            .map(|m| (m, rounds(f, m)))
            .collect();
        for (mode, results) in &by_mode {
            let mut last = f64::NEG_INFINITY;
            for (i, r) in results.iter().enumerate() {
                if codec::classify(&h, r.value) == Class::Nan {
                    assert!(
                        f == Function::Log && value(codes[i]) < 0.0,
                        "{f}({:#x}) {mode} is NaN",
                        codes[i]
                    );
                    continue;
                }
                let v = value(r.value);
                assert!(
                    v >= last,
                    "{f} {mode} not monotone at {:#x}: {v} after {last}",
                    codes[i]
                );
                last = v;
            }
        }
        // The nearest and odd results lie between the directed ones, which are equal when the
        // result is exact and adjacent otherwise (or overflow to ±Inf from ±max).
        let get = |m: RoundingMode| &by_mode.iter().find(|(x, _)| *x == m).unwrap().1;
        let (down, up) = (
            get(RoundingMode::TowardNegative),
            get(RoundingMode::TowardPositive),
        );
        for i in 0..codes.len() {
            let (lo, hi) = (value(down[i].value), value(up[i].value));
            if lo.is_nan() {
                continue;
            }
            let exact = !down[i].flags.contains(INEXACT);
            assert_eq!(exact, !up[i].flags.contains(INEXACT));
            if exact {
                assert_eq!(down[i], up[i], "{f}({:#x})", codes[i]);
            } else {
                let adjacent = lo < hi && (hi.is_infinite() || value(next_up(down[i].value)) == hi);
                assert!(adjacent, "{f}({:#x}): {lo} and {hi}", codes[i]);
            }
            for m in [
                RoundingMode::NearestEven,
                RoundingMode::NearestAway,
                RoundingMode::TowardZero,
                RoundingMode::ToOdd,
            ] {
                let v = value(get(m)[i].value);
                assert!(v == lo || v == hi, "{f}({:#x}) {m}: {v}", codes[i]);
            }
        }
    }
}

/// The binary16 code of the next value up from a finite non-NaN code.
fn next_up(code: u128) -> u128 {
    match code {
        0x8000 => 0x0001,
        c if c & 0x8000 != 0 => c - 1,
        c => c + 1,
    }
}

#[test]
fn saturating_and_ieee_policies_for_infinite_results() {
    let h = fmt("binary16");
    let inf = 0x7c00;
    let r = function(Function::Exp, &h, &[inf], &rne()).unwrap();
    assert_eq!(r, Flagged::exact(inf));
    let sat = Rounding {
        overflow: Overflow::Saturate,
        ..rne()
    };
    let r = function(Function::Exp, &h, &[inf], &sat).unwrap();
    assert_eq!(r, Flagged::new(0x7bff, Flags::OVERFLOW | INEXACT));
}

/// `f` in `fmt` against the rounding core: by the round-to-odd theorem (Boldo & Melquiond),
/// rounding to odd at q ≥ p + 2 bits and then to p bits in any deterministic mode is the
/// correct rounding at p bits, tininess and overflow included. So the oracle's result in `fmt`
/// must equal `codec::convert` (the rounding core) of the oracle's binary128 round-to-odd
/// result, with the function's own invalid and divide-by-zero flags; NaN results by class.
/// Operands: every code for one-argument functions, `pairs` random pairs for the others;
/// signaling NaN operands are skipped (widening quiets them).
fn through_binary128(name: &str, modes: &[RoundingMode], pairs: usize) {
    use anyfloat::rng::{RandomSource, Stream};
    let f = fmt(name);
    let q = fmt("binary128");
    assert!(q.precision() >= f.precision() + 2);
    // Exact, except that a signaling NaN is quieted with invalid (such cases are skipped).
    let widen = |c: u128| codec::convert(&f, c, &q, &rne(), &mut NoRandom);
    let mut s = Stream::new(9);
    let n = 1u128 << f.width();
    let random: Vec<Vec<u128>> = (0..pairs)
        .map(|_| vec![s.next_u64() as u128 % n, s.next_u64() as u128 % n])
        .collect();
    let singles: Vec<Vec<u128>> = (0..n).map(|c| vec![c]).collect();
    for g in Function::ALL {
        let sets = if g.arity() == 1 { &singles } else { &random };
        sets.par_iter().for_each(|args| {
            let wide: Vec<Flagged<u128>> = args.iter().map(|&c| widen(c)).collect();
            if wide.iter().any(|w| !w.flags.is_empty()) {
                return; // a signaling NaN, quieted by widening: see the Annex F tests
            }
            let codes: Vec<u128> = wide.iter().map(|w| w.value).collect();
            let odd = function(g, &q, &codes, &Rounding::new(RoundingMode::ToOdd)).unwrap();
            let extra = Flags::from_bits(
                odd.flags.bits() & (Flags::INVALID | Flags::DIV_BY_ZERO).bits(),
            )
            .unwrap();
            for &mode in modes {
                for r in [Rounding::new(mode), Rounding::new(mode).saturating()] {
                    let got = function(g, &f, args, &r).unwrap();
                    let want =
                        codec::convert(&q, odd.value, &f, &r, &mut NoRandom).with(extra);
                    let same_nan = codec::classify(&f, got.value) == Class::Nan
                        && codec::classify(&f, want.value) == Class::Nan
                        && got.flags == want.flags;
                    assert!(
                        got == want || same_nan,
                        "{name} {g}({args:x?}) {mode} {:?}: oracle {:#x} [{}], via binary128 {:#x} [{}]",
                        r.overflow,
                        got.value,
                        got.flags,
                        want.value,
                        want.flags
                    );
                }
            }
        });
    }
}

#[test]
fn binary16_functions_agree_with_the_core_via_binary128_round_to_odd() {
    through_binary128(
        "binary16",
        &[RoundingMode::NearestEven, RoundingMode::TowardZero],
        20_000,
    );
}

#[test]
#[ignore = "every small format and mode; run in release with --include-ignored"]
fn small_formats_functions_agree_with_the_core_via_binary128_round_to_odd() {
    let other_modes = [
        RoundingMode::NearestAway,
        RoundingMode::TowardPositive,
        RoundingMode::TowardNegative,
        RoundingMode::ToOdd,
    ];
    through_binary128("binary16", &other_modes, 50_000);
    for name in [
        "bfloat16",
        "e4m3",
        "e5m2",
        "e4m3fnuz",
        "binary8p3",
        "e2m1",
        "e8m0",
        "ue5m3",
    ] {
        through_binary128(name, &RoundingMode::DETERMINISTIC[..], 50_000);
    }
}

#[test]
fn known_binary128_and_binary32_values() {
    // binary128 values from mpmath at 400 bits rounded to 113 bits (e and π are the familiar
    // constants); binary32 ones are Rust's f32 constants, correctly rounded.
    let q = fmt("binary128");
    let one = 0x3fff_0000_0000_0000_0000_0000_0000_0000u128;
    let two = 0x4000_0000_0000_0000_0000_0000_0000_0000u128;
    let half = 0x3ffe_0000_0000_0000_0000_0000_0000_0000u128;
    let at = |g: Function, args: &[u128]| function(g, &q, args, &rne()).unwrap();
    let want = |code: u128| Flagged::new(code, INEXACT);
    assert_eq!(
        at(Function::Exp, &[one]),
        want(0x40005bf0a8b1457695355fb8ac404e7a)
    );
    assert_eq!(
        at(Function::Log, &[two]),
        want(0x3ffe62e42fefa39ef35793c7673007e6)
    );
    assert_eq!(
        at(Function::Acos, &[one | 1 << 127]),
        want(0x4000921fb54442d18469898cc51701b8)
    );
    assert_eq!(
        at(Function::Sin, &[one]),
        want(0x3ffeaed548f090cee0418dd3d2138a1e)
    );
    assert_eq!(
        at(Function::Erf, &[half]),
        want(0x3ffe0a7ef5c18edd22bd013e346344f5)
    );
    assert_eq!(
        at(Function::Atan2, &[one, two | 1 << 127]),
        want(0x400056c6e7397f5ae5982d93b39bd2aa)
    );
    let s = Format::binary32();
    let at = |g: Function, x: f32| function(g, &s, &[x.to_bits() as u128], &rne()).unwrap();
    assert_eq!(
        at(Function::Exp, 1.0),
        want(std::f32::consts::E.to_bits() as u128)
    );
    assert_eq!(
        at(Function::Acos, -1.0),
        want(std::f32::consts::PI.to_bits() as u128)
    );
    assert_eq!(
        at(Function::Log, 10.0),
        want(std::f32::consts::LN_10.to_bits() as u128)
    );
}
