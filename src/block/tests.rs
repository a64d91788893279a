//! The fast quotient path against the rounding core, bit for bit (codes and flags).

use super::quotient::{core_quotient, round_quotient};
use super::*;
use crate::rng::{RandomSource, Stream};

const FORMATS: [&str; 14] = [
    "e2m1",
    "e2m3",
    "e3m2",
    "e4m3",
    "e5m2",
    "e3m4",
    "e4m3fnuz",
    "binary8p3",
    "ue4m3",
    "ue5m3",
    "ue5m3fn",
    "bf16",
    "binary16",
    "e11m20",
];

fn modes() -> Vec<RoundingMode> {
    let mut m = RoundingMode::DETERMINISTIC.to_vec();
    m.extend([
        RoundingMode::Stochastic { bits: None },
        RoundingMode::Stochastic { bits: Some(3) },
        RoundingMode::Stochastic { bits: Some(64) },
        RoundingMode::StochasticEqual,
    ]);
    m
}

/// Divisors: powers of two, NVFP4-like scales (UE4M3 value · binary32 tensor scale), and
/// arbitrary f64 values.
fn divisors(s: &mut Stream) -> Vec<f64> {
    let mut d = vec![
        1.0,
        0.25,
        2f64.powi(-127),
        2f64.powi(20),
        1.0 / 224.0,
        3.0,
        6.0,
        448.0,
    ];
    for _ in 0..6 {
        let ue4m3 = (8.0 + (s.next_u64() % 8) as f64) * 2f64.powi((s.next_u64() % 20) as i32 - 12);
        let t = (s.next_f64() + 0.5) as f32 as f64;
        d.push(ue4m3 * t);
        d.push(s.next_normal().abs() + 1e-3);
    }
    d
}

fn check(fmt: &Format, x: f64, d: f64, r: &Rounding, key: u64, i: u64) {
    let fast = round_quotient(fmt, x, d, r, key, i);
    let core = core_quotient(fmt, x, d, r, key, i);
    assert_eq!(
        fast, core,
        "{fmt} {:?} {:?}: {x:e} / {d:e} (index {i})",
        r.mode, r.overflow
    );
}

#[test]
fn fast_quotient_equals_the_core_on_random_and_edge_values() {
    let mut s = Stream::new(11);
    for name in FORMATS {
        let fmt = Format::parse(name).unwrap();
        let codes: Vec<f64> = (0..(1u128 << fmt.width().min(9)))
            .map(|c| codec::to_f64(&fmt, c))
            .filter(|v| v.is_finite())
            .collect();
        for d in divisors(&mut s) {
            for mode in modes() {
                for sat in [false, true] {
                    let mut r = Rounding::new(mode);
                    if sat {
                        r = r.saturating();
                    }
                    // Codes, their midpoints and near-midpoints, times the divisor.
                    for w in codes.windows(2) {
                        let mid = (w[0] + w[1]) / 2.0;
                        for v in [w[0], mid, mid * (1.0 + 1e-15), mid * (1.0 - 1e-15)] {
                            let i = s.next_u64() % 1000;
                            check(&fmt, v * d, d, &r, 5, i);
                        }
                    }
                    // Just below the smallest normal (tininess after rounding).
                    let min_normal = 2f64.powi(fmt.emin());
                    for k in 1..30 {
                        let v = min_normal * (1.0 - 2f64.powi(-k));
                        check(&fmt, v * d, d, &r, 2, k as u64);
                        check(&fmt, -v * d, d, &r, 2, k as u64);
                    }
                    for i in 0..300u64 {
                        let mag = 2f64.powi((s.next_u64() % 40) as i32 - 20);
                        let x = s.next_normal() * mag;
                        check(&fmt, x, d, &r, 9, i);
                        check(&fmt, -x, d, &r, 9, i);
                    }
                    for x in [0.0, -0.0, 1e-300, 5e-324, 1e300, f64::INFINITY, f64::NAN] {
                        check(&fmt, x, d, &r, 1, 0);
                    }
                }
            }
        }
    }
}

#[test]
fn fast_quotient_equals_the_core_for_integer_elements() {
    let mut s = Stream::new(3);
    for bits in [2, 4, 8] {
        let fmt = Element::Int { bits }.format();
        for mode in modes() {
            let r = Rounding::new(mode).saturating();
            for i in 0..2000u64 {
                let x = s.next_normal() * 1.2;
                check(&fmt, x, 1.0, &r, 4, i);
                check(&fmt, (i % 300) as f64 / 128.0, 1.0, &r, 4, i);
            }
        }
    }
}

#[test]
fn integer_elements_have_the_symmetric_two_complement_grid() {
    let e = Element::Int { bits: 8 };
    assert_eq!(e.max(), 127.0 / 64.0);
    let f = e.format();
    let r = Rounding::new(RoundingMode::NearestEven).saturating();
    for n in -127i64..=127 {
        let c = round_quotient(&f, n as f64, 64.0, &r, 0, 0);
        assert!(c.flags.is_empty());
        let code = e.code(c.value);
        assert_eq!(code, (n as u64) & 0xFF);
        assert_eq!(e.value(code), n as f64 / 64.0);
    }
}

#[test]
fn exact_log2_ratios() {
    for (a, b, fl, ce) in [
        (8.0, 1.0, 3, 3),
        (7.99, 1.0, 2, 3),
        (1.0, 3.0, -2, -1),
        (6.0, 6.0, 0, 0),
        (5e-324, 1.0, -1074, -1074),
        (1.5, 1.0 / 224.0, 8, 9),
    ] {
        assert_eq!(log2_floor_ratio(a, b), fl, "{a}/{b}");
        assert_eq!(log2_ceil_ratio(a, b), ce, "{a}/{b}");
    }
}

#[test]
fn every_preset_takes_the_vectorised_element_path() {
    // The differential tests in tests/block.rs exercise the engine only where it exists.
    for (name, _, _) in PRESETS {
        let bf = BlockFormat::preset(name).unwrap();
        for mode in modes() {
            let r = Rounding {
                mode,
                ..bf.rounding
            };
            assert!(
                engine::Engine::new(&bf.elem.format(), &r).is_some(),
                "{name} {mode:?}"
            );
        }
    }
}
