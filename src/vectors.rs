//! Test vectors in Berkeley TestFloat's line format, for any format and operation.
//!
//! A line is the operands, the expected result and the flags byte, in hex with sign and
//! exponent at the most-significant end, zero-padded to each type's width, separated by single
//! spaces (flags: bit 0 inexact, 1 underflow, 2 overflow, 3 divide-by-zero, 4 invalid).
//! Stochastic modes append the random words the rounding drew (16 hex digits each, joined by
//! `:`), so an implementation can be checked bit for bit.

use crate::arith::{Op, Operand};
use crate::codec::{self, Class};
use crate::error::{Error, Result};
use crate::flags::{Flagged, Flags};
use crate::format::Format;
use crate::mode::Rounding;
use crate::rng::{ElementStream, RandomSource, Recorder, Replay, Stream, derive_key};

/// How many cases to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Edge operands (exponent extremes × sparse significand patterns, specials), all
    /// combinations for one- and two-operand operations, plus random cases.
    One,
    /// Denser edge patterns, plus random cases.
    Two,
    /// Every operand combination (formats up to 8 bits for two- and three-operand operations,
    /// up to 16 bits for one-operand operations and conversions).
    All,
}

impl std::str::FromStr for Level {
    type Err = Error;
    fn from_str(s: &str) -> Result<Level> {
        match s {
            "1" => Ok(Level::One),
            "2" => Ok(Level::Two),
            "all" => Ok(Level::All),
            _ => Err(Error::Invalid(format!(
                "invalid level {s:?}: expected 1, 2 or all"
            ))),
        }
    }
}

/// One test case: operands and the expected result with its flags and random words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// Operand bit patterns.
    pub operands: Vec<u128>,
    /// Result bit pattern and flags.
    pub result: Flagged<u128>,
    /// Random words drawn (stochastic modes only).
    pub random: Vec<u64>,
}

/// Generates the operand tuples of a level: edge combinations first, then `random` seeded
/// random tuples (none for `Level::All`).
pub fn operand_sets(
    op: &Op,
    fmt: &Format,
    level: Level,
    random: usize,
    seed: u64,
) -> Result<Vec<Vec<u128>>> {
    let kinds = op.operands(fmt);
    let arity = kinds.len();
    if level == Level::All {
        let limit = if arity == 1 { 16 } else { 8 };
        let total_bits: u32 = kinds.iter().map(Operand::width).sum();
        if kinds.iter().any(|k| k.width() > limit) {
            return Err(Error::Invalid(format!(
                "--level all enumerates every operand combination: {op} on {fmt} would need 2^{total_bits} cases; \
                 it is offered for operands of at most 8 bits (16 bits for one-operand operations)"
            )));
        }
        let mut sets = Vec::with_capacity(1 << total_bits);
        for n in 0..(1u128 << total_bits) {
            let mut rest = n;
            let mut v = Vec::with_capacity(arity);
            for k in &kinds {
                v.push(rest & ((1u128 << k.width()) - 1));
                rest >>= k.width();
            }
            v.reverse();
            sets.push(v);
        }
        return Ok(sets);
    }
    let edges: Vec<Vec<u128>> = kinds.iter().map(|k| edge_operands(k, level)).collect();
    let mut sets: Vec<Vec<u128>> = match arity {
        1 => edges[0].iter().map(|&a| vec![a]).collect(),
        2 => edges[0]
            .iter()
            .flat_map(|&a| edges[1].iter().map(move |&b| vec![a, b]))
            .collect(),
        _ => {
            // Three operands: every edge pair against a rotating third edge operand.
            let (e0, e1, e2) = (&edges[0], &edges[1], &edges[2]);
            let mut v = Vec::new();
            for (i, &a) in e0.iter().enumerate() {
                for (j, &b) in e1.iter().enumerate() {
                    v.push(vec![a, b, e2[(i * 7 + j * 13) % e2.len()]]);
                }
            }
            v
        }
    };
    let mut stream = Stream::from_key(derive_key(seed, &[0x7e57]));
    for _ in 0..random {
        sets.push(
            kinds
                .iter()
                .map(|k| random_operand(k, &mut stream))
                .collect(),
        );
    }
    Ok(sets)
}

/// Runs one case through the library: the result and the random words it drew.
pub fn evaluate(
    op: &Op,
    fmt: &Format,
    operands: &[u128],
    rounding: &Rounding,
    key: u64,
    index: u64,
) -> Result<Case> {
    let mut source = ElementStream::new(key, index);
    let mut recorder = Recorder::new(&mut source);
    let result = op.apply(fmt, operands, rounding, &mut recorder)?;
    Ok(Case {
        operands: operands.to_vec(),
        result,
        random: recorder.words,
    })
}

/// Formats a case as one line; `stochastic` adds the random-words field (`-` when the
/// rounding drew none, as for exact results).
pub fn format_line(op: &Op, fmt: &Format, case: &Case, stochastic: bool) -> String {
    let mut fields: Vec<String> = op
        .operands(fmt)
        .iter()
        .zip(&case.operands)
        .map(|(k, &v)| hex_field(k, v))
        .collect();
    fields.push(hex_field(&op.result(fmt), case.result.value));
    fields.push(format!("{:02x}", case.result.flags.bits()));
    if stochastic {
        let words: Vec<String> = case.random.iter().map(|w| format!("{w:016x}")).collect();
        fields.push(if words.is_empty() {
            "-".into()
        } else {
            words.join(":")
        });
    }
    fields.join(" ")
}

fn hex_field(kind: &Operand, v: u128) -> String {
    format!("{:0w$x}", v, w = kind.width().div_ceil(4) as usize)
}

/// Parses a line: (operands, result, flags, random words). `stochastic` says whether a random
/// field is expected.
pub fn parse_line(op: &Op, fmt: &Format, line: &str, stochastic: bool) -> Result<Case> {
    let kinds = op.operands(fmt);
    let fields: Vec<&str> = line.split_whitespace().collect();
    let want = kinds.len() + 2 + stochastic as usize;
    if fields.len() != want {
        return Err(Error::Invalid(format!(
            "expected {want} fields ({} operand(s), result, flags{}), found {}",
            kinds.len(),
            if stochastic { ", random words" } else { "" },
            fields.len()
        )));
    }
    let hex = |text: &str, width: u32, what: &str| -> Result<u128> {
        let v = u128::from_str_radix(text, 16)
            .map_err(|_| Error::Invalid(format!("{what} {text:?} is not hex")))?;
        if width < 128 && v >> width != 0 {
            return Err(Error::Invalid(format!(
                "{what} {text:?} does not fit in {width} bits"
            )));
        }
        Ok(v)
    };
    let mut operands = Vec::with_capacity(kinds.len());
    for (i, k) in kinds.iter().enumerate() {
        operands.push(hex(fields[i], k.width(), &format!("operand {}", i + 1))?);
    }
    let result = hex(fields[kinds.len()], op.result(fmt).width(), "result")?;
    let flags_byte = hex(fields[kinds.len() + 1], 8, "flags")?;
    let flags = Flags::from_bits(flags_byte as u8)
        .ok_or_else(|| Error::Invalid(format!("flags {flags_byte:#x} has bits above bit 4")))?;
    let random = if stochastic && fields[want - 1] != "-" {
        fields[want - 1]
            .split(':')
            .map(|w| {
                u64::from_str_radix(w, 16)
                    .map_err(|_| Error::Invalid(format!("random word {w:?} is not 64-bit hex")))
            })
            .collect::<Result<Vec<u64>>>()?
    } else {
        Vec::new()
    };
    Ok(Case {
        operands,
        result: Flagged::new(result, flags),
        random,
    })
}

/// Recomputes a case (replaying its random words): the library's result.
pub fn recompute(op: &Op, fmt: &Format, case: &Case, rounding: &Rounding) -> Result<Flagged<u128>> {
    let mut replay = Replay::new(&case.random);
    op.apply(fmt, &case.operands, rounding, &mut replay)
}

/// Whether `got` matches `expected` for this operation: equal bits and flags, except that
/// any NaN matches any NaN of a float result unless `check_nans`.
pub fn matches(
    op: &Op,
    fmt: &Format,
    expected: &Flagged<u128>,
    got: &Flagged<u128>,
    check_nans: bool,
) -> bool {
    if expected.flags != got.flags {
        return false;
    }
    if expected.value == got.value {
        return true;
    }
    match op.result(fmt) {
        Operand::Float(f) if !check_nans => {
            codec::classify(&f, expected.value) == Class::Nan
                && codec::classify(&f, got.value) == Class::Nan
        }
        _ => false,
    }
}

/// The edge operands of a type: specials, zeros, exponent extremes × sparse significands.
fn edge_operands(kind: &Operand, level: Level) -> Vec<u128> {
    let mut v = match kind {
        Operand::Float(f) => edge_codes(f, level),
        Operand::Int { bits, signed } => edge_ints(*bits, *signed),
        Operand::Bool => vec![0, 1],
    };
    v.sort_unstable();
    v.dedup();
    v
}

fn edge_codes(f: &Format, level: Level) -> Vec<u128> {
    let (e, m) = (f.exp_bits(), f.man_bits());
    let top = f.exp_field_max();
    let bias = f.bias().clamp(0, top as i32) as u128;
    let reach: u128 = if level == Level::Two { 6 } else { 2 };
    let mut fields: Vec<u128> = Vec::new();
    if level == Level::Two && e <= 6 {
        fields.extend(0..=top);
    } else {
        for base in [0, bias, top] {
            for d in 0..=2 * reach {
                let x = (base + d).checked_sub(reach);
                if let Some(x) = x.filter(|&x| x <= top) {
                    fields.push(x);
                }
            }
        }
    }
    let all = if m == 0 { 0 } else { (1u128 << m) - 1 };
    let mut mans: Vec<u128> = vec![0, 1, all, all.saturating_sub(1), all >> 1];
    if m > 0 {
        let msb = 1u128 << (m - 1);
        mans.extend([msb, msb | 1, 2 & all, 3 & all]);
        if level == Level::Two {
            for k in 0..m {
                mans.push(1u128 << k);
                mans.push(all & !((1u128 << k) - 1));
                mans.push(all >> k);
            }
        }
    }
    let mut codes = Vec::new();
    for &field in &fields {
        for &man in &mans {
            let mag = (field << m) | (man & all);
            codes.push(mag);
            if f.is_signed() {
                codes.push(mag | f.sign_bit());
            }
        }
    }
    codes
}

fn edge_ints(bits: u32, signed: bool) -> Vec<u128> {
    let mask = if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    let mut v = vec![0u128, 1, 2, 3, mask, mask - 1];
    for k in 0..bits {
        let p = 1u128 << k;
        v.extend([p, p.wrapping_sub(1), p.wrapping_add(1), p.wrapping_neg()]);
    }
    if signed {
        let min = 1u128 << (bits - 1);
        v.extend([min, min - 1, min + 1]);
    }
    v.into_iter().map(|x| x & mask).collect()
}

fn random_operand(kind: &Operand, s: &mut Stream) -> u128 {
    let r = (s.next_u64() as u128) << 64 | s.next_u64() as u128;
    match kind {
        Operand::Float(f) => {
            // Half uniform codes, half with the exponent near the bias (values that interact).
            let code = r & f.code_mask();
            if r >> 127 == 1 || f.exp_bits() < 3 {
                code
            } else {
                let near = ((f.bias() as i128 + (r >> 100) as i128 % 8 - 4)
                    .clamp(0, f.exp_field_max() as i128)) as u128;
                (code & !(f.exp_field_max() << f.man_bits())) | (near << f.man_bits())
            }
        }
        Operand::Int { bits, .. } => {
            let mask = if *bits >= 128 {
                u128::MAX
            } else {
                (1u128 << bits) - 1
            };
            // Random magnitude width too, so small integers are common.
            let width = (r >> 120) as u32 % (*bits).max(1) + 1;
            (r & mask) >> (bits - width.min(*bits))
        }
        Operand::Bool => r & 1,
    }
}
