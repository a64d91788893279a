//! Regression tests for arithmetic bugs found by the differential tests against the oracle.

use anyfloat::arith::Op;
use anyfloat::rng::NoRandom;
use anyfloat::{Format, Rounding, oracle};

/// min/max/minimum/maximum returned the operand's bit pattern as given, so bits above the
/// format's width (which every other operation ignores) leaked into the result.
#[test]
fn min_max_results_are_codes_of_the_format() {
    let e4m3 = Format::parse("e4m3").unwrap();
    let r = Rounding::default();
    let junk = 0xabc << 8;
    for op in [
        Op::Min,
        Op::Max,
        Op::Minimum,
        Op::Maximum,
        Op::Add,
        Op::Lt { quiet: true },
    ] {
        for (a, b) in [(0x38, 0x40), (0x40, 0x38), (0x80, 0x00), (0x7f, 0x38)] {
            let clean = op.apply(&e4m3, &[a, b], &r, &mut NoRandom).unwrap();
            let dirty = op
                .apply(&e4m3, &[a | junk, b | junk], &r, &mut NoRandom)
                .unwrap();
            assert_eq!(dirty, clean, "{op}({a:#x}, {b:#x}) with high bits set");
            let want = oracle::apply(&op, &e4m3, &[a | junk, b | junk], &r).unwrap();
            assert_eq!(dirty, want, "{op}({a:#x}, {b:#x}) against the oracle");
        }
    }
}
