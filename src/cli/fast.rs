//! `round --input` (whole files through the slice engine), `bench round` and `bench quantize`.

use super::{csv_row, parse_format, parse_mode, stdout};
use anyfloat::block::{self, BlockFormat};
use anyfloat::exp::store::write_atomic;
use anyfloat::fast::{self, Kernel, Lane};
use anyfloat::npy::{self, Dtype};
use anyfloat::parse::parse_value;
use anyfloat::rng::NoRandom;
use anyfloat::{Format, Rounding, RoundingMode, codec};
use anyhow::{Context, bail};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The files of `round --input`.
pub struct Files<'a> {
    pub input: &'a Path,
    pub output: Option<&'a Path>,
    pub column: Option<&'a str>,
}

/// Measurements on this machine.
#[derive(clap::Subcommand, Debug)]
pub enum BenchCommand {
    Round(BenchRoundArgs),
    Quantize(BenchQuantizeArgs),
}

/// Measure the slice engine against a plain f64 copy of the same array, measured in the same
/// run; prints CSV: format,mode,data,threads,values_per_s,ratio_to_copy.
///
/// `data` is normal (standard normal values) or wide (spread over ±40 binades); each figure is
/// the median of --reps runs after a warm-up run, the copy timed in the same rounds, alternating
/// with the rounding (so both see the same machine load).
#[derive(clap::Args, Debug)]
pub struct BenchRoundArgs {
    /// Formats (comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = parse_format,
          default_value = "e4m3,e5m2,bf16,binary16,e11m10,e11m3")]
    formats: Vec<Format>,
    #[command(flatten)]
    runs: BenchRuns,
}

/// What the bench commands measure over.
#[derive(clap::Args, Debug)]
pub struct BenchRuns {
    /// Rounding modes (comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = parse_mode, default_value = "rne,sr")]
    modes: Vec<RoundingMode>,
    /// Values per array.
    #[arg(long, default_value_t = 10_000_000)]
    n: usize,
    /// Thread counts (comma-separated); default 1 and the number of CPUs.
    #[arg(long, value_delimiter = ',')]
    threads: Vec<usize>,
    /// Timed repetitions per figure (the median is printed).
    #[arg(long, default_value_t = 5)]
    reps: usize,
}

impl BenchRuns {
    /// The thread counts, after checking --n and --threads.
    fn threads(&self) -> anyhow::Result<Vec<usize>> {
        if self.n == 0 {
            bail!("--n must be at least 1");
        }
        if let Some(t) = self.threads.iter().find(|&&t| t == 0) {
            bail!("--threads {t}: thread counts must be at least 1");
        }
        if !self.threads.is_empty() {
            return Ok(self.threads.clone());
        }
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(if cpus > 1 { vec![1, cpus] } else { vec![1] })
    }
}

/// Prints the CSV `header` and returns a writer of the bench commands' rows, each flushed as
/// it is measured.
fn csv_lines(header: &str) -> anyhow::Result<impl FnMut(String) -> anyfloat::Result<()>> {
    let mut out = stdout();
    writeln!(out, "{header}")?;
    out.flush()?;
    Ok(move |line: String| {
        writeln!(out, "{line}")
            .and_then(|_| out.flush())
            .map_err(|e| anyfloat::Error::Invalid(format!("writing stdout: {e}")))
    })
}

pub fn bench_round(args: BenchRoundArgs) -> anyhow::Result<ExitCode> {
    let (runs, threads) = (&args.runs, args.runs.threads()?);
    let mut line = csv_lines("format,mode,data,threads,values_per_s,ratio_to_copy")?;
    fast::bench::run(
        &args.formats,
        &runs.modes,
        runs.n,
        &threads,
        runs.reps,
        |r| {
            line(format!(
                "{},{},{},{},{:.4e},{:.3}",
                r.format, r.mode, r.data, r.threads, r.values_per_s, r.ratio_to_copy
            ))
        },
    )?;
    eprintln!("# instruction set: {}", fast::isa());
    Ok(ExitCode::SUCCESS)
}

/// Measure block quantisation against plain rounding into the element format of the same
/// array, measured in the same run; prints CSV:
/// preset,mode,threads,values_per_s,plain_values_per_s,ratio_to_plain.
///
/// The data are --n standard normal values in one row; quantisation writes into arrays reused
/// across calls (`block::quantize_rows_into`, codes in the narrowest unsigned type), plain
/// rounding is the slice engine's (saturating, the same mode). Each figure is the median of
/// --reps runs after a warm-up run, the two alternating (so both see the same machine load).
#[derive(clap::Args, Debug)]
pub struct BenchQuantizeArgs {
    /// Presets (comma-separated): mxfp8-e4m3, mxfp8-e5m2, mxfp6-e2m3, mxfp6-e3m2, mxfp4,
    /// mxint8, nvfp4, fp4-ue5m3-16, fp4-ue5m3-32.
    #[arg(long, value_delimiter = ',', default_value = "mxfp4,nvfp4,mxfp8-e4m3")]
    presets: Vec<String>,
    #[command(flatten)]
    runs: BenchRuns,
}

pub fn bench_quantize(args: BenchQuantizeArgs) -> anyhow::Result<ExitCode> {
    let (runs, threads) = (&args.runs, args.runs.threads()?);
    let formats = args
        .presets
        .iter()
        .map(|p| Ok((p.trim().to_ascii_lowercase(), BlockFormat::preset(p)?)))
        .collect::<anyfloat::Result<Vec<_>>>()?;
    let header = "preset,mode,threads,values_per_s,plain_values_per_s,ratio_to_plain";
    let mut line = csv_lines(header)?;
    block::bench::run(&formats, &runs.modes, runs.n, &threads, runs.reps, |r| {
        line(format!(
            "{},{},{},{:.4e},{:.4e},{:.3}",
            r.format, r.mode, r.threads, r.values_per_s, r.plain_values_per_s, r.ratio_to_plain
        ))
    })?;
    eprintln!("# instruction set: {}", fast::isa());
    Ok(ExitCode::SUCCESS)
}

/// The values of an input file and how to write them back.
struct Input {
    values: Vec<f64>,
    /// Shape and dtype when the input was a .npy file.
    npy: Option<(Vec<usize>, bool, Dtype)>,
}

pub fn round_file(
    fmt: &Format,
    rounding: &Rounding,
    key: u64,
    files: &Files,
) -> anyhow::Result<ExitCode> {
    let kernel = Kernel::new(fmt, rounding)
        .with_context(|| format!("--input rounds f64 values; for {fmt} round values given as arguments or on stdin (exact decimals)"))?;
    let name = files.input.display().to_string();
    let input = read_input(files, &name)?;
    let mut values = input.values.clone();
    let mut progress = Progress::new(values.len() as u64, "rounding");
    const STEP: usize = 1 << 20;
    for (c, chunk) in values.chunks_mut(STEP).enumerate() {
        kernel.round_slice(key, (c * STEP) as u64, chunk)?;
        progress.set(((c + 1) * STEP).min(input.values.len()) as u64);
    }
    progress.finish();
    write_output(fmt, files.output, &input, &values)?;
    Ok(ExitCode::SUCCESS)
}

fn extension(p: &Path) -> String {
    p.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// A value of a text or CSV file as f64: Rust's correctly rounded decimal parser, then the
/// library's (hex floats, `snan`), rounded to the nearest f64.
fn parse_f64(text: &str) -> anyfloat::Result<f64> {
    let t = text.trim();
    match t.parse::<f64>() {
        Ok(x) => Ok(x),
        Err(_) => parse_value(t).map(|v| v.to_f64()),
    }
}

fn read_input(files: &Files, name: &str) -> anyhow::Result<Input> {
    let path = files.input;
    let ext = extension(path);
    if ext == "npy" {
        if files.column.is_some() {
            bail!("--column applies to CSV input, and {name} is a .npy file");
        }
        let bytes = std::fs::read(path).with_context(|| format!("reading {name}"))?;
        let a = npy::read(&bytes, name)?;
        return Ok(Input {
            values: a.data,
            npy: Some((a.shape, a.fortran_order, a.dtype)),
        });
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {name}"))?;
    let mut progress = Progress::new(text.len() as u64, "reading");
    let mut values = Vec::new();
    if files.column.is_some() || ext == "csv" {
        let Some(column) = files.column else {
            bail!("{name}: a CSV input needs --column NAME to say which column to round");
        };
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .with_context(|| format!("{name}: reading the CSV header"))?
            .clone();
        let Some(at) = headers.iter().position(|h| h.trim() == column) else {
            bail!(
                "{name}: no column {column:?}; the header has: {}",
                headers.iter().collect::<Vec<_>>().join(", ")
            );
        };
        for record in reader.records() {
            let record = record.with_context(|| format!("{name}: reading CSV"))?;
            let line = record.position().map_or(0, |p| p.line());
            let field = record.get(at).with_context(|| {
                format!("{name}:{line}: the row has no field for column {column:?}")
            })?;
            values.push(
                parse_f64(field).with_context(|| format!("{name}:{line}: column {column:?}"))?,
            );
            if values.len() % 65_536 == 0 {
                progress.set(record.position().map_or(0, |p| p.byte()));
            }
        }
    } else {
        let mut read = 0;
        for (n, line) in text.lines().enumerate() {
            read += line.len() as u64 + 1;
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            values.push(parse_f64(t).with_context(|| format!("{name}:{}", n + 1))?);
            if values.len() % 65_536 == 0 {
                progress.set(read);
            }
        }
    }
    progress.finish();
    Ok(Input { values, npy: None })
}

fn write_output(
    fmt: &Format,
    output: Option<&Path>,
    input: &Input,
    rounded: &[f64],
) -> anyhow::Result<()> {
    let ext = output.map(extension).unwrap_or_default();
    let mut bytes = Vec::new();
    match ext.as_str() {
        "npy" => {
            let (shape, fortran, dtype) =
                input
                    .npy
                    .clone()
                    .unwrap_or((vec![rounded.len()], false, Dtype::F64));
            let dtype = if dtype == Dtype::F32 && !<f32 as Lane>::fits(fmt) {
                eprintln!("note: {fmt} values are not all f32 values; writing f64");
                Dtype::F64
            } else {
                dtype
            };
            bytes = npy::write(rounded, &shape, fortran, dtype);
        }
        "csv" => {
            csv_row(&mut bytes, &["input", "hex", "value"])?;
            for (&x, &y) in input.values.iter().zip(rounded) {
                // y is a value of the format, so rounding it back is exact.
                let code = codec::from_f64(fmt, y, &Rounding::default(), &mut NoRandom).value;
                csv_row(
                    &mut bytes,
                    &[
                        &codec::shortest(x),
                        &codec::hex(fmt, code),
                        &codec::shortest(y),
                    ],
                )?;
            }
        }
        _ => {
            for &y in rounded {
                writeln!(bytes, "{}", codec::shortest(y))?;
            }
        }
    }
    match output {
        Some(path) => write_atomic(path, &bytes)?,
        None => {
            let mut out = stdout();
            out.write_all(&bytes)?;
            out.flush()?;
        }
    }
    Ok(())
}

/// A progress bar on a terminal's stderr, shown only once a step has taken two seconds.
struct Progress {
    bar: indicatif::ProgressBar,
    start: Instant,
    shown: bool,
    what: &'static str,
}

impl Progress {
    fn new(len: u64, what: &'static str) -> Progress {
        Progress {
            bar: indicatif::ProgressBar::hidden(),
            start: Instant::now(),
            shown: false,
            what,
        }
        .with_len(len)
    }

    fn with_len(self, len: u64) -> Progress {
        self.bar.set_length(len);
        self
    }

    fn set(&mut self, pos: u64) {
        if !self.shown
            && self.start.elapsed() > Duration::from_secs(2)
            && std::io::stderr().is_terminal()
        {
            self.bar
                .set_draw_target(indicatif::ProgressDrawTarget::stderr());
            self.bar.set_style(
                indicatif::ProgressStyle::with_template("{msg} {bar:40} {percent}%  eta {eta}")
                    .expect("valid template"),
            );
            self.bar.set_message(self.what);
            self.shown = true;
        }
        self.bar.set_position(pos);
    }

    fn finish(self) {
        if self.shown {
            self.bar.finish_and_clear();
        }
    }
}
