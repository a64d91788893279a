//! ULP measurement throughput: one iteration measures every binary32 input in [1, 2) (2^23
//! inputs, exhaustive) of a function against its correctly rounded result, on all cores; the
//! time per element is the cost of one input of an exhaustive binary32 scan (×2^32 for all).
//! Beside it, exp one input at a time (the general path the runs replace) and the libm calls
//! alone (f32 function and the f64 reference, one thread) as the floor.

use anyfloat::Format;
use anyfloat::oracle::Function;
use anyfloat::ulp::{self, Config, UnaryF32};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

fn scan(c: &mut Criterion) {
    let mut group = c.benchmark_group("ulp_binary32_[1,2)");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(1 << 23));
    for (f, imp) in [
        (Function::Exp, f32::exp as fn(f32) -> f32),
        (Function::Log, f32::ln),
        (Function::Sin, f32::sin),
    ] {
        let cfg = Config {
            range: Some((1.0, 1.9999999)),
            ..Config::new(f, Format::binary32())
        };
        group.bench_function(format!("measure {f}"), |b| {
            b.iter(|| ulp::measure(black_box(&cfg), &UnaryF32(imp)).unwrap())
        });
    }
    let general = Config {
        range: Some((1.0, 1.9999999)),
        runs: false,
        ..Config::new(Function::Exp, Format::binary32())
    };
    group.bench_function("measure exp, one input at a time", |b| {
        b.iter(|| ulp::measure(black_box(&general), &UnaryF32(f32::exp)).unwrap())
    });
    group.bench_function("libm calls only (expf + exp)", |b| {
        b.iter(|| {
            let mut s = 0.0f64;
            for i in 0..1u32 << 23 {
                let x = f32::from_bits(0x3f80_0000 | i);
                s += f64::from(black_box(x).exp()) + f64::from(black_box(x)).exp();
            }
            s
        })
    });
    group.finish();
}

criterion_group!(benches, scan);
criterion_main!(benches);
