//! Measuring block quantisation against plain rounding of the same array into the element
//! format, in the same run: the timing loop behind `anyfloat bench quantize` (the criterion
//! bench `benches/block.rs` measures the same with E2M1 as the plain rounding).

use super::codes::Codes;
use super::{BlockFormat, Output, Paths, quantize_with};
use crate::error::Result;
use crate::fast::Kernel;
use crate::fast::bench::{Data, data, paired_medians, pool};
use crate::mode::{Rounding, RoundingMode};

/// One measured configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The block format's name (a preset's, or its description).
    pub format: String,
    /// Rounding-mode name.
    pub mode: String,
    /// Threads of the rayon pool.
    pub threads: usize,
    /// Median quantisation speed (`quantize_rows_into`, outputs reused across calls, codes in
    /// the narrowest unsigned type that holds them).
    pub values_per_s: f64,
    /// Median speed of plain rounding into the element format (the slice engine, output
    /// reused), measured in the same rounds.
    pub plain_values_per_s: f64,
    /// Median rounding time divided by median quantisation time (1 = as fast as plain
    /// rounding).
    pub ratio_to_plain: f64,
}

/// Quantises `n` standard normal values (one row, seed 1) into each named block format in
/// each mode, for each thread count, with `reps` repetitions per median, paired with plain
/// rounding of the same array into the element format in the same mode (saturating, as the
/// presets are); `row` receives each result as it is measured.
pub fn run(
    formats: &[(String, BlockFormat)],
    modes: &[RoundingMode],
    n: usize,
    threads: &[usize],
    reps: usize,
    mut row: impl FnMut(Row) -> Result<()>,
) -> Result<()> {
    let data = data(Data::Normal, n, 1);
    for &t in threads {
        let pool = pool(t)?;
        for (name, bf) in formats {
            for &mode in modes {
                let mut bf = *bf;
                bf.rounding.mode = mode;
                let blocks = bf.block_count(n, n)?;
                let elem = bf.elem.format();
                let kernel = Kernel::new(&elem, &Rounding::new(mode).saturating())?;
                let mut codes = Codes::zeros(bf.elem.width(), n);
                let mut scales = vec![0u64; blocks];
                let (mut deq, mut plain) = (vec![0.0; n], vec![0.0; n]);
                let mut failed = None;
                let (quantize_s, plain_s) = pool.install(|| {
                    paired_medians(
                        reps,
                        || {
                            let out = Output {
                                codes: codes.as_mut(),
                                scales: &mut scales,
                                dequantized: &mut deq,
                            };
                            let r = quantize_with(&bf, &data, n, 7, out, Paths::Fastest);
                            failed = failed.take().or(r.err());
                        },
                        || {
                            kernel
                                .round_slice_into(7, 0, &data, &mut plain)
                                .expect("equal lengths and an f64 format")
                        },
                    )
                });
                if let Some(e) = failed {
                    return Err(e);
                }
                row(Row {
                    format: name.clone(),
                    mode: mode.to_string(),
                    threads: t,
                    values_per_s: n as f64 / quantize_s,
                    plain_values_per_s: n as f64 / plain_s,
                    ratio_to_plain: plain_s / quantize_s,
                })?;
            }
        }
    }
    Ok(())
}
