//! The continuous-time algebraic Riccati equation (CARE)
//!
//! AᵀP + PA − PBR⁻¹BᵀP + Q = 0,
//!
//! solved by Kleinman's Newton iteration — model-based policy iteration, the method integral
//! RL performs from data: from a stabilising gain K₀, repeat
//! (A − BKₖ)ᵀPₖ + Pₖ(A − BKₖ) + Q + KₖᵀRKₖ = 0 (a Lyapunov equation), Kₖ₊₁ = R⁻¹BᵀPₖ.
//! The iteration converges quadratically to the stabilising solution P*. It is generic over
//! [`Real`]: run in [`crate::mp::Mp`] and rounded once, it gives P* and K* = R⁻¹BᵀP* to the
//! last bit of f64.

use crate::error::{Error, Result};
use crate::linalg::{self, Matrix};
use crate::real::Real;

/// Solves the Lyapunov equation AᵀP + PA + Q = 0 for P (n² × n² linear system; for small n).
pub fn lyapunov<R: Real>(a: &[Vec<R>], q: &[Vec<R>]) -> Result<Matrix<R>> {
    let n = a.len();
    let idx = |i: usize, j: usize| i * n + j;
    let mut m = linalg::zeros::<R>(n * n, n * n);
    let mut rhs = vec![R::zero(); n * n];
    for i in 0..n {
        for j in 0..n {
            // (AᵀP)ᵢⱼ = Σₖ Aₖᵢ Pₖⱼ, (PA)ᵢⱼ = Σₖ Pᵢₖ Aₖⱼ.
            for k in 0..n {
                m[idx(i, j)][idx(k, j)] += a[k][i].clone();
                m[idx(i, j)][idx(i, k)] += a[k][j].clone();
            }
            rhs[idx(i, j)] = -q[i][j].clone();
        }
    }
    let p = linalg::solve(&m, &rhs)?;
    let half = R::from_f64(0.5);
    Ok((0..n)
        .map(|i| {
            (0..n)
                .map(|j| half.clone() * (p[idx(i, j)].clone() + p[idx(j, i)].clone()))
                .collect()
        })
        .collect())
}

/// K = R⁻¹BᵀP.
pub fn gain<R: Real>(b: &[Vec<R>], r: &[Vec<R>], p: &[Vec<R>]) -> Result<Matrix<R>> {
    let btp = linalg::matmul(&linalg::transpose(b), p);
    let cols = btp.first().map_or(0, Vec::len);
    let mut k = linalg::zeros::<R>(btp.len(), cols);
    for j in 0..cols {
        let col: Vec<R> = btp.iter().map(|row| row[j].clone()).collect();
        let x = linalg::solve(r, &col)?;
        for (i, v) in x.into_iter().enumerate() {
            k[i][j] = v;
        }
    }
    Ok(k)
}

/// The CARE residual AᵀP + PA − PBR⁻¹BᵀP + Q.
pub fn residual<R: Real>(
    a: &[Vec<R>],
    b: &[Vec<R>],
    q: &[Vec<R>],
    r: &[Vec<R>],
    p: &[Vec<R>],
) -> Result<Matrix<R>> {
    let at = linalg::transpose(a);
    let k = gain(b, r, p)?;
    let pbk = linalg::matmul(&linalg::matmul(p, b), &k);
    let atp = linalg::matmul(&at, p);
    let pa = linalg::matmul(p, a);
    let n = a.len();
    Ok((0..n)
        .map(|i| {
            (0..n)
                .map(|j| atp[i][j].clone() + pa[i][j].clone() - pbk[i][j].clone() + q[i][j].clone())
                .collect()
        })
        .collect())
}

/// Kleinman's iteration from the stabilising gain `k0` until successive P differ by at most
/// `tol` (max-norm, relative to P) or 200 iterations. Returns (P*, K*). Fails if a P is not
/// positive definite, i.e. the gain was not stabilising.
pub fn care_kleinman<R: Real>(
    a: &[Vec<R>],
    b: &[Vec<R>],
    q: &[Vec<R>],
    r: &[Vec<R>],
    k0: &[Vec<R>],
    tol: f64,
) -> Result<(Matrix<R>, Matrix<R>)> {
    let n = a.len();
    let mut k: Matrix<R> = k0.to_vec();
    let mut previous: Option<Matrix<R>> = None;
    for _ in 0..200 {
        let bk = linalg::matmul(b, &k);
        let ak: Matrix<R> = (0..n)
            .map(|i| (0..n).map(|j| a[i][j].clone() - bk[i][j].clone()).collect())
            .collect();
        let krk = linalg::matmul(&linalg::matmul(&linalg::transpose(&k), r), &k);
        let qk: Matrix<R> = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| q[i][j].clone() + krk[i][j].clone())
                    .collect()
            })
            .collect();
        let p = lyapunov(&ak, &qk)?;
        linalg::cholesky(&p).map_err(|_| {
            Error::Invalid(
                "Riccati: a Lyapunov solution is not positive definite (the gain is not stabilising)"
                    .into(),
            )
        })?;
        k = gain(b, r, &p)?;
        if let Some(prev) = &previous {
            let (mut diff, mut size) = (0.0f64, 0.0f64);
            for i in 0..n {
                for j in 0..n {
                    diff = diff.max((p[i][j].clone() - prev[i][j].clone()).abs().to_f64());
                    size = size.max(p[i][j].abs().to_f64());
                }
            }
            if diff <= tol * size {
                return Ok((p, k));
            }
        }
        previous = Some(p);
    }
    Err(Error::Invalid(
        "Riccati: Kleinman's iteration did not converge in 200 iterations".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_care_has_the_closed_form_solution() {
        // ẋ = ax + bu, cost qx² + ru²: p = r(a + √(a² + b²q/r))/b².
        let (a, b, q, r) = (0.5, 2.0, 3.0, 0.7);
        let (p, k) = care_kleinman(
            &[vec![a]],
            &[vec![b]],
            &[vec![q]],
            &[vec![r]],
            &[vec![1.0]],
            1e-15,
        )
        .unwrap();
        let want = r * (a + (a * a + b * b * q / r).sqrt()) / (b * b);
        assert!((p[0][0] - want).abs() < 1e-14);
        assert!((k[0][0] - b * want / r).abs() < 1e-14);
    }

    #[test]
    fn lyapunov_solution_satisfies_the_equation() {
        let a = vec![
            vec![-1.0, 0.5, 0.0],
            vec![0.0, -2.0, 1.0],
            vec![0.3, 0.0, -0.5],
        ];
        let q = linalg::identity::<f64>(3);
        let p = lyapunov(&a, &q).unwrap();
        let at = linalg::transpose(&a);
        let r1 = linalg::matmul(&at, &p);
        let r2 = linalg::matmul(&p, &a);
        for i in 0..3 {
            for j in 0..3 {
                assert!((r1[i][j] + r2[i][j] + q[i][j]).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn unstable_initial_gain_is_rejected() {
        assert!(
            care_kleinman(
                &[vec![1.0]],
                &[vec![1.0]],
                &[vec![1.0]],
                &[vec![1.0]],
                &[vec![0.0]],
                1e-12
            )
            .is_err()
        );
    }
}
