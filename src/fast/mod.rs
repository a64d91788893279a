//! The slice engine: rounding arrays of f64 or f32 into a format at memory speed.
//!
//! A [`Kernel`] is built once per call from the format and the rounding (shifts, thresholds and
//! the f64 bits of every special result); one monomorphised loop per rounding mode then runs
//! branch-free integer arithmetic on the f64 bit patterns, compiled for AVX-512, AVX2 and the
//! baseline and chosen at run time ([`isa`]). Results are bit for bit those of the rounding core
//! ([`crate::round::round_value`]) fed with [`crate::rng::ElementStream::new`]`(key, i)` for
//! element i — the differential tests in `tests/fast_slice.rs` check this.
//!
//! Random bits: element i of a call with key `k` and first index `f` draws
//! `rng::word(k, f + i)` (two multiplies), so results do not depend on thread count or
//! chunking. `sr-eq` uses the word's top bit; `sr:<r>` its top r bits; exact `sr` the whole
//! 64-bit word, and when the word equals the first 64 bits of a longer remainder (probability
//! 2^−64) more words from that element's stream, exactly as the core (such elements go through
//! the core). Deterministic modes draw nothing. Only inexact elements use their word.

pub mod bench;
mod dispatch;
mod kernel;
mod split;

pub use dispatch::{ISA_VARIABLE, isa, isa_request};
#[cfg(target_arch = "x86_64")]
pub(crate) use dispatch::{has_avx2, has_avx512};
pub(crate) use kernel::Nudge;
pub(crate) use kernel::Position;
pub use kernel::{Kernel, Ordinary};

use crate::error::{Error, Result};
use crate::format::Format;
use crate::mode::{Rounding, RoundingMode};
use crate::rng::ElementStream;
use kernel::{Mode, with_mode};
use rayon::prelude::*;

/// Slices at least this long are split over the rayon pool (when it has more than one
/// thread). Measured with `anyfloat bench round --formats e4m3 --modes rne,sr --n N --threads
/// 1,2` (threshold temporarily 2^10) on the 2-core development machine while it was shared
/// with other jobs: from 4096 to 2^20 values the second thread gave no gain (in-cache rates
/// 0.8–0.96 G values/s rne and 0.41–0.58 G/s sr, either way). 2^18 values take about 0.3 ms
/// serially, so a split there costs at most a few per cent even when it gains nothing, and
/// pays on an idle machine once the array leaves the caches.
pub const PARALLEL_THRESHOLD: usize = 1 << 18;

/// Work unit of the parallel split (a multiple of any vector width; results do not depend on
/// it).
const CHUNK: usize = 1 << 14;

/// An element type the engine rounds: f64, or f32 (through its exact f64 value).
pub trait Lane: Copy + Send + Sync + sealed::Sealed {
    /// The bits of the value as f64.
    fn to_f64_bits(self) -> u64;
    /// The value of the f64 with bits `b` (exact for the values of formats that [`Lane::fits`]).
    fn from_f64_bits(b: u64) -> Self;
    /// Whether every value of `fmt` is a value of this type.
    fn fits(fmt: &Format) -> bool;
    /// The type's name, for errors.
    const NAME: &'static str;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f64 {}
    impl Sealed for f32 {}
}

impl Lane for f64 {
    #[inline(always)]
    fn to_f64_bits(self) -> u64 {
        self.to_bits()
    }
    #[inline(always)]
    fn from_f64_bits(b: u64) -> f64 {
        f64::from_bits(b)
    }
    fn fits(fmt: &Format) -> bool {
        fmt.fits_in_f64()
    }
    const NAME: &'static str = "f64";
}

impl Lane for f32 {
    #[inline(always)]
    fn to_f64_bits(self) -> u64 {
        (self as f64).to_bits()
    }
    #[inline(always)]
    fn from_f64_bits(b: u64) -> f32 {
        f64::from_bits(b) as f32
    }
    fn fits(fmt: &Format) -> bool {
        fmt.precision() <= 24 && fmt.emax() <= 127 && fmt.min_quantum_exp() >= -149
    }
    const NAME: &'static str = "f32";
}

impl Kernel {
    /// Rounds `xs` in place; element j uses position `first + j` of the stream `key`
    /// (deterministic modes ignore both). The format's values must be values of `T`.
    pub fn round_slice<T: Lane>(&self, key: u64, first: u64, xs: &mut [T]) -> Result<()> {
        self.check::<T>()?;
        with_mode!(self.rounding().mode, M => self.run::<M, T>(key, first, xs));
        Ok(())
    }

    fn check<T: Lane>(&self) -> Result<()> {
        if T::fits(self.format()) {
            return Ok(());
        }
        Err(Error::Invalid(format!(
            "{} results: {} does not fit in {} (its values would be rounded a second time); \
             round f64 values instead",
            T::NAME,
            self.format(),
            T::NAME
        )))
    }

    /// Rounds `src` into `dst`, as [`Kernel::round_slice`]; the lengths must be equal.
    pub fn round_slice_into<T: Lane>(
        &self,
        key: u64,
        first: u64,
        src: &[T],
        dst: &mut [T],
    ) -> Result<()> {
        if src.len() != dst.len() {
            return Err(Error::Invalid(format!(
                "round_slice_into: the output has {} elements and the input {}; they must be equal",
                dst.len(),
                src.len()
            )));
        }
        self.check::<T>()?;
        with_mode!(self.rounding().mode, M => self.run_into::<M, T>(key, first, src, dst));
        Ok(())
    }

    fn run<M: Mode, T: Lane>(&self, key: u64, first: u64, xs: &mut [T]) {
        let serial = |first: u64, xs: &mut [T]| {
            if dispatch::run_in_place::<M, T>(self, key, first, xs) {
                self.fix_rare::<M, T>(key, first, xs);
            }
        };
        if parallel(xs.len()) {
            xs.par_chunks_mut(CHUNK)
                .enumerate()
                .for_each(|(c, chunk)| serial(first + (c * CHUNK) as u64, chunk));
        } else {
            serial(first, xs);
        }
    }

    fn run_into<M: Mode, T: Lane>(&self, key: u64, first: u64, src: &[T], dst: &mut [T]) {
        let serial = |first: u64, src: &[T], dst: &mut [T]| {
            if dispatch::run_into::<M, T>(self, key, first, src, dst) {
                self.fix_rare::<M, T>(key, first, dst);
            }
        };
        if parallel(src.len()) {
            src.par_chunks(CHUNK)
                .zip(dst.par_chunks_mut(CHUNK))
                .enumerate()
                .for_each(|(c, (s, d))| serial(first + (c * CHUNK) as u64, s, d));
        } else {
            serial(first, src, dst);
        }
    }

    /// Rounds the rare elements, which the loop left holding their input, with the core. A
    /// rounded element is rare again only as ±0 with a word of 0 (its remainder is zero), which
    /// the core rounds to itself, so they are found again by re-evaluating the kernel on the
    /// output.
    #[cold]
    fn fix_rare<M: Mode, T: Lane>(&self, key: u64, first: u64, xs: &mut [T]) {
        for (j, x) in xs.iter_mut().enumerate() {
            let index = first + j as u64;
            let w = crate::rng::word(key, index);
            if kernel::element::<M>(self, x.to_f64_bits(), w).1 {
                let v = f64::from_bits(x.to_f64_bits());
                *x = T::from_f64_bits(
                    self.round_exact(v, &mut ElementStream::new(key, index))
                        .to_bits(),
                );
            }
        }
    }
}

fn parallel(len: usize) -> bool {
    len >= PARALLEL_THRESHOLD && rayon::current_num_threads() > 1
}

/// Rounds `xs` in place into `fmt` (element i draws position i of the stream `key`).
///
/// ```
/// use anyfloat::{Format, Rounding, RoundingMode, fast};
/// let mut xs = [0.1, 300.0, -1e-9, f64::NAN];
/// let e4m3 = Format::parse("e4m3").unwrap();
/// fast::round_slice(&e4m3, &Rounding::new(RoundingMode::NearestEven), 0, &mut xs).unwrap();
/// assert_eq!(&xs[..3], &[0.1015625, 288.0, -0.0]);
/// assert!(xs[3].is_nan());
/// ```
pub fn round_slice<T: Lane>(
    fmt: &Format,
    rounding: &Rounding,
    key: u64,
    xs: &mut [T],
) -> Result<()> {
    Kernel::new(fmt, rounding)?.round_slice(key, 0, xs)
}

/// Rounds `src` into `dst` (equal lengths) as [`round_slice`].
pub fn round_slice_into<T: Lane>(
    fmt: &Format,
    rounding: &Rounding,
    key: u64,
    src: &[T],
    dst: &mut [T],
) -> Result<()> {
    Kernel::new(fmt, rounding)?.round_slice_into(key, 0, src, dst)
}
