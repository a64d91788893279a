//! Helpers shared by the differential tests: a mismatch collector that keeps the first few
//! reports, and the operation lists.
#![allow(dead_code)]

use anyfloat::arith::Op;
use anyfloat::{Flagged, Format, Rounding, codec};
use std::fmt::Write as _;
use std::sync::Mutex;

/// Counts comparisons and mismatches (from any thread), keeping the first `KEEP` reports.
#[derive(Default)]
pub struct Tally {
    inner: Mutex<(u64, u64, String)>,
}

const KEEP: u64 = 30;

impl Tally {
    pub fn new() -> Tally {
        Tally::default()
    }

    /// Adds `checked` comparisons and the mismatch reports found among them.
    pub fn add(&self, checked: u64, reports: Vec<String>) {
        let mut g = self.inner.lock().unwrap();
        g.0 += checked;
        for r in reports {
            g.1 += 1;
            if g.1 <= KEEP {
                g.2.push_str(&r);
                g.2.push('\n');
            }
        }
    }

    /// Panics with the first reports if anything mismatched; returns the comparison count.
    pub fn finish(&self, what: &str) -> u64 {
        let g = self.inner.lock().unwrap();
        eprintln!("{what}: {} comparisons, {} mismatches", g.0, g.1);
        assert!(
            g.1 == 0,
            "{what}: {} mismatches (first ones):\n{}",
            g.1,
            g.2
        );
        g.0
    }
}

/// A mismatch report line for `op` on `operands`.
pub fn report(
    op: &Op,
    fmt: &Format,
    operands: &[u128],
    rounding: &Rounding,
    (got_name, got): (&str, &Flagged<u128>),
    (want_name, want): (&str, &Flagged<u128>),
) -> String {
    let mut s = String::new();
    let ops: Vec<String> = operands
        .iter()
        .zip(op.operands(fmt))
        .map(|(&c, k)| match k {
            anyfloat::arith::Operand::Float(f) => {
                format!("{} ({})", codec::hex(&f, c), codec::display_value(&f, c))
            }
            _ => format!("{c:#x}"),
        })
        .collect();
    let _ = write!(
        s,
        "{fmt} {op} {} {:?} {:?}: ({}) {got_name} {:#x} [{}], {want_name} {:#x} [{}]",
        rounding.mode,
        rounding.overflow,
        rounding.tininess,
        ops.join(", "),
        got.value,
        got.flags,
        want.value,
        want.flags
    );
    s
}

/// Two-operand operations, rounded ones first.
pub const BINARY_ROUNDED: [Op; 5] = [Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Rem];

/// Two-operand operations whose result does not depend on the rounding.
pub const BINARY_EXACT: [Op; 10] = [
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
