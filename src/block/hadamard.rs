//! The randomized Hadamard transform of a block: y = H·D·x / √n, with D a diagonal of seeded
//! random signs and H the Sylvester–Hadamard matrix of order n (a power of two). It is
//! orthonormal, so it spreads an outlier's energy over the block without changing the block's
//! norm; its inverse is x = D·H·y / √n. Computed in f64 (the fast Walsh–Hadamard butterfly),
//! so a round trip is exact to a few units in the last place of f64, not bit for bit.
//!
//! Used before block quantisation by the Graphcore FP4 study ("Elucidating the Design Space of
//! FP4 training", 2025) and QuaRot-style rotations.

use crate::rng;

/// The random signs (±1) of a transform over blocks of `n` under `key`: sign `i` is the top
/// bit of word `i` of the stream, the same for every block.
pub fn signs(key: u64, n: usize) -> Vec<f64> {
    (0..n as u64)
        .map(|i| {
            if rng::word(key, i) >> 63 == 1 {
                -1.0
            } else {
                1.0
            }
        })
        .collect()
}

/// In-place unnormalised Walsh–Hadamard transform (Sylvester order); `v.len()` is a power of
/// two.
fn walsh_hadamard(v: &mut [f64]) {
    let n = v.len();
    debug_assert!(n.is_power_of_two());
    let mut h = 1;
    while h < n {
        for start in (0..n).step_by(2 * h) {
            for i in start..start + h {
                let (a, b) = (v[i], v[i + h]);
                v[i] = a + b;
                v[i + h] = a - b;
            }
        }
        h *= 2;
    }
}

/// y = H·D·x / √n in place.
pub fn forward(block: &mut [f64], signs: &[f64]) {
    for (x, s) in block.iter_mut().zip(signs) {
        *x *= s;
    }
    walsh_hadamard(block);
    let norm = 1.0 / (block.len() as f64).sqrt();
    for x in block.iter_mut() {
        *x *= norm;
    }
}

/// x = D·H·y / √n in place (the inverse of [`forward`]).
pub fn inverse(block: &mut [f64], signs: &[f64]) {
    walsh_hadamard(block);
    let norm = 1.0 / (block.len() as f64).sqrt();
    for (x, s) in block.iter_mut().zip(signs) {
        *x *= norm * s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transform_is_orthonormal_and_inverts() {
        for n in [1usize, 2, 8, 32, 128] {
            let s = signs(7, n);
            let x: Vec<f64> = (0..n).map(|i| ((i * 37 % 11) as f64 - 5.0) * 0.3).collect();
            let mut y = x.clone();
            forward(&mut y, &s);
            let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>();
            assert!((norm(&x) - norm(&y)).abs() <= 1e-12 * norm(&x).max(1.0));
            inverse(&mut y, &s);
            for (a, b) in x.iter().zip(&y) {
                assert!((a - b).abs() <= 1e-14, "n={n}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn transform_matches_the_matrix_definition() {
        // H[i][j] = (−1)^popcount(i & j) (Sylvester); y = H·D·x/√n computed directly.
        let n = 16;
        let s = signs(3, n);
        let x: Vec<f64> = (0..n).map(|i| (i as f64).sin()).collect();
        let mut y = x.clone();
        forward(&mut y, &s);
        for (i, yi) in y.iter().enumerate() {
            let direct: f64 = (0..n)
                .map(|j| {
                    let h = if (i & j).count_ones() % 2 == 0 {
                        1.0
                    } else {
                        -1.0
                    };
                    h * s[j] * x[j]
                })
                .sum::<f64>()
                / (n as f64).sqrt();
            assert!((direct - yi).abs() < 1e-13);
        }
        assert!(s.iter().any(|&v| v < 0.0) && s.iter().any(|&v| v > 0.0));
    }
}
