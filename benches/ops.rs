//! Scalar operations (add, mul, div, fma, sqrt) through `Op::apply` (exact integer arithmetic
//! and the rounding core) and through the MPFR oracle, in e4m3, bfloat16, binary32 and
//! binary128, beside the hardware's f32 operation as the baseline in the same group.
//!
//! One iteration is one operation on the next of 1024 seeded operand tuples (`vectors`'
//! random operands: half uniform codes, half with exponents near the bias), so criterion's
//! time per iteration is the cost of one operation.

use anyfloat::arith::Op;
use anyfloat::rng::NoRandom;
use anyfloat::vectors::{Level, operand_sets};
use anyfloat::{Format, Rounding, oracle};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

const N: usize = 1024;

fn operands(op: &Op, fmt: &Format) -> Vec<Vec<u128>> {
    let sets = operand_sets(op, fmt, Level::One, N, 42).unwrap();
    sets[sets.len() - N..].to_vec()
}

fn native(op: &Op, x: &[f32]) -> f32 {
    match op {
        Op::Add => x[0] + x[1],
        Op::Mul => x[0] * x[1],
        Op::Div => x[0] / x[1],
        Op::Fma => x[0].mul_add(x[1], x[2]),
        Op::Sqrt => x[0].sqrt(),
        _ => unreachable!(),
    }
}

fn ops(c: &mut Criterion) {
    let rounding = Rounding::default();
    for op in [Op::Add, Op::Mul, Op::Div, Op::Fma, Op::Sqrt] {
        let mut group = c.benchmark_group(op.to_string());
        group
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        let f32_sets: Vec<Vec<f32>> = operands(&op, &Format::binary32())
            .iter()
            .map(|s| s.iter().map(|&c| f32::from_bits(c as u32)).collect())
            .collect();
        let mut i = 0;
        group.bench_function("native_f32", |b| {
            b.iter(|| {
                i = (i + 1) % N;
                native(&op, black_box(&f32_sets[i]))
            })
        });
        for name in ["e4m3", "bfloat16", "binary32", "binary128"] {
            let fmt = Format::parse(name).unwrap();
            let sets = operands(&op, &fmt);
            let mut i = 0;
            group.bench_function(format!("arith/{name}"), |b| {
                b.iter(|| {
                    i = (i + 1) % N;
                    op.apply(&fmt, black_box(&sets[i]), &rounding, &mut NoRandom)
                        .unwrap()
                })
            });
            let mut i = 0;
            group.bench_function(format!("oracle/{name}"), |b| {
                b.iter(|| {
                    i = (i + 1) % N;
                    oracle::apply(&op, &fmt, black_box(&sets[i]), &rounding).unwrap()
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, ops);
criterion_main!(benches);
