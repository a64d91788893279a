//! `gen`, `verify`, `calc`: test vectors and single operations.

use super::{RoundingArgs, parse_format, stdout};
use anyfloat::arith::{Op, Operand};
use anyfloat::codec;
use anyfloat::oracle;
use anyfloat::parse::parse_value;
use anyfloat::rng::{ElementStream, derive_key};
use anyfloat::round::round_value;
use anyfloat::vectors::{self, Level};
use anyfloat::{Flagged, Format};
use anyhow::{Context, bail};
use std::io::{BufRead, Write};
use std::process::ExitCode;

fn parse_op(s: &str) -> Result<Op, String> {
    Op::parse(s).map_err(|e| e.to_string())
}

fn parse_level(s: &str) -> Result<Level, String> {
    s.parse().map_err(|e: anyfloat::Error| e.to_string())
}

/// Write test vectors (Berkeley TestFloat line format) to stdout.
///
/// Each line: operands, expected result, flags byte — hex, zero-padded to each type's width,
/// single spaces. Flags: bit 0 inexact, 1 underflow, 2 overflow, 3 divide-by-zero, 4 invalid.
/// Stochastic modes append the random words drawn (16 hex digits each, joined by ':'; - if none).
/// Operations: add sub mul div sqrt fma rem min max minimum maximum round_to_int
/// round_to_int_exact eq lt le eq_signaling lt_quiet le_quiet to_i<N> to_u<N> from_i<N>
/// from_u<N> cvt:<FORMAT> (converts from FORMAT into FMT).
#[derive(clap::Args, Debug)]
pub struct GenArgs {
    /// The format the operation works in.
    #[arg(value_parser = parse_format)]
    format: Format,
    /// The operation.
    #[arg(value_parser = parse_op)]
    op: Op,
    /// 1: edge cases (all pairs) plus random; 2: denser edges plus random; all: every operand
    /// combination (operands of at most 8 bits; 16 for one-operand operations).
    #[arg(long, default_value = "1", value_parser = parse_level)]
    level: Level,
    /// Random cases appended after the edge cases (default 10000 for level 1, 100000 for
    /// level 2; ignored with --level all).
    #[arg(long)]
    count: Option<usize>,
    /// Compute the expected results with the MPFR oracle (an implementation independent of the
    /// library's arithmetic) instead of the library; deterministic rounding modes only.
    #[arg(long)]
    oracle: bool,
    #[command(flatten)]
    rounding: RoundingArgs,
}

/// Check test vectors produced by another implementation; exit status 1 if any line fails.
///
/// Reads lines in `gen`'s format from FILE (or stdin for - or no FILE), recomputes each, and
/// prints every mismatch with operands, expected and actual results decoded and flags named,
/// then `N passed, N failed`. Malformed lines count as failures. As in TestFloat, a NaN result
/// matches any NaN unless --check-nans. Stochastic modes replay each line's random words.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The format the operation works in.
    #[arg(value_parser = parse_format)]
    format: Format,
    /// The operation.
    #[arg(value_parser = parse_op)]
    op: Op,
    /// File of test lines; - or absent for stdin.
    file: Option<String>,
    /// Require NaN results to have the exact expected encoding.
    #[arg(long)]
    check_nans: bool,
    /// Stop printing mismatches after this many (all are still counted).
    #[arg(long, default_value_t = 20)]
    max_report: usize,
    #[command(flatten)]
    rounding: RoundingArgs,
}

/// Evaluate one operation and show the result, its bits, flags and the exact unrounded value.
///
/// Operands are values (decimal, hex float with a 'p' exponent such as 0x1.8p-3, inf, nan),
/// rounded into the operand's format first with the same mode, or codes written as 0x… without
/// a 'p' (0x7e).
#[derive(clap::Args, Debug)]
pub struct CalcArgs {
    /// The format the operation works in.
    #[arg(value_parser = parse_format)]
    format: Format,
    /// The operation.
    #[arg(value_parser = parse_op)]
    op: Op,
    /// Operands: values or 0x codes.
    #[arg(required = true)]
    operands: Vec<String>,
    #[command(flatten)]
    rounding: RoundingArgs,
}

pub fn generate(args: GenArgs) -> anyhow::Result<ExitCode> {
    let fmt = args.rounding.format(args.format)?;
    let rounding = args.rounding.rounding();
    let random = match args.level {
        Level::One => args.count.unwrap_or(10_000),
        Level::Two => args.count.unwrap_or(100_000),
        Level::All => 0,
    };
    let sets = vectors::operand_sets(&args.op, &fmt, args.level, random, args.rounding.seed)?;
    let key = derive_key(args.rounding.seed, &[]);
    let stochastic = rounding.mode.is_stochastic() && args.op.rounds();
    if args.oracle && rounding.mode.is_stochastic() {
        bail!(
            "--oracle computes results with MPFR, which rounds deterministically: use one of \
             rne, rna, rtz, rup, rdn, rto, not {}",
            rounding.mode
        );
    }
    let mut out = stdout();
    for (i, operands) in sets.iter().enumerate() {
        let case = if args.oracle {
            vectors::Case {
                operands: operands.clone(),
                result: oracle::apply(&args.op, &fmt, operands, &rounding)?,
                random: Vec::new(),
            }
        } else {
            vectors::evaluate(&args.op, &fmt, operands, &rounding, key, i as u64)?
        };
        writeln!(
            out,
            "{}",
            vectors::format_line(&args.op, &fmt, &case, stochastic)
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let fmt = args.rounding.format(args.format)?;
    let rounding = args.rounding.rounding();
    let stochastic = rounding.mode.is_stochastic() && args.op.rounds();
    let input: Box<dyn BufRead> = match args.file.as_deref() {
        None | Some("-") => Box::new(std::io::stdin().lock()),
        Some(path) => Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("opening {path}"))?,
        )),
    };
    let (mut passed, mut failed) = (0u64, 0u64);
    let mut out = stdout();
    let report = |out: &mut dyn Write, failed: u64, text: String| -> std::io::Result<()> {
        if failed <= args.max_report as u64 {
            writeln!(out, "{text}")?;
        }
        Ok(())
    };
    for (n, line) in input.lines().enumerate() {
        let line = line.context("reading test lines")?;
        if line.trim().is_empty() {
            continue;
        }
        let lineno = n + 1;
        let case = match vectors::parse_line(&args.op, &fmt, &line, stochastic) {
            Ok(c) => c,
            Err(e) => {
                failed += 1;
                report(
                    &mut out,
                    failed,
                    format!("line {lineno}: malformed: {e}: {line:?}"),
                )?;
                continue;
            }
        };
        let expected = vectors::recompute(&args.op, &fmt, &case, &rounding)?;
        if vectors::matches(&args.op, &fmt, &expected, &case.result, args.check_nans) {
            passed += 1;
        } else {
            failed += 1;
            let operands: Vec<String> = args
                .op
                .operands(&fmt)
                .iter()
                .zip(&case.operands)
                .map(|(k, &v)| describe(k, v))
                .collect();
            let result = args.op.result(&fmt);
            report(
                &mut out,
                failed,
                format!(
                    "line {lineno}: {}({}): expected {} [{}], got {} [{}]",
                    args.op,
                    operands.join(", "),
                    describe(&result, expected.value),
                    expected.flags,
                    describe(&result, case.result.value),
                    case.result.flags
                ),
            )?;
        }
    }
    if failed > args.max_report as u64 {
        writeln!(
            out,
            "({} more mismatches not shown)",
            failed - args.max_report as u64
        )?;
    }
    writeln!(out, "{passed} passed, {failed} failed")?;
    out.flush()?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A bit pattern with its meaning: `0x7e (448)`.
fn describe(kind: &Operand, v: u128) -> String {
    match kind {
        Operand::Float(f) => format!("{} ({})", codec::hex(f, v), codec::display_value(f, v)),
        Operand::Int { bits, signed } => {
            let x = anyfloat::arith::from_int(v, *bits, *signed);
            format!(
                "{:#x} ({})",
                v,
                if x.neg {
                    format!("-{}", x.sig << x.exp as u64)
                } else {
                    (x.sig << x.exp as u64).to_string()
                }
            )
        }
        Operand::Bool => (if v == 1 { "true" } else { "false" }).to_string(),
    }
}

pub fn calc(args: CalcArgs) -> anyhow::Result<ExitCode> {
    let fmt = args.rounding.format(args.format)?;
    let rounding = args.rounding.rounding();
    let kinds = args.op.operands(&fmt);
    if args.operands.len() != kinds.len() {
        bail!(
            "{} takes {} operand(s), got {}",
            args.op,
            kinds.len(),
            args.operands.len()
        );
    }
    let key = derive_key(args.rounding.seed, &[]);
    let mut out = stdout();
    writeln!(out, "operation: {} in {fmt}, {}", args.op, rounding.mode)?;
    let mut codes = Vec::new();
    for (i, (text, kind)) in args.operands.iter().zip(&kinds).enumerate() {
        let (code, note) = operand(text, kind, &rounding, key, i as u64)
            .with_context(|| format!("operand {} ({text:?})", i + 1))?;
        writeln!(out, "operand {}: {}{note}", i + 1, describe(kind, code))?;
        codes.push(code);
    }
    let op_key = derive_key(args.rounding.seed, &[1]);
    let mut rng = ElementStream::new(op_key, 0);
    if let Some(u) = args
        .op
        .exact(&fmt, &codes, &rounding, &mut ElementStream::new(op_key, 0))
    {
        let exact = match &u.value {
            anyfloat::Value::Finite(x) => format!("{} = {}", x.to_decimal(40), x.to_hex_string()),
            v => codec::shortest(v.to_f64()),
        };
        writeln!(out, "exact:     {exact}")?;
    }
    let r = args.op.apply(&fmt, &codes, &rounding, &mut rng)?;
    writeln!(
        out,
        "result:    {}",
        describe(&args.op.result(&fmt), r.value)
    )?;
    writeln!(
        out,
        "fields:    {}",
        match args.op.result(&fmt) {
            Operand::Float(f) => codec::fields(&f, r.value),
            _ => "-".into(),
        }
    )?;
    writeln!(out, "flags:     {} ({:#04x})", r.flags, r.flags.bits())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// An operand from text: a code (0x… without 'p') or a value rounded into the operand type.
fn operand(
    text: &str,
    kind: &Operand,
    rounding: &anyfloat::Rounding,
    key: u64,
    index: u64,
) -> anyhow::Result<(u128, String)> {
    let t = text.trim();
    let is_code = (t.starts_with("0x") || t.starts_with("0X")) && !t.contains(['p', 'P', '.']);
    if is_code {
        return Ok((anyfloat::parse::parse_code(t, kind.width())?, String::new()));
    }
    let value = parse_value(t)?;
    match kind {
        Operand::Float(f) => {
            let r: Flagged<u128> =
                round_value(f, &value, rounding, &mut ElementStream::new(key, index));
            let note = if r.flags.is_empty() {
                String::new()
            } else {
                format!("  (rounded from {t}: {})", r.flags)
            };
            Ok((r.value, note))
        }
        Operand::Int { bits, signed } => {
            let anyfloat::Value::Finite(x) = value else {
                bail!("an integer operand must be finite")
            };
            let r = anyfloat::arith::to_int(
                &anyfloat::Value::Finite(x),
                *bits,
                *signed,
                rounding.mode,
                &mut anyfloat::rng::NoRandom,
            );
            if !r.flags.is_empty() {
                bail!("not an integer of {bits} bits ({})", r.flags);
            }
            Ok((r.value, String::new()))
        }
        Operand::Bool => bail!("comparisons take no boolean operands"),
    }
}
