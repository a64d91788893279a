//! Lorenz '63 with RK4 (the climate study's model, `models::lorenz`) for 1000 steps: plain f64
//! as the baseline in the same group, and `Emu` in e11m10 and binary16 with round-to-nearest
//! and stochastic rounding, every operation rounded. The ratio Emu/f64 is what a climate sweep
//! pays for emulation.

use anyfloat::emu::{Context, Emu, with_context};
use anyfloat::models::lorenz::Lorenz63;
use anyfloat::real::Real;
use anyfloat::{Format, RoundingMode};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

const STEPS: usize = 1000;

fn run<R: Real>() -> f64 {
    let mut last = 0.0;
    Lorenz63::default().run::<R>([1.0, 1.0, 20.0], 0.01, 0, STEPS, STEPS, |s| {
        last = s[0].to_f64()
    });
    last
}

fn lorenz(c: &mut Criterion) {
    let mut group = c.benchmark_group("lorenz63_rk4_1000_steps");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("f64", |b| b.iter(|| black_box(run::<f64>())));
    for format in ["e11m10", "binary16"] {
        for mode in ["rne", "sr"] {
            let mode: RoundingMode = mode.parse().unwrap();
            let ctx = Context::new(Format::parse(format).unwrap(), mode, 7).unwrap();
            group.bench_function(format!("emu_{format}_{mode}"), |b| {
                b.iter(|| with_context(&ctx, || black_box(run::<Emu>())))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, lorenz);
criterion_main!(benches);
