//! Lorenz '63 and '96 as climate-study models.

use super::climate::{ClimateModel, RunLength};
use crate::error::{Error, Result};
use crate::exp::{Param, ParamSpec, Point, Recipe};
use crate::models::lorenz::{Lorenz63, Lorenz96};
use crate::real::Real;

/// Lorenz '63 (σ, ρ, β), variables x, y, z.
pub struct L63;

impl ClimateModel for L63 {
    fn kind(&self) -> &'static str {
        "lorenz63"
    }
    fn about(&self) -> &'static str {
        "Lorenz '63 climate vs precision and rounding (Paxton et al. 2022; Klöwer et al.)"
    }
    fn model_params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::new("sigma", Param::Float(10.0), "σ (Lorenz 1963)"),
            ParamSpec::new("rho", Param::Float(28.0), "ρ"),
            ParamSpec::new("beta", Param::Float(8.0 / 3.0), "β"),
        ]
    }
    fn variables(&self) -> Vec<&'static str> {
        vec!["x", "y", "z"]
    }
    fn projection(&self) -> (usize, usize) {
        (0, 2)
    }
    fn initial_state(&self, _: &Recipe, _: &Point) -> Result<Vec<f64>> {
        // A point on the attractor (after a long double spin-up from (1, 1, 1)).
        Ok(vec![-5.6, -8.0, 20.0])
    }
    fn simulate<R: Real>(
        &self,
        recipe: &Recipe,
        point: &Point,
        init: &[f64],
        run: &RunLength,
    ) -> Result<Vec<Vec<f64>>> {
        let model = Lorenz63 {
            sigma: recipe.f64(point, "sigma")?,
            rho: recipe.f64(point, "rho")?,
            beta: recipe.f64(point, "beta")?,
        };
        let mut out: Vec<Vec<f64>> = (0..3)
            .map(|_| Vec::with_capacity(run.steps / run.every + 1))
            .collect();
        let x0 = [init[0], init[1], init[2]];
        model.run::<R>(x0, run.dt, run.spinup, run.steps, run.every, |s| {
            for (o, v) in out.iter_mut().zip(s) {
                o.push(v.to_f64());
            }
        });
        Ok(out)
    }
}

/// Lorenz '96 (K variables, forcing F): samples x_0 and the mean energy Σ x_k² / (2K).
pub struct L96;

impl ClimateModel for L96 {
    fn kind(&self) -> &'static str {
        "lorenz96"
    }
    fn about(&self) -> &'static str {
        "Lorenz '96 climate vs precision and rounding (K variables, forcing F)"
    }
    fn model_params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::new("k", Param::Int(40), "number of variables K"),
            ParamSpec::new("forcing", Param::Float(8.0), "forcing F"),
            ParamSpec::new(
                "attractor_spinup",
                Param::Float(50.0),
                "model time units of a double-precision run from F (one variable nudged by 0.01) \
                 that gives the reference initial state, on the attractor: started at the \
                 unstable fixed point F itself, low-precision round-to-nearest runs cannot leave it",
            ),
        ]
    }
    fn variables(&self) -> Vec<&'static str> {
        vec!["x0", "energy"]
    }
    fn projection(&self) -> (usize, usize) {
        (0, 1)
    }
    fn initial_state(&self, recipe: &Recipe, point: &Point) -> Result<Vec<f64>> {
        let k = recipe.usize(point, "k")?;
        if k < 4 {
            return Err(Error::Invalid(format!(
                "k = {k}: Lorenz '96 needs at least 4 variables"
            )));
        }
        // F everywhere but one variable nudged (the classic start), then carried onto the
        // attractor in double precision.
        let f = recipe.f64(point, "forcing")?;
        let dt = RunLength::dt(recipe, point)?;
        let steps = RunLength::steps(recipe, point, dt, "attractor_spinup")?;
        let mut x = vec![f; k];
        x[0] += 0.01;
        if steps > 0 {
            let model = Lorenz96 { k, forcing: f };
            model.run::<f64>(&x.clone(), dt, 0, steps, steps, |s| x.copy_from_slice(s));
        }
        Ok(x)
    }
    fn simulate<R: Real>(
        &self,
        recipe: &Recipe,
        point: &Point,
        init: &[f64],
        run: &RunLength,
    ) -> Result<Vec<Vec<f64>>> {
        let model = Lorenz96 {
            k: init.len(),
            forcing: recipe.f64(point, "forcing")?,
        };
        let mut out: Vec<Vec<f64>> = (0..2)
            .map(|_| Vec::with_capacity(run.steps / run.every + 1))
            .collect();
        model.run::<R>(init, run.dt, run.spinup, run.steps, run.every, |s| {
            out[0].push(s[0].to_f64());
            let e: f64 =
                s.iter().map(|v| v.to_f64() * v.to_f64()).sum::<f64>() / (2.0 * s.len() as f64);
            out[1].push(e);
        });
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp::Experiment;
    use crate::experiments::climate::Climate;

    fn recipe(params: &str) -> Recipe {
        let text = format!(
            "name = \"t\"\nkind = \"lorenz96\"\nseed = 1\ndescription = \"t\"\n[params]\n{params}\n"
        );
        let exp = Climate(L96);
        Recipe::parse(&text, "t.toml", &exp.params()).unwrap()
    }

    /// The reference start is on the attractor, far from the fixed point F that the nudged
    /// start sits next to; with no spin-up it is the nudged start itself.
    #[test]
    fn lorenz96_starts_on_the_attractor() {
        let r = recipe("k = 40\nforcing = 8.0\nattractor_spinup = 50.0");
        let p = &r.points()[0];
        let x = L96.initial_state(&r, p).unwrap();
        let spread = x.iter().map(|v| (v - 8.0).abs()).fold(0.0, f64::max);
        assert!(spread > 3.0, "largest |x_k − F| = {spread}");
        let r = recipe("k = 40\nforcing = 8.0\nattractor_spinup = 0.0");
        let x = L96.initial_state(&r, &r.points()[0]).unwrap();
        assert_eq!(x[0], 8.01);
        assert!(x[1..].iter().all(|&v| v == 8.0));
    }

    #[test]
    fn lorenz96_refuses_a_bad_spinup_or_time_step() {
        for params in [
            "attractor_spinup = -1.0",
            "attractor_spinup = inf",
            "dt = 0.0",
        ] {
            let r = recipe(params);
            let e = L96
                .initial_state(&r, &r.points()[0])
                .unwrap_err()
                .to_string();
            let name = params.split(' ').next().unwrap();
            assert!(e.contains(name), "{params}: {e}");
        }
    }
}
