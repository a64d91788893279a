//! `lmul`: the L-Mul approximate product of "Addition is All You Need" (Luo & Sun, 2024),
//! (1 + x_m + y_m + 2^−l(m)) · 2^(x_e + y_e) with l(m) = m for m ≤ 3, 3 for m = 4, 4 for m > 4,
//! as the formula and as an integer add of the bit patterns (the mantissa carry moves into
//! the exponent), against the exact product and the correctly rounded (RNE) product with m
//! mantissa bits. Relative errors depend only on the significands (exponents add exactly), so
//! "all representable operand pairs" are all 2^m × 2^m significand pairs; "continuous" inputs
//! are significands uniform in [1, 2), rounded (RNE) to m bits before L-Mul or the float
//! multiply and compared with the exact product of the unrounded inputs.
//!
//! The paper's claims: L-Mul with a 4-bit mantissa is as precise as float8 E4M3
//! multiplication (m = 3, RNE), and with 3 bits it beats E5M2 (m = 2).

use crate::codec;
use crate::error::{Error, Result};
use crate::exp::{Experiment, Param, ParamSpec, Point, Prepared, Recipe, Table};
use crate::format::Format;
use crate::mode::{Rounding, RoundingMode};
use crate::plot::{self, LineChart, Series};
use crate::rng::{NoRandom, Stream};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// See the module docs.
pub struct Lmul;

/// l(m) of the paper.
pub fn offset_bits(m: u32) -> u32 {
    match m {
        0..=3 => m,
        4 => 3,
        _ => 4,
    }
}

/// L-Mul of significands 1 + a/2^m and 1 + b/2^m (a, b < 2^m) as the formula: the
/// significand of the result (exponent sum 0).
pub fn lmul_formula(a: u64, b: u64, m: u32) -> f64 {
    1.0 + (a + b) as f64 / (1u64 << m) as f64 + 2f64.powi(-(offset_bits(m) as i32))
}

/// L-Mul as an integer add of bit patterns: (E_x·2^m + a) + (E_y·2^m + b) − bias·2^m +
/// 2^(m − l), read back as a float; with exponent sum 0 a mantissa carry doubles the value.
pub fn lmul_int(a: u64, b: u64, m: u32) -> f64 {
    // The offset 2^−l is 2^(m − l) units of the last mantissa bit (l ≤ m for every m).
    let sum = a + b + (1u64 << (m - offset_bits(m)));
    let (carry, man) = (sum >> m, sum & ((1u64 << m) - 1));
    (1.0 + man as f64 / (1u64 << m) as f64) * 2f64.powi(carry as i32)
}

/// The product of two significands rounded (RNE) to m mantissa bits.
fn rounded_product(x: f64, y: f64, fmt: &Format) -> f64 {
    let r = codec::from_f64(
        fmt,
        x * y,
        &Rounding::new(RoundingMode::NearestEven),
        &mut NoRandom,
    );
    codec::to_f64(fmt, r.value)
}

const COLUMNS: [&str; 6] = [
    "inputs",
    "mantissa_bits",
    "method",
    "pairs",
    "mean_rel_error",
    "max_rel_error",
];

impl Experiment for Lmul {
    fn kind(&self) -> &'static str {
        "lmul"
    }
    fn about(&self) -> &'static str {
        "L-Mul (formula and integer add) vs exact and correctly rounded products, m = 2..5"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::new("mantissa_bits", Param::Int(3), "m, 1 to 10"),
            ParamSpec::new(
                "inputs",
                Param::Text("grid".into()),
                "grid (all pairs) or continuous",
            ),
            ParamSpec::new(
                "samples",
                Param::Int(1_000_000),
                "pairs for continuous inputs",
            ),
        ]
    }
    fn check(&self, recipe: &Recipe) -> Result<()> {
        for p in recipe.values_of("mantissa_bits") {
            if !matches!(p, Param::Int(1..=10)) {
                return Err(Error::Invalid(format!(
                    "mantissa_bits {p}: expected 1 to 10"
                )));
            }
        }
        for p in recipe.values_of("inputs") {
            if !["grid", "continuous"].contains(&p.to_string().as_str()) {
                return Err(Error::Invalid(format!(
                    "inputs {p}: expected grid or continuous"
                )));
            }
        }
        Ok(())
    }
    fn run_point(
        &self,
        recipe: &Recipe,
        point: &Point,
        key: u64,
        _: &Prepared,
    ) -> Result<Vec<(String, Table)>> {
        let m = recipe.i64(point, "mantissa_bits")? as u32;
        let inputs = recipe.text(point, "inputs")?;
        // A wide exponent so that products of significands never overflow or underflow.
        let fmt = Format::parse(&format!("e8m{m}"))?;
        let unit = (1u64 << m) as f64;
        let mut pairs: Vec<(u64, u64, f64)> = Vec::new(); // (a, b, exact product)
        if inputs == "grid" {
            for a in 0..1u64 << m {
                for b in 0..1u64 << m {
                    pairs.push((a, b, (1.0 + a as f64 / unit) * (1.0 + b as f64 / unit)));
                }
            }
        } else {
            let mut s = Stream::from_key(key);
            let n = recipe.usize(point, "samples")?;
            for _ in 0..n {
                let (x, y) = (1.0 + s.next_f64(), 1.0 + s.next_f64());
                // Round each operand to m bits; a carry to 2 keeps mantissa 0 with exponent 1.
                let rx = rounded_product(x, 1.0, &fmt);
                let ry = rounded_product(y, 1.0, &fmt);
                let (ax, ex) = if rx >= 2.0 {
                    (0, 1)
                } else {
                    (((rx - 1.0) * unit) as u64, 0)
                };
                let (ay, ey) = if ry >= 2.0 {
                    (0, 1)
                } else {
                    (((ry - 1.0) * unit) as u64, 0)
                };
                let scale = 2f64.powi(ex + ey);
                // Store exact product divided by the operands' exponent scale.
                pairs.push((ax, ay, x * y / scale));
            }
        }
        let mut t = Table::new(&COLUMNS);
        let mut stats = |name: &str, f: &dyn Fn(u64, u64) -> f64| {
            let (mut sum, mut max) = (0.0, 0.0f64);
            for &(a, b, exact) in &pairs {
                let rel = ((f(a, b) - exact) / exact).abs();
                sum += rel;
                max = max.max(rel);
            }
            t.push(vec![
                inputs.into(),
                (m as i64).into(),
                name.into(),
                pairs.len().into(),
                (sum / pairs.len() as f64).into(),
                max.into(),
            ]);
        };
        stats("lmul_formula", &|a, b| lmul_formula(a, b, m));
        stats("lmul_int", &|a, b| lmul_int(a, b, m));
        stats("fp_rne", &|a, b| {
            rounded_product(1.0 + a as f64 / unit, 1.0 + b as f64 / unit, &fmt)
        });
        Ok(vec![("errors".into(), t)])
    }
    fn outputs(
        &self,
        _: &Recipe,
        mut tables: BTreeMap<String, Table>,
    ) -> Result<Vec<(String, Table)>> {
        let all = tables.remove("errors").unwrap_or_default();
        // The paper's two claims, per input kind: L-Mul (m) mean error vs RNE float (m − 1).
        let mut claims = Table::new(&["inputs", "claim", "lmul_mean", "float8_mean", "holds"]);
        for inputs in all.distinct("inputs")? {
            let d = all.filter("inputs", &inputs)?;
            let mean = |m: i64, method: &str| -> Option<f64> {
                d.filter("mantissa_bits", &m.to_string())
                    .and_then(|t| t.filter("method", method))
                    .ok()
                    .and_then(|t| t.floats("mean_rel_error").ok())
                    .and_then(|v| v.first().copied())
            };
            for (claim, lm, fm) in [
                ("L-Mul m=4 as precise as e4m3 mul", 4, 3),
                ("L-Mul m=3 beats e5m2 mul", 3, 2),
            ] {
                for method in ["lmul_formula", "lmul_int"] {
                    if let (Some(l), Some(f)) = (mean(lm, method), mean(fm, "fp_rne")) {
                        claims.push(vec![
                            inputs.as_str().into(),
                            format!("{claim} ({method})").into(),
                            l.into(),
                            f.into(),
                            (l <= f).to_string().into(),
                        ]);
                    }
                }
            }
        }
        Ok(vec![
            ("errors.csv".into(), all),
            ("claims.csv".into(), claims),
        ])
    }
    fn figures(&self, _: &Recipe, outputs: &[(String, Table)], dir: &Path) -> Result<Vec<PathBuf>> {
        let all = &outputs[0].1;
        let mut files = Vec::new();
        for inputs in all.distinct("inputs")? {
            let d = all.filter("inputs", &inputs)?;
            let mut series = Vec::new();
            for (i, method) in d.distinct("method")?.iter().enumerate() {
                let r = d.filter("method", method)?;
                let pts = r
                    .floats("mantissa_bits")?
                    .into_iter()
                    .zip(r.floats("mean_rel_error")?)
                    .collect();
                series.push(Series::new(method.clone(), pts, i));
            }
            files.extend(plot::line_chart(
                &dir.join(format!("lmul_{inputs}")),
                &LineChart {
                    title: format!("Mean relative error of products ({inputs} inputs)"),
                    x_label: "mantissa bits m".into(),
                    y_label: "mean |relative error|".into(),
                    y_log: true,
                    series,
                    ..LineChart::default()
                },
            )?);
        }
        Ok(files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lmul_worked_by_hand() {
        // m = 2, l = 2: x = y = 1.75 (a = b = 3). Formula: 1 + 6/4 + 1/4 = 2.75. Integer add:
        // 3 + 3 + 2^(2−2) = 7 = carry 1, mantissa 3 → 1.75 · 2 = 3.5. Exact: 3.0625.
        assert_eq!(lmul_formula(3, 3, 2), 2.75);
        assert_eq!(lmul_int(3, 3, 2), 3.5);
        // Without a carry both agree: a = 1, b = 0 (1.25 · 1): 1 + 1/4 + 1/4 = 1.5.
        assert_eq!(lmul_formula(1, 0, 2), 1.5);
        assert_eq!(lmul_int(1, 0, 2), 1.5);
        // m = 4, l = 3: offset 2^(4−3) = 2 units; 15 + 15 + 2 = 32 → carry 2, mantissa 0 → 4.
        assert_eq!(lmul_int(15, 15, 4), 4.0);
        assert_eq!(lmul_formula(15, 15, 4), 1.0 + 30.0 / 16.0 + 0.125);
        assert_eq!([1, 2, 3, 4, 5, 6].map(offset_bits), [1, 2, 3, 3, 4, 4]);
    }
}
