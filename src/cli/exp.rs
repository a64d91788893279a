//! `run`, `merge`, `plot`, `experiments`, `wasserstein`: the experiment runner at the edge.

use super::stdout;
use anyfloat::exp::{self, RunOptions, Table};
use anyhow::{Context, bail};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Run an experiment recipe (a TOML file in experiments/).
///
/// Writes results/<name>/ (or --out): long-format CSV, PNG and SVG figures and manifest.json.
/// Finished grid points are kept in <out>/points/, so re-running an interrupted command
/// continues where it stopped. With --shard I/N only every N-th point (starting at I) runs;
/// when all shards are done, `anyfloat merge` writes the outputs.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The recipe file.
    recipe: PathBuf,
    /// Output directory (default results/<name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Run shard I of N (0 <= I < N), e.g. --shard 3/10 for a job array.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<(usize, usize)>,
    /// Worker threads (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// Combine the grid points of shards and write the outputs.
#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// The results directory to complete.
    dir: PathBuf,
    /// Other directories whose points to copy in (shards run with different --out).
    shards: Vec<PathBuf>,
}

/// Redraw the figures of a finished run from its CSV files, without recomputing.
#[derive(clap::Args, Debug)]
pub struct PlotArgs {
    /// The results directory.
    dir: PathBuf,
}

/// List the experiment kinds and the parameters each accepts.
#[derive(clap::Args, Debug)]
pub struct ExperimentsArgs {}

/// The Wasserstein-1 distance between two samples (exact for empirical distributions).
///
/// Each file holds one number per line (blank lines and # comments skipped), or, with
/// --column, is a CSV file whose column NAME is read.
#[derive(clap::Args, Debug)]
pub struct WassersteinArgs {
    /// First sample.
    a: PathBuf,
    /// Second sample.
    b: PathBuf,
    /// Read this CSV column instead of plain lines.
    #[arg(long)]
    column: Option<String>,
}

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("invalid shard {s:?}: expected I/N with 0 <= I < N, e.g. 0/4");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (i.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    if args.threads == Some(0) {
        bail!("--threads must be at least 1");
    }
    let report = exp::run(
        &args.recipe,
        &RunOptions {
            out: args.out,
            shard: args.shard,
            threads: args.threads,
            progress: !args.quiet,
        },
    )?;
    let mut out = stdout();
    writeln!(
        out,
        "{}: computed {} point(s), {} already done, {} in the grid",
        report.dir.display(),
        report.computed,
        report.reused,
        report.total
    )?;
    if report.files.is_empty() {
        writeln!(
            out,
            "outputs not written yet: run the other shards, then `anyfloat merge {}`",
            report.dir.display()
        )?;
    }
    for f in &report.files {
        writeln!(out, "wrote {}", f.display())?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn merge(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let files = exp::merge(&args.dir, &args.shards)?;
    let mut out = stdout();
    for f in &files {
        writeln!(out, "wrote {}", f.display())?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn plot(args: PlotArgs) -> anyhow::Result<ExitCode> {
    let files = exp::plot(&args.dir)?;
    let mut out = stdout();
    for f in &files {
        writeln!(out, "wrote {}", f.display())?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn experiments(_: ExperimentsArgs) -> anyhow::Result<ExitCode> {
    let mut out = stdout();
    for e in exp::experiments() {
        writeln!(out, "{}: {}", e.kind(), e.about())?;
        for p in e.params() {
            let default = p
                .default
                .map_or("required".to_string(), |d| format!("default {d}"));
            writeln!(out, "    {:<18} {} ({}, {default})", p.name, p.doc, p.kind)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn wasserstein(args: WassersteinArgs) -> anyhow::Result<ExitCode> {
    let read = |path: &PathBuf| -> anyhow::Result<Vec<f64>> {
        match &args.column {
            Some(col) => Ok(Table::read(path)?
                .floats(col)
                .with_context(|| format!("in {}", path.display()))?),
            None => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                text.lines()
                    .enumerate()
                    .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                    .map(|(n, l)| {
                        l.trim().parse::<f64>().with_context(|| {
                            format!(
                                "{}:{}: {:?} is not a number",
                                path.display(),
                                n + 1,
                                l.trim()
                            )
                        })
                    })
                    .collect()
            }
        }
    };
    let (a, b) = (read(&args.a)?, read(&args.b)?);
    let Some(w) = anyfloat::stats::wasserstein1(&a, &b) else {
        bail!(
            "both samples must be non-empty and free of NaN ({} and {} values)",
            a.len(),
            b.len()
        );
    };
    let mut out = stdout();
    writeln!(out, "{}", anyfloat::codec::shortest(w))?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
