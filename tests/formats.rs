//! Named formats against their published definitions, the name grammar, and the codec's
//! round trip over every code of every named format of at most 16 bits.

use anyfloat::codec::{self, Class};
use anyfloat::format::names::NAMED_FORMATS;
use anyfloat::rng::NoRandom;
use anyfloat::round::round_value;
use anyfloat::{Error, Format, Rounding, RoundingMode, Value};

/// Published extreme values and special codes, transcribed from the specifications cited in
/// the table (OCP OFP8 table 1, OCP MX v1.0 section 5, ml_dtypes' docs, P3109 interim report v3,
/// IEEE 754 table 3.5). Columns: name, max finite (value, code), min normal, min subnormal
/// (0 when none), +Inf code, canonical NaN code.
type Published = (
    &'static str,
    f64,
    u128,
    f64,
    f64,
    Option<u128>,
    Option<u128>,
);

const PUBLISHED: &[Published] = &[
    (
        "binary16",
        65504.0,
        0x7bff,
        6.103515625e-05,
        5.960464477539063e-08,
        Some(0x7c00),
        Some(0x7e00),
    ),
    (
        "bfloat16",
        3.3895313892515355e38,
        0x7f7f,
        1.1754943508222875e-38,
        9.183549615799121e-41,
        Some(0x7f80),
        Some(0x7fc0),
    ),
    ("e4m3", 448.0, 0x7e, 0.015625, 0.001953125, None, Some(0x7f)),
    (
        "e5m2",
        57344.0,
        0x7b,
        6.103515625e-05,
        1.52587890625e-05,
        Some(0x7c),
        Some(0x7e),
    ),
    (
        "e4m3fnuz",
        240.0,
        0x7f,
        0.0078125,
        0.0009765625,
        None,
        Some(0x80),
    ),
    (
        "e5m2fnuz",
        57344.0,
        0x7f,
        3.0517578125e-05,
        7.62939453125e-06,
        None,
        Some(0x80),
    ),
    (
        "e4m3b11fnuz",
        30.0,
        0x7f,
        0.0009765625,
        0.0001220703125,
        None,
        Some(0x80),
    ),
    ("e3m4", 15.5, 0x6f, 0.25, 0.015625, Some(0x70), Some(0x78)),
    ("e2m3", 7.5, 0x1f, 1.0, 0.125, None, None),
    ("e3m2", 28.0, 0x1f, 0.25, 0.0625, None, None),
    ("e2m1", 6.0, 0x7, 1.0, 0.5, None, None),
    (
        "e8m0",
        1.7014118346046923e38,
        0xfe,
        5.877471754111438e-39,
        0.0,
        None,
        Some(0xff),
    ),
    (
        "ue4m3",
        448.0,
        0x7e,
        0.015625,
        0.001953125,
        None,
        Some(0x7f),
    ),
    (
        "ue5m3",
        61440.0,
        0xf7,
        6.103515625e-05,
        7.62939453125e-06,
        Some(0xf8),
        Some(0xfc),
    ),
    (
        "ue5m3fn",
        114688.0,
        0xfe,
        6.103515625e-05,
        7.62939453125e-06,
        None,
        Some(0xff),
    ),
    (
        "binary8p1",
        4.611686018427388e18,
        0x7e,
        1.0842021724855044e-19,
        0.0,
        Some(0x7f),
        Some(0x80),
    ),
    (
        "binary8p3",
        49152.0,
        0x7e,
        3.0517578125e-05,
        7.62939453125e-06,
        Some(0x7f),
        Some(0x80),
    ),
    (
        "binary8p4",
        224.0,
        0x7e,
        0.0078125,
        0.0009765625,
        Some(0x7f),
        Some(0x80),
    ),
];

#[test]
fn named_formats_match_published_definitions() {
    for &(name, max, max_code, min_normal, min_sub, inf, nan) in PUBLISHED {
        let f = Format::parse(name).unwrap();
        assert_eq!(f.max_finite_magnitude_code(), max_code, "{name} max code");
        assert_eq!(codec::to_f64(&f, max_code), max, "{name} max value");
        assert_eq!(
            codec::to_f64(&f, f.min_normal_magnitude_code()),
            min_normal,
            "{name} min normal"
        );
        let sub = if f.has_subnormals() && f.man_bits() > 0 {
            codec::to_f64(&f, 1)
        } else {
            0.0
        };
        assert_eq!(sub, min_sub, "{name} min subnormal");
        assert_eq!(f.inf(false), inf, "{name} +inf code");
        assert_eq!(f.default_nan(), nan, "{name} NaN code");
    }
}

#[test]
fn every_registered_format_is_valid_and_its_names_parse_to_it() {
    for n in NAMED_FORMATS {
        let f = n.format();
        for name in n.names {
            assert_eq!(Format::parse(name).unwrap(), f, "{name}");
            assert_eq!(
                Format::parse(&name.to_uppercase()).unwrap(),
                f,
                "{name} uppercase"
            );
        }
        assert_eq!(f.to_string(), n.names[0]);
        assert_eq!(
            Format::parse(&f.generic_name()).unwrap(),
            f,
            "{}",
            f.generic_name()
        );
    }
}

#[test]
fn generic_names_cover_the_documented_variants() {
    let cases: &[(&str, u32, u32, i32, bool)] = &[
        // name, E, M, bias, signed
        ("e11m10", 11, 10, 1023, true),
        ("e5m10", 5, 10, 15, true),
        ("e4m3ieee", 4, 3, 7, true),
        ("e4m3b11fnuz", 4, 3, 11, true),
        ("e4m3fnuz", 4, 3, 8, true),
        ("ue5m3fn", 5, 3, 15, false),
        ("e5m2b-3", 5, 2, -3, true),
        ("e3m2fin", 3, 2, 3, true),
        ("e5m10-ftz", 5, 10, 15, true),
        ("p3109:8p3", 5, 2, 16, true),
        ("binary12p5", 7, 4, 64, true),
    ];
    for &(name, e, m, bias, signed) in cases {
        let f = Format::parse(name).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(
            (f.exp_bits(), f.man_bits(), f.bias(), f.is_signed()),
            (e, m, bias, signed),
            "{name}"
        );
        assert_eq!(
            Format::parse(&f.to_string()).unwrap(),
            f,
            "{name} display round trip"
        );
    }
    assert!(!Format::parse("e5m10ftz").unwrap().has_subnormals());
    assert_eq!(
        Format::parse("e4m3ieee")
            .unwrap()
            .max_finite_magnitude_code(),
        0x77
    );
    assert_eq!(Format::parse("e11m52").unwrap(), Format::binary64());
}

#[test]
fn malformed_names_are_errors_that_say_why() {
    let cases = [
        ("e0m3", "exponent width"),
        ("e40m10", "exponent width"),
        ("e20m200", "at most 128"),
        ("e4m3xyz", "unknown suffix"),
        ("e4m", "mantissa width"),
        ("em3", "exponent width"),
        ("", "empty"),
        ("bf17", "generic name starts"),
        ("binary8p9", "P < K"),
        ("binary8p0", "P < K"),
        ("ue4m3fnuz", "need a sign bit"),
        ("e1m3", "no normal binade"),
        ("e4m3fnfnuz", "two special-value encodings"),
        ("e99999999999999999999m3", "too large"),
    ];
    for (name, expected) in cases {
        match Format::parse(name) {
            Err(Error::Format { input, reason }) => {
                assert_eq!(input, name);
                assert!(reason.contains(expected), "{name}: {reason}");
            }
            other => panic!("{name}: expected a format error, got {other:?}"),
        }
    }
    let shown = Format::parse("e0m3").unwrap_err().to_string();
    assert!(shown.contains("accepted format names"), "{shown}");
}

/// Decoding a code and rounding its exact value back (in every deterministic mode) gives the
/// same code with no flag; NaNs map to the default NaN; codes that a format never produces
/// (subnormals of `ftz` formats) are skipped.
#[test]
fn every_code_of_small_named_formats_round_trips() {
    for n in NAMED_FORMATS.iter().filter(|n| n.format().width() <= 16) {
        let f = n.format();
        for code in 0..(1u128 << f.width()) {
            let v = codec::decode(&f, code);
            let class = codec::classify(&f, code);
            for mode in RoundingMode::DETERMINISTIC {
                let r = round_value(&f, &v, &Rounding::new(mode), &mut NoRandom);
                match class {
                    Class::Nan => {
                        assert_eq!(r.value, f.default_nan().unwrap(), "{f} {code:#x}");
                        let signaling = matches!(v, Value::Nan { signaling: true });
                        assert_eq!(r.flags.is_empty(), !signaling, "{f} {code:#x}");
                    }
                    _ => {
                        assert_eq!(r.value, code, "{f} code {code:#x} mode {mode}");
                        assert!(r.flags.is_empty(), "{f} code {code:#x}: {}", r.flags);
                    }
                }
            }
        }
    }
}

/// Decoded values are ordered like the codes of each sign (the encoding is monotonic), which
/// pins the exponent/mantissa layout independently of the rounding core.
#[test]
fn decoded_values_increase_with_the_magnitude_code() {
    for n in NAMED_FORMATS.iter().filter(|n| n.format().width() <= 16) {
        let f = n.format();
        let mut last = f64::NEG_INFINITY;
        for mag in 0..=f.magnitude_mask() {
            let class = codec::classify(&f, mag);
            if class == Class::Nan {
                continue;
            }
            let x = codec::to_f64(&f, mag);
            assert!(
                x > last || (x == 0.0 && mag == 0),
                "{f} {mag:#x}: {x} after {last}"
            );
            last = x;
        }
    }
}

#[test]
fn to_f64_is_the_decoded_value_rounded_through_the_core() {
    // `codec::to_f64` forms the value of formats that fit in binary64 from the code's fields in
    // f64 arithmetic; the reference is the exact decoded value rounded into binary64 by the
    // core. Every code of every named format of at most 16 bits, and for formats built from
    // fields (every exponent width, mantissa widths around the f64 limits, biases that put the
    // range at both ends of f64's, every encoding, signed or not, with or without subnormals
    // and zero) the boundary codes and random ones.
    let same = |fmt: &Format, code: u128| {
        let (got, want) = (codec::to_f64(fmt, code), codec::decode(fmt, code).to_f64());
        let ok = got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan());
        assert!(ok, "{fmt} code {code:#x}: {got:e}, the core {want:e}");
    };
    let mut checked = 0;
    for n in NAMED_FORMATS.iter().filter(|n| n.format().width() <= 16) {
        let fmt = n.format();
        (0..1u128 << fmt.width()).for_each(|c| same(&fmt, c));
        checked += 1 << fmt.width();
    }
    let specials = [
        anyfloat::format::Specials::Ieee,
        anyfloat::format::Specials::FiniteNan,
        anyfloat::format::Specials::Fnuz,
        anyfloat::format::Specials::Finite,
        anyfloat::format::Specials::P3109,
    ];
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) as u128
    };
    let mut fitting = 0;
    for e in 1..=11u32 {
        for m in [0, 1, 2, 3, 7, 10, 23, 50, 51, 52, 53] {
            let top = (1i32 << (e - 1)) - 1;
            for bias in [top, 1, -900, 1000, 1022 + m as i32, 1023] {
                for specials in specials {
                    for (signed, subnormals, zero) in [
                        (true, true, true),
                        (false, true, true),
                        (true, false, true),
                        (true, true, false),
                    ] {
                        let Ok(fmt) = Format::new(e, m, bias, signed, subnormals, zero, specials)
                        else {
                            continue;
                        };
                        fitting += fmt.fits_in_f64() as usize;
                        let w = fmt.width();
                        let mask = (1u128 << w) - 1;
                        let ends = [0, 1, 2, mask, mask - 1, mask >> 1, (mask >> 1) + 1];
                        for c in ends.into_iter().chain((0..200).map(|_| next() & mask)) {
                            same(&fmt, c & mask);
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(
        fitting > 3000 && checked > 1_000_000,
        "{fitting} formats, {checked} codes"
    );
}
