//! The scan by runs (one-argument functions on the fast path: a run of inputs evaluated at once,
//! then judged and tallied with a specialised common case) against the general path (one input
//! at a time): identical reports, on every input of 16-bit formats and on binary32 samples and
//! boundary ranges, for correct and deliberately wrong implementations (off by steps, NaN,
//! infinities, zeros of either sign, values outside the format), so every branch of the tally
//! and the MPFR fallback are compared. Rust's f32 functions (`std`) go through their own runs.

use anyfloat::oracle::Function;
use anyfloat::ulp::{self, Config, Implementation, Inputs, Report};
use anyfloat::{Format, Rounding, RoundingMode, codec, rng::NoRandom};

/// Rust's f64 function rounded into the format, then perturbed by a hash of the input's bits.
struct Perturbed {
    f: fn(f64) -> f64,
    fmt: Format,
}

/// The value `k` representable steps above `v` in `fmt` (v finite), by code.
fn step(fmt: &Format, v: f64, k: i64) -> f64 {
    let code = codec::from_f64(
        fmt,
        v,
        &Rounding::new(RoundingMode::NearestEven),
        &mut NoRandom,
    );
    let sign = fmt.sign_bit();
    let mag = (code.value & !sign) as i64;
    let o = if code.value & sign != 0 { -mag } else { mag } + k;
    let c = if o < 0 {
        sign | o.unsigned_abs() as u128
    } else {
        o as u128
    };
    codec::to_f64(fmt, c)
}

impl Implementation for Perturbed {
    fn eval(&self, args: &[f64], index: u64) -> f64 {
        let x = args[0];
        let rne = Rounding::new(RoundingMode::NearestEven);
        let y = codec::to_f64(
            &self.fmt,
            codec::from_f64(&self.fmt, (self.f)(x), &rne, &mut NoRandom).value,
        );
        // Most inputs keep the rounded value; the rest get one kind of error each.
        let h = (x.to_bits() ^ index).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 59;
        match h {
            0 if y.is_finite() => step(&self.fmt, y, 1),
            1 if y.is_finite() => step(&self.fmt, y, -3),
            2 => f64::NAN,
            3 => f64::INFINITY,
            4 => -y,
            5 => 0.0,
            6 => -0.0,
            7 if y.is_finite() && y != 0.0 => y * (1.0 + 1.0 / (1u64 << 40) as f64),
            8 if y.is_finite() => step(&self.fmt, y, 1000),
            _ => y,
        }
    }
}

const FUNCTIONS: [Function; 8] = [
    Function::Exp,
    Function::Log,
    Function::Sin,
    Function::Log1p,
    Function::Acos,
    Function::Sqrt,
    Function::Expm1,
    Function::Cosh,
];

fn libm(f: Function) -> fn(f64) -> f64 {
    match ulp::reference::f64_function(f) {
        ulp::reference::F64Fn::One(g) => g,
        ulp::reference::F64Fn::Two(_) => unreachable!("one-argument functions only"),
    }
}

/// The report by runs, after checking it equals the general path's.
fn both(cfg: &Config, imp: &dyn Implementation) -> Report {
    let runs = ulp::measure(cfg, imp).unwrap();
    let general = ulp::measure(
        &Config {
            runs: false,
            ..cfg.clone()
        },
        imp,
    )
    .unwrap();
    assert_eq!(runs, general, "{} {:?}", cfg.function, cfg.inputs);
    runs
}

/// Sums of what the compared reports exercised, so the comparisons are not vacuous.
#[derive(Default)]
struct Seen {
    inputs: u64,
    mpfr: u64,
    incorrect: u64,
    special: [u64; 8],
}

impl Seen {
    fn add(&mut self, r: &Report) {
        self.inputs += r.inputs;
        self.mpfr += r.mpfr_inputs;
        self.incorrect += r.incorrectly_rounded;
        for (s, (_, n)) in self.special.iter_mut().zip(r.special.named()) {
            *s += n;
        }
    }

    fn check(&self) {
        assert!(self.mpfr > 0 && self.incorrect > 0, "{}", self.incorrect);
        assert!(
            self.special.iter().all(|&n| n > 0),
            "every kind of mismatch: {:?}",
            self.special
        );
    }
}

#[test]
fn runs_equal_the_general_path_on_every_16_bit_input() {
    let mut seen = Seen::default();
    for name in ["binary16", "bf16"] {
        let fmt = Format::parse(name).unwrap();
        for f in FUNCTIONS {
            for mode in [RoundingMode::NearestEven, RoundingMode::TowardPositive] {
                let cfg = Config {
                    rounding: Rounding::new(mode),
                    ..Config::new(f, fmt)
                };
                let r = both(&cfg, &Perturbed { f: libm(f), fmt });
                assert_eq!(r.inputs, 65536);
                seen.add(&r);
            }
        }
    }
    seen.check();
    // Emu rounding stochastically, drawing from a stream keyed by the input's position, which
    // the runs pass on.
    let fmt = Format::parse("bf16").unwrap();
    let sr = Rounding::new(RoundingMode::Stochastic { bits: None });
    let emu = ulp::named("emu", Function::Expm1, Some(&fmt), &sr, 5)
        .unwrap()
        .0;
    let cfg = Config {
        rounding: sr,
        ..Config::new(Function::Expm1, fmt)
    };
    assert!(both(&cfg, emu.as_ref()).incorrectly_rounded > 500);
}

#[test]
fn runs_equal_the_general_path_on_binary32_samples_and_boundaries() {
    let fmt = Format::binary32();
    let mut seen = Seen::default();
    // Around ±0 and the subnormals' end, the largest values and ±Inf, exp's overflow and
    // underflow thresholds, log's exact zero, and one binade.
    let ranges = [
        (-1e-44, 1e-44),
        (1.1754941e-38, 1.1754945e-38),
        (-f64::INFINITY, -3.4028e38),
        (3.4028e38, f64::INFINITY),
        (88.7, 88.75),
        (-103.98, -103.96),
        (0.9999, 1.0001),
        (-1.0001, -0.9999),
        (0.75, 0.7505),
    ];
    for f in FUNCTIONS {
        let rne = Rounding::new(RoundingMode::NearestEven);
        let std = ulp::named("std", f, Some(&fmt), &rne, 0).unwrap().0;
        for mode in [RoundingMode::NearestEven, RoundingMode::TowardZero] {
            let base = Config {
                rounding: Rounding::new(mode),
                ..Config::new(f, fmt)
            };
            let perturbed = Perturbed { f: libm(f), fmt };
            let imps: [&dyn Implementation; 2] = [std.as_ref(), &perturbed];
            for imp in imps {
                let sampled = Config {
                    inputs: Inputs::Samples {
                        count: 100_000,
                        seed: 11,
                    },
                    ..base.clone()
                };
                seen.add(&both(&sampled, imp));
                for range in ranges {
                    let cfg = Config {
                        range: Some(range),
                        ..base.clone()
                    };
                    seen.add(&both(&cfg, imp));
                }
            }
        }
    }
    assert!(seen.inputs > 3_000_000, "{}", seen.inputs);
    seen.check();
}
