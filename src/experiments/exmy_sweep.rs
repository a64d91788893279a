//! `exmy_sweep`: for each total width (sign + E + M bits), every exponent/mantissa split of a
//! finite element format with subnormals (`e<E>m<M>fin`, every code a number, like OCP
//! FP4/FP6), under per-block absmax scaling (exact binary64 scale: amax maps to the element
//! max), QSNR on the block studies' distributions; the best split per width beside the
//! layouts the scaling-law paper reports as optimal ("Scaling Laws for Floating Point
//! Quantization Training", Sun et al. 2025: E2M1 at 4 bits, E3M2 at 6, E4M3 at 8, E8M7 at 16).
//! Exponent fields stop at 10 bits (wider `fin` formats leave the f64 range).

use super::block_scales::{name_key, sample};
use crate::block::{self, BlockFormat, Element, ScaleRule};
use crate::error::{Error, Result};
use crate::exp::{Experiment, Param, ParamSpec, Point, Prepared, Recipe, Table};
use crate::format::Format;
use crate::mode::RoundingMode;
use crate::plot::{self, LineChart, Series};
use crate::rng::derive_key;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// See the module docs.
pub struct ExmySweep;

/// The paper's optimal exponent bits per width, where it reports one.
fn paper_exp_bits(width: i64) -> Option<i64> {
    match width {
        4 => Some(2),
        6 => Some(3),
        8 => Some(4),
        16 => Some(8),
        _ => None,
    }
}

const COLUMNS: [&str; 6] = [
    "width",
    "exp_bits",
    "man_bits",
    "distribution",
    "qsnr_db",
    "saturated",
];

impl Experiment for ExmySweep {
    fn kind(&self) -> &'static str {
        "exmy_sweep"
    }
    fn about(&self) -> &'static str {
        "QSNR of every exponent/mantissa split per bit width under per-block absmax scaling"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::new("width", Param::Int(8), "total bits (sign + E + M), 3 to 16"),
            ParamSpec::new(
                "distribution",
                Param::Text("gaussian".into()),
                "as block_scales",
            ),
            ParamSpec::new("block", Param::Int(32), "block size"),
            ParamSpec::new(
                "rounding",
                Param::Text("rne".into()),
                "element rounding mode",
            ),
            ParamSpec::new("samples", Param::Int(65536), "values per point"),
        ]
    }
    fn check(&self, recipe: &Recipe) -> Result<()> {
        for p in recipe.values_of("width") {
            if !matches!(p, Param::Int(3..=16)) {
                return Err(Error::Invalid(format!("width {p}: expected 3 to 16")));
            }
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
        let width = recipe.i64(point, "width")?;
        let dist = recipe.text(point, "distribution")?;
        let n = recipe.usize(point, "samples")?;
        let x = sample(dist, n, name_key(recipe.seed, dist))?;
        let mut t = Table::new(&COLUMNS);
        for e in 1..=(width - 2).min(10) {
            let m = width - 1 - e;
            let fmt = Format::parse(&format!("e{e}m{m}fin"))?;
            let mut bf = BlockFormat::new(
                Element::Float(fmt),
                Format::binary64(),
                recipe.usize(point, "block")?,
                ScaleRule::Nearest,
            );
            bf.rounding.mode = recipe.text(point, "rounding")?.parse()?;
            let q = block::quantize(&bf, &x, derive_key(key, &[e as u64]))?;
            let st = block::error_stats(&x, &q.dequantized);
            t.push(vec![
                width.into(),
                e.into(),
                m.into(),
                dist.into(),
                st.qsnr_db.into(),
                (q.saturated as f64 / n as f64).into(),
            ]);
        }
        Ok(vec![("qsnr".into(), t)])
    }
    fn outputs(
        &self,
        _: &Recipe,
        mut tables: BTreeMap<String, Table>,
    ) -> Result<Vec<(String, Table)>> {
        let all = tables.remove("qsnr").unwrap_or_default();
        let mut best = Table::new(&[
            "width",
            "distribution",
            "best",
            "best_qsnr_db",
            "paper",
            "paper_qsnr_db",
            "paper_minus_best_db",
        ]);
        for dist in all.distinct("distribution")? {
            let d = all.filter("distribution", &dist)?;
            let mut widths: Vec<i64> = d.floats("width")?.iter().map(|&w| w as i64).collect();
            widths.dedup();
            for w in widths {
                let r = d.filter("width", &w.to_string())?;
                let (e, q) = (r.floats("exp_bits")?, r.floats("qsnr_db")?);
                let Some(k) = (0..q.len()).max_by(|&a, &b| q[a].total_cmp(&q[b])) else {
                    continue;
                };
                let name = |e: f64| format!("e{}m{}", e as i64, w - 1 - e as i64);
                let paper =
                    paper_exp_bits(w).and_then(|pe| (0..e.len()).find(|&i| e[i] as i64 == pe));
                best.push(vec![
                    w.into(),
                    dist.as_str().into(),
                    name(e[k]).into(),
                    q[k].into(),
                    paper.map_or(String::new(), |i| name(e[i])).into(),
                    paper.map_or(f64::NAN, |i| q[i]).into(),
                    paper.map_or(f64::NAN, |i| q[i] - q[k]).into(),
                ]);
            }
        }
        Ok(vec![("qsnr.csv".into(), all), ("best.csv".into(), best)])
    }
    fn figures(&self, _: &Recipe, outputs: &[(String, Table)], dir: &Path) -> Result<Vec<PathBuf>> {
        let all = &outputs[0].1;
        let mut files = Vec::new();
        for dist in all.distinct("distribution")? {
            let d = all.filter("distribution", &dist)?;
            let mut series = Vec::new();
            for (i, w) in d.distinct("width")?.iter().enumerate() {
                let r = d.filter("width", w)?;
                let pts = r
                    .floats("exp_bits")?
                    .into_iter()
                    .zip(r.floats("qsnr_db")?)
                    .collect();
                series.push(Series::new(format!("{w} bits"), pts, i));
            }
            files.extend(plot::line_chart(
                &dir.join(format!("exmy_{dist}")),
                &LineChart {
                    title: format!("{dist} data, per-block absmax scaling: QSNR per split"),
                    x_label: "exponent bits E (M = width - 1 - E)".into(),
                    y_label: "QSNR (dB)".into(),
                    series,
                    ..LineChart::default()
                },
            )?);
        }
        Ok(files)
    }
}
