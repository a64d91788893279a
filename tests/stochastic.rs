//! Stochastic rounding: always a neighbour, probabilities as specified, reproducible streams.
//!
//! Frequency checks are binomial z-tests with |z| < 5: for a correct implementation the chance
//! that one check fails for a given seed is 5.7e-7, so about 2e-5 over the ~40 checks here.
//! The seeds are fixed, so the outcome is deterministic; the rate says how unlucky a seed
//! would have to be.

use anyfloat::codec;
use anyfloat::rng::{ElementStream, Stream, derive_key};
use anyfloat::round::round;
use anyfloat::{Exact, Format, Rounding, RoundingMode};
use num_bigint::BigUint;

const DRAWS: u64 = 40_000;

/// Rounds `x` DRAWS times with independent element streams; returns how often the result
/// was `hi` (asserting that every result is `lo` or `hi`).
fn count_up(fmt: &Format, x: &Exact, mode: RoundingMode, lo: f64, hi: f64, seed: u64) -> u64 {
    let key = derive_key(seed, &[]);
    let mut ups = 0;
    for i in 0..DRAWS {
        let r = round(
            fmt,
            x,
            &Rounding::new(mode),
            &mut ElementStream::new(key, i),
        );
        let v = codec::to_f64(fmt, r.value);
        assert!(
            v == lo || v == hi,
            "{fmt} {mode}: {} -> {v}, not {lo} or {hi}",
            x.to_hex_string()
        );
        ups += (v == hi) as u64;
    }
    ups
}

fn assert_frequency(ups: u64, p: f64, what: &str) {
    let n = DRAWS as f64;
    let sd = (n * p * (1.0 - p)).sqrt().max(1e-9);
    let z = (ups as f64 - n * p) / sd;
    assert!(
        z.abs() < 5.0,
        "{what}: {ups} of {DRAWS} up, expected p = {p} (z = {z:.2})"
    );
}

/// `lo + frac · (hi − lo)` as an exact value, for a dyadic fraction `num / 2^den_bits`.
fn between(lo: f64, hi: f64, num: u64, den_bits: u32) -> Exact {
    let lo = Exact::from_f64(lo).unwrap();
    let hi = Exact::from_f64(hi).unwrap();
    // Common exponent, then lo·2^k + (hi − lo)·num, over 2^k.
    let e = lo.exp.min(hi.exp) - den_bits as i64;
    let scale = |x: &Exact| &x.sig << (x.exp - e) as u64;
    let (l, h) = (scale(&lo), scale(&hi));
    let diff = &h - &l;
    let sig = l + ((diff * BigUint::from(num)) >> den_bits as u64);
    Exact::new(false, sig, e)
}

#[test]
fn exact_sr_rounds_up_with_probability_equal_to_the_distance() {
    let e4m3 = Format::parse("e4m3").unwrap();
    let sr = RoundingMode::Stochastic { bits: None };
    // (lo, hi, fraction numerator over 2^10) including a binade boundary and the subnormals.
    let cases = [
        (1.0, 1.125, 307),              // 0.2998
        (1.0, 1.125, 512),              // exactly a half
        (1.0, 1.125, 1),                // tiny fraction
        (0.875 + 0.0625, 1.0, 717),     // just below a power of two (finer ulp)
        (0.0, 0.001953125, 256),        // below the smallest subnormal: p = 1/4
        (0.001953125, 0.00390625, 700), // between subnormals
        (416.0, 448.0, 900),            // just below max
    ];
    for (i, &(lo, hi, num)) in cases.iter().enumerate() {
        let x = between(lo, hi, num, 10);
        let ups = count_up(&e4m3, &x, sr, lo, hi, 7 + i as u64);
        assert_frequency(
            ups,
            num as f64 / 1024.0,
            &format!("e4m3 sr in [{lo}, {hi}]"),
        );
        // The same on the negative side (stochastic rounding is symmetric in magnitude).
        let ups = count_up(&e4m3, &x.clone().negated(), sr, -lo, -hi, 99 + i as u64);
        assert_frequency(
            ups,
            num as f64 / 1024.0,
            &format!("e4m3 sr in [-{hi}, -{lo}]"),
        );
    }
}

#[test]
fn exact_sr_resolves_remainders_far_below_one_word() {
    // 1 + 2^-70·k is above 1 by far less than 2^-64 of an e4m3 ulp: only a second random word
    // can decide it, and the probability must not collapse to 0.
    let e4m3 = Format::parse("e4m3").unwrap();
    let x = Exact::new(false, (BigUint::from(1u32) << 70u32) + 3u32, -70);
    let ups = count_up(
        &e4m3,
        &x,
        RoundingMode::Stochastic { bits: None },
        1.0,
        1.125,
        5,
    );
    assert_eq!(
        ups, 0,
        "probability 3·2^-67 must essentially never round up in 40k draws"
    );
    // And values exactly on the grid never move.
    let one = Exact::from_f64(1.0).unwrap();
    assert_eq!(
        count_up(
            &e4m3,
            &one,
            RoundingMode::Stochastic { bits: None },
            1.0,
            1.0,
            6
        ),
        DRAWS
    );
}

#[test]
fn sr_with_r_bits_quantises_the_probability_down_to_multiples_of_two_to_minus_r() {
    let bf16 = Format::parse("bf16").unwrap();
    let ulp = 2f64.powi(-7);
    for (r, num) in [(1u8, 300u64), (2, 300), (4, 307), (8, 307), (12, 1)] {
        let x = between(1.0, 1.0 + ulp, num, 10);
        let mode = RoundingMode::Stochastic { bits: Some(r) };
        let ups = count_up(&bf16, &x, mode, 1.0, 1.0 + ulp, 1000 + r as u64);
        // floor(R · 2^r) / 2^r with R = num / 2^10.
        let p = ((num as f64 / 1024.0) * 2f64.powi(r as i32)).floor() / 2f64.powi(r as i32);
        assert_frequency(ups, p, &format!("bf16 sr:{r}, R = {num}/1024"));
    }
}

#[test]
fn sr_eq_picks_each_neighbour_with_probability_one_half() {
    let e5m2 = Format::parse("e5m2").unwrap();
    for num in [1u64, 512, 1000] {
        let x = between(2.0, 2.5, num, 10);
        let ups = count_up(&e5m2, &x, RoundingMode::StochasticEqual, 2.0, 2.5, num);
        assert_frequency(ups, 0.5, &format!("e5m2 sr-eq, R = {num}/1024"));
    }
}

#[test]
fn the_same_seed_gives_the_same_stream_and_a_different_seed_does_not() {
    let f = Format::parse("e11m10").unwrap();
    let sr = Rounding::new(RoundingMode::Stochastic { bits: None });
    let draw = |seed: u64| -> Vec<u128> {
        let mut s = Stream::new(seed);
        (0..2000)
            .map(|i| {
                let x = Exact::from_f64(1.0 + i as f64 * 1e-7).unwrap();
                round(&f, &x, &sr, &mut s).value
            })
            .collect()
    };
    assert_eq!(draw(42), draw(42));
    assert_ne!(draw(42), draw(43));
}
