//! Block quantisation of 10^7 values (values/s) into mxfp4, nvfp4 and mxfp8-e4m3 — into fresh
//! arrays (`quantize`) and into reused ones (`quantize_rows_into`) — beside plain element
//! rounding of the same array into E2M1 by the array engine (`fast::round_slice_into`, into a
//! reused array and into a fresh one), through the exact core and through the block module's
//! scalar quotient path, in the same group. All variants use rayon over chunks.

use anyfloat::block::quotient::{FastFormat, round_quotient_with};
use anyfloat::block::{BlockFormat, quantize, quantize_rows_into};
use anyfloat::rng::ElementStream;
use anyfloat::{Format, Rounding, RoundingMode, codec};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;
use std::hint::black_box;

const N: usize = 10_000_000;

fn block(c: &mut Criterion) {
    let mut s = anyfloat::rng::Stream::new(1);
    let xs: Vec<f64> = (0..N).map(|_| s.next_normal()).collect();
    let e2m1 = Format::parse("e2m1").unwrap();
    let mut group = c.benchmark_group("block");
    group.sample_size(10);
    group.throughput(Throughput::Elements(N as u64));
    for name in ["mxfp4", "nvfp4", "mxfp8-e4m3"] {
        for mode in ["rne", "sr"] {
            let mut bf = BlockFormat::preset(name).unwrap();
            bf.rounding.mode = mode.parse::<RoundingMode>().unwrap();
            group.bench_function(format!("quantize/{name}/{mode}"), |b| {
                b.iter(|| black_box(quantize(&bf, black_box(&xs), 7).unwrap().saturated))
            });
            let (mut codes, mut deq) = (vec![0u8; N], vec![0.0; N]);
            let mut scales = vec![0; bf.block_count(N, N).unwrap()];
            group.bench_function(format!("quantize_into/{name}/{mode}"), |b| {
                b.iter(|| {
                    let x = black_box(&xs);
                    let s = quantize_rows_into(&bf, x, N, 7, &mut codes, &mut scales, &mut deq);
                    black_box(s.unwrap().saturated)
                })
            });
        }
    }
    let rounding = Rounding::new(RoundingMode::NearestEven).saturating();
    for mode in ["rne", "sr"] {
        let r = Rounding::new(mode.parse::<RoundingMode>().unwrap()).saturating();
        let mut out = vec![0.0; N];
        group.bench_function(format!("round/e2m1/round_slice/{mode}"), |b| {
            b.iter(|| {
                anyfloat::fast::round_slice_into(&e2m1, &r, 7, black_box(&xs), &mut out).unwrap();
                black_box(out[0])
            })
        });
        // Into a fresh array, as `quantize` writes its outputs: the first touch of new memory
        // costs a page fault per 4 KiB.
        group.bench_function(format!("round/e2m1/round_slice_fresh/{mode}"), |b| {
            b.iter(|| {
                let mut fresh = vec![0.0; N];
                anyfloat::fast::round_slice_into(&e2m1, &r, 7, black_box(&xs), &mut fresh).unwrap();
                black_box(fresh)
            })
        });
    }
    group.bench_function("round/e2m1/core", |b| {
        b.iter(|| {
            black_box(&xs)
                .par_chunks(16384)
                .enumerate()
                .map(|(k, chunk)| {
                    let mut acc = 0u128;
                    for (i, &x) in chunk.iter().enumerate() {
                        let mut rng = ElementStream::new(7, (k * 16384 + i) as u64);
                        acc ^= codec::from_f64(&e2m1, x, &rounding, &mut rng).value;
                    }
                    acc
                })
                .reduce(|| 0, |a, b| a ^ b)
        })
    });
    let fast = FastFormat::new(&e2m1);
    group.bench_function("round/e2m1/fast_quotient", |b| {
        b.iter(|| {
            black_box(&xs)
                .par_chunks(16384)
                .enumerate()
                .map(|(k, chunk)| {
                    let mut acc = 0u128;
                    for (i, &x) in chunk.iter().enumerate() {
                        acc ^= round_quotient_with(
                            &fast,
                            x,
                            1.0,
                            &rounding,
                            7,
                            (k * 16384 + i) as u64,
                        )
                        .value;
                    }
                    acc
                })
                .reduce(|| 0, |a, b| a ^ b)
        })
    });
    group.finish();
}

criterion_group!(benches, block);
criterion_main!(benches);
