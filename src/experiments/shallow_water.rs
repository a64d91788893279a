//! The shallow water model (flow over a ridge, ShallowWaters.jl v0.4 defaults) as a
//! climate-study model: Paxton et al. (2022), section 3.
//!
//! Variables: u, v and η at three fixed points — p1 upstream of the ridge mid-channel
//! (x, y) = (Lx/4, Ly/2), p2 over the ridge crest (Lx/2, Ly/2), p3 downstream in the southern
//! half (3Lx/4, Ly/4), each at the nearest point of its own C-grid — and the domain-mean kinetic
//! energy ½⟨u² + v²⟩ (`ke`, m²/s²). Snapshot: relative vorticity ζ/f₀ of the final state at
//! the interior grid corners.
//!
//! Times are in days and the time step in seconds (by default ShallowWaters.jl's CFL rule).
//! Every member starts from one shared state: a double-precision spin-up from rest of
//! `initial_spinup` days (computed once per process and cached), plus the member's
//! perturbation; each run then spins up `spinup` days in its own arithmetic before sampling.

use super::climate::{ClimateModel, RunLength, Samples, Snapshot};
use crate::error::{Error, Result};
use crate::exp::{Param, ParamSpec, Point, Recipe};
use crate::models::shallow_water::{Model, ShallowWater};
use crate::real::Real;
use std::sync::{Arc, Mutex};

/// The shallow water climate study.
pub struct Sw;

const DAY: f64 = 86400.0;

/// The sampling points as fractions of (Lx, Ly).
const POINTS: [(f64, f64); 3] = [(0.25, 0.5), (0.5, 0.5), (0.75, 0.25)];

fn setup(recipe: &Recipe, point: &Point) -> Result<ShallowWater> {
    let f = |k: &str| recipe.f64(point, k);
    let s = ShallowWater {
        nx: recipe.usize(point, "nx")?,
        ny: recipe.usize(point, "ny")?,
        lx: f("lx")?,
        gravity: f("gravity")?,
        depth: f("depth")?,
        density: f("density")?,
        latitude: f("latitude")?,
        omega: f("omega")?,
        radius: f("radius")?,
        wind_stress: f("wind_stress")?,
        ridge_height: f("ridge_height")?,
        ridge_width: f("ridge_width")?,
        drag: f("drag")?,
        viscosity: f("viscosity")?,
        alpha: f("alpha")?,
        cfl: f("cfl")?,
        scale: f("scale")?,
    };
    s.check()?;
    Ok(s)
}

/// The time step (s): the recipe's `dt`, or the CFL rule when it is 0.
fn time_step(recipe: &Recipe, point: &Point, s: &ShallowWater) -> Result<f64> {
    let dt = recipe.f64(point, "dt")?;
    if dt == 0.0 {
        Ok(s.time_step())
    } else if dt.is_finite() && dt > 0.0 {
        Ok(dt)
    } else {
        Err(Error::Invalid(format!(
            "dt = {dt} s must be positive (or 0 for the CFL rule)"
        )))
    }
}

/// Whole steps of `dt` seconds in a recipe time given in days.
fn steps(recipe: &Recipe, point: &Point, key: &str, dt: f64) -> Result<usize> {
    let days = recipe.f64(point, key)?;
    if !(days.is_finite() && days >= 0.0) {
        return Err(Error::Invalid(format!(
            "{key} = {days} must be a non-negative number of days"
        )));
    }
    Ok((days * DAY / dt).round() as usize)
}

/// Spun-up double-precision states by setup, kept for the process (every point shares one).
type Cache = Mutex<Vec<(String, Arc<Vec<f64>>)>>;
static SPUN_UP: Cache = Mutex::new(Vec::new());

/// Grid indices of the sampling points: (u-point, v-point, cell) for each.
fn sample_points(s: &ShallowWater) -> Vec<[(usize, usize); 3]> {
    let (nx, ny) = (s.nx as f64, s.ny as f64);
    let cell = |f: f64, n: f64| ((f * n).floor() as usize).min(n as usize - 1);
    let edge = |f: f64, n: f64| (f * n).round() as usize;
    POINTS
        .iter()
        .map(|&(fx, fy)| {
            let u = (edge(fx, nx) % s.nx, cell(fy, ny));
            let v = (cell(fx, nx), edge(fy, ny).clamp(1, s.ny - 1));
            let t = (cell(fx, nx), cell(fy, ny));
            [u, v, t]
        })
        .collect()
}

/// Runs from `init`: spin-up, then samples of the variables; also the final vorticity / f₀.
fn integrate<R: Real>(
    s: &ShallowWater,
    init: &[f64],
    run: &RunLength,
) -> Result<(Samples, Snapshot)> {
    let mut m: Model<R> = s.model(run.dt)?;
    m.set_state(init)?;
    for _ in 0..run.spinup {
        m.step();
    }
    let points = sample_points(s);
    let n = run.steps / run.every + 1;
    let mut out: Vec<Vec<f64>> = (0..10).map(|_| Vec::with_capacity(n)).collect();
    for k in 0..run.steps {
        m.step();
        if (k + 1) % run.every == 0 {
            for (p, [u, v, t]) in points.iter().enumerate() {
                out[p].push(m.u(u.0, u.1));
                out[3 + p].push(m.v(v.0, v.1));
                out[6 + p].push(m.eta(t.0, t.1));
            }
            out[9].push(m.mean_kinetic_energy());
        }
    }
    // Interior corners only: the wall rows hold the no-slip boundary layer's vorticity, which
    // would set the figure's colour scale.
    let f0 = s.coriolis().0;
    let mut field = m.vorticity();
    field.truncate(s.ny);
    field.remove(0);
    for row in &mut field {
        for z in row.iter_mut() {
            *z /= f0;
        }
    }
    Ok((out, field))
}

impl ClimateModel for Sw {
    fn kind(&self) -> &'static str {
        "shallow_water"
    }
    fn about(&self) -> &'static str {
        "Shallow water flow over a ridge (ShallowWaters.jl v0.4 setup): climate vs precision and rounding (Paxton et al. 2022)"
    }
    fn model_params(&self) -> Vec<ParamSpec> {
        let d = ShallowWater::default();
        vec![
            ParamSpec::new(
                "dt",
                Param::Float(0.0),
                "time step [s]; 0: ShallowWaters.jl's rule floor(cfl·Δ/√(g·depth)) (282 s at 100 × 50)",
            ),
            ParamSpec::new(
                "spinup",
                Param::Float(30.0),
                "days each run spins up in its own arithmetic before sampling",
            ),
            ParamSpec::new("length", Param::Float(365.0), "days sampled"),
            ParamSpec::new("sample_interval", Param::Float(1.0), "days between samples"),
            ParamSpec::new(
                "perturbation",
                Param::Float(1e-3),
                "standard deviation of the noise added to every u, v [m/s] and η [m] of a member's initial state",
            ),
            ParamSpec::new(
                "initial_spinup",
                Param::Float(365.0),
                "days of double-precision spin-up from rest giving the shared initial state",
            ),
            ParamSpec::new("nx", Param::Int(d.nx as i64), "grid cells in x (v0.4: 100)"),
            ParamSpec::new(
                "ny",
                Param::Int(d.ny as i64),
                "grid cells in y; Ly = ny·Lx/nx (v0.4: nx/2)",
            ),
            ParamSpec::new(
                "lx",
                Param::Float(d.lx),
                "channel length [m] (v0.4: 2000 km)",
            ),
            ParamSpec::new(
                "gravity",
                Param::Float(d.gravity),
                "gravitational acceleration [m/s²] (v0.4: 10)",
            ),
            ParamSpec::new(
                "depth",
                Param::Float(d.depth),
                "layer thickness at rest [m] (v0.4: 500)",
            ),
            ParamSpec::new(
                "density",
                Param::Float(d.density),
                "water density [kg/m³] (v0.4: 1000)",
            ),
            ParamSpec::new(
                "latitude",
                Param::Float(d.latitude),
                "central latitude of the β-plane [°] (v0.4: 45)",
            ),
            ParamSpec::new(
                "omega",
                Param::Float(d.omega),
                "Earth's angular frequency [1/s] (v0.4: 2π/86400)",
            ),
            ParamSpec::new(
                "radius",
                Param::Float(d.radius),
                "Earth's radius [m] (v0.4: 6.371e6)",
            ),
            ParamSpec::new(
                "wind_stress",
                Param::Float(d.wind_stress),
                "zonal wind stress amplitude [Pa], cos² channel profile (v0.4: 0.12)",
            ),
            ParamSpec::new(
                "ridge_height",
                Param::Float(d.ridge_height),
                "height of the meridional Gaussian ridge [m] (v0.4: 50)",
            ),
            ParamSpec::new(
                "ridge_width",
                Param::Float(d.ridge_width),
                "width (standard deviation) of the ridge [m] (v0.4: 300 km)",
            ),
            ParamSpec::new(
                "drag",
                Param::Float(d.drag),
                "quadratic bottom drag coefficient (v0.4: 1e-5)",
            ),
            ParamSpec::new(
                "viscosity",
                Param::Float(d.viscosity),
                "biharmonic viscosity scaling νB [m²/s]: ν = νB·Δ³/30 km (v0.4: 500)",
            ),
            ParamSpec::new(
                "alpha",
                Param::Float(d.alpha),
                "tangential boundary condition: 0 free-slip, 2 no-slip (v0.4: 2)",
            ),
            ParamSpec::new(
                "cfl",
                Param::Float(d.cfl),
                "CFL number of the time-step rule (v0.4: 1)",
            ),
            ParamSpec::new(
                "scale",
                Param::Float(d.scale),
                "factor u, v are held multiplied by (a power of two changes nothing in e11 formats; 64 keeps binary16's tendencies normal)",
            ),
        ]
    }
    fn variables(&self) -> Vec<&'static str> {
        vec![
            "u_p1", "u_p2", "u_p3", "v_p1", "v_p2", "v_p3", "eta_p1", "eta_p2", "eta_p3", "ke",
        ]
    }
    fn projection(&self) -> (usize, usize) {
        (1, 4) // u and v over the ridge crest
    }
    fn initial_state(&self, recipe: &Recipe, point: &Point) -> Result<Vec<f64>> {
        let s = setup(recipe, point)?;
        let dt = time_step(recipe, point, &s)?;
        let n = steps(recipe, point, "initial_spinup", dt)?;
        let key = format!("{s:?} dt={dt} steps={n}");
        // Held while computing, so concurrent points wait for the one spin-up.
        let mut cache = SPUN_UP.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, state)) = cache.iter().find(|(k, _)| *k == key) {
            return Ok(state.to_vec());
        }
        let mut m = s.model::<f64>(dt)?;
        for _ in 0..n {
            m.step();
        }
        let state = m.state();
        if !state.iter().all(|x| x.is_finite()) {
            return Err(Error::Invalid(
                "the double-precision spin-up blew up (time step too long?)".into(),
            ));
        }
        cache.push((key, Arc::new(state.clone())));
        Ok(state)
    }
    fn run_length(&self, recipe: &Recipe, point: &Point) -> Result<RunLength> {
        let s = setup(recipe, point)?;
        let dt = time_step(recipe, point, &s)?;
        Ok(RunLength {
            dt,
            spinup: steps(recipe, point, "spinup", dt)?,
            steps: steps(recipe, point, "length", dt)?,
            every: steps(recipe, point, "sample_interval", dt)?.max(1),
        })
    }
    fn simulate<R: Real>(
        &self,
        recipe: &Recipe,
        point: &Point,
        init: &[f64],
        run: &RunLength,
    ) -> Result<Vec<Vec<f64>>> {
        Ok(self
            .simulate_with_snapshot::<R>(recipe, point, init, run)?
            .0)
    }
    fn simulate_with_snapshot<R: Real>(
        &self,
        recipe: &Recipe,
        point: &Point,
        init: &[f64],
        run: &RunLength,
    ) -> Result<(Samples, Option<Snapshot>)> {
        let (samples, field) = integrate::<R>(&setup(recipe, point)?, init, run)?;
        Ok((samples, Some(field)))
    }
    fn snapshot_name(&self) -> &'static str {
        "relative vorticity ζ/f₀"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_points_sit_where_the_docs_say() {
        let s = ShallowWater::default(); // 100 × 50
        let p = sample_points(&s);
        assert_eq!(p[0], [(25, 25), (25, 25), (25, 25)]);
        assert_eq!(p[1], [(50, 25), (50, 25), (50, 25)]);
        assert_eq!(p[2], [(75, 12), (75, 13), (75, 12)]);
        let tiny = ShallowWater {
            nx: 8,
            ny: 4,
            ..ShallowWater::default()
        };
        for [u, v, t] in sample_points(&tiny) {
            assert!(u.0 < 8 && u.1 < 4 && v.0 < 8 && (1..4).contains(&v.1));
            assert!(t.0 < 8 && t.1 < 4);
        }
    }
}
