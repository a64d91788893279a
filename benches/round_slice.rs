//! The slice engine on 10^7 values beside a plain f64 copy of the same array in the same group
//! (the targets: 1 thread ≥ 0.9× the copy with rne, ≥ 0.7× with sr; 2 threads ≥ 0.9×
//! the 2-thread copy). `anyfloat bench round` measures the same with medians in one table.

use anyfloat::fast::Kernel;
use anyfloat::fast::bench::{Data, copy, data};
use anyfloat::{Format, Rounding, RoundingMode};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;
use std::hint::black_box;
use std::time::Duration;

const N: usize = 10_000_000;

fn round_slice(c: &mut Criterion) {
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for kind in [Data::Normal, Data::Wide] {
            let src = data(kind, N, 1);
            let mut dst = vec![0.0; N];
            let mut group = c.benchmark_group(format!("round_slice/{}/{threads}t", kind.name()));
            group
                .throughput(Throughput::Elements(N as u64))
                .sample_size(10)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_secs(2));
            group.bench_function("copy", |b| {
                b.iter(|| pool.install(|| copy(black_box(&src), &mut dst)))
            });
            // The cheapest loop with ordinary stores (the copy avoids reading the destination):
            // the ceiling for any kernel that computes its output.
            let factor = black_box(1.5);
            group.bench_function("scale", |b| {
                b.iter(|| {
                    pool.install(|| {
                        dst.par_chunks_mut(1 << 14)
                            .zip(black_box(&src).par_chunks(1 << 14))
                            .for_each(|(d, s)| {
                                d.iter_mut().zip(s).for_each(|(d, s)| *d = s * factor)
                            })
                    })
                })
            });
            for name in ["e4m3", "e5m2", "bf16", "binary16", "e11m10", "e11m3"] {
                let fmt = Format::parse(name).unwrap();
                for mode in ["rne", "sr"] {
                    let m: RoundingMode = mode.parse().unwrap();
                    let k = Kernel::new(&fmt, &Rounding::new(m)).unwrap();
                    group.bench_function(format!("{name}/{mode}"), |b| {
                        b.iter(|| {
                            pool.install(|| k.round_slice_into(7, 0, black_box(&src), &mut dst))
                                .unwrap()
                        })
                    });
                }
            }
            group.finish();
        }
    }
}

criterion_group!(benches, round_slice);
criterion_main!(benches);
