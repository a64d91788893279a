//! Command-line interface: clap definitions and dispatch. Each subcommand parses its
//! arguments, calls the library, and prints; nothing here decides a rounding.

mod core;
mod exp;
mod fast;
mod quantize;
mod ulp;
mod vectors;

use anyfloat::{Format, Overflow, Rounding, RoundingMode, Tininess};
use clap::{Parser, Subcommand};
use std::io::{self, Write};
use std::process::ExitCode;

/// Bit-exact emulation of any floating-point format.
///
/// Formats are named like `e4m3`, `bf16`, `binary128`, `e11m10`, `ue5m3fn`, `binary8p3`
/// (run `anyfloat formats`). Values are decimals (`0.1`, `-2.5e-3`), hex floats (`0x1.8p-3`),
/// `inf`, `-inf`, `nan`, `snan`; decimals are parsed exactly. Codes are hex (`0x7e`).
/// Errors go to stderr with exit status 2.
#[derive(Parser, Debug)]
#[command(name = "anyfloat", version, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    Formats(core::FormatsArgs),
    Info(core::InfoArgs),
    Table(core::TableArgs),
    Round(core::RoundArgs),
    Decode(core::DecodeArgs),
    Encode(core::EncodeArgs),
    Gen(vectors::GenArgs),
    Verify(vectors::VerifyArgs),
    Calc(vectors::CalcArgs),
    Quantize(quantize::QuantizeArgs),
    Run(exp::RunArgs),
    Merge(exp::MergeArgs),
    Plot(exp::PlotArgs),
    Experiments(exp::ExperimentsArgs),
    Wasserstein(exp::WassersteinArgs),
    #[command(subcommand)]
    Bench(fast::BenchCommand),
    Ulp(ulp::UlpArgs),
}

/// Parses the command line and runs the subcommand; the exit code is decided here.
pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse_from(std::env::args_os().map(protect_negative_value));
    // The library ignores a value it does not know; at the edge it is an error.
    anyfloat::fast::isa_request().map_err(anyhow::Error::msg)?;
    let result = match cli.command {
        Command::Formats(a) => core::formats(a),
        Command::Info(a) => core::info(a),
        Command::Table(a) => core::table(a),
        Command::Round(a) => core::round(a),
        Command::Decode(a) => core::decode(a),
        Command::Encode(a) => core::encode(a),
        Command::Gen(a) => vectors::generate(a),
        Command::Verify(a) => vectors::verify(a),
        Command::Calc(a) => vectors::calc(a),
        Command::Quantize(a) => quantize::quantize(a),
        Command::Run(a) => exp::run(a),
        Command::Merge(a) => exp::merge(a),
        Command::Plot(a) => exp::plot(a),
        Command::Experiments(a) => exp::experiments(a),
        Command::Wasserstein(a) => exp::wasserstein(a),
        Command::Bench(fast::BenchCommand::Round(a)) => fast::bench_round(a),
        Command::Bench(fast::BenchCommand::Quantize(a)) => fast::bench_quantize(a),
        Command::Ulp(a) => ulp::ulp(a),
    };
    match result {
        Ok(code) => Ok(code),
        // A closed pipe (`anyfloat table bf16 | head`) is not an error.
        Err(e) if is_broken_pipe(&e) => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e),
    }
}

/// Negative values (`-1.5`, `-inf`, `-0x1p-3`) would read as options; a leading space makes
/// clap take them as positionals, and every value parser trims it. No option looks like this.
fn protect_negative_value(arg: std::ffi::OsString) -> std::ffi::OsString {
    let Some(s) = arg.to_str() else { return arg };
    let rest = s.strip_prefix('-').unwrap_or("").to_ascii_lowercase();
    let numeric = rest.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        || ["inf", "nan", "snan", "qnan"]
            .iter()
            .any(|w| rest.starts_with(w));
    if numeric { format!(" {s}").into() } else { arg }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.downcast_ref::<io::Error>()
        .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

/// Buffered, locked standard output.
fn stdout() -> io::BufWriter<io::StdoutLock<'static>> {
    io::BufWriter::with_capacity(1 << 16, io::stdout().lock())
}

/// Options shared by every command that rounds.
#[derive(clap::Args, Debug, Clone)]
struct RoundingArgs {
    /// Rounding mode: rne (ties to even), rna (ties away), rtz, rup (toward +inf), rdn (toward
    /// -inf), rto (to odd), sr (stochastic, exact probabilities), sr:<bits> (stochastic with
    /// 1..=64 random bits), sr-eq (stochastic, probability 1/2).
    #[arg(long, short = 'r', default_value = "rne", value_parser = parse_mode)]
    rounding: RoundingMode,
    /// Seed of the random stream for stochastic modes; value i of the input draws from position
    /// i of the stream, so results do not depend on how the input is split.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Clamp overflow (and infinities) to the largest finite value instead of Inf/NaN.
    #[arg(long)]
    saturate: bool,
    /// Flush results in the subnormal range to 0 or the smallest normal, per the mode.
    #[arg(long)]
    no_subnormals: bool,
    /// When a result counts as tiny for the underflow flag: after (rounding, IEEE default) or
    /// before.
    #[arg(long, default_value = "after", value_parser = ["after", "before"])]
    tininess: String,
}

impl RoundingArgs {
    fn rounding(&self) -> Rounding {
        Rounding {
            mode: self.rounding,
            overflow: if self.saturate {
                Overflow::Saturate
            } else {
                Overflow::Ieee
            },
            tininess: if self.tininess == "before" {
                Tininess::BeforeRounding
            } else {
                Tininess::AfterRounding
            },
        }
    }

    /// The format as modified by `--no-subnormals`.
    fn format(&self, fmt: Format) -> anyfloat::Result<Format> {
        if self.no_subnormals {
            fmt.with_subnormals(false)
        } else {
            Ok(fmt)
        }
    }
}

fn parse_mode(s: &str) -> Result<RoundingMode, String> {
    s.parse().map_err(|e: anyfloat::Error| e.to_string())
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::parse(s).map_err(|e| e.to_string())
}

/// Writes CSV rows; a field is quoted only when it needs to be.
fn csv_row(out: &mut (impl Write + ?Sized), fields: &[&str]) -> io::Result<()> {
    let quoted: Vec<String> = fields
        .iter()
        .map(|f| {
            if f.contains([',', '"', '\n']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f.to_string()
            }
        })
        .collect();
    writeln!(out, "{}", quoted.join(","))
}
