//! `Op::apply` against `oracle::apply` on every operand of the small formats.
//!
//! Every named 8-bit format (e4m3, e5m2, e4m3fnuz, e5m2fnuz, e4m3b11fnuz, e3m4,
//! binary8p1..p7, e8m0, ue4m3, ue5m3, ue5m3fn), the 6-bit e2m3 and e3m2 and the 4-bit e2m1:
//! all operand pairs of add, sub, mul, div, rem (rounded: every mode and policy of the run),
//! min, max, minimum, maximum and the six comparisons (once); all operands of sqrt,
//! round_to_int, round_to_int_exact, to_i8, to_u8, from_i8, from_u8 and conversions from e5m2
//! and e4m3. Bits and flags must be equal — no NaN leniency, both sides produce the default NaN.
//!
//! The default run covers all six deterministic modes with both overflow policies (IEEE with
//! tininess after rounding, saturating with tininess before); the ignored test adds the two
//! other combinations (IEEE with tininess before, saturating with tininess after).

mod common;

use anyfloat::arith::Op;
use anyfloat::rng::NoRandom;
use anyfloat::{Format, Overflow, Rounding, RoundingMode, Tininess, oracle};
use common::{BINARY_EXACT, BINARY_ROUNDED, Tally, report};
use rayon::prelude::*;

const FORMATS: [&str; 21] = [
    "e4m3",
    "e5m2",
    "e4m3fnuz",
    "e5m2fnuz",
    "e4m3b11fnuz",
    "e3m4",
    "binary8p1",
    "binary8p2",
    "binary8p3",
    "binary8p4",
    "binary8p5",
    "binary8p6",
    "binary8p7",
    "e8m0",
    "ue4m3",
    "ue5m3",
    "ue5m3fn",
    "e2m3",
    "e3m2",
    "e2m1",
    // A format without subnormals, to exercise flushing.
    "e4m3ftz",
];

fn roundings(modes: &[RoundingMode], policies: &[(Overflow, Tininess)]) -> Vec<Rounding> {
    modes
        .iter()
        .flat_map(|&mode| {
            policies.iter().map(move |&(overflow, tininess)| Rounding {
                mode,
                overflow,
                tininess,
            })
        })
        .collect()
}

fn compare(op: &Op, fmt: &Format, operands: &[u128], r: &Rounding, out: &mut Vec<String>) {
    let got = op.apply(fmt, operands, r, &mut NoRandom).unwrap();
    let want = oracle::apply(op, fmt, operands, r).unwrap();
    if got != want {
        out.push(report(
            op,
            fmt,
            operands,
            r,
            ("arith", &got),
            ("oracle", &want),
        ));
    }
}

/// Everything for one format; `exact_ops` adds the rounding-independent operations.
fn check_format(name: &str, rs: &[Rounding], exact_ops: bool, tally: &Tally) {
    let fmt = Format::parse(name).unwrap();
    let n = 1u128 << fmt.width();
    (0..n).into_par_iter().for_each(|a| {
        let mut out = Vec::new();
        let mut checked = 0u64;
        for b in 0..n {
            for op in &BINARY_ROUNDED {
                for r in rs {
                    compare(op, &fmt, &[a, b], r, &mut out);
                }
            }
            checked += (BINARY_ROUNDED.len() * rs.len()) as u64;
            if exact_ops {
                for op in &BINARY_EXACT {
                    compare(op, &fmt, &[a, b], &Rounding::default(), &mut out);
                }
                checked += BINARY_EXACT.len() as u64;
            }
        }
        let unary = [
            Op::Sqrt,
            Op::RoundToInt { exact: false },
            Op::RoundToInt { exact: true },
            Op::ToInt {
                bits: 8,
                signed: true,
            },
            Op::ToInt {
                bits: 8,
                signed: false,
            },
        ];
        let from_int = [
            Op::FromInt {
                bits: 8,
                signed: true,
            },
            Op::FromInt {
                bits: 8,
                signed: false,
            },
            Op::Convert {
                from: Format::parse("e5m2").unwrap(),
            },
            Op::Convert {
                from: Format::parse("e4m3").unwrap(),
            },
        ];
        for r in rs {
            for op in &unary {
                compare(op, &fmt, &[a], r, &mut out);
            }
            // Operands of these are 8-bit whatever the format's width.
            if a < 256 {
                for op in &from_int {
                    compare(op, &fmt, &[a], r, &mut out);
                }
                checked += from_int.len() as u64;
            }
            checked += unary.len() as u64;
        }
        tally.add(checked, out);
    });
}

fn run(modes: &[RoundingMode], policies: &[(Overflow, Tininess)], exact_ops: bool) {
    let rs = roundings(modes, policies);
    let start = std::time::Instant::now();
    for name in FORMATS {
        let tally = Tally::new();
        check_format(name, &rs, exact_ops, &tally);
        tally.finish(name);
    }
    eprintln!("{:.1} s", start.elapsed().as_secs_f64());
}

const DEFAULT_POLICIES: [(Overflow, Tininess); 2] = [
    (Overflow::Ieee, Tininess::AfterRounding),
    (Overflow::Saturate, Tininess::BeforeRounding),
];
const OTHER_POLICIES: [(Overflow, Tininess); 2] = [
    (Overflow::Ieee, Tininess::BeforeRounding),
    (Overflow::Saturate, Tininess::AfterRounding),
];

#[test]
fn small_formats_match_the_oracle() {
    run(&RoundingMode::DETERMINISTIC, &DEFAULT_POLICIES, true);
}

#[test]
#[ignore = "the two other policy combinations; run in release with --include-ignored"]
fn small_formats_other_policies_match_the_oracle() {
    run(&RoundingMode::DETERMINISTIC, &OTHER_POLICIES, false);
}
