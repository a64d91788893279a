//! The Dormand–Prince 5(4) embedded Runge–Kutta pair with adaptive steps (the method of
//! MATLAB's ode45 and SciPy's RK45), in f64: the accurate "plant" integrator of the integral
//! reinforcement-learning experiments, run at tolerances far below the quadrature errors it
//! is compared with.
//!
//! The step is accepted when the scaled RMS norm of the embedded error estimate,
//! ‖eᵢ / (atol + rtol · max(|yᵢ|, |ŷᵢ|))‖, is at most 1; the next step is
//! h · min(5, max(0.2, 0.9 · err^(−1/5))) (no growth right after a rejection). The step size
//! is kept between calls of [`Dopri5::advance`], and every call lands exactly on its end time.

use crate::error::{Error, Result};

// The Butcher tableau (Dormand & Prince 1980).
const C: [f64; 7] = [0.0, 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0, 1.0, 1.0];
const A: [[f64; 6]; 7] = [
    [0.0; 6],
    [1.0 / 5.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [3.0 / 40.0, 9.0 / 40.0, 0.0, 0.0, 0.0, 0.0],
    [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0, 0.0, 0.0, 0.0],
    [
        19372.0 / 6561.0,
        -25360.0 / 2187.0,
        64448.0 / 6561.0,
        -212.0 / 729.0,
        0.0,
        0.0,
    ],
    [
        9017.0 / 3168.0,
        -355.0 / 33.0,
        46732.0 / 5247.0,
        49.0 / 176.0,
        -5103.0 / 18656.0,
        0.0,
    ],
    [
        35.0 / 384.0,
        0.0,
        500.0 / 1113.0,
        125.0 / 192.0,
        -2187.0 / 6784.0,
        11.0 / 84.0,
    ],
];
/// Fifth-order weights (= the last row of A: the method is "first same as last").
const B5: [f64; 7] = [
    35.0 / 384.0,
    0.0,
    500.0 / 1113.0,
    125.0 / 192.0,
    -2187.0 / 6784.0,
    11.0 / 84.0,
    0.0,
];
/// Embedded fourth-order weights.
const B4: [f64; 7] = [
    5179.0 / 57600.0,
    0.0,
    7571.0 / 16695.0,
    393.0 / 640.0,
    -92097.0 / 339200.0,
    187.0 / 2100.0,
    1.0 / 40.0,
];

/// The right-hand side f(t, y, dy/dt).
pub trait Rhs: Fn(f64, &[f64], &mut [f64]) {}
impl<F: Fn(f64, &[f64], &mut [f64])> Rhs for F {}

/// An adaptive Dormand–Prince 5(4) integrator.
#[derive(Clone, Debug)]
pub struct Dopri5 {
    /// Relative tolerance.
    pub rtol: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Steps allowed per [`Dopri5::advance`] call.
    pub max_steps: usize,
    h: f64,
    /// Accepted steps so far.
    pub steps: usize,
    /// Rejected steps so far.
    pub rejected: usize,
    k: Vec<Vec<f64>>,
    stage: Vec<f64>,
    y5: Vec<f64>,
}

impl Dopri5 {
    /// An integrator with the given tolerances.
    pub fn new(rtol: f64, atol: f64) -> Dopri5 {
        Dopri5 {
            rtol,
            atol,
            max_steps: 1_000_000,
            h: 0.0,
            steps: 0,
            rejected: 0,
            k: Vec::new(),
            stage: Vec::new(),
            y5: Vec::new(),
        }
    }

    fn ensure(&mut self, n: usize) {
        if self.stage.len() != n {
            self.k = vec![vec![0.0; n]; 7];
            self.stage = vec![0.0; n];
            self.y5 = vec![0.0; n];
        }
    }

    /// One step of size h from (t, y) without error control: y becomes the fifth-order
    /// solution; returns the embedded error estimate's scaled norm.
    pub fn step(&mut self, f: &impl Rhs, t: f64, y: &mut [f64], h: f64) -> f64 {
        let err = self.attempt(f, t, y, h);
        y.copy_from_slice(&self.y5);
        err
    }

    /// Computes the stages and the fifth-order solution into self.y5; returns the scaled
    /// error norm.
    fn attempt(&mut self, f: &impl Rhs, t: f64, y: &[f64], h: f64) -> f64 {
        let n = y.len();
        self.ensure(n);
        f(t, y, &mut self.k[0]);
        for s in 1..7 {
            for (i, (out, &yi)) in self.stage.iter_mut().zip(y).enumerate() {
                let mut v = yi;
                for (j, a) in A[s].iter().enumerate().take(s) {
                    v += h * a * self.k[j][i];
                }
                *out = v;
            }
            f(t + C[s] * h, &self.stage, &mut self.k[s]);
        }
        let mut sum = 0.0;
        for (i, &yi) in y.iter().enumerate() {
            let mut y5 = yi;
            let mut e = 0.0;
            for s in 0..7 {
                y5 += h * B5[s] * self.k[s][i];
                e += h * (B5[s] - B4[s]) * self.k[s][i];
            }
            self.y5[i] = y5;
            let scale = self.atol + self.rtol * yi.abs().max(y5.abs());
            sum += (e / scale) * (e / scale);
        }
        (sum / n as f64).sqrt()
    }

    /// Integrates y from t0 to t1 > t0 with error control, landing exactly on t1.
    pub fn advance(&mut self, f: &impl Rhs, t0: f64, y: &mut [f64], t1: f64) -> Result<()> {
        let span = t1 - t0;
        if span.is_nan() || span <= 0.0 {
            return Err(Error::Invalid(format!(
                "ODE: end time {t1} must exceed start time {t0}"
            )));
        }
        if self.h <= 0.0 {
            self.h = (span / 10.0).min(1e-3);
        }
        let mut t = t0;
        let mut rejected_last = false;
        for _ in 0..self.max_steps {
            let remaining = t1 - t;
            let last = self.h >= remaining * (1.0 - 1e-12);
            let h = if last { remaining } else { self.h };
            let err = self.attempt(f, t, y, h);
            if !err.is_finite() {
                return Err(Error::Invalid(format!(
                    "ODE: non-finite solution at t = {t} (the system diverged)"
                )));
            }
            if err <= 1.0 {
                y.copy_from_slice(&self.y5);
                self.steps += 1;
                let grow = if rejected_last {
                    1.0
                } else {
                    (0.9 * err.powf(-0.2)).min(5.0)
                };
                let next = h * grow.max(0.2);
                // A short final step says nothing about the step size the solution needs.
                if !last || next > self.h {
                    self.h = next;
                }
                if last {
                    return Ok(());
                }
                t += h;
                rejected_last = false;
            } else {
                self.rejected += 1;
                self.h = h * (0.9 * err.powf(-0.2)).clamp(0.2, 1.0);
                rejected_last = true;
                if self.h < 1e-14 * t.abs().max(1.0) {
                    return Err(Error::Invalid(format!(
                        "ODE: step size underflow at t = {t}"
                    )));
                }
            }
        }
        Err(Error::Invalid(format!(
            "ODE: more than {} steps from {t0} to {t1}",
            self.max_steps
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meets_tight_tolerances_on_problems_with_known_solutions() {
        // y' = −y with a carried integral of y²: J(1) = (1 − e^−2)/2.
        let f = |_t: f64, y: &[f64], dy: &mut [f64]| {
            dy[0] = -y[0];
            dy[1] = y[0] * y[0];
        };
        let mut ode = Dopri5::new(1e-12, 1e-14);
        let mut y = [1.0, 0.0];
        for k in 0..10 {
            ode.advance(&f, k as f64 * 0.1, &mut y, (k + 1) as f64 * 0.1)
                .unwrap();
        }
        assert!((y[0] - (-1.0f64).exp()).abs() < 5e-13, "{}", y[0]);
        assert!((y[1] - (1.0 - (-2.0f64).exp()) / 2.0).abs() < 5e-13);
        // Harmonic oscillator over ten periods.
        let g = |_t: f64, y: &[f64], dy: &mut [f64]| {
            dy[0] = y[1];
            dy[1] = -y[0];
        };
        let mut ode = Dopri5::new(1e-12, 1e-14);
        let mut y = [1.0, 0.0];
        let end = 20.0 * std::f64::consts::PI;
        ode.advance(&g, 0.0, &mut y, end).unwrap();
        assert!((y[0] - 1.0).abs() < 1e-9 && y[1].abs() < 1e-9, "{y:?}");
        assert!(ode.advance(&g, 1.0, &mut y, 1.0).is_err());
    }

    #[test]
    fn fixed_steps_converge_at_fifth_order() {
        let f = |t: f64, y: &[f64], dy: &mut [f64]| dy[0] = y[0] * t.cos();
        let exact = 1.0f64.sin().exp();
        let run = |n: usize| {
            let mut ode = Dopri5::new(1.0, 1.0);
            let mut y = [1.0];
            let h = 1.0 / n as f64;
            for i in 0..n {
                ode.step(&f, i as f64 * h, &mut y, h);
            }
            (y[0] - exact).abs()
        };
        let ratio = run(10) / run(20);
        assert!((25.0..40.0).contains(&ratio), "ratio {ratio}");
    }

    #[test]
    fn a_blow_up_is_an_error_not_a_hang() {
        let f = |_t: f64, y: &[f64], dy: &mut [f64]| dy[0] = y[0] * y[0];
        let mut ode = Dopri5::new(1e-10, 1e-12);
        let mut y = [1.0];
        assert!(ode.advance(&f, 0.0, &mut y, 2.0).is_err());
    }
}
