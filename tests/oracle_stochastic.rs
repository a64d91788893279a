//! Stochastic rounding of operations against the oracle.
//!
//! For seeded random operands of add, sub, mul, div, sqrt and fma in binary16, bfloat16, e4m3,
//! e5m2 and binary32, whose exact result is inexact, the oracle gives the two neighbours:
//! `lo`, the result rounded toward zero, and `hi`, rounded away from zero (toward +∞ for a
//! positive result, −∞ for a negative one), each with its flags under the before-rounding
//! tininess rule that stochastic modes use. Then, for `sr`, `sr:4` and `sr-eq`:
//!
//! - every draw of `Op::apply` returns `lo` or `hi` with exactly that neighbour's flags;
//! - the frequency of `hi` matches the exact probability: with R = (|x| − |lo|) / ulp the
//!   exact result's position between the neighbours (computed by MPFR at 400 bits), P = R for
//!   `sr`, ⌊R · 16⌋ / 16 for `sr:4`, 1/2 for `sr-eq`. Where P is 0 or 1 (`sr:4` with R < 1/16,
//!   and results at or beyond the largest finite value plus one step, which overflow in every
//!   stochastic mode) the outcome must be certain. Otherwise each case's count k of `DRAWS` draws must satisfy
//!   Hoeffding's bound |k − N·P| < √(N · ln(2/α) / 2) with α = 1e-9 (a guaranteed false-alarm
//!   rate of 1e-9 per case, under 1e-5 for all cases together), and over all cases of a mode the
//!   pooled z = Σ(k − N·P) / √(Σ N·P·(1 − P)) must satisfy |z| < 5 (false alarm 5.7e-7 by the
//!   central limit theorem), as must the dispersion statistic Σ (k − N·P)² / (N·P·(1 − P)) over
//!   the cases with N·P·(1 − P) ≥ 5, standardized with its exact mean and variance (the
//!   binomial's kurtosis included) and compared through the normal approximation (|z| < 5).
//!
//! The seeds are fixed, so the outcome is deterministic; the rates say how unlucky a seed would
//! have to be to fail a correct implementation.

mod common;

use anyfloat::arith::Op;
use anyfloat::rng::{ElementStream, derive_key};
use anyfloat::vectors::{Level, operand_sets};
use anyfloat::{Flagged, Format, Rounding, RoundingMode, Tininess, oracle};
use rayon::prelude::*;
use rug::Float;
use rug::float::Round;

const DRAWS: u64 = 4000;
const CASES: usize = 100;

fn before(mode: RoundingMode) -> Rounding {
    Rounding {
        tininess: Tininess::BeforeRounding,
        ..Rounding::new(mode)
    }
}

/// The exact result of `op` on the codes, at 400 bits (exact for add, sub, mul and fma of
/// these formats; 400 correct bits for div and sqrt).
fn exact(op: &Op, fmt: &Format, operands: &[u128]) -> Float {
    let v: Vec<Float> = operands
        .iter()
        .map(|&c| oracle::code_to_float(fmt, c))
        .collect();
    let prec = 400;
    let r = Round::Nearest;
    match op {
        Op::Add => Float::with_val_round(prec, &v[0] + &v[1], r).0,
        Op::Sub => Float::with_val_round(prec, &v[0] - &v[1], r).0,
        Op::Mul => Float::with_val_round(prec, &v[0] * &v[1], r).0,
        Op::Div => Float::with_val_round(prec, &v[0] / &v[1], r).0,
        Op::Sqrt => Float::with_val_round(prec, v[0].sqrt_ref(), r).0,
        Op::Fma => Float::with_val_round(prec, v[0].mul_add_ref(&v[1], &v[2]), r).0,
        _ => unreachable!(),
    }
}

/// R = (|x| − |lo|) / ulp, the fraction of the grid step at `lo` that x lies above it
/// (400 bits).
fn fraction(fmt: &Format, x: &Float, lo: u128) -> Float {
    let lo = oracle::code_to_float(fmt, lo);
    let p = fmt.precision() as i32;
    let e = match lo.get_exp() {
        Some(e) if e > fmt.emin() => e - 1,
        _ => fmt.emin(),
    };
    let mut r = Float::with_val(400, x.abs_ref()) - lo.abs();
    r >>= e - (p - 1);
    r
}

struct Case {
    op: Op,
    operands: Vec<u128>,
    lo: Flagged<u128>,
    hi: Flagged<u128>,
    /// R, or None when the exact result is at or beyond the largest finite value plus one
    /// step: then every stochastic mode overflows like round-to-nearest (`hi` always).
    r: Option<Float>,
}

/// Inexact cases with finite operands and a finite toward-zero neighbour.
fn cases(fmt: &Format, op: &Op, seed: u64) -> Vec<Case> {
    let sets = operand_sets(op, fmt, Level::One, 20 * CASES, seed).unwrap();
    let random = &sets[sets.len() - 20 * CASES..];
    let mut out = Vec::new();
    for operands in random {
        let rtz = oracle::apply(op, fmt, operands, &before(RoundingMode::TowardZero)).unwrap();
        if !rtz.flags.contains(anyfloat::Flags::INEXACT)
            || rtz.flags.contains(anyfloat::Flags::INVALID)
        {
            continue;
        }
        let x = exact(op, fmt, operands);
        if !x.is_finite() {
            continue;
        }
        let away = if x.is_sign_negative() {
            RoundingMode::TowardNegative
        } else {
            RoundingMode::TowardPositive
        };
        let hi = oracle::apply(op, fmt, operands, &before(away)).unwrap();
        let r = if rtz.flags.contains(anyfloat::Flags::OVERFLOW) {
            None
        } else {
            let r = fraction(fmt, &x, rtz.value);
            assert!(r > 0 && r < 1, "{fmt} {op} {operands:x?}: R = {r}");
            Some(r)
        };
        out.push(Case {
            op: *op,
            operands: operands.clone(),
            lo: rtz,
            hi,
            r,
        });
        if out.len() == CASES {
            break;
        }
    }
    assert!(out.len() >= CASES / 2, "{fmt} {op}: too few inexact cases");
    out
}

/// The probability of `hi`: (P as f64, whether P is exactly 0 or 1).
fn probability(mode: RoundingMode, r: &Option<Float>) -> (f64, bool) {
    let Some(r) = r else {
        return (1.0, true);
    };
    let p = match mode {
        RoundingMode::Stochastic { bits: None } => r.clone(),
        RoundingMode::Stochastic { bits: Some(b) } => {
            let mut q = Float::with_val(400, r << b as u32).floor();
            q >>= b as u32;
            q
        }
        RoundingMode::StochasticEqual => Float::with_val(2, 0.5),
        _ => unreachable!(),
    };
    (p.to_f64(), p == 0 || p == 1)
}

/// Draws every case DRAWS times; returns (k, P) per case, asserting the neighbour property
/// and the per-case bounds.
fn draw(fmt: &Format, cases: &[Case], mode: RoundingMode, seed: u64) -> Vec<(u64, f64)> {
    let rounding = Rounding::new(mode);
    let alpha: f64 = 1e-9;
    let bound = (DRAWS as f64 * (2.0 / alpha).ln() / 2.0).sqrt();
    cases
        .par_iter()
        .enumerate()
        .map(|(i, c)| {
            let key = derive_key(seed, &[i as u64]);
            let mut k = 0;
            for d in 0..DRAWS {
                let mut rng = ElementStream::new(key, d);
                let got = c.op.apply(fmt, &c.operands, &rounding, &mut rng).unwrap();
                assert!(
                    got == c.lo || got == c.hi,
                    "{fmt} {} {mode} {:x?}: {:#x} [{}] is neither {:#x} [{}] nor {:#x} [{}]",
                    c.op,
                    c.operands,
                    got.value,
                    got.flags,
                    c.lo.value,
                    c.lo.flags,
                    c.hi.value,
                    c.hi.flags
                );
                k += (got == c.hi) as u64;
            }
            let (p, certain) = probability(mode, &c.r);
            let n = DRAWS as f64;
            let what = format!("{fmt} {} {mode} {:x?} R = {:?}", c.op, c.operands, c.r);
            if certain {
                assert_eq!(k as f64, n * p, "{what}: P = {p} but {k} of {DRAWS} away");
            } else {
                let dev = (k as f64 - n * p).abs();
                assert!(
                    dev < bound,
                    "{what}: {k} of {DRAWS} away, expected {:.1} (Hoeffding bound {bound:.1})",
                    n * p
                );
            }
            (k, if certain { 0.0 } else { p })
        })
        .collect()
}

/// The pooled z over cases with 0 < P < 1 (certain cases come as P = 0), and the dispersion z over those with
/// N·P·(1 − P) ≥ 5 (each term (k − NP)²/(NP(1 − P)) has mean 1 and variance
/// 2 + (1 − 6P(1 − P))/(NP(1 − P)), the binomial's excess kurtosis).
fn pooled(results: &[(u64, f64)]) -> (f64, f64, usize) {
    let n = DRAWS as f64;
    let (mut dev, mut var) = (0.0, 0.0);
    let (mut chi2, mut chi2_mean, mut chi2_var, mut count) = (0.0, 0.0, 0.0, 0usize);
    for &(k, p) in results {
        if p == 0.0 || p == 1.0 {
            continue;
        }
        let pq = p * (1.0 - p);
        let v = n * pq;
        dev += k as f64 - n * p;
        var += v;
        if v >= 5.0 {
            chi2 += (k as f64 - n * p).powi(2) / v;
            chi2_mean += 1.0;
            chi2_var += 2.0 + (1.0 - 6.0 * pq) / v;
            count += 1;
        }
    }
    (
        dev / var.sqrt(),
        (chi2 - chi2_mean) / chi2_var.sqrt(),
        count,
    )
}

fn run(name: &str, ops: &[Op], seed: u64) {
    let fmt = Format::parse(name).unwrap();
    let modes = [
        RoundingMode::Stochastic { bits: None },
        RoundingMode::Stochastic { bits: Some(4) },
        RoundingMode::StochasticEqual,
    ];
    let all: Vec<Case> = ops
        .iter()
        .enumerate()
        .flat_map(|(i, op)| cases(&fmt, op, derive_key(seed, &[i as u64])))
        .collect();
    for (m, mode) in modes.into_iter().enumerate() {
        let results = draw(&fmt, &all, mode, derive_key(seed, &[100 + m as u64]));
        let (z, dispersion, count) = pooled(&results);
        eprintln!(
            "{fmt} {mode}: {} cases, pooled z = {z:.2}, dispersion z = {dispersion:.2} ({count} cases)",
            all.len()
        );
        assert!(z.abs() < 5.0, "{fmt} {mode}: pooled z = {z}");
        assert!(
            dispersion.abs() < 5.0,
            "{fmt} {mode}: dispersion z = {dispersion}"
        );
    }
}

const OPS: [Op; 6] = [Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Sqrt, Op::Fma];

#[test]
fn binary16_stochastic_neighbours_and_frequencies() {
    run("binary16", &OPS, 1);
}

#[test]
fn bfloat16_stochastic_neighbours_and_frequencies() {
    run("bfloat16", &OPS, 2);
}

#[test]
fn e4m3_and_e5m2_stochastic_neighbours_and_frequencies() {
    run("e4m3", &OPS, 3);
    run("e5m2", &OPS, 4);
}

#[test]
fn binary32_stochastic_neighbours_and_frequencies() {
    run("binary32", &OPS, 5);
}
