//! Scalar f64 → format rounding through the exact core (values/s), beside the hardware
//! f64 → f32 conversion as the baseline measured in the same run.

use anyfloat::rng::ElementStream;
use anyfloat::{Format, Rounding, RoundingMode, codec};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn inputs(n: usize) -> Vec<f64> {
    let mut s = anyfloat::rng::Stream::new(1);
    (0..n).map(|_| s.next_normal() * 100.0).collect()
}

fn scalar_round(c: &mut Criterion) {
    let xs = inputs(4096);
    let mut group = c.benchmark_group("round_scalar");
    group.throughput(Throughput::Elements(xs.len() as u64));
    group.bench_function("baseline/f64_as_f32", |b| {
        b.iter(|| {
            let mut acc = 0u32;
            for &x in black_box(&xs) {
                acc ^= (x as f32).to_bits();
            }
            black_box(acc)
        })
    });
    for name in ["e4m3", "bf16", "e11m10"] {
        let fmt = Format::parse(name).unwrap();
        for mode in ["rne", "sr"] {
            let rounding = Rounding::new(mode.parse::<RoundingMode>().unwrap());
            group.bench_function(format!("{name}/{mode}"), |b| {
                b.iter(|| {
                    let mut acc = 0u128;
                    for (i, &x) in black_box(&xs).iter().enumerate() {
                        let mut rng = ElementStream::new(7, i as u64);
                        acc ^= codec::from_f64(&fmt, x, &rounding, &mut rng).value;
                    }
                    black_box(acc)
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, scalar_round);
criterion_main!(benches);
