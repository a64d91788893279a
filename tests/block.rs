//! Block formats: hand-checked blocks per preset, element codes against the core's rounding of
//! x / scale, unbiased stochastic rounding, ragged blocks, the Hadamard round trip.

use anyfloat::block::quotient::core_quotient;
use anyfloat::block::{self, BlockFormat, Element, ScaleRule, quantize, quantize_rows};
use anyfloat::rng::RandomSource;
use anyfloat::{Flags, Format, RoundingMode, codec};

fn padded(values: &[f64], n: usize) -> Vec<f64> {
    let mut v = values.to_vec();
    v.resize(n, 0.0);
    v
}

#[test]
fn mxfp4_blocks_worked_by_hand() {
    // OCP MX v1.0: X = 2^(floor(log2 amax) − 2), E8M0 code = 127 + exponent. E2M1 values
    // 0, .5, 1, 1.5, 2, 3, 4, 6; codes s.ee.m: 0.5 = 0001, 1 = 0010, 4 = 0110, 6 = 0111.
    let bf = BlockFormat::preset("mxfp4").unwrap();
    // Block 1: amax 5.5 → floor(log2) = 2 → X = 1 (code 127). 5.5 → 6 (above the midpoint 5);
    // −0.3 → −0.5 (above the midpoint 0.25); 0.25 → 0 (tie, even); 1.0 exact.
    // Block 2: amax 3.9·2^10 → floor(log2) = 11 → X = 2^9 (code 136); 3.9·2^10/2^9 = 7.8 > 7,
    // the midpoint above 6: saturates to 6 → 3072. 1000/512 = 1.953 → 2 → 1024.
    // Block 3: all zeros → smallest scale, code 0 (2^−127); elements 0.
    let mut x = padded(&[5.5, -0.3, 0.25, 1.0], 32);
    x.extend(padded(&[3.9 * 1024.0, 1000.0], 32));
    x.extend([0.0; 32]);
    let q = quantize(&bf, &x, 0).unwrap();
    assert_eq!(q.scales, [127, 136, 0]);
    assert_eq!(&q.codes.to_u64()[..4], &[0b0111, 0b1001, 0b0000, 0b0010]);
    assert_eq!(&q.dequantized[..4], &[6.0, -0.5, 0.0, 1.0]);
    assert_eq!(&q.codes.to_u64()[32..34], &[0b0111, 0b0100]);
    assert_eq!(&q.dequantized[32..34], &[3072.0, 1024.0]);
    assert!(
        q.codes.to_u64()[64..].iter().all(|&c| c == 0)
            && q.dequantized[64..].iter().all(|&v| v == 0.0)
    );
    assert_eq!(q.saturated, 1);
}

#[test]
fn mxfp8_mxfp6_and_mxint8_saturate_at_the_block_maximum() {
    // E4M3 (emax 8): amax 500 → X = 2^(8 − 8) = 1; 500 > 464 → 448 (0x7e), 300 → 288 (0x79).
    let q = quantize(
        &BlockFormat::preset("mxfp8-e4m3").unwrap(),
        &padded(&[500.0, 300.0], 32),
        0,
    )
    .unwrap();
    assert_eq!(
        (q.scales[0], q.codes.to_u64()[0], q.codes.to_u64()[1]),
        (127, 0x7e, 0x79)
    );
    assert_eq!((q.dequantized[0], q.saturated), (448.0, 1));
    // E5M2 (emax 15): amax 60000 → X = 1; 60000 < 61440 (midpoint to 65536) → 57344 (0x7b).
    let q = quantize(
        &BlockFormat::preset("mxfp8-e5m2").unwrap(),
        &padded(&[60000.0], 32),
        0,
    )
    .unwrap();
    assert_eq!(
        (q.scales[0], q.codes.to_u64()[0], q.saturated),
        (127, 0x7b, 0)
    );
    // E2M3 (emax 2, max 7.5): amax 7.9 → X = 1 → saturates to 7.5 = code 0 11 111.
    let q = quantize(
        &BlockFormat::preset("mxfp6-e2m3").unwrap(),
        &padded(&[7.9, 0.0625], 32),
        0,
    )
    .unwrap();
    assert_eq!(
        (q.codes.to_u64()[0], q.dequantized[0], q.saturated),
        (0b011111, 7.5, 1)
    );
    // 0.0625 is half the smallest subnormal 0.125: a tie, rounds to even 0.
    assert_eq!(q.dequantized[1], 0.0);
    // E3M2 (emax 4, max 28 = 1.75·2^4): amax 30 → X = 1; 30 is the tie between 28 (odd
    // mantissa 11) and 32 (even): rounds to 32, overflows, saturates to 28 (code 0 111 11).
    let q = quantize(
        &BlockFormat::preset("mxfp6-e3m2").unwrap(),
        &padded(&[30.0], 32),
        0,
    )
    .unwrap();
    assert_eq!(
        (q.codes.to_u64()[0], q.dequantized[0], q.saturated),
        (0b011111, 28.0, 1)
    );
    // INT8 (emax 0, grid 1/64, max 127/64): amax 1.995 → X = 1; 1.995·64 = 127.68 → 128 →
    // saturates to 127; 0.3·64 = 19.2 → 19; −1 → −64 = 0xc0 in two's complement.
    let q = quantize(
        &BlockFormat::preset("mxint8").unwrap(),
        &padded(&[1.995, 0.3, -1.0], 32),
        0,
    )
    .unwrap();
    assert_eq!(&q.codes.to_u64()[..3], &[127, 19, 0xc0]);
    assert_eq!(&q.dequantized[..3], &[127.0 / 64.0, 19.0 / 64.0, -1.0]);
    assert_eq!((q.scales[0], q.saturated), (127, 1));
}

#[test]
fn nvfp4_blocks_worked_by_hand() {
    // Tensor amax 2688 = 448·6 → tensor scale 2688 / (448·6) = 1 exactly.
    // Block 1 (16): amax 2688 → UE4M3 scale 2688/6 = 448 (0x7e); 2688/448 = 6 (code 0111).
    // Block 2: amax 100 → 100/6 = 16.67, between UE4M3 16 and 18 → 16 (field 4+7 = 11: 0x58).
    //   100/16 = 6.25 → 6 (no overflow: below the midpoint 7) → 96; 37/16 = 2.3125 → 2 → 32;
    //   −9/16 = −0.5625 → −0.5 → −8; 0.1/16 → 0.
    // Block 3: zeros → scale 0 (UE4M3 has zero), elements 0.
    // Block 4 (ragged, 3 values): amax 0.003 → 0.0005 is below half of UE4M3's smallest
    //   subnormal 2^−9: the scale rounds to 0 and the block is flushed to zeros.
    let mut x = padded(&[2688.0], 16);
    x.extend(padded(&[100.0, 37.0, -9.0, 0.1], 16));
    x.extend([0.0; 16]);
    x.extend([0.001, 0.002, -0.003]);
    let q = quantize(&BlockFormat::preset("nvfp4").unwrap(), &x, 0).unwrap();
    assert_eq!(q.tensor_scale, 1.0);
    assert_eq!(q.scales, [0x7e, 0x58, 0, 0]);
    assert_eq!((q.codes.to_u64()[0], q.dequantized[0]), (0b0111, 2688.0));
    assert_eq!(&q.codes.to_u64()[16..20], &[0b0111, 0b0100, 0b1001, 0]);
    assert_eq!(&q.dequantized[16..20], &[96.0, 32.0, -8.0, 0.0]);
    assert!(q.dequantized[32..].iter().all(|&v| v == 0.0));
    assert_eq!(q.saturated, 0);
    // Tensor scale of a general array: amax / 2688 rounded to binary32.
    let q = quantize(&BlockFormat::preset("nvfp4").unwrap(), &[1.0, -3.0], 0).unwrap();
    assert_eq!(q.tensor_scale, (3.0f64 / 2688.0) as f32 as f64);
}

#[test]
fn ue5m3_scaled_fp4_worked_by_hand() {
    // UE5M3 has the same 3 mantissa bits as UE4M3 in [16, 32): 100/6 → 16, code 19·8 = 0x98.
    // No tensor scale; its range reaches 2^−17, so amax 0.003 gets scale 0.0005 → 2^−11 ·
    // 1.0 (0.000488, code (−11+15)·8 = 0x20) and 0.003/0.000488 = 6.14 → 6 → 0.00293.
    for name in ["fp4-ue5m3-16", "fp4-ue5m3-32"] {
        let bf = BlockFormat::preset(name).unwrap();
        let mut x = padded(&[100.0, 37.0], bf.block);
        x.extend([0.003, 0.001]);
        let q = quantize(&bf, &x, 0).unwrap();
        assert_eq!(q.scales, [0x98, 0x20], "{name}");
        assert_eq!(&q.dequantized[..2], &[96.0, 32.0]);
        let s = 2f64.powi(-11);
        assert_eq!(&q.dequantized[bf.block..], &[6.0 * s, 2.0 * s]);
    }
}

#[test]
fn scale_rules_differ_as_documented() {
    // E2M1 block with amax 7 (log2 7 = 2.807): floor → 2^0, ceil → 2^1, rceil → ⌈log2(7/6)⌉ =
    // 2^1, even → 7 rounded to E2M1's 2 significand bits is 8 → 2^(3 − 2) = 2^1, nearest →
    // 7/6 rounded into E8M0 (one significand bit: 1 or 2, midpoint 1.5) → 1 = 2^0.
    let x = [7.0, 1.0];
    let f = |rule| {
        let bf = BlockFormat::new(
            Element::Float(Format::parse("e2m1").unwrap()),
            Format::parse("e8m0").unwrap(),
            2,
            rule,
        );
        quantize(&bf, &x, 0).unwrap().scales[0] as i64 - 127
    };
    assert_eq!(
        ScaleRule::ALL.map(f),
        [0, 1, 1, 1, 0],
        "floor ceil rceil even nearest"
    );
    // amax 5 (log2 5 = 2.32): floor 0, ceil 1, rceil ⌈log2(5/6)⌉ = 0, even: 5 = 1.25·4 is a
    // tie between 1.0·4 and 1.5·4, away → 6 → 2^(2 − 2) = 2^0; nearest: 5/6 → 1 = 2^0.
    let x = [5.0, 1.0];
    let g = |rule| {
        let bf = BlockFormat::new(
            Element::Float(Format::parse("e2m1").unwrap()),
            Format::parse("e8m0").unwrap(),
            2,
            rule,
        );
        quantize(&bf, &x, 0).unwrap().scales[0] as i64 - 127
    };
    assert_eq!(ScaleRule::ALL.map(g), [0, 1, 0, 0, 0]);
}

#[test]
fn nan_and_inf_poison_only_their_block() {
    let bf = BlockFormat::preset("mxfp8-e4m3").unwrap();
    // Block 3: amax 2 → X = 2^(1 − 8) (code 120); 2 = 256 · X exactly.
    let mut x = padded(&[1.0, f64::NAN], 32);
    x.extend(padded(&[f64::INFINITY], 32));
    x.extend(padded(&[2.0], 32));
    let q = quantize(&bf, &x, 0).unwrap();
    assert_eq!(q.scales, [0xff, 0xff, 120]);
    assert!(q.dequantized[..64].iter().all(|v| v.is_nan()));
    assert_eq!(q.dequantized[64], 2.0);
    let st = block::error_stats(&x, &q.dequantized);
    assert_eq!(st.count, 32);
}

/// Asserts that every element of `quantize(bf, x, key)` in a block of finite values with a
/// nonzero scale is the core's rounding of x / S (code, dequantised value), and that the
/// saturation count is the number of elements whose core rounding overflowed. Returns the
/// number of elements checked.
fn assert_elements_are_the_cores(bf: &BlockFormat, x: &[f64], key: u64) -> usize {
    let q = quantize(bf, x, key).unwrap();
    let ef = bf.elem.format();
    let (mut checked, mut overflows) = (0, 0);
    for (b, chunk) in x.chunks(bf.block).enumerate() {
        let sv = codec::to_f64(&bf.scale, q.scales[b] as u128) * q.tensor_scale;
        if chunk.iter().any(|v| !v.is_finite()) || sv == 0.0 {
            continue;
        }
        for (j, &v) in chunk.iter().enumerate() {
            let i = b * bf.block + j;
            let core = core_quotient(&ef, v, sv, &bf.rounding, key, i as u64);
            overflows += core.flags.contains(Flags::OVERFLOW) as usize;
            let want = match bf.elem {
                Element::Int { bits } => {
                    let n = (core.value & ef.magnitude_mask()) as i64;
                    let n = if core.value & ef.sign_bit() != 0 {
                        -n
                    } else {
                        n
                    };
                    (n as u64) & ((1 << bits) - 1)
                }
                Element::Float(_) => core.value as u64,
            };
            let ctx = || format!("{bf} {:?}: element {i} = {v:e}, S = {sv:e}", bf.rounding);
            assert_eq!(q.codes.get(i), Some(want), "{}", ctx());
            let d = bf.elem.value(want) * sv;
            assert!(
                q.dequantized[i].to_bits() == d.to_bits(),
                "{}: {} vs {d}",
                ctx(),
                q.dequantized[i]
            );
            checked += 1;
        }
    }
    assert_eq!(
        q.saturated, overflows,
        "{bf} {:?}: saturation count",
        bf.rounding
    );
    checked
}

/// Blocks of 32 that reach every branch of the element path: Gaussian data, an outlier that
/// flushes the rest of its block, exact grid points and midpoints at a power-of-two scale
/// (amax 6), f64-subnormal quotients (a block at 2^200 holding 10^−250 and f64 subnormals),
/// blocks near both ends of f64's range (scales that underflow or overflow the scale format,
/// so elements vanish or saturate), zeros of both signs, and a NaN block.
fn hard_blocks(seed: u64) -> Vec<f64> {
    let mut s = anyfloat::rng::Stream::new(seed);
    let mut x = Vec::new();
    for kind in 0..9 {
        for _ in 0..8 {
            let mut b: Vec<f64> = (0..32).map(|_| s.next_normal()).collect();
            match kind {
                1 => b[(s.next_u64() % 32) as usize] *= 1e4,
                2 => {
                    for (j, v) in b.iter_mut().enumerate() {
                        *v = (j as f64 / 4.0 - 4.0).clamp(-6.0, 6.0);
                    }
                    b[0] = 6.0;
                }
                3 => {
                    for (j, v) in b.iter_mut().enumerate() {
                        *v *= [2f64.powi(200), 1e-250, 1e-310, 5e-324][j % 4];
                    }
                    b[1] = 1.5 * 2f64.powi(200);
                }
                4 => b.iter_mut().for_each(|v| *v *= 2f64.powi(-1000)),
                5 => b.iter_mut().for_each(|v| *v *= 2f64.powi(300)),
                6 => b.iter_mut().for_each(|v| *v *= 2f64.powi(-140)),
                7 => {
                    for (j, v) in b.iter_mut().enumerate() {
                        *v = if j % 3 == 0 { -0.0 } else { 0.0 };
                    }
                    if s.next_u64().is_multiple_of(2) {
                        b[5] = 1e-3;
                    }
                }
                8 => b[(s.next_u64() % 32) as usize] = f64::NAN,
                _ => {}
            }
            x.extend(b);
        }
    }
    x
}

/// `x` with the elements below their block's maximum moved to S·g for grid points and
/// midpoints g of the element format, times 1 and 1 ± 2^−52 (so x / S lands on or next to them
/// in f64, exactly or not, whatever S); the block maxima, hence the scales, stay. Elements of
/// more than 8 bits are left as they are.
fn on_the_grid(bf: &BlockFormat, x: &[f64]) -> Vec<f64> {
    let mut y = x.to_vec();
    let ef = bf.elem.format();
    if ef.width() > 8 {
        return y;
    }
    let mut grid: Vec<f64> = (0..1u64 << ef.width())
        .map(|c| bf.elem.value(c).abs())
        .filter(|v| v.is_finite())
        .collect();
    grid.sort_by(f64::total_cmp);
    grid.dedup();
    let mids: Vec<f64> = grid.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect();
    grid.extend(mids);
    let q = quantize(bf, x, 0).unwrap();
    for (b, chunk) in y.chunks_mut(bf.block).enumerate() {
        let sv = codec::to_f64(&bf.scale, q.scales[b] as u128) * q.tensor_scale;
        let amax = chunk.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if !amax.is_finite() || sv == 0.0 {
            continue;
        }
        for (j, v) in chunk.iter_mut().enumerate() {
            let g = grid[(j * 7 + b) % grid.len()];
            let t = sv * g * [1.0, 1.0 + 2f64.powi(-52), 1.0 - 2f64.powi(-53)][j % 3];
            if v.abs() < amax && t < amax {
                *v = if j % 2 == 0 { t } else { -t };
            }
        }
    }
    y
}

#[test]
fn element_codes_are_the_cores_rounding_of_x_over_the_scale() {
    // Every preset and mode (the vectorised element path and its exact fallback), on Gaussian
    // data with outliers and on the hard blocks; plus block formats whose elements are
    // unsigned, without negative zero, non-saturating, or whose scale is not a power of two
    // (an exact scale, a power-of-two scale times a binary32 tensor scale).
    let mut s = anyfloat::rng::Stream::new(5);
    let mut x: Vec<f64> = (0..1024)
        .map(|i| s.next_normal() * if i % 97 == 0 { 30.0 } else { 1.0 })
        .collect();
    x.extend(hard_blocks(6));
    let mut formats: Vec<BlockFormat> = block::PRESETS
        .iter()
        .map(|p| BlockFormat::preset(p.0).unwrap())
        .collect();
    let custom = |e: &str, sc: &str, block, rule| {
        BlockFormat::new(
            Element::parse(e).unwrap(),
            block::parse_scale(sc).unwrap(),
            block,
            rule,
        )
    };
    formats.extend([
        custom("e2m1", "exact", 16, ScaleRule::Nearest),
        BlockFormat {
            tensor_scale: true,
            ..custom("e4m3", "e8m0", 32, ScaleRule::Rceil)
        },
        custom("ue4m3", "ue5m3", 16, ScaleRule::Nearest),
        custom("e4m3fnuz", "e8m0", 8, ScaleRule::Ceil),
        custom("int4", "ue5m3", 16, ScaleRule::Nearest),
        custom("e3m2", "e8m0", 32, ScaleRule::Even),
    ]);
    let mut non_saturating = vec![
        custom("e5m2", "e8m0", 32, ScaleRule::Floor),
        custom("e4m3", "e8m0", 32, ScaleRule::Floor),
        BlockFormat {
            tensor_scale: true,
            ..custom("e5m2", "ue4m3", 16, ScaleRule::Nearest)
        },
    ];
    for bf in &mut non_saturating {
        bf.rounding = anyfloat::Rounding::new(RoundingMode::NearestEven);
    }
    formats.extend(non_saturating);
    let mut checked = 0;
    for bf in formats {
        for mode in [
            "rne", "rtz", "rna", "rup", "rdn", "rto", "sr", "sr:4", "sr:1", "sr-eq",
        ] {
            let mut bf = bf;
            bf.rounding.mode = mode.parse::<RoundingMode>().unwrap();
            checked += assert_elements_are_the_cores(&bf, &x, 77);
            checked += assert_elements_are_the_cores(&bf, &on_the_grid(&bf, &x), 79);
            let neg: Vec<f64> = x.iter().map(|v| -v).collect();
            checked += assert_elements_are_the_cores(&bf, &neg, 78);
        }
    }
    assert!(checked > 900_000, "{checked}");
}

#[test]
fn stochastic_rounding_is_unbiased_over_many_draws() {
    // One mxfp4 block with amax 6 (X = 1); each element lies between two E2M1 values. Over
    // N = 20000 keys the mean of the dequantised value must be within 5 standard errors
    // (gap · sqrt(p(1 − p)/N) ≤ gap/(2·sqrt N)) of x; RNE is biased on the same data.
    let bf = {
        let mut b = BlockFormat::preset("mxfp4").unwrap();
        b.rounding.mode = RoundingMode::Stochastic { bits: None };
        b
    };
    let x = padded(&[6.0, 0.3, 1.2, 2.7, -4.9, 0.05, 3.3], 32);
    let gaps = [0.0, 0.5, 0.5, 1.0, 2.0, 0.5, 1.0];
    let n = 20000u64;
    let mut sums = [0.0f64; 7];
    for k in 0..n {
        let q = quantize(&bf, &x, k).unwrap();
        for (s, v) in sums.iter_mut().zip(&q.dequantized) {
            *s += v;
        }
    }
    for i in 0..7 {
        let mean = sums[i] / n as f64;
        let tol = 5.0 * gaps[i] / (2.0 * (n as f64).sqrt());
        assert!(
            (mean - x[i]).abs() <= tol.max(1e-12),
            "element {i}: mean {mean} vs {}",
            x[i]
        );
    }
    let rne = quantize(&BlockFormat::preset("mxfp4").unwrap(), &x, 0).unwrap();
    assert!((rne.dequantized[1] - 0.3).abs() > 0.1);
}

#[test]
fn ragged_rows_and_blocks_never_straddle_rows() {
    // A 3 × 5 array with blocks of 2: blocks [0,2) [2,4) [4,5) per row; 9 scales.
    let bf = BlockFormat::new(
        Element::Float(Format::parse("e2m1").unwrap()),
        Format::parse("e8m0").unwrap(),
        2,
        ScaleRule::Floor,
    );
    let x: Vec<f64> = (0..15)
        .map(|i| (i as f64 + 1.0) * if i % 2 == 0 { 1.0 } else { -0.7 })
        .collect();
    let q = quantize_rows(&bf, &x, 5, 3).unwrap();
    assert_eq!(q.scales.len(), 9);
    for r in 0..3 {
        for (j, range) in [(0, 0..2), (1, 2..4), (2, 4..5)] {
            let part: Vec<f64> = range.clone().map(|c| x[r * 5 + c]).collect();
            let alone = quantize(&bf, &part, 3).unwrap();
            assert_eq!(q.scales[r * 3 + j], alone.scales[0]);
            let idx: Vec<usize> = range.map(|c| r * 5 + c).collect();
            let got: Vec<f64> = idx.iter().map(|&i| q.dequantized[i]).collect();
            assert_eq!(got, alone.dequantized);
        }
    }
    assert!(
        quantize_rows(&bf, &x, 4, 0)
            .unwrap_err()
            .to_string()
            .contains("rows of 4")
    );
}

#[test]
fn results_do_not_depend_on_chunking() {
    // Stochastic rounding draws word i for element i: a prefix of the array quantises to the
    // prefix of the whole result.
    let mut bf = BlockFormat::preset("nvfp4").unwrap();
    bf.rounding.mode = RoundingMode::Stochastic { bits: Some(8) };
    bf.tensor_scale = false;
    let mut s = anyfloat::rng::Stream::new(1);
    let x: Vec<f64> = (0..100_000).map(|_| s.next_normal()).collect();
    let all = quantize(&bf, &x, 42).unwrap();
    let head = quantize(&bf, &x[..4096], 42).unwrap();
    assert_eq!(&all.codes.to_u64()[..4096], &head.codes.to_u64()[..]);
}

#[test]
fn hadamard_round_trip_and_outlier_spreading() {
    // With near-exact elements (E11M40, binary64 scale) the transform and its inverse give
    // back the input to ~1e-12.
    let mut bf = BlockFormat::new(
        Element::Float(Format::parse("e11m40").unwrap()),
        block::parse_scale("exact").unwrap(),
        32,
        ScaleRule::Nearest,
    );
    bf.hadamard = true;
    let mut s = anyfloat::rng::Stream::new(2);
    let x: Vec<f64> = (0..256).map(|_| s.next_normal()).collect();
    let q = quantize(&bf, &x, 9).unwrap();
    for (a, b) in x.iter().zip(&q.dequantized) {
        assert!((a - b).abs() < 1e-10, "{a} vs {b}");
    }
    // MXFP4 on Gaussian data with one large outlier per block: the transform improves QSNR.
    let y: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, v)| if i % 32 == 5 { 40.0 } else { *v })
        .collect();
    let plain = BlockFormat::preset("mxfp4").unwrap();
    let rot = BlockFormat {
        hadamard: true,
        ..plain
    };
    let a = block::error_stats(&y, &quantize(&plain, &y, 1).unwrap().dequantized);
    let b = block::error_stats(&y, &quantize(&rot, &y, 1).unwrap().dequantized);
    assert!(b.qsnr_db > a.qsnr_db, "{} vs {}", b.qsnr_db, a.qsnr_db);
    // Hadamard needs power-of-two blocks that tile the rows.
    let bad = BlockFormat { block: 24, ..rot };
    assert!(
        quantize(&bad, &y, 0)
            .unwrap_err()
            .to_string()
            .contains("power-of-two")
    );
    assert!(
        quantize(&rot, &y[..250], 0)
            .unwrap_err()
            .to_string()
            .contains("multiple")
    );
}

#[test]
fn cli_quantize_writes_the_library_result_and_reports_errors() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("x.csv");
    let x: Vec<f64> = (0..40)
        .map(|i| ((i * 7919) % 101) as f64 / 10.0 - 5.0)
        .collect();
    let text: String = x
        .chunks(20)
        .map(|r| {
            r.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(",")
                + "\n"
        })
        .collect();
    std::fs::write(&input, text).unwrap();
    let out = dir.path().join("y.npy");
    let codes = dir.path().join("codes.csv");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_anyfloat"))
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&[
        "quantize",
        "nvfp4",
        "--block",
        "8",
        "--json",
        "--codes",
        codes.to_str().unwrap(),
        input.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut bf = BlockFormat::preset("nvfp4").unwrap();
    bf.block = 8;
    let want = quantize_rows(&bf, &x, 20, anyfloat::rng::derive_key(0, &[])).unwrap();
    let got = anyfloat::npy::read(&std::fs::read(&out).unwrap(), "y.npy").unwrap();
    assert_eq!(
        (got.data, got.shape),
        (want.dequantized.clone(), vec![2, 20])
    );
    let st = block::error_stats(&x, &want.dequantized);
    assert_eq!(json["qsnr_db"].as_f64().unwrap(), st.qsnr_db);
    assert_eq!(json["blocks"], 6); // 3 per row of 20 (8, 8, 4)
    let csv = std::fs::read_to_string(&codes).unwrap();
    assert_eq!(csv.lines().count(), 1 + 6);
    // Codes as .npy: element codes in the input's shape, scale codes one per block, uint8.
    let (codes_npy, scales_npy) = (dir.path().join("c.npy"), dir.path().join("s.npy"));
    let o = run(&[
        "quantize",
        "nvfp4",
        "--block",
        "8",
        "--codes",
        codes_npy.to_str().unwrap(),
        "--scale-codes",
        scales_npy.to_str().unwrap(),
        input.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let npy = |path: &std::path::Path| {
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        let header = String::from_utf8(bytes[10..10 + len].to_vec()).unwrap();
        (header, bytes[10 + len..].to_vec())
    };
    let (header, data) = npy(&codes_npy);
    assert!(
        header.contains("'descr': '<u1'") && header.contains("'shape': (2, 20)"),
        "{header}"
    );
    assert_eq!(block::Codes::U8(data), want.codes);
    let (header, data) = npy(&scales_npy);
    assert!(
        header.contains("'descr': '<u1'") && header.contains("'shape': (2, 3)"),
        "{header}"
    );
    assert_eq!(
        data.iter().map(|&c| c as u64).collect::<Vec<_>>(),
        want.scales
    );
    let o = run(&[
        "quantize",
        "nvfp4",
        "--scale-codes",
        "s.csv",
        input.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--scale-codes s.csv"));
    // Bad input: exit 2 with a message naming it.
    let o = run(&[
        "quantize",
        "mxfp9",
        input.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("mxfp9"));
    std::fs::write(&input, "1,2,3\n4,5\n").unwrap();
    let o = run(&[
        "quantize",
        "mxfp4",
        input.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("line 2"));
}
