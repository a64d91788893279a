//! fma on all 2^24 operand triples of e4m3 (every deterministic mode) and e5m2 (rne):
//! `Op::apply` against `oracle::apply`, bits and flags. Ignored in the default run (tens of seconds per mode in release); CI runs it with
//! `cargo test --release -- --include-ignored`.

mod common;

use anyfloat::arith::Op;
use anyfloat::rng::NoRandom;
use anyfloat::{Format, Overflow, Rounding, RoundingMode, Tininess, oracle};
use common::{Tally, report};
use rayon::prelude::*;

fn all_triples(fmt: &str, rs: &[Rounding]) {
    let fmt = Format::parse(fmt).unwrap();
    let n = 1u128 << fmt.width();
    let tally = Tally::new();
    let start = std::time::Instant::now();
    (0..n * n).into_par_iter().for_each(|ab| {
        let (a, b) = (ab / n, ab % n);
        let mut out = Vec::new();
        for c in 0..n {
            for r in rs {
                let operands = [a, b, c];
                let got = Op::Fma.apply(&fmt, &operands, r, &mut NoRandom).unwrap();
                let want = oracle::apply(&Op::Fma, &fmt, &operands, r).unwrap();
                if got != want {
                    out.push(report(
                        &Op::Fma,
                        &fmt,
                        &operands,
                        r,
                        ("arith", &got),
                        ("oracle", &want),
                    ));
                }
            }
        }
        tally.add((n as usize * rs.len()) as u64, out);
    });
    tally.finish(&format!("{fmt} fma"));
    eprintln!("{:.1} s", start.elapsed().as_secs_f64());
}

#[test]
#[ignore = "2^24 cases; run in release with --include-ignored"]
fn e4m3_and_e5m2_fma_rne_all_triples() {
    for fmt in ["e4m3", "e5m2"] {
        all_triples(fmt, &[Rounding::new(RoundingMode::NearestEven)]);
    }
}

#[test]
#[ignore = "2^24 cases × 5 roundings; run in release with --include-ignored"]
fn e4m3_fma_other_modes_all_triples() {
    let rs: Vec<Rounding> = [
        RoundingMode::NearestAway,
        RoundingMode::TowardZero,
        RoundingMode::TowardPositive,
        RoundingMode::TowardNegative,
        RoundingMode::ToOdd,
    ]
    .into_iter()
    .map(|mode| Rounding {
        mode,
        // Policies vary with the mode; the exhaustive small-format test covers all of them.
        overflow: if matches!(mode, RoundingMode::NearestAway | RoundingMode::ToOdd) {
            Overflow::Saturate
        } else {
            Overflow::Ieee
        },
        tininess: if matches!(mode, RoundingMode::TowardPositive) {
            Tininess::BeforeRounding
        } else {
            Tininess::AfterRounding
        },
    })
    .collect();
    all_triples("e4m3", &rs);
}
