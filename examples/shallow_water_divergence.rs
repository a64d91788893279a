//! How fast two double-precision shallow water runs drift apart: the memory of an initial
//! perturbation, which sets how long a climate study's members must run before they are
//! independent samples.
//!
//! Spins the recipe's setup (ShallowWaters.jl v0.4 defaults, `scale` 64) up from rest in f64,
//! then runs it twice from that state, once with 0.001 added to every u, v and η, and prints
//! every 10 days the RMS difference of u and the domain-mean kinetic energy of both runs.
//!
//! ```console
//! $ cargo run --release --example shallow_water_divergence -- 50 1000 200
//! ```
//! (grid cells in x, spin-up days, days to follow; about 20 s at 50 × 25, 3 min at 100 × 50).

use anyfloat::models::shallow_water::ShallowWater;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed: Option<Vec<usize>> = args.iter().map(|a| a.parse().ok()).collect();
    let [nx, spinup, days] = parsed.as_deref().unwrap_or_default() else {
        eprintln!(
            "usage: shallow_water_divergence NX SPINUP_DAYS DAYS (whole numbers, NX even), e.g. 50 1000 200"
        );
        return ExitCode::FAILURE;
    };
    let setup = ShallowWater {
        nx: *nx,
        ny: nx / 2,
        scale: 64.0,
        ..ShallowWater::default()
    };
    let dt = setup.time_step();
    let steps_per_day = (86400.0 / dt).round() as usize;
    let model = || setup.model::<f64>(dt);
    let (mut spun, mut reference, mut perturbed) = match (model(), model(), model()) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => {
            eprintln!("shallow_water_divergence: {e}");
            return ExitCode::FAILURE;
        }
    };
    for _ in 0..spinup * steps_per_day {
        spun.step();
    }
    let start = spun.state();
    let nudged: Vec<f64> = start.iter().map(|v| v + 0.001).collect();
    if let Err(e) = reference
        .set_state(&start)
        .and_then(|()| perturbed.set_state(&nudged))
    {
        eprintln!("shallow_water_divergence: {e}");
        return ExitCode::FAILURE;
    }
    // The state starts with the nx·ny values of u.
    let n = nx * (nx / 2);
    println!("day,rms_du,rms_u,ke_reference,ke_perturbed");
    for day in 1..=*days {
        for _ in 0..steps_per_day {
            reference.step();
            perturbed.step();
        }
        if day % 10 == 0 {
            let (a, b) = (reference.state(), perturbed.state());
            let rms = |f: &dyn Fn(usize) -> f64| ((0..n).map(f).sum::<f64>() / n as f64).sqrt();
            println!(
                "{day},{:.3e},{:.3},{:.4},{:.4}",
                rms(&|i| (a[i] - b[i]).powi(2)),
                rms(&|i| a[i] * a[i]),
                reference.mean_kinetic_energy(),
                perturbed.mean_kinetic_energy()
            );
        }
    }
    ExitCode::SUCCESS
}
