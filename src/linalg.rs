//! Small dense linear algebra generic over [`Real`]: Cholesky, LU with partial pivoting and
//! Householder least squares. Written for the handful-of-unknowns systems of quadrature
//! weights, Riccati equations and policy evaluation, where running the same code in
//! [`crate::mp::Mp`] at a few hundred bits is the accuracy reference (or the method, when a
//! Gram matrix is too ill-conditioned for f64).
//!
//! Matrices are row-major `Vec<Vec<R>>`; loops index them as the formulas do.

#![allow(clippy::needless_range_loop)]

use crate::error::{Error, Result};
use crate::real::Real;

/// A row-major dense matrix.
pub type Matrix<R> = Vec<Vec<R>>;

/// A `rows × cols` matrix of zeros.
pub fn zeros<R: Real>(rows: usize, cols: usize) -> Matrix<R> {
    vec![vec![R::zero(); cols]; rows]
}

/// The `n × n` identity.
pub fn identity<R: Real>(n: usize) -> Matrix<R> {
    let mut m = zeros(n, n);
    for (i, row) in m.iter_mut().enumerate() {
        row[i] = R::one();
    }
    m
}

/// A matrix of f64 values converted into `R`.
pub fn from_f64<R: Real>(m: &[Vec<f64>]) -> Matrix<R> {
    m.iter()
        .map(|row| row.iter().map(|&v| R::from_f64(v)).collect())
        .collect()
}

/// A matrix converted to f64.
pub fn to_f64<R: Real>(m: &[Vec<R>]) -> Vec<Vec<f64>> {
    m.iter()
        .map(|row| row.iter().map(Real::to_f64).collect())
        .collect()
}

/// The product `a · b`.
pub fn matmul<R: Real>(a: &[Vec<R>], b: &[Vec<R>]) -> Matrix<R> {
    let (n, k, m) = (a.len(), b.len(), b.first().map_or(0, Vec::len));
    let mut c = zeros(n, m);
    for i in 0..n {
        for j in 0..m {
            let mut s = R::zero();
            for l in 0..k {
                s += a[i][l].clone() * b[l][j].clone();
            }
            c[i][j] = s;
        }
    }
    c
}

/// The transpose.
pub fn transpose<R: Real>(a: &[Vec<R>]) -> Matrix<R> {
    let (n, m) = (a.len(), a.first().map_or(0, Vec::len));
    (0..m)
        .map(|j| (0..n).map(|i| a[i][j].clone()).collect())
        .collect()
}

/// The product `a · x`.
pub fn matvec<R: Real>(a: &[Vec<R>], x: &[R]) -> Vec<R> {
    a.iter()
        .map(|row| {
            row.iter()
                .zip(x)
                .fold(R::zero(), |s, (u, v)| s + u.clone() * v.clone())
        })
        .collect()
}

/// The Frobenius norm of `a − b` (f64, for reporting).
pub fn frobenius_distance(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    a.iter()
        .zip(b)
        .flat_map(|(r, s)| r.iter().zip(s).map(|(u, v)| (u - v) * (u - v)))
        .sum::<f64>()
        .sqrt()
}

/// The lower Cholesky factor `L` of a symmetric positive definite `a` (`a = L Lᵀ`); only the
/// lower triangle of `a` is read. Fails on a non-positive pivot, i.e. when `a` is not
/// positive definite in `R`'s arithmetic.
pub fn cholesky<R: Real>(a: &[Vec<R>]) -> Result<Matrix<R>> {
    let n = a.len();
    let mut l = zeros::<R>(n, n);
    for j in 0..n {
        let mut d = a[j][j].clone();
        for k in 0..j {
            d -= l[j][k].clone() * l[j][k].clone();
        }
        if d.partial_cmp(&R::zero()) != Some(std::cmp::Ordering::Greater) {
            return Err(Error::Invalid(format!(
                "Cholesky: pivot {j} of {n} is {:e} ≤ 0 (matrix not positive definite at this precision)",
                d.to_f64()
            )));
        }
        let djj = d.sqrt();
        for i in j + 1..n {
            let mut s = a[i][j].clone();
            for k in 0..j {
                s -= l[i][k].clone() * l[j][k].clone();
            }
            l[i][j] = s / djj.clone();
        }
        l[j][j] = djj;
    }
    Ok(l)
}

/// Solves `L Lᵀ x = b` given the Cholesky factor `L`.
pub fn cholesky_solve<R: Real>(l: &[Vec<R>], b: &[R]) -> Vec<R> {
    let n = l.len();
    let mut y = b.to_vec();
    for i in 0..n {
        for k in 0..i {
            let t = l[i][k].clone() * y[k].clone();
            y[i] -= t;
        }
        y[i] = y[i].clone() / l[i][i].clone();
    }
    for i in (0..n).rev() {
        for k in i + 1..n {
            let t = l[k][i].clone() * y[k].clone();
            y[i] -= t;
        }
        y[i] = y[i].clone() / l[i][i].clone();
    }
    y
}

/// Solves the square system `a x = b` by Gaussian elimination with partial pivoting.
pub fn solve<R: Real>(a: &[Vec<R>], b: &[R]) -> Result<Vec<R>> {
    let n = a.len();
    if b.len() != n || a.iter().any(|r| r.len() != n) {
        return Err(Error::Invalid(format!(
            "solve: expected an {n}×{n} matrix and a vector of {n}"
        )));
    }
    let mut m: Matrix<R> = a.to_vec();
    let mut x = b.to_vec();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| {
                m[i][col]
                    .abs()
                    .partial_cmp(&m[j][col].abs())
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
            .expect("non-empty range");
        if m[pivot][col].abs() == R::zero() {
            return Err(Error::Invalid(format!(
                "solve: the {n}×{n} matrix is singular (column {col})"
            )));
        }
        m.swap(col, pivot);
        x.swap(col, pivot);
        for i in col + 1..n {
            let f = m[i][col].clone() / m[col][col].clone();
            for j in col..n {
                let t = f.clone() * m[col][j].clone();
                m[i][j] -= t;
            }
            let t = f * x[col].clone();
            x[i] -= t;
        }
    }
    for i in (0..n).rev() {
        for j in i + 1..n {
            let t = m[i][j].clone() * x[j].clone();
            x[i] -= t;
        }
        x[i] = x[i].clone() / m[i][i].clone();
    }
    Ok(x)
}

/// The least-squares solution of `a x ≈ b` (`a` is m × n, m ≥ n) by Householder QR.
///
/// Fails when `a` is numerically rank deficient: some |R_ii| ≤ `rcond` · max |R_jj|. For a
/// full-rank `a` the solution equals the pseudo-inverse solution `a⁺ b`.
pub fn least_squares<R: Real>(a: &[Vec<R>], b: &[R], rcond: f64) -> Result<Vec<R>> {
    least_squares_with_condition(a, b, rcond).map(|(x, _)| x)
}

/// [`least_squares`], also returning max |R_ii| / min |R_ii| of the triangular factor: a
/// cheap lower estimate of the 2-norm condition number of `a`.
pub fn least_squares_with_condition<R: Real>(
    a: &[Vec<R>],
    b: &[R],
    rcond: f64,
) -> Result<(Vec<R>, f64)> {
    let m = a.len();
    let n = a.first().map_or(0, Vec::len);
    if m < n || b.len() != m || n == 0 {
        return Err(Error::Invalid(format!(
            "least squares: need m ≥ n rows, a vector of m, n ≥ 1 (got {m}×{n}, {})",
            b.len()
        )));
    }
    let mut q: Matrix<R> = a.to_vec();
    let mut y = b.to_vec();
    let two = R::from_f64(2.0);
    for k in 0..n {
        // Householder vector v for column k below the diagonal.
        let mut norm2 = R::zero();
        for row in q.iter().skip(k) {
            norm2 += row[k].clone() * row[k].clone();
        }
        let norm = norm2.sqrt();
        if norm == R::zero() {
            continue;
        }
        let alpha = if q[k][k] > R::zero() { -norm } else { norm };
        let mut v: Vec<R> = (k..m).map(|i| q[i][k].clone()).collect();
        v[0] -= alpha.clone();
        let vv = v.iter().fold(R::zero(), |s, x| s + x.clone() * x.clone());
        if vv == R::zero() {
            continue;
        }
        for j in k..n {
            let mut dot = R::zero();
            for (i, vi) in v.iter().enumerate() {
                dot += vi.clone() * q[k + i][j].clone();
            }
            let f = two.clone() * dot / vv.clone();
            for (i, vi) in v.iter().enumerate() {
                let t = f.clone() * vi.clone();
                q[k + i][j] -= t;
            }
        }
        let mut dot = R::zero();
        for (i, vi) in v.iter().enumerate() {
            dot += vi.clone() * y[k + i].clone();
        }
        let f = two.clone() * dot / vv.clone();
        for (i, vi) in v.iter().enumerate() {
            let t = f.clone() * vi.clone();
            y[k + i] -= t;
        }
    }
    let largest = (0..n).map(|i| q[i][i].to_f64().abs()).fold(0.0, f64::max);
    let smallest = (0..n)
        .map(|i| q[i][i].to_f64().abs())
        .fold(f64::INFINITY, f64::min);
    for i in 0..n {
        let rii = q[i][i].to_f64().abs();
        if rii.is_nan() || rii <= rcond * largest {
            return Err(Error::Invalid(format!(
                "least squares: the {m}×{n} matrix is rank deficient (|R[{i}][{i}]| = {:e}, largest {largest:e})",
                q[i][i].to_f64().abs()
            )));
        }
    }
    let mut x = vec![R::zero(); n];
    for i in (0..n).rev() {
        let mut s = y[i].clone();
        for j in i + 1..n {
            s -= q[i][j].clone() * x[j].clone();
        }
        x[i] = s / q[i][i].clone();
    }
    Ok((x, largest / smallest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mode::RoundingMode;
    use crate::mp::{self, Mp, MpContext};

    fn hilbert<R: Real>(n: usize) -> Matrix<R> {
        (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| R::one() / R::from_i64((i + j + 1) as i64))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn cholesky_and_lu_agree_and_solve() {
        let a: Matrix<f64> = vec![
            vec![4.0, 2.0, 0.4],
            vec![2.0, 5.0, 1.0],
            vec![0.4, 1.0, 3.0],
        ];
        let b = [1.0, -2.0, 0.5];
        let l = cholesky(&a).unwrap();
        let x1 = cholesky_solve(&l, &b);
        let x2 = solve(&a, &b).unwrap();
        let r = matvec(&a, &x1);
        for i in 0..3 {
            assert!((x1[i] - x2[i]).abs() < 1e-15);
            assert!((r[i] - b[i]).abs() < 1e-15);
        }
        assert!(cholesky(&[vec![1.0, 2.0], vec![2.0, 1.0]]).is_err());
        assert!(solve(&[vec![1.0, 2.0], vec![2.0, 4.0]], &[1.0, 1.0]).is_err());
    }

    #[test]
    fn hilbert_system_solved_at_high_precision() {
        // cond(H_12) ≈ 1.7e16: hopeless in f64, exact to ~1e-40 at 256 bits.
        let ctx = MpContext::new(256, RoundingMode::NearestEven).unwrap();
        mp::with_context(ctx, || {
            let h = hilbert::<Mp>(12);
            let ones = vec![Mp::one(); 12];
            let b = matvec(&h, &ones);
            let x = cholesky_solve(&cholesky(&h).unwrap(), &b);
            for v in &x {
                assert!((v.to_f64() - 1.0).abs() < 1e-40);
            }
        });
    }

    #[test]
    fn least_squares_recovers_a_fit_and_detects_rank_deficiency() {
        // y = 1 + 2t − 0.5t² sampled exactly: the LS solution is exact.
        let ts: Vec<f64> = (0..10).map(|i| i as f64 * 0.3).collect();
        let a: Matrix<f64> = ts.iter().map(|&t| vec![1.0, t, t * t]).collect();
        let b: Vec<f64> = ts.iter().map(|&t| 1.0 + 2.0 * t - 0.5 * t * t).collect();
        let x = least_squares(&a, &b, 1e-13).unwrap();
        assert!((x[0] - 1.0).abs() < 1e-13 && (x[1] - 2.0).abs() < 1e-13);
        assert!((x[2] + 0.5).abs() < 1e-13);
        // Residual orthogonal to the columns for an inconsistent system.
        let b2: Vec<f64> = ts.iter().map(|&t| (3.0 * t).sin()).collect();
        let x2 = least_squares(&a, &b2, 1e-13).unwrap();
        let r: Vec<f64> = matvec(&a, &x2)
            .iter()
            .zip(&b2)
            .map(|(u, v)| u - v)
            .collect();
        for j in 0..3 {
            let dot: f64 = a.iter().zip(&r).map(|(row, ri)| row[j] * ri).sum();
            assert!(dot.abs() < 1e-12, "{dot}");
        }
        let dup: Matrix<f64> = ts.iter().map(|&t| vec![t, 2.0 * t]).collect();
        assert!(least_squares(&dup, &b, 1e-13).is_err());
    }
}
