//! Integral reinforcement learning (Vrabie & Lewis) for continuous-time control, as in Cao &
//! Pan, "Impact of Computation in Integral Reinforcement Learning for Continuous-Time
//! Control" (ICLR 2024), whose released code this module follows.
//!
//! Policy iteration on value weights w, V(x) = wᵀφ(x): each iteration runs the current policy
//! along one continuing trajectory over m windows [t, t + T]; for each window the integral
//! reinforcement ∫ₜ^(t+T) (xᵀQx + uᵀRu) dτ is estimated from N evenly spaced samples (both
//! window ends included) by a quadrature rule, giving one row of the least-squares problem
//! (φ(x(t)) − φ(x(t + T)))ᵀ w = ∫ (Bellman equation); the new weights give the improved policy
//! u = −½R⁻¹g(x)ᵀ∇φ(x)ᵀw. Iteration stops when ‖w − w_old‖₂ < ε or after a maximum count.
//!
//! The trajectory comes from an adaptive Dormand–Prince 5(4) integrator ([`super::dopri`]) at
//! a tight tolerance, with the cost integral carried as an extra state (reset at each window):
//! that is the "exact quadrature" baseline ([`CostIntegral::Exact`]), whose error is only the
//! integrator's. As in the authors' code there is no exploration noise and no reset: the data
//! of every iteration continue the single trajectory from x₀, whose transient provides the
//! excitation; the plant and the controller run in f64.
//!
//! With a rule, the utility samples and the quadrature sum are computed in the [`Real`] type
//! `R` — f64, or an emulated format inside [`crate::emu::with_context`]: each sampled state is
//! rounded into `R`, u and xᵀQx + uᵀRu are evaluated in `R`, and the estimate is
//! T · Σⱼ (wⱼ/T) ℓⱼ (the weights of the unit interval, O(1/N) numbers, rounded into `R`; a
//! left-to-right sum, every operation rounded; the product with T last). The least-squares
//! solve and everything else stay in f64.
//!
//! The two tasks:
//! - [`Task::Linear`]: ẋ = Ax + Bu, A = `[[0,1,0],[0,0,1],[−0.1,−0.5,−0.7]]`, B = `[0,0,1]ᵀ`,
//!   Q = I₃, R = 1, x₀ = [2, −2, 3], K₀ = 0. V(x) = xᵀPx; the weights are w = vec(P) (nine
//!   entries, row-major: the authors' kron(x, x) basis, whose pseudo-inverse solution is the
//!   symmetric P), fitted through the six independent features x_i² and 2x_ix_j.
//!   The optimum is the Riccati solution P* ([`super::riccati`]).
//! - [`Task::Nonlinear`]: ẋ₁ = −x₁ + x₂, ẋ₂ = −½(x₁ + x₂) + ½x₂sin²(x₁) + sin(x₁)u, Q = I₂,
//!   R = 1, φ = [x₁², x₁x₂, x₂²], w₀ = [−1, 3, 1.5], x₀ = [1, 1]; w* = [0.5, 0, 1]
//!   (V* = ½x₁² + x₂², u* = −sin(x₁)x₂).

use super::dopri::Dopri5;
use super::riccati;
use crate::error::{Error, Result};
use crate::linalg;
use crate::mode::RoundingMode;
use crate::mp::{self, Mp, MpContext};
use crate::real::Real;
use crate::rng::Stream;
use std::sync::OnceLock;

/// One of the two control tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Task {
    /// The linear third-order system.
    Linear,
    /// The nonlinear two-dimensional system with known optimum.
    Nonlinear,
}

const A_LIN: [[f64; 3]; 3] = [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [-0.1, -0.5, -0.7]];

/// P* and K* of the linear task, solved once at 200 bits and rounded to f64.
fn linear_optimum() -> &'static ([[f64; 3]; 3], [f64; 3]) {
    static OPT: OnceLock<([[f64; 3]; 3], [f64; 3])> = OnceLock::new();
    OPT.get_or_init(|| {
        let ctx = MpContext::new(200, RoundingMode::NearestEven).expect("valid context");
        mp::with_context(ctx, || {
            let a: Vec<Vec<Mp>> = linalg::from_f64(&A_LIN.map(|r| r.to_vec()));
            let b: Vec<Vec<Mp>> = linalg::from_f64(&[vec![0.0], vec![0.0], vec![1.0]]);
            let q = linalg::identity::<Mp>(3);
            let r = linalg::identity::<Mp>(1);
            let k0 = linalg::zeros::<Mp>(1, 3);
            let (p, k) = riccati::care_kleinman(&a, &b, &q, &r, &k0, 1e-50)
                .expect("A is stable, so K₀ = 0 stabilises and Kleinman converges");
            let mut pf = [[0.0; 3]; 3];
            for i in 0..3 {
                for j in 0..3 {
                    pf[i][j] = p[i][j].to_f64();
                }
            }
            (pf, [k[0][0].to_f64(), k[0][1].to_f64(), k[0][2].to_f64()])
        })
    })
}

impl Task {
    /// From "linear" or "nonlinear".
    pub fn parse(name: &str) -> Result<Task> {
        match name {
            "linear" => Ok(Task::Linear),
            "nonlinear" => Ok(Task::Nonlinear),
            other => Err(Error::Invalid(format!(
                "unknown task {other:?}; expected linear or nonlinear"
            ))),
        }
    }

    /// "linear" or "nonlinear".
    pub fn name(self) -> &'static str {
        match self {
            Task::Linear => "linear",
            Task::Nonlinear => "nonlinear",
        }
    }

    /// State dimension.
    pub fn state_dim(self) -> usize {
        match self {
            Task::Linear => 3,
            Task::Nonlinear => 2,
        }
    }

    /// x₀.
    pub fn initial_state(self) -> Vec<f64> {
        match self {
            Task::Linear => vec![2.0, -2.0, 3.0],
            Task::Nonlinear => vec![1.0, 1.0],
        }
    }

    /// The initial weights (linear: P = 0, i.e. K₀ = 0).
    pub fn initial_weights(self) -> Vec<f64> {
        match self {
            Task::Linear => vec![0.0; 9],
            Task::Nonlinear => vec![-1.0, 3.0, 1.5],
        }
    }

    /// w* (linear: vec(P*) from the Riccati equation).
    pub fn optimal_weights(self) -> Vec<f64> {
        match self {
            Task::Linear => linear_optimum().0.iter().flatten().copied().collect(),
            Task::Nonlinear => vec![0.5, 0.0, 1.0],
        }
    }

    /// K* = R⁻¹BᵀP* of the linear task.
    pub fn optimal_gain() -> [f64; 3] {
        linear_optimum().1
    }

    /// The regression features whose coefficients are fitted (linear: x_i² and 2x_ix_j,
    /// whose coefficients are the entries of the symmetric P).
    pub fn features(self, x: &[f64]) -> Vec<f64> {
        match self {
            Task::Linear => vec![
                x[0] * x[0],
                2.0 * x[0] * x[1],
                2.0 * x[0] * x[2],
                x[1] * x[1],
                2.0 * x[1] * x[2],
                x[2] * x[2],
            ],
            Task::Nonlinear => vec![x[0] * x[0], x[0] * x[1], x[1] * x[1]],
        }
    }

    /// The weights from the fitted feature coefficients.
    pub fn weights_from_coefficients(self, c: &[f64]) -> Vec<f64> {
        match self {
            Task::Linear => vec![c[0], c[1], c[2], c[1], c[3], c[4], c[2], c[4], c[5]],
            Task::Nonlinear => c.to_vec(),
        }
    }

    /// The policy's control gains from weights, in `R` (linear: K = BᵀP, the third row of
    /// P; nonlinear: (w₂, w₃) of u = −½ sin(x₁)(w₂x₁ + 2w₃x₂)).
    fn gains<R: Real>(self, w: &[f64]) -> Vec<R> {
        match self {
            Task::Linear => w[6..9].iter().map(|&v| R::from_f64(v)).collect(),
            Task::Nonlinear => vec![R::from_f64(w[1]), R::from_f64(w[2])],
        }
    }

    /// u(x) of the policy with gains from [`Task::gains`], in `R`.
    fn control_with<R: Real>(self, gains: &[R], x: &[R]) -> R {
        match self {
            Task::Linear => {
                let kx = gains[0].clone() * x[0].clone()
                    + gains[1].clone() * x[1].clone()
                    + gains[2].clone() * x[2].clone();
                -kx
            }
            Task::Nonlinear => {
                let half = R::from_f64(0.5);
                let two = R::from_f64(2.0);
                let inner = gains[0].clone() * x[0].clone() + two * gains[1].clone() * x[1].clone();
                -(half * x[0].sin() * inner)
            }
        }
    }

    /// u(x) of the policy improved from weights w (f64).
    pub fn control(self, w: &[f64], x: &[f64]) -> f64 {
        self.control_with::<f64>(&self.gains(w), x)
    }

    /// The optimal control u*(x).
    pub fn optimal_control(self, x: &[f64]) -> f64 {
        self.control(&self.optimal_weights(), x)
    }

    /// The utility xᵀQx + uᵀRu with Q = I, R = 1, in `R`.
    pub fn utility<R: Real>(self, x: &[R], u: &R) -> R {
        x.iter().fold(R::zero(), |s, v| s + v.clone() * v.clone()) + u.clone() * u.clone()
    }

    /// ẋ = f(x) + g(x)u.
    pub fn dynamics(self, x: &[f64], u: f64, dx: &mut [f64]) {
        match self {
            Task::Linear => {
                for i in 0..3 {
                    dx[i] = A_LIN[i][0] * x[0] + A_LIN[i][1] * x[1] + A_LIN[i][2] * x[2];
                }
                dx[2] += u;
            }
            Task::Nonlinear => {
                let s = x[0].sin();
                dx[0] = -x[0] + x[1];
                dx[1] = -0.5 * (x[0] + x[1]) + 0.5 * x[1] * s * s + s * u;
            }
        }
    }

    /// A fixed sample of `count` states, uniform in [−1, 1]^n, from the stream `key`.
    pub fn evaluation_states(self, count: usize, key: u64) -> Vec<Vec<f64>> {
        let mut s = Stream::from_key(key);
        (0..count)
            .map(|_| {
                (0..self.state_dim())
                    .map(|_| 2.0 * s.next_f64() - 1.0)
                    .collect()
            })
            .collect()
    }
}

/// How the integral reinforcement of a window is obtained.
#[derive(Clone, Debug, PartialEq)]
pub enum CostIntegral {
    /// From the integrator's extra state (error: the ODE tolerance only).
    Exact,
    /// Σⱼ wⱼ ℓ(tⱼ) with these weights of a window [0, T] on N = len nodes.
    Rule(Vec<f64>),
}

/// Settings of one policy-iteration run.
#[derive(Clone, Debug, PartialEq)]
pub struct IrlConfig {
    /// Windows m per iteration (rows of the least-squares problem).
    pub windows: usize,
    /// Window length T.
    pub window: f64,
    /// Stop when ‖w − w_old‖₂ < this.
    pub tolerance: f64,
    /// At most this many iterations.
    pub max_iterations: usize,
    /// Relative tolerance of the ODE integrator.
    pub ode_rtol: f64,
    /// Absolute tolerance of the ODE integrator.
    pub ode_atol: f64,
    /// State norm beyond which the run counts as diverged.
    pub divergence: f64,
    /// Weight norm beyond which the run counts as diverged (such gains would make the closed
    /// loop too stiff to integrate).
    pub weight_bound: f64,
}

impl Default for IrlConfig {
    /// m = 10, T = 0.1, ε = 1e-3, at most 100 iterations, ODE tolerances 1e-12/1e-14,
    /// divergence at |x| > 1e6 or ‖w‖ > 1e6.
    fn default() -> Self {
        IrlConfig {
            windows: 10,
            window: 0.1,
            tolerance: 1e-3,
            max_iterations: 100,
            ode_rtol: 1e-12,
            ode_atol: 1e-14,
            divergence: 1e6,
            weight_bound: 1e6,
        }
    }
}

/// What a policy-iteration run produced.
#[derive(Clone, Debug, PartialEq)]
pub struct IrlOutcome {
    /// The final weights ŵ.
    pub weights: Vec<f64>,
    /// Iterations run.
    pub iterations: usize,
    /// Whether the weight change fell below the tolerance.
    pub converged: bool,
    /// ‖w − w_old‖₂ of the last iteration.
    pub last_change: f64,
    /// Mean over all windows of |estimate − exact| / exact for the window integrals.
    pub quad_rel_error: f64,
    /// Time at the end of the trajectory.
    pub final_time: f64,
    /// Accepted ODE steps.
    pub ode_steps: usize,
    /// max |R_ii| / min |R_ii| of the last least-squares problem's QR factor (a lower
    /// estimate of its condition number, which amplifies every error in the integrals).
    pub ls_condition: f64,
}

/// Runs integral-RL policy iteration for `task` with N = `samples` samples per window.
/// The utility samples and quadrature sums are computed in `R` (see the module docs).
pub fn policy_iteration<R: Real>(
    task: Task,
    cfg: &IrlConfig,
    samples: usize,
    cost: &CostIntegral,
) -> Result<IrlOutcome> {
    if let CostIntegral::Rule(w) = cost
        && w.len() != samples
    {
        return Err(Error::Invalid(format!(
            "{} rule weights for {samples} samples",
            w.len()
        )));
    }
    if samples < 2 || cfg.windows == 0 || cfg.window.is_nan() || cfg.window <= 0.0 {
        return Err(Error::Invalid(format!(
            "integral RL needs N ≥ 2 samples, m ≥ 1 windows and T > 0 (got N={samples}, m={}, T={})",
            cfg.windows, cfg.window
        )));
    }
    let n = task.state_dim();
    let big_t = cfg.window;
    // Unit-interval weights and T, rounded into R once.
    let (unit, t_r): (Vec<R>, R) = match cost {
        CostIntegral::Rule(w) => (
            w.iter().map(|&v| R::from_f64(v / big_t)).collect(),
            R::from_f64(big_t),
        ),
        CostIntegral::Exact => (Vec::new(), R::zero()),
    };
    let mut w = task.initial_weights();
    let mut change = f64::INFINITY;
    let mut state: Vec<f64> = task.initial_state();
    state.push(0.0);
    let mut t = 0.0;
    let mut ode = Dopri5::new(cfg.ode_rtol, cfg.ode_atol);
    ode.max_steps = 200_000;
    let (mut rel_sum, mut rel_count) = (0.0, 0usize);
    let mut iterations = 0;
    let mut ls_condition = f64::NAN;
    while change >= cfg.tolerance && iterations < cfg.max_iterations {
        let gains_f: Vec<f64> = task.gains(&w);
        let gains_r: Vec<R> = task.gains(&w);
        let rhs = |_t: f64, y: &[f64], dy: &mut [f64]| {
            let x = &y[..n];
            let u = task.control_with(&gains_f, x);
            task.dynamics(x, u, &mut dy[..n]);
            dy[n] = task.utility(x, &u);
        };
        let mut rows = Vec::with_capacity(cfg.windows);
        let mut rhs_values = Vec::with_capacity(cfg.windows);
        for _ in 0..cfg.windows {
            let start = state[..n].to_vec();
            state[n] = 0.0;
            let mut sum = R::zero();
            for j in 0..samples {
                if j > 0 {
                    let t_next = t + big_t * (j as f64 / (samples - 1) as f64);
                    let t_prev = t + big_t * ((j - 1) as f64 / (samples - 1) as f64);
                    ode.advance(&rhs, t_prev, &mut state, t_next)?;
                    let norm = state[..n].iter().map(|v| v * v).sum::<f64>().sqrt();
                    if norm.is_nan() || norm > cfg.divergence {
                        return Err(Error::Invalid(format!(
                            "the closed loop diverged (|x| = {norm:e} at t = {t_next})"
                        )));
                    }
                }
                if !unit.is_empty() {
                    let x: Vec<R> = state[..n].iter().map(|&v| R::from_f64(v)).collect();
                    let u = task.control_with(&gains_r, &x);
                    let ell = task.utility(&x, &u);
                    sum += unit[j].clone() * ell;
                }
            }
            t += big_t;
            let exact = state[n];
            let estimate = match cost {
                CostIntegral::Exact => exact,
                CostIntegral::Rule(_) => (t_r.clone() * sum).to_f64(),
            };
            if exact > 0.0 {
                rel_sum += ((estimate - exact) / exact).abs();
                rel_count += 1;
            }
            let (f0, f1) = (task.features(&start), task.features(&state[..n]));
            rows.push(f0.iter().zip(&f1).map(|(a, b)| a - b).collect::<Vec<f64>>());
            rhs_values.push(estimate);
        }
        if rhs_values.iter().any(|v| !v.is_finite()) {
            return Err(Error::Invalid(
                "a window integral is not finite in this format".into(),
            ));
        }
        let (c, cond) = linalg::least_squares_with_condition(&rows, &rhs_values, 1e-13)?;
        ls_condition = cond;
        let new_w = task.weights_from_coefficients(&c);
        change = new_w
            .iter()
            .zip(&w)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        let norm = new_w.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm.is_nan() || norm > cfg.weight_bound {
            return Err(Error::Invalid(format!(
                "the weights diverged (‖w‖ = {norm:e} after iteration {})",
                iterations + 1
            )));
        }
        w = new_w;
        iterations += 1;
    }
    Ok(IrlOutcome {
        weights: w,
        iterations,
        converged: change < cfg.tolerance,
        last_change: change,
        quad_rel_error: if rel_count > 0 {
            rel_sum / rel_count as f64
        } else {
            f64::NAN
        },
        final_time: t,
        ode_steps: ode.steps,
        ls_condition,
    })
}

/// ‖ŵ − w*‖₂.
pub fn weight_error(task: Task, w: &[f64]) -> f64 {
    w.iter()
        .zip(task.optimal_weights())
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt()
}

/// ‖K − K*‖_F for the linear task (K = BᵀP̂, the third row of P̂).
pub fn gain_error(w: &[f64]) -> f64 {
    let k = Task::optimal_gain();
    (0..3)
        .map(|j| (w[6 + j] - k[j]) * (w[6 + j] - k[j]))
        .sum::<f64>()
        .sqrt()
}

/// Mean |û(x) − u*(x)| over the given states.
pub fn control_error(task: Task, w: &[f64], states: &[Vec<f64>]) -> f64 {
    let opt = task.optimal_weights();
    states
        .iter()
        .map(|x| (task.control(w, x) - task.control(&opt, x)).abs())
        .sum::<f64>()
        / states.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quad;

    #[test]
    fn riccati_solution_of_the_linear_task() {
        let p = linear_optimum().0;
        let k = Task::optimal_gain();
        // The authors' values (env.py), to their printed digits.
        let want = [
            [2.355030933091255, 2.238452370854351, 0.904987562112089],
            [2.238452370854351, 4.241942496771635, 1.893095222031228],
            [0.904987562112089, 1.893095222031228, 1.596995960828503],
        ];
        for i in 0..3 {
            for j in 0..3 {
                assert!((p[i][j] - want[i][j]).abs() < 1e-13, "P[{i}][{j}]");
            }
        }
        assert!((k[0] - 0.905).abs() < 1e-3 && (k[1] - 1.893).abs() < 1e-3);
        assert!((k[2] - 1.597).abs() < 1e-3);
        // Residual of the f64-rounded solution, evaluated in f64.
        let pv: Vec<Vec<f64>> = p.iter().map(|r| r.to_vec()).collect();
        let res = riccati::residual(
            &A_LIN.map(|r| r.to_vec()),
            &[vec![0.0], vec![0.0], vec![1.0]],
            &linalg::identity(3),
            &linalg::identity(1),
            &pv,
        )
        .unwrap();
        let max = res.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(max < 1e-13, "residual {max:e}");
        // The closed loop A − BK* is stable: its cost-to-go from x is xᵀP*x, checked by
        // integrating the utility along the optimal trajectory.
        let task = Task::Linear;
        let w = task.optimal_weights();
        let x0 = task.initial_state();
        let mut y = x0.clone();
        y.push(0.0);
        let rhs = |_t: f64, y: &[f64], dy: &mut [f64]| {
            let u = task.control(&w, &y[..3]);
            task.dynamics(&y[..3], u, &mut dy[..3]);
            dy[3] = task.utility(&y[..3], &u);
        };
        let mut ode = Dopri5::new(1e-12, 1e-14);
        ode.advance(&rhs, 0.0, &mut y, 60.0).unwrap();
        let v: f64 = (0..3)
            .flat_map(|i| (0..3).map(move |j| (i, j)))
            .map(|(i, j)| x0[i] * p[i][j] * x0[j])
            .sum();
        assert!((y[3] - v).abs() < 1e-9 * v, "{} vs {v}", y[3]);
    }

    #[test]
    fn nonlinear_optimum_satisfies_the_hjb_equation() {
        // 0 = ∇V*ᵀ(f + g u*) + xᵀx + u*² with V* = ½x₁² + x₂², u* = −sin(x₁)x₂.
        let task = Task::Nonlinear;
        for x in task.evaluation_states(50, 7) {
            let u = task.optimal_control(&x);
            assert!((u + x[0].sin() * x[1]).abs() < 1e-15);
            let mut dx = [0.0; 2];
            task.dynamics(&x, u, &mut dx);
            let hjb = x[0] * dx[0] + 2.0 * x[1] * dx[1] + x[0] * x[0] + x[1] * x[1] + u * u;
            assert!(hjb.abs() < 1e-14, "{hjb:e}");
        }
        // The initial policy is the authors' init_policy −3/2 sin(x₁)(x₁ + x₂).
        let x = [0.3, -0.7];
        let u0 = task.control(&task.initial_weights(), &x);
        assert!((u0 + 1.5 * x[0].sin() * (x[0] + x[1])).abs() < 1e-15);
    }

    #[test]
    fn exact_integrals_recover_the_optimum_for_both_tasks() {
        for task in [Task::Linear, Task::Nonlinear] {
            // A tight tolerance, but not so tight that the iteration runs on while the state
            // decays to where the regression loses rank (no exploration noise).
            let cfg = IrlConfig {
                windows: 20,
                tolerance: 1e-6,
                ..IrlConfig::default()
            };
            let out = policy_iteration::<f64>(task, &cfg, 2, &CostIntegral::Exact).unwrap();
            assert!(out.converged, "{task:?}: {out:?}");
            let e = weight_error(task, &out.weights);
            // The linear task's regression has cond ≳ 1e6: f64 and ODE errors leave ~1e-8.
            assert!(e < 1e-7, "{task:?}: ‖ŵ − w*‖ = {e:e}");
            assert!(out.quad_rel_error < 1e-15);
        }
    }

    #[test]
    fn trapezoid_error_shrinks_like_n_to_the_minus_two() {
        let task = Task::Linear;
        let cfg = IrlConfig {
            tolerance: 1e-6,
            ..IrlConfig::default()
        };
        let err = |n| {
            let w = quad::trapezoid_weights(n, 0.0, cfg.window).unwrap();
            let out = policy_iteration::<f64>(task, &cfg, n, &CostIntegral::Rule(w)).unwrap();
            weight_error(task, &out.weights)
        };
        let slope = (err(21) / err(6)).ln() / (20.0f64 / 5.0).ln();
        assert!((-2.3..-1.7).contains(&slope), "slope {slope}");
    }
}
