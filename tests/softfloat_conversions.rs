//! Conversions among binary16, binary32, binary64 and binary128 against Berkeley SoftFloat 3
//! (through `softfloat-wrapper`, x86-SSE specialization).
//!
//! All 12 directions, the 5 IEEE rounding modes SoftFloat's wrapper exposes, on edge codes
//! (every exponent field near the source's and the destination's extremes × sparse mantissa
//! patterns, including the destination's ties), specials, subnormals and random codes; all of
//! binary16 exhaustively. Result bits and exception flags must be equal; where SoftFloat returns
//! a NaN only "is NaN" is compared (its NaN payload propagation differs from anyfloat's default
//! NaN), together with the flags.
//!
//! SoftFloat keeps its rounding mode, tininess mode and exception flags in thread-local
//! variables (softfloat-sys builds them `_Thread_local`); each check clears the flags right
//! before the conversion and reads them right after, on the same thread, so parallel tests do
//! not interfere. The x86-SSE specialization detects tininess after rounding, the anyfloat
//! default, which is what this test uses. anyfloat's flags byte has TestFloat's layout, the same
//! as SoftFloat's `softfloat_flag_*` bits.

use anyfloat::codec::{self, Class};
use anyfloat::rng::{NoRandom, word};
use anyfloat::{Format, Rounding, RoundingMode, Tininess};
use softfloat_wrapper::{ExceptionFlags, F16, F32, F64, F128, Float, RoundingMode as SfMode};
use std::fmt::Write as _;

const MODES: [(SfMode, RoundingMode); 5] = [
    (SfMode::TiesToEven, RoundingMode::NearestEven),
    (SfMode::TiesToAway, RoundingMode::NearestAway),
    (SfMode::TowardZero, RoundingMode::TowardZero),
    (SfMode::TowardPositive, RoundingMode::TowardPositive),
    (SfMode::TowardNegative, RoundingMode::TowardNegative),
];

/// Random codes per source format and direction.
const RANDOM: u64 = 200_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum W {
    H,
    S,
    D,
    Q,
}

impl W {
    fn format(self) -> Format {
        Format::parse(match self {
            W::H => "binary16",
            W::S => "binary32",
            W::D => "binary64",
            W::Q => "binary128",
        })
        .unwrap()
    }
}

macro_rules! to_width {
    ($x:expr, $to:expr, $rnd:expr) => {
        match $to {
            W::H => $x.to_f16($rnd).to_bits() as u128,
            W::S => $x.to_f32($rnd).to_bits() as u128,
            W::D => $x.to_f64($rnd).to_bits() as u128,
            W::Q => $x.to_f128($rnd).to_bits(),
        }
    };
}

/// SoftFloat's conversion of `code` from `from` to `to` (different widths), with its flags.
fn softfloat(from: W, code: u128, to: W, rnd: SfMode) -> (u128, u8) {
    ExceptionFlags::from_bits(0).set();
    let r = match from {
        W::H => to_width!(F16::from_bits(code as u16), to, rnd),
        W::S => to_width!(F32::from_bits(code as u32), to, rnd),
        W::D => to_width!(F64::from_bits(code as u64), to, rnd),
        W::Q => to_width!(F128::from_bits(code), to, rnd),
    };
    let mut flags = ExceptionFlags::default();
    flags.get();
    (r, flags.to_bits())
}

struct Direction {
    from: W,
    to: W,
    src: Format,
    dst: Format,
    checked: u64,
    mismatches: u64,
    report: String,
}

impl Direction {
    fn new(from: W, to: W) -> Direction {
        Direction {
            from,
            to,
            src: from.format(),
            dst: to.format(),
            checked: 0,
            mismatches: 0,
            report: String::new(),
        }
    }

    fn check(&mut self, code: u128) {
        let code = code & self.src.code_mask();
        for (sf_mode, mode) in MODES {
            self.checked += 1;
            let (want, want_flags) = softfloat(self.from, code, self.to, sf_mode);
            let rounding = Rounding {
                tininess: Tininess::AfterRounding,
                ..Rounding::new(mode)
            };
            let got = codec::convert(&self.src, code, &self.dst, &rounding, &mut NoRandom);
            let want_nan = codec::classify(&self.dst, want) == Class::Nan;
            let got_nan = codec::classify(&self.dst, got.value) == Class::Nan;
            let same_value = if want_nan { got_nan } else { got.value == want };
            if !same_value || got.flags.bits() != want_flags {
                self.mismatches += 1;
                if self.mismatches <= 30 {
                    let _ = writeln!(
                        self.report,
                        "{} -> {} {mode}: input {} ({}): anyfloat {} [{}], softfloat {} [{}]",
                        self.src,
                        self.dst,
                        codec::hex(&self.src, code),
                        show(&self.src, code),
                        codec::hex(&self.dst, got.value),
                        got.flags,
                        codec::hex(&self.dst, want),
                        anyfloat::Flags::from_bits(want_flags)
                            .map_or_else(|| format!("{want_flags:#x}"), |f| f.to_string()),
                    );
                }
            }
        }
    }

    fn finish(self) -> (u64, u64, String) {
        (self.checked, self.mismatches, self.report)
    }
}

fn show(fmt: &Format, code: u128) -> String {
    match codec::decode(fmt, code) {
        anyfloat::Value::Finite(x) => x.to_hex_string(),
        other => format!("{other:?}"),
    }
}

/// Sparse mantissa patterns of an `m`-bit field, including the ties and near-ties of rounding
/// to `keep` bits (when `keep < m`).
fn mantissas(m: u32, keep: u32) -> Vec<u128> {
    let all = if m == 128 {
        u128::MAX
    } else {
        (1u128 << m) - 1
    };
    let mut v = vec![
        0,
        1,
        2,
        3,
        all,
        all - 1,
        all >> 1,
        (all >> 1) + 1,
        ((all >> 1) + 1) | 1,
    ];
    if keep < m {
        let k = m - keep; // dropped bits
        let half = 1u128 << (k - 1);
        let unit = 1u128 << k;
        for kept in [0u128, 1, 2, 3, (all >> k) - 1, all >> k] {
            let base = kept << k;
            for low in [half, half - 1, half + 1, unit - 1, 1] {
                v.push(base | (low & (unit - 1)));
            }
        }
    }
    v.retain(|&x| x <= all);
    v.sort_unstable();
    v.dedup();
    v
}

/// Exponent fields of the source worth visiting: its own extremes and, mapped into the source's
/// bias, the destination's subnormal range, smallest normals and largest finite binades.
fn fields(src: &Format, dst: &Format) -> Vec<u128> {
    let top = src.exp_field_max() as i64;
    let bias = src.bias() as i64;
    let mut v: Vec<i64> = vec![0, 1, 2, 3, bias - 1, bias, bias + 1, top - 2, top - 1, top];
    let p = dst.precision() as i64;
    for e in (dst.emin() as i64 - p - 3)..=(dst.emin() as i64 + 2) {
        v.push(e + bias);
    }
    for e in (dst.emax() as i64 - 2)..=(dst.emax() as i64 + 2) {
        v.push(e + bias);
    }
    v.retain(|&f| (0..=top).contains(&f));
    v.sort_unstable();
    v.dedup();
    v.into_iter().map(|f| f as u128).collect()
}

fn run(from: W, to: W) -> (u64, u64, String) {
    let mut d = Direction::new(from, to);
    let (src, dst) = (d.src, d.dst);
    let m = src.man_bits();
    let sign = src.sign_bit();
    if src.width() <= 16 {
        for code in 0..=src.code_mask() {
            d.check(code);
        }
    } else {
        let pats = mantissas(m, dst.man_bits().min(m));
        // Rounding into the destination's subnormals drops more bits: ties for those too.
        let sub_pats: Vec<u128> = if dst.man_bits() < m {
            (1..=dst.man_bits())
                .flat_map(|keep| mantissas(m, keep))
                .collect()
        } else {
            Vec::new()
        };
        for field in fields(&src, &dst) {
            for &man in pats.iter().chain(&sub_pats) {
                let code = (field << m) | man;
                d.check(code);
                d.check(code | sign);
            }
        }
        // Random codes: uniform bits, and uniform over the destination's exponent range.
        let seed = anyfloat::rng::derive_key(0x50F7, &[from as u64, to as u64]);
        let p = dst.precision() as i64;
        let (lo, hi) = (dst.emin() as i64 - p - 3, dst.emax() as i64 + 3);
        for i in 0..RANDOM {
            let r = ((word(seed, 3 * i) as u128) << 64) | word(seed, 3 * i + 1) as u128;
            if i % 2 == 0 {
                d.check(r);
            } else {
                let e = lo + (word(seed, 3 * i + 2) % (hi - lo + 1) as u64) as i64;
                let field = (e + src.bias() as i64).clamp(0, src.exp_field_max() as i64) as u128;
                d.check((r & (sign | src.man_mask())) | (field << m));
            }
        }
    }
    d.finish()
}

fn check_from(from: W) {
    let mut total = 0;
    let mut failures = String::new();
    for to in [W::H, W::S, W::D, W::Q] {
        if to == from {
            continue;
        }
        let (checked, mismatches, report) = run(from, to);
        eprintln!("{:?} -> {:?}: {checked} conversions compared", from, to);
        total += mismatches;
        failures.push_str(&report);
    }
    assert!(
        total == 0,
        "{total} mismatches with SoftFloat (first ones):\n{failures}"
    );
}

#[test]
fn from_binary16() {
    check_from(W::H);
}

#[test]
fn from_binary32() {
    check_from(W::S);
}

#[test]
fn from_binary64() {
    check_from(W::D);
}

#[test]
fn from_binary128() {
    check_from(W::Q);
}

/// SoftFloat's x86-SSE build detects tininess after rounding, as the test assumes: the largest
/// binary32 value that rounds up to binary16's smallest normal is inexact but not tiny.
#[test]
fn softfloat_detects_tininess_after_rounding() {
    // 2^-14 · (1 − 2^-12): rounds (ties-to-even, 11 bits) to 2^-14.
    let x = (2f32.powi(-14) * (1.0 - 2f32.powi(-12))).to_bits() as u128;
    let (r, flags) = softfloat(W::S, x, W::H, SfMode::TiesToEven);
    assert_eq!(r, 0x0400);
    assert_eq!(flags, anyfloat::Flags::INEXACT.bits());
}
