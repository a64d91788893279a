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

/// Medians over `reps` rounds of `a` and `b`, in seconds. Interleaved, so that both see the
/// same conditions: on a shared machine the speed drifts by tens of per cent between seconds,
/// and a baseline measured once per table skewed every ratio in it.
pub(crate) fn paired_medians(reps: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> (f64, f64) {
    // Warm-up: page faults, caches, frequency.
    a();
    b();
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        f();
        start.elapsed().as_secs_f64()
    };
    // The order alternates too, so that neither always runs second (warm caches, clocks).
    let (mut ta, mut tb): (Vec<f64>, Vec<f64>) = (0..reps.max(1))
        .map(|i| {
            if i % 2 == 0 {
                (time(&mut a), time(&mut b))
            } else {
                let tb = time(&mut b);
                (time(&mut a), tb)
            }
        })
        .unzip();
    ta.sort_by(f64::total_cmp);
    tb.sort_by(f64::total_cmp);
    (ta[ta.len() / 2], tb[tb.len() / 2])
}

/// A rayon pool of `t` threads for a measurement.
pub(crate) fn pool(t: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(t)
        .build()
        .map_err(|e| Error::Invalid(format!("cannot start {t} threads: {e}")))
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
        let pool = pool(t)?;
        for kind in [Data::Normal, Data::Wide] {
            let src = data(kind, n, 1);
            let (mut copied, mut dst) = (vec![0.0; n], vec![0.0; n]);
            for k in &kernels {
                let (copy_s, secs) = pool.install(|| {
                    paired_medians(
                        reps,
                        || copy(&src, &mut copied),
                        || {
                            k.round_slice_into(7, 0, &src, &mut dst)
                                .expect("equal lengths and an f64 format")
                        },
                    )
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
