//! The fast element path of block quantisation: the quotients x / S of a group of blocks
//! rounded by the array engine's [`Kernel`] in one vectorised call, then checked, encoded and
//! dequantised by a branch-free loop per block ([`Engine::finish`]).
//!
//! Every element must be the rounding core's rounding of the exact quotient x / S. Two cases:
//! - S a power of two 2^k (E8M0 scales, every power-of-two rule, any scale whose significand is
//!   1): y = x · 2^−k is the exact quotient whenever y is a normal f64 (or x = 0), so the
//!   kernel's rounding of y is the element.
//! - otherwise q = x / S, correctly rounded, lies within one ulp of the exact quotient on one
//!   side. Rounding q then equals rounding the exact quotient when q is strictly inside a grid
//!   interval (every f64 grid point or midpoint between q and the exact quotient would have to
//!   be q itself) and, per mode, off what the mode compares: the midpoint for `rne`/`rna`; the
//!   r-bit subdivision for `sr:<r>` (the top r bits of the remainder); for exact `sr`, words
//!   within 2^(64−d) of the remainder's first 64 bits (d = bits q drops), which the exact
//!   quotient's remainder can differ from by less than that.
//!
//! The kernel rounds into a *wide* twin of the element format: two more exponent bits, the same
//! precision and smallest exponent, so the same grid up to the element format's largest finite
//! value and beyond it the grid the core rounds to with unbounded exponent. A wide rounding u
//! at most that maximum is the element; above it, the element overflowed (the saturation
//! count) and is the format's overflow result for its sign, mode and policy (±max, or ±Inf or
//! NaN, which the caller settles). So overflow is decided in the same vector pass as every
//! other element.
//!
//! [`Engine::finish`] settles every element that passes these tests; the caller finishes the
//! others, rare, one by one through the exact quotient path
//! ([`super::quotient::round_quotient_with`]): f64-subnormal quotients, inexact q on a grid
//! point or midpoint, a random word too close to the remainder, overflows whose result is ±Inf
//! or NaN, and negative values in unsigned formats.

use super::Element;
use crate::fast::Kernel;
use crate::format::{Format, Specials};
use crate::mode::{Rounding, RoundingMode};
use crate::rng;

/// Which inexact f64 quotients round like the exact quotient (see the module docs).
#[derive(Clone, Copy, Debug)]
enum Check {
    /// Inside a grid interval, off its midpoint (`rne`, `rna`).
    Nearest,
    /// Inside a grid interval (directed modes, `rto`, `sr-eq`).
    Inside,
    /// `sr:<r>`: off the grid refined by r bits.
    Bits(u64),
    /// Exact `sr` (and `sr:64`): the word far enough from the remainder's first 64 bits.
    Word,
}

const MANT: u64 = (1 << 52) - 1;
const SIGN: u64 = 1 << 63;
const INF: u64 = 0x7FF0_0000_0000_0000;

/// The code [`Engine::finish`] gives elements it leaves to the caller: no element code of a
/// format the engine takes (at most 61 bits).
pub(super) const UNSETTLED: u64 = u64::MAX;

/// The element format's kernel and encoding constants, built once per quantisation.
#[derive(Clone, Copy, Debug)]
pub(super) struct Engine {
    /// Rounds into the wide twin of the element format (see the module docs).
    kernel: Kernel,
    check: Check,
    /// Bits of the format's largest finite value.
    max: u64,
    /// Bits of the format's result of a positive overflow (max, Inf or NaN) ...
    overflow: u64,
    /// ... and their XOR with those of a negative overflow.
    overflow_flip: u64,
    /// The code of −0 (+0's code, 0, in a format without −0).
    neg_zero: u64,
    sign_bit: u128,
    /// 2^(M − emin): a subnormal value times this is its code.
    sub_scale: f64,
    /// Bits of 2^emin, the smallest normal value.
    min_normal: u64,
    /// 52 − M: a normal value's bits shifted right by this are its exponent field (f64 bias)
    /// and mantissa ...
    shift: u64,
    /// ... minus this, (1023 − bias) · 2^M, its code.
    rebias: u64,
    /// Whether the format is unsigned.
    unsigned: bool,
    /// Integer elements (`int<k>`): codes are two's complement of `k` bits (`int_mask`, all
    /// ones for float elements).
    int: bool,
    int_mask: u64,
    /// Added to a rounded value before it is dequantised: −0 keeps every value (and the sign
    /// of a float zero); +0 turns −0 into +0, the value of the integer code 0 and of a format
    /// without −0.
    zero_add: f64,
}

impl Engine {
    /// The engine for `fmt` with `rounding`, where the fast path applies: values in f64 with a
    /// spare bit (precision ≤ 51), subnormals and zero (the standard encoding), and room for two
    /// more exponent bits.
    pub(super) fn new(fmt: &Format, rounding: &Rounding) -> Option<Engine> {
        if !fmt.fits_in_f64()
            || fmt.precision() > 51
            || !fmt.has_subnormals()
            || !fmt.has_zero()
            || fmt.width() > 64
            || fmt.exp_bits() + 2 > 11
        {
            return None;
        }
        let wide = Format::new(
            fmt.exp_bits() + 2,
            fmt.man_bits(),
            fmt.bias(),
            fmt.is_signed(),
            true,
            true,
            Specials::Ieee,
        )
        .ok()
        .filter(|w| w.emin() == fmt.emin() && w.emax() > fmt.emax() && w.fits_in_f64())?;
        let check = match rounding.mode {
            RoundingMode::NearestEven | RoundingMode::NearestAway => Check::Nearest,
            RoundingMode::Stochastic {
                bits: None | Some(64),
            } => Check::Word,
            RoundingMode::Stochastic { bits: Some(r) } => Check::Bits(r as u64),
            _ => Check::Inside,
        };
        // 2^(emax + 1) lies above the largest finite value and on the grid, so every mode
        // rounds it to the overflow result.
        let narrow = Kernel::new(fmt, rounding).ok()?;
        let beyond = 2f64.powi(fmt.emax() + 1);
        let overflow = narrow.round_f64(beyond, 0).to_bits();
        Some(Engine {
            kernel: Kernel::new(&wide, rounding).ok()?,
            check,
            max: crate::codec::to_f64(fmt, fmt.max_finite(false)).to_bits(),
            overflow,
            overflow_flip: overflow ^ narrow.round_f64(-beyond, 0).to_bits(),
            neg_zero: fmt.zero(true)? as u64,
            sign_bit: fmt.sign_bit(),
            sub_scale: 2f64.powi(fmt.man_bits() as i32 - fmt.emin()),
            min_normal: 2f64.powi(fmt.emin()).to_bits(),
            shift: 52 - fmt.man_bits() as u64,
            rebias: ((1023 - fmt.bias() as i64) as u64) << fmt.man_bits(),
            unsigned: !fmt.is_signed(),
            int: false,
            int_mask: u64::MAX,
            // The wide twin has −0; a format without it (`fnuz`) rounds to +0 there.
            zero_add: if fmt.has_neg_zero() { -0.0 } else { 0.0 },
        })
    }

    /// The kernel that rounds into the element format's wide twin.
    pub(super) fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    /// This engine for the element type `elem` (whose format it was built for): integer
    /// elements get two's complement codes and dequantise −0 as +0.
    pub(super) fn for_element(self, elem: &Element) -> Engine {
        match *elem {
            Element::Float(_) => self,
            Element::Int { bits } => Engine {
                int: true,
                int_mask: u64::MAX >> (64 - bits),
                zero_add: 0.0,
                ..self
            },
        }
    }

    /// Rounds `src` into `dst` (equal lengths); element j is element `first + j` of the input.
    pub(super) fn round_into(&self, key: u64, first: u64, src: &[f64], dst: &mut [f64]) {
        self.kernel
            .round_slice_into(key, first, src, dst)
            .expect("the kernel's format fits in f64 and the lengths agree");
    }

    /// Finishes the group `g` (see [`GroupView`]) whose quotients the kernel rounded into
    /// `g.vs`: every element the fast path settles (see [`Engine::settled`]) gets its element
    /// code and dequantised value v·S; the others get the code [`UNSETTLED`] and keep their wide
    /// rounding in `vs`. One branch-free loop over the group, so that it vectorises. Returns
    /// whether any element was left, and how many settled elements overflowed (saturated).
    /// Element j is element `first + j` of the input. (Elements of blocks the caller finishes
    /// otherwise may hold anything: nothing here panics.)
    #[inline(always)]
    pub(super) fn finish(&self, g: &mut GroupView<'_>, key: u64, first: u64) -> (bool, usize) {
        // A local copy keeps the constants in registers (as in `fast::dispatch`): read through
        // the reference, a select between two per-sign constants is a load from a selected
        // address, which does not vectorise.
        let e = &{ *self };
        // One loop per check, the check a constant inside it.
        let all_exact = g.all_exact;
        let mut run = |c| e.finish_with(c, g.trimmed(), key, first);
        match (all_exact, self.check) {
            (true, _) => run(None),
            (false, Check::Nearest) => run(Some(Check::Nearest)),
            (false, Check::Inside) => run(Some(Check::Inside)),
            (false, Check::Bits(r)) => run(Some(Check::Bits(r))),
            (false, Check::Word) => run(Some(Check::Word)),
        }
    }

    /// [`Engine::finish`] with the check of inexact quotients given (`None`: every quotient is
    /// x·2^−k).
    #[inline(always)]
    fn finish_with(
        &self,
        check: Option<Check>,
        g: GroupView<'_>,
        key: u64,
        first: u64,
    ) -> (bool, usize) {
        let GroupView {
            xs,
            ys,
            ss,
            exact,
            vs,
            codes,
            ..
        } = g;
        let n = xs.len();
        let state = rng::state(key, first);
        let (mut left, mut saturated) = (0u64, 0u64);
        for j in 0..n {
            let w = match check {
                Some(Check::Word) => rng::mix(rng::advance(state, j as u64)),
                _ => 0,
            };
            let ex = check.is_none() | (exact[j] != 0);
            let u = vs[j];
            let (v, over) = self.element(u);
            let ok = self.settled(check.unwrap_or(Check::Inside), ex, xs[j], ys[j], v, w);
            codes[j] = if ok {
                self.code(self.encode(v) as u64)
            } else {
                UNSETTLED
            };
            vs[j] = if ok { (v + self.zero_add) * ss[j] } else { u };
            left |= !ok as u64;
            saturated += (ok & over) as u64;
        }
        (left != 0, saturated as usize)
    }

    /// The element and whether it overflowed, from its wide rounding `u` (finite; ±Inf where
    /// the wide format overflowed too; NaN for a negative value in an unsigned format, which is
    /// never settled): `u` itself up to the format's maximum, else the overflow result for its
    /// sign.
    #[inline(always)]
    fn element(&self, u: f64) -> (f64, bool) {
        let b = u.to_bits();
        let over = b & !SIGN > self.max;
        let result = f64::from_bits(self.overflow ^ (self.overflow_flip & sign_mask(b)));
        (if over { result } else { u }, over)
    }

    /// Whether [`Engine::finish`] settles the element x with quotient `y` (x·2^−k if `exact`,
    /// else x / S) and element `v`: a quotient that is exact or rounds like the exact one
    /// (`check`, random word `w`), a finite element (an overflow result may be ±Inf or NaN), and
    /// not negative in an unsigned format. `&` instead of `&&` keeps it branch-free.
    #[inline(always)]
    fn settled(&self, check: Check, exact: bool, x: f64, y: f64, v: f64, w: u64) -> bool {
        // Bit tests, not `is_normal`/`is_finite` (a classification that does not vectorise).
        let (xb, yb, vb) = (x.to_bits(), y.to_bits(), v.to_bits());
        let field = (yb >> 52) & 0x7FF;
        let y_normal = (field != 0) & (field != 0x7FF);
        let x_zero = xb & !SIGN == 0;
        let quotient_ok = x_zero | (y_normal & (exact | self.rounds_like_exact(check, y, w)));
        quotient_ok & (vb & !SIGN < INF) & !((yb & SIGN != 0) & self.unsigned)
    }

    /// Whether the inexact-or-exact correctly rounded normal quotient `q` rounds like the exact
    /// quotient under `check` (random word `w`): strictly inside a grid interval and off what
    /// the mode compares (see the module docs). Branch-free; shift counts are clamped where the
    /// result does not matter (the remainder is then zero).
    #[inline(always)]
    fn rounds_like_exact(&self, check: Check, q: f64, w: u64) -> bool {
        let (rem, d) = self.kernel.remainder(q);
        let off = match check {
            Check::Nearest => (d > 63) | (rem != 1u64 << (d.clamp(1, 64) - 1)),
            Check::Inside => true,
            Check::Bits(r) => (d > r) & (rem & ((1u64 << d.saturating_sub(r).min(63)) - 1) != 0),
            Check::Word => return word_decides(&self.kernel, q, w),
        };
        (rem != 0) & off
    }

    /// The element code of the format code `fc` (two's complement for integer elements).
    #[inline(always)]
    fn code(&self, fc: u64) -> u64 {
        let sign = self.sign_bit as u64;
        let n = fc & !sign;
        let twos = if fc & sign != 0 { n.wrapping_neg() } else { n } & self.int_mask;
        if self.int { twos } else { fc }
    }

    /// The code of a finite value of the format (the standard sign/exponent/mantissa layout),
    /// computed for every case and selected without branches (the cases are data dependent).
    #[inline(always)]
    fn encode(&self, v: f64) -> u128 {
        let b = v.to_bits();
        let a = b & !SIGN;
        let sign = self.sign_bit as u64 & sign_mask(b);
        let normal = sign | (a >> self.shift).wrapping_sub(self.rebias);
        // A subnormal's integer significand (< 2^51, exact), read from the low bits of
        // 2^52 + it (no float-to-integer conversion, which AVX2 lacks for 64 bits).
        const TWO52: f64 = (1u64 << 52) as f64;
        let sub = sign | ((f64::from_bits(a) * self.sub_scale + TWO52).to_bits() & MANT);
        let code = if a >= self.min_normal { normal } else { sub };
        let zero = self.neg_zero & sign_mask(b);
        (if a == 0 { zero } else { code }) as u128
    }
}

/// One group's buffers, as the element paths' finishing loops read and write them: inputs `xs`,
/// quotients `ys` — x·2^−k (S = 2^k) where `exact` is all ones, x / S where it is 0
/// (`all_exact`: all ones everywhere, and `exact` then not read) — nonzero scales `ss`, and the
/// values `vs` and codes `codes` they fill (`vs` holding the kernel's rounding for
/// [`Engine::finish`]).
pub(super) struct GroupView<'a> {
    pub xs: &'a [f64],
    pub ys: &'a [f64],
    pub ss: &'a [f64],
    pub exact: &'a [u64],
    pub all_exact: bool,
    pub vs: &'a mut [f64],
    pub codes: &'a mut [u64],
}

impl GroupView<'_> {
    /// The same buffers cut to the inputs' length, so that the compiler knows every index of
    /// a loop over `xs` is in bounds: no checks in the loops, which then vectorise.
    #[inline(always)]
    pub fn trimmed(&mut self) -> GroupView<'_> {
        let n = self.xs.len();
        GroupView {
            xs: self.xs,
            ys: &self.ys[..n],
            ss: &self.ss[..n],
            exact: &self.exact[..n],
            all_exact: self.all_exact,
            vs: &mut self.vs[..n],
            codes: &mut self.codes[..n],
        }
    }
}

/// Whether exact `sr` with the word `w` rounds the correctly rounded inexact quotient `q` (a
/// normal f64) of `kernel`'s grid as it rounds the exact quotient, which lies within one ulp of
/// q: q is strictly inside a grid interval and w is more than an ulp's worth from the first 64
/// bits of q's remainder (an ulp is 2^(64 − d) of them; 2 where d ≥ 64, for the truncation).
/// Branch-free; shift counts are clamped where the result does not matter.
#[inline(always)]
pub(super) fn word_decides(kernel: &Kernel, q: f64, w: u64) -> bool {
    let (rem, d) = kernel.remainder(q);
    let dd = d.clamp(1, 63);
    let (window, margin) = if d >= 64 {
        (rem >> (d - 64).min(63), 2)
    } else {
        (rem << (64 - dd), 1u64 << (64 - dd))
    };
    (rem != 0) & (w.abs_diff(window) > margin)
}

/// All ones if the f64 bits `b` are negative, else 0. Per-sign constants are picked with it by
/// bit operations: written as a select (or an index), the compiler moved each lane's sign to a
/// general register and picked there, eight scalar selects per vector.
#[inline(always)]
fn sign_mask(b: u64) -> u64 {
    ((b as i64) >> 63) as u64
}
