//! The slice engine against the rounding core, bit for bit: every named format that fits in
//! f64 and e11m<M> samples, every rounding mode, both overflow policies, on edge cases and
//! random data (normal, subnormal-heavy, overflow-heavy); and independence of thread count and
//! chunking.

use anyfloat::exact::Value;
use anyfloat::fast::{self, Kernel};
use anyfloat::format::names::NAMED_FORMATS;
use anyfloat::rng::{ElementStream, RandomSource, Stream, word};
use anyfloat::round::round_value;
use anyfloat::{Format, Rounding, RoundingMode, codec};

const KEY: u64 = 0x5EED_F00D_FA57;

fn modes() -> Vec<RoundingMode> {
    [
        "rne", "rna", "rtz", "rup", "rdn", "rto", "sr", "sr:1", "sr:4", "sr:13", "sr:64", "sr-eq",
    ]
    .iter()
    .map(|m| m.parse().unwrap())
    .collect()
}

fn roundings() -> Vec<Rounding> {
    modes()
        .into_iter()
        .flat_map(|m| [Rounding::new(m), Rounding::new(m).saturating()])
        .collect()
}

/// Every named format that fits in f64, their flush-to-zero variants, and e11m<M> samples.
fn formats() -> Vec<Format> {
    let mut v: Vec<Format> = NAMED_FORMATS
        .iter()
        .map(|n| n.format())
        .filter(Format::fits_in_f64)
        .collect();
    let ftz: Vec<Format> = v
        .iter()
        .filter(|f| f.has_subnormals())
        .map(|f| f.with_subnormals(false).unwrap())
        .collect();
    v.extend(ftz);
    for m in [0, 1, 3, 7, 10, 23, 30, 51, 52] {
        v.push(Format::parse(&format!("e11m{m}")).unwrap());
    }
    for name in ["ue4m3ftz", "e3m2b1fin", "e5m2p3109", "ue8m3fnuz", "e2m0"] {
        if let Ok(f) = Format::parse(name) {
            v.push(f);
        }
    }
    v
}

/// The core's result for element `index` of a call keyed `KEY`.
fn core(fmt: &Format, rounding: &Rounding, index: u64, x: f64) -> f64 {
    let mut rng = ElementStream::new(KEY, index);
    let code = round_value(fmt, &Value::from_f64(x), rounding, &mut rng).value;
    codec::to_f64(fmt, code)
}

/// Rounds `xs` with the engine (whole slice, stream from position 0) and one at a time with
/// [`Kernel::round_f64`] (the scalar path of `Emu`, with its one-formula ordinary rounding), and
/// compares every element with the core; panics with the first mismatches.
fn check(fmt: &Format, rounding: &Rounding, xs: &[f64]) {
    let k = Kernel::new(fmt, rounding).unwrap();
    let mut out = vec![0.0; xs.len()];
    k.round_slice_into(KEY, 0, xs, &mut out).unwrap();
    let mut bad = Vec::new();
    for (i, (&x, &y)) in xs.iter().zip(&out).enumerate() {
        let want = core(fmt, rounding, i as u64, x);
        let scalar = k.round_f64(x, word(KEY, i as u64));
        if want.to_bits() != y.to_bits() || want.to_bits() != scalar.to_bits() {
            bad.push(format!(
                "x = {x:e} ({:#018x}): engine {y:e}, round_f64 {scalar:e}, core {want:e}",
                x.to_bits()
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{fmt} {:?}: {} of {} differ:\n{}",
        rounding,
        bad.len(),
        xs.len(),
        bad[..bad.len().min(10)].join("\n")
    );
}

/// The next f64 up and down in magnitude (`next_up` needs Rust 1.86; the crate's MSRV is 1.85).
fn up(x: f64) -> f64 {
    if x.is_finite() {
        f64::from_bits(x.to_bits() + 1)
    } else {
        x
    }
}
fn down(x: f64) -> f64 {
    if x.is_finite() && x != 0.0 {
        f64::from_bits(x.to_bits() - 1)
    } else {
        x
    }
}

fn pow2(e: i64) -> f64 {
    // Exact for e in f64's range, including subnormal powers; 0 below it (binary64's
    // "far below the smallest value", 2^−1075).
    if e < -1074 {
        0.0
    } else if e < -1022 {
        f64::from_bits(1u64 << (e + 1074))
    } else {
        2f64.powi(e as i32)
    }
}

/// Edge cases of `fmt`: zeros, specials, extreme values, every gap between neighbouring codes
/// near the bottom, the top and 1 (probed at fractions 0, 1/4, 1/2, 3/4 and next to each),
/// the overflow threshold, and f64 subnormals.
fn edges(fmt: &Format) -> Vec<f64> {
    let mut v = vec![
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7FF0_0000_0000_0001), // signaling
        f64::MAX,
        -f64::MAX,
        f64::MIN_POSITIVE,
        f64::from_bits(1),
        f64::from_bits(0x000F_FFFF_FFFF_FFFF),
        f64::from_bits(0x0008_0000_0000_0001),
        1.0,
        -1.0,
    ];
    let mag = fmt.max_finite_magnitude_code();
    let width = fmt.exp_bits() + fmt.man_bits();
    // Codes to probe: all of them for small formats, else the lowest, the highest, around 1.
    let one = Value::from_f64(1.0);
    let one_code = round_value(
        fmt,
        &one,
        &Rounding::default(),
        &mut anyfloat::rng::NoRandom,
    )
    .value;
    let ranges: Vec<(u128, u128)> = if width <= 10 {
        vec![(0, mag)]
    } else {
        vec![
            (0, 600),
            (mag.saturating_sub(600), mag),
            (
                one_code.saturating_sub(300) & fmt.magnitude_mask(),
                (one_code + 300).min(mag),
            ),
        ]
    };
    let value = |c: u128| match codec::decode(fmt, c) {
        Value::Finite(x) => Some(x.to_f64()),
        _ => None,
    };
    for (lo, hi) in ranges {
        for c in lo..=hi {
            let Some(a) = value(c) else { continue };
            // The next magnitude up: the next code, or one step of the top binade past max.
            let b = if c < mag {
                match value(c + 1) {
                    Some(b) => b,
                    None => continue,
                }
            } else {
                let ulp = pow2(fmt.emax() as i64 - fmt.man_bits() as i64);
                a + ulp
            };
            for t in [0.0, 0.25, 0.5, 0.75] {
                let p = a + (b - a) * t;
                for q in [p, up(p), down(p)] {
                    v.push(q);
                    v.push(-q);
                }
            }
        }
    }
    // Far beyond the range, and far below the smallest value.
    for e in [
        fmt.emax() as i64 + 1,
        fmt.emax() as i64 + 2,
        fmt.min_quantum_exp() as i64 - 1,
    ] {
        for s in [1.0, 1.5, 1.75] {
            let x = pow2(e) * s;
            v.extend([x, -x, up(x), down(x)]);
        }
    }
    v
}

/// Random data: `kind` 0 normal (exponents over the whole range), 1 subnormal-heavy (below
/// the smallest normal), 2 overflow-heavy (around the largest value), 3 any f64 bit pattern.
fn random(fmt: &Format, kind: u32, n: usize, seed: u64) -> Vec<f64> {
    let mut s = Stream::new(seed);
    let (emin, emax) = (fmt.emin() as i64, fmt.emax() as i64);
    let qlow = fmt.min_quantum_exp() as i64;
    let (lo, hi) = match kind {
        0 => (emin - 2, emax + 1),
        1 => (qlow - 3, emin),
        _ => (emax - 1, emax + 3),
    };
    (0..n)
        .map(|_| {
            let w = s.next_u64();
            if kind == 3 {
                return f64::from_bits(w);
            }
            let e = (lo + (s.next_u64() % (hi - lo + 1) as u64) as i64).clamp(-1074, 1023);
            // Mantissas with long runs of zeros or ones make ties and carries common.
            let m = match w % 4 {
                0 => w >> 12,
                1 => (w >> 12) & !((1 << (w % 52)) - 1),
                2 => (w >> 12) | ((1 << (w % 52)) - 1),
                _ => (w >> 12) & (0xFFF << 40),
            };
            let x = pow2(e) * (1.0 + m as f64 / (1u64 << 52) as f64);
            if w >> 63 == 1 { -x } else { x }
        })
        .collect()
}

#[test]
fn edge_cases_every_format_and_mode() {
    for fmt in formats() {
        let xs = edges(&fmt);
        for r in roundings() {
            check(&fmt, &r, &xs);
        }
    }
}

#[test]
fn random_data_every_format_and_mode() {
    for (i, fmt) in formats().iter().enumerate() {
        for kind in 0..4 {
            let xs = random(fmt, kind, 600, (i * 4 + kind as usize) as u64);
            for r in roundings() {
                check(fmt, &r, &xs);
            }
        }
    }
}

#[test]
fn f32_slices_match_f64_slices() {
    let xs: Vec<f32> = random(&Format::binary32(), 3, 20_000, 9)
        .into_iter()
        .map(|x| x as f32)
        .chain([0.0, -0.0, f32::INFINITY, f32::NAN, f32::MAX, 1e-45])
        .collect();
    for name in [
        "e4m3", "e5m2", "bf16", "binary16", "e8m0", "binary32", "e4m3fnuz",
    ] {
        let fmt = Format::parse(name).unwrap();
        for r in roundings() {
            let mut ys = xs.clone();
            fast::round_slice(&fmt, &r, KEY, &mut ys).unwrap();
            for (i, (&x, &y)) in xs.iter().zip(&ys).enumerate() {
                let want = core(&fmt, &r, i as u64, x as f64) as f32;
                assert_eq!(y.to_bits(), want.to_bits(), "{name} {r:?} x = {x:e}");
            }
        }
    }
}

#[test]
fn formats_outside_the_element_type_are_refused() {
    let r = Rounding::default();
    let err = fast::round_slice(&Format::parse("binary128").unwrap(), &r, 0, &mut [1.0f64]);
    assert!(err.unwrap_err().to_string().contains("binary128"));
    let err = fast::round_slice(&Format::parse("e11m10").unwrap(), &r, 0, &mut [1.0f32]);
    assert!(err.unwrap_err().to_string().contains("does not fit in f32"));
    let err = fast::round_slice_into(&Format::binary32(), &r, 0, &[1.0f64; 2], &mut [0.0; 3]);
    assert!(err.unwrap_err().to_string().contains("must be equal"));
}

/// Exact `sr` draws a second word when the first equals the first 64 bits of a longer
/// remainder. Build such elements (e4m3: an f64 with F = 1001 drops d = 65 bits), and check
/// them against the core, alone and inside a large parallel slice at an offset.
#[test]
fn exact_sr_second_word_elements_match_the_core() {
    let fmt = Format::parse("e4m3").unwrap();
    let r = Rounding::new(RoundingMode::Stochastic { bits: None });
    let first = 1_000_003u64;
    let n = 300_000usize;
    let mut xs = random(&fmt, 0, n, 77);
    let mut planted = Vec::new();
    for (i, x) in xs.iter_mut().enumerate() {
        let w = word(KEY, first + i as u64);
        if (1 << 51..1 << 52).contains(&w) {
            // sig = 2w + low: its top 64 of 65 remainder bits are w.
            let low = planted.len() as u64 % 2;
            let sig = 2 * w + low;
            let v = f64::from_bits((1001u64 << 52) | (sig & ((1 << 52) - 1)));
            *x = if planted.len() % 3 == 0 { -v } else { v };
            planted.push(i);
        }
    }
    assert!(planted.len() >= 20, "only {} planted", planted.len());
    let k = Kernel::new(&fmt, &r).unwrap();
    let mut out = xs.clone();
    k.round_slice(KEY, first, &mut out).unwrap();
    for (i, (&x, &y)) in xs.iter().zip(&out).enumerate() {
        let mut rng = ElementStream::new(KEY, first + i as u64);
        let code = round_value(&fmt, &Value::from_f64(x), &r, &mut rng).value;
        assert_eq!(
            y.to_bits(),
            codec::to_f64(&fmt, code).to_bits(),
            "element {i}, x = {x:e}"
        );
    }
    for &i in &planted {
        let w = word(KEY, first + i as u64);
        assert_eq!(k.round_f64(xs[i], w).to_bits(), out[i].to_bits());
    }
}

/// Results do not depend on the thread count or on how the slice is cut.
#[test]
fn threads_and_chunking_do_not_change_results() {
    let fmt = Format::parse("bf16").unwrap();
    for mode in ["sr", "sr:13", "rne"] {
        let r = Rounding::new(mode.parse().unwrap());
        let k = Kernel::new(&fmt, &r).unwrap();
        let xs = random(&fmt, 3, 3 * fast::PARALLEL_THRESHOLD + 12_345, 5);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut ys = xs.clone();
            pool.install(|| k.round_slice(KEY, 0, &mut ys).unwrap());
            ys
        };
        let one = run(1);
        assert_eq!(bits(&one), bits(&run(2)), "{mode}: 1 vs 2 threads");
        assert_eq!(bits(&one), bits(&run(3)), "{mode}: 1 vs 3 threads");
        // Pieces rounded separately, each at its offset in the stream.
        let mut pieces = xs.clone();
        let mut at = 0;
        for len in [1, 7, 1000, 65_536, 99_999].iter().cycle() {
            let end = (at + len).min(pieces.len());
            k.round_slice(KEY, at as u64, &mut pieces[at..end]).unwrap();
            at = end;
            if at == pieces.len() {
                break;
            }
        }
        assert_eq!(bits(&one), bits(&pieces), "{mode}: pieces");
        // And the whole slice equals the core on a sample.
        for i in (0..xs.len()).step_by(97) {
            assert_eq!(one[i].to_bits(), core(&fmt, &r, i as u64, xs[i]).to_bits());
        }
    }
}

fn bits(xs: &[f64]) -> Vec<u64> {
    xs.iter().map(|x| x.to_bits()).collect()
}

/// Every binary16 and bfloat16 code, the midpoints to the next code and their f64 neighbours,
/// in every mode and policy.
#[test]
#[ignore = "about 10 s in release"]
fn sixteen_bit_neighbourhoods_exhaustive() {
    for name in ["binary16", "bf16"] {
        let fmt = Format::parse(name).unwrap();
        let mut xs = Vec::new();
        for c in 0..1u128 << 16 {
            let (Value::Finite(a), Value::Finite(b)) = (
                codec::decode(&fmt, c),
                codec::decode(&fmt, (c + 1) & 0xFFFF),
            ) else {
                continue;
            };
            let (a, b) = (a.to_f64(), b.to_f64());
            let m = (a + b) / 2.0;
            xs.extend([a, m, up(m), down(m)]);
        }
        for r in roundings() {
            check(&fmt, &r, &xs);
        }
    }
}

/// 10^6 random values per format family and mode, over normal, subnormal-heavy and
/// overflow-heavy data.
#[test]
#[ignore = "about 40 s in release"]
fn million_random_values() {
    let modes: Vec<Rounding> = modes().into_iter().map(Rounding::new).collect();
    for name in [
        "e4m3",
        "e5m2",
        "bf16",
        "binary16",
        "e11m10",
        "e8m0",
        "e2m1",
        "binary8p3",
        "e4m3fnuz",
        "ue4m3",
    ] {
        let fmt = Format::parse(name).unwrap();
        for (m, r) in modes.iter().enumerate() {
            let xs: Vec<f64> = (0..3)
                .flat_map(|kind| {
                    random(
                        &fmt,
                        kind,
                        1_000_000 / 3 + 1,
                        (m * 3 + kind as usize) as u64,
                    )
                })
                .collect();
            check(&fmt, r, &xs);
        }
    }
    // The saturating policy on overflow-heavy data.
    for name in ["e4m3", "e5m2", "binary16"] {
        let fmt = Format::parse(name).unwrap();
        for r in modes.iter().map(|r| r.saturating()) {
            check(&fmt, &r, &random(&fmt, 2, 300_000, 1));
        }
    }
}

#[test]
fn formats_whose_normals_include_f64_subnormals_are_left_to_the_core() {
    // e11m44b1031 (emin −1030): every value is an f64, but its smallest normals are f64
    // subnormals, which the bit arithmetic misrounded (1.0 under rna came back as 0). The fast
    // paths refuse it with an error naming it; the core rounds it.
    let fmt = Format::parse("e11m44b1031").unwrap();
    assert!(!fmt.fits_in_f64());
    let rna = Rounding::new(RoundingMode::NearestAway);
    let err = fast::round_slice(&fmt, &rna, 0, &mut [1.0, 1.5]).unwrap_err();
    assert!(err.to_string().contains("e11m44b1031"), "{err}");
    assert!(anyfloat::emu::Context::new(fmt, rna, 0).is_err());
    let core = round_value(
        &fmt,
        &Value::from_f64(1.5),
        &rna,
        &mut ElementStream::new(0, 0),
    );
    assert_eq!(codec::to_f64(&fmt, core.value), 1.5);
    // With binary64's bias the same split fits.
    assert!(Format::parse("e11m44").unwrap().fits_in_f64());
}
