//! `ulp`: the ULP error of an implementation of a function against the MPFR oracle.

use super::{parse_format, parse_mode, stdout};
use anyfloat::exp::store::write_atomic;
use anyfloat::oracle::Function;
use anyfloat::plot::{self, LineChart, Series};
use anyfloat::ulp::{self, Config, DEFINITION_A, DEFINITION_B, Inputs, Report};
use anyfloat::{Format, Rounding, RoundingMode};
use anyhow::{Context, bail};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Measure the ULP error of an implementation of FUNC against the correctly rounded result.
///
/// Prints the largest error and where it occurs, the mean, the count of results that are not
/// correctly rounded, histograms, and special-case mismatches (NaN, Inf, signed zero, spurious
/// or missing overflow/underflow), for both definitions: (a) |y - f(x)| / ulp(f(x)) with f(x)
/// exact, as Zimmermann et al.'s tables (<= 0.5 means correctly rounded to nearest), and (b) the
/// distance in representable values from the correctly rounded result, as glibc's tests. The
/// reference is MPFR, or an f64 libm value with an error bound where that decides it.
///
/// Default inputs: every code for one-argument functions in formats of at most 16 bits (pairs of
/// codes up to 2^24 for two-argument ones), else 1,000,000 samples.
#[derive(clap::Args, Debug)]
pub struct UlpArgs {
    /// The function: exp, exp2, exp10, expm1, log, log2, log10, log1p, sin, cos, tan, asin,
    /// acos, atan, sinh, cosh, tanh, erf, cbrt, sqrt, pow, atan2 (y, x), hypot.
    function: String,
    /// The implementation: std (Rust's f32/f64 functions, the platform libm), libm (the libm
    /// crate), emu (Emu in --format), emu:FORMAT.
    #[arg(long = "impl", default_value = "std")]
    implementation: String,
    /// The format of inputs and results (default binary32, or emu:FORMAT's).
    #[arg(long, value_parser = parse_format)]
    format: Option<Format>,
    /// Every input (every code; pairs of codes for two-argument functions).
    #[arg(long, conflicts_with = "samples")]
    exhaustive: bool,
    /// N inputs drawn uniformly by code among the values of the range.
    #[arg(long)]
    samples: Option<u64>,
    /// Seed of the sampled inputs (and of stochastic rounding in emu).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Only operands in [A, B], e.g. --range=-10,10.
    #[arg(long, value_parser = parse_range)]
    range: Option<(f64, f64)>,
    /// Rounding of the correctly rounded result and of emu (rne, rna, rtz, rup, rdn, rto, or a
    /// stochastic mode for emu, measured against rne).
    #[arg(long, default_value = "rne", value_parser = parse_mode)]
    rounding: RoundingMode,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Write the errors per input bucket to this CSV file.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Draw the largest error per input bucket (PNG and SVG; the extension is replaced).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Number of input buckets for --csv and --plot.
    #[arg(long, default_value_t = 200)]
    buckets: usize,
    /// Use MPFR for every input (no f64 fast path): slow, a check of the fast path.
    #[arg(long)]
    mpfr_only: bool,
}

fn parse_range(s: &str) -> Result<(f64, f64), String> {
    let err = || format!("range {s:?}: expected A,B with numbers A <= B, e.g. -10,10");
    let (a, b) = s.trim().split_once(',').ok_or_else(err)?;
    let num = |t: &str| {
        anyfloat::parse::parse_value(t.trim())
            .map(|v| v.to_f64())
            .map_err(|e| format!("range {s:?}: {e}"))
    };
    let (a, b) = (num(a)?, num(b)?);
    if a.is_nan() || b.is_nan() || a > b {
        return Err(err());
    }
    Ok((a, b))
}

pub fn ulp(a: UlpArgs) -> anyhow::Result<ExitCode> {
    let f = Function::parse(&a.function)?;
    let rounding = Rounding::new(a.rounding);
    let (imp, fmt) = ulp::named(&a.implementation, f, a.format.as_ref(), &rounding, a.seed)?;
    let inputs = match (a.exhaustive, a.samples) {
        (true, _) => Inputs::Exhaustive,
        (false, Some(count)) => Inputs::Samples {
            count,
            seed: a.seed,
        },
        (false, None) => {
            let bits = fmt.width() * f.arity() as u32;
            if bits <= 16 || (f.arity() == 2 && bits <= 24) {
                Inputs::Exhaustive
            } else {
                Inputs::Samples {
                    count: 1_000_000,
                    seed: a.seed,
                }
            }
        }
    };
    let cfg = Config {
        inputs,
        range: a.range,
        rounding,
        buckets: a.buckets,
        fast: !a.mpfr_only,
        ..Config::new(f, fmt)
    };
    let report = ulp::measure(&cfg, imp.as_ref())?;
    if let Some(path) = &a.csv {
        write_atomic(path, bucket_csv(&report).as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &a.plot {
        draw(&report, &a.implementation, path)?;
    }
    let mut out = stdout();
    if a.json {
        let mut v = serde_json::to_value(&report)?;
        v["implementation"] = a.implementation.clone().into();
        v["definition_ulp"] = DEFINITION_A.into();
        v["definition_distance"] = DEFINITION_B.into();
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        print_text(&mut out, &report, &a.implementation)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn at(input: &Option<ulp::Input>) -> String {
    match input {
        Some(i) => format!(
            "x = {} ({}): result {}, correctly rounded {}",
            i.hex.join(", "),
            i.decimal.join(", "),
            i.result,
            i.correct
        ),
        None => "-".into(),
    }
}

fn print_text(out: &mut impl Write, r: &Report, imp: &str) -> anyhow::Result<()> {
    let range = r
        .range
        .map(|[a, b]| format!(" in [{a}, {b}]"))
        .unwrap_or_default();
    writeln!(
        out,
        "{} by {imp} in {}, reference correctly rounded ({}); {} inputs{range} ({}{}), {} by MPFR",
        r.function,
        r.format,
        r.reference_rounding,
        r.inputs,
        r.inputs_kind,
        r.seed.map(|s| format!(", seed {s}")).unwrap_or_default(),
        r.mpfr_inputs
    )?;
    writeln!(out, "ULP error (a) = {DEFINITION_A}")?;
    writeln!(out, "  max   {} at {}", r.max_ulp, at(&r.argmax))?;
    writeln!(
        out,
        "  mean  {:.6e} over {} measured inputs",
        r.mean_ulp, r.measured
    )?;
    writeln!(out, "ULP distance (b) = {DEFINITION_B}")?;
    writeln!(
        out,
        "  max   {} at {}",
        r.max_distance,
        at(&r.argmax_distance)
    )?;
    writeln!(out, "  mean  {:.6e}", r.mean_distance)?;
    let share = if r.inputs > 0 {
        r.incorrectly_rounded as f64 / r.inputs as f64
    } else {
        0.0
    };
    writeln!(
        out,
        "incorrectly rounded: {} of {} ({share:.3e})",
        r.incorrectly_rounded, r.inputs
    )?;
    writeln!(out, "histogram of (a):")?;
    for b in &r.histogram {
        let lo = if b.lo == 0.0 { "[0" } else { "(" };
        let lo = if b.lo == 0.0 {
            lo.to_string()
        } else {
            format!("{lo}{}", b.lo)
        };
        writeln!(out, "  {lo}, {}]  {}", b.hi, b.count)?;
    }
    writeln!(out, "histogram of (b):")?;
    for b in &r.histogram_distance {
        if b.hi <= 2.0 {
            writeln!(out, "  {}  {}", b.hi, b.count)?;
        } else {
            writeln!(out, "  ({}, {}]  {}", b.lo, b.hi, b.count)?;
        }
    }
    let specials: Vec<String> = r
        .special
        .named()
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    writeln!(
        out,
        "special-case mismatches: {}",
        if specials.is_empty() {
            "none".to_string()
        } else {
            specials.join(", ")
        }
    )?;
    Ok(())
}

fn bucket_csv(r: &Report) -> String {
    let mut s = String::from(
        "x_lo,x_hi,inputs,measured,max_ulp,mean_ulp,max_distance,incorrectly_rounded\n",
    );
    for b in &r.buckets {
        s.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            anyfloat::codec::shortest(b.x_lo),
            anyfloat::codec::shortest(b.x_hi),
            b.inputs,
            b.measured,
            b.max_ulp,
            b.mean_ulp,
            b.max_distance,
            b.incorrectly_rounded
        ));
    }
    s
}

fn draw(r: &Report, imp: &str, path: &Path) -> anyhow::Result<()> {
    let points: Vec<(f64, f64)> = r
        .buckets
        .iter()
        .filter(|b| b.measured > 0 && b.x_lo.is_finite() && b.max_ulp.is_finite())
        .map(|b| (b.x_lo, b.max_ulp))
        .collect();
    if points.is_empty() {
        bail!("--plot: no finite measured inputs to draw");
    }
    let x_log = points.iter().all(|p| p.0 > 0.0)
        && points.last().map(|p| p.0).unwrap_or(1.0) / points[0].0 > 1e3;
    let stem = path.with_extension("");
    let mut s = Series::new("max ULP error (a) per bucket", points, 0);
    s.markers = true;
    plot::line_chart(
        &stem,
        &LineChart {
            title: format!("{} by {imp} in {} ({})", r.function, r.format, r.rounding),
            x_label: "x (bucket start)".into(),
            y_label: "|y - f(x)| / ulp(f(x))".into(),
            x_log,
            series: vec![s],
            ..LineChart::default()
        },
    )?;
    Ok(())
}
