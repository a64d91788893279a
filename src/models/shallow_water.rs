//! The nonlinear shallow water model of the climate rounding studies: wind-driven flow in a
//! zonally periodic channel over a meridional ridge, as set up by default in ShallowWaters.jl
//! v0.4 (M. Klöwer, MIT licence; tags v0.4.0 of 2020-11-21 and v0.4.1 of 2020-12-03, which differ
//! only in `TimeIntegration.jl` details that do not touch the RK4 path), the model of Klöwer,
//! Düben & Palmer (JAMES 2020, doi:10.1029/2020MS002246) and of the shallow water section of
//! Paxton, Chantry, Klöwer, Saffin & Palmer (J. Climate 2022, arXiv:2104.15076).
//!
//! Written afresh in Rust, generic over [`Real`]: every operation of the time loop is an operation
//! of `R` (so in [`crate::emu::Emu`] every one is rounded into the format); constants enter once
//! through [`Real::from_f64`] when the model is built. Nothing in [`Model::step`] converts to or
//! from f64 (a test arms a guard type that panics if it did).
//!
//! # Equations
//! With velocity (u, v), surface height η, layer thickness h = η + H(x),
//!
//! ```text
//! ∂u/∂t =  q·hv − ∂/∂x (½(u² + v²) + gη) + Fx(y) − c_D |u| u / h − ν ∇⁴u
//! ∂v/∂t = −q·hu − ∂/∂y (½(u² + v²) + gη)        − c_D |u| v / h − ν ∇⁴v
//! ∂η/∂t = −∂(uh)/∂x − ∂(vh)/∂y
//! ```
//!
//! with potential vorticity q = (f + ∂v/∂x − ∂u/∂y)/h and f = f₀ + β(y − Ly/2) (β-plane). The
//! vector-invariant form and its discretisation follow ShallowWaters.jl v0.4 (`rhs.jl`,
//! `PVadvection.jl`, `Continuity.jl`, `Bottomdrag.jl`, `Diffusion.jl`):
//!
//! - **Grid**: Arakawa C-grid of nx × ny square cells, Δ = Lx/nx, Ly = ny·Δ (`Grid.jl`). η and H
//!   at cell centres ((i+½)Δ, (j+½)Δ); u at ((i)Δ, (j+½)Δ); v at ((i+½)Δ, jΔ) with v = 0 on the
//!   walls j = 0 and j = ny; q at the corners (iΔ, jΔ), walls included.
//! - **Non-dimensional operators** (the rescaling of Klöwer et al. 2020): differences and averages
//!   carry no 1/Δ; Δ is folded into the constants instead (forcing, Coriolis, drag, time step
//!   Δt/Δ, viscosity), which keeps the values of the time loop O(1e-5 … 1e3).
//! - **Advection and Coriolis**: the energy- and enstrophy-conserving scheme of Arakawa & Hsu
//!   (1990) with τ = 0: q·hv at a u-point is α_E V_NE + β_W V_NW + γ_W V_SW + δ_E V_SE, −q·hu at a
//!   v-point is −(α_S U_SW + β_S U_SE + γ_N U_NE + δ_N U_NW), where for a cell with corner values
//!   q_SW, q_SE, q_NW, q_NE: α = (q_SW + q_NW + q_NE)/12, β = (q_SE + q_NE + q_NW)/12,
//!   γ = (q_SE + q_SW + q_NE)/12, δ = (q_SW + q_NW + q_SE)/12 (`PVadvection.jl`, `AHα!` … `AHδ!`).
//! - **Bernoulli potential** p = ½(KEu + KEv) + gη on cells, KEu/KEv the x/y averages of u²/v².
//! - **Time stepping**: classic RK4 for advection, Coriolis, pressure gradient, wind forcing and
//!   continuity, with the RK sum accumulated stage by stage (u⁰ += a_k Δt/Δ · du_k,
//!   u¹ = u + b_k Δt/Δ · du_k), then bottom drag and biharmonic viscosity as one forward step
//!   evaluated at the new time level (`TimeIntegration.jl`, the "semi-implicit" diffusive part,
//!   `nstep_diff = 1`).
//! - **Boundaries**: periodic in x (by index wrap-around); in y, ghost points: u beyond a wall is
//!   (1 − α) times its mirror image (α = 2: no-slip, the v0.4 default; α = 0: free-slip), v beyond
//!   and on a wall is 0, η beyond a wall equals its neighbour (`GhostPoints.jl`).
//!
//! # Parameters (defaults = ShallowWaters.jl v0.4 `DefaultParameters.jl`, unless noted)
//! | field | value | source |
//! |---|---|---|
//! | `nx`, `ny` | 100 × 50 | `nx = 100`, `L_ratio = 2` → ny = nx/2 |
//! | `lx` | 2000 km (Ly = ny·Δ = 1000 km) | `Lx = 2000e3` |
//! | `gravity` | 10 m/s² | `g = 10.` (full gravity, not reduced: v0.5 changed it to 0.1) |
//! | `depth` | 500 m | `H = 500.` (layer thickness at rest) |
//! | `density` | 1000 kg/m³ | `ρ = 1e3` (only converts the wind stress) |
//! | `latitude` | 45° | `ϕ = 45.`; f₀ = 2ω sin ϕ ≈ 1.03e-4 /s, β = 2ω cos ϕ / R ≈ 1.6e-11 /(m s) (`Grid.jl`, β-plane) |
//! | `omega` | 2π/86400 s⁻¹ | `ω = 2π/(24*3600)` |
//! | `radius` | 6.371e6 m | `R = 6.371e6` |
//! | `wind_stress` | 0.12 Pa | `Fx0 = 0.12`, profile `wind_forcing_x = "channel"`: Fx = Fx0/(ρH) · cos²(π(y/Ly − ½)), zero at the walls, strongest mid-channel (`Forcing.jl`, `ChannelWind`); H is the rest depth, not h; no seasonal cycle (`seasonal_wind_x = false`); Fy = 0 |
//! | `ridge_height`, `ridge_width` | 50 m, 300 km | `topography = "ridge"`, `topo_height = 50.`, `topo_width = 300e3`: H(x) = depth − 50 m · exp(−(x − Lx/2)²/(2·(300 km)²)) (`Forcing.jl`, `Ridge`: the meridional ridge is the `Hx` it returns) |
//! | `drag` | 1e-5 | `bottom_drag = "quadratic"`, `cD = 1e-5`; |u| = √(KEu + KEv) on cells, averaged to u/v points (`Bottomdrag.jl`) |
//! | `viscosity` | 500 m²/s | `diffusion = "constant"`, `νB = 500.`: biharmonic, ν = νB/30 km · Δ³ (`Constants.jl`: `νB = -P.νB/30000` with non-dimensional operators) — 1.33e11 m⁴/s at Δ = 20 km (100 × 50), 1.07e12 at 50 × 25; the flux form ∇·(ν∇∇²u) of `Diffusion.jl` |
//! | `alpha` | 2 (no-slip) | `α = 2.` (0 free-slip, 2 no-slip); `bc = "periodic"` in x |
//! | `cfl` | 1 | `cfl = 1.0`; Δt = floor(cfl·Δ/√(gH)) whole seconds (`Grid.jl`, `dtint`): 282 s at 100 × 50, 565 s at 50 × 25, 70 s at 400 × 200 |
//! | `scale` | 1 | not in v0.4: v0.5's `scale` (default 2^6 there). Prognostic u, v are held as scale·u, scale·v, with the compensating 1/scale in the mass flux, the Bernoulli term and the drag (as v0.5 does), so that binary16's range fits the small tendencies (see below) |
//!
//! Also as v0.4: `adv_scheme = "ArakawaHsu"`, `dynamics = "nonlinear"`, `time_scheme = "RK"`,
//! `RKo = 4`, `nstep_advcor = 0` (advection in every RK stage), no surface relaxation or forcing,
//! `initial_cond = "rest"`. The tracer (sst) of v0.4 is passive and left out.
//!
//! # Deviations from v0.4 (deliberate, small)
//! - The topography is made exactly periodic: v0.4 evaluates the ridge formula on the halo cells
//!   at x = −Δ/2 and Lx + Δ/2 instead of copying them periodically, so the mass flux leaving the
//!   east edge differs slightly from the one entering the west edge (the ridge's tail there is
//!   ~0.2 m of 500 m). Here mass is conserved to rounding.
//! - v0.4's `AHβ!`/`AHγ!` take the western neighbour of the first column as `q[end]`, the q-column
//!   at x = Lx, which is x = 0 again rather than x = −Δ; here the wrap-around uses x = −Δ, as the
//!   scheme intends.
//! - Multiplications by 1 (the seasonal factor when off) and additions of 0 (Fy) are not
//!   performed: they are exact in every format.
//!
//! # Scaling for binary16
//! Power-of-two `scale` changes no rounded result in formats with double's exponent range (every
//! operation's exact result is scaled by the same power of two; a test checks this bit for bit,
//! for RN and SR), so the e11 sweep is independent of it. It matters for binary16 (smallest
//! normal 2^-14 ≈ 6.1e-5, largest finite 65504): the velocity increments (Δt/Δ)/6 · du ≈ 1e-5 and
//! the biharmonic fluxes ≈ 1e-6 are subnormal there, some below 2^-24 and lost. Measured over
//! 10 steps of a spun-up 50 × 25 flow: at scale 1, 4.2 % of all results are nonzero and below
//! 2^-14; at scale 2^6 (v0.5's default), 0.9 %, and the largest result is 1.4e4 (the scaled
//! u² ≈ 4096·|u|², so |u| may reach ≈ 4 m/s before binary16 overflows; the flow stays below
//! ≈ 2 m/s). To keep intermediates from growing with the scale, the mass flux is formed as
//! u_s · ((½/scale)(h_W + h_E)) — identical to v0.4's u·½(h_W + h_E) at scale 1 — rather than
//! v0.5's (u_s·h)/scale, whose intermediate u_s·h would reach binary16's maximum at |u| ≈ 2 m/s.

use crate::error::{Error, Result};
use crate::real::Real;
use std::ops::{Index, IndexMut};

/// The setup of a run, in SI units (see the module docs for every value's source).
#[derive(Clone, Debug, PartialEq)]
pub struct ShallowWater {
    /// Grid cells in x.
    pub nx: usize,
    /// Grid cells in y.
    pub ny: usize,
    /// Channel length Lx (m).
    pub lx: f64,
    /// Gravitational acceleration g (m/s²).
    pub gravity: f64,
    /// Layer thickness at rest H₀ (m).
    pub depth: f64,
    /// Water density ρ (kg/m³).
    pub density: f64,
    /// Central latitude of the β-plane (°).
    pub latitude: f64,
    /// Earth's angular frequency ω (1/s).
    pub omega: f64,
    /// Earth's radius (m).
    pub radius: f64,
    /// Zonal wind stress amplitude Fx0 (Pa).
    pub wind_stress: f64,
    /// Height of the ridge above the bottom (m).
    pub ridge_height: f64,
    /// Width (Gaussian standard deviation) of the ridge (m).
    pub ridge_width: f64,
    /// Quadratic bottom drag coefficient c_D (1).
    pub drag: f64,
    /// Biharmonic viscosity scaling constant νB (m²/s): ν = νB · Δ³ / 30 km.
    pub viscosity: f64,
    /// Tangential boundary condition α: 0 free-slip, 2 no-slip.
    pub alpha: f64,
    /// CFL number of the time-step rule.
    pub cfl: f64,
    /// Factor the velocities are held multiplied by (a power of two changes nothing in formats
    /// with double's exponent range).
    pub scale: f64,
}

impl Default for ShallowWater {
    fn default() -> Self {
        ShallowWater {
            nx: 100,
            ny: 50,
            lx: 2000e3,
            gravity: 10.0,
            depth: 500.0,
            density: 1000.0,
            latitude: 45.0,
            omega: 2.0 * std::f64::consts::PI / (24.0 * 3600.0),
            radius: 6.371e6,
            wind_stress: 0.12,
            ridge_height: 50.0,
            ridge_width: 300e3,
            drag: 1e-5,
            viscosity: 500.0,
            alpha: 2.0,
            cfl: 1.0,
            scale: 1.0,
        }
    }
}

impl ShallowWater {
    /// Grid spacing Δ = Lx/nx (m).
    pub fn spacing(&self) -> f64 {
        self.lx / self.nx as f64
    }

    /// Channel width Ly = ny·Δ (m).
    pub fn ly(&self) -> f64 {
        self.ny as f64 * self.spacing()
    }

    /// Gravity-wave speed √(g H₀) (m/s).
    pub fn wave_speed(&self) -> f64 {
        (self.gravity * self.depth).sqrt()
    }

    /// ShallowWaters.jl's time step: floor(cfl·Δ/√(gH₀)) whole seconds.
    pub fn time_step(&self) -> f64 {
        (self.cfl * self.spacing() / self.wave_speed()).floor()
    }

    /// The biharmonic viscosity ν = νB·Δ³/30 km (m⁴/s).
    pub fn biharmonic_viscosity(&self) -> f64 {
        self.viscosity / 30e3 * self.spacing().powi(3)
    }

    /// Coriolis parameter f₀ (1/s) and its meridional gradient β (1/(m s)).
    pub fn coriolis(&self) -> (f64, f64) {
        let phi = self.latitude.to_radians();
        (
            2.0 * self.omega * phi.sin(),
            2.0 * self.omega / self.radius * phi.cos(),
        )
    }

    /// Bottom depth H at x (m) (independent of y).
    pub fn bottom(&self, x: f64) -> f64 {
        let d = x - self.lx / 2.0;
        self.depth - self.ridge_height * (-d * d / (2.0 * self.ridge_width.powi(2))).exp()
    }

    /// Zonal wind forcing τ/(ρH₀) at y (m/s²).
    pub fn wind(&self, y: f64) -> f64 {
        let c = (std::f64::consts::PI * (y / self.ly() - 0.5)).cos();
        self.wind_stress / (self.density * self.depth) * c * c
    }

    /// Length of a state vector: u (nx·ny), then the interior v (nx·(ny − 1)), then η (nx·ny),
    /// each row by row from the south, west to east.
    pub fn state_len(&self) -> usize {
        self.nx * (3 * self.ny - 1)
    }

    /// Checks the setup.
    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Invalid(m));
        if self.nx < 4 || self.ny < 3 {
            return bad(format!(
                "shallow water grid {} × {} is too small (at least 4 × 3)",
                self.nx, self.ny
            ));
        }
        let positive = [
            ("lx", self.lx),
            ("gravity", self.gravity),
            ("depth", self.depth),
            ("density", self.density),
            ("ridge_width", self.ridge_width),
            ("cfl", self.cfl),
            ("scale", self.scale),
        ];
        for (name, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return bad(format!("{name} = {v} must be positive"));
            }
        }
        let finite = [
            ("latitude", self.latitude),
            ("omega", self.omega),
            ("radius", self.radius),
            ("wind_stress", self.wind_stress),
            ("ridge_height", self.ridge_height),
            ("drag", self.drag),
            ("viscosity", self.viscosity),
            ("alpha", self.alpha),
        ];
        for (name, v) in finite {
            if !v.is_finite() {
                return bad(format!("{name} = {v} must be finite"));
            }
        }
        if self.ridge_height >= self.depth {
            return bad(format!(
                "ridge_height = {} must be below depth = {}",
                self.ridge_height, self.depth
            ));
        }
        if self.drag < 0.0 || self.viscosity < 0.0 || !(0.0..=2.0).contains(&self.alpha) {
            return bad("drag and viscosity must be ≥ 0 and alpha in [0, 2]".into());
        }
        if self.time_step() < 1.0 {
            return bad(format!(
                "the CFL rule gives a time step below 1 s (Δ = {} m)",
                self.spacing()
            ));
        }
        Ok(())
    }

    /// The model in `R` at rest, stepping by `dt` seconds (use [`ShallowWater::time_step`] for
    /// ShallowWaters.jl's rule).
    pub fn model<R: Real>(&self, dt: f64) -> Result<Model<R>> {
        self.check()?;
        if !(dt.is_finite() && dt > 0.0) {
            return Err(Error::Invalid(format!("dt = {dt} s must be positive")));
        }
        Ok(Model::new(self, dt))
    }
}

/// A field on one of the staggered grids: `nx` columns (periodic, no halo) and rows `lo..=hi`
/// (ghost rows included), stored row by row.
#[derive(Clone, Debug)]
struct Field<R> {
    nx: usize,
    lo: isize,
    data: Vec<R>,
}

impl<R: Real> Field<R> {
    fn new(nx: usize, lo: isize, hi: isize) -> Field<R> {
        Field {
            nx,
            lo,
            data: vec![R::zero(); nx * (hi - lo + 1) as usize],
        }
    }
}

impl<R> Index<(usize, isize)> for Field<R> {
    type Output = R;
    #[inline]
    fn index(&self, (i, j): (usize, isize)) -> &R {
        debug_assert!(i < self.nx && j >= self.lo);
        &self.data[(j - self.lo) as usize * self.nx + i]
    }
}

impl<R> IndexMut<(usize, isize)> for Field<R> {
    #[inline]
    fn index_mut(&mut self, (i, j): (usize, isize)) -> &mut R {
        debug_assert!(i < self.nx && j >= self.lo);
        &mut self.data[(j - self.lo) as usize * self.nx + i]
    }
}

/// u (rows −2..=ny+1), v (rows −1..=ny+1, zero on and beyond the walls) and η (rows −1..=ny).
#[derive(Clone, Debug)]
struct Prognostic<R> {
    u: Field<R>,
    v: Field<R>,
    eta: Field<R>,
}

impl<R: Real> Prognostic<R> {
    fn new(nx: usize, ny: isize) -> Prognostic<R> {
        Prognostic {
            u: Field::new(nx, -2, ny + 1),
            v: Field::new(nx, -1, ny + 1),
            eta: Field::new(nx, -1, ny),
        }
    }

    fn copy_from(&mut self, other: &Prognostic<R>) {
        self.u.data.clone_from_slice(&other.u.data);
        self.v.data.clone_from_slice(&other.v.data);
        self.eta.data.clone_from_slice(&other.eta.data);
    }
}

/// Constants in `R`, rounded once from their f64 values.
#[derive(Clone, Debug)]
struct Constants<R> {
    /// RK4 weights times Δt/Δ: a = (1/6, 1/3, 1/3, 1/6)·Δt/Δ, b = (½, ½, 1)·Δt/Δ.
    rk_a: [R; 4],
    rk_b: [R; 3],
    /// Δt/Δ for the drag and viscosity step.
    dt_diff: R,
    /// 1 − α for the tangential boundary condition.
    one_minus_alpha: R,
    /// g·scale.
    g: R,
    /// −Δ·c_D/scale.
    drag: R,
    /// −νB/30 km.
    nu: R,
    /// ½/scale (Bernoulli term and thickness for the mass flux).
    half_inv_scale: R,
    half: R,
    quarter: R,
    twelfth: R,
    minus_four: R,
    /// scale·Δ·Fx(y) on the u rows 0..ny.
    wind: Vec<R>,
    /// scale·Δ·f(y) on the q rows 0..=ny.
    coriolis: Vec<R>,
    /// Bottom depth H on cells, rows −1..=ny.
    bottom: Field<R>,
}

/// Work arrays for one evaluation of the tendencies.
#[derive(Clone, Debug)]
struct Work<R> {
    h: Field<R>,
    h_u: Field<R>,
    h_v: Field<R>,
    h_q: Field<R>,
    flux_u: Field<R>,
    flux_v: Field<R>,
    u2: Field<R>,
    v2: Field<R>,
    ke: Field<R>,
    q: Field<R>,
    /// Arakawa–Hsu α, β, γ, δ on cells.
    ah: [Field<R>; 4],
    p: Field<R>,
    /// Laplacians of u and v, their differences, fluxes.
    lu: Field<R>,
    lv: Field<R>,
    s11: Field<R>,
    s12: Field<R>,
    s21: Field<R>,
    s22: Field<R>,
}

impl<R: Real> Work<R> {
    fn new(nx: usize, ny: isize) -> Work<R> {
        let f = |lo, hi| Field::new(nx, lo, hi);
        Work {
            h: f(-1, ny),
            h_u: f(0, ny - 1),
            h_v: f(0, ny),
            h_q: f(0, ny),
            flux_u: f(0, ny - 1),
            flux_v: f(0, ny),
            u2: f(0, ny - 1),
            v2: f(0, ny),
            ke: f(0, ny - 1),
            q: f(0, ny),
            ah: [f(0, ny - 1), f(0, ny - 1), f(0, ny - 1), f(0, ny - 1)],
            p: f(0, ny - 1),
            lu: f(-1, ny),
            lv: f(0, ny),
            s11: f(0, ny - 1),
            s12: f(0, ny),
            s21: f(1, ny - 1),
            s22: f(0, ny - 1),
        }
    }
}

/// A running model in `R`: the prognostic state and everything a step needs, preallocated.
#[derive(Clone, Debug)]
pub struct Model<R> {
    setup: ShallowWater,
    dt: f64,
    nx: usize,
    ny: isize,
    c: Constants<R>,
    /// The state, the RK stage input and the RK accumulator.
    now: Prognostic<R>,
    stage: Prognostic<R>,
    next: Prognostic<R>,
    /// Tendencies du, dv, dη (same layout as the state).
    tend: Prognostic<R>,
    w: Work<R>,
    steps: u64,
}

#[inline]
fn west(i: usize, nx: usize) -> usize {
    if i == 0 { nx - 1 } else { i - 1 }
}

#[inline]
fn east(i: usize, nx: usize) -> usize {
    if i + 1 == nx { 0 } else { i + 1 }
}

impl<R: Real> Model<R> {
    fn new(s: &ShallowWater, dt: f64) -> Model<R> {
        let (nx, ny) = (s.nx, s.ny as isize);
        let d = s.spacing();
        let r = R::from_f64;
        let dtd = dt / d;
        let (f0, beta) = s.coriolis();
        let mut bottom = Field::new(nx, -1, ny);
        for j in -1..=ny {
            for i in 0..nx {
                bottom[(i, j)] = r(s.bottom((i as f64 + 0.5) * d));
            }
        }
        let c = Constants {
            rk_a: [r(dtd / 6.0), r(dtd / 3.0), r(dtd / 3.0), r(dtd / 6.0)],
            rk_b: [r(dtd / 2.0), r(dtd / 2.0), r(dtd)],
            dt_diff: r(dtd),
            one_minus_alpha: r(1.0 - s.alpha),
            g: r(s.gravity * s.scale),
            drag: r(-d * s.drag / s.scale),
            nu: r(-s.viscosity / 30e3),
            half_inv_scale: r(0.5 / s.scale),
            half: r(0.5),
            quarter: r(0.25),
            twelfth: r(1.0 / 12.0),
            minus_four: r(-4.0),
            wind: (0..ny)
                .map(|j| r(s.scale * d * s.wind((j as f64 + 0.5) * d)))
                .collect(),
            coriolis: (0..=ny)
                .map(|j| r(s.scale * d * (f0 + beta * (j as f64 * d - s.ly() / 2.0))))
                .collect(),
            bottom,
        };
        Model {
            setup: s.clone(),
            dt,
            nx,
            ny,
            c,
            now: Prognostic::new(nx, ny),
            stage: Prognostic::new(nx, ny),
            next: Prognostic::new(nx, ny),
            tend: Prognostic::new(nx, ny),
            w: Work::new(nx, ny),
            steps: 0,
        }
    }

    /// The setup.
    pub fn setup(&self) -> &ShallowWater {
        &self.setup
    }

    /// The time step (s).
    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Sets the state from SI values laid out as [`ShallowWater::state_len`] says (each value
    /// rounded into `R`; velocities times `scale` first).
    pub fn set_state(&mut self, state: &[f64]) -> Result<()> {
        let (nx, ny) = (self.nx, self.ny);
        if state.len() != self.setup.state_len() {
            return Err(Error::Invalid(format!(
                "a {nx} × {ny} shallow water state has {} values, not {}",
                self.setup.state_len(),
                state.len()
            )));
        }
        let s = self.setup.scale;
        let mut it = state.iter();
        for j in 0..ny {
            for i in 0..nx {
                self.now.u[(i, j)] = R::from_f64(s * it.next().expect("length checked"));
            }
        }
        for j in 1..ny {
            for i in 0..nx {
                self.now.v[(i, j)] = R::from_f64(s * it.next().expect("length checked"));
            }
        }
        for j in 0..ny {
            for i in 0..nx {
                self.now.eta[(i, j)] = R::from_f64(*it.next().expect("length checked"));
            }
        }
        ghost_points(&mut self.now, &self.c, nx, ny);
        Ok(())
    }

    /// The state in SI units, laid out as [`ShallowWater::state_len`] says.
    pub fn state(&self) -> Vec<f64> {
        let (nx, ny) = (self.nx, self.ny);
        let mut out = Vec::with_capacity(self.setup.state_len());
        for j in 0..ny {
            out.extend((0..nx).map(|i| self.u(i, j as usize)));
        }
        for j in 1..ny {
            out.extend((0..nx).map(|i| self.v(i, j as usize)));
        }
        for j in 0..ny {
            out.extend((0..nx).map(|i| self.eta(i, j as usize)));
        }
        out
    }

    /// u (m/s) at the u-point (iΔ, (j+½)Δ).
    pub fn u(&self, i: usize, j: usize) -> f64 {
        self.now.u[(i, j as isize)].to_f64() / self.setup.scale
    }

    /// v (m/s) at the v-point ((i+½)Δ, jΔ) (0 on the walls j = 0, ny).
    pub fn v(&self, i: usize, j: usize) -> f64 {
        self.now.v[(i, j as isize)].to_f64() / self.setup.scale
    }

    /// η (m) at the cell centre ((i+½)Δ, (j+½)Δ).
    pub fn eta(&self, i: usize, j: usize) -> f64 {
        self.now.eta[(i, j as isize)].to_f64()
    }

    /// Domain mean of η (m) (the volume anomaly per area), summed in f64.
    pub fn mean_eta(&self) -> f64 {
        let (nx, ny) = (self.nx, self.ny as usize);
        let sum: f64 = (0..ny)
            .flat_map(|j| (0..nx).map(move |i| (i, j)))
            .map(|(i, j)| self.eta(i, j))
            .sum();
        sum / (nx * ny) as f64
    }

    /// Domain-mean kinetic energy per unit mass ½⟨u² + v²⟩ (m²/s²) (u², v² averaged onto cells,
    /// as the model's Bernoulli term does), in f64.
    pub fn mean_kinetic_energy(&self) -> f64 {
        let (nx, ny) = (self.nx, self.ny as usize);
        let mut sum = 0.0;
        for j in 0..ny {
            for i in 0..nx {
                sum += self.u(i, j).powi(2);
            }
        }
        for j in 1..ny {
            for i in 0..nx {
                sum += self.v(i, j).powi(2);
            }
        }
        sum / (2 * nx * ny) as f64
    }

    /// Relative vorticity ζ = ∂v/∂x − ∂u/∂y (1/s) at the corners (iΔ, jΔ), `[j][i]`, rows
    /// j = 0..=ny from the south wall (the wall rows see the boundary condition's ghost u).
    pub fn vorticity(&self) -> Vec<Vec<f64>> {
        let (nx, ny) = (self.nx, self.ny);
        let d = self.setup.spacing();
        let s = self.setup.scale;
        let (u, v) = (&self.now.u, &self.now.v);
        (0..=ny)
            .map(|j| {
                (0..nx)
                    .map(|i| {
                        let dvdx = v[(i, j)].to_f64() - v[(west(i, nx), j)].to_f64();
                        let dudy = u[(i, j)].to_f64() - u[(i, j - 1)].to_f64();
                        (dvdx - dudy) / (d * s)
                    })
                    .collect()
            })
            .collect()
    }

    /// One time step: RK4 for the conservative terms, then drag and viscosity.
    pub fn step(&mut self) {
        let (nx, ny) = (self.nx, self.ny);
        let c = &self.c;
        ghost_points(&mut self.now, c, nx, ny);
        self.stage.copy_from(&self.now);
        self.next.copy_from(&self.now);
        for k in 0..4 {
            if k > 0 {
                ghost_points(&mut self.stage, c, nx, ny);
            }
            tendencies(&self.stage, &mut self.tend, &mut self.w, c, nx, ny);
            let (now, stage, next, tend) = (&self.now, &mut self.stage, &mut self.next, &self.tend);
            let update = |lo: isize,
                          hi: isize,
                          x: &Field<R>,
                          x1: &mut Field<R>,
                          x0: &mut Field<R>,
                          dx: &Field<R>| {
                for j in lo..=hi {
                    for i in 0..nx {
                        let d = dx[(i, j)].clone();
                        if k < 3 {
                            x1[(i, j)] = x[(i, j)].clone() + c.rk_b[k].clone() * d.clone();
                        }
                        x0[(i, j)] += c.rk_a[k].clone() * d;
                    }
                }
            };
            update(0, ny - 1, &now.u, &mut stage.u, &mut next.u, &tend.u);
            update(1, ny - 1, &now.v, &mut stage.v, &mut next.v, &tend.v);
            update(
                0,
                ny - 1,
                &now.eta,
                &mut stage.eta,
                &mut next.eta,
                &tend.eta,
            );
        }
        ghost_points(&mut self.next, c, nx, ny);
        drag_and_viscosity(&mut self.next, &mut self.w, c, nx, ny);
        ghost_points(&mut self.next, c, nx, ny);
        std::mem::swap(&mut self.now, &mut self.next);
        self.steps += 1;
    }
}

/// Fills the ghost rows: tangential boundary condition for u, zero-gradient η (v's ghost rows
/// are never written and stay 0).
fn ghost_points<R: Real>(x: &mut Prognostic<R>, c: &Constants<R>, nx: usize, ny: isize) {
    for i in 0..nx {
        let a = &c.one_minus_alpha;
        x.u[(i, -1)] = a.clone() * x.u[(i, 0)].clone();
        x.u[(i, -2)] = a.clone() * x.u[(i, 1)].clone();
        x.u[(i, ny)] = a.clone() * x.u[(i, ny - 1)].clone();
        x.u[(i, ny + 1)] = a.clone() * x.u[(i, ny - 2)].clone();
        x.eta[(i, -1)] = x.eta[(i, 0)].clone();
        x.eta[(i, ny)] = x.eta[(i, ny - 1)].clone();
    }
}

/// du, dv, dη (times Δ) of advection, Coriolis, pressure gradient, wind and continuity.
fn tendencies<R: Real>(
    x: &Prognostic<R>,
    t: &mut Prognostic<R>,
    w: &mut Work<R>,
    c: &Constants<R>,
    nx: usize,
    ny: isize,
) {
    let (u, v, eta) = (&x.u, &x.v, &x.eta);
    // Layer thickness on cells (ghost rows too), then on u, v and q points.
    for j in -1..=ny {
        for i in 0..nx {
            w.h[(i, j)] = eta[(i, j)].clone() + c.bottom[(i, j)].clone();
        }
    }
    for j in 0..ny {
        for i in 0..nx {
            let wi = west(i, nx);
            w.h_u[(i, j)] = c.half_inv_scale.clone() * (w.h[(i, j)].clone() + w.h[(wi, j)].clone());
        }
    }
    for j in 0..=ny {
        for i in 0..nx {
            let wi = west(i, nx);
            w.h_v[(i, j)] =
                c.half_inv_scale.clone() * (w.h[(i, j)].clone() + w.h[(i, j - 1)].clone());
            w.h_q[(i, j)] = c.quarter.clone()
                * (w.h[(wi, j - 1)].clone()
                    + w.h[(i, j - 1)].clone()
                    + w.h[(wi, j)].clone()
                    + w.h[(i, j)].clone());
        }
    }
    // Mass fluxes U = uh, V = vh (unscaled: h_u, h_v above are h/scale).
    for j in 0..ny {
        for i in 0..nx {
            w.flux_u[(i, j)] = u[(i, j)].clone() * w.h_u[(i, j)].clone();
        }
    }
    for j in 0..=ny {
        for i in 0..nx {
            w.flux_v[(i, j)] = v[(i, j)].clone() * w.h_v[(i, j)].clone();
        }
    }
    // Potential vorticity at the corners.
    for j in 0..=ny {
        for i in 0..nx {
            let wi = west(i, nx);
            let dvdx = v[(i, j)].clone() - v[(wi, j)].clone();
            let dudy = u[(i, j)].clone() - u[(i, j - 1)].clone();
            w.q[(i, j)] = (c.coriolis[j as usize].clone() + dvdx - dudy) / w.h_q[(i, j)].clone();
        }
    }
    // Arakawa–Hsu combinations of the corner values of each cell.
    for j in 0..ny {
        for i in 0..nx {
            let ei = east(i, nx);
            let (sw, se) = (w.q[(i, j)].clone(), w.q[(ei, j)].clone());
            let (nw, ne) = (w.q[(i, j + 1)].clone(), w.q[(ei, j + 1)].clone());
            let tw = &c.twelfth;
            w.ah[0][(i, j)] = tw.clone() * (sw.clone() + nw.clone() + ne.clone());
            w.ah[1][(i, j)] = tw.clone() * (se.clone() + ne.clone() + nw.clone());
            w.ah[2][(i, j)] = tw.clone() * (se.clone() + sw.clone() + ne);
            w.ah[3][(i, j)] = tw.clone() * (sw + nw + se);
        }
    }
    // Bernoulli potential p = ½(KEu + KEv)/scale + g·scale·η on cells.
    for j in 0..ny {
        for i in 0..nx {
            w.u2[(i, j)] = u[(i, j)].clone() * u[(i, j)].clone();
        }
    }
    for j in 0..=ny {
        for i in 0..nx {
            w.v2[(i, j)] = v[(i, j)].clone() * v[(i, j)].clone();
        }
    }
    for j in 0..ny {
        for i in 0..nx {
            let ei = east(i, nx);
            let keu = c.half.clone() * (w.u2[(ei, j)].clone() + w.u2[(i, j)].clone());
            let kev = c.half.clone() * (w.v2[(i, j + 1)].clone() + w.v2[(i, j)].clone());
            w.p[(i, j)] =
                c.half_inv_scale.clone() * (keu + kev) + c.g.clone() * eta[(i, j)].clone();
        }
    }
    // du = q·hv − ∂p/∂x + Fx at u-points.
    let [al, be, ga, de] = &w.ah;
    for j in 0..ny {
        for i in 0..nx {
            let wi = west(i, nx);
            let fv = &w.flux_v;
            let qhv = al[(i, j)].clone() * fv[(i, j + 1)].clone()
                + be[(wi, j)].clone() * fv[(wi, j + 1)].clone()
                + ga[(wi, j)].clone() * fv[(wi, j)].clone()
                + de[(i, j)].clone() * fv[(i, j)].clone();
            let dpdx = w.p[(i, j)].clone() - w.p[(wi, j)].clone();
            t.u[(i, j)] = qhv - dpdx + c.wind[j as usize].clone();
        }
    }
    // dv = −q·hu − ∂p/∂y at interior v-points.
    for j in 1..ny {
        for i in 0..nx {
            let ei = east(i, nx);
            let fu = &w.flux_u;
            let qhu = al[(i, j - 1)].clone() * fu[(i, j - 1)].clone()
                + be[(i, j - 1)].clone() * fu[(ei, j - 1)].clone()
                + ga[(i, j)].clone() * fu[(ei, j)].clone()
                + de[(i, j)].clone() * fu[(i, j)].clone();
            let dpdy = w.p[(i, j)].clone() - w.p[(i, j - 1)].clone();
            t.v[(i, j)] = -qhu - dpdy;
        }
    }
    // dη = −(∂U/∂x + ∂V/∂y) on cells.
    for j in 0..ny {
        for i in 0..nx {
            let ei = east(i, nx);
            let dudx = w.flux_u[(ei, j)].clone() - w.flux_u[(i, j)].clone();
            let dvdy = w.flux_v[(i, j + 1)].clone() - w.flux_v[(i, j)].clone();
            t.eta[(i, j)] = -(dudx + dvdy);
        }
    }
}

/// Quadratic bottom drag and biharmonic viscosity from the post-RK state, added with one
/// forward step (ghost points of `x` must be current).
fn drag_and_viscosity<R: Real>(
    x: &mut Prognostic<R>,
    w: &mut Work<R>,
    c: &Constants<R>,
    nx: usize,
    ny: isize,
) {
    // Speed |u| = √(KEu + KEv) on cells (scaled), thickness on u and v points.
    for j in 0..ny {
        for i in 0..nx {
            w.h[(i, j)] = x.eta[(i, j)].clone() + c.bottom[(i, j)].clone();
            w.u2[(i, j)] = x.u[(i, j)].clone() * x.u[(i, j)].clone();
        }
    }
    for j in 0..=ny {
        for i in 0..nx {
            w.v2[(i, j)] = x.v[(i, j)].clone() * x.v[(i, j)].clone();
        }
    }
    for j in 0..ny {
        for i in 0..nx {
            let ei = east(i, nx);
            let keu = c.half.clone() * (w.u2[(ei, j)].clone() + w.u2[(i, j)].clone());
            let kev = c.half.clone() * (w.v2[(i, j + 1)].clone() + w.v2[(i, j)].clone());
            w.ke[(i, j)] = (keu + kev).sqrt();
        }
    }
    // Laplacians (no 1/Δ²) of u on rows −1..=ny and of v on rows 0..=ny.
    for j in -1..=ny {
        for i in 0..nx {
            let (wi, ei) = (west(i, nx), east(i, nx));
            let u = &x.u;
            w.lu[(i, j)] = c.minus_four.clone() * u[(i, j)].clone()
                + u[(wi, j)].clone()
                + u[(ei, j)].clone()
                + u[(i, j - 1)].clone()
                + u[(i, j + 1)].clone();
        }
    }
    for j in 0..=ny {
        for i in 0..nx {
            let (wi, ei) = (west(i, nx), east(i, nx));
            let v = &x.v;
            w.lv[(i, j)] = c.minus_four.clone() * v[(i, j)].clone()
                + v[(wi, j)].clone()
                + v[(ei, j)].clone()
                + v[(i, j - 1)].clone()
                + v[(i, j + 1)].clone();
        }
    }
    // Viscous fluxes −νB·∂(∇²u)/∂x on cells, −νB·∂(∇²u)/∂y on corners, likewise for v.
    for j in 0..ny {
        for i in 0..nx {
            let ei = east(i, nx);
            w.s11[(i, j)] = c.nu.clone() * (w.lu[(ei, j)].clone() - w.lu[(i, j)].clone());
            w.s22[(i, j)] = c.nu.clone() * (w.lv[(i, j + 1)].clone() - w.lv[(i, j)].clone());
        }
    }
    for j in 0..=ny {
        for i in 0..nx {
            w.s12[(i, j)] = c.nu.clone() * (w.lu[(i, j)].clone() - w.lu[(i, j - 1)].clone());
        }
    }
    for j in 1..ny {
        for i in 0..nx {
            let wi = west(i, nx);
            w.s21[(i, j)] = c.nu.clone() * (w.lv[(i, j)].clone() - w.lv[(wi, j)].clone());
        }
    }
    // u += Δt/Δ·(drag + ∂S11/∂x + ∂S12/∂y), v likewise.
    for j in 0..ny {
        for i in 0..nx {
            let wi = west(i, nx);
            let h_u = c.half.clone() * (w.h[(i, j)].clone() + w.h[(wi, j)].clone());
            let speed = c.half.clone() * (w.ke[(i, j)].clone() + w.ke[(wi, j)].clone());
            let drag = c.drag.clone() * speed * x.u[(i, j)].clone() / h_u;
            let ll1 = w.s11[(i, j)].clone() - w.s11[(wi, j)].clone();
            let ll2 = w.s12[(i, j + 1)].clone() - w.s12[(i, j)].clone();
            x.u[(i, j)] += c.dt_diff.clone() * (drag + ll1 + ll2);
        }
    }
    for j in 1..ny {
        for i in 0..nx {
            let ei = east(i, nx);
            let h_v = c.half.clone() * (w.h[(i, j)].clone() + w.h[(i, j - 1)].clone());
            let speed = c.half.clone() * (w.ke[(i, j)].clone() + w.ke[(i, j - 1)].clone());
            let drag = c.drag.clone() * speed * x.v[(i, j)].clone() / h_v;
            let ll1 = w.s21[(ei, j)].clone() - w.s21[(i, j)].clone();
            let ll2 = w.s22[(i, j)].clone() - w.s22[(i, j - 1)].clone();
            x.v[(i, j)] += c.dt_diff.clone() * (drag + ll1 + ll2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emu::{Context, Emu, with_context};
    use crate::format::Format;
    use crate::mode::RoundingMode;
    use crate::mp::{self, Mp, MpContext};

    /// A small grid with the default physics.
    fn small(nx: usize) -> ShallowWater {
        ShallowWater {
            nx,
            ny: nx / 2,
            ..ShallowWater::default()
        }
    }

    /// A smooth, non-trivial state (jets, a bump in η, meridional flow), in SI units.
    fn wavy_state(s: &ShallowWater) -> Vec<f64> {
        let (nx, ny) = (s.nx, s.ny);
        let tau = std::f64::consts::TAU;
        let mut x = Vec::with_capacity(s.state_len());
        for j in 0..ny {
            for i in 0..nx {
                let (a, b) = (i as f64 / nx as f64, (j as f64 + 0.5) / ny as f64);
                x.push(0.3 * (tau * b / 2.0).sin() + 0.1 * (tau * (a + b)).cos());
            }
        }
        for j in 1..ny {
            for i in 0..nx {
                let (a, b) = ((i as f64 + 0.5) / nx as f64, j as f64 / ny as f64);
                x.push(0.2 * (tau * 2.0 * a).sin() * (tau * b / 2.0).sin());
            }
        }
        for j in 0..ny {
            for i in 0..nx {
                let (a, b) = ((i as f64 + 0.5) / nx as f64, (j as f64 + 0.5) / ny as f64);
                x.push(0.5 * (tau * a).cos() * (tau * b / 2.0).cos() + 0.05);
            }
        }
        x
    }

    fn run<R: Real>(s: &ShallowWater, init: &[f64], steps: usize) -> Vec<f64> {
        let mut m = s.model::<R>(s.time_step()).unwrap();
        m.set_state(init).unwrap();
        for _ in 0..steps {
            m.step();
        }
        m.state()
    }

    /// An f64 that records the magnitude of every result, and panics on any conversion to or
    /// from f64 while `ARMED` (inside the time loop).
    #[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
    struct Probe(f64);

    #[derive(Clone, Copy, Debug, Default)]
    struct Stats {
        results: u64,
        /// Nonzero results below binary16's smallest normal 2^-14.
        below_half_normal: u64,
        /// Nonzero results below binary16's smallest subnormal 2^-24 (flushed to 0 there).
        below_half_subnormal: u64,
        max: f64,
    }

    thread_local! {
        static ARMED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        static STATS: std::cell::Cell<Stats> = std::cell::Cell::new(Stats::default());
    }

    fn record(x: f64) -> Probe {
        STATS.with(|s| {
            let mut t = s.get();
            t.results += 1;
            let a = x.abs();
            if a != 0.0 && a < 2f64.powi(-14) {
                t.below_half_normal += 1;
            }
            if a != 0.0 && a < 2f64.powi(-24) {
                t.below_half_subnormal += 1;
            }
            t.max = t.max.max(a);
            s.set(t);
        });
        Probe(x)
    }

    fn unarmed() {
        assert!(
            !ARMED.with(|a| a.get()),
            "f64 conversion inside the time loop"
        );
    }

    macro_rules! probe_op {
        ($tr:ident, $f:ident, $atr:ident, $af:ident, $op:tt) => {
            impl std::ops::$tr for Probe {
                type Output = Probe;
                fn $f(self, o: Probe) -> Probe {
                    record(self.0 $op o.0)
                }
            }
            impl std::ops::$atr for Probe {
                fn $af(&mut self, o: Probe) {
                    *self = record(self.0 $op o.0);
                }
            }
        };
    }
    probe_op!(Add, add, AddAssign, add_assign, +);
    probe_op!(Sub, sub, SubAssign, sub_assign, -);
    probe_op!(Mul, mul, MulAssign, mul_assign, *);
    probe_op!(Div, div, DivAssign, div_assign, /);

    impl std::ops::Neg for Probe {
        type Output = Probe;
        fn neg(self) -> Probe {
            Probe(-self.0)
        }
    }

    impl Real for Probe {
        fn from_f64(x: f64) -> Probe {
            unarmed();
            Probe(x)
        }
        fn to_f64(&self) -> f64 {
            unarmed();
            self.0
        }
        fn sqrt(&self) -> Probe {
            record(self.0.sqrt())
        }
        fn mul_add(&self, a: &Probe, b: &Probe) -> Probe {
            record(self.0.mul_add(a.0, b.0))
        }
        fn abs(&self) -> Probe {
            Probe(self.0.abs())
        }
        fn exp(&self) -> Probe {
            record(self.0.exp())
        }
        fn ln(&self) -> Probe {
            record(self.0.ln())
        }
        fn sin(&self) -> Probe {
            record(self.0.sin())
        }
        fn cos(&self) -> Probe {
            record(self.0.cos())
        }
        fn tanh(&self) -> Probe {
            record(self.0.tanh())
        }
        fn powi(&self, n: i32) -> Probe {
            record(self.0.powi(n))
        }
    }

    /// Magnitudes of every result of `steps` steps from `init` at `setup`, with the guard armed
    /// around the time loop.
    fn magnitudes(setup: &ShallowWater, init: &[f64], steps: usize) -> Stats {
        let mut m = setup.model::<Probe>(setup.time_step()).unwrap();
        m.set_state(init).unwrap();
        STATS.with(|t| t.set(Stats::default()));
        ARMED.with(|a| a.set(true));
        for _ in 0..steps {
            m.step();
        }
        ARMED.with(|a| a.set(false));
        let _ = m.state(); // conversions are fine again
        STATS.with(|t| t.get())
    }

    #[test]
    fn the_time_loop_converts_nothing_to_or_from_f64() {
        // `magnitudes` arms the guard around `step`; reaching the end means no conversion.
        let s = small(12);
        let stats = magnitudes(&s, &wavy_state(&s), 3);
        assert!(stats.results > 10_000, "{stats:?}");
    }

    #[test]
    fn scale_2_to_the_6_fits_binary16s_range() {
        // A spun-up 50 × 25 flow (200 days: KE ≈ 0.2 m²/s², |u| up to ≈ 2 m/s).
        let s = small(50);
        let mut spun = s.model::<f64>(s.time_step()).unwrap();
        for _ in 0..200 * 153 {
            spun.step();
        }
        let init = spun.state();
        let plain = magnitudes(&s, &init, 10);
        let scaled = magnitudes(&ShallowWater { scale: 64.0, ..s }, &init, 10);
        assert_eq!(plain.results, scaled.results);
        // Nothing within a factor 4 of binary16's largest finite 65504 (the largest results
        // are the scaled squares u², about 4096·|u|²) …
        assert!(scaled.max < 65504.0 / 4.0, "{scaled:?}");
        // … and 4 times fewer results below its smallest normal 2^-14 and its smallest
        // subnormal 2^-24 than without scaling.
        assert!(
            scaled.below_half_normal * 4 < plain.below_half_normal,
            "{plain:?} {scaled:?}"
        );
        assert!(
            scaled.below_half_subnormal * 4 < plain.below_half_subnormal,
            "{plain:?} {scaled:?}"
        );
    }

    #[test]
    fn defaults_match_shallowwaters_v0_4() {
        let s = ShallowWater::default();
        assert_eq!((s.nx, s.ny, s.spacing(), s.ly()), (100, 50, 20e3, 1000e3));
        assert_eq!(s.time_step(), 282.0); // floor(20 km / √5000 m/s)
        assert_eq!(small(50).time_step(), 565.0);
        assert_eq!(small(400).time_step(), 70.0);
        assert!((s.biharmonic_viscosity() / 1.3333e11 - 1.0).abs() < 1e-4);
        let (f0, beta) = s.coriolis();
        assert!((f0 - 1.0284e-4).abs() < 1e-8 && (beta - 1.6143e-11).abs() < 1e-14);
        assert_eq!(s.bottom(1000e3), 450.0);
        assert!((s.wind(500e3) - 0.12 / 5e5).abs() < 1e-20 && s.wind(0.0) < 1e-30);
        assert_eq!(s.state_len(), 100 * 50 + 100 * 49 + 100 * 50);
    }

    #[test]
    fn rest_stays_at_rest_without_wind_flat_or_over_the_ridge() {
        for ridge_height in [0.0, 50.0] {
            let s = ShallowWater {
                wind_stress: 0.0,
                ridge_height,
                ..small(16)
            };
            let state = run::<f64>(&s, &vec![0.0; s.state_len()], 200);
            assert!(state.iter().all(|&x| x == 0.0), "ridge {ridge_height}");
        }
    }

    #[test]
    fn mass_is_conserved_to_rounding() {
        let s = small(24);
        let mut m = s.model::<f64>(s.time_step()).unwrap();
        m.set_state(&wavy_state(&s)).unwrap();
        let before = m.mean_eta();
        for _ in 0..500 {
            m.step();
        }
        let after = m.mean_eta();
        assert!(m.mean_kinetic_energy() > 1e-3);
        assert!((after - before).abs() < 1e-13, "{before} → {after}");
    }

    #[test]
    fn gravity_waves_have_the_c_grid_dispersion_relation() {
        // Flat bottom, no rotation, wind, drag or viscosity, free-slip walls: a small standing
        // wave η = A cos(kx) oscillates with ω = (2c/Δ) sin(kΔ/2), c = √(gH).
        let s = ShallowWater {
            nx: 32,
            ny: 4,
            omega: 0.0,
            wind_stress: 0.0,
            ridge_height: 0.0,
            drag: 0.0,
            viscosity: 0.0,
            alpha: 0.0,
            ..ShallowWater::default()
        };
        let (nx, ny, d) = (s.nx, s.ny, s.spacing());
        let k = std::f64::consts::TAU / s.lx; // wavenumber 1
        let mut init = vec![0.0; s.state_len()];
        let eta0 = nx * (2 * ny - 1);
        for j in 0..ny {
            for i in 0..nx {
                init[eta0 + j * nx + i] = 1e-3 * (k * (i as f64 + 0.5) * d).cos();
            }
        }
        let c = s.wave_speed();
        let omega = 2.0 * c / d * (k * d / 2.0).sin();
        let period = std::f64::consts::TAU / omega;
        let dt = period / 200.0;
        let mut m = s.model::<f64>(dt).unwrap();
        m.set_state(&init).unwrap();
        let amplitude = |m: &Model<f64>| -> f64 {
            (0..nx)
                .map(|i| m.eta(i, 1) * (k * (i as f64 + 0.5) * d).cos())
                .sum::<f64>()
                * 2.0
                / nx as f64
        };
        // Times of the downward and upward zero crossings of A(t) = A cos(ωt).
        let mut crossings = Vec::new();
        let mut last = amplitude(&m);
        for n in 1..=300 {
            m.step();
            let a = amplitude(&m);
            if a.signum() != last.signum() {
                crossings.push(dt * (n as f64 - a / (a - last)));
            }
            last = a;
        }
        assert_eq!(crossings.len(), 3, "{crossings:?}");
        let measured = crossings[2] - crossings[0];
        assert!(
            (measured / period - 1.0).abs() < 1e-4,
            "{measured} vs {period}"
        );
        // The phase speed is √(gH) up to the grid's dispersion (sin(kΔ/2)/(kΔ/2) ≈ 0.9984).
        let speed = std::f64::consts::TAU / measured / k;
        assert!((speed / c - 1.0).abs() < 2e-3, "{speed} vs {c}");
    }

    #[test]
    fn spun_up_flow_has_jets_and_eddies_of_plausible_speed() {
        let s = small(32);
        let mut m = s.model::<f64>(s.time_step()).unwrap();
        let per_day = (86400.0 / m.dt()).round() as usize;
        for _ in 0..100 * per_day {
            m.step();
        }
        let before = m.state();
        for _ in 0..10 * per_day {
            m.step();
        }
        let after = m.state();
        let (nx, ny) = (s.nx, s.ny);
        let speed_rms = (2.0 * m.mean_kinetic_energy()).sqrt();
        let u_max = (0..nx * ny).map(|k| after[k].abs()).fold(0.0, f64::max);
        let v = nx * ny..nx * (2 * ny - 1);
        let v_max = v.clone().map(|k| after[k].abs()).fold(0.0, f64::max);
        assert!((0.1..1.0).contains(&speed_rms), "rms speed {speed_rms}");
        assert!((0.3..3.0).contains(&u_max), "max |u| {u_max}");
        // Eddies: meridional flow as strong as the zonal flow, and it changes within 10 days.
        assert!(v_max > 0.3, "max |v| {v_max}");
        let rms = |f: &dyn Fn(usize) -> f64| {
            (v.clone().map(f).map(|x| x * x).sum::<f64>() / (nx * (ny - 1)) as f64).sqrt()
        };
        let (v_rms, change) = (rms(&|k| after[k]), rms(&|k| after[k] - before[k]));
        assert!(change > 0.1 * v_rms, "v rms {v_rms} changed by {change}");
        // The ridge steers the flow: the time-mean η slopes across the channel (geostrophy with
        // the eastward jet: higher in the south).
        let eta = |i: usize, j: usize| after[nx * (2 * ny - 1) + j * nx + i];
        let south: f64 = (0..nx).map(|i| eta(i, 0)).sum();
        let north: f64 = (0..nx).map(|i| eta(i, ny - 1)).sum();
        assert!(south > north, "η south {south} north {north}");
    }

    #[test]
    fn f64_and_mpfr_agree_over_a_few_steps() {
        let s = small(12);
        let init = wavy_state(&s);
        let double = run::<f64>(&s, &init, 10);
        let ctx = MpContext::new(160, RoundingMode::NearestEven).unwrap();
        let exact = mp::with_context(ctx, || run::<Mp>(&s, &init, 10));
        let size = exact.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let diff = double
            .iter()
            .zip(&exact)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(diff / size < 1e-12, "max difference {diff} of {size}");
        // And the difference is f64's rounding, not zero: Mp really computed in 160 bits.
        assert!(diff > 0.0);
    }

    #[test]
    fn power_of_two_scale_changes_nothing_with_doubles_exponent_range() {
        let s = small(12);
        let scaled = ShallowWater {
            scale: 64.0,
            ..small(12)
        };
        let init = wavy_state(&s);
        assert_eq!(run::<f64>(&s, &init, 30), run::<f64>(&scaled, &init, 30));
        for mode in [
            RoundingMode::NearestEven,
            RoundingMode::Stochastic { bits: None },
        ] {
            let ctx = Context::new(Format::parse("e11m7").unwrap(), mode, 5).unwrap();
            let a = with_context(&ctx, || run::<Emu>(&s, &init, 30));
            let b = with_context(&ctx, || run::<Emu>(&scaled, &init, 30));
            assert_eq!(a, b, "{mode}");
            assert_ne!(a, run::<f64>(&s, &init, 30));
        }
    }

    #[test]
    fn emu_binary64_is_f64_bit_for_bit() {
        let s = small(12);
        let init = wavy_state(&s);
        let ctx = Context::new(
            Format::parse("binary64").unwrap(),
            RoundingMode::NearestEven,
            0,
        )
        .unwrap();
        let emu = with_context(&ctx, || run::<Emu>(&s, &init, 20));
        assert_eq!(emu, run::<f64>(&s, &init, 20));
    }
}
