//! Block-scaled (microscaling) formats: small elements sharing one scale per block, as in OCP
//! MX, NVIDIA NVFP4 and the UE5M3-scaled FP4 of the Graphcore FP4 study.
//!
//! A [`BlockFormat`] is an [`Element`] format, a scale format (any [`Format`]; `exact` is
//! binary64), a block size along the last axis, a [`ScaleRule`], an optional binary32
//! per-tensor scale, the element [`Rounding`] (any mode, overflow policy = saturation policy)
//! and an optional randomized Hadamard transform. [`quantize`] returns element codes, scale
//! codes and the dequantised values.
//!
//! Every element is the rounding core's rounding of the exact quotient x / S (S = block scale ·
//! tensor scale). FP4 elements under `rne`, `rna`, `rtz` compare |x| with the boundaries of
//! the element grid times S, exact products, and form no quotient at all; under exact `sr`
//! they, and FP6 and FP8 elements, read their rounding from the bits of |x| · fl(1/S) (`grid`);
//! for other elements the array engine's kernel rounds x·2^−k or
//! x / S for whole groups of blocks where that provably gives the same result (`engine`; under
//! `rne`, f64 arithmetic itself, `rne`; under exact `sr`, the kernel fused with the encoding,
//! `sr`); the rest goes through [`quotient::round_quotient`]; all are tested bit for bit
//! against the core. Element `i` of the input draws its random word from `rng::word(key, i)`,
//! so results do not depend on threads or chunking.
//!
//! Special blocks (every rule):
//! - all-zero block: the scale is the smallest power of two of the scale format (E8M0 0x00,
//!   2^−127, as microxcaling's clamp gives) for power-of-two rules, the scale format's zero (or
//!   its smallest value) for `nearest`; the elements are zeros;
//! - a NaN or ±Inf in a block: the scale is the scale format's NaN (E8M0 0xFF, UE4M3 0x7F;
//!   its largest value where it has none) and every element of the block dequantises to NaN,
//!   as OCP MX v1.0 §6 specifies for a NaN scale; element codes are the element format's NaN
//!   (or 0 where it has none);
//! - a scale beyond the scale format's range is clamped to its largest (smallest) power of two
//!   for power-of-two rules and rounded with saturation for `nearest`; elements then saturate
//!   (or lose their low bits). A `nearest` scale that rounds to zero flushes its block to zeros.

pub mod bench;
mod codes;
mod engine;
mod grid;
pub mod hadamard;
pub mod quotient;
mod rne;
mod simd;
mod sr;

use crate::codec;
use crate::error::{Error, Result};
use crate::flags::Flags;
use crate::format::{Format, Specials};
use crate::mode::{Rounding, RoundingMode};
use crate::rng;
use codes::CodesMut;
pub use codes::{Code, Codes, code_bytes};
use engine::{Engine, GroupView, UNSETTLED};
use grid::{Grid, Scaled};
use quotient::{FastFormat, round_quotient_with};
use rayon::prelude::*;
use rne::Rne;
use sr::Sr;
use std::fmt;

/// `$body` with `$len` the block length `$n`, a constant the compiler knows where it is
/// NVFP4's 16: their loops unroll into a few vector instructions (with the runtime length they
/// ran in the 4-lane epilogues of loops vectorised for 32; a known 32, MX's size, compiled into
/// a tangle of permutes). A macro: as a function taking a closure, the closure was not inlined
/// (nvfp4 took 1.7–1.9 times as long).
macro_rules! with_block_len {
    ($n:expr, |$len:ident| $body:expr) => {
        if $n == 16 {
            let $len = 16;
            $body
        } else {
            let $len = $n;
            $body
        }
    };
}

/// The element type of a block format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Element {
    /// A floating-point format.
    Float(Format),
    /// A signed integer of `bits` bits (2..=32) in sign-magnitude range ±(2^(bits−1) − 1) with
    /// an implicit scale 2^−(bits−2), as OCP MX v1.0's MXINT8 (values ±1.984375 in steps of
    /// 1/64; −2 is not used, as microxcaling keeps the range symmetric). Codes are two's
    /// complement.
    Int {
        /// Width in bits.
        bits: u32,
    },
}

impl Element {
    /// Parses `int<k>` or a format name.
    pub fn parse(name: &str) -> Result<Element> {
        let lower = name.trim().to_ascii_lowercase();
        if let Some(k) = lower.strip_prefix("int") {
            return match k.parse::<u32>() {
                Ok(bits) if (2..=32).contains(&bits) => Ok(Element::Int { bits }),
                _ => Err(Error::Invalid(format!(
                    "element {name:?}: an integer element is int<k> with k from 2 to 32"
                ))),
            };
        }
        Ok(Element::Float(Format::parse(name)?))
    }

    /// The format the element is rounded into. `int<k>` is the signed finite format E1M(k−2)
    /// with bias 1: subnormals n/2^(k−2) and normals 1 + n/2^(k−2), i.e. every multiple of
    /// 2^−(k−2) below 2 — exactly the integer grid, so the core rounds integers too.
    pub fn format(&self) -> Format {
        match *self {
            Element::Float(f) => f,
            Element::Int { bits } => {
                Format::new(1, bits - 2, 1, true, true, true, Specials::Finite)
                    .expect("E1M(k-2) bias 1 is a valid format")
            }
        }
    }

    /// The largest finite element value.
    pub fn max(&self) -> f64 {
        let f = self.format();
        codec::to_f64(&f, f.max_finite(false))
    }

    /// The code of a rounded element (two's complement for integers).
    fn code(&self, fcode: u128) -> u64 {
        match *self {
            Element::Float(_) => fcode as u64,
            Element::Int { bits } => {
                let f = self.format();
                let n = (fcode & f.magnitude_mask()) as i64;
                let v = if fcode & f.sign_bit() != 0 { -n } else { n };
                (v as u64) & ((1u64 << bits) - 1)
            }
        }
    }

    /// The value of an element code.
    pub fn value(&self, code: u64) -> f64 {
        match *self {
            Element::Float(f) => codec::to_f64(&f, code as u128),
            Element::Int { bits } => {
                let v = ((code << (64 - bits)) as i64) >> (64 - bits);
                v as f64 / (1u64 << (bits - 2)) as f64
            }
        }
    }

    /// Bits of an element code.
    pub fn width(&self) -> u32 {
        match self {
            Element::Float(f) => f.width(),
            Element::Int { bits } => *bits,
        }
    }
}

impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Element::Float(fmt) => write!(f, "{fmt}"),
            Element::Int { bits } => write!(f, "int{bits}"),
        }
    }
}

/// Parses a scale format name; `exact` is binary64 (a scale with f64's precision and range).
pub fn parse_scale(name: &str) -> Result<Format> {
    if name.trim().eq_ignore_ascii_case("exact") {
        Ok(Format::binary64())
    } else {
        Format::parse(name)
    }
}

fn scale_name(f: &Format) -> String {
    if *f == Format::binary64() {
        "exact".into()
    } else {
        f.to_string()
    }
}

/// How a block's scale is chosen from its largest magnitude `amax` (after dividing by the
/// tensor scale, if any). `emax` is the element format's largest exponent (E2M1: 2, E4M3: 8,
/// INT8: 0) and `max` its largest value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScaleRule {
    /// `floor`: 2^(⌊log2 amax⌋ − emax) — OCP MX v1.0 §6.3. The block maximum can exceed
    /// `max` (e.g. E2M1: amax/X ∈ [4, 8)) and then saturates.
    Floor,
    /// `ceil`: 2^(⌈log2 amax⌉ − emax) — never saturates, wastes up to a binade.
    Ceil,
    /// `rceil`: 2^⌈log2(amax / max)⌉, the smallest power of two that avoids saturation —
    /// NVIDIA's MXFP8 recipe (cuBLAS/Transformer Engine "RCEIL").
    Rceil,
    /// `even`: 2^(⌊log2 amax'⌋ − emax), amax' = amax rounded to the element's precision with
    /// ties away (add half an ulp, truncate) — torchao's `ScaleCalculationMode.EVEN`; it moves
    /// the scale up only when the maximum would round past the top binade.
    Even,
    /// `nearest`: amax / max rounded to nearest-even into the scale format (with saturation) —
    /// NVFP4's UE4M3 scale; not a power of two for scale formats with mantissa bits.
    Nearest,
}

impl ScaleRule {
    /// Every rule.
    pub const ALL: [ScaleRule; 5] = [
        ScaleRule::Floor,
        ScaleRule::Ceil,
        ScaleRule::Rceil,
        ScaleRule::Even,
        ScaleRule::Nearest,
    ];

    /// Parses `floor`, `ceil`, `rceil`, `even` or `nearest`.
    pub fn parse(name: &str) -> Result<ScaleRule> {
        ScaleRule::ALL
            .into_iter()
            .find(|r| r.to_string() == name.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "scale rule {name:?}: expected floor, ceil, rceil, even or nearest"
                ))
            })
    }
}

impl fmt::Display for ScaleRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScaleRule::Floor => "floor",
            ScaleRule::Ceil => "ceil",
            ScaleRule::Rceil => "rceil",
            ScaleRule::Even => "even",
            ScaleRule::Nearest => "nearest",
        })
    }
}

/// A block-scaled format. Build one with [`BlockFormat::new`] or [`BlockFormat::preset`] and
/// adjust the public fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockFormat {
    /// Element format.
    pub elem: Element,
    /// Scale format (binary64 for an "exact" scale).
    pub scale: Format,
    /// Elements per block along the last axis (the last block of a row may be shorter).
    pub block: usize,
    /// How the scale is chosen.
    pub rule: ScaleRule,
    /// A second-level binary32 scale per tensor, amax / (scale max · element max), as NVFP4.
    pub tensor_scale: bool,
    /// Element rounding: mode and overflow policy (`Saturate` clamps to ± the element max).
    pub rounding: Rounding,
    /// Randomized Hadamard transform over each block before quantising (block a power of two).
    pub hadamard: bool,
}

/// The named presets: (name, definition, source).
pub const PRESETS: [(&str, &str, &str); 9] = [
    (
        "mxfp8-e4m3",
        "E4M3, E8M0 scale, block 32, floor",
        "OCP MX v1.0",
    ),
    (
        "mxfp8-e5m2",
        "E5M2, E8M0 scale, block 32, floor",
        "OCP MX v1.0",
    ),
    (
        "mxfp6-e2m3",
        "E2M3, E8M0 scale, block 32, floor",
        "OCP MX v1.0",
    ),
    (
        "mxfp6-e3m2",
        "E3M2, E8M0 scale, block 32, floor",
        "OCP MX v1.0",
    ),
    ("mxfp4", "E2M1, E8M0 scale, block 32, floor", "OCP MX v1.0"),
    (
        "mxint8",
        "INT8 (±127/64), E8M0 scale, block 32, floor",
        "OCP MX v1.0",
    ),
    (
        "nvfp4",
        "E2M1, UE4M3 scale, block 16, nearest, binary32 tensor scale",
        "NVIDIA NVFP4 (Blackwell)",
    ),
    (
        "fp4-ue5m3-16",
        "E2M1, UE5M3 scale, block 16, nearest",
        "Graphcore FP4 study (2025)",
    ),
    (
        "fp4-ue5m3-32",
        "E2M1, UE5M3 scale, block 32, nearest",
        "Graphcore FP4 study (2025)",
    ),
];

impl BlockFormat {
    /// A block format with round-to-nearest-even, saturating elements, no tensor scale and no
    /// Hadamard transform.
    pub fn new(elem: Element, scale: Format, block: usize, rule: ScaleRule) -> BlockFormat {
        BlockFormat {
            elem,
            scale,
            block,
            rule,
            tensor_scale: false,
            rounding: Rounding::new(RoundingMode::NearestEven).saturating(),
            hadamard: false,
        }
    }

    /// A named preset (see [`PRESETS`]). OCP MX v1.0 converts elements with saturation;
    /// NVFP4's E2M1 has no Inf or NaN, so it saturates as well.
    pub fn preset(name: &str) -> Result<BlockFormat> {
        let f = |n: &str| Format::parse(n).expect("named format");
        let mx = |e: Element| BlockFormat::new(e, f("e8m0"), 32, ScaleRule::Floor);
        Ok(match name.trim().to_ascii_lowercase().as_str() {
            "mxfp8-e4m3" => mx(Element::Float(f("e4m3"))),
            "mxfp8-e5m2" => mx(Element::Float(f("e5m2"))),
            "mxfp6-e2m3" => mx(Element::Float(f("e2m3"))),
            "mxfp6-e3m2" => mx(Element::Float(f("e3m2"))),
            "mxfp4" => mx(Element::Float(f("e2m1"))),
            "mxint8" => mx(Element::Int { bits: 8 }),
            "nvfp4" => BlockFormat {
                tensor_scale: true,
                ..BlockFormat::new(
                    Element::Float(f("e2m1")),
                    f("ue4m3"),
                    16,
                    ScaleRule::Nearest,
                )
            },
            "fp4-ue5m3-16" => BlockFormat::new(
                Element::Float(f("e2m1")),
                f("ue5m3"),
                16,
                ScaleRule::Nearest,
            ),
            "fp4-ue5m3-32" => BlockFormat::new(
                Element::Float(f("e2m1")),
                f("ue5m3"),
                32,
                ScaleRule::Nearest,
            ),
            _ => {
                let names: Vec<&str> = PRESETS.iter().map(|p| p.0).collect();
                return Err(Error::Invalid(format!(
                    "unknown block format preset {name:?}; presets: {}",
                    names.join(", ")
                )));
            }
        })
    }

    /// Checks that the combination is usable.
    pub fn check(&self) -> Result<()> {
        let fail = |why: String| Err(Error::Invalid(format!("block format {self}: {why}")));
        if self.block == 0 {
            return fail("the block size must be at least 1".into());
        }
        if self.hadamard && !self.block.is_power_of_two() {
            return fail(format!(
                "the Hadamard transform needs a power-of-two block size, not {}",
                self.block
            ));
        }
        if self.elem.width() > 64 || self.scale.width() > 64 {
            return fail("element and scale formats may have at most 64 bits".into());
        }
        if !self.elem.format().fits_in_f64() || !self.scale.fits_in_f64() {
            return fail("element and scale values must be f64 values".into());
        }
        // The tensor scale is amax / (scale max · element max) in binary32, 1 where that
        // product overflows; then `rceil` and `nearest` divide amax by tensor scale · element
        // max, and `nearest`'s elements by S = block scale · tensor scale. Each product is
        // formed in binary64 and must be exact (the tensor scale has up to 24 bits).
        let bits = |v: f64| 53 - (v.to_bits() | 1 << 52).trailing_zeros();
        let emax = self.elem.max();
        let smax = codec::to_f64(&self.scale, self.scale.max_finite(false));
        let product = smax * emax;
        let tensor_is_one = !product.is_finite();
        let refuse = |what: String| {
            fail(format!(
                "with a tensor scale, {what} must be exact in binary64: use a narrower element or \
                 scale format, or no tensor scale"
            ))
        };
        if self.tensor_scale && !tensor_is_one {
            if smax.mul_add(emax, -product) != 0.0 {
                return refuse(format!(
                    "the largest scale ({smax:e}) · the largest element ({emax:e})"
                ));
            }
            let divides = matches!(self.rule, ScaleRule::Rceil | ScaleRule::Nearest);
            if divides && bits(emax) + 24 > 53 {
                return refuse(format!(
                    "tensor scale · the largest element ({emax:e}, {} significant bits, at most \
                     29)",
                    bits(emax)
                ));
            }
            if self.rule == ScaleRule::Nearest && self.scale.precision() + 24 > 53 {
                return refuse(format!(
                    "block scale · tensor scale ({}, {} significant bits, at most 29)",
                    scale_name(&self.scale),
                    self.scale.precision()
                ));
            }
        }
        Ok(())
    }
}

impl fmt::Display for BlockFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.elem,
            scale_name(&self.scale),
            self.block,
            self.rule
        )?;
        if self.tensor_scale {
            f.write_str("+tensor")?;
        }
        if self.hadamard {
            f.write_str("+hadamard")?;
        }
        if self.rounding.mode != RoundingMode::NearestEven {
            write!(f, "/{}", self.rounding.mode)?;
        }
        Ok(())
    }
}

/// The result of [`quantize`].
#[derive(Clone, Debug, PartialEq)]
pub struct Quantized {
    /// Element codes in input order (two's complement for integer elements), in the narrowest
    /// unsigned type that holds the element format's width.
    pub codes: Codes,
    /// Scale codes, one per block, in order (row by row).
    pub scales: Vec<u64>,
    /// The binary32 tensor scale (1 without one).
    pub tensor_scale: f64,
    /// element value · scale value · tensor scale (after the inverse Hadamard transform).
    pub dequantized: Vec<f64>,
    /// Elements whose rounding overflowed the element format (saturated, under `Saturate`).
    pub saturated: usize,
}

/// Error statistics of a quantisation over the entries where input and output are finite.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct ErrorStats {
    /// Entries compared.
    pub count: usize,
    /// Mean squared error.
    pub mse: f64,
    /// Quantisation signal-to-noise ratio 10·log10(Σx² / Σ(x − q)²) in dB (+inf if exact).
    pub qsnr_db: f64,
    /// Largest |x − q|.
    pub max_abs_error: f64,
    /// Mean of q − x (the bias).
    pub mean_error: f64,
}

/// Error statistics of `q` against `x`.
pub fn error_stats(x: &[f64], q: &[f64]) -> ErrorStats {
    let (mut n, mut sx, mut se, mut me, mut max) = (0usize, 0.0, 0.0, 0.0, 0.0f64);
    for (&a, &b) in x.iter().zip(q) {
        if a.is_finite() && b.is_finite() {
            let e = b - a;
            n += 1;
            sx += a * a;
            se += e * e;
            me += e;
            max = max.max(e.abs());
        }
    }
    let m = n.max(1) as f64;
    ErrorStats {
        count: n,
        mse: se / m,
        qsnr_db: 10.0 * (sx / se).log10(),
        max_abs_error: max,
        mean_error: me / m,
    }
}

/// Quantises `data` as one row (blocks along the whole slice, a ragged last block allowed).
pub fn quantize(bf: &BlockFormat, data: &[f64], key: u64) -> Result<Quantized> {
    quantize_rows(bf, data, data.len().max(1), key)
}

/// The key of the Hadamard signs under a quantisation key.
pub fn hadamard_key(key: u64) -> u64 {
    rng::derive_key(key, &[0x4841_4441])
}

/// Precomputed per-format state shared by every block.
struct Plan {
    bf: BlockFormat,
    elem_fmt: Format,
    elem_fast: FastFormat,
    /// The vectorised element path, where the element format allows it.
    engine: Option<Engine>,
    /// Its direct paths under `rne` and exact `sr`, tried first for every group.
    rne: Option<Rne>,
    /// The path without quotients for FP4 elements under `rne`, `rna`, `rtz` and exact `sr`,
    /// which takes the place of the engine.
    grid: Option<Grid>,
    sr: Option<Sr>,
    elem_max: f64,
    elem_emax: i64,
    elem_values: Option<Vec<f64>>,
    scale_values: Option<Vec<f64>>,
    scale_fast: FastFormat,
    /// The `nearest` rule's rounding of amax / (tensor scale · element max) in the FP unit,
    /// where the scale format allows it (the exact path decides the rest).
    scale_rne: Option<Rne>,
    /// fl(1 / (tensor scale · element max)), for `scale_rne`.
    scale_inv: f64,
    scale_rounding: Rounding,
    even_fmt: Format,
    even_fast: FastFormat,
    /// Powers of two of the scale format: exponents `pow2_lo..=pow2_lo + len − 1`, codes.
    pow2_lo: i64,
    pow2_codes: Vec<u64>,
    /// ... and their values.
    pow2_values: Vec<f64>,
    /// The power-of-two rules' scale in a few integer operations, where it applies (see
    /// [`Plan::pow2_rule_scale`]).
    pow2_rule: Option<Pow2Rule>,
    tensor: f64,
    /// Entries per row of the input (blocks do not cross rows).
    row_len: usize,
    /// The key of the random streams.
    key: u64,
}

impl Plan {
    fn new(bf: &BlockFormat, row_len: usize, tensor: f64, key: u64) -> Plan {
        let elem_fmt = bf.elem.format();
        let s = &bf.scale;
        let (lo, hi) = (
            if s.has_subnormals() {
                s.min_quantum_exp()
            } else {
                s.emin()
            } as i64,
            s.emax() as i64,
        );
        let pow2_codes: Vec<u64> = (lo..=hi)
            .map(|e| {
                let x = crate::Exact::new(false, 1u32, e);
                crate::round::round(s, &x, &Rounding::default(), &mut rng::NoRandom).value as u64
            })
            .collect();
        let engine = Engine::new(&elem_fmt, &bf.rounding).map(|e| e.for_element(&bf.elem));
        let pow2_values = pow2_codes
            .iter()
            .map(|&c| codec::to_f64(s, c as u128))
            .collect();
        let scale_rounding = Rounding::new(RoundingMode::NearestEven).saturating();
        let even = Format::new(
            11,
            elem_fmt.man_bits(),
            1023,
            true,
            true,
            true,
            Specials::Ieee,
        )
        .expect("an E11 format of the element's precision");
        Plan {
            bf: *bf,
            elem_fmt,
            elem_fast: FastFormat::new(&elem_fmt),
            rne: Rne::new(&bf.elem, &bf.rounding, engine.is_some()),
            grid: Grid::new(&bf.elem, &bf.rounding)
                .filter(|g| g.fits(s, bf.rule != ScaleRule::Nearest, tensor)),
            sr: Sr::new(&bf.elem, &bf.rounding, engine.as_ref()),
            engine,
            elem_max: bf.elem.max(),
            elem_emax: elem_fmt.emax() as i64,
            elem_values: (bf.elem.width() <= 16).then(|| {
                (0..1u64 << bf.elem.width())
                    .map(|c| bf.elem.value(c))
                    .collect()
            }),
            scale_values: (s.width() <= 16).then(|| {
                (0..1u128 << s.width())
                    .map(|c| codec::to_f64(s, c))
                    .collect()
            }),
            scale_fast: FastFormat::new(s),
            scale_rne: Rne::for_format(
                s,
                &scale_rounding,
                Engine::new(s, &scale_rounding).is_some(),
            ),
            scale_inv: 1.0 / (tensor * bf.elem.max()),
            scale_rounding,
            even_fmt: even,
            even_fast: FastFormat::new(&even),
            pow2_lo: lo,
            pow2_codes,
            pow2_values,
            pow2_rule: Pow2Rule::new(bf, tensor),
            tensor,
            row_len,
            key,
        }
    }

    fn elem_value(&self, code: u64) -> f64 {
        match &self.elem_values {
            Some(t) => t[code as usize],
            None => self.bf.elem.value(code),
        }
    }

    fn scale_value(&self, code: u64) -> f64 {
        match &self.scale_values {
            Some(t) => t[code as usize],
            None => codec::to_f64(&self.bf.scale, code as u128),
        }
    }

    /// The power-of-two scale 2^e clamped into the scale format: (code, value).
    #[inline(always)]
    fn pow2_scale(&self, e: i64) -> (u64, f64) {
        let i = (e - self.pow2_lo).clamp(0, self.pow2_codes.len() as i64 - 1) as usize;
        (self.pow2_codes[i], self.pow2_values[i])
    }

    /// The scale of a block with largest magnitude `amax` (finite): (code, value). The general
    /// rule, for what [`Plan::scale_of`]'s inline paths leave.
    fn block_scale(&self, amax: f64) -> (u64, f64) {
        let bf = &self.bf;
        if amax == 0.0 {
            return match bf.rule {
                ScaleRule::Nearest => {
                    let code = bf
                        .scale
                        .zero(false)
                        .unwrap_or(bf.scale.min_positive_magnitude_code())
                        as u64;
                    (code, codec::to_f64(&bf.scale, code as u128))
                }
                _ => self.pow2_scale(self.pow2_lo),
            };
        }
        let t = self.tensor;
        match bf.rule {
            ScaleRule::Floor => self.pow2_scale(log2_floor_ratio(amax, t) - self.elem_emax),
            ScaleRule::Ceil => self.pow2_scale(log2_ceil_ratio(amax, t) - self.elem_emax),
            ScaleRule::Rceil => self.pow2_scale(log2_ceil_ratio(amax, t * self.elem_max)),
            ScaleRule::Even => {
                // amax / t = (ma / mt) · 2^(ea − et) with ma, mt ∈ [1, 2): round the ratio of
                // significands (exactly, ties away) to the element's precision.
                let (ma, ea) = split(amax);
                let (mt, et) = split(t);
                let r = round_quotient_with(
                    &self.even_fast,
                    ma,
                    mt,
                    &Rounding::new(RoundingMode::NearestAway),
                    0,
                    0,
                );
                // The ratio is in (1/2, 2), a normal number of the E11 format: its exponent
                // is the biased field minus 1023.
                let f = &self.even_fmt;
                let field = ((r.value >> f.man_bits()) & f.exp_field_max()) as i64;
                self.pow2_scale(field - 1023 + ea - et - self.elem_emax)
            }
            ScaleRule::Nearest => {
                // (`scale_rne`, the FP-unit rounding, was tried first, inline in `scale_of`.)
                let d = t * self.elem_max;
                let r = round_quotient_with(&self.scale_fast, amax, d, &self.scale_rounding, 0, 0);
                let code = r.value as u64;
                (code, self.scale_value(code))
            }
        }
    }

    /// The scale of a block whose largest magnitude has the bits `amax` ([`max_abs_bits`]) and
    /// what its elements become: (scale code, `Some(S)` with S the effective scale (block
    /// scale · tensor scale) for blocks of finite values, else `None`).
    #[inline(always)]
    fn scale_of(&self, amax: u64) -> (u64, Option<f64>) {
        let bf = &self.bf;
        if amax >= INF_BITS {
            let code = bf.scale.default_nan().unwrap_or(bf.scale.max_finite(false)) as u64;
            return (code, None);
        }
        // The common rules inline, without the general rule's call (`None` where it decides).
        let fast = match (&self.pow2_rule, &self.scale_rne) {
            (Some(r), _) => self.pow2_rule_scale(r, amax),
            (None, Some(r)) if self.bf.rule == ScaleRule::Nearest => {
                r.round_scale(f64::from_bits(amax), self.scale_inv)
            }
            _ => None,
        };
        let (code, sb) = match fast {
            Some(scale) => scale,
            None => self.block_scale(f64::from_bits(amax)),
        };
        (code, Some(sb * self.tensor))
    }

    /// [`Plan::scale_of`] for a run of `n` blocks with largest magnitudes (bits) `amax`: their
    /// scales' codes into `codes` and effective scales into `ss` (NaN for a block with a NaN or
    /// Inf). The `nearest` rule's rounding ([`Rne::round_scale_lane`]) runs first in one
    /// branch-free loop over the whole arrays, which vectorises (one at a time, the scales took
    /// 40 % of an NVFP4 quantisation); the blocks it leaves, and every block under the other
    /// rules, go through [`Plan::scale_of`].
    #[inline(always)]
    fn scales_of(&self, amax: &[u64; RUN], n: usize, codes: &mut [u64; RUN], ss: &mut [f64; RUN]) {
        let mut decided = [false; RUN];
        if let (None, Some(r)) = (&self.pow2_rule, &self.scale_rne)
            && self.bf.rule == ScaleRule::Nearest
        {
            let (inv, tensor) = (self.scale_inv, self.tensor);
            for i in 0..RUN {
                let (code, t, ok) = r.round_scale_lane(f64::from_bits(amax[i]), inv);
                (codes[i], ss[i], decided[i]) = (code, t * tensor, ok);
            }
        }
        for i in 0..n.min(RUN) {
            if !decided[i] {
                let (code, s) = self.scale_of(amax[i]);
                (codes[i], ss[i]) = (code, s.unwrap_or(f64::NAN));
            }
        }
    }

    /// [`Plan::block_scale`] under the power-of-two rule `r` for an f64-normal `amax` (bits),
    /// from its exponent field and mantissa bits (`None` for other values).
    #[inline(always)]
    fn pow2_rule_scale(&self, r: &Pow2Rule, amax: u64) -> Option<(u64, f64)> {
        let (field, mant) = ((amax >> 52) as i64, amax & ((1 << 52) - 1));
        if field == 0 {
            return None;
        }
        // ⌊log2 amax⌋ = field − 1023; ⌈log2 (amax / b)⌉ adds one where amax's significand
        // exceeds b's (see `log2_ceil_ratio`).
        Some(self.pow2_scale(field - r.field + (mant > r.mant) as i64 - r.emax))
    }

    /// The blocks from block `b` on, in order: their element ranges `(lo, hi)`.
    fn blocks(&self, b: usize) -> impl Iterator<Item = (usize, usize)> + use<> {
        let (block, row_len) = (self.bf.block, self.row_len);
        let per_row = row_len.div_ceil(block);
        let (mut r, mut j) = (b / per_row, b % per_row);
        std::iter::from_fn(move || {
            let lo = r * row_len + j * block;
            let hi = (lo + block).min((r + 1) * row_len);
            j += 1;
            if j == per_row {
                (r, j) = (r + 1, 0);
            }
            Some((lo, hi))
        })
    }

    /// Fills the elements of a block that has a NaN or Inf (`s = None`) or a zero scale; false
    /// (nothing written) for an ordinary block.
    fn special(&self, xs: &[f64], s: Option<f64>, codes: &mut [u64], deq: &mut [f64]) -> bool {
        let bf = &self.bf;
        match s {
            None => {
                let elem_nan = bf.elem.code(self.elem_fmt.default_nan().unwrap_or(0));
                codes.fill(elem_nan);
                deq.fill(f64::NAN);
                true
            }
            Some(0.0) => {
                for ((c, d), x) in codes.iter_mut().zip(deq.iter_mut()).zip(xs) {
                    let z = self.elem_fmt.zero(x.is_sign_negative()).unwrap_or(0);
                    *c = bf.elem.code(z);
                    *d = 0.0;
                }
                true
            }
            Some(_) => false,
        }
    }

    /// One element through the exact quotient path: (code, dequantised value, overflowed).
    fn element(&self, x: f64, s: f64, key: u64, index: u64) -> (u64, f64, bool) {
        let r = round_quotient_with(&self.elem_fast, x, s, &self.bf.rounding, key, index);
        let c = self.bf.elem.code(r.value);
        (c, self.elem_value(c) * s, r.flags.contains(Flags::OVERFLOW))
    }

    /// Quantises the blocks of the task `t` by the fastest path that applies, with `kernels`
    /// the grid path's block maxima and roundings; returns the number of saturated elements.
    /// Inlined into [`simd::task`]'s per-CPU copies.
    #[inline(always)]
    fn task_fast<K: GridKernels>(&self, work: &[f64], t: Task<'_>, kernels: K) -> usize {
        match (&self.grid, &self.engine) {
            (Some(grid), _) => self.task_grid(grid, work, t, kernels),
            (_, Some(engine)) => self.task_engine(engine, work, t),
            _ => self.task_exact(work, t),
        }
    }

    /// [`Plan::task_fast`] with every element through the exact quotient path.
    fn task_exact(&self, work: &[f64], t: Task<'_>) -> usize {
        let Task {
            start,
            block,
            mut codes,
            deq,
            scales,
        } = t;
        let mut sat = 0;
        let mut block_codes = vec![0u64; self.bf.block];
        for ((lo, hi), sc) in self.blocks(block).zip(scales.iter_mut()) {
            let (xs, o) = (&work[lo..hi], lo - start..hi - start);
            let (code, s) = self.scale_of(max_abs_bits(xs));
            *sc = code;
            let bc = &mut block_codes[..hi - lo];
            // (`special` must run for `None` too: a NaN/Inf block.)
            let special = self.special(xs, s, bc, &mut deq[o.clone()]);
            if let Some(s) = s.filter(|_| !special) {
                for (j, ((c, d), &x)) in bc.iter_mut().zip(&mut deq[o.clone()]).zip(xs).enumerate()
                {
                    let (code, v, of) = self.element(x, s, self.key, (lo + j) as u64);
                    (*c, *d) = (code, v);
                    sat += of as usize;
                }
            }
            codes.store_at(o.start, bc);
        }
        sat
    }

    /// [`Plan::task_fast`] through the element engine, a group of blocks (up to [`GROUP`] elements,
    /// or one larger block) at a time: pass 1 chooses each block's scale and writes its
    /// quotients (and per element its scale and whether the quotient is exact) into buffers;
    /// pass 2 settles the group in one loop by a direct path ([`Rne::finish`], [`Sr::finish`])
    /// where one applies and can, else the kernel rounds the group into `deq` in one call and
    /// [`Engine::finish`] finishes it; then the blocks of NaN/Inf or zero scale are filled in,
    /// and the rare elements `finish` leaves go through [`Plan::settle`].
    #[inline(always)]
    fn task_engine(&self, engine: &Engine, work: &[f64], t: Task<'_>) -> usize {
        let Task {
            start,
            block,
            mut codes,
            deq,
            scales,
        } = t;
        let cap = GROUP.max(self.bf.block);
        let mut g = Group {
            lo: start,
            blocks: Vec::with_capacity(cap / self.bf.block + 1),
            codes: vec![0; cap],
            ys: vec![0.0; cap],
            ss: vec![0.0; cap],
            exact: vec![0; cap],
            all_exact: true,
        };
        let mut sat = 0;
        for ((lo, hi), sc) in self.blocks(block).zip(scales.iter_mut()) {
            // An empty group starts at `lo`, and one block always fits.
            if hi - g.lo > cap {
                sat += self.flush(engine, work, start, &mut g, &mut codes, deq);
                g.lo = lo;
            }
            *sc = with_block_len!(hi - lo, |len| self.prepare(&work[lo..lo + len], lo, &mut g));
        }
        sat + self.flush(engine, work, start, &mut g, &mut codes, deq)
    }

    /// [`Plan::task_fast`] through the [`Grid`], the codes straight into a u8 output (into a
    /// buffer widened at the end for the others). Where blocks tile the rows, a run of [`RUN`]
    /// blocks at a time: their maxima, then their scales ([`Plan::scales_of`], vectorised
    /// across the run), then their elements; else one block at a time. (One block at a time,
    /// each block's scale waited on a long chain of scalar operations: the runs take 0.72 of
    /// the time for NVFP4.)
    #[inline(always)]
    fn task_grid(
        &self,
        grid: &Grid,
        work: &[f64],
        t: Task<'_>,
        kernels: impl GridKernels,
    ) -> usize {
        let Task {
            start,
            block,
            mut codes,
            deq,
            scales,
        } = t;
        // (One loop for both, not a closure called twice: that was not inlined.)
        let mut buf = Vec::new();
        let out: &mut [u8] = match &mut codes {
            CodesMut::U8(codes) => codes,
            wide => {
                buf.resize(wide.len(), 0);
                &mut buf
            }
        };
        let mut sat = 0;
        if self.row_len.is_multiple_of(self.bf.block) {
            let xs = &work[start..start + deq.len()];
            with_block_len!(self.bf.block, |len| {
                let runs = (xs.chunks(RUN * len).zip(out.chunks_mut(RUN * len)))
                    .zip(deq.chunks_mut(RUN * len))
                    .zip(scales.chunks_mut(RUN));
                for (r, (((xs, out), deq), scales)) in runs.enumerate() {
                    let (mut amax, mut codes, mut ss) = ([0; RUN], [0; RUN], [0.0; RUN]);
                    for (a, xs) in amax.iter_mut().zip(xs.chunks_exact(len)) {
                        *a = kernels.max_abs_bits(xs);
                    }
                    self.scales_of(&amax, scales.len(), &mut codes, &mut ss);
                    scales.copy_from_slice(&codes[..scales.len()]);
                    let blocks = (xs.chunks_exact(len).zip(out.chunks_exact_mut(len)))
                        .zip(deq.chunks_exact_mut(len))
                        .zip(amax.into_iter().zip(ss));
                    let lo = start + r * RUN * len;
                    for (j, (((xs, c), d), (amax, s))) in blocks.enumerate() {
                        let s = (!s.is_nan()).then_some(s);
                        let found = Found {
                            lo: lo + j * len,
                            amax,
                            s,
                        };
                        sat += self.grid_block(grid, found, xs, c, d, kernels);
                    }
                }
            });
        } else {
            for ((lo, hi), sc) in self.blocks(block).zip(scales.iter_mut()) {
                let (c, d) = (&mut out[lo - start..], &mut deq[lo - start..]);
                sat += with_block_len!(hi - lo, |len| {
                    let (xs, c, d) = (&work[lo..lo + len], &mut c[..len], &mut d[..len]);
                    let amax = kernels.max_abs_bits(xs);
                    let (code, s) = self.scale_of(amax);
                    *sc = code;
                    self.grid_block(grid, Found { lo, amax, s }, xs, c, d, kernels)
                });
            }
        }
        if !buf.is_empty() {
            codes.store_at(0, &buf);
        }
        sat
    }

    /// The block `xs` through the [`Grid`], with what was `found` of it: the number of
    /// saturated elements.
    #[inline(always)]
    fn grid_block(
        &self,
        grid: &Grid,
        found: Found,
        xs: &[f64],
        codes: &mut [u8],
        deq: &mut [f64],
        kernels: impl GridKernels,
    ) -> usize {
        let Found { lo, amax, s } = found;
        // (Codes as u64 for the rare blocks of the other paths.)
        let wide = || vec![0u64; xs.len()];
        let s = match s {
            Some(s) if s != 0.0 => s,
            _ => {
                let mut wide = wide();
                self.special(xs, s, &mut wide, deq);
                CodesMut::U8(codes).store_at(0, &wide);
                return 0;
            }
        };
        let state = rng::state(self.key, lo as u64);
        // (No `and_then` or `map`: their closures were not inlined, which cost 40 %.)
        let mut rounded = None;
        if let Some(g) = grid.scaled(s)
            && let Some(n) = kernels.apply(&g, xs, codes, deq, state)
        {
            rounded = Some(n as usize + g.overflows(xs, f64::from_bits(amax)));
        }
        match rounded {
            Some(sat) => sat,
            None => {
                let mut wide = wide();
                wide.fill(UNSETTLED);
                let sat = self.settle(xs, deq, &mut wide, s, lo);
                CodesMut::U8(codes).store_at(0, &wide);
                sat
            }
        }
    }

    /// Pass 1 for the block `xs` (first element `lo`) of the group `g`: chooses its scale,
    /// writes its quotients, scales and exactness into `g`'s buffers and appends it to `g`'s
    /// blocks. Returns the scale's code.
    #[inline(always)]
    fn prepare(&self, xs: &[f64], lo: usize, g: &mut Group) -> u64 {
        let o = lo - g.lo..lo - g.lo + xs.len();
        let (code, s) = self.scale_of(max_abs_bits(xs));
        let kind = match s {
            Some(s) if s != 0.0 => match pow2_inverse(s) {
                Some(r) => {
                    lanes(xs, &mut g.ys[o.clone()], |x| x * r);
                    // (`exact` is only read once a block of the group is not.)
                    if !g.all_exact {
                        g.exact[o.clone()].fill(u64::MAX);
                    }
                    Kind::Scaled(s)
                }
                None => {
                    lanes(xs, &mut g.ys[o.clone()], |x| x / s);
                    if g.all_exact {
                        g.exact[..o.start].fill(u64::MAX);
                        g.all_exact = false;
                    }
                    g.exact[o.clone()].fill(0);
                    Kind::Scaled(s)
                }
            },
            _ => {
                g.ys[o.clone()].fill(0.0);
                Kind::Special(s)
            }
        };
        g.ss[o].fill(s.unwrap_or(1.0));
        g.blocks.push((lo, lo + xs.len(), kind));
        code
    }

    /// Rounds and finishes the blocks of the group `g`, stores their codes into `out` (the
    /// task's, from element `start`), and empties the group. Returns the number of saturated
    /// elements.
    #[inline(always)]
    fn flush(
        &self,
        engine: &Engine,
        work: &[f64],
        start: usize,
        g: &mut Group,
        out: &mut CodesMut<'_>,
        deq: &mut [f64],
    ) -> usize {
        let Some(&(_, g_hi, _)) = g.blocks.last() else {
            return 0;
        };
        let (key, g_lo, n) = (self.key, g.lo, g_hi - g.lo);
        let (codes, deq) = (&mut g.codes[..n], &mut deq[g_lo - start..g_hi - start]);
        let mut view = GroupView {
            xs: &work[g_lo..g_hi],
            ys: &g.ys[..n],
            ss: &g.ss[..n],
            exact: &g.exact[..n],
            all_exact: g.all_exact,
            vs: deq,
            codes,
        };
        // (A `match`, not `and_then`: the closure was not inlined into the per-CPU copies.)
        let direct = match (&self.rne, &self.sr) {
            (Some(r), _) => r.finish(&mut view),
            (_, Some(r)) => r.finish(&mut view, key, g_lo as u64),
            _ => None,
        };
        let (left, mut sat) = match direct {
            Some(sat) => (false, sat),
            None => {
                engine.round_into(key, g_lo as u64, view.ys, view.vs);
                engine.finish(&mut view, key, g_lo as u64)
            }
        };
        let (codes, deq) = (view.codes, view.vs);
        for (lo, hi, kind) in g.blocks.drain(..) {
            let (xs, o) = (&work[lo..hi], lo - g_lo..hi - g_lo);
            match kind {
                Kind::Special(s) => {
                    self.special(xs, s, &mut codes[o.clone()], &mut deq[o]);
                }
                // Rare: most groups have no element left (but every group with a NaN/Inf or
                // zero-scale block does, whose elements `finish` never settles), so a
                // vectorised scan before the scalar pass.
                Kind::Scaled(s)
                    if left
                        && codes[o.clone()]
                            .iter()
                            .fold(false, |any, &c| any | (c == UNSETTLED)) =>
                {
                    sat += self.settle(xs, &mut deq[o.clone()], &mut codes[o], s, lo);
                }
                Kind::Scaled(..) => {}
            }
        }
        out.store_at(g_lo - start, codes);
        g.all_exact = true;
        sat
    }

    /// Finishes the elements of a block (first element `lo`) that [`Engine::finish`] left
    /// holding [`UNSETTLED`] in `codes`, through the exact quotient path. Returns the number of
    /// saturated elements.
    #[inline(never)]
    fn settle(&self, xs: &[f64], deq: &mut [f64], codes: &mut [u64], s: f64, lo: usize) -> usize {
        let mut sat = 0;
        let elements = xs.iter().zip(deq.iter_mut().zip(codes.iter_mut()));
        for (j, (&x, (d, c))) in elements.enumerate() {
            if *c == UNSETTLED {
                let of;
                (*c, *d, of) = self.element(x, s, self.key, (lo + j) as u64);
                sat += of as usize;
            }
        }
        sat
    }
}

/// The grid path's roundings of a block: [`Scaled::round`] and [`Scaled::round_sr`], or
/// kernels for the CPU. Implemented by empty types whose methods are `#[inline(always)]`, so
/// that they compile into each per-CPU copy of the task (closures in their place were calls
/// once the task had more than four call sites: 1.25 times the time).
trait GridKernels: Copy {
    /// [`max_abs_bits`]. (Vectorised by the compiler across a run's blocks, it gathered every
    /// element into place: AVX-512 takes its own.)
    #[inline(always)]
    fn max_abs_bits(self, xs: &[f64]) -> u64 {
        max_abs_bits(xs)
    }

    /// [`Scaled::round`].
    fn round(self, g: &Scaled, xs: &[f64], codes: &mut [u8], vs: &mut [f64]);

    /// [`Scaled::round_sr`].
    fn round_sr(
        self,
        g: &Scaled,
        xs: &[f64],
        codes: &mut [u8],
        vs: &mut [f64],
        state: u64,
    ) -> Option<u64>;

    /// Rounds the block `xs` (element j drawing the word of the stream state
    /// [`rng::advance`]`(state, j)` under `sr`) into `codes` and `vs`: the number of elements
    /// that overflowed in an `sr` rounding (see [`Scaled::overflows`] for the others), or
    /// `None` where the exact path must round the block.
    #[inline(always)]
    fn apply(
        self,
        g: &Scaled,
        xs: &[f64],
        codes: &mut [u8],
        vs: &mut [f64],
        state: u64,
    ) -> Option<u64> {
        match g.sr {
            Some(_) => self.round_sr(g, xs, codes, vs, state),
            None => {
                self.round(g, xs, codes, vs);
                Some(0)
            }
        }
    }
}

/// Elements per group of blocks that the kernel rounds in one call: the six arrays the passes
/// share over a group (input, quotients, scales, exactness, codes, values: 12 KiB) stay in the
/// L1 cache between them. Measured with one thread on 10^7 values: with 2048 (96 KiB, the L2
/// cache) mxfp4 took 46 ms and mxfp8-e4m3 40 ms, with 256 about 40 and 30; 128 was no faster.
const GROUP: usize = 256;

/// Arrays of at least this many values are quantised by rayon tasks of about 16k values in
/// parallel, smaller ones serially; results do not depend on it. Measured with 1 and 2 threads
/// on the loaded 2-core machine: up to 2^15 values (one or two tasks) the second thread gave
/// nothing (mxfp4, nvfp4: 46–67 M values/s either way, where a call's fixed cost, then about
/// 30–70 µs and mostly the scale tables, dominated), from 2^16 on it can.
pub const PARALLEL_THRESHOLD: usize = 1 << 15;

const SIGN: u64 = 1 << 63;
const INF_BITS: u64 = 0x7FF0_0000_0000_0000;

/// The largest magnitude in `xs` as f64 bits, at least [`INF_BITS`] iff `xs` has a NaN or Inf
/// (one integer maximum per element: a flat reduction, which vectorises).
#[inline(always)]
fn max_abs_bits(xs: &[f64]) -> u64 {
    xs.iter().fold(0, |m, x| m.max(x.to_bits() & !SIGN))
}

/// The blocks of a task that pass through the kernel together, and pass 1's per-element
/// buffers (indexed from the group's first element).
struct Group {
    /// Index of the group's first element.
    lo: usize,
    /// Element ranges and kinds of the blocks.
    blocks: Vec<(usize, usize, Kind)>,
    /// Element codes (u64, with [`UNSETTLED`] for the elements left to the exact path), stored
    /// narrowed into the output once the group is finished.
    codes: Vec<u64>,
    /// Quotients.
    ys: Vec<f64>,
    /// Scales S.
    ss: Vec<f64>,
    /// All ones where the quotient is x·2^−k, 0 where it is x / S.
    exact: Vec<u64>,
    /// Whether every quotient is x·2^−k.
    all_exact: bool,
}

/// Lanes of the tensor scale's maximum: independent per-lane maxima over chunks of this many
/// elements vectorise even for the baseline, four AVX-512 vectors whose dependency chains
/// overlap (with one, each vector waited for the last: 7 % of an in-cache NVFP4 quantisation).
const LANES: usize = 32;

/// `out[i] = f(xs[i])`. A flat loop: written over chunks of 8, the loop vectoriser took the
/// chunks as its lanes and compiled each of their 8 positions to a gather and a scatter.
#[inline(always)]
fn lanes(xs: &[f64], out: &mut [f64], f: impl Fn(f64) -> f64) {
    for (x, o) in xs.iter().zip(out) {
        *o = f(*x);
    }
}

/// The blocks of one rayon task: blocks `block..block + scales.len()`, whose elements start at
/// index `start`; `codes` and `deq` hold exactly their elements.
struct Task<'a> {
    start: usize,
    block: usize,
    codes: CodesMut<'a>,
    deq: &'a mut [f64],
    scales: &'a mut [u64],
}

/// Blocks per run of [`Plan::task_grid`]: NVFP4's 16 blocks are 256 values, 2 KiB (8 blocks
/// took 1.11 times the time, 32 blocks 1.07, 64 blocks 1.25).
const RUN: usize = 16;

/// What [`Plan::task_grid`] finds of a block before its elements: the index of its first
/// element, its largest magnitude's bits and its effective scale (`None` for a block with a
/// NaN or Inf).
#[derive(Clone, Copy)]
struct Found {
    lo: usize,
    amax: u64,
    s: Option<f64>,
}

/// How pass 2 of [`Plan::task_engine`] finishes a block.
#[derive(Clone, Copy)]
enum Kind {
    /// NaN/Inf or zero scale: [`Plan::special`] with this scale.
    Special(Option<f64>),
    /// A nonzero scale S: the quotients formed as given.
    Scaled(f64),
}

/// The `floor`, `ceil` and `rceil` rules without a tensor scale as one formula on the bits of
/// amax: 2^(amax's exponent field − `field` + [amax's mantissa bits > `mant`] − `emax`),
/// clamped.
#[derive(Clone, Copy, Debug)]
struct Pow2Rule {
    /// `floor`: 1023 and all ones (never exceeded); `ceil`: 1023 and 0; `rceil`: the exponent
    /// field and mantissa bits of the element's largest value.
    field: i64,
    mant: u64,
    /// `floor`, `ceil`: the element's largest exponent; `rceil`: 0.
    emax: i64,
}

impl Pow2Rule {
    fn new(bf: &BlockFormat, tensor: f64) -> Option<Pow2Rule> {
        if tensor != 1.0 {
            return None;
        }
        let emax = bf.elem.format().emax() as i64;
        let max = bf.elem.max().to_bits();
        match bf.rule {
            ScaleRule::Floor => Some(Pow2Rule {
                field: 1023,
                mant: u64::MAX,
                emax,
            }),
            ScaleRule::Ceil => Some(Pow2Rule {
                field: 1023,
                mant: 0,
                emax,
            }),
            ScaleRule::Rceil => Some(Pow2Rule {
                field: (max >> 52) as i64,
                mant: max & ((1 << 52) - 1),
                emax: 0,
            }),
            ScaleRule::Even | ScaleRule::Nearest => None,
        }
    }
}

/// 1/s when s is a positive power of two whose reciprocal is a normal f64 (then x · (1/s) is
/// x / s exactly unless it is f64-subnormal).
fn pow2_inverse(s: f64) -> Option<f64> {
    let b = s.to_bits();
    let field = (b >> 52) as i64;
    (b & ((1u64 << 52) - 1) == 0 && (1..=2045).contains(&field))
        .then(|| f64::from_bits(((2046 - field) as u64) << 52))
}

/// (m, e) with |x| = m · 2^e, m ∈ [1, 2), for finite nonzero x (subnormals too).
fn split(x: f64) -> (f64, i64) {
    let a = x.abs();
    let (a, bias) = if a < f64::MIN_POSITIVE {
        (a * 2f64.powi(64), 64)
    } else {
        (a, 0)
    };
    let e = ((a.to_bits() >> 52) & 0x7FF) as i64 - 1023;
    let m = f64::from_bits((a.to_bits() & ((1u64 << 52) - 1)) | (1023u64 << 52));
    (m, e - bias)
}

/// ⌊log2(a / b)⌋ exactly, for finite positive a, b.
fn log2_floor_ratio(a: f64, b: f64) -> i64 {
    let ((ma, ea), (mb, eb)) = (split(a), split(b));
    ea - eb - (ma < mb) as i64
}

/// ⌈log2(a / b)⌉ exactly, for finite positive a, b.
fn log2_ceil_ratio(a: f64, b: f64) -> i64 {
    let ((ma, ea), (mb, eb)) = (split(a), split(b));
    ea - eb + (ma > mb) as i64
}

/// What [`quantize_rows_into`] returns besides the arrays it fills.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// The binary32 tensor scale (1 without one).
    pub tensor_scale: f64,
    /// Elements whose rounding overflowed the element format (saturated, under `Saturate`).
    pub saturated: usize,
}

impl BlockFormat {
    /// The number of blocks (scales) of an array of `len` values in rows of `row_len`, after
    /// checking the format and that the array splits into such rows (and, with a Hadamard
    /// transform, that every row is whole blocks).
    pub fn block_count(&self, len: usize, row_len: usize) -> Result<usize> {
        self.check()?;
        if row_len == 0 || !len.is_multiple_of(row_len) {
            return Err(Error::Invalid(format!(
                "an array of {len} values does not split into rows of {row_len}"
            )));
        }
        if self.hadamard && !row_len.is_multiple_of(self.block) {
            return Err(Error::Invalid(format!(
                "the Hadamard transform needs the last axis ({row_len}) to be a multiple of the block size ({})",
                self.block
            )));
        }
        Ok(len / row_len * row_len.div_ceil(self.block))
    }
}

/// Quantises `data`, a row-major array whose last axis has `row_len` entries: blocks of
/// `bf.block` along each row, the last block of a row ragged if `row_len` is not a multiple.
pub fn quantize_rows(
    bf: &BlockFormat,
    data: &[f64],
    row_len: usize,
    key: u64,
) -> Result<Quantized> {
    let mut codes = Codes::zeros(bf.elem.width(), data.len());
    let mut dequantized = vec![0.0f64; data.len()];
    let mut scales = vec![0u64; bf.block_count(data.len(), row_len)?];
    let out = Output {
        codes: codes.as_mut(),
        scales: &mut scales,
        dequantized: &mut dequantized,
    };
    let sum = quantize_with(bf, data, row_len, key, out, Paths::Fastest)?;
    Ok(Quantized {
        codes,
        scales,
        tensor_scale: sum.tensor_scale,
        dequantized,
        saturated: sum.saturated,
    })
}

/// [`quantize_rows`] into caller-provided arrays, which repeated calls can reuse: `codes` and
/// `dequantized` as long as `data`, `scales` one entry per block
/// ([`BlockFormat::block_count`]). `codes` of any [`Code`] type that holds the element format's
/// width (e.g. `u8` for FP4 to FP8 and int8; a narrower one is an error). Every entry is
/// written.
pub fn quantize_rows_into<C: Code>(
    bf: &BlockFormat,
    data: &[f64],
    row_len: usize,
    key: u64,
    codes: &mut [C],
    scales: &mut [u64],
    dequantized: &mut [f64],
) -> Result<Summary> {
    let out = Output {
        codes: C::codes_mut(codes),
        scales,
        dequantized,
    };
    quantize_with(bf, data, row_len, key, out, Paths::Fastest)
}

/// The arrays [`quantize_rows_into`] fills.
struct Output<'a> {
    codes: CodesMut<'a>,
    scales: &'a mut [u64],
    dequantized: &'a mut [f64],
}

/// Which element paths [`quantize_with`] may take: all but in the tests that compare them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Paths {
    /// The fastest that applies.
    Fastest,
    /// All but the grid (so that the engine's paths for FP4 elements are tested on CPUs where
    /// the grid takes them).
    #[cfg(test)]
    NoGrid,
    /// Every element through the exact quotient path.
    Exact,
}

/// [`quantize_rows_into`] by the element paths `paths`.
fn quantize_with(
    bf: &BlockFormat,
    data: &[f64],
    row_len: usize,
    key: u64,
    out: Output<'_>,
    paths: Paths,
) -> Result<Summary> {
    let Output {
        codes,
        scales,
        dequantized,
    } = out;
    let n_blocks = bf.block_count(data.len(), row_len)?;
    codes.check_width(bf.elem.width(), bf)?;
    for (name, len, want) in [
        ("codes", codes.len(), data.len()),
        ("dequantized", dequantized.len(), data.len()),
        ("scales", scales.len(), n_blocks),
    ] {
        if len != want {
            return Err(Error::Invalid(format!(
                "quantize_rows_into: `{name}` has {len} entries, expected {want} for {} values in rows of {row_len} ({bf})",
                data.len()
            )));
        }
    }
    let signs = hadamard::signs(hadamard_key(key), bf.block);
    // The transformed copy only with a Hadamard transform.
    let transformed = bf.hadamard.then(|| {
        let mut w = data.to_vec();
        w.par_chunks_mut(bf.block)
            .for_each(|b| hadamard::forward(b, &signs));
        w
    });
    let work = transformed.as_deref().unwrap_or(data);
    let tensor = if bf.tensor_scale {
        tensor_scale(bf, work)
    } else {
        1.0
    };
    let mut plan = Plan::new(bf, row_len, tensor, key);
    if paths != Paths::Fastest {
        plan.grid = None;
    }
    if paths == Paths::Exact {
        plan.engine = None;
        plan.rne = None;
        plan.sr = None;
        plan.scale_rne = None;
        plan.pow2_rule = None;
    }

    // Block boundaries tile the array; group them into tasks of about 16k elements.
    let per_task = (16384 / bf.block).max(1);
    let mut tasks = Vec::with_capacity(n_blocks.div_ceil(per_task));
    {
        let (mut c_rest, mut d_rest, mut s_rest) = (codes, dequantized, scales);
        let mut bounds = plan.blocks(0);
        let (mut b, mut start) = (0, 0);
        while b < n_blocks {
            let end = (b + per_task).min(n_blocks);
            let stop = bounds.nth(end - b - 1).map_or(start, |(_, hi)| hi);
            let (c, cr) = c_rest.split_at(stop - start);
            let (d, dr) = std::mem::take(&mut d_rest).split_at_mut(stop - start);
            let (s, sr) = std::mem::take(&mut s_rest).split_at_mut(end - b);
            (c_rest, d_rest, s_rest) = (cr, dr, sr);
            tasks.push(Task {
                start,
                block: b,
                codes: c,
                deq: d,
                scales: s,
            });
            (b, start) = (end, stop);
        }
    }
    let run = |t: Task<'_>| {
        let Task {
            start,
            block,
            codes,
            deq,
            scales,
        } = t;
        let n = scales.len();
        let sat = simd::task(
            &plan,
            work,
            Task {
                start,
                block,
                codes,
                deq: &mut *deq,
                scales,
            },
        );
        if bf.hadamard {
            for (lo, hi) in plan.blocks(block).take(n) {
                hadamard::inverse(&mut deq[lo - start..hi - start], &signs);
            }
        }
        sat
    };
    let saturated = if data.len() >= PARALLEL_THRESHOLD {
        tasks.into_par_iter().map(run).sum()
    } else {
        tasks.into_iter().map(run).sum()
    };
    Ok(Summary {
        tensor_scale: tensor,
        saturated,
    })
}

/// The binary32 tensor scale amax / (scale max · element max), rounded to nearest-even (NVFP4's
/// "global encode scale" inverted); 1 when the array has no finite nonzero value or the
/// quotient leaves binary32's normal range.
fn tensor_scale(bf: &BlockFormat, data: &[f64]) -> f64 {
    // A maximum does not depend on the order: reduce over chunks in parallel.
    let amax = data
        .par_chunks(1 << 14)
        .map(simd::max_finite_abs)
        .reduce(|| 0.0, f64::max);
    let smax = codec::to_f64(&bf.scale, bf.scale.max_finite(false));
    let d = smax * bf.elem.max();
    if amax == 0.0 || !d.is_finite() {
        return 1.0;
    }
    let b32 = Format::binary32();
    let r = quotient::round_quotient(&b32, amax, d, &Rounding::default(), 0, 0);
    let s = f32::from_bits(r.value as u32) as f64;
    if s.is_finite() && s >= f32::MIN_POSITIVE as f64 {
        s
    } else {
        1.0
    }
}

/// The largest finite magnitude in `xs` (0 if none), as lane-wise maxima over chunks of
/// [`LANES`] (f64 compares and selects, which vectorise on every x86-64; a NaN or Inf counts as
/// 0). Inlined into [`simd::max_finite_abs`]'s per-CPU copies.
#[inline(always)]
fn max_finite_abs(xs: &[f64]) -> f64 {
    let (chunks, tail) = xs.as_chunks::<LANES>();
    let mut m = [0.0f64; LANES];
    // Only the last select depends on the previous maximum.
    let step = |m: f64, x: f64| {
        let a = x.abs();
        let a = if a < f64::INFINITY { a } else { 0.0 };
        if a > m { a } else { m }
    };
    for ch in chunks {
        for (m, &x) in m.iter_mut().zip(ch) {
            *m = step(*m, x);
        }
    }
    let m = m.into_iter().fold(0.0, f64::max);
    tail.iter().fold(m, |m, &x| step(m, x))
}

#[cfg(test)]
mod tests;
