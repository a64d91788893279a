//! `Emu`'s fast paths against the exact arithmetic (`Op::apply`) in every rounding mode,
//! stochastic ones included: same values and same stream positions (the k-th rounding of a
//! context draws from position k). Exhaustive over operand pairs of 8-bit formats, random for
//! wider ones.

use anyfloat::arith::Op;
use anyfloat::emu::{Context, Emu, with_context};
use anyfloat::real::Real;
use anyfloat::rng::{ElementStream, NoRandom, RandomSource, Stream};
use anyfloat::{Format, Rounding, RoundingMode, codec};

const KEY: u64 = 4242;

fn modes() -> Vec<RoundingMode> {
    [
        "rne", "rna", "rtz", "rup", "rdn", "rto", "sr", "sr:4", "sr:13", "sr:64", "sr-eq",
    ]
    .iter()
    .map(|m| m.parse().unwrap())
    .collect()
}

/// Runs `f(x, y)` for each pair under a fresh context and compares each of + − × ÷ and √x with
/// the exact operation drawing from the same stream position.
fn compare(fmt: &Format, mode: RoundingMode, pairs: &[(u128, u128)]) {
    let rounding = Rounding::new(mode);
    let ctx = Context::new(*fmt, mode, KEY).unwrap();
    let mut bad = Vec::new();
    with_context(&ctx, || {
        // Draw counter of the context, mirrored: each Emu::from_f64 and each operation rounds once.
        let mut k = 0u64;
        for &(a, b) in pairs {
            let x = Emu::from_f64(codec::to_f64(fmt, a));
            let y = Emu::from_f64(codec::to_f64(fmt, b));
            k += 2;
            let ops: [(Op, Emu); 5] = [
                (Op::Add, x + y),
                (Op::Sub, x - y),
                (Op::Mul, x * y),
                (Op::Div, x / y),
                (Op::Sqrt, x.sqrt()),
            ];
            for (op, got) in ops {
                let operands: &[u128] = if op == Op::Sqrt { &[a] } else { &[a, b] };
                let want = op
                    .apply(fmt, operands, &rounding, &mut ElementStream::new(KEY, k))
                    .unwrap()
                    .value;
                k += 1;
                let want = codec::to_f64(fmt, want);
                let got = got.to_f64();
                if got.to_bits() != want.to_bits() && !(got.is_nan() && want.is_nan()) {
                    bad.push(format!("{op} {a:#x} {b:#x}: Emu {got:e}, exact {want:e}"));
                }
            }
        }
    });
    assert!(
        bad.is_empty(),
        "{fmt} {mode}: {} mismatches, first:\n{}",
        bad.len(),
        bad[..bad.len().min(10)].join("\n")
    );
}

fn finite_codes(fmt: &Format) -> Vec<u128> {
    (0..(1u128 << fmt.width()))
        .filter(|&c| codec::to_f64(fmt, c).is_finite())
        .collect()
}

fn all_pairs(fmt: &Format) -> Vec<(u128, u128)> {
    let codes = finite_codes(fmt);
    codes
        .iter()
        .flat_map(|&a| codes.iter().map(move |&b| (a, b)))
        .collect()
}

#[test]
fn every_pair_of_small_formats_every_mode() {
    // e4m0: precision 1, where the kept part of every value is its hidden bit.
    for name in ["e2m1", "e3m2", "binary8p3", "e4m0"] {
        let fmt = Format::parse(name).unwrap();
        let pairs = all_pairs(&fmt);
        for mode in modes() {
            compare(&fmt, mode, &pairs);
        }
    }
}

#[test]
#[ignore = "about 15 s in release"]
fn every_pair_of_8_bit_formats_every_mode() {
    for name in ["e4m3", "e5m2", "e3m4", "binary8p4", "ue4m3", "e5m2fnuz"] {
        let fmt = Format::parse(name).unwrap();
        let pairs = all_pairs(&fmt);
        for mode in modes() {
            compare(&fmt, mode, &pairs);
        }
    }
}

/// `n` pairs of values drawn as normal deviates times 2^e, e uniform in `center ± 30`.
fn random_pairs(fmt: &Format, n: usize, seed: u64, center: i32) -> Vec<(u128, u128)> {
    let mut s = Stream::new(seed);
    let code = |s: &mut Stream| {
        let scale = 2f64.powi(center + (s.next_u64() % 60) as i32 - 30);
        codec::from_f64(
            fmt,
            s.next_normal() * scale,
            &Rounding::default(),
            &mut NoRandom,
        )
        .value
    };
    (0..n).map(|_| (code(&mut s), code(&mut s))).collect()
}

#[test]
fn random_operands_of_wider_formats_every_mode() {
    for name in ["e5m10", "e11m10", "bf16", "e11m30", "e11m52", "e8m23ftz"] {
        let fmt = Format::parse(name).unwrap();
        let pairs = random_pairs(&fmt, 3000, 1, 0);
        for mode in modes() {
            compare(&fmt, mode, &pairs);
        }
    }
}

/// Operands whose sums and quotients lie near f64's smallest normal 2^−1022 (and, from the
/// second set, products and square roots too), where the f64 operation itself rounds at
/// reduced precision and the fast path must step aside or be right anyway.
#[test]
fn random_operands_near_the_bottom_of_f64_every_mode() {
    for name in ["e11m10", "e11m20", "e11m52"] {
        let fmt = Format::parse(name).unwrap();
        for (seed, center) in [(2, -1000), (3, -511)] {
            let pairs = random_pairs(&fmt, 2000, seed, center);
            for mode in modes() {
                compare(&fmt, mode, &pairs);
            }
        }
    }
}

/// Operands whose results lie near f64's largest values (from the second set, products and
/// square roots too), where `rne`'s splitting would overflow and the fast path must step
/// aside, and where results overflow the format.
#[test]
fn random_operands_near_the_top_of_f64_every_mode() {
    for name in ["e11m10", "e11m30", "e11m51"] {
        let fmt = Format::parse(name).unwrap();
        for (seed, center) in [(4, 990), (5, 511)] {
            let pairs = random_pairs(&fmt, 2000, seed, center);
            for mode in modes() {
                compare(&fmt, mode, &pairs);
            }
        }
    }
}
