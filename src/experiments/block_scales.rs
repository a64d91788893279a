//! `block_scales`: QSNR of block-scaled formats — E2M1 elements under E8M0, UE4M3, UE5M3 and
//! exact scales, block sizes, scale rules, Hadamard, tensor scaling, RNE vs SR — and of the MX
//! presets, on Gaussian, Laplace, Student-t (ν = 3, 5) and outlier-laden data; with the bias
//! (mean error) of RNE and SR. The Graphcore FP4 study's claim under test: the scale's
//! representation is the bottleneck, and UE5M3 combines E8M0's range with E4M3's precision.

use crate::block::{self, BlockFormat, Element, ScaleRule};
use crate::error::{Error, Result};
use crate::exp::{Cell, Experiment, Param, ParamSpec, Point, Prepared, Recipe, Table};
use crate::format::Format;
use crate::mode::RoundingMode;
use crate::plot::{self, LineChart, Series};
use crate::rng::{Stream, derive_key};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// See the module docs.
pub struct BlockScales;

/// The distributions every block study draws from.
pub const DISTRIBUTIONS: [&str; 5] = ["gaussian", "laplace", "student3", "student5", "outliers"];

/// `n` samples of a named distribution from the stream `key` (unit scale; `outliers` is
/// Gaussian with one entry in 1000 multiplied by 100).
pub fn sample(dist: &str, n: usize, key: u64) -> Result<Vec<f64>> {
    let mut s = Stream::from_key(key);
    let student = |s: &mut Stream, nu: usize| {
        let z = s.next_normal();
        let chi2: f64 = (0..nu).map(|_| s.next_normal().powi(2)).sum();
        z / (chi2 / nu as f64).sqrt()
    };
    (0..n)
        .map(|_| {
            Ok(match dist {
                "gaussian" => s.next_normal(),
                "laplace" => {
                    let u = s.next_f64() - 0.5;
                    -u.signum() * (1.0 - 2.0 * u.abs()).ln()
                }
                "student3" => student(&mut s, 3),
                "student5" => student(&mut s, 5),
                "outliers" => {
                    let z = s.next_normal();
                    if s.next_f64() < 1e-3 { 100.0 * z } else { z }
                }
                other => {
                    return Err(Error::Invalid(format!(
                        "distribution {other:?}: expected one of {}",
                        DISTRIBUTIONS.join(", ")
                    )));
                }
            })
        })
        .collect()
}

/// The key of a data set named `name` under `seed` (the same data for every configuration).
pub fn name_key(seed: u64, name: &str) -> u64 {
    let words: Vec<u64> = name.bytes().map(u64::from).collect();
    derive_key(seed, &words)
}

/// A block format from `SCALE/BLOCK/RULE` (E2M1 elements) or a preset name.
fn config(spec: &str) -> Result<BlockFormat> {
    let parts: Vec<&str> = spec.split('/').collect();
    match parts[..] {
        [scale, block, rule] => {
            let k = block
                .parse()
                .map_err(|_| Error::Invalid(format!("config {spec:?}: bad block size")))?;
            Ok(BlockFormat::new(
                Element::Float(Format::parse("e2m1")?),
                block::parse_scale(scale)?,
                k,
                ScaleRule::parse(rule)?,
            ))
        }
        _ => BlockFormat::preset(spec),
    }
}

const COLUMNS: [&str; 15] = [
    "config",
    "element",
    "scale",
    "block",
    "rule",
    "hadamard",
    "tensor",
    "rounding",
    "distribution",
    "magnitude",
    "samples",
    "qsnr_db",
    "mse",
    "rel_bias",
    "saturated",
];

impl Experiment for BlockScales {
    fn kind(&self) -> &'static str {
        "block_scales"
    }
    fn about(&self) -> &'static str {
        "QSNR of block formats: scale formats, block sizes, scale rules, Hadamard, tensor scale, RNE/SR"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::new(
                "config",
                Param::Text("e8m0/32/floor".into()),
                "SCALE/BLOCK/RULE with E2M1 elements (scale exact = binary64), or a preset",
            ),
            ParamSpec::new("distribution", Param::Text("gaussian".into()), DIST_DOC),
            ParamSpec::new(
                "hadamard",
                Param::Bool(false),
                "randomized Hadamard transform",
            ),
            ParamSpec::new("tensor", Param::Bool(false), "binary32 per-tensor scale"),
            ParamSpec::new(
                "rounding",
                Param::Text("rne".into()),
                "element rounding mode",
            ),
            ParamSpec::new("samples", Param::Int(65536), "values per point"),
            ParamSpec::new(
                "magnitude",
                Param::Float(1.0),
                "multiplies the data (small values test the scale format's range)",
            ),
        ]
    }
    fn check(&self, recipe: &Recipe) -> Result<()> {
        for p in recipe.values_of("config") {
            config(&p.to_string())?.check()?;
        }
        for p in recipe.values_of("distribution") {
            sample(&p.to_string(), 0, 0)?;
        }
        for p in recipe.values_of("rounding") {
            p.to_string().parse::<RoundingMode>()?;
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
        let spec = recipe.text(point, "config")?;
        let mut bf = config(spec)?;
        let dist = recipe.text(point, "distribution")?;
        let n = recipe.usize(point, "samples")?;
        bf.hadamard = recipe.bool(point, "hadamard")?;
        bf.tensor_scale = recipe.bool(point, "tensor")?;
        bf.rounding.mode = recipe.text(point, "rounding")?.parse()?;
        if bf.hadamard && !bf.block.is_power_of_two() {
            return Ok(vec![("qsnr".into(), Table::new(&COLUMNS))]);
        }
        // The same data for every configuration of a distribution: keyed by its name only.
        let data_key = name_key(recipe.seed, dist);
        let magnitude = recipe.f64(point, "magnitude")?;
        let x: Vec<f64> = sample(dist, n, data_key)?
            .into_iter()
            .map(|v| v * magnitude)
            .collect();
        let q = block::quantize(&bf, &x, derive_key(key, &[1]))?;
        let st = block::error_stats(&x, &q.dequantized);
        let rms = (x.iter().map(|v| v * v).sum::<f64>() / n as f64).sqrt();
        let mut t = Table::new(&COLUMNS);
        t.push(vec![
            spec.into(),
            bf.elem.to_string().into(),
            if bf.scale == Format::binary64() {
                "exact".to_string()
            } else {
                bf.scale.to_string()
            }
            .into(),
            bf.block.into(),
            bf.rule.to_string().into(),
            bf.hadamard.to_string().into(),
            bf.tensor_scale.to_string().into(),
            bf.rounding.mode.to_string().into(),
            dist.into(),
            magnitude.into(),
            n.into(),
            st.qsnr_db.into(),
            st.mse.into(),
            (st.mean_error / rms).into(),
            Cell::Float(q.saturated as f64 / n as f64),
        ]);
        Ok(vec![("qsnr".into(), t)])
    }
    fn outputs(
        &self,
        _: &Recipe,
        mut tables: BTreeMap<String, Table>,
    ) -> Result<Vec<(String, Table)>> {
        Ok(vec![(
            "qsnr.csv".into(),
            tables.remove("qsnr").unwrap_or_default(),
        )])
    }
    fn figures(&self, _: &Recipe, outputs: &[(String, Table)], dir: &Path) -> Result<Vec<PathBuf>> {
        let rows = &outputs[0].1;
        let mut files = Vec::new();
        let plain = rows
            .filter("magnitude", "1")?
            .filter("hadamard", "false")?
            .filter("tensor", "false")?
            .filter("rounding", "rne")?;
        // QSNR vs block size per scale format (E2M1 elements), one chart per distribution.
        for dist in plain.distinct("distribution")? {
            let d = plain
                .filter("distribution", &dist)?
                .filter("element", "e2m1")?;
            let mut series = Vec::new();
            for (i, scale) in d.distinct("scale")?.iter().enumerate() {
                for (j, rule) in ["floor", "nearest"].iter().enumerate() {
                    let t = d.filter("scale", scale)?.filter("rule", rule)?;
                    // Custom configurations only (presets have no '/').
                    let t = Table {
                        rows: t
                            .rows
                            .into_iter()
                            .filter(|r| r[0].as_text().contains('/'))
                            .collect(),
                        ..t
                    };
                    if t.rows.is_empty() {
                        continue;
                    }
                    let mut pts: Vec<(f64, f64)> = t
                        .floats("block")?
                        .into_iter()
                        .zip(t.floats("qsnr_db")?)
                        .collect();
                    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                    series.push(Series::new(format!("{scale} {rule}"), pts, i + 6 * j));
                }
            }
            files.extend(plot::line_chart(
                &dir.join(format!("qsnr_block_{dist}")),
                &LineChart {
                    title: format!("E2M1 blocks, {dist} data: QSNR vs block size"),
                    x_label: "block size".into(),
                    y_label: "QSNR (dB)".into(),
                    x_log: true,
                    series,
                    ..LineChart::default()
                },
            )?);
        }
        // QSNR per preset and distribution.
        let mut series = Vec::new();
        for (i, preset) in block::PRESETS.iter().map(|p| p.0).enumerate() {
            let t = plain.filter("config", preset)?;
            if t.rows.is_empty() {
                continue;
            }
            let pts = DISTRIBUTIONS
                .iter()
                .enumerate()
                .filter_map(|(k, d)| {
                    let r = t.filter("distribution", d).ok()?;
                    let v = r.floats("qsnr_db").ok()?;
                    v.first().map(|&q| (k as f64 + 1.0, q))
                })
                .collect();
            series.push(Series::new(preset, pts, i));
        }
        files.extend(plot::line_chart(
            &dir.join("qsnr_presets"),
            &LineChart {
                title: "Presets: QSNR per distribution (RNE)".into(),
                x_label: "1 gaussian, 2 laplace, 3 student-t 3, 4 student-t 5, 5 outliers".into(),
                y_label: "QSNR (dB)".into(),
                series,
                ..LineChart::default()
            },
        )?);
        Ok(files)
    }
}

const DIST_DOC: &str = "gaussian, laplace, student3, student5 or outliers";
