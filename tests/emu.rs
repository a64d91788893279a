//! `Emu` against the exact arithmetic: every result equal, exhaustively for 8-bit formats.

use anyfloat::arith::Op;
use anyfloat::emu::{Context, Emu, with_context};
use anyfloat::real::Real;
use anyfloat::rng::{ElementStream, NoRandom, RandomSource, Stream};
use anyfloat::{Format, Rounding, RoundingMode, codec};

fn finite_codes(fmt: &Format) -> Vec<u128> {
    (0..(1u128 << fmt.width()))
        .filter(|&c| codec::to_f64(fmt, c).is_finite())
        .collect()
}

/// For every pair of finite codes, `Emu` ops equal `Op::apply` (values; NaN ↔ NaN).
fn exhaustive_pairs(name: &str, mode: RoundingMode) {
    let fmt = Format::parse(name).unwrap();
    let ctx = Context::new(fmt, mode, 0).unwrap();
    let rounding = Rounding::new(mode);
    let codes = finite_codes(&fmt);
    with_context(&ctx, || {
        for &a in &codes {
            let x = Emu::from_f64(codec::to_f64(&fmt, a));
            let want = Op::Sqrt
                .apply(&fmt, &[a], &rounding, &mut NoRandom)
                .unwrap()
                .value;
            same(&fmt, x.sqrt().to_f64(), want, || {
                format!("{name} {mode} sqrt {a:#x}")
            });
            for &b in &codes {
                let y = Emu::from_f64(codec::to_f64(&fmt, b));
                for (op, got) in [
                    (Op::Add, x + y),
                    (Op::Sub, x - y),
                    (Op::Mul, x * y),
                    (Op::Div, x / y),
                ] {
                    let want = op
                        .apply(&fmt, &[a, b], &rounding, &mut NoRandom)
                        .unwrap()
                        .value;
                    same(&fmt, got.to_f64(), want, || {
                        format!("{name} {mode} {op} {a:#x} {b:#x}")
                    });
                }
            }
        }
    });
}

fn same(fmt: &Format, got: f64, want_code: u128, what: impl Fn() -> String) {
    let want = codec::to_f64(fmt, want_code);
    assert!(
        got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
        "{}: got {got}, want {want}",
        what()
    );
}

#[test]
fn emu_matches_exact_arithmetic_on_every_e4m3_and_e5m2_pair() {
    for name in ["e4m3", "e5m2", "e3m4", "binary8p4", "e2m1"] {
        for mode in [
            RoundingMode::NearestEven,
            RoundingMode::TowardZero,
            RoundingMode::NearestAway,
        ] {
            exhaustive_pairs(name, mode);
        }
    }
}

#[test]
fn emu_matches_exact_arithmetic_on_random_e5m10_and_e11m10_operands() {
    for name in ["e5m10", "e11m10", "e11m23", "e11m3", "bf16"] {
        let fmt = Format::parse(name).unwrap();
        let rounding = Rounding::default();
        let ctx = Context::new(fmt, RoundingMode::NearestEven, 0).unwrap();
        let mut s = Stream::new(3);
        let code = |s: &mut Stream| {
            codec::from_f64(
                &fmt,
                s.next_normal() * 2f64.powi((s.next_u64() % 40) as i32 - 20),
                &rounding,
                &mut NoRandom,
            )
            .value
        };
        with_context(&ctx, || {
            for _ in 0..20_000 {
                let (a, b, c) = (code(&mut s), code(&mut s), code(&mut s));
                let e = |k| Emu::from_f64(codec::to_f64(&fmt, k));
                let (x, y, z) = (e(a), e(b), e(c));
                for (op, got) in [
                    (Op::Add, x + y),
                    (Op::Sub, x - y),
                    (Op::Mul, x * y),
                    (Op::Div, x / y),
                ] {
                    let want = op
                        .apply(&fmt, &[a, b], &rounding, &mut NoRandom)
                        .unwrap()
                        .value;
                    same(&fmt, got.to_f64(), want, || {
                        format!("{name} {op} {a:#x} {b:#x}")
                    });
                }
                let want = Op::Fma
                    .apply(&fmt, &[a, b, c], &rounding, &mut NoRandom)
                    .unwrap()
                    .value;
                same(&fmt, x.mul_add(&y, &z).to_f64(), want, || {
                    format!("{name} fma")
                });
            }
        });
    }
}

/// Stochastic rounding in `Emu` draws from position `k` of the context's stream for its k-th
/// rounding (conversions included).
#[test]
fn emu_stochastic_rounding_follows_the_context_stream() {
    let fmt = Format::parse("e11m7").unwrap();
    let mode = RoundingMode::Stochastic { bits: None };
    let ctx = Context::new(fmt, mode, 99).unwrap();
    let rounding = Rounding::new(mode);
    let third = codec::from_f64(&fmt, 1.0 / 3.0, &Rounding::default(), &mut NoRandom).value;
    let seven = codec::from_f64(&fmt, 7.0, &Rounding::default(), &mut NoRandom).value;
    let got: Vec<f64> = with_context(&ctx, || {
        let (a, b) = (
            Emu::from_f64(codec::to_f64(&fmt, third)),
            Emu::from_f64(codec::to_f64(&fmt, seven)),
        );
        (0..50).map(|_| (a * b).to_f64()).collect()
    });
    let want: Vec<f64> = (0..50)
        .map(|k| {
            codec::to_f64(
                &fmt,
                Op::Mul
                    .apply(
                        &fmt,
                        &[third, seven],
                        &rounding,
                        &mut ElementStream::new(99, k + 2),
                    )
                    .unwrap()
                    .value,
            )
        })
        .collect();
    assert_eq!(got, want);
    assert!(got.iter().any(|&v| v != got[0]), "stochastic results vary");
}
