//! `Mp` (MPFR-backed `Real`) against the hardware and against the exact arithmetic core.

use anyfloat::arith::Op;
use anyfloat::mp::{Mp, MpContext, with_context};
use anyfloat::real::Real;
use anyfloat::rng::{NoRandom, Stream};
use anyfloat::{Format, Rounding, RoundingMode, codec};

fn samples(seed: u64, n: usize) -> Vec<f64> {
    let mut s = Stream::new(seed);
    (0..n)
        .map(|i| match i % 3 {
            0 => s.next_normal(),
            1 => s.next_normal() * 1e30,
            _ => s.next_normal() * 1e-39,
        })
        .collect()
}

#[test]
fn mp_at_24_bits_with_binary32_range_matches_f32_arithmetic() {
    let ctx = MpContext::new(24, RoundingMode::NearestEven)
        .unwrap()
        .with_exponent_range(-126, 127)
        .unwrap();
    let xs: Vec<f32> = samples(1, 300).into_iter().map(|x| x as f32).collect();
    with_context(ctx, || {
        for w in xs.windows(3) {
            let (a, b, c) = (w[0], w[1], w[2]);
            let m = |x: f32| Mp::from_f64(x as f64);
            let pairs = [
                ((m(a) + m(b)).to_f64(), a + b),
                ((m(a) - m(b)).to_f64(), a - b),
                ((m(a) * m(b)).to_f64(), a * b),
                ((m(a) / m(b)).to_f64(), a / b),
                (m(a).abs().sqrt().to_f64(), a.abs().sqrt()),
                (m(a).mul_add(&m(b), &m(c)).to_f64(), a.mul_add(b, c)),
            ];
            for (got, want) in pairs {
                assert_eq!(
                    got.to_bits(),
                    (want as f64).to_bits(),
                    "{a} {b} {c}: {got} vs {want}"
                );
            }
        }
    });
}

/// Ties-away and round-to-odd (computed through p + 2 bits) agree with the exact core.
#[test]
fn mp_nearest_away_and_to_odd_match_the_exact_core() {
    let fmt = Format::parse("e11m10").unwrap();
    let xs = samples(2, 400);
    for mode in [
        RoundingMode::NearestAway,
        RoundingMode::ToOdd,
        RoundingMode::TowardPositive,
    ] {
        let ctx = MpContext::new(11, mode).unwrap();
        let rounding = Rounding::new(mode);
        let code = |x: f64| codec::from_f64(&fmt, x, &rounding, &mut NoRandom).value;
        with_context(ctx, || {
            for w in xs.windows(2) {
                let (a, b) = (code(w[0]), code(w[1]));
                let (x, y) = (codec::to_f64(&fmt, a), codec::to_f64(&fmt, b));
                for (op, got) in [
                    (Op::Add, Mp::from_f64(x) + Mp::from_f64(y)),
                    (Op::Mul, Mp::from_f64(x) * Mp::from_f64(y)),
                    (Op::Div, Mp::from_f64(x) / Mp::from_f64(y)),
                ] {
                    let want = op
                        .apply(&fmt, &[a, b], &rounding, &mut NoRandom)
                        .unwrap()
                        .value;
                    assert_eq!(
                        got.to_f64(),
                        codec::to_f64(&fmt, want),
                        "{op} {mode} {x} {y}"
                    );
                }
            }
        });
    }
}

#[test]
fn mp_contexts_reject_what_they_cannot_do() {
    assert!(MpContext::new(1, RoundingMode::NearestEven).is_err());
    assert!(MpContext::new(64, RoundingMode::Stochastic { bits: None }).is_err());
    assert!(
        MpContext::new(64, RoundingMode::ToOdd)
            .unwrap()
            .with_exponent_range(-10, 10)
            .is_err()
    );
}
