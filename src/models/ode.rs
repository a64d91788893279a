//! The classical fourth-order Runge–Kutta step, in any `Real`.

use crate::real::Real;

/// Time-step constants rounded once into the working type: dt, dt/2 and dt/6.
#[derive(Clone, Debug)]
pub struct Step<R> {
    dt: R,
    half: R,
    sixth: R,
    two: R,
}

impl<R: Real> Step<R> {
    /// Constants for step size `dt` (each rounded from its f64 value, as a model written with
    /// literal constants would have them).
    pub fn new(dt: f64) -> Step<R> {
        Step {
            dt: R::from_f64(dt),
            half: R::from_f64(dt / 2.0),
            sixth: R::from_f64(dt / 6.0),
            two: R::from_f64(2.0),
        }
    }
}

/// Scratch space for [`rk4`], so stepping allocates nothing.
#[derive(Clone, Debug)]
pub struct Scratch<R> {
    k: [Vec<R>; 4],
    stage: Vec<R>,
}

impl<R: Real> Scratch<R> {
    /// Scratch for a state of `n` variables.
    pub fn new(n: usize) -> Scratch<R> {
        let v = vec![R::zero(); n];
        Scratch {
            k: [v.clone(), v.clone(), v.clone(), v.clone()],
            stage: v,
        }
    }
}

/// One RK4 step of x' = f(x): x ← x + dt/6 · (k1 + 2 k2 + 2 k3 + k4), every operation in `R`.
/// `f(x, out)` writes the tendency of `x` into `out`.
pub fn rk4<R: Real>(
    x: &mut [R],
    step: &Step<R>,
    scratch: &mut Scratch<R>,
    f: &impl Fn(&[R], &mut [R]),
) {
    let Scratch { k, stage } = scratch;
    f(x, &mut k[0]);
    for (s, (xi, ki)) in stage.iter_mut().zip(x.iter().zip(&k[0])) {
        *s = xi.clone() + step.half.clone() * ki.clone();
    }
    f(stage, &mut k[1]);
    for (s, (xi, ki)) in stage.iter_mut().zip(x.iter().zip(&k[1])) {
        *s = xi.clone() + step.half.clone() * ki.clone();
    }
    f(stage, &mut k[2]);
    for (s, (xi, ki)) in stage.iter_mut().zip(x.iter().zip(&k[2])) {
        *s = xi.clone() + step.dt.clone() * ki.clone();
    }
    f(stage, &mut k[3]);
    for (i, xi) in x.iter_mut().enumerate() {
        let sum = k[0][i].clone()
            + step.two.clone() * k[1][i].clone()
            + step.two.clone() * k[2][i].clone()
            + k[3][i].clone();
        *xi += step.sixth.clone() * sum;
    }
}
