//! `rounding_error`: the error of rounding random data into a format — mean relative error
//! (the bias, which stochastic rounding removes), mean and max absolute relative error.
//! Small and fast: it is also the runner's own end-to-end test.

use crate::codec;
use crate::error::{Error, Result};
use crate::exp::{Cell, Experiment, Param, ParamSpec, Point, Prepared, Recipe, Table};
use crate::format::Format;
use crate::mode::{Rounding, RoundingMode};
use crate::plot::{self, LineChart, Series};
use crate::rng::{ElementStream, Stream};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// See the module docs.
pub struct RoundingError;

const COLUMNS: [&str; 8] = [
    "format",
    "precision",
    "rounding",
    "distribution",
    "samples",
    "mean_rel_error",
    "mean_abs_rel_error",
    "max_abs_rel_error",
];

impl Experiment for RoundingError {
    fn kind(&self) -> &'static str {
        "rounding_error"
    }
    fn about(&self) -> &'static str {
        "relative error and bias of rounding random data into formats (RN vs SR)"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::new("format", Param::Text("bf16".into()), "target format name"),
            ParamSpec::new("rounding", Param::Text("rne".into()), "rounding mode"),
            ParamSpec::new(
                "distribution",
                Param::Text("normal".into()),
                "normal, uniform (on [1, 2)) or lognormal",
            ),
            ParamSpec::new(
                "samples",
                Param::Int(100_000),
                "values rounded per grid point",
            ),
            ParamSpec::new("scale", Param::Float(1.0), "multiplies every sample"),
        ]
    }
    fn check(&self, recipe: &Recipe) -> Result<()> {
        for p in recipe.values_of("format") {
            Format::parse(&p.to_string())?;
        }
        for p in recipe.values_of("rounding") {
            p.to_string().parse::<RoundingMode>()?;
        }
        for p in recipe.values_of("distribution") {
            if !["normal", "uniform", "lognormal"].contains(&p.to_string().as_str()) {
                return Err(Error::Invalid(format!(
                    "distribution {p:?}: expected normal, uniform or lognormal"
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
        let fmt = Format::parse(recipe.text(point, "format")?)?;
        let mode: RoundingMode = recipe.text(point, "rounding")?.parse()?;
        let dist = recipe.text(point, "distribution")?;
        let n = recipe.usize(point, "samples")?;
        let scale = recipe.f64(point, "scale")?;
        let mut data = Stream::from_key(crate::rng::derive_key(key, &[0]));
        let rounding_key = crate::rng::derive_key(key, &[1]);
        let rounding = Rounding::new(mode);
        let (mut sum, mut sum_abs, mut max_abs) = (0.0, 0.0, 0.0f64);
        for i in 0..n {
            let x = scale
                * match dist {
                    "uniform" => 1.0 + data.next_f64(),
                    "lognormal" => data.next_normal().exp(),
                    _ => data.next_normal(),
                };
            let code = codec::from_f64(
                &fmt,
                x,
                &rounding,
                &mut ElementStream::new(rounding_key, i as u64),
            )
            .value;
            let rel = (codec::to_f64(&fmt, code) - x) / x;
            sum += rel;
            sum_abs += rel.abs();
            max_abs = max_abs.max(rel.abs());
        }
        let mut t = Table::new(&COLUMNS);
        t.push(vec![
            fmt.to_string().into(),
            Cell::Int(fmt.precision() as i64),
            mode.to_string().into(),
            dist.into(),
            n.into(),
            (sum / n as f64).into(),
            (sum_abs / n as f64).into(),
            max_abs.into(),
        ]);
        Ok(vec![("errors".into(), t)])
    }
    fn outputs(
        &self,
        _: &Recipe,
        mut tables: BTreeMap<String, Table>,
    ) -> Result<Vec<(String, Table)>> {
        let rows = tables.remove("errors").unwrap_or_default();
        Ok(vec![("errors.csv".into(), rows)])
    }
    fn figures(&self, _: &Recipe, outputs: &[(String, Table)], dir: &Path) -> Result<Vec<PathBuf>> {
        let rows = &outputs[0].1;
        let mut series = Vec::new();
        for (i, mode) in rows.distinct("rounding")?.iter().enumerate() {
            let t = rows.filter("rounding", mode)?;
            let p = t.floats("precision")?;
            let abs = t.floats("mean_abs_rel_error")?;
            let mut points: Vec<(f64, f64)> = p.iter().copied().zip(abs).collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            series.push(Series::new(
                format!("{mode}: mean |relative error|"),
                points,
                i,
            ));
        }
        plot::line_chart(
            &dir.join("rounding_error"),
            &LineChart {
                title: "Rounding error by precision".into(),
                x_label: "precision p (bits)".into(),
                y_label: "mean |relative error|".into(),
                y_log: true,
                series,
                ..LineChart::default()
            },
        )
    }
}
