//! Measuring the slice engine against a plain copy of the same array, in the same run: the data
//! sets and the timing loop behind `anyfloat bench round` (the criterion bench
//! `benches/round_slice.rs` uses the same data).

use super::{CHUNK, Kernel};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::mode::{Rounding, RoundingMode};
use crate::rng::{RandomSource, Stream};
use rayon::prelude::*;
use std::time::Instant;

/// A data set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Data {
    /// Standard normal values.
    Normal,
    /// Values spread log-uniformly over ±40 binades (2^−40 … 2^40, both signs): for small
    /// formats most of them underflow or overflow.
    Wide,
}

impl Data {
    /// The name used in the CSV (`normal`, `wide`).
    pub fn name(self) -> &'static str {
        match self {
            Data::Normal => "normal",
            Data::Wide => "wide",
        }
    }
}

/// `n` values of data set `kind` from `seed`.
pub fn data(kind: Data, n: usize, seed: u64) -> Vec<f64> {
    let mut s = Stream::new(seed);
    (0..n)
        .map(|_| match kind {
            Data::Normal => s.next_normal(),
            Data::Wide => {
                let e = s.next_f64() * 80.0 - 40.0;
                let x = e.exp2();
                if s.next_u64() >> 63 == 1 { -x } else { x }
            }
        })
        .collect()
}

/// Copies `src` into `dst` as the engine splits work: in `CHUNK`s over the current rayon pool
/// when it has more than one thread.
pub fn copy(src: &[f64], dst: &mut [f64]) {
    if rayon::current_num_threads() > 1 {
        dst.par_chunks_mut(CHUNK)
            .zip(src.par_chunks(CHUNK))
            .for_each(|(d, s)| d.copy_from_slice(s));
    } else {
        dst.copy_from_slice(src);
    }
}

/// One measured configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Format name.
    pub format: String,
    /// Rounding-mode name.
    pub mode: String,
    /// Data-set name.
    pub data: &'static str,
    /// Threads of the rayon pool.
    pub threads: usize,
    /// Median rounding speed.
    pub values_per_s: f64,
    /// Median copy time divided by median rounding time (1 = as fast as the copy).
    pub ratio_to_copy: f64,
}

/// Median over `reps` runs of `f`, in seconds.
fn median_time(reps: usize, mut f: impl FnMut()) -> f64 {
    f(); // warm-up: page faults, caches, frequency
    let mut t: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// Measures every format × mode on both data sets of `n` values, for each thread count, with
/// `reps` repetitions per median; `row` receives each result as it is measured.
pub fn run(
    formats: &[Format],
    modes: &[RoundingMode],
    n: usize,
    threads: &[usize],
    reps: usize,
    mut row: impl FnMut(Row) -> Result<()>,
) -> Result<()> {
    let kernels = formats
        .iter()
        .flat_map(|f| {
            modes
                .iter()
                .map(move |m| Kernel::new(f, &Rounding::new(*m)))
        })
        .collect::<Result<Vec<_>>>()?;
    for &t in threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .map_err(|e| Error::Invalid(format!("cannot start {t} threads: {e}")))?;
        for kind in [Data::Normal, Data::Wide] {
            let src = data(kind, n, 1);
            let mut dst = vec![0.0; n];
            let copy_s = pool.install(|| median_time(reps, || copy(&src, &mut dst)));
            for k in &kernels {
                let secs = pool.install(|| {
                    median_time(reps, || {
                        k.round_slice_into(7, 0, &src, &mut dst)
                            .expect("equal lengths and an f64 format")
                    })
                });
                row(Row {
                    format: k.format().to_string(),
                    mode: k.rounding().mode.to_string(),
                    data: kind.name(),
                    threads: t,
                    values_per_s: n as f64 / secs,
                    ratio_to_copy: copy_s / secs,
                })?;
            }
        }
    }
    Ok(())
}
