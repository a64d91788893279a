//! An `Emu` multiply-add chain `x = a·x + b` beside the same chain in plain f64, in the same
//! group (the targets: rne ≤ 4× the f64 time, sr ≤ 8×; StochasticRounding.jl reports
//! stochastic Float32 ≈ 5× round-to-nearest Float32).

use anyfloat::emu::{Context, Emu, with_context};
use anyfloat::real::Real;
use anyfloat::{Format, RoundingMode};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

const STEPS: usize = 20_000;

/// a and b keep x bounded (|a| < 1) and inexact at every step.
const A: f64 = 0.9375;
const B: f64 = 0.3;

fn chain_f64(x0: f64) -> f64 {
    let (a, b) = (black_box(A), black_box(B));
    let mut x = x0;
    for _ in 0..STEPS {
        x = a * x + b;
    }
    x
}

fn chain_emu(x0: f64) -> f64 {
    let (a, b) = (Emu::from_f64(black_box(A)), Emu::from_f64(black_box(B)));
    let mut x = Emu::from_f64(x0);
    for _ in 0..STEPS {
        x = a * x + b;
    }
    x.to_f64()
}

fn emu_chain(c: &mut Criterion) {
    let mut group = c.benchmark_group("emu_chain");
    group
        .throughput(Throughput::Elements(STEPS as u64))
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    group.bench_function("f64", |b| b.iter(|| chain_f64(black_box(0.5))));
    for name in ["e5m10", "e11m10"] {
        let fmt = Format::parse(name).unwrap();
        for mode in ["rne", "sr"] {
            let m: RoundingMode = mode.parse().unwrap();
            let ctx = Context::new(fmt, m, 1).unwrap();
            group.bench_function(format!("{name}/{mode}"), |b| {
                b.iter(|| with_context(&ctx, || chain_emu(black_box(0.5))))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, emu_chain);
criterion_main!(benches);
