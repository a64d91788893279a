//! Arithmetic in binary32 and binary64 (round to nearest even) against the CPU's own IEEE
//! operations: bits must agree, and NaN results must be NaN.

use anyfloat::arith::Op;
use anyfloat::rng::{NoRandom, RandomSource, Stream};
use anyfloat::{Format, Rounding};

/// Operands that cover edge patterns: specials, zeros, extremes, subnormals, and random bits.
fn operands64(stream: &mut Stream, n: usize) -> Vec<f64> {
    let mut v = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        -5e-324,
        f64::from_bits(0x000f_ffff_ffff_ffff), // largest subnormal
        1.5,
        3.0,
        0.1,
        1e308,
        -1e-310,
    ];
    while v.len() < n {
        let bits = stream.next_u64();
        // Half uniform bits, half values near 1 so that sums cancel and products stay normal.
        v.push(if v.len() % 2 == 0 {
            f64::from_bits(bits)
        } else {
            1.0 + (bits >> 12) as f64 * 2f64.powi(-52)
        });
    }
    v
}

fn check(fmt: &Format, op: Op, args: &[u64], native: u64, is_nan: bool) {
    let codes: Vec<u128> = args.iter().map(|&a| a as u128).collect();
    let r = op
        .apply(fmt, &codes, &Rounding::default(), &mut NoRandom)
        .unwrap();
    if is_nan {
        assert!(
            anyfloat::codec::classify(fmt, r.value) == anyfloat::codec::Class::Nan,
            "{fmt} {op} {args:x?}: expected NaN, got {:#x}",
            r.value
        );
    } else {
        assert_eq!(r.value as u64, native, "{fmt} {op} {args:x?}");
    }
}

#[test]
fn binary64_add_sub_mul_div_sqrt_fma_match_the_cpu() {
    let f = Format::binary64();
    let xs = operands64(&mut Stream::new(1), 300);
    for (i, &a) in xs.iter().enumerate() {
        let r = a.sqrt();
        check(&f, Op::Sqrt, &[a.to_bits()], r.to_bits(), r.is_nan());
        for (j, &b) in xs.iter().enumerate().skip(i % 7).step_by(7) {
            for (op, r) in [
                (Op::Add, a + b),
                (Op::Sub, a - b),
                (Op::Mul, a * b),
                (Op::Div, a / b),
            ] {
                check(&f, op, &[a.to_bits(), b.to_bits()], r.to_bits(), r.is_nan());
            }
            let c = xs[(i + j) % xs.len()];
            let r = a.mul_add(b, c);
            check(
                &f,
                Op::Fma,
                &[a.to_bits(), b.to_bits(), c.to_bits()],
                r.to_bits(),
                r.is_nan(),
            );
        }
    }
}

#[test]
fn binary32_arithmetic_matches_the_cpu() {
    let f = Format::binary32();
    let xs: Vec<f32> = operands64(&mut Stream::new(2), 400)
        .into_iter()
        .map(|x| {
            if x.abs() > 1e30 {
                f32::from_bits(x.to_bits() as u32)
            } else {
                x as f32
            }
        })
        .collect();
    let b = |x: f32| x.to_bits() as u64;
    for (i, &x) in xs.iter().enumerate() {
        let r = x.sqrt();
        check(&f, Op::Sqrt, &[b(x)], b(r), r.is_nan());
        for &y in xs.iter().skip(i % 5).step_by(5) {
            for (op, r) in [
                (Op::Add, x + y),
                (Op::Sub, x - y),
                (Op::Mul, x * y),
                (Op::Div, x / y),
            ] {
                check(&f, op, &[b(x), b(y)], b(r), r.is_nan());
            }
            let r = x.mul_add(y, xs[i / 2]);
            check(&f, Op::Fma, &[b(x), b(y), b(xs[i / 2])], b(r), r.is_nan());
            let lt = Op::Lt { quiet: false }
                .apply(
                    &f,
                    &[b(x) as u128, b(y) as u128],
                    &Rounding::default(),
                    &mut NoRandom,
                )
                .unwrap();
            assert_eq!(lt.value == 1, x < y, "{x} < {y}");
            let eq = Op::Eq { signaling: false }
                .apply(
                    &f,
                    &[b(x) as u128, b(y) as u128],
                    &Rounding::default(),
                    &mut NoRandom,
                )
                .unwrap();
            assert_eq!(eq.value == 1, x == y, "{x} == {y}");
        }
    }
}
