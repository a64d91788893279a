//! `ulp_survey`: ULP errors against the correctly rounded result ([`crate::ulp`]).
//!
//! Each grid point is one `case`:
//! - `libm:FUNC` — the platform libm's binary32 FUNC (Rust's f32 function; erf and exp10, which
//!   std lacks, from the libm crate), over every binary32 input (two-argument functions:
//!   `samples` pairs);
//! - `poly:FORMAT:MODE:DEGREE` — exp by range reduction and a polynomial of degree DEGREE,
//!   every operation an `Emu` operation in FORMAT with rounding MODE ([`poly_exp`]), over
//!   every input whose exp is a normal number of the format (`samples` of them in formats wider
//!   than 22 bits).

use crate::emu::{Context, Emu, with_context};
use crate::error::{Error, Result};
use crate::exp::{Cell, Experiment, Param, ParamSpec, Point, Prepared, Recipe, Table};
use crate::format::Format;
use crate::mode::{Rounding, RoundingMode};
use crate::oracle::Function;
use crate::plot::{self, LineChart, Series};
use crate::real::Real;
use crate::rng::derive_key;
use crate::ulp::{self, Config, Implementation, Inputs, Report};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// See the module docs.
pub struct UlpSurvey;

const LIBM: [&str; 12] = [
    "function",
    "implementation",
    "inputs_kind",
    "inputs",
    "max_ulp",
    "argmax",
    "argmax_hex",
    "mean_ulp",
    "max_distance",
    "incorrectly_rounded",
    "special_mismatches",
    "mpfr_inputs",
];

const POLY: [&str; 9] = [
    "format",
    "rounding",
    "degree",
    "inputs_kind",
    "inputs",
    "max_ulp",
    "mean_ulp",
    "max_distance",
    "incorrectly_rounded",
];

/// A parsed case.
enum Case {
    Libm(Function),
    Poly {
        format: Format,
        mode: RoundingMode,
        degree: usize,
    },
}

fn parse_case(s: &str) -> Result<Case> {
    let err = || {
        Error::Invalid(format!(
            "case {s:?}: expected libm:FUNCTION or poly:FORMAT:MODE:DEGREE (degree 1..=12)"
        ))
    };
    let parts: Vec<&str> = s.split(':').collect();
    match parts.as_slice() {
        ["libm", f] => Ok(Case::Libm(Function::parse(f)?)),
        ["poly", fmt, mode, degree] => {
            let degree: usize = degree.parse().map_err(|_| err())?;
            if !(1..=12).contains(&degree) {
                return Err(err());
            }
            Ok(Case::Poly {
                format: Format::parse(fmt)?,
                mode: mode.parse()?,
                degree,
            })
        }
        _ => Err(err()),
    }
}

/// exp(x) in the current `Emu` format: k = round(x · log2 e), r = x − k·ln2 by two fused
/// multiply-adds with ln 2 split into a rounded high part and the rounded rest, e^r by its
/// Taylor polynomial of degree `degree` in Horner form (fused multiply-adds), times 2^k in two
/// exact factors (so neither leaves the format's range).
pub fn poly_exp(x: Emu, degree: usize) -> Emu {
    let ln2_hi = Emu::from_f64(std::f64::consts::LN_2);
    let ln2_lo = Emu::from_f64(std::f64::consts::LN_2 - ln2_hi.value());
    let t = x * Emu::from_f64(std::f64::consts::LOG2_E);
    let k = t.value().round();
    let mk = Emu::from_f64(-k);
    let r = mk.mul_add(&ln2_hi, &x);
    let r = mk.mul_add(&ln2_lo, &r);
    let mut factorial = 1.0;
    let coeffs: Vec<Emu> = (0..=degree)
        .map(|i| {
            if i > 0 {
                factorial *= i as f64;
            }
            Emu::from_f64(1.0 / factorial)
        })
        .collect();
    let mut p = coeffs[degree];
    for c in coeffs[..degree].iter().rev() {
        p = p.mul_add(&r, c);
    }
    let k1 = (k / 2.0).trunc();
    p * Emu::from_f64(k1.exp2()) * Emu::from_f64((k - k1).exp2())
}

/// [`poly_exp`] as an implementation: stochastic rounding draws from (seed, input position).
struct PolyExp {
    format: Format,
    rounding: Rounding,
    degree: usize,
    key: u64,
}

impl Implementation for PolyExp {
    fn eval(&self, args: &[f64], index: u64) -> f64 {
        let ctx = Context::new(self.format, self.rounding, derive_key(self.key, &[index]))
            .expect("formats checked");
        with_context(&ctx, || {
            poly_exp(Emu::from_f64(args[0]), self.degree).value()
        })
    }
}

impl Experiment for UlpSurvey {
    fn kind(&self) -> &'static str {
        "ulp_survey"
    }
    fn about(&self) -> &'static str {
        "ULP errors vs the correctly rounded result: platform libm binary32, polynomial exp in low precision (RN vs SR)"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::new(
                "case",
                Param::Text("libm:exp".into()),
                "libm:FUNCTION or poly:FORMAT:MODE:DEGREE",
            ),
            ParamSpec::new(
                "libm_exhaustive",
                Param::Bool(true),
                "libm cases over every binary32 input (else samples)",
            ),
            ParamSpec::new(
                "samples",
                Param::Int(1_000_000),
                "inputs of sampled cases (two-argument functions, poly in formats over 22 bits)",
            ),
            ParamSpec::new(
                "range",
                Param::Float(0.0),
                "libm cases: only |x| <= range (0: every input)",
            ),
        ]
    }
    fn check(&self, recipe: &Recipe) -> Result<()> {
        for c in recipe.values_of("case") {
            if let Case::Poly { format, .. } = parse_case(&c.to_string())? {
                Context::new(format, RoundingMode::NearestEven, 0)?;
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
        let samples = recipe.usize(point, "samples")? as u64;
        let sampled = Inputs::Samples {
            count: samples,
            seed: key,
        };
        match parse_case(recipe.text(point, "case")?)? {
            Case::Libm(f) => {
                let fmt = Format::binary32();
                let rne = Rounding::new(RoundingMode::NearestEven);
                let (imp, name) = match ulp::named("std", f, Some(&fmt), &rne, 0) {
                    Ok((imp, _)) => (imp, "std"),
                    Err(_) => (ulp::named("libm", f, Some(&fmt), &rne, 0)?.0, "libm crate"),
                };
                let exhaustive = recipe.bool(point, "libm_exhaustive")? && f.arity() == 1;
                let range = recipe.f64(point, "range")?;
                let cfg = Config {
                    inputs: if exhaustive {
                        Inputs::Exhaustive
                    } else {
                        sampled
                    },
                    range: (range > 0.0).then_some((-range, range)),
                    ..Config::new(f, fmt)
                };
                let r = ulp::measure(&cfg, imp.as_ref())?;
                let mut t = Table::new(&LIBM);
                let (arg, hex) = r
                    .argmax
                    .as_ref()
                    .map_or((String::new(), String::new()), |a| {
                        (a.decimal.join(" "), a.hex.join(" "))
                    });
                t.push(vec![
                    f.name().into(),
                    name.into(),
                    r.inputs_kind.as_str().into(),
                    Cell::Int(r.inputs as i64),
                    r.max_ulp.into(),
                    arg.into(),
                    hex.into(),
                    r.mean_ulp.into(),
                    Cell::Int(r.max_distance as i64),
                    Cell::Int(r.incorrectly_rounded as i64),
                    Cell::Int(r.special.total() as i64),
                    Cell::Int(r.mpfr_inputs as i64),
                ]);
                Ok(vec![("libm".into(), t)])
            }
            Case::Poly {
                format,
                mode,
                degree,
            } => {
                let rounding = Rounding::new(mode);
                let imp = PolyExp {
                    format,
                    rounding,
                    degree,
                    key,
                };
                // Inputs whose exp is a normal number: [ln 2^emin, ln max].
                let max = crate::codec::to_f64(&format, format.max_finite(false));
                let lo = format.emin() as f64 * std::f64::consts::LN_2;
                let cfg = Config {
                    rounding,
                    inputs: if format.width() <= 22 {
                        Inputs::Exhaustive
                    } else {
                        sampled
                    },
                    range: Some((lo, max.ln())),
                    ..Config::new(Function::Exp, format)
                };
                let r = ulp::measure(&cfg, &imp)?;
                let mut t = Table::new(&POLY);
                t.push(poly_row(&format, mode, degree, &r));
                Ok(vec![("poly".into(), t)])
            }
        }
    }
    fn outputs(
        &self,
        _: &Recipe,
        mut tables: BTreeMap<String, Table>,
    ) -> Result<Vec<(String, Table)>> {
        let mut out = Vec::new();
        if let Some(t) = tables.remove("libm") {
            out.push(("libm_binary32.csv".into(), t));
        }
        if let Some(t) = tables.remove("poly") {
            out.push(("poly_exp.csv".into(), t));
        }
        Ok(out)
    }
    fn figures(&self, _: &Recipe, outputs: &[(String, Table)], dir: &Path) -> Result<Vec<PathBuf>> {
        let Some((_, rows)) = outputs.iter().find(|(n, _)| n == "poly_exp.csv") else {
            return Ok(Vec::new());
        };
        let mut files = Vec::new();
        for (column, label, stem) in [
            ("max_ulp", "max ULP error (a)", "poly_exp_max_ulp"),
            ("mean_ulp", "mean ULP error (a)", "poly_exp_mean_ulp"),
        ] {
            let mut series = Vec::new();
            for (i, fmt) in rows.distinct("format")?.iter().enumerate() {
                let t = rows.filter("format", fmt)?;
                for mode in t.distinct("rounding")? {
                    let m = t.filter("rounding", &mode)?;
                    let mut points: Vec<(f64, f64)> = m
                        .floats("degree")?
                        .into_iter()
                        .zip(m.floats(column)?)
                        .collect();
                    points.sort_by(|a, b| a.0.total_cmp(&b.0));
                    let mut s = Series::new(format!("{fmt} {mode}"), points, i);
                    s.markers = true;
                    s.line = mode == "rne";
                    series.push(s);
                }
            }
            files.extend(plot::line_chart(
                &dir.join(stem),
                &LineChart {
                    title: format!("Polynomial exp in Emu: {label} vs degree (lines RN, dots SR)"),
                    x_label: "polynomial degree".into(),
                    y_label: label.into(),
                    y_log: true,
                    series,
                    ..LineChart::default()
                },
            )?);
        }
        Ok(files)
    }
}

fn poly_row(format: &Format, mode: RoundingMode, degree: usize, r: &Report) -> Vec<Cell> {
    vec![
        format.to_string().into(),
        mode.to_string().into(),
        degree.into(),
        r.inputs_kind.as_str().into(),
        Cell::Int(r.inputs as i64),
        r.max_ulp.into(),
        r.mean_ulp.into(),
        Cell::Int(r.max_distance as i64),
        Cell::Int(r.incorrectly_rounded as i64),
    ]
}
