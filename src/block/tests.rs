//! The fast quotient path against the rounding core, bit for bit (codes and flags).

use super::quotient::{core_quotient, round_quotient};
use super::*;
use crate::rng::{RandomSource, Stream};

const FORMATS: [&str; 14] = [
    "e2m1",
    "e2m3",
    "e3m2",
    "e4m3",
    "e5m2",
    "e3m4",
    "e4m3fnuz",
    "binary8p3",
    "ue4m3",
    "ue5m3",
    "ue5m3fn",
    "bf16",
    "binary16",
    "e11m20",
];

fn modes() -> Vec<RoundingMode> {
    let mut m = RoundingMode::DETERMINISTIC.to_vec();
    m.extend([
        RoundingMode::Stochastic { bits: None },
        RoundingMode::Stochastic { bits: Some(3) },
        RoundingMode::Stochastic { bits: Some(64) },
        RoundingMode::StochasticEqual,
    ]);
    m
}

/// Divisors: powers of two, NVFP4-like scales (UE4M3 value · binary32 tensor scale), and
/// arbitrary f64 values.
fn divisors(s: &mut Stream) -> Vec<f64> {
    let mut d = vec![
        1.0,
        0.25,
        2f64.powi(-127),
        2f64.powi(20),
        1.0 / 224.0,
        3.0,
        6.0,
        448.0,
    ];
    for _ in 0..6 {
        let ue4m3 = (8.0 + (s.next_u64() % 8) as f64) * 2f64.powi((s.next_u64() % 20) as i32 - 12);
        let t = (s.next_f64() + 0.5) as f32 as f64;
        d.push(ue4m3 * t);
        d.push(s.next_normal().abs() + 1e-3);
    }
    d
}

fn check(fmt: &Format, x: f64, d: f64, r: &Rounding, key: u64, i: u64) {
    let fast = round_quotient(fmt, x, d, r, key, i);
    let core = core_quotient(fmt, x, d, r, key, i);
    assert_eq!(
        fast, core,
        "{fmt} {:?} {:?}: {x:e} / {d:e} (index {i})",
        r.mode, r.overflow
    );
}

#[test]
fn fast_quotient_equals_the_core_on_random_and_edge_values() {
    let mut s = Stream::new(11);
    for name in FORMATS {
        let fmt = Format::parse(name).unwrap();
        let codes: Vec<f64> = (0..(1u128 << fmt.width().min(9)))
            .map(|c| codec::to_f64(&fmt, c))
            .filter(|v| v.is_finite())
            .collect();
        for d in divisors(&mut s) {
            for mode in modes() {
                for sat in [false, true] {
                    let mut r = Rounding::new(mode);
                    if sat {
                        r = r.saturating();
                    }
                    // Codes, their midpoints and near-midpoints, times the divisor.
                    for w in codes.windows(2) {
                        let mid = (w[0] + w[1]) / 2.0;
                        for v in [w[0], mid, mid * (1.0 + 1e-15), mid * (1.0 - 1e-15)] {
                            let i = s.next_u64() % 1000;
                            check(&fmt, v * d, d, &r, 5, i);
                        }
                    }
                    // Just below the smallest normal (tininess after rounding).
                    let min_normal = 2f64.powi(fmt.emin());
                    for k in 1..30 {
                        let v = min_normal * (1.0 - 2f64.powi(-k));
                        check(&fmt, v * d, d, &r, 2, k as u64);
                        check(&fmt, -v * d, d, &r, 2, k as u64);
                    }
                    for i in 0..300u64 {
                        let mag = 2f64.powi((s.next_u64() % 40) as i32 - 20);
                        let x = s.next_normal() * mag;
                        check(&fmt, x, d, &r, 9, i);
                        check(&fmt, -x, d, &r, 9, i);
                    }
                    for x in [0.0, -0.0, 1e-300, 5e-324, 1e300, f64::INFINITY, f64::NAN] {
                        check(&fmt, x, d, &r, 1, 0);
                    }
                }
            }
        }
    }
}

#[test]
fn fast_quotient_equals_the_core_for_integer_elements() {
    let mut s = Stream::new(3);
    for bits in [2, 4, 8] {
        let fmt = Element::Int { bits }.format();
        for mode in modes() {
            let r = Rounding::new(mode).saturating();
            for i in 0..2000u64 {
                let x = s.next_normal() * 1.2;
                check(&fmt, x, 1.0, &r, 4, i);
                check(&fmt, (i % 300) as f64 / 128.0, 1.0, &r, 4, i);
            }
        }
    }
}

#[test]
fn integer_elements_have_the_symmetric_two_complement_grid() {
    let e = Element::Int { bits: 8 };
    assert_eq!(e.max(), 127.0 / 64.0);
    let f = e.format();
    let r = Rounding::new(RoundingMode::NearestEven).saturating();
    for n in -127i64..=127 {
        let c = round_quotient(&f, n as f64, 64.0, &r, 0, 0);
        assert!(c.flags.is_empty());
        let code = e.code(c.value);
        assert_eq!(code, (n as u64) & 0xFF);
        assert_eq!(e.value(code), n as f64 / 64.0);
    }
}

#[test]
fn exact_log2_ratios() {
    for (a, b, fl, ce) in [
        (8.0, 1.0, 3, 3),
        (7.99, 1.0, 2, 3),
        (1.0, 3.0, -2, -1),
        (6.0, 6.0, 0, 0),
        (5e-324, 1.0, -1074, -1074),
        (1.5, 1.0 / 224.0, 8, 9),
    ] {
        assert_eq!(log2_floor_ratio(a, b), fl, "{a}/{b}");
        assert_eq!(log2_ceil_ratio(a, b), ce, "{a}/{b}");
    }
}

#[test]
fn every_preset_takes_a_vectorised_path() {
    // The differential tests in tests/block.rs exercise the vectorised paths only where they
    // exist: the engine in every mode, its direct paths under `rne` (every preset's default)
    // and `sr` where the element is a float, and for FP4 elements the grid, which takes their
    // place (the tests here run the engine's paths for FP4 too, without the grid).
    for (name, _, _) in PRESETS {
        let bf = BlockFormat::preset(name).unwrap();
        assert_eq!(bf.rounding.mode, RoundingMode::NearestEven, "{name}");
        let float = matches!(bf.elem, Element::Float(_));
        // FP4 presets take the grid path instead, even with a tensor scale of 24 bits.
        let tensor = 1.0 + f32::EPSILON as f64;
        let grid = grid::Grid::new(&bf.elem, &bf.rounding)
            .filter(|g| g.fits(&bf.scale, bf.rule != ScaleRule::Nearest, tensor));
        assert_eq!(grid.is_some(), bf.elem.width() == 4 && float, "{name} grid");
        assert_eq!(
            rne::Rne::new(&bf.elem, &bf.rounding, true).is_some(),
            float,
            "{name}"
        );
        let sr = Rounding {
            mode: RoundingMode::Stochastic { bits: None },
            ..bf.rounding
        };
        let engine = engine::Engine::new(&bf.elem.format(), &sr).map(|e| e.for_element(&bf.elem));
        assert_eq!(
            sr::Sr::new(&bf.elem, &sr, engine.as_ref()).is_some(),
            float,
            "{name} sr"
        );
        for mode in modes() {
            let r = Rounding {
                mode,
                ..bf.rounding
            };
            assert!(
                engine::Engine::new(&bf.elem.format(), &r).is_some(),
                "{name} {mode:?}"
            );
        }
    }
}

#[test]
fn the_grid_path_rounds_as_the_core() {
    // Every FP4 float format the grid takes, in every mode it takes (and FP6, FP8 and E2M2 under
    // exact `sr`), with scales of every kind
    // `Grid::scaled` accepts: elements on each magnitude and each midpoint times S, their f64
    // neighbours, random quotients and f64 subnormals, either sign, by the portable loop and
    // by this CPU's kernels, against the core's rounding of x / S (code, dequantised value,
    // overflow count; under `sr` element j draws word j of the stream `KEY`). The boundaries
    // here come from decoding the format, not from `Grid`. Under exact `sr` also blocks whose
    // every element is planted within 2^12 of its word (f · 2^64 ≈ w): both kernels must
    // leave them undecided (with the margin check removed, they round some differently).
    const KEY: u64 = 0x5EED;
    let mut s = Stream::new(11);
    let (mut grids, mut blocks, mut planted) = (Vec::new(), 0, 0);
    // Blocks that both loops decided under exact `sr`, per format: a loop that never decides
    // passes every other check here.
    let mut decided_sr = std::collections::HashMap::new();
    let names = [
        "e2m1",
        "e2m1fn",
        "e3m0",
        "e2m1ieee",
        "e2m1fnuz",
        "ue2m1",
        "e2m2",
        "e4m3",
        "e5m2",
        "e3m2",
        "e2m3",
        "e2m1finftz",
        "e2m1ftz",
    ];
    for name in names {
        let fmt = Format::parse(name).unwrap();
        let elem = Element::Float(fmt);
        let mut mags: Vec<f64> = (0..1u128 << fmt.width())
            .map(|c| codec::to_f64(&fmt, c))
            .filter(|v| v.is_finite() && *v >= 0.0)
            .collect();
        mags.sort_by(f64::total_cmp);
        mags.dedup();
        let next = mags[mags.len() - 1] + 2f64.powi(fmt.emax() - fmt.man_bits() as i32);
        let mut points = mags.clone();
        points.push(next);
        points.extend(mags.windows(2).map(|w| (w[0] + w[1]) / 2.0));
        points.push((mags[mags.len() - 1] + next) / 2.0);
        let mut grid_points = mags.clone();
        grid_points.push(next);
        for mode in modes() {
            for saturating in [false, true] {
                let r = match saturating {
                    true => Rounding::new(mode).saturating(),
                    false => Rounding::new(mode),
                };
                let Some(grid) = grid::Grid::new(&elem, &r) else {
                    continue;
                };
                grids.push((name, mode, saturating));
                let mut scales = divisors(&mut s);
                // (The last ones make the upper boundaries' products overflow to +Inf.)
                scales.extend([
                    2f64.powi(-1020),
                    2f64.powi(-1000),
                    2f64.powi(1000),
                    1e300,
                    2f64.powi(1021),
                    1.5 * 2f64.powi(1022),
                ]);
                for sc in scales {
                    let Some(g) = grid.scaled(sc) else {
                        continue;
                    };
                    let mut xs = vec![0.0, -0.0, 5e-324, -1e-310];
                    for &p in &points {
                        let b = p * sc;
                        xs.extend([b, b.next_down(), b.next_up()]);
                    }
                    xs.extend((0..40).map(|_| s.next_normal() * 3.0 * sc));
                    // Quotients across the whole range (FP8's upper binades), far past the
                    // largest magnitude, and (for tiny S) past f64's range: |x| · fl(1/S) = Inf.
                    let top = mags[mags.len() - 1];
                    xs.extend((0..20).map(|_| s.next_f64() * top * sc));
                    xs.extend([next * 4.0 * sc, next * 1e6 * sc, 1e300, f64::MAX]);
                    let neg: Vec<f64> = xs.iter().map(|x| -x).collect();
                    xs.extend(neg);
                    xs.retain(|x| x.is_finite());
                    let ctx = format!("{name} {mode:?} saturating {saturating}, S = {sc:e}");
                    let both = check_grid_block(&g, &fmt, &r, &xs, sc, KEY, &ctx);
                    blocks += both as usize;
                    if mode == (RoundingMode::Stochastic { bits: None }) {
                        *decided_sr.entry(name).or_insert(0) += both as usize;
                    }
                    if g.sr.is_some() {
                        // f · 2^64 within 2^12 of the element's own word.
                        let xs: Vec<f64> = (0..xs.len() as u64)
                            .map(|j| {
                                let k = (s.next_u64() % (grid_points.len() as u64 - 1)) as usize;
                                let (lo, hi) = (grid_points[k], grid_points[k + 1]);
                                let w = rng::word(KEY, j) as f64 * 2f64.powi(-64);
                                (lo + (hi - lo) * w) * sc
                            })
                            .collect();
                        // (Also whole vectors only, so that no tail settles it for the kernel.)
                        let mut decided = 0;
                        let lens = [xs.len(), xs.len() / 8 * 8];
                        for (best, n) in
                            [false, true].into_iter().flat_map(|b| lens.map(|n| (b, n)))
                        {
                            let xs = &xs[..n];
                            let (mut codes, mut vs) = (vec![0; n], vec![0.0; n]);
                            let state = rng::state(KEY, 0);
                            let got = simd::apply_grid(best, &g, xs, &mut codes, &mut vs, state);
                            decided += got.is_some() as usize;
                        }
                        assert_eq!(decided, 0, "{ctx}: planted words");
                        planted += 1;
                    }
                }
            }
        }
    }
    // E2M1 under `rne`, `rna`, `rtz` and exact `sr` (e2m1fn, with a NaN, only where overflow
    // saturates or cannot happen), as `Grid::new` documents; never a directed mode, `sr:r`,
    // `sr-eq`, a format without −0 or subnormals, and one with more than eight magnitudes only
    // under exact `sr`.
    for (name, saturating) in [("e2m1", false), ("e2m1", true), ("e2m1fn", true)] {
        for mode in [
            RoundingMode::NearestEven,
            RoundingMode::NearestAway,
            RoundingMode::TowardZero,
            RoundingMode::Stochastic { bits: None },
        ] {
            let case = (name, mode, saturating);
            assert!(grids.contains(&case), "{case:?}");
        }
    }
    // Formats with fewer magnitudes (e3m0, e2m1ieee) where overflow gives the largest value.
    for name in ["e3m0", "e2m1ieee"] {
        let case = (name, RoundingMode::NearestEven, true);
        assert!(grids.contains(&case), "{case:?}");
    }
    // FP8, FP6 and the 5-bit e2m2 under exact `sr`, saturating.
    for name in ["e4m3", "e5m2", "e3m2", "e2m3", "e2m2"] {
        let case = (name, RoundingMode::Stochastic { bits: None }, true);
        assert!(grids.contains(&case), "{case:?}");
    }
    // Without subnormals the field-0 codes decode to values the core flushes: not a grid.
    for (name, mode, _) in &grids {
        let never = ["e2m1fnuz", "ue2m1", "e2m1finftz", "e2m1ftz"];
        assert!(!never.contains(name), "{name}");
        let wide = ["e2m2", "e4m3", "e5m2", "e3m2", "e2m3"];
        assert!(
            !wide.contains(name) || *mode == RoundingMode::Stochastic { bits: None },
            "{name} {mode:?}"
        );
        assert!(
            matches!(
                mode,
                RoundingMode::NearestEven
                    | RoundingMode::NearestAway
                    | RoundingMode::TowardZero
                    | RoundingMode::Stochastic { bits: None }
            ),
            "{mode:?}"
        );
    }
    assert!(blocks > 400 && planted > 40, "{blocks} {planted}");
    for name in ["e2m1", "e4m3", "e5m2", "e3m2", "e2m3", "e2m2"] {
        let n = decided_sr.get(name).copied().unwrap_or(0);
        assert!(n >= 10, "{name}: {n} sr blocks decided");
    }
}

/// Rounds `xs` with the scaled grid `g` (scale `sc` of the element format `fmt` under `r`,
/// element j drawing word j of the stream `key`) by the portable loop and this CPU's kernel
/// and asserts each agrees with the core where it decides the block (`sr` may leave one,
/// with probability about 33 · 2^−(52 − M) per element; the deterministic modes never).
/// Returns whether both decided.
fn check_grid_block(
    g: &grid::Scaled,
    fmt: &Format,
    r: &Rounding,
    xs: &[f64],
    sc: f64,
    key: u64,
    ctx: &str,
) -> bool {
    let n = xs.len();
    let (mut over, mut want) = (0, Vec::with_capacity(n));
    for (j, &x) in xs.iter().enumerate() {
        let core = core_quotient(fmt, x, sc, r, key, j as u64);
        over += core.flags.contains(Flags::OVERFLOW) as u64;
        let v = codec::to_f64(fmt, core.value) * sc;
        want.push((core.value as u64, v.to_bits()));
    }
    let amax = xs.iter().fold(0.0, |m: f64, x| m.max(x.abs()));
    let mut decided = true;
    for (how, kernel) in [("portable", false), ("kernel", true)] {
        let (mut codes, mut vs) = (vec![7u8; n], vec![-1.5; n]);
        let state = rng::state(key, 0);
        let got = simd::apply_grid(kernel, g, xs, &mut codes, &mut vs, state);
        let Some(got) = got else {
            assert!(g.sr.is_some(), "{ctx}, {how}: undecided");
            decided = false;
            continue;
        };
        assert_eq!(
            got + g.overflows(xs, amax) as u64,
            over,
            "{ctx}, {how}: overflows"
        );
        for (i, &x) in xs.iter().enumerate() {
            let have = (codes[i] as u64, vs[i].to_bits());
            assert_eq!(have, want[i], "{ctx}, {how}: x = {x:e}");
        }
    }
    decided
}

/// Blocks of `block` values of every kind the element path distinguishes: Gaussian data at
/// magnitudes from 2^−30 to 2^30, an outlier that flushes its block, signed zeros, NaN and ±Inf
/// (alone or among finite values), f64 subnormals, magnitudes near both ends of f64's range
/// (scales that overflow or underflow the scale format, quotients that are f64-subnormal),
/// values on and near the element grid, and blocks of one large value among tiny ones.
fn mixed_blocks(seed: u64, n_blocks: usize, block: usize) -> Vec<f64> {
    let mut s = Stream::new(seed);
    let mut x = Vec::with_capacity(n_blocks * block);
    for _ in 0..n_blocks {
        let kind = s.next_u64() % 11;
        let mag = 2f64.powi((s.next_u64() % 61) as i32 - 30);
        let pick = (s.next_u64() % block as u64) as usize;
        for j in 0..block {
            let g = s.next_normal();
            x.push(match kind {
                0 => g * mag,
                1 if j == pick => g * mag * 1e4,
                1 => g * mag,
                2 => [0.0, -0.0][j % 2],
                3 if j == pick => f64::NAN,
                4 if j == pick => [f64::INFINITY, f64::NEG_INFINITY][j % 2],
                3 | 4 => g,
                5 => g * [1e-310, 5e-324, 1e-300, 1.0][j % 4],
                6 => g * 2f64.powi(960 + (j % 63) as i32),
                7 => g * 2f64.powi(-1000 - (j % 50) as i32),
                8 if j == pick => 6.0 * mag,
                8 => g * mag * 1e-9,
                9 => ((s.next_u64() % 33) as f64 - 16.0) * 0.25 * mag,
                _ => {
                    // Midpoints of a 4-bit grid and their f64 neighbours.
                    let v = ((s.next_u64() % 16) as f64 + 0.5) * 0.25 * mag;
                    [v, v * (1.0 + 2f64.powi(-52)), v * (1.0 - 2f64.powi(-53))][j % 3]
                }
            });
        }
    }
    x
}

/// Quantises `x` (rows of `row_len`) through the element engine and through the exact
/// quotient path, into buffers holding junk, and asserts the two agree bit for bit: codes,
/// scales, dequantised values, tensor scale and saturation count; and that every element of a
/// block of finite values with a nonzero scale is the core's rounding of x / S. Returns the
/// number of elements compared with the core.
fn assert_fast_path_is_the_reference(
    bf: &BlockFormat,
    x: &[f64],
    row_len: usize,
    key: u64,
) -> usize {
    let n = bf.block_count(x.len(), row_len).unwrap();
    let run = |paths| {
        let (mut codes, mut scales, mut deq) =
            (vec![7u64; x.len()], vec![7; n], vec![-1.5; x.len()]);
        let out = Output {
            codes: CodesMut::U64(&mut codes),
            scales: &mut scales,
            dequantized: &mut deq,
        };
        let sum = quantize_with(bf, x, row_len, key, out, paths).unwrap();
        (codes, scales, deq, sum)
    };
    let (fast, reference) = (run(Paths::Fastest), run(Paths::Exact));
    let ctx = format!("{bf} {:?} rows of {row_len}", bf.rounding);
    // Where the grid takes the elements (FP4; FP6 and FP8 under exact `sr`), the engine's paths
    // it replaces against the exact path too.
    if grid::Grid::new(&bf.elem, &bf.rounding).is_some() {
        let engine = run(Paths::NoGrid);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(engine.0, reference.0, "{ctx}: codes without the grid");
        assert_eq!(engine.1, reference.1, "{ctx}: scales without the grid");
        assert!(
            bits(&engine.2) == bits(&reference.2),
            "{ctx}: values without the grid"
        );
        assert_eq!(engine.3, reference.3, "{ctx}: summary without the grid");
    }
    // Narrow codes (u8 where they fit) into junk: every one written, the same as in u64.
    if bf.elem.width() <= 8 {
        let (mut codes, mut scales, mut deq) =
            (vec![0xA5u8; x.len()], vec![7; n], vec![0.0; x.len()]);
        let out = Output {
            codes: CodesMut::U8(&mut codes),
            scales: &mut scales,
            dequantized: &mut deq,
        };
        quantize_with(bf, x, row_len, key, out, Paths::Fastest).unwrap();
        let wide: Vec<u64> = codes.iter().map(|&c| c.into()).collect();
        assert_eq!(wide, fast.0, "{ctx}: u8 codes");
    }
    assert_eq!(fast.1, reference.1, "{ctx}: scales");
    assert_eq!(fast.3, reference.3, "{ctx}: tensor scale, saturation count");
    let mut checked = 0;
    let ef = bf.elem.format();
    let per_row = row_len.div_ceil(bf.block);
    // `nearest` scales against the core's rounding of amax / (tensor scale · element max).
    if bf.rule == ScaleRule::Nearest && !bf.hadamard {
        let rounding = Rounding::new(RoundingMode::NearestEven).saturating();
        for (b, &code) in fast.1.iter().enumerate() {
            let (r, j) = (b / per_row, b % per_row);
            let lo = r * row_len + j * bf.block;
            let block = &x[lo..(lo + bf.block).min((r + 1) * row_len)];
            let amax = block.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            if block.iter().all(|v| v.is_finite()) && amax > 0.0 {
                let d = fast.3.tensor_scale * bf.elem.max();
                let core = core_quotient(&bf.scale, amax, d, &rounding, 0, 0).value as u64;
                assert_eq!(code, core, "{ctx}: block {b}, amax {amax:e}: scale");
                checked += 1;
            }
        }
    }
    for i in 0..x.len() {
        let (r, c) = (i / row_len, i % row_len);
        let b = r * per_row + c / bf.block;
        let msg = || {
            format!(
                "{ctx}: element {i} = {:e}, scale code {:#x}",
                x[i], fast.1[b]
            )
        };
        assert_eq!(fast.0[i], reference.0[i], "{}: code", msg());
        assert_eq!(
            fast.2[i].to_bits(),
            reference.2[i].to_bits(),
            "{}: {} vs {}",
            msg(),
            fast.2[i],
            reference.2[i]
        );
        let sv = codec::to_f64(&bf.scale, fast.1[b] as u128) * fast.3.tensor_scale;
        let lo = r * row_len + (c / bf.block) * bf.block;
        let block = &x[lo..(lo + bf.block).min((r + 1) * row_len)];
        if !bf.hadamard && sv != 0.0 && block.iter().all(|v| v.is_finite()) {
            let core = core_quotient(&ef, x[i], sv, &bf.rounding, key, i as u64);
            assert_eq!(fast.0[i], bf.elem.code(core.value), "{}: core", msg());
            checked += 1;
        }
    }
    checked
}

#[test]
fn the_vectorised_path_equals_the_exact_path_and_the_core() {
    // Every preset under every scale rule (and with a tensor scale, and for a few with the
    // Hadamard transform), in deterministic and stochastic modes, plus element formats that
    // are integers, unsigned, without negative zero or non-saturating; blocks ragged at the
    // end of each row (rows of 3 blocks + 5) and whole (rows of 4 blocks, and of one block,
    // 91 of them: the grid path's runs of 16 blocks, the last one short).
    let mut formats = Vec::new();
    for (name, _, _) in PRESETS {
        let bf = BlockFormat::preset(name).unwrap();
        for rule in ScaleRule::ALL {
            formats.push(BlockFormat { rule, ..bf });
        }
        formats.push(BlockFormat {
            tensor_scale: !bf.tensor_scale,
            ..bf
        });
    }
    let custom = |e: &str, sc: &str, block, rule| {
        BlockFormat::new(
            Element::parse(e).unwrap(),
            parse_scale(sc).unwrap(),
            block,
            rule,
        )
    };
    formats.extend([
        custom("int4", "ue5m3", 16, ScaleRule::Nearest),
        // The widest element a tensor scale allows (29 significant bits; see the next test).
        BlockFormat {
            tensor_scale: true,
            ..custom("int30", "ue4m3", 16, ScaleRule::Nearest)
        },
        custom("ue4m3", "e8m0", 32, ScaleRule::Floor),
        custom("e4m3fnuz", "exact", 8, ScaleRule::Nearest),
        BlockFormat {
            rounding: Rounding::new(RoundingMode::NearestEven),
            ..custom("e5m2", "ue4m3", 16, ScaleRule::Nearest)
        },
        BlockFormat {
            rounding: Rounding::new(RoundingMode::NearestEven),
            ..custom("e2m1", "e8m0", 32, ScaleRule::Floor)
        },
        BlockFormat {
            hadamard: true,
            ..BlockFormat::preset("mxfp4").unwrap()
        },
        BlockFormat {
            hadamard: true,
            ..BlockFormat::preset("nvfp4").unwrap()
        },
    ]);
    let mut checked = 0;
    for (f, bf) in formats.iter().enumerate() {
        for (m, mode) in ["rne", "sr", "rtz", "rna", "rup", "sr:3", "sr-eq"]
            .iter()
            .enumerate()
        {
            let mut bf = *bf;
            bf.rounding.mode = mode.parse().unwrap();
            let seed = (f * 10 + m) as u64;
            let x = mixed_blocks(seed, 96, bf.block);
            let ragged = 3 * bf.block + 5;
            if !bf.hadamard {
                let rows = x.len() / ragged;
                checked +=
                    assert_fast_path_is_the_reference(&bf, &x[..rows * ragged], ragged, seed);
            }
            checked += assert_fast_path_is_the_reference(&bf, &x, 4 * bf.block, seed + 1);
            let short = &x[..91 * bf.block];
            checked += assert_fast_path_is_the_reference(&bf, short, bf.block, seed + 2);
        }
    }
    assert!(checked > 500_000, "{checked}");
}

#[test]
fn the_grid_runs_hold_across_tasks_and_undecided_scales() {
    // Arrays of several rayon tasks (about 16k values each), so that runs start past a task's
    // first element: NVFP4's blocks of 16 (1024 per task) and E2M1 blocks of 24 with UE4M3
    // scales (682 per task: a short run at each task's end).
    let e24 = BlockFormat::new(
        Element::parse("e2m1").unwrap(),
        parse_scale("ue4m3").unwrap(),
        24,
        ScaleRule::Nearest,
    );
    let mut checked = 0;
    for (f, bf) in [BlockFormat::preset("nvfp4").unwrap(), e24]
        .iter()
        .enumerate()
    {
        for mode in ["rne", "sr", "rtz"] {
            let mut bf = *bf;
            bf.rounding.mode = mode.parse().unwrap();
            let x = mixed_blocks(40 + f as u64, 40_000 / bf.block, bf.block);
            checked += assert_fast_path_is_the_reference(&bf, &x, x.len(), 9);
        }
    }
    // Blocks whose largest magnitude is 6 · m, m a midpoint of UE4M3 (and its f64 neighbours),
    // among ordinary blocks: the `nearest` scale's vectorised rounding leaves those blocks to
    // the scalar rule within a run (asserted), the others it decides.
    let mut bf = BlockFormat::preset("nvfp4").unwrap();
    bf.tensor_scale = false;
    let ue4m3 = parse_scale("ue4m3").unwrap();
    let rounding = Rounding::new(RoundingMode::NearestEven).saturating();
    let rne = Rne::for_format(&ue4m3, &rounding, true).unwrap();
    let mut s = Stream::new(3);
    let mut x = Vec::new();
    let mut undecided = 0;
    for b in 0..640 {
        let mut block: Vec<f64> = (0..bf.block).map(|_| s.next_normal()).collect();
        if b % 3 != 0 {
            let m = (1.0 + ((s.next_u64() % 8) * 2 + 1) as f64 / 16.0)
                * 2f64.powi((s.next_u64() % 8) as i32 - 4);
            let amax = f64::from_bits((6.0 * m).to_bits() + s.next_u64() % 3 - 1);
            undecided += !rne.round_scale_lane(amax, 1.0 / 6.0).2 as usize;
            block
                .iter_mut()
                .for_each(|v| *v = v.clamp(-0.9, 0.9) * amax);
            block[(s.next_u64() % 16) as usize] = -amax;
        }
        x.extend(block);
    }
    assert!(undecided > 300, "{undecided} undecided scales");
    for mode in ["rne", "sr", "rtz", "rna"] {
        bf.rounding.mode = mode.parse().unwrap();
        checked += assert_fast_path_is_the_reference(&bf, &x, 4 * bf.block, 5);
    }
    assert!(checked > 150_000, "{checked}");
}

#[test]
fn a_tensor_scale_needs_exact_products_with_the_largest_element() {
    // scale max · element max, tensor scale · element max (`rceil`, `nearest`) and block scale
    // · tensor scale (`nearest`) must be exact in binary64; where scale max · element max
    // overflows the tensor scale is 1 and nothing is refused.
    let bf = |elem: &str, scale: &str, rule| BlockFormat {
        tensor_scale: true,
        ..BlockFormat::new(
            Element::parse(elem).unwrap(),
            parse_scale(scale).unwrap(),
            16,
            rule,
        )
    };
    use ScaleRule::*;
    let refused = [
        ("int31", "ue4m3", Nearest, "largest element"),
        ("int32", "e8m0", Rceil, "largest element"),
        ("binary32", "e8m30", Floor, "largest scale"),
        ("e2m1", "e8m30", Nearest, "block scale"),
    ];
    for (elem, scale, rule, what) in refused {
        let err = bf(elem, scale, rule).check().unwrap_err().to_string();
        assert!(
            err.contains(what) && err.contains("exact"),
            "{elem} {scale} {rule}: {err}"
        );
        assert!(
            BlockFormat {
                tensor_scale: false,
                ..bf(elem, scale, rule)
            }
            .check()
            .is_ok()
        );
    }
    let allowed = [
        ("int30", "ue4m3", Nearest),
        ("int32", "e8m0", Floor),
        ("e2m1", "exact", Nearest),
        ("int2", "exact", Floor),
        ("e2m1", "e8m28", Nearest),
        ("e2m1", "e8m30", Floor),
        ("binary32", "e8m0", Nearest),
    ];
    for (elem, scale, rule) in allowed {
        assert!(
            bf(elem, scale, rule).check().is_ok(),
            "{elem} {scale} {rule}"
        );
    }
}

#[test]
fn quantize_rows_into_checks_its_buffers_and_reuses_them() {
    let bf = BlockFormat::preset("nvfp4").unwrap();
    let x = mixed_blocks(1, 40, 16);
    let q = quantize_rows(&bf, &x, 80, 3).unwrap();
    let (mut c, mut s, mut d) = (vec![1u8; x.len()], vec![1; 40], vec![1.0; x.len()]);
    for _ in 0..2 {
        let sum = quantize_rows_into(&bf, &x, 80, 3, &mut c, &mut s, &mut d).unwrap();
        assert_eq!(
            (sum.tensor_scale, sum.saturated),
            (q.tensor_scale, q.saturated)
        );
        assert_eq!((Codes::U8(c.clone()), &s), (q.codes.clone(), &q.scales));
        assert!(
            d.iter()
                .zip(&q.dequantized)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
    }
    let err = quantize_rows_into(&bf, &x, 80, 3, &mut c, &mut s[..39], &mut d).unwrap_err();
    assert!(
        err.to_string()
            .contains("`scales` has 39 entries, expected 40"),
        "{err}"
    );
    let err = quantize_rows_into(&bf, &x, 80, 3, &mut c[..5], &mut s, &mut d).unwrap_err();
    assert!(err.to_string().contains("`codes` has 5 entries"), "{err}");
    assert!(quantize_rows_into(&bf, &x, 7, 3, &mut c, &mut s, &mut d).is_err());
    // Any code type that holds the element's width: u64 too, the same codes.
    let mut wide = vec![0u64; x.len()];
    quantize_rows_into(&bf, &x, 80, 3, &mut wide, &mut s, &mut d).unwrap();
    assert_eq!(wide, q.codes.to_u64());
    // Not u8 for 16-bit elements.
    let bf16 = BlockFormat::new(
        Element::parse("binary16").unwrap(),
        parse_scale("e8m0").unwrap(),
        32,
        ScaleRule::Floor,
    );
    let err = quantize_rows_into(&bf16, &x, 80, 3, &mut c, &mut s[..3], &mut d).unwrap_err();
    assert!(
        err.to_string().contains("take 16 bits; a u8 array"),
        "{err}"
    );
    let q16 = quantize_rows(&bf16, &x, 80, 3).unwrap();
    assert!(matches!(q16.codes, Codes::U16(ref v) if v.len() == x.len()));
}

/// Blocks under the `nearest` rule with `exact` (binary64) scales, so that S = amax / max has
/// a full significand: their largest value amax, the others x with an *inexact* f64 quotient
/// x / S that lands exactly on a positive grid point or midpoint of the element format below
/// its largest value (the exact quotient just off it, on either side), or else an f64
/// neighbour of such a point times S: what the element paths' checks must hand to the exact
/// quotient path. (With a scale of few significant bits, such as UE4M3's, an inexact quotient
/// never lands on such a point.) Runs of 16 blocks (a group of the element paths, for blocks
/// of 16) alternate between midpoints and grid points, so that a path that wrongly settles
/// one kind is not hidden by the other sending the whole group to the exact path. Returns the
/// blocks and how many inexact quotients land.
fn quotients_on_the_grid(bf: &BlockFormat, seed: u64, n_blocks: usize) -> (Vec<f64>, usize) {
    let max = bf.elem.max();
    let mut grid: Vec<f64> = (0..1u64 << bf.elem.width())
        .map(|c| bf.elem.value(c))
        .filter(|v| v.is_finite() && *v > 0.0 && *v < max)
        .collect();
    grid.sort_by(f64::total_cmp);
    let mids: Vec<f64> = grid.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect();
    let mut s = Stream::new(seed);
    let (mut x, mut landed) = (Vec::new(), 0);
    for b in 0..n_blocks {
        let points = if (b / 16) % 2 == 0 { &mids } else { &grid };
        let amax = (1.0 + s.next_f64()) * 2f64.powi((s.next_u64() % 9) as i32 - 4);
        let scale = amax / max;
        let pick = (s.next_u64() % bf.block as u64) as usize;
        for j in 0..bf.block {
            if j == pick {
                x.push(amax);
                continue;
            }
            let t = points[(s.next_u64() % points.len() as u64) as usize];
            let sign = if s.next_u64() & 1 == 1 { -1.0 } else { 1.0 };
            let x0 = (t * scale).to_bits();
            let near = (0..=4u64)
                .flat_map(|d| [x0 + d, x0 - d])
                .map(f64::from_bits);
            let mut on_point = near.filter(|&v| v / scale == t && (-t).mul_add(scale, v) != 0.0);
            let v = match on_point.nth((s.next_u64() % 2) as usize) {
                Some(v) => {
                    landed += 1;
                    v
                }
                None => f64::from_bits(x0 + s.next_u64() % 3 - 1),
            };
            x.push(sign * v);
        }
    }
    (x, landed)
}

#[test]
fn quotients_landing_on_grid_points_and_midpoints_go_to_the_exact_path() {
    // E2M1 and E4M3 elements, in modes with every kind of check.
    for (f, elem) in ["e2m1", "e4m3"].iter().enumerate() {
        let bf = BlockFormat::new(
            Element::parse(elem).unwrap(),
            parse_scale("exact").unwrap(),
            16,
            ScaleRule::Nearest,
        );
        for (m, mode) in ["rne", "rna", "rtz", "rup", "sr", "sr:3"]
            .iter()
            .enumerate()
        {
            let mut bf = bf;
            bf.rounding.mode = mode.parse().unwrap();
            let seed = (f * 10 + m) as u64;
            let (x, landed) = quotients_on_the_grid(&bf, seed, 400);
            assert!(landed > x.len() / 4, "{bf}: {landed} of {}", x.len());
            assert_fast_path_is_the_reference(&bf, &x, 4 * bf.block, seed);
        }
    }
}

#[test]
fn nearest_scales_landing_on_midpoints_go_to_the_exact_path() {
    // amax / d (d = tensor scale · element max) lands on a midpoint of the scale format only
    // if d · midpoint has more bits than f64: a scale format of 29 significant bits (the most a
    // tensor scale allows, so that block scale · tensor scale is exact) under a binary32
    // tensor scale: d has about 26 bits, a midpoint 30. The first block holds the largest value G, which sets the tensor
    // scale; every other block's largest value is an f64 neighbour of d · m, m a midpoint of
    // the scale format, whose quotient by d is m but not exactly — and then blocks with the
    // other neighbours, whose quotients lie a few ulps beside m, where the fast path's
    // amax · fl(1/d) must round as the quotient. (With the midpoint test removed this fails.
    // It cannot tell the margin of 2^−51 from a smaller one, d being fixed: that rests on the
    // error bound in `Rne::round_scale`.)
    let mut bf = BlockFormat::new(
        Element::parse("e2m1").unwrap(),
        parse_scale("e5m28").unwrap(),
        16,
        ScaleRule::Nearest,
    );
    bf.tensor_scale = true;
    let mut s = Stream::new(5);
    let g = 3.0e6 * (1.0 + s.next_f64());
    let mut x = vec![g];
    x.resize(bf.block, 1.0);
    let d = tensor_scale(&bf, &x) * bf.elem.max();
    assert!(d != 1.0 * bf.elem.max(), "the tensor scale is 1");
    let mut landed = 0;
    for _ in 0..2000 {
        let k = s.next_u64() >> 36;
        let m = ((1u64 << 28) + k) as f64 + 0.5;
        let m = m * 2f64.powi(-28 + (s.next_u64() % 8) as i32);
        let x0 = (d * m).to_bits();
        let amax = (0..=4u64)
            .flat_map(|j| [x0 + j, x0 - j])
            .map(f64::from_bits)
            .find(|&v| v / d == m && (-m).mul_add(d, v) != 0.0);
        landed += amax.is_some() as usize;
        let amax = amax.unwrap_or(f64::from_bits(x0));
        for amax in [amax]
            .into_iter()
            .chain((0..=4u64).map(|j| f64::from_bits(x0 + j - 2)))
        {
            assert!(amax < g);
            x.push(amax);
            x.extend((1..bf.block).map(|_| amax * s.next_f64()));
        }
    }
    assert!(landed > 500, "{landed} d={d:e} g={g}");
    for mode in ["rne", "sr"] {
        bf.rounding.mode = mode.parse().unwrap();
        assert_fast_path_is_the_reference(&bf, &x, bf.block, 9);
    }
}

/// `len` values over 40 binades with `specials` of NaN, ±Inf, −0 and the smallest subnormals
/// placed anywhere, from `s`.
fn with_specials(s: &mut Stream, len: usize, specials: usize) -> Vec<f64> {
    const SPECIALS: [f64; 7] = [
        f64::NAN,
        -f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        5e-324,
        -5e-324,
    ];
    let mut xs: Vec<f64> = (0..len)
        .map(|_| s.next_normal() * 2f64.powi((s.next_u64() % 40) as i32 - 20))
        .collect();
    for _ in 0..specials.min(len) {
        let i = (s.next_u64() % len as u64) as usize;
        xs[i] = SPECIALS[(s.next_u64() % SPECIALS.len() as u64) as usize];
    }
    xs
}

#[test]
fn the_tensor_maximum_is_the_largest_finite_magnitude() {
    // Lengths around the lane count (tails of every length), specials anywhere; against a
    // plain fold, both the portable loop and this CPU's copy.
    let mut s = Stream::new(11);
    for len in (0..=2 * LANES + 3).chain([1000, 4099]) {
        for trial in 0..4 {
            let xs = with_specials(&mut s, len, trial * 3);
            let want = xs
                .iter()
                .filter(|x| x.is_finite())
                .fold(0.0, |m: f64, x| m.max(x.abs()));
            let ctx = format!("length {len}, trial {trial}");
            assert_eq!(max_finite_abs(&xs).to_bits(), want.to_bits(), "{ctx}");
            assert_eq!(simd::max_finite_abs(&xs).to_bits(), want.to_bits(), "{ctx}");
        }
    }
}

#[test]
fn block_maxima_are_the_largest_magnitudes_bits() {
    // Lengths with and without whole eights and tails, specials in either part; the grid's
    // maximum on this CPU and the portable one against a plain fold.
    let mut s = Stream::new(12);
    for len in 0..=40 {
        for trial in 0..6 {
            let xs = with_specials(&mut s, len, trial);
            let want = xs.iter().fold(0, |m, x| m.max(x.to_bits() & !(1 << 63)));
            for best in [false, true] {
                let got = simd::max_abs_bits(best, &xs);
                assert_eq!(
                    got, want,
                    "length {len}, trial {trial}, best {best}: {xs:?}"
                );
            }
        }
    }
}

#[test]
fn sr_quotients_whose_word_meets_their_remainder_go_to_the_exact_path() {
    // E2M1 elements under a binary64 scale amax / 6 (not a power of two: division
    // quotients), exact `sr`. Every element but the block maximum gets a quotient y in [1, 1.5)
    // whose remainder's first 64 bits lie within an ulp's worth (2^13) below its own random
    // word, so that the exact quotient, within an ulp of y, may round the other way: both
    // element paths must leave it to the exact path (with the direct path's word check
    // removed, elements here came out differently).
    let mut bf = BlockFormat::new(
        Element::parse("e2m1").unwrap(),
        parse_scale("exact").unwrap(),
        16,
        ScaleRule::Nearest,
    );
    bf.rounding.mode = RoundingMode::Stochastic { bits: None };
    let key = 21;
    let mut s = Stream::new(4);
    let mut x = Vec::new();
    let kernel = *engine::Engine::new(&bf.elem.format(), &bf.rounding)
        .unwrap()
        .kernel();
    let (mut planted, mut undecided) = (0, 0);
    for _ in 0..300 {
        let amax = (1.0 + s.next_f64()) * 2f64.powi((s.next_u64() % 9) as i32 - 4);
        let scale = amax / bf.elem.max();
        for j in 0..bf.block {
            if j == 0 {
                x.push(amax);
                continue;
            }
            let w = rng::word(key, x.len() as u64);
            let y = 1.0 + (w >> 13) as f64 * f64::EPSILON;
            let sign = if s.next_u64() & 1 == 1 { -1.0 } else { 1.0 };
            let v = sign * y * scale;
            // (The correctly rounded quotient may be y's neighbour; below y, the check may
            // pass, rightly.)
            planted += 1;
            undecided += !engine::word_decides(&kernel, v / scale, w) as usize;
            x.push(v);
        }
    }
    assert!(undecided > planted / 2, "{undecided} of {planted}");
    assert_fast_path_is_the_reference(&bf, &x, bf.block, key);
}
