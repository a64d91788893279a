//! Lorenz '63 and Lorenz '96, the low-dimensional chaotic systems of the climate rounding
//! studies (Klöwer et al.; Paxton et al.).

use super::ode::{Scratch, Step, rk4};
use crate::real::Real;

/// dx/dt = σ(y − x), dy/dt = x(ρ − z) − y, dz/dt = xy − βz.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lorenz63 {
    /// σ (10 in Lorenz 1963).
    pub sigma: f64,
    /// ρ (28).
    pub rho: f64,
    /// β (8/3).
    pub beta: f64,
}

impl Default for Lorenz63 {
    fn default() -> Self {
        Lorenz63 {
            sigma: 10.0,
            rho: 28.0,
            beta: 8.0 / 3.0,
        }
    }
}

impl Lorenz63 {
    /// Integrates from `x0` with RK4 in `R`: `spinup` steps discarded, then `steps` steps,
    /// calling `sample(&state)` every `every` steps.
    pub fn run<R: Real>(
        &self,
        x0: [f64; 3],
        dt: f64,
        spinup: usize,
        steps: usize,
        every: usize,
        mut sample: impl FnMut(&[R]),
    ) {
        let (sigma, rho, beta) = (
            R::from_f64(self.sigma),
            R::from_f64(self.rho),
            R::from_f64(self.beta),
        );
        let f = |s: &[R], out: &mut [R]| {
            let (x, y, z) = (s[0].clone(), s[1].clone(), s[2].clone());
            out[0] = sigma.clone() * (y.clone() - x.clone());
            out[1] = x.clone() * (rho.clone() - z.clone()) - y.clone();
            out[2] = x * y - beta.clone() * z;
        };
        let step = Step::new(dt);
        let mut scratch = Scratch::new(3);
        let mut state: Vec<R> = x0.iter().map(|&v| R::from_f64(v)).collect();
        for _ in 0..spinup {
            rk4(&mut state, &step, &mut scratch, &f);
        }
        for n in 0..steps {
            rk4(&mut state, &step, &mut scratch, &f);
            if (n + 1) % every.max(1) == 0 {
                sample(&state);
            }
        }
    }
}

/// dx_k/dt = (x_{k+1} − x_{k−2}) x_{k−1} − x_k + F, k cyclic.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lorenz96 {
    /// Number of variables K (36 or 40 in the literature).
    pub k: usize,
    /// Forcing F (8 gives chaos).
    pub forcing: f64,
}

impl Lorenz96 {
    /// Integrates like [`Lorenz63::run`] from `x0` (length K).
    pub fn run<R: Real>(
        &self,
        x0: &[f64],
        dt: f64,
        spinup: usize,
        steps: usize,
        every: usize,
        mut sample: impl FnMut(&[R]),
    ) {
        let k = self.k;
        let forcing = R::from_f64(self.forcing);
        let f = |s: &[R], out: &mut [R]| {
            for i in 0..k {
                let (p1, m1, m2) = (
                    s[(i + 1) % k].clone(),
                    s[(i + k - 1) % k].clone(),
                    s[(i + k - 2) % k].clone(),
                );
                out[i] = (p1 - m2) * m1 - s[i].clone() + forcing.clone();
            }
        };
        let step = Step::new(dt);
        let mut scratch = Scratch::new(k);
        let mut state: Vec<R> = x0.iter().map(|&v| R::from_f64(v)).collect();
        for _ in 0..spinup {
            rk4(&mut state, &step, &mut scratch, &f);
        }
        for n in 0..steps {
            rk4(&mut state, &step, &mut scratch, &f);
            if (n + 1) % every.max(1) == 0 {
                sample(&state);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lorenz63_stays_on_the_attractor_and_rk4_converges_at_fourth_order() {
        // Bounded: the attractor lies within |x|, |y| < 30, 0 < z < 55.
        let mut max = [0.0f64; 3];
        Lorenz63::default().run::<f64>([1.0, 1.0, 1.0], 0.01, 0, 10_000, 1, |s| {
            for i in 0..3 {
                max[i] = max[i].max(s[i].abs());
            }
        });
        assert!(
            max[0] < 30.0 && max[1] < 35.0 && max[2] < 60.0 && max[2] > 30.0,
            "{max:?}"
        );
        // Error at t = 1 against a fine reference: halving dt divides it by about 16.
        let end = |dt: f64| {
            let mut last = vec![];
            let steps = (1.0 / dt).round() as usize;
            Lorenz63::default()
                .run::<f64>([1.0, 1.0, 1.0], dt, 0, steps, steps, |s| last = s.to_vec());
            last
        };
        let reference = end(2.5e-5);
        let err = |dt| {
            end(dt)
                .iter()
                .zip(&reference)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max)
        };
        let ratio = err(0.004) / err(0.002);
        assert!((12.0..20.0).contains(&ratio), "RK4 error ratio {ratio}");
    }

    #[test]
    fn lorenz96_with_constant_state_f_is_a_fixed_point() {
        let model = Lorenz96 {
            k: 40,
            forcing: 8.0,
        };
        let mut last = vec![];
        model.run::<f64>(&[8.0; 40], 0.01, 0, 100, 100, |s| last = s.to_vec());
        assert!(last.iter().all(|&v| (v - 8.0).abs() < 1e-12));
    }
}
