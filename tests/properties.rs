//! Property tests: the parsers never panic, and every f64 rounds to one of its two neighbours.

use anyfloat::codec::{self, Class};
use anyfloat::parse::{parse_code, parse_value};
use anyfloat::rng::ElementStream;
use anyfloat::{Format, Rounding, RoundingMode};
use proptest::prelude::*;

const FORMATS: [&str; 8] = [
    "e4m3",
    "e5m2",
    "e2m1",
    "e3m2",
    "binary16",
    "bf16",
    "e4m3fnuz",
    "binary8p3",
];

const MODES: [&str; 9] = [
    "rne", "rna", "rtz", "rup", "rdn", "rto", "sr", "sr:3", "sr-eq",
];

/// The finite values of a format of at most 16 bits, ascending, as f64.
fn finite_values(fmt: &Format) -> Vec<f64> {
    let mut v: Vec<f64> = (0..(1u128 << fmt.width()))
        .filter(|&c| {
            matches!(
                codec::classify(fmt, c),
                Class::Normal | Class::Subnormal | Class::Zero
            )
        })
        .map(|c| codec::to_f64(fmt, c))
        .collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

/// Largest value ≤ x and smallest value ≥ x in a sorted list (None outside its range).
fn neighbours(values: &[f64], x: f64) -> (Option<f64>, Option<f64>) {
    let i = values.partition_point(|&v| v < x);
    let hi = values.get(i).copied();
    let lo = if hi == Some(x) {
        hi
    } else {
        i.checked_sub(1).map(|j| values[j])
    };
    (lo, hi)
}

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<u64>().prop_map(f64::from_bits),
        (-1e6f64..1e6),
        (-1.0f64..1.0),
        (-1e-6f64..1e-6),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn format_names_parse_or_fail_without_panic(s in "\\PC{0,16}") {
        let _ = Format::parse(&s);
    }

    #[test]
    fn format_like_names_parse_or_fail_without_panic(s in "u?e[0-9]{1,3}m[0-9]{1,3}(b-?[0-9]{1,4})?(fn|fnuz|fin|ieee|p3109)?(ftz|nz)?") {
        if let Ok(f) = Format::parse(&s) {
            prop_assert_eq!(Format::parse(&f.to_string()).unwrap(), f);
        }
    }

    #[test]
    fn values_parse_or_fail_without_panic(s in "[-+]?(0x)?[0-9a-fA-F.]{0,12}([ep][-+]?[0-9]{0,12})?") {
        let _ = parse_value(&s);
        let _ = parse_code(&s, 16);
    }

    #[test]
    fn arbitrary_text_never_panics_the_value_parser(s in "\\PC{0,24}") {
        let _ = parse_value(&s);
    }

    #[test]
    fn shortest_decimal_text_parses_back_to_the_same_f64(x in any::<u64>().prop_map(f64::from_bits)) {
        prop_assume!(x.is_finite());
        let v = parse_value(&codec::shortest(x)).unwrap();
        prop_assert_eq!(v.to_f64().to_bits(), x.to_bits());
    }

    #[test]
    fn every_f64_rounds_to_one_of_its_two_neighbours(
        x in any_f64(), f in 0..FORMATS.len(), m in 0..MODES.len(), seed in any::<u64>()
    ) {
        prop_assume!(x.is_finite());
        let fmt = Format::parse(FORMATS[f]).unwrap();
        let mode: RoundingMode = MODES[m].parse().unwrap();
        let r = codec::from_f64(&fmt, x, &Rounding::new(mode), &mut ElementStream::new(seed, 0));
        let values = finite_values(&fmt);
        let (lo, hi) = neighbours(&values, x);
        match codec::classify(&fmt, r.value) {
            Class::Nan | Class::Inf => {
                // Only beyond the finite range.
                prop_assert!(lo.is_none() || hi.is_none(), "{} {} {}: {:#x}", fmt, mode, x, r.value);
            }
            _ => {
                let v = codec::to_f64(&fmt, r.value);
                let ok = Some(v) == lo || Some(v) == hi
                    || (hi.is_none() && v == values[values.len() - 1])
                    || (lo.is_none() && v == values[0]);
                prop_assert!(ok, "{} {} {}: got {}, neighbours {:?} {:?}", fmt, mode, x, v, lo, hi);
                prop_assert_eq!(r.flags.contains(anyfloat::Flags::INEXACT), v != x);
            }
        }
    }

    #[test]
    fn binary32_rne_agrees_with_the_hardware_conversion(x in any_f64()) {
        prop_assume!(x.is_finite());
        let r = codec::from_f64(&Format::binary32(), x, &Rounding::default(), &mut anyfloat::rng::NoRandom);
        prop_assert_eq!(r.value as u32, (x as f32).to_bits());
    }
}
