//! Measuring your own function: a binary32 exp written as range reduction plus a degree-5
//! polynomial, against the correctly rounded result, over every binary32 input in [1, 4].
//!
//! `cargo run --release --example ulp_custom`

use anyfloat::oracle::Function;
use anyfloat::ulp::{self, Config, UnaryF32};
use anyfloat::{Format, Result};

/// exp(x) = 2^k · e^r with k = round(x / ln 2), r = x − k ln 2 (|r| ≤ ln 2 / 2), e^r by its
/// Taylor polynomial of degree 5 in Horner form; all in f32.
fn my_exp(x: f32) -> f32 {
    let k = (x * std::f32::consts::LOG2_E).round();
    let r = (-k).mul_add(std::f32::consts::LN_2, x);
    let c = [1.0, 1.0, 1.0 / 2.0, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0];
    let p = c.iter().rev().fold(0.0f32, |acc, &ci| acc.mul_add(r, ci));
    p * 2f32.powi(k as i32)
}

fn main() -> Result<()> {
    let cfg = Config {
        range: Some((1.0, 4.0)),
        ..Config::new(Function::Exp, Format::binary32())
    };
    // A closure works as well: ulp::Unary(|x: f64| ...) for f64, UnaryF32 for f32.
    let report = ulp::measure(&cfg, &UnaryF32(my_exp))?;
    println!(
        "my_exp over {} binary32 inputs in [1, 4]: max ULP error {:.3} at x = {} ({}), \
         mean {:.3}, {} not correctly rounded",
        report.inputs,
        report.max_ulp,
        report
            .argmax
            .as_ref()
            .map_or("-".into(), |a| a.hex[0].clone()),
        report
            .argmax
            .as_ref()
            .map_or("-".into(), |a| a.decimal[0].clone()),
        report.mean_ulp,
        report.incorrectly_rounded
    );
    let std = ulp::measure(&cfg, &UnaryF32(f32::exp))?;
    println!(
        "f32::exp (the platform libm) for comparison: max {:.3}, {} not correctly rounded",
        std.max_ulp, std.incorrectly_rounded
    );
    Ok(())
}
