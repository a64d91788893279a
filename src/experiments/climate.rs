//! Climate rounding studies (Paxton, Chantry, Klöwer, Saffin & Palmer, J. Climate 2022):
//! run a chaotic model with every operation rounded to a format, compare its long-run
//! distribution ("climate") with the double-precision climate by the Wasserstein-1 distance,
//! against the noise floor of double-precision members that differ only in their initial state.
//!
//! A grid point is (format, rounding, member). `format = "f64"` points are the double members
//! that set the noise floor (run once, for the first rounding listed). The reference climate
//! is one long double run from an unperturbed state, computed once per run.
//!
//! Noise floor of a variable: the largest W1 between a double member and the reference (the
//! maximum, not a quantile, because with a handful of members every one is needed to say
//! what double precision itself can produce). A precision is indistinguishable from double
//! when, for every variable, the mean W1 over its members is at most that noise floor; the
//! threshold is the smallest `sbits` of the `e11m<sbits>` formats from which on every larger
//! `sbits` listed is indistinguishable too.
//!
//! A model may step its own way ([`ClimateModel::run_length`], e.g. days and a CFL time step),
//! redefine a common parameter (its units or default) by declaring one of the same name, and
//! return a final 2-D field per run ([`ClimateModel::simulate_with_snapshot`]): the member-0
//! fields of the formats listed in `attractor` go to `snapshot.csv` and the heat maps `snapshot`.

use crate::emu::{Context, Emu, with_context};
use crate::error::{Error, Result};
use crate::exp::{Cell, Experiment, Param, ParamSpec, Point, Prepared, Recipe, Table};
use crate::format::Format;
use crate::mode::RoundingMode;
use crate::plot::{self, Band, LineChart, Panel, Series};
use crate::real::Real;
use crate::rng::{Stream, derive_key};
use crate::stats;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Samples of each variable in time order.
pub type Samples = Vec<Vec<f64>>;

/// A 2-D field, `field[row][col]` with row 0 at the bottom.
pub type Snapshot = Vec<Vec<f64>>;

/// What a model brings to a climate study.
pub trait ClimateModel: Sync + Send + 'static {
    /// The experiment kind.
    fn kind(&self) -> &'static str;
    /// One line on the model.
    fn about(&self) -> &'static str;
    /// The model's own parameters.
    fn model_params(&self) -> Vec<ParamSpec>;
    /// Names of the sampled variables.
    fn variables(&self) -> Vec<&'static str>;
    /// Which two variables the attractor/snapshot figure projects on.
    fn projection(&self) -> (usize, usize);
    /// The reference initial state (members add a perturbation to it).
    fn initial_state(&self, recipe: &Recipe, point: &Point) -> Result<Vec<f64>>;
    /// Runs the model in `R` from `init`; returns the samples of each variable in time order.
    /// `run` says dt, spin-up, length and sampling interval.
    fn simulate<R: Real>(
        &self,
        recipe: &Recipe,
        point: &Point,
        init: &[f64],
        run: &RunLength,
    ) -> Result<Vec<Vec<f64>>>;
    /// The time stepping of a point; by default from the recipe's `dt`, `spinup`, `length` and
    /// `sample_interval` in model time units.
    fn run_length(&self, recipe: &Recipe, point: &Point) -> Result<RunLength> {
        RunLength::from_recipe(recipe, point)
    }
    /// Like [`ClimateModel::simulate`], also returning a 2-D field of the final state for the
    /// snapshot maps; models without one keep this default.
    fn simulate_with_snapshot<R: Real>(
        &self,
        recipe: &Recipe,
        point: &Point,
        init: &[f64],
        run: &RunLength,
    ) -> Result<(Samples, Option<Snapshot>)> {
        Ok((self.simulate::<R>(recipe, point, init, run)?, None))
    }
    /// What the snapshot field is (figure title).
    fn snapshot_name(&self) -> &'static str {
        "final state"
    }
}

/// Time stepping of a run, in steps.
#[derive(Clone, Copy, Debug)]
pub struct RunLength {
    /// Step size (model time units).
    pub dt: f64,
    /// Steps discarded before sampling.
    pub spinup: usize,
    /// Steps sampled over.
    pub steps: usize,
    /// Steps between samples.
    pub every: usize,
}

impl RunLength {
    /// From the recipe's `dt`, `spinup`, `length` and `sample_interval` (times rounded to whole
    /// steps).
    pub fn from_recipe(recipe: &Recipe, point: &Point) -> Result<RunLength> {
        let dt = RunLength::dt(recipe, point)?;
        let steps = |key: &str| RunLength::steps(recipe, point, dt, key);
        Ok(RunLength {
            dt,
            spinup: steps("spinup")?,
            steps: steps("length")?,
            every: steps("sample_interval")?.max(1),
        })
    }

    /// The recipe's time step `dt`, checked.
    pub fn dt(recipe: &Recipe, point: &Point) -> Result<f64> {
        let dt = recipe.f64(point, "dt")?;
        if dt.is_nan() || dt <= 0.0 {
            return Err(Error::Invalid(format!("dt = {dt} must be positive")));
        }
        Ok(dt)
    }

    /// The recipe's time `key` (model time units) as a whole number of steps of `dt`.
    pub fn steps(recipe: &Recipe, point: &Point, dt: f64, key: &str) -> Result<usize> {
        let t = recipe.f64(point, key)?;
        if t < 0.0 || !t.is_finite() {
            return Err(Error::Invalid(format!(
                "{key} = {t} must be a non-negative time"
            )));
        }
        Ok((t / dt).round() as usize)
    }
}

/// The climate study of a model.
pub struct Climate<M>(pub M);

struct Reference {
    /// Sorted samples of each variable.
    sorted: Vec<Vec<f64>>,
}

fn common_params() -> Vec<ParamSpec> {
    vec![
        ParamSpec::new(
            "format",
            Param::Text("f64".into()),
            "f64 (a double member) or any format name, e.g. e11m10, binary16",
        ),
        ParamSpec::new(
            "rounding",
            Param::Text("rne".into()),
            "rounding mode of every operation (rne, sr, …)",
        ),
        ParamSpec::new(
            "member",
            Param::Int(0),
            "ensemble member: selects the initial perturbation",
        ),
        ParamSpec::new(
            "perturbation",
            Param::Float(1e-3),
            "standard deviation of the initial-state perturbation",
        ),
        ParamSpec::new("dt", Param::Float(0.01), "time step (model time units)"),
        ParamSpec::new(
            "spinup",
            Param::Float(10.0),
            "time discarded before sampling",
        ),
        ParamSpec::new("length", Param::Float(1000.0), "time sampled"),
        ParamSpec::new(
            "sample_interval",
            Param::Float(0.05),
            "time between samples",
        ),
        ParamSpec::new(
            "attractor",
            Param::Text("f64,binary16,bf16".into()),
            "formats whose member-0 trajectory (and final snapshot field, for models with one) go into the projection (and snapshot) figures",
        ),
        ParamSpec::new(
            "trajectory_samples",
            Param::Int(4000),
            "samples kept per trajectory for that figure",
        ),
    ]
}

impl<M: ClimateModel> Climate<M> {
    fn perturbed_initial(
        &self,
        recipe: &Recipe,
        point: &Point,
        member: Option<u64>,
    ) -> Result<Vec<f64>> {
        let mut x = self.0.initial_state(recipe, point)?;
        if let Some(m) = member {
            let sigma = recipe.f64(point, "perturbation")?;
            // Depends on (seed, member) only: every format sees the same initial states.
            let mut s = Stream::from_key(derive_key(recipe.seed, &[0x1417, m]));
            for v in &mut x {
                *v += sigma * s.next_normal();
            }
        }
        Ok(x)
    }

    fn simulate_in(
        &self,
        recipe: &Recipe,
        point: &Point,
        format: &str,
        mode: RoundingMode,
        key: u64,
        init: &[f64],
    ) -> Result<(Samples, Option<Snapshot>)> {
        let run = self.0.run_length(recipe, point)?;
        if format == "f64" {
            return self
                .0
                .simulate_with_snapshot::<f64>(recipe, point, init, &run);
        }
        let ctx = Context::new(Format::parse(format)?, mode, key)?;
        with_context(&ctx, || {
            self.0
                .simulate_with_snapshot::<Emu>(recipe, point, init, &run)
        })
    }
}

impl<M: ClimateModel> Experiment for Climate<M> {
    fn kind(&self) -> &'static str {
        self.0.kind()
    }
    fn about(&self) -> &'static str {
        self.0.about()
    }
    fn params(&self) -> Vec<ParamSpec> {
        // A model parameter of a common name replaces the common one (its units or default).
        let model = self.0.model_params();
        let mut p: Vec<ParamSpec> = common_params()
            .into_iter()
            .filter(|c| model.iter().all(|m| m.name != c.name))
            .collect();
        p.extend(model);
        p
    }
    fn check(&self, recipe: &Recipe) -> Result<()> {
        for f in recipe.values_of("format") {
            let name = f.to_string();
            if name != "f64" {
                let fmt = Format::parse(&name)?;
                if !fmt.fits_in_f64() {
                    return Err(Error::Invalid(format!(
                        "format {name} does not fit in f64, which Emu needs"
                    )));
                }
            }
        }
        for r in recipe.values_of("rounding") {
            r.to_string().parse::<RoundingMode>()?;
        }
        Ok(())
    }
    fn prepare(&self, recipe: &Recipe) -> Result<Prepared> {
        let point = recipe
            .points()
            .into_iter()
            .next()
            .expect("a grid has a point");
        let init = self.perturbed_initial(recipe, &point, None)?;
        let (mut samples, _) =
            self.simulate_in(recipe, &point, "f64", RoundingMode::NearestEven, 0, &init)?;
        for v in &mut samples {
            v.sort_by(f64::total_cmp);
        }
        Ok(Box::new(Reference { sorted: samples }))
    }
    fn run_point(
        &self,
        recipe: &Recipe,
        point: &Point,
        key: u64,
        prepared: &Prepared,
    ) -> Result<Vec<(String, Table)>> {
        let reference = prepared
            .downcast_ref::<Reference>()
            .expect("prepared by this experiment");
        let format = recipe.text(point, "format")?.to_string();
        let rounding = recipe.text(point, "rounding")?.to_string();
        let member = recipe.usize(point, "member")? as u64;
        let mut w1 = Table::new(&[
            "format", "family", "sbits", "rounding", "member", "variable", "w1",
        ]);
        let mut trajectory = Table::new(&["format", "rounding", "sample", "a", "b"]);
        let mut snapshot = Table::new(&["format", "rounding", "row", "col", "value"]);
        let first_rounding = recipe.values_of("rounding").first().map(|p| p.to_string());
        if format == "f64" && Some(&rounding) != first_rounding.as_ref() {
            // Double members do not depend on the rounding mode: computed once.
            return Ok(vec![
                ("w1".into(), w1),
                ("trajectory".into(), trajectory),
                ("snapshot".into(), snapshot),
            ]);
        }
        let mode: RoundingMode = rounding.parse()?;
        let init = self.perturbed_initial(recipe, point, Some(member))?;
        let (samples, field) = self.simulate_in(recipe, point, &format, mode, key, &init)?;
        let (family, sbits, shown_rounding) = if format == "f64" {
            ("f64".to_string(), 52, "f64".to_string())
        } else {
            let f = Format::parse(&format)?;
            let family = if f.exp_bits() == 11 && f.bias() == 1023 {
                "e11".to_string()
            } else {
                format.clone()
            };
            (family, f.man_bits() as i64, rounding.clone())
        };
        for (name, (s, r)) in self
            .0
            .variables()
            .iter()
            .zip(samples.iter().zip(&reference.sorted))
        {
            let mut sorted = s.clone();
            sorted.sort_by(f64::total_cmp);
            let distance = if sorted.iter().all(|v| v.is_finite()) && !sorted.is_empty() {
                stats::wasserstein1_sorted(&sorted, r)
            } else {
                f64::INFINITY // the run blew up
            };
            w1.push(vec![
                format.as_str().into(),
                family.as_str().into(),
                Cell::Int(sbits),
                shown_rounding.as_str().into(),
                Cell::Int(member as i64),
                (*name).into(),
                distance.into(),
            ]);
        }
        let listed = recipe
            .text(point, "attractor")?
            .split(',')
            .any(|f| f.trim() == format);
        if member == 0 && listed {
            let keep = recipe.usize(point, "trajectory_samples")?;
            let (a, b) = self.0.projection();
            let start = samples[a].len().saturating_sub(keep);
            for (i, (&va, &vb)) in samples[a].iter().zip(&samples[b]).enumerate().skip(start) {
                trajectory.push(vec![
                    format.as_str().into(),
                    shown_rounding.as_str().into(),
                    Cell::Int(i as i64),
                    va.into(),
                    vb.into(),
                ]);
            }
            for (r, row) in field.iter().flatten().enumerate() {
                for (c, &value) in row.iter().enumerate() {
                    snapshot.push(vec![
                        format.as_str().into(),
                        shown_rounding.as_str().into(),
                        Cell::Int(r as i64),
                        Cell::Int(c as i64),
                        value.into(),
                    ]);
                }
            }
        }
        Ok(vec![
            ("w1".into(), w1),
            ("trajectory".into(), trajectory),
            ("snapshot".into(), snapshot),
        ])
    }
    fn outputs(
        &self,
        _: &Recipe,
        mut tables: BTreeMap<String, Table>,
    ) -> Result<Vec<(String, Table)>> {
        let w1 = tables.remove("w1").unwrap_or_default();
        let trajectory = tables.remove("trajectory").unwrap_or_default();
        let snapshot = tables.remove("snapshot").unwrap_or_default();
        let noise = noise_floor(&w1)?;
        let means = member_means(&w1)?;
        let summary = thresholds(&means, &noise)?;
        let mut out = vec![
            ("w1.csv".into(), w1),
            ("w1_mean.csv".into(), means),
            ("noise_floor.csv".into(), noise),
            ("summary.csv".into(), summary),
            ("trajectory.csv".into(), trajectory),
        ];
        if !snapshot.rows.is_empty() {
            out.push(("snapshot.csv".into(), snapshot));
        }
        Ok(out)
    }
    fn figures(&self, _: &Recipe, outputs: &[(String, Table)], dir: &Path) -> Result<Vec<PathBuf>> {
        let get = |name: &str| {
            outputs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.clone())
                .unwrap_or_default()
        };
        let (means, noise, trajectory) = (
            get("w1_mean.csv"),
            get("noise_floor.csv"),
            get("trajectory.csv"),
        );
        let mut files = Vec::new();
        for variable in self.0.variables() {
            files.extend(w1_figure(&means, &noise, variable, self.0.kind(), dir)?);
        }
        if !trajectory.rows.is_empty() {
            files.extend(attractor_figure(&trajectory, &self.0, dir)?);
        }
        let snapshot = get("snapshot.csv");
        if !snapshot.rows.is_empty() {
            files.extend(snapshot_figure(&snapshot, self.0.snapshot_name(), dir)?);
        }
        Ok(files)
    }
}

/// Per variable: min, max and mean W1 of the double members against the reference.
fn noise_floor(w1: &Table) -> Result<Table> {
    let double = w1.filter("family", "f64")?;
    let mut t = Table::new(&[
        "variable",
        "members",
        "noise_min",
        "noise_max",
        "noise_mean",
    ]);
    for v in double.distinct("variable")? {
        let d = double.filter("variable", &v)?.floats("w1")?;
        t.push(vec![
            v.as_str().into(),
            d.len().into(),
            d.iter().copied().fold(f64::INFINITY, f64::min).into(),
            d.iter().copied().fold(f64::NEG_INFINITY, f64::max).into(),
            stats::mean(&d).into(),
        ]);
    }
    Ok(t)
}

/// Mean and max W1 over members per (format, rounding, variable).
fn member_means(w1: &Table) -> Result<Table> {
    let mut t = Table::new(&[
        "format", "family", "sbits", "rounding", "variable", "members", "w1_mean", "w1_max",
    ]);
    let (fi, fa, si, ri, vi, wi) = (
        w1.column("format")?,
        w1.column("family")?,
        w1.column("sbits")?,
        w1.column("rounding")?,
        w1.column("variable")?,
        w1.column("w1")?,
    );
    let mut groups: Vec<(Vec<String>, Vec<f64>)> = Vec::new();
    for row in &w1.rows {
        let key: Vec<String> = [fi, fa, si, ri, vi]
            .iter()
            .map(|&i| row[i].as_text())
            .collect();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(row[wi].as_f64()),
            None => groups.push((key, vec![row[wi].as_f64()])),
        }
    }
    for (key, v) in groups {
        t.push(vec![
            key[0].as_str().into(),
            key[1].as_str().into(),
            Cell::Int(key[2].parse().unwrap_or(0)),
            key[3].as_str().into(),
            key[4].as_str().into(),
            v.len().into(),
            stats::mean(&v).into(),
            v.iter().copied().fold(f64::NEG_INFINITY, f64::max).into(),
        ]);
    }
    Ok(t)
}

/// One row per rounding mode of the e11 family: the threshold sbits (see module docs).
fn thresholds(means: &Table, noise: &Table) -> Result<Table> {
    let mut t = Table::new(&["rounding", "threshold_sbits", "sbits_tested"]);
    let e11 = means.filter("family", "e11")?;
    let floor: BTreeMap<String, f64> = noise
        .distinct("variable")?
        .into_iter()
        .map(|v| {
            let x = noise
                .filter("variable", &v)
                .and_then(|r| r.floats("noise_max"))
                .map(|f| f[0]);
            x.map(|x| (v, x))
        })
        .collect::<Result<_>>()?;
    for rounding in e11.distinct("rounding")? {
        let rows = e11.filter("rounding", &rounding)?;
        let mut by_sbits: BTreeMap<i64, bool> = BTreeMap::new();
        let (si, vi, wi) = (
            rows.column("sbits")?,
            rows.column("variable")?,
            rows.column("w1_mean")?,
        );
        for row in &rows.rows {
            let s = row[si].as_f64() as i64;
            let limit = floor.get(&row[vi].as_text()).copied().unwrap_or(f64::NAN);
            let ok = row[wi].as_f64() <= limit;
            let entry = by_sbits.entry(s).or_insert(true);
            *entry &= ok;
        }
        let mut threshold = None;
        for (&s, &ok) in by_sbits.iter().rev() {
            if ok {
                threshold = Some(s);
            } else {
                break;
            }
        }
        let tested: Vec<String> = by_sbits.keys().map(|s| s.to_string()).collect();
        t.push(vec![
            rounding.as_str().into(),
            threshold.map_or(Cell::Text("none".into()), Cell::Int),
            tested.join(" ").into(),
        ]);
    }
    Ok(t)
}

fn w1_figure(
    means: &Table,
    noise: &Table,
    variable: &str,
    kind: &str,
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    let e11 = means
        .filter("family", "e11")?
        .filter("variable", variable)?;
    let mut series = Vec::new();
    for (i, rounding) in e11.distinct("rounding")?.iter().enumerate() {
        let t = e11.filter("rounding", rounding)?;
        let mut pts: Vec<(f64, f64)> = t
            .floats("sbits")?
            .into_iter()
            .zip(t.floats("w1_mean")?)
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        series.push(Series::new(
            format!("{rounding} (mean over members)"),
            pts,
            i,
        ));
    }
    let x: Vec<f64> = e11.floats("sbits")?;
    let (x0, x1) = (
        x.iter().copied().fold(f64::INFINITY, f64::min),
        x.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let mut bands = Vec::new();
    if let Ok(row) = noise.filter("variable", variable)
        && let (Ok(lo), Ok(hi)) = (row.floats("noise_min"), row.floats("noise_max"))
        && let (Some(&lo), Some(&hi)) = (lo.first(), hi.first())
    {
        bands.push(Band {
            label: "double-precision noise floor (min–max over members)".into(),
            points: vec![(x0, lo, hi), (x1, lo, hi)],
            color: 7,
        });
    }
    plot::line_chart(
        &dir.join(format!("w1_{variable}")),
        &LineChart {
            title: format!(
                "{kind}: Wasserstein distance of {variable} to the double-precision climate"
            ),
            x_label: "significand bits (e11m<sbits>)".into(),
            y_label: format!("W1({variable})"),
            y_log: true,
            series,
            bands,
            ..LineChart::default()
        },
    )
}

fn attractor_figure<M: ClimateModel>(
    trajectory: &Table,
    model: &M,
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    let mut panels = Vec::new();
    for format in trajectory.distinct("format")? {
        let of_format = trajectory.filter("format", &format)?;
        for rounding in of_format.distinct("rounding")? {
            let t = of_format.filter("rounding", &rounding)?;
            let points = t.floats("a")?.into_iter().zip(t.floats("b")?).collect();
            let title = if format == "f64" {
                "f64".to_string()
            } else {
                format!("{format} {rounding}")
            };
            panels.push(Panel {
                title,
                points,
                grid: Vec::new(),
            });
        }
    }
    let vars = model.variables();
    let (a, b) = model.projection();
    let cols = panels.len().min(3);
    plot::scatter_panels(&dir.join("attractor"), &panels, cols, vars[a], vars[b])
}

/// Heat maps of the final snapshot field, one panel per (format, rounding).
fn snapshot_figure(snapshot: &Table, name: &str, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut panels = Vec::new();
    for format in snapshot.distinct("format")? {
        let of_format = snapshot.filter("format", &format)?;
        for rounding in of_format.distinct("rounding")? {
            let t = of_format.filter("rounding", &rounding)?;
            let (rows, cols, values) = (t.floats("row")?, t.floats("col")?, t.floats("value")?);
            let height = rows.iter().fold(0.0f64, |m, &r| m.max(r + 1.0)) as usize;
            let width = cols.iter().fold(0.0f64, |m, &c| m.max(c + 1.0)) as usize;
            let mut grid = vec![vec![f64::NAN; width]; height];
            for ((r, c), v) in rows.iter().zip(&cols).zip(values) {
                grid[*r as usize][*c as usize] = v;
            }
            let title = if format == "f64" {
                format!("{name}: f64")
            } else {
                format!("{name}: {format} {rounding}")
            };
            panels.push(Panel {
                title,
                points: Vec::new(),
                grid,
            });
        }
    }
    let cols = panels.len().min(3);
    plot::heatmap_panels(&dir.join("snapshot"), &panels, cols)
}
