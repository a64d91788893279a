//! Element codes in the narrowest unsigned integer that holds them: a byte per FP4/FP6/FP8
//! element instead of eight. Quantising writes codes as often as values, and into fresh arrays
//! the first touch of their memory dominates (a page fault per 4 KiB): u64 codes doubled the
//! memory `quantize` touches.

use crate::error::{Error, Result};

/// An unsigned integer type that element codes are stored in ([`u8`], [`u16`], [`u32`],
/// [`u64`]).
pub trait Code: Copy + sealed::Sealed {
    /// A mutable slice of this type, as the quantiser writes it.
    #[doc(hidden)]
    fn codes_mut(s: &mut [Self]) -> CodesMut<'_>;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! code_type {
    ($t:ty, $variant:ident) => {
        impl sealed::Sealed for $t {}
        impl Code for $t {
            fn codes_mut(s: &mut [Self]) -> CodesMut<'_> {
                CodesMut::$variant(s)
            }
        }
    };
}
code_type!(u8, U8);
code_type!(u16, U16);
code_type!(u32, U32);
code_type!(u64, U64);

/// Element codes, in the narrowest of u8, u16, u32 and u64 that holds the element format's
/// width (two's complement of that width for integer elements).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Codes {
    /// Elements of at most 8 bits (FP4, FP6, FP8, int8).
    U8(Vec<u8>),
    /// Elements of 9 to 16 bits.
    U16(Vec<u16>),
    /// Elements of 17 to 32 bits.
    U32(Vec<u32>),
    /// Elements of 33 to 64 bits.
    U64(Vec<u64>),
}

/// Bytes of the narrowest of u8, u16, u32 and u64 that holds codes `width` bits wide: 1, 2, 4
/// or 8.
pub fn code_bytes(width: u32) -> usize {
    (width.div_ceil(8) as usize).next_power_of_two()
}

impl Codes {
    /// `len` zero codes of elements `width` bits wide.
    pub fn zeros(width: u32, len: usize) -> Codes {
        match code_bytes(width) {
            1 => Codes::U8(vec![0; len]),
            2 => Codes::U16(vec![0; len]),
            4 => Codes::U32(vec![0; len]),
            _ => Codes::U64(vec![0; len]),
        }
    }

    /// The number of codes.
    pub fn len(&self) -> usize {
        match self {
            Codes::U8(v) => v.len(),
            Codes::U16(v) => v.len(),
            Codes::U32(v) => v.len(),
            Codes::U64(v) => v.len(),
        }
    }

    /// Whether there are no codes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Code `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<u64> {
        match self {
            Codes::U8(v) => v.get(i).map(|&c| c.into()),
            Codes::U16(v) => v.get(i).map(|&c| c.into()),
            Codes::U32(v) => v.get(i).map(|&c| c.into()),
            Codes::U64(v) => v.get(i).copied(),
        }
    }

    /// The codes widened to u64.
    pub fn to_u64(&self) -> Vec<u64> {
        match self {
            Codes::U8(v) => v.iter().map(|&c| c.into()).collect(),
            Codes::U16(v) => v.iter().map(|&c| c.into()).collect(),
            Codes::U32(v) => v.iter().map(|&c| c.into()).collect(),
            Codes::U64(v) => v.clone(),
        }
    }

    /// The codes as a mutable slice.
    pub(super) fn as_mut(&mut self) -> CodesMut<'_> {
        match self {
            Codes::U8(v) => CodesMut::U8(v),
            Codes::U16(v) => CodesMut::U16(v),
            Codes::U32(v) => CodesMut::U32(v),
            Codes::U64(v) => CodesMut::U64(v),
        }
    }
}

/// A mutable slice of codes of one of the [`Code`] types (what the quantiser writes into;
/// not nameable outside the crate).
#[derive(Debug)]
pub enum CodesMut<'a> {
    /// u8 codes.
    U8(&'a mut [u8]),
    /// u16 codes.
    U16(&'a mut [u16]),
    /// u32 codes.
    U32(&'a mut [u32]),
    /// u64 codes.
    U64(&'a mut [u64]),
}

impl<'a> CodesMut<'a> {
    /// The number of codes.
    pub fn len(&self) -> usize {
        match self {
            CodesMut::U8(s) => s.len(),
            CodesMut::U16(s) => s.len(),
            CodesMut::U32(s) => s.len(),
            CodesMut::U64(s) => s.len(),
        }
    }

    /// Bits of each code.
    pub fn bits(&self) -> u32 {
        match self {
            CodesMut::U8(_) => 8,
            CodesMut::U16(_) => 16,
            CodesMut::U32(_) => 32,
            CodesMut::U64(_) => 64,
        }
    }

    /// An error unless codes of elements `width` bits wide (of `what`) fit.
    pub(super) fn check_width(&self, width: u32, what: &dyn std::fmt::Display) -> Result<()> {
        if width > self.bits() {
            return Err(Error::Invalid(format!(
                "the element codes of {what} take {width} bits; a u{} array cannot hold them",
                self.bits()
            )));
        }
        Ok(())
    }

    /// The first `mid` codes and the rest.
    pub(super) fn split_at(self, mid: usize) -> (CodesMut<'a>, CodesMut<'a>) {
        match self {
            CodesMut::U8(s) => {
                let (a, b) = s.split_at_mut(mid);
                (CodesMut::U8(a), CodesMut::U8(b))
            }
            CodesMut::U16(s) => {
                let (a, b) = s.split_at_mut(mid);
                (CodesMut::U16(a), CodesMut::U16(b))
            }
            CodesMut::U32(s) => {
                let (a, b) = s.split_at_mut(mid);
                (CodesMut::U32(a), CodesMut::U32(b))
            }
            CodesMut::U64(s) => {
                let (a, b) = s.split_at_mut(mid);
                (CodesMut::U64(a), CodesMut::U64(b))
            }
        }
    }

    /// Stores `codes` (u8 or u64) from index `at` on (each fits, see
    /// [`CodesMut::check_width`]). One flat loop per type, which vectorises (a truncating pack
    /// or a widening); inlined into the CPU-specific copies of the block passes.
    #[inline(always)]
    pub(super) fn store_at<S: Copy + Into<u64>>(&mut self, at: usize, codes: &[S]) {
        #[inline(always)]
        fn narrow<S: Copy + Into<u64>, T>(dst: &mut [T], src: &[S], f: impl Fn(u64) -> T) {
            for (d, &c) in dst.iter_mut().zip(src) {
                *d = f(c.into());
            }
        }
        let range = at..at + codes.len();
        match self {
            CodesMut::U8(d) => narrow(&mut d[range], codes, |c| c as u8),
            CodesMut::U16(d) => narrow(&mut d[range], codes, |c| c as u16),
            CodesMut::U32(d) => narrow(&mut d[range], codes, |c| c as u32),
            CodesMut::U64(d) => narrow(&mut d[range], codes, |c| c),
        }
    }
}
