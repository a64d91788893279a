//! binary16, binary32, binary64 and binary128 arithmetic against Berkeley SoftFloat 3 (through
//! `softfloat-wrapper`, x86-SSE specialization) and the MPFR oracle; bfloat16 against the
//! oracle (the wrapper's BF16 goes through binary32, so it rounds twice).
//!
//! Operands: TestFloat-style edge operands (`vectors::operand_sets` level 1: exponents at the
//! extremes and around the bias × sparse significand patterns, specials, both signs; all pairs
//! for two-operand operations), seeded random operands, and cancellation cases (b ≈ −a for add,
//! c ≈ −a·b for fma) whose results are exact zeros and tiny differences. Unary operations on
//! binary16 and bfloat16 see every code. Integer conversions of odd and full widths (1, 3, 7,
//! 127, 128 bits) and conversions from other formats, which SoftFloat lacks or the previous
//! tests cover, are checked against the oracle only.
//!
//! Each case is checked three ways:
//! - `Op::apply` against `oracle::apply`: bits and flags equal, in all six deterministic modes
//!   (round-to-odd too) and with the saturating policy in some of the runs;
//! - `Op::apply` against SoftFloat in its five modes (IEEE overflow, tininess after rounding,
//!   SoftFloat's x86 default): flags equal; a NaN result only by class (SoftFloat propagates
//!   payloads, anyfloat returns the default NaN); a float→integer conversion that SoftFloat
//!   flags invalid only by the flag, since anyfloat saturates NaN and positive overflow to the
//!   maximum and negative overflow to the minimum, where the x86 specialization returns the
//!   "integer indefinite" pattern. Conversions to integers are SoftFloat's `exact` variants
//!   (anyfloat raises inexact whenever a conversion changes the value); `round_to_int` is the
//!   non-exact `roundToInt`.
//!
//! SoftFloat keeps its rounding mode and flags in thread-local variables, so each call clears
//! the flags and reads them on the same thread; rayon workers do not interfere.

mod common;

use anyfloat::arith::{Op, Operand};
use anyfloat::codec::{self, Class};
use anyfloat::rng::{NoRandom, RandomSource, Stream};
use anyfloat::vectors::{Level, operand_sets};
use anyfloat::{Flagged, Format, Overflow, Rounding, RoundingMode, Tininess, oracle};
use common::{Tally, report};
use num_traits::{NumCast, ToPrimitive};
use rayon::prelude::*;
use softfloat_wrapper::{ExceptionFlags, F16, F32, F64, F128, Float, RoundingMode as SfMode};

/// Which SoftFloat type checks a format (None: oracle only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sf {
    H,
    S,
    D,
    Q,
    None,
}

fn sf_mode(mode: RoundingMode) -> Option<SfMode> {
    Some(match mode {
        RoundingMode::NearestEven => SfMode::TiesToEven,
        RoundingMode::NearestAway => SfMode::TiesToAway,
        RoundingMode::TowardZero => SfMode::TowardZero,
        RoundingMode::TowardPositive => SfMode::TowardPositive,
        RoundingMode::TowardNegative => SfMode::TowardNegative,
        _ => return None,
    })
}

/// SoftFloat's result bits and flags for `op`, or None where it has no such operation.
fn softfloat<T: Float>(op: &Op, operands: &[u128], mode: SfMode) -> Option<(u128, u8)> {
    let f = |i: usize| T::from_bits(<T::Payload as NumCast>::from(operands[i]).unwrap());
    let bits = |x: T| x.to_bits().to_u128().unwrap();
    ExceptionFlags::from_bits(0).set();
    let r = match *op {
        Op::Add => bits(f(0).add(f(1), mode)),
        Op::Sub => bits(f(0).sub(f(1), mode)),
        Op::Mul => bits(f(0).mul(f(1), mode)),
        Op::Div => bits(f(0).div(f(1), mode)),
        Op::Rem => bits(f(0).rem(f(1), mode)),
        Op::Sqrt => bits(f(0).sqrt(mode)),
        Op::Fma => bits(f(0).fused_mul_add(f(1), f(2), mode)),
        Op::Eq { signaling: false } => f(0).eq(f(1)) as u128,
        Op::Eq { signaling: true } => f(0).eq_signaling(f(1)) as u128,
        Op::Lt { quiet: false } => f(0).lt(f(1)) as u128,
        Op::Lt { quiet: true } => f(0).lt_quiet(f(1)) as u128,
        Op::Le { quiet: false } => f(0).le(f(1)) as u128,
        Op::Le { quiet: true } => f(0).le_quiet(f(1)) as u128,
        Op::RoundToInt { exact: false } => bits(f(0).round_to_integral(mode)),
        Op::ToInt { bits: 32, signed } => {
            if signed {
                f(0).to_i32(mode, true) as u32 as u128
            } else {
                f(0).to_u32(mode, true) as u128
            }
        }
        Op::ToInt { bits: 64, signed } => {
            if signed {
                f(0).to_i64(mode, true) as u64 as u128
            } else {
                f(0).to_u64(mode, true) as u128
            }
        }
        Op::FromInt { bits: 32, signed } => {
            let x = operands[0] as u32;
            bits(if signed {
                T::from_i32(x as i32, mode)
            } else {
                T::from_u32(x, mode)
            })
        }
        Op::FromInt { bits: 64, signed } => {
            let x = operands[0] as u64;
            bits(if signed {
                T::from_i64(x as i64, mode)
            } else {
                T::from_u64(x, mode)
            })
        }
        _ => return None,
    };
    let mut flags = ExceptionFlags::default();
    flags.get();
    Some((r, flags.to_bits()))
}

fn softfloat_of(sf: Sf, op: &Op, operands: &[u128], mode: SfMode) -> Option<(u128, u8)> {
    match sf {
        Sf::H => softfloat::<F16>(op, operands, mode),
        Sf::S => softfloat::<F32>(op, operands, mode),
        Sf::D => softfloat::<F64>(op, operands, mode),
        Sf::Q => softfloat::<F128>(op, operands, mode),
        Sf::None => None,
    }
}

/// Whether anyfloat's `got` agrees with SoftFloat's `(bits, flags)` under the rules of the
/// module docs.
fn agrees(op: &Op, fmt: &Format, got: &Flagged<u128>, sf: (u128, u8)) -> bool {
    let (bits, flags) = sf;
    if got.flags.bits() != flags {
        return false;
    }
    match op.result(fmt) {
        Operand::Float(f) if codec::classify(&f, bits) == Class::Nan => {
            codec::classify(&f, got.value) == Class::Nan
        }
        Operand::Int { .. } if flags & 0x10 != 0 => true,
        _ => got.value == bits,
    }
}

/// One format under test.
struct Subject {
    fmt: Format,
    sf: Sf,
}

impl Subject {
    fn new(name: &str, sf: Sf) -> Subject {
        Subject {
            fmt: Format::parse(name).unwrap(),
            sf,
        }
    }

    /// Checks `op` on every operand tuple in every rounding of `rs` (once if the result does
    /// not depend on the rounding); reports mismatches to `tally`.
    fn check(&self, op: &Op, sets: &[Vec<u128>], rs: &[Rounding], tally: &Tally) {
        let rs = if op.rounds() { rs } else { &rs[..1] };
        sets.par_chunks(256).for_each(|chunk| {
            let mut out = Vec::new();
            for operands in chunk {
                for r in rs {
                    self.check_one(op, operands, r, &mut out);
                }
            }
            tally.add((chunk.len() * rs.len()) as u64, out);
        });
    }

    fn check_one(&self, op: &Op, operands: &[u128], r: &Rounding, out: &mut Vec<String>) {
        let fmt = &self.fmt;
        let got = op.apply(fmt, operands, r, &mut NoRandom).unwrap();
        let want = oracle::apply(op, fmt, operands, r).unwrap();
        if got != want {
            out.push(report(
                op,
                fmt,
                operands,
                r,
                ("arith", &got),
                ("oracle", &want),
            ));
        }
        let ieee = r.overflow == Overflow::Ieee && r.tininess == Tininess::AfterRounding;
        let sf = sf_mode(r.mode)
            .filter(|_| ieee)
            .and_then(|mode| softfloat_of(self.sf, op, operands, mode));
        if let Some(sf) = sf.filter(|&sf| !agrees(op, fmt, &got, sf)) {
            let sf = Flagged::new(sf.0, anyfloat::Flags::from_bits(sf.1).unwrap());
            out.push(report(
                op,
                fmt,
                operands,
                r,
                ("arith", &got),
                ("softfloat", &sf),
            ));
        }
    }
}

/// The roundings of a run: the six modes with IEEE overflow and tininess after rounding
/// (SoftFloat's setting), plus, with `policies`, rne, rtz and rup saturating with tininess
/// before rounding.
fn roundings(policies: bool) -> Vec<Rounding> {
    let mut rs: Vec<Rounding> = RoundingMode::DETERMINISTIC
        .into_iter()
        .map(Rounding::new)
        .collect();
    if policies {
        for mode in [
            RoundingMode::NearestEven,
            RoundingMode::TowardZero,
            RoundingMode::TowardPositive,
        ] {
            rs.push(Rounding {
                mode,
                overflow: Overflow::Saturate,
                tininess: Tininess::BeforeRounding,
            });
        }
    }
    rs
}

const TWO_OPERAND: [Op; 15] = [
    Op::Add,
    Op::Sub,
    Op::Mul,
    Op::Div,
    Op::Rem,
    Op::Min,
    Op::Max,
    Op::Minimum,
    Op::Maximum,
    Op::Eq { signaling: false },
    Op::Eq { signaling: true },
    Op::Lt { quiet: false },
    Op::Lt { quiet: true },
    Op::Le { quiet: false },
    Op::Le { quiet: true },
];

fn one_operand() -> Vec<Op> {
    let mut v = vec![
        Op::Sqrt,
        Op::RoundToInt { exact: false },
        Op::RoundToInt { exact: true },
    ];
    for bits in [32, 64] {
        for signed in [true, false] {
            v.push(Op::ToInt { bits, signed });
        }
    }
    v
}

fn from_int() -> Vec<Op> {
    let mut v = Vec::new();
    for bits in [32, 64] {
        for signed in [true, false] {
            v.push(Op::FromInt { bits, signed });
        }
    }
    v
}

/// Operations SoftFloat lacks, checked against the oracle only: odd and full-width integer
/// conversions, and conversions from other formats.
fn oracle_only() -> Vec<Op> {
    let mut v = Vec::new();
    for bits in [1, 3, 7, 127, 128] {
        for signed in [true, false] {
            v.push(Op::ToInt { bits, signed });
            v.push(Op::FromInt { bits, signed });
        }
    }
    for from in [
        "binary16",
        "bfloat16",
        "binary32",
        "binary64",
        "binary128",
        "e4m3",
        "e5m2",
    ] {
        v.push(Op::Convert {
            from: Format::parse(from).unwrap(),
        });
    }
    v
}

/// Cancellation cases: for random a and b, b' = −(a rounded) ± a few ulps for add, and
/// c = −(a·b rounded) ± a few ulps for fma.
fn cancellations(fmt: &Format, n: usize, seed: u64) -> (Vec<Vec<u128>>, Vec<Vec<u128>>) {
    let mut s = Stream::new(seed);
    let rne = Rounding::default();
    let sets = operand_sets(&Op::Fma, fmt, Level::One, n, seed).unwrap();
    let random = &sets[sets.len() - n..];
    let (mut adds, mut fmas) = (Vec::new(), Vec::new());
    for abc in random {
        let (a, b) = (abc[0], abc[1]);
        let ab = Op::Mul
            .apply(fmt, &[a, b], &rne, &mut NoRandom)
            .unwrap()
            .value;
        let delta = (s.next_u64() % 5) as i128 - 2;
        // (Wrapping: a binary128 code as i128 may be at its minimum.)
        let near =
            |x: u128| ((x ^ fmt.sign_bit()) as i128).wrapping_add(delta) as u128 & fmt.code_mask();
        adds.push(vec![a, near(a)]);
        fmas.push(vec![a, b, near(ab)]);
    }
    (adds, fmas)
}

/// The whole check of one format: edges and `random` random cases for every operation,
/// cancellations, and every code for one-operand operations if `exhaustive_unary`.
fn run(subject: &Subject, random: usize, exhaustive_unary: bool, policies: bool) {
    let start = std::time::Instant::now();
    let fmt = &subject.fmt;
    let rs = roundings(policies);
    let tally = Tally::new();
    for (i, op) in TWO_OPERAND.iter().enumerate() {
        let sets = operand_sets(op, fmt, Level::One, random, 100 + i as u64).unwrap();
        subject.check(op, &sets, &rs, &tally);
    }
    let sets = operand_sets(&Op::Fma, fmt, Level::One, random, 7).unwrap();
    subject.check(&Op::Fma, &sets, &rs, &tally);
    let (adds, fmas) = cancellations(fmt, random / 4, 8);
    subject.check(&Op::Add, &adds, &rs, &tally);
    subject.check(&Op::Fma, &fmas, &rs, &tally);
    for (i, op) in one_operand().iter().enumerate() {
        let sets = if exhaustive_unary {
            (0..1u128 << fmt.width()).map(|c| vec![c]).collect()
        } else {
            operand_sets(op, fmt, Level::One, random, 200 + i as u64).unwrap()
        };
        subject.check(op, &sets, &rs, &tally);
    }
    for (i, op) in from_int().iter().enumerate() {
        let sets = operand_sets(op, fmt, Level::One, random / 4, 300 + i as u64).unwrap();
        subject.check(op, &sets, &rs, &tally);
    }
    for (i, op) in oracle_only().iter().enumerate() {
        let sets = operand_sets(op, fmt, Level::One, random / 10, 400 + i as u64).unwrap();
        subject.check(op, &sets, &rs, &tally);
    }
    tally.finish(&format!("{fmt}"));
    eprintln!("{fmt}: {:.1} s", start.elapsed().as_secs_f64());
}

#[test]
fn binary16_matches_softfloat_and_the_oracle() {
    run(&Subject::new("binary16", Sf::H), 100_000, true, true);
}

#[test]
fn bfloat16_matches_the_oracle() {
    run(&Subject::new("bfloat16", Sf::None), 100_000, true, true);
}

#[test]
fn binary32_matches_softfloat_and_the_oracle() {
    run(&Subject::new("binary32", Sf::S), 100_000, false, true);
}

#[test]
fn binary64_matches_softfloat_and_the_oracle() {
    run(&Subject::new("binary64", Sf::D), 100_000, false, true);
}

#[test]
fn binary128_matches_softfloat_and_the_oracle() {
    run(&Subject::new("binary128", Sf::Q), 50_000, false, true);
}

#[test]
fn generic_formats_match_the_oracle() {
    // Without subnormals, without zero, unsigned, fnuz, odd biases, P3109, no specials,
    // 116 bits: every encoding rule away from the named formats.
    for name in [
        "e5m10ftz",
        "e8m10nz",
        "ue6m9",
        "e7m20fnuz",
        "e10m60b600",
        "binary24p12",
        "e3m20fin",
        "e15m100",
        "ue9m30nz",
    ] {
        run(&Subject::new(name, Sf::None), 10_000, false, true);
    }
}

#[test]
fn random_formats_match_the_oracle() {
    use anyfloat::Specials;
    // Seeded random formats: any widths (1..20 exponent bits, 0..126 mantissa bits), biases,
    // encodings, signedness, subnormals and zero, each on edge and random operands of every
    // operation in one rotating rounding.
    let mut s = Stream::new(77);
    let mut tested = 0;
    let all_rs = roundings(true);
    let ops: Vec<Op> = TWO_OPERAND
        .iter()
        .copied()
        .chain([Op::Fma])
        .chain(one_operand())
        .chain(oracle_only())
        .collect();
    while tested < 150 {
        let e = 1 + (s.next_u64() % 20) as u32;
        let m = match s.next_u64() % 3 {
            0 => (s.next_u64() % 4) as u32,
            1 => (s.next_u64() % 24) as u32,
            _ => (s.next_u64() % 127) as u32,
        };
        let limit = 1i64 << (e + 1);
        let bias = if s.next_u64().is_multiple_of(2) {
            (1i64 << (e - 1)) - 1
        } else {
            (s.next_u64() % (2 * limit as u64 + 1)) as i64 - limit
        };
        let specials = [
            Specials::Ieee,
            Specials::FiniteNan,
            Specials::Fnuz,
            Specials::Finite,
            Specials::P3109,
        ][(s.next_u64() % 5) as usize];
        let signed = !s.next_u64().is_multiple_of(4);
        let has_zero = !s.next_u64().is_multiple_of(5);
        let subnormals = has_zero && !s.next_u64().is_multiple_of(3);
        let Ok(fmt) = Format::new(e, m, bias as i32, signed, subnormals, has_zero, specials) else {
            continue;
        };
        tested += 1;
        let subject = Subject { fmt, sf: Sf::None };
        let tally = Tally::new();
        for (i, op) in ops.iter().enumerate() {
            let r = all_rs[(tested + i) % all_rs.len()];
            let mut sets = operand_sets(op, &fmt, Level::One, 300, tested as u64).unwrap();
            // Keep a sample of the edge combinations too.
            let keep = sets.len().min(600);
            let step = sets.len() / keep;
            sets = sets.into_iter().step_by(step.max(1)).collect();
            subject.check(op, &sets, &[r], &tally);
        }
        tally.finish(&format!("{fmt}"));
    }
}
