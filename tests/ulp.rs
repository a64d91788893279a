//! ULP measurement: correctly rounded implementations measure 0, perturbed ones the error
//! computed here independently with MPFR, special-case mismatches are counted, and the report
//! does not depend on threads or on the fast path.

use anyfloat::oracle::{self, Function};
use anyfloat::ulp::{self, Config, Implementation, Inputs, Unary};
use anyfloat::{Format, Rounding, RoundingMode, codec, rng::NoRandom};
use rug::Float;

fn rne() -> Rounding {
    Rounding::new(RoundingMode::NearestEven)
}

/// The correctly rounded result, from the oracle, as an implementation.
struct Oracle {
    f: Function,
    fmt: Format,
}

impl Oracle {
    fn value(&self, args: &[f64]) -> f64 {
        let codes: Vec<u128> = args
            .iter()
            .map(|&a| codec::from_f64(&self.fmt, a, &rne(), &mut NoRandom).value)
            .collect();
        let r = oracle::function(self.f, &self.fmt, &codes, &rne()).unwrap();
        codec::to_f64(&self.fmt, r.value)
    }
}

impl Implementation for Oracle {
    fn eval(&self, args: &[f64], _: u64) -> f64 {
        self.value(args)
    }
}

/// The value `k` representable steps above `v` in `fmt` (v finite).
fn step(fmt: &Format, v: f64, k: i64) -> f64 {
    let code = codec::from_f64(fmt, v, &rne(), &mut NoRandom).value;
    let sign = fmt.sign_bit();
    let mag = (code & !sign) as i64;
    let o = if code & sign != 0 { -mag } else { mag } + k;
    let c = if o < 0 {
        sign | o.unsigned_abs() as u128
    } else {
        o as u128
    };
    codec::to_f64(fmt, c)
}

#[test]
fn the_correctly_rounded_result_measures_zero_in_every_small_format_and_binary32() {
    for (name, f, inputs) in [
        ("binary16", Function::Exp, Inputs::Exhaustive),
        ("bf16", Function::Log1p, Inputs::Exhaustive),
        ("e4m3", Function::Sin, Inputs::Exhaustive),
        ("e5m2", Function::Atan2, Inputs::Exhaustive),
        (
            "binary32",
            Function::Tanh,
            Inputs::Samples {
                count: 20_000,
                seed: 3,
            },
        ),
        (
            "binary32",
            Function::Pow,
            Inputs::Samples {
                count: 5_000,
                seed: 4,
            },
        ),
    ] {
        let fmt = Format::parse(name).unwrap();
        let cfg = Config {
            inputs,
            ..Config::new(f, fmt)
        };
        let r = ulp::measure(&cfg, &Oracle { f, fmt }).unwrap();
        assert!(r.inputs > 0, "{name} {f}");
        assert_eq!(
            r.incorrectly_rounded, 0,
            "{name} {f}: {:?}",
            r.argmax_distance
        );
        assert_eq!(r.max_distance, 0, "{name} {f}");
        assert_eq!(r.special.total(), 0, "{name} {f}: {:?}", r.special);
        assert!(r.max_ulp <= 0.5, "{name} {f}: max {}", r.max_ulp);
        assert_eq!(r.measured, r.inputs, "{name} {f}");
    }
}

#[test]
fn f32_sqrt_is_correctly_rounded_in_every_mode_sampled() {
    let f32_sqrt = ulp::UnaryF32(f32::sqrt);
    let r = ulp::measure(
        &Config {
            inputs: Inputs::Samples {
                count: 50_000,
                seed: 9,
            },
            range: Some((0.0, f64::INFINITY)),
            ..Config::new(Function::Sqrt, Format::binary32())
        },
        &f32_sqrt,
    )
    .unwrap();
    assert_eq!(r.incorrectly_rounded, 0);
    assert!(r.max_ulp <= 0.5 && r.max_ulp > 0.49, "{}", r.max_ulp);
}

/// |y − f(x)| / ulp(f(x)) computed here with MPFR at 300 bits.
fn ulp_error(f: Function, fmt: &Format, x: f64, y: f64) -> f64 {
    let fx = match f {
        Function::Exp => Float::with_val(300, Float::with_val(53, x).exp_ref()),
        Function::Cbrt => Float::with_val(300, Float::with_val(53, x).cbrt_ref()),
        _ => unreachable!(),
    };
    let p = fmt.precision() as i32;
    let e = fx.get_exp().map_or(fmt.emin(), |e| e - 1);
    let ulp = Float::with_val(300, 1) << (e.max(fmt.emin()) - p + 1);
    let d = Float::with_val(300, y - &fx).abs();
    Float::with_val(300, d / ulp).to_f64()
}

#[test]
fn a_result_k_steps_off_measures_k_by_distance_and_the_independent_ulp_error() {
    for (name, f, range, k) in [
        ("binary16", Function::Exp, (-8.0, 8.0), 3),
        ("bf16", Function::Cbrt, (-100.0, 100.0), -2),
        ("e11m10", Function::Exp, (0.5, 1.0), 1),
    ] {
        let fmt = Format::parse(name).unwrap();
        let or = Oracle { f, fmt };
        let off = Unary(|x: f64| step(&fmt, or.value(&[x]), k));
        let cfg = Config {
            range: Some(range),
            ..Config::new(f, fmt)
        };
        let r = ulp::measure(&cfg, &off).unwrap();
        // Independently: every input of the range, the error of the perturbed result.
        let (mut max, mut sum, mut n) = (0.0f64, 0.0, 0u64);
        let mut x = codec::to_f64(
            &fmt,
            codec::from_f64(
                &fmt,
                range.0,
                &Rounding::new(RoundingMode::TowardPositive),
                &mut NoRandom,
            )
            .value,
        );
        while x <= range.1 {
            // Both zeros are inputs of the range.
            let zeros = [-0.0, 0.0];
            let xs: &[f64] = if x == 0.0 { &zeros } else { &[x] };
            for &x in xs {
                let e = ulp_error(f, &fmt, x, step(&fmt, or.value(&[x]), k));
                max = max.max(e);
                sum += e;
                n += 1;
            }
            x = step(&fmt, x, 1);
        }
        assert_eq!(r.inputs, n, "{name} {f}");
        assert_eq!(r.incorrectly_rounded, n, "{name} {f}");
        assert_eq!(r.max_distance, k.unsigned_abs(), "{name} {f}");
        assert_eq!(r.mean_distance, k.unsigned_abs() as f64, "{name} {f}");
        assert!(
            (r.max_ulp - max).abs() < 1e-5,
            "{name} {f}: {} vs {max}",
            r.max_ulp
        );
        assert!(
            (r.mean_ulp - sum / n as f64).abs() < 1e-5,
            "{name} {f}: {} vs {}",
            r.mean_ulp,
            sum / n as f64
        );
    }
}

#[test]
fn special_case_mismatches_are_counted_by_kind() {
    // binary16 log, exhaustive: an implementation that gets the specials wrong on purpose.
    let fmt = Format::parse("binary16").unwrap();
    let f = Function::Log;
    let or = Oracle { f, fmt };
    let bad = Unary(|x: f64| {
        let cr = or.value(&[x]);
        if x < 0.0 {
            0.0 // NaN expected
        } else if x > 60000.0 {
            f64::INFINITY // finite expected
        } else if x == 0.0 {
            -65504.0 // −Inf expected
        } else if x == 1.0 {
            -0.0 // +0 expected
        } else if x.is_nan() {
            1.0
        } else {
            cr
        }
    });
    let r = ulp::measure(&Config::new(f, fmt), &bad).unwrap();
    // Counted here from the format's codes.
    let (mut neg, mut big, mut nans) = (0, 0, 0);
    for code in 0..=0xffffu128 {
        let x = codec::to_f64(&fmt, code);
        if x.is_nan() {
            nans += 1;
        } else if x < 0.0 {
            neg += 1; // −Inf and the negative finite values (not −0)
        } else if x > 60000.0 {
            big += 1; // 60000 < x ≤ 65504 and +Inf
        }
    }
    let s = r.special;
    assert_eq!(s.missing_nan, nans + neg);
    assert_eq!(s.spurious_nan, 0);
    // +Inf is log(+Inf) = +Inf, correct; the finite ones are spurious overflows.
    assert_eq!(s.spurious_overflow, big - 1);
    assert_eq!(s.missing_overflow, 2); // log(±0) = −Inf
    assert_eq!(s.signed_zero, 1); // log(1) = +0
    assert_eq!(s.missing_underflow, 0);
    assert_eq!(s.spurious_underflow, 0);
    assert_eq!(r.inputs, 65536);
    // Measured: everything but the NaN and infinity mismatches.
    assert_eq!(r.measured, 65536 - (nans + neg) - (big - 1) - 2);
    assert_eq!(r.incorrectly_rounded, nans + neg + (big - 1) + 2 + 1);
}

#[test]
fn the_report_does_not_depend_on_threads_or_on_the_fast_path() {
    let fmt = Format::parse("bf16").unwrap();
    let emu = ulp::named(
        "emu",
        Function::Expm1,
        Some(&fmt),
        &Rounding::new(RoundingMode::Stochastic { bits: None }),
        5,
    )
    .unwrap()
    .0;
    let cfg = Config {
        rounding: Rounding::new(RoundingMode::Stochastic { bits: None }),
        ..Config::new(Function::Expm1, fmt)
    };
    let run = |threads: usize, fast: bool| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let cfg = Config {
            fast,
            ..cfg.clone()
        };
        pool.install(|| ulp::measure(&cfg, emu.as_ref()).unwrap())
    };
    let one = run(1, true);
    assert_eq!(one, run(2, true));
    assert!(
        one.incorrectly_rounded > 500,
        "SR often differs from RN: {}",
        one.incorrectly_rounded
    );
    let mpfr = run(2, false);
    assert_eq!(mpfr.mpfr_inputs, mpfr.inputs);
    assert!(one.mpfr_inputs < one.inputs / 10);
    for (a, b) in [(one.max_ulp, mpfr.max_ulp), (one.mean_ulp, mpfr.mean_ulp)] {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    assert_eq!(one.incorrectly_rounded, mpfr.incorrectly_rounded);
    assert_eq!(one.max_distance, mpfr.max_distance);
    assert_eq!(one.histogram_distance, mpfr.histogram_distance);
    assert_eq!(one.special, mpfr.special);
}

#[test]
fn bad_configurations_are_errors_that_say_why() {
    let fmt = Format::binary32();
    let imp = Unary(|x: f64| x);
    let err = |cfg: Config| ulp::measure(&cfg, &imp).unwrap_err().to_string();
    let base = Config::new(Function::Exp, fmt);
    let e = err(Config {
        range: Some((3.0, 1.0)),
        ..base.clone()
    });
    assert!(e.contains("range"), "{e}");
    let e = err(Config::new(Function::Pow, fmt));
    assert!(e.contains("pairs") && e.contains("samples"), "{e}");
    let e = err(Config {
        inputs: Inputs::Samples { count: 0, seed: 1 },
        ..base.clone()
    });
    assert!(e.contains("samples"), "{e}");
    let e = err(Config::new(
        Function::Exp,
        Format::parse("binary128").unwrap(),
    ));
    assert!(e.contains("binary128"), "{e}");
    let e = ulp::named("glibc", Function::Exp, None, &rne(), 0)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("glibc") && e.contains("std"), "{e}");
    let e = ulp::named("std", Function::Erf, None, &rne(), 0)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("erf") && e.contains("libm"), "{e}");
    let h = Format::parse("binary16").unwrap();
    let e = ulp::named("emu:bf16", Function::Exp, Some(&h), &rne(), 0)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("bfloat16") && e.contains("binary16"), "{e}");
}
