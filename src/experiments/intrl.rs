//! `intrl`: quadrature error drives control error in integral reinforcement learning (Cao &
//! Pan, ICLR 2024, arXiv 2402.17375), and what low-precision arithmetic adds to it.
//!
//! A grid point is (task, tolerance, rule, N, format, rounding). With `format = "f64"` it runs
//! the policy iteration of [`crate::models::intrl`] in double precision with the window
//! integrals from the rule (or exact, `rule = "exact"`). With an emulated format, the utility
//! samples and the quadrature sum run in that format ([`Emu`]), for the rules listed in
//! `precision_rules` and the first tolerance listed only; stochastic rounding is repeated
//! `sr_replicates` times with independent streams. Points outside that design (f64 with a
//! second rounding, emulated `exact`, emulated rules not listed, emulated later tolerances) are
//! skipped.
//!
//! Outputs:
//! - `errors.csv`: one row per run: ‖ŵ − w*‖₂ (`w_err`), ‖K − K*‖_F (`k_err`, linear task),
//!   mean |û − u*| over a fixed seeded sample of states in [−1, 1]ⁿ (`u_err`), the mean
//!   relative error of the window integrals (`quad_rel_err`), iterations, convergence, and
//!   the conditioning of the last least-squares problem.
//! - `slopes.csv`: per (task, tolerance, rule) in f64: fitted log–log slopes of `w_err`
//!   against N over the paper's range 5 ≤ N ≤ 15 and over the "pre-floor" range (from
//!   `fit_min_n` up to the last N before the error first falls below `floor_factor` × the
//!   exact-integral baseline), the pre-floor slope against N − 1 = T/h (the step-size rate of
//!   the theory), the slope of the control error (‖K − K*‖_F or mean |û − u*|) over 5 … 15
//!   and of `quad_rel_err` over N ≥ `fit_min_n`, and `w_err` and the control error at
//!   N = 5, 7, 10, 15.
//! - `floors.csv`: per (task, rule, format, rounding): `n_flat`, the first N from which the
//!   format's error stays above twice the f64 error (where the curve flattens; "none" if it
//!   never does), the floor (median `w_err` over N ≥ `n_flat`), the floor in units of the unit
//!   roundoff u = 2^−p, and how many runs failed (diverged). SR errors are the median over the
//!   replicates at each N, a failed run counting as +∞.
//! - `rules.csv`: per (rule, N): weight sum and smallest weight on the unit interval, BQ
//!   posterior standard deviation and Gram condition number, and the worst-case error of the
//!   weights in the Matérn-7/2 RKHS (the same yardstick for every rule).
//!
//! Figures (PNG and SVG): `w_err_<task>`, `ctrl_err_<task>` (log–log against N, every rule,
//! fitted slopes in the legend; `_eps<ε>` for tolerances after the first), `quad_err_<task>`,
//! the paper's view `paper_inv_n2_<task>` (trapezoid against 1/N²) and `paper_inv_n4_<task>`
//! (BQ ν = 7/2 against 1/N⁴) on linear axes for 5 ≤ N ≤ 15; and for the precision sweep
//! `precision_<task>_<rule>_<rounding>` (the `e11m<p>` family against N), `range_<task>_<rule>`
//! (binary16, bf16, e4m3 against the `e11m<p>` of equal precision) and `floor_<task>_<rule>`
//! (floor against p, RN and SR, with 2^−p).

use crate::emu::{Context, Emu, with_context};
use crate::error::{Error, Result};
use crate::exp::{Cell, Experiment, Param, ParamSpec, Point, Prepared, Recipe, Table};
use crate::format::Format;
use crate::mode::RoundingMode;
use crate::models::intrl::{self, CostIntegral, IrlConfig, IrlOutcome, Task};
use crate::plot::{self, LineChart, Series};
use crate::quad::{Rule, bq, matern};
use crate::rng::derive_key;
use crate::stats;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// See the module docs.
pub struct IntRl;

const ERROR_COLUMNS: [&str; 18] = [
    "task",
    "tolerance",
    "rule",
    "N",
    "format",
    "precision",
    "rounding",
    "replicate",
    "w_err",
    "k_err",
    "u_err",
    "quad_rel_err",
    "iterations",
    "converged",
    "last_change",
    "ls_cond",
    "final_time",
    "status",
];

/// The N at which errors are tabulated (the paper's Figures show 5 … 15).
const TABLE_N: [i64; 4] = [5, 7, 10, 15];

struct Shared {
    /// The fixed sample of states for `u_err`, per task.
    states: BTreeMap<&'static str, Vec<Vec<f64>>>,
}

fn config(recipe: &Recipe, point: &Point) -> Result<IrlConfig> {
    let rtol = recipe.f64(point, "ode_tol")?;
    let cfg = IrlConfig {
        windows: recipe.usize(point, "windows")?,
        window: recipe.f64(point, "window")?,
        tolerance: recipe.f64(point, "tolerance")?,
        max_iterations: recipe.usize(point, "max_iterations")?,
        ode_rtol: rtol,
        ode_atol: rtol * 1e-2,
        ..IrlConfig::default()
    };
    if !(cfg.window > 0.0 && cfg.tolerance > 0.0 && rtol > 0.0 && rtol <= 1e-10) {
        return Err(Error::Invalid(format!(
            "need window > 0, tolerance > 0 and 0 < ode_tol ≤ 1e-10 (got {}, {}, {rtol})",
            cfg.window, cfg.tolerance
        )));
    }
    Ok(cfg)
}

/// Expected convergence order of a rule (trapezoid 2, Simpson 4, BQ b = ν + ½).
fn expected_order(rule: &str) -> Option<u32> {
    match Rule::parse(rule, 1.0).ok()? {
        Rule::Trapezoid => Some(2),
        Rule::Simpson => Some(4),
        Rule::Bayes { kernel, .. } => Some(kernel.nu.order()),
    }
}

fn listed(list: &str, name: &str) -> bool {
    list.split(',').any(|s| s.trim() == name)
}

impl Experiment for IntRl {
    fn kind(&self) -> &'static str {
        "intrl"
    }
    fn about(&self) -> &'static str {
        "integral RL (Cao & Pan 2024): controller error vs samples per window for trapezoid, Simpson and Bayesian quadrature, in f64 and in low-precision formats"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::new("task", Param::Text("linear".into()), "linear or nonlinear"),
            ParamSpec::new(
                "rule",
                Param::Text("trapezoid".into()),
                "exact (the integrator's cost state) or a quadrature rule: trapezoid, simpson, bq-matern<12|32|52|72>[-j<jitter>]",
            ),
            ParamSpec::new(
                "n",
                Param::Int(10),
                "N, samples per window (both ends included)",
            ),
            ParamSpec::new(
                "format",
                Param::Text("f64".into()),
                "f64, or the format of the utility samples and quadrature sum (binary16, bf16, e4m3, e11m<p>, …)",
            ),
            ParamSpec::new(
                "rounding",
                Param::Text("rne".into()),
                "rounding mode of the emulated format",
            ),
            ParamSpec::new(
                "windows",
                Param::Int(20),
                "m, windows (least-squares rows) per policy iteration",
            ),
            ParamSpec::new("window", Param::Float(0.1), "T, window length"),
            ParamSpec::new(
                "tolerance",
                Param::Float(1e-3),
                "stop when ‖w − w_old‖₂ < this (the authors' 1e-3)",
            ),
            ParamSpec::new(
                "max_iterations",
                Param::Int(30),
                "at most this many policy iterations",
            ),
            ParamSpec::new(
                "lengthscale",
                Param::Float(0.3),
                "Matérn length scale ℓ of the BQ rules (the authors' 0.3)",
            ),
            ParamSpec::new(
                "ode_tol",
                Param::Float(1e-12),
                "relative tolerance of the Dormand–Prince integrator (absolute: 1e-2 × this)",
            ),
            ParamSpec::new(
                "precision_rules",
                Param::Text("trapezoid,bq-matern72".into()),
                "rules run in the emulated formats (comma-separated)",
            ),
            ParamSpec::new(
                "sr_replicates",
                Param::Int(3),
                "independent stochastic-rounding runs per point",
            ),
            ParamSpec::new(
                "eval_states",
                Param::Int(1000),
                "states in the fixed sample for u_err",
            ),
            ParamSpec::new(
                "fit_min_n",
                Param::Int(5),
                "smallest N in the pre-floor slope fit",
            ),
            ParamSpec::new(
                "floor_factor",
                Param::Float(10.0),
                "the pre-floor fit stops before the error first falls below this × the exact-integral error",
            ),
        ]
    }
    fn check(&self, recipe: &Recipe) -> Result<()> {
        for t in recipe.values_of("task") {
            Task::parse(&t.to_string())?;
        }
        let ell = recipe.params.get("lengthscale").map_or(0.3, |p| match p {
            Param::Float(x) => *x,
            _ => f64::NAN,
        });
        for r in recipe.values_of("rule") {
            let r = r.to_string();
            if r != "exact" {
                Rule::parse(&r, ell)?;
            }
        }
        for f in recipe.values_of("format") {
            let name = f.to_string();
            if name != "f64" && !Format::parse(&name)?.fits_in_f64() {
                return Err(Error::Invalid(format!(
                    "format {name} does not fit in f64, which Emu needs"
                )));
            }
        }
        for r in recipe.values_of("rounding") {
            r.to_string().parse::<RoundingMode>()?;
        }
        for n in recipe.values_of("n") {
            if matches!(n, Param::Int(v) if v < 2) {
                return Err(Error::Invalid(format!("n = {n}: need N ≥ 2")));
            }
        }
        Ok(())
    }
    fn prepare(&self, recipe: &Recipe) -> Result<Prepared> {
        let point = recipe.points().into_iter().next().expect("a point");
        let count = recipe.usize(&point, "eval_states")?;
        let mut states = BTreeMap::new();
        for task in [Task::Linear, Task::Nonlinear] {
            // Depends on the seed only: every point sees the same states.
            let key = derive_key(recipe.seed, &[0x5747, task.state_dim() as u64]);
            states.insert(task.name(), task.evaluation_states(count, key));
        }
        Ok(Box::new(Shared { states }))
    }
    fn run_point(
        &self,
        recipe: &Recipe,
        point: &Point,
        key: u64,
        prepared: &Prepared,
    ) -> Result<Vec<(String, Table)>> {
        let shared = prepared.downcast_ref::<Shared>().expect("prepared here");
        let task = Task::parse(recipe.text(point, "task")?)?;
        let rule_name = recipe.text(point, "rule")?.to_string();
        let n = recipe.usize(point, "n")?;
        let format = recipe.text(point, "format")?.to_string();
        let rounding = recipe.text(point, "rounding")?.to_string();
        let first_rounding = recipe.values_of("rounding").first().map(|p| p.to_string());
        let tolerance = recipe.f64(point, "tolerance")?;
        let first_tolerance = recipe.values_of("tolerance").first().map(|p| p.to_string());
        let first_tol = Some(Param::Float(tolerance).to_string()) == first_tolerance;
        let emulated = format != "f64";
        let skip = if emulated {
            rule_name == "exact"
                || !listed(recipe.text(point, "precision_rules")?, &rule_name)
                || !first_tol
        } else {
            Some(&rounding) != first_rounding.as_ref()
        };
        if skip {
            return Ok(Vec::new());
        }
        let cfg = config(recipe, point)?;
        let ell = recipe.f64(point, "lengthscale")?;
        let cost = if rule_name == "exact" {
            CostIntegral::Exact
        } else {
            CostIntegral::Rule(Rule::parse(&rule_name, ell)?.weights(n, 0.0, cfg.window)?)
        };
        let states = &shared.states[task.name()];
        let mut errors = Table::new(&ERROR_COLUMNS);
        let mut push =
            |precision: i64, shown_rounding: &str, replicate: usize, out: Result<IrlOutcome>| {
                let (w_err, k_err, u_err, q, it, conv, last, cond, time, status) = match &out {
                    Ok(o) => (
                        intrl::weight_error(task, &o.weights),
                        if task == Task::Linear {
                            intrl::gain_error(&o.weights)
                        } else {
                            f64::NAN
                        },
                        intrl::control_error(task, &o.weights, states),
                        o.quad_rel_error,
                        o.iterations as i64,
                        o.converged as i64,
                        o.last_change,
                        o.ls_condition,
                        o.final_time,
                        if o.converged {
                            "ok".to_string()
                        } else {
                            "max_iterations".to_string()
                        },
                    ),
                    Err(e) => {
                        let nan = f64::NAN;
                        let msg: String = e.to_string().chars().take(120).collect();
                        (
                            nan,
                            nan,
                            nan,
                            nan,
                            0,
                            0,
                            nan,
                            nan,
                            nan,
                            format!("failed: {msg}"),
                        )
                    }
                };
                errors.push(vec![
                    task.name().into(),
                    tolerance.into(),
                    rule_name.as_str().into(),
                    n.into(),
                    format.as_str().into(),
                    Cell::Int(precision),
                    shown_rounding.into(),
                    replicate.into(),
                    w_err.into(),
                    k_err.into(),
                    u_err.into(),
                    q.into(),
                    Cell::Int(it),
                    Cell::Int(conv),
                    last.into(),
                    cond.into(),
                    time.into(),
                    status.into(),
                ]);
            };
        if emulated {
            let fmt = Format::parse(&format)?;
            let mode: RoundingMode = rounding.parse()?;
            let replicates = if mode.is_stochastic() {
                recipe.usize(point, "sr_replicates")?.max(1)
            } else {
                1
            };
            for r in 0..replicates {
                let ctx = Context::new(fmt, mode, derive_key(key, &[r as u64]))?;
                let out = with_context(&ctx, || {
                    intrl::policy_iteration::<Emu>(task, &cfg, n, &cost)
                });
                push(fmt.precision() as i64, &rounding, r, out);
            }
        } else {
            let out = intrl::policy_iteration::<f64>(task, &cfg, n, &cost);
            push(53, "f64", 0, out);
        }
        let mut tables = vec![("errors".to_string(), errors)];
        // Rule properties, once per (rule, N): on the linear-task f64 points.
        if !emulated && task == Task::Linear && rule_name != "exact" && first_tol {
            tables.push(("rules".into(), rule_table(&rule_name, n, ell, cfg.window)?));
        }
        Ok(tables)
    }
    fn outputs(
        &self,
        recipe: &Recipe,
        mut tables: BTreeMap<String, Table>,
    ) -> Result<Vec<(String, Table)>> {
        let errors = tables
            .remove("errors")
            .unwrap_or_else(|| Table::new(&ERROR_COLUMNS));
        let rules = tables.remove("rules").unwrap_or_default();
        let point = recipe.points().into_iter().next().expect("a point");
        let fit_min_n = recipe.i64(&point, "fit_min_n")?;
        let floor_factor = recipe.f64(&point, "floor_factor")?;
        let slopes = slope_table(&errors, fit_min_n, floor_factor)?;
        let floors = floor_table(&errors)?;
        Ok(vec![
            ("errors.csv".into(), errors),
            ("slopes.csv".into(), slopes),
            ("floors.csv".into(), floors),
            ("rules.csv".into(), rules),
        ])
    }
    fn figures(&self, _: &Recipe, outputs: &[(String, Table)], dir: &Path) -> Result<Vec<PathBuf>> {
        let get = |name: &str| {
            outputs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.clone())
                .unwrap_or_default()
        };
        let (errors, slopes) = (get("errors.csv"), get("slopes.csv"));
        let mut files = Vec::new();
        if errors.rows.is_empty() {
            return Ok(files);
        }
        let f64_rows = errors.filter("format", "f64")?;
        let tolerances = errors.distinct("tolerance")?;
        for task in f64_rows.distinct("task")? {
            for (i, tol) in tolerances.iter().enumerate() {
                let rows = f64_rows.filter("task", &task)?.filter("tolerance", tol)?;
                let sl = slopes.filter("tolerance", tol)?;
                // The recipe's first tolerance names the main figures; others get a suffix.
                let stem = |name: &str| {
                    if i == 0 {
                        format!("{name}_{task}")
                    } else {
                        format!("{name}_{task}_eps{tol}")
                    }
                };
                let about = format!("{task} task, ε = {tol}");
                files.extend(convergence_figure(
                    &rows,
                    &sl,
                    &about,
                    "w_err",
                    &dir.join(stem("w_err")),
                )?);
                let ctrl = if task == "linear" { "k_err" } else { "u_err" };
                files.extend(convergence_figure(
                    &rows,
                    &sl,
                    &about,
                    ctrl,
                    &dir.join(stem("ctrl_err")),
                )?);
                if i == 0 {
                    files.extend(convergence_figure(
                        &rows,
                        &sl,
                        &about,
                        "quad_rel_err",
                        &dir.join(stem("quad_err")),
                    )?);
                    files.extend(paper_figure(&rows, &task, 2, dir)?);
                    files.extend(paper_figure(&rows, &task, 4, dir)?);
                }
            }
        }
        let emulated: Vec<&Vec<Cell>> = errors
            .rows
            .iter()
            .filter(|r| r[4].as_text() != "f64")
            .collect();
        if !emulated.is_empty() {
            let first_tol = tolerances.first().cloned().unwrap_or_default();
            for task in errors.distinct("task")? {
                let rows = errors
                    .filter("task", &task)?
                    .filter("tolerance", &first_tol)?;
                let em = Table {
                    columns: rows.columns.clone(),
                    rows: rows
                        .rows
                        .iter()
                        .filter(|r| r[4].as_text() != "f64")
                        .cloned()
                        .collect(),
                };
                for rule in em.distinct("rule")? {
                    for rounding in em.filter("rule", &rule)?.distinct("rounding")? {
                        files.extend(precision_figure(&rows, &task, &rule, &rounding, dir)?);
                    }
                    files.extend(range_figure(&rows, &task, &rule, dir)?);
                }
            }
            files.extend(floor_figures(&get("floors.csv"), dir)?);
        }
        Ok(files)
    }
}

/// Properties of a rule's weights on N nodes of [0, T].
fn rule_table(rule_name: &str, n: usize, ell: f64, window: f64) -> Result<Table> {
    let mut t = Table::new(&[
        "rule",
        "N",
        "weight_sum_rel",
        "min_weight_rel",
        "posterior_sd",
        "gram_cond",
        "wce_matern72",
    ]);
    let rule = Rule::parse(rule_name, ell)?;
    let w = rule.weights(n, 0.0, window)?;
    let (sd, cond) = match &rule {
        Rule::Bayes { kernel, jitter } => {
            let r = bq::matern_rule_cached(kernel, n, 0.0, window, *jitter)?;
            (
                r.posterior_variance.max(0.0).sqrt(),
                bq::gram_condition(kernel, n, 0.0, window)?,
            )
        }
        _ => (f64::NAN, f64::NAN),
    };
    let yardstick = matern::Matern {
        nu: matern::Smoothness::SevenHalves,
        lengthscale: ell,
    };
    t.push(vec![
        rule_name.into(),
        n.into(),
        (w.iter().sum::<f64>() / window).into(),
        (w.iter().copied().fold(f64::INFINITY, f64::min) / window).into(),
        sd.into(),
        cond.into(),
        bq::worst_case_error(&yardstick, &w, 0.0, window).into(),
    ]);
    Ok(t)
}

/// (N, value) points of a column, sorted by N: per N the median over the runs (SR
/// replicates), a failed run (NaN) counting as +∞; N whose median is not finite and positive
/// are left out.
fn curve(rows: &Table, column: &str) -> Result<Vec<(f64, f64)>> {
    let ns = rows.floats("N")?;
    let vs = rows.floats(column)?;
    let mut by_n: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for (n, v) in ns.into_iter().zip(vs) {
        by_n.entry(n as i64)
            .or_default()
            .push(if v.is_nan() { f64::INFINITY } else { v });
    }
    Ok(by_n
        .into_iter()
        .filter_map(|(n, v)| {
            let m = stats::quantile(&v, 0.5)?;
            (m.is_finite() && m > 0.0).then_some((n as f64, m))
        })
        .collect())
}

/// Least-squares slope of log(value) against log(N) (None with fewer than three points).
fn loglog_slope(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < 3 {
        return None;
    }
    let x: Vec<f64> = points.iter().map(|p| p.0.ln()).collect();
    let y: Vec<f64> = points.iter().map(|p| p.1.ln()).collect();
    stats::linear_fit(&x, &y).map(|(s, _)| s)
}

/// The pre-floor range: from `min_n` on, up to (not including) the first N whose error is
/// below `factor` × the exact baseline at that N.
fn prefloor(
    points: &[(f64, f64)],
    exact: &[(f64, f64)],
    min_n: i64,
    factor: f64,
) -> Vec<(f64, f64)> {
    let floor_at = |n: f64| exact.iter().find(|p| p.0 == n).map_or(0.0, |p| p.1);
    points
        .iter()
        .filter(|p| p.0 >= min_n as f64)
        .take_while(|p| p.1 > factor * floor_at(p.0))
        .copied()
        .collect()
}

fn slope_table(errors: &Table, fit_min_n: i64, floor_factor: f64) -> Result<Table> {
    let mut columns = vec![
        "task",
        "tolerance",
        "rule",
        "expected_order",
        "slope_w_5_15",
        "slope_w_prefloor",
        "slope_w_h_prefloor",
        "prefloor_n_min",
        "prefloor_n_max",
        "slope_ctrl_5_15",
        "slope_quad_all",
    ];
    let names: Vec<String> = TABLE_N
        .iter()
        .map(|n| format!("w_err_N{n}"))
        .chain(TABLE_N.iter().map(|n| format!("ctrl_err_N{n}")))
        .collect();
    columns.extend(names.iter().map(String::as_str));
    let mut t = Table::new(&columns);
    if errors.rows.is_empty() {
        return Ok(t);
    }
    let f64_rows = errors.filter("format", "f64")?;
    for (task, tol) in f64_rows.distinct("task")?.into_iter().flat_map(|t| {
        let tols = f64_rows.distinct("tolerance").unwrap_or_default();
        tols.into_iter().map(move |e| (t.clone(), e))
    }) {
        let rows = f64_rows.filter("task", &task)?.filter("tolerance", &tol)?;
        let ctrl = if task == "linear" { "k_err" } else { "u_err" };
        let exact = curve(&rows.filter("rule", "exact")?, "w_err")?;
        for rule in rows.distinct("rule")? {
            let r = rows.filter("rule", &rule)?;
            let w = curve(&r, "w_err")?;
            let c = curve(&r, ctrl)?;
            let q = curve(&r, "quad_rel_err")?;
            let in_paper = |p: &[(f64, f64)]| -> Vec<(f64, f64)> {
                p.iter()
                    .filter(|x| (5.0..=15.0).contains(&x.0))
                    .copied()
                    .collect()
            };
            let pre = if rule == "exact" {
                Vec::new()
            } else {
                prefloor(&w, &exact, fit_min_n, floor_factor)
            };
            let opt = |v: Option<f64>| v.map_or(Cell::Float(f64::NAN), Cell::Float);
            let at = |p: &[(f64, f64)], n: i64| {
                p.iter().find(|x| x.0 == n as f64).map_or(f64::NAN, |x| x.1)
            };
            let mut row = vec![
                task.as_str().into(),
                Cell::Float(tol.parse().unwrap_or(f64::NAN)),
                rule.as_str().into(),
                expected_order(&rule).map_or(Cell::Text(String::new()), |o| Cell::Int(o as i64)),
                opt(loglog_slope(&in_paper(&w))),
                opt(loglog_slope(&pre)),
                opt(loglog_slope(
                    &pre.iter().map(|p| (p.0 - 1.0, p.1)).collect::<Vec<_>>(),
                )),
                pre.first()
                    .map_or(Cell::Text(String::new()), |p| Cell::Int(p.0 as i64)),
                pre.last()
                    .map_or(Cell::Text(String::new()), |p| Cell::Int(p.0 as i64)),
                opt(loglog_slope(&in_paper(&c))),
                opt(if rule == "exact" {
                    None
                } else {
                    loglog_slope(
                        &q.iter()
                            .filter(|p| p.0 >= fit_min_n as f64)
                            .copied()
                            .collect::<Vec<_>>(),
                    )
                }),
            ];
            row.extend(TABLE_N.iter().map(|&n| Cell::Float(at(&w, n))));
            row.extend(TABLE_N.iter().map(|&n| Cell::Float(at(&c, n))));
            t.push(row);
        }
    }
    Ok(t)
}

fn floor_table(errors: &Table) -> Result<Table> {
    let mut t = Table::new(&[
        "task",
        "rule",
        "format",
        "precision",
        "rounding",
        "unit_roundoff",
        "floor_w_err",
        "floor_over_u",
        "f64_w_err_at_max_n",
        "n_flat",
        "runs",
        "failed_runs",
    ]);
    if errors.rows.is_empty() {
        return Ok(t);
    }
    // Emulated runs use the first tolerance only; compare with f64 at the same tolerance.
    let Some(tol) = errors
        .rows
        .iter()
        .find(|r| r[4].as_text() != "f64")
        .map(|r| r[1].as_text())
    else {
        return Ok(t);
    };
    let errors = errors.filter("tolerance", &tol)?;
    let f64_rows = errors.filter("format", "f64")?;
    for task in errors.distinct("task")? {
        let rows = errors.filter("task", &task)?;
        for rule in rows.distinct("rule")? {
            let r = rows.filter("rule", &rule)?;
            let reference = curve(
                &f64_rows.filter("task", &task)?.filter("rule", &rule)?,
                "w_err",
            )?;
            for format in r.distinct("format")? {
                if format == "f64" {
                    continue;
                }
                let rf = r.filter("format", &format)?;
                for rounding in rf.distinct("rounding")? {
                    let rr = rf.filter("rounding", &rounding)?;
                    let c = curve(&rr, "w_err")?;
                    let failed = rr
                        .rows
                        .iter()
                        .filter(|row| row[17].as_text().starts_with("failed"))
                        .count();
                    // First N from which the format's error stays above twice the f64 error;
                    // the floor is the median error from there on.
                    let mut n_flat = None;
                    for &(n, e) in c.iter().rev() {
                        let f = reference
                            .iter()
                            .find(|p| p.0 == n)
                            .map_or(f64::NAN, |p| p.1);
                        if e > 2.0 * f {
                            n_flat = Some(n as i64);
                        } else {
                            break;
                        }
                    }
                    let flat: Vec<f64> = c
                        .iter()
                        .filter(|p| n_flat.is_some_and(|n| p.0 >= n as f64))
                        .map(|p| p.1)
                        .collect();
                    let floor = stats::quantile(&flat, 0.5).unwrap_or(f64::NAN);
                    let precision = rr.floats("precision")?.first().copied().unwrap_or(f64::NAN);
                    let u = (2f64).powi(-(precision as i32));
                    t.push(vec![
                        task.as_str().into(),
                        rule.as_str().into(),
                        format.as_str().into(),
                        Cell::Int(precision as i64),
                        rounding.as_str().into(),
                        u.into(),
                        floor.into(),
                        (floor / u).into(),
                        reference.last().map_or(f64::NAN, |p| p.1).into(),
                        n_flat.map_or(Cell::Text("none".into()), Cell::Int),
                        rr.rows.len().into(),
                        failed.into(),
                    ]);
                }
            }
        }
    }
    Ok(t)
}

fn fmt_slope(s: f64) -> String {
    if s.is_finite() {
        format!("{s:.2}")
    } else {
        "n/a".into()
    }
}

fn metric_label(column: &str) -> &'static str {
    match column {
        "w_err" => "‖ŵ − w*‖₂",
        "k_err" => "‖K − K*‖_F",
        "u_err" => "mean |û − u*|",
        _ => "mean relative error of the window integrals",
    }
}

fn convergence_figure(
    rows: &Table,
    slopes: &Table,
    about: &str,
    column: &str,
    stem: &Path,
) -> Result<Vec<PathBuf>> {
    let task = rows
        .distinct("task")?
        .into_iter()
        .next()
        .unwrap_or_default();
    let mut series = Vec::new();
    for (i, rule) in rows.distinct("rule")?.iter().enumerate() {
        let pts = curve(&rows.filter("rule", rule)?, column)?;
        if pts.is_empty() {
            continue;
        }
        let label = if rule == "exact" {
            "exact integral (ODE cost state)".to_string()
        } else {
            let pre = if column == "w_err" {
                slopes
                    .filter("task", &task)
                    .and_then(|t| t.filter("rule", rule))
                    .ok()
                    .and_then(|t| {
                        let s = t.floats("slope_w_prefloor").ok()?.first().copied()?;
                        let p = t.floats("slope_w_5_15").ok()?.first().copied()?;
                        Some(format!(" (slope {}; 5–15: {})", fmt_slope(s), fmt_slope(p)))
                    })
                    .unwrap_or_default()
            } else {
                let s = loglog_slope(
                    &pts.iter()
                        .filter(|p| p.0 >= 5.0 && p.0 <= 15.0)
                        .copied()
                        .collect::<Vec<_>>(),
                );
                s.map_or(String::new(), |s| {
                    format!(" (slope 5–15: {})", fmt_slope(s))
                })
            };
            format!("{rule}{pre}")
        };
        // Grey (7) is the exact baseline's.
        let color = if rule == "exact" {
            7
        } else if i >= 7 {
            i + 1
        } else {
            i
        };
        series.push(Series::new(label, pts, color));
    }
    plot::line_chart(
        stem,
        &LineChart {
            title: format!("{about}: {} vs N (f64)", metric_label(column)),
            x_label: "N (samples per window, T = 0.1)".into(),
            y_label: metric_label(column).into(),
            x_log: true,
            y_log: true,
            series,
            ..LineChart::default()
        },
    )
}

/// The paper's view: error against 1/N^p on linear axes over 5 ≤ N ≤ 15 (p = 2: trapezoid;
/// p = 4: BQ with ν = 7/2, the authors' jittered rule and the exact one).
fn paper_figure(rows: &Table, task: &str, p: i32, dir: &Path) -> Result<Vec<PathBuf>> {
    let rules: Vec<String> = rows
        .distinct("rule")?
        .into_iter()
        .filter(|r| {
            if p == 2 {
                r == "trapezoid"
            } else {
                r.starts_with("bq-matern72")
            }
        })
        .collect();
    let mut series = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let pts: Vec<(f64, f64)> = curve(&rows.filter("rule", rule)?, "w_err")?
            .into_iter()
            .filter(|q| (5.0..=15.0).contains(&q.0))
            .map(|(n, e)| (n.powi(-p), e))
            .collect();
        if !pts.is_empty() {
            series.push(Series::new(rule.clone(), pts, i));
        }
    }
    if series.is_empty() {
        return Ok(Vec::new());
    }
    plot::line_chart(
        &dir.join(format!("paper_inv_n{p}_{task}")),
        &LineChart {
            title: format!("{task} task: ‖ŵ − w*‖₂ vs 1/N^{p} (5 ≤ N ≤ 15, the paper's view)"),
            x_label: format!("1/N^{p}"),
            y_label: "‖ŵ − w*‖₂".into(),
            series,
            ..LineChart::default()
        },
    )
}

fn precision_figure(
    rows: &Table,
    task: &str,
    rule: &str,
    rounding: &str,
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    let r = rows.filter("rule", rule)?;
    let mut series = Vec::new();
    let reference = curve(&r.filter("format", "f64")?, "w_err")?;
    if !reference.is_empty() {
        series.push(Series::new("f64", reference, 7));
    }
    // The e11m<p> family (the exponent range of binary64, so only precision varies).
    let formats: Vec<String> = r
        .distinct("format")?
        .into_iter()
        .filter(|f| f.starts_with("e11m"))
        .collect();
    for (i, format) in formats.iter().enumerate() {
        let pts = curve(
            &r.filter("format", format)?.filter("rounding", rounding)?,
            "w_err",
        )?;
        if !pts.is_empty() {
            series.push(Series::new(
                format.clone(),
                pts,
                if i >= 7 { i + 1 } else { i },
            ));
        }
    }
    let what = if rounding.starts_with("sr") {
        format!("{rounding}, median over replicates")
    } else {
        rounding.to_string()
    };
    plot::line_chart(
        &dir.join(format!("precision_{task}_{rule}_{rounding}")),
        &LineChart {
            title: format!("{task}, {rule}: ‖ŵ − w*‖₂, utility and quadrature in e11m<p> ({what})"),
            x_label: "N (samples per window)".into(),
            y_label: "‖ŵ − w*‖₂".into(),
            x_log: true,
            y_log: true,
            series,
            ..LineChart::default()
        },
    )
}

/// Range or precision: each named small format (binary16, bf16, e4m3, …) against the `e11m<p>`
/// format of the same precision (binary64's exponent range), round-to-nearest-even.
fn range_figure(rows: &Table, task: &str, rule: &str, dir: &Path) -> Result<Vec<PathBuf>> {
    let r = rows.filter("rule", rule)?.filter("rounding", "rne")?;
    let formats = r.distinct("format")?;
    let mut series = Vec::new();
    let mut color = 0;
    for named in formats.iter().filter(|f| !f.starts_with("e11m")) {
        let Ok(fmt) = Format::parse(named) else {
            continue;
        };
        let twin = format!("e11m{}", fmt.man_bits());
        for (name, label) in [
            (named.clone(), named.clone()),
            (twin.clone(), format!("{twin} (same precision, wide range)")),
        ] {
            if !formats.contains(&name) {
                continue;
            }
            let pts = curve(&r.filter("format", &name)?, "w_err")?;
            if !pts.is_empty() {
                series.push(Series::new(label, pts, color));
                color += if color == 6 { 2 } else { 1 };
            }
        }
    }
    if series.is_empty() {
        return Ok(Vec::new());
    }
    plot::line_chart(
        &dir.join(format!("range_{task}_{rule}")),
        &LineChart {
            title: format!("{task}, {rule}: small formats vs e11m<p> of equal precision (rne)"),
            x_label: "N (samples per window)".into(),
            y_label: "‖ŵ − w*‖₂".into(),
            x_log: true,
            y_log: true,
            series,
            ..LineChart::default()
        },
    )
}

/// Floor of the `e11m<p>` family against p, RN and SR, per (task, rule).
fn floor_figures(floors: &Table, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if floors.rows.is_empty() {
        return Ok(files);
    }
    for task in floors.distinct("task")? {
        let ft = floors.filter("task", &task)?;
        for rule in ft.distinct("rule")? {
            let fr = ft.filter("rule", &rule)?;
            let e11: Vec<Vec<Cell>> = fr
                .rows
                .iter()
                .filter(|row| row[2].as_text().starts_with("e11m"))
                .cloned()
                .collect();
            let e11 = Table {
                columns: fr.columns.clone(),
                rows: e11,
            };
            if e11.rows.is_empty() {
                continue;
            }
            let mut series = Vec::new();
            for (i, rounding) in e11.distinct("rounding")?.iter().enumerate() {
                let t = e11.filter("rounding", rounding)?;
                let mut pts: Vec<(f64, f64)> = t
                    .floats("precision")?
                    .into_iter()
                    .zip(t.floats("floor_w_err")?)
                    .collect();
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                series.push(Series::new(format!("{rounding}: error floor"), pts, i));
            }
            let mut u: Vec<(f64, f64)> = e11
                .floats("precision")?
                .into_iter()
                .zip(e11.floats("unit_roundoff")?)
                .collect();
            u.sort_by(|a, b| a.0.total_cmp(&b.0));
            u.dedup();
            series.push(Series {
                markers: false,
                ..Series::new("unit roundoff 2^−p", u, 7)
            });
            files.extend(plot::line_chart(
                &dir.join(format!("floor_{task}_{rule}")),
                &LineChart {
                    title: format!(
                        "{task}, {rule}: error floor of e11m<p> (median ‖ŵ − w*‖₂ over N ≥ n_flat)"
                    ),
                    x_label: "precision p (significand bits, e11m<p−1>)".into(),
                    y_label: "‖ŵ − w*‖₂ floor".into(),
                    y_log: true,
                    series,
                    ..LineChart::default()
                },
            )?);
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slopes_and_prefloor_ranges() {
        let pts: Vec<(f64, f64)> = (3..=40)
            .map(|n| (n as f64, 1.0 / (n as f64).powi(2)))
            .collect();
        assert!((loglog_slope(&pts).unwrap() + 2.0).abs() < 1e-12);
        // A floor at 1e-5 from N = 200: everything is pre-floor; with a floor of 1e-3 only
        // N with 1/N² > 10 × 1e-3, i.e. N ≤ 9.
        let exact: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, 1e-3)).collect();
        let pre = prefloor(&pts, &exact, 5, 10.0);
        assert_eq!((pre[0].0, pre.last().unwrap().0), (5.0, 9.0));
        assert_eq!(expected_order("bq-matern52-j1e-8"), Some(3));
        assert_eq!(expected_order("exact"), None);
    }
}
