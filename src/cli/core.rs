//! `formats`, `info`, `table`, `round`, `decode`, `encode`: formats and single values.

use super::{RoundingArgs, csv_row, parse_format, stdout};
use anyfloat::codec::{self, Class};
use anyfloat::format::names::NAMED_FORMATS;
use anyfloat::parse::{parse_code, parse_value};
use anyfloat::rng::{ElementStream, derive_key};
use anyfloat::round::round_value;
use anyfloat::{Format, Specials};
use anyhow::{Context, bail};
use std::io::{BufRead, Write};
use std::process::ExitCode;

/// List every named format with its parameters and the source of its definition.
#[derive(clap::Args, Debug)]
pub struct FormatsArgs {
    /// Print CSV (one row per format) instead of an aligned table.
    #[arg(long)]
    csv: bool,
}

/// Show a format's parameters: bias, emin, emax, precision, extreme values, special codes.
#[derive(clap::Args, Debug)]
pub struct InfoArgs {
    /// The format, e.g. e4m3, bf16, e11m10, binary8p3.
    #[arg(value_parser = parse_format)]
    format: Format,
    /// Print one JSON object instead of `key: value` lines.
    #[arg(long)]
    json: bool,
}

/// Print every code of a format (at most 16 bits) as CSV: code,hex,class,value.
///
/// `class` is zero, subnormal, normal, inf or nan; `value` is the shortest decimal that
/// round-trips as an f64 (inf, -inf, nan for specials; -0 keeps its sign).
#[derive(clap::Args, Debug)]
pub struct TableArgs {
    /// The format (at most 16 bits wide).
    #[arg(value_parser = parse_format)]
    format: Format,
}

/// Round values into a format; prints CSV: input,hex,value,flags.
///
/// Values come from the arguments, or one per line on stdin when none are given (blank lines
/// and lines starting with # are skipped). `flags` lists the raised exceptions joined by |
/// (inexact, underflow, overflow, divbyzero, invalid), or - when none.
///
/// With --input FILE, a whole file is rounded by the slice engine: text (one value per line),
/// a CSV column (--column NAME) or a NumPy .npy array (f32/f64, any shape). Its values are read
/// as f64 (the nearest f64 to each decimal, as NumPy does) and value i draws from position i
/// of the random stream. The output (--output, else stdout) follows its extension: .npy (the
/// input's shape, and its dtype when the format fits in it), .csv (input,hex,value), anything
/// else one value per line.
#[derive(clap::Args, Debug)]
pub struct RoundArgs {
    /// The target format.
    #[arg(value_parser = parse_format)]
    format: Format,
    /// Values to round (decimal, hex float, inf, nan); read from stdin when absent.
    #[arg(conflicts_with = "input")]
    values: Vec<String>,
    /// Round the values of this file (.npy, .csv with --column, else one value per line).
    #[arg(long, value_name = "FILE")]
    input: Option<std::path::PathBuf>,
    /// Where to write the rounded values (written atomically); stdout when absent.
    #[arg(long, value_name = "FILE", requires = "input")]
    output: Option<std::path::PathBuf>,
    /// The CSV column to round (by its header name).
    #[arg(long, value_name = "NAME", requires = "input")]
    column: Option<String>,
    #[command(flatten)]
    rounding: RoundingArgs,
}

/// Decode codes of a format; prints CSV: hex,fields,class,value.
#[derive(clap::Args, Debug)]
pub struct DecodeArgs {
    /// The format.
    #[arg(value_parser = parse_format)]
    format: Format,
    /// Codes in hex (0x7e or 7e).
    #[arg(required = true)]
    codes: Vec<String>,
}

/// Encode values in a format and show the bit fields; prints CSV: input,hex,fields,value,flags.
#[derive(clap::Args, Debug)]
pub struct EncodeArgs {
    /// The format.
    #[arg(value_parser = parse_format)]
    format: Format,
    /// Values (decimal, hex float, inf, nan).
    #[arg(required = true)]
    values: Vec<String>,
    #[command(flatten)]
    rounding: RoundingArgs,
}

pub fn formats(args: FormatsArgs) -> anyhow::Result<ExitCode> {
    let header = [
        "name",
        "aliases",
        "E",
        "M",
        "bias",
        "bits",
        "signed",
        "encoding",
        "max",
        "min_normal",
        "min_subnormal",
        "source",
    ];
    let rows: Vec<Vec<String>> = NAMED_FORMATS
        .iter()
        .map(|n| {
            let f = n.format();
            let min_sub = if f.has_subnormals() && f.man_bits() > 0 {
                codec::display_value(&f, 1)
            } else {
                "-".into()
            };
            vec![
                n.names[0].to_string(),
                n.names[1..].join(" "),
                f.exp_bits().to_string(),
                f.man_bits().to_string(),
                f.bias().to_string(),
                f.width().to_string(),
                if f.is_signed() { "yes" } else { "no" }.into(),
                encoding_name(&f).into(),
                codec::display_value(&f, f.max_finite_magnitude_code()),
                codec::display_value(&f, f.min_normal_magnitude_code()),
                min_sub,
                n.source.to_string(),
            ]
        })
        .collect();
    let mut out = stdout();
    if args.csv {
        csv_row(&mut out, &header)?;
        for r in &rows {
            csv_row(&mut out, &r.iter().map(String::as_str).collect::<Vec<_>>())?;
        }
    } else {
        let widths: Vec<usize> = (0..header.len())
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].len())
                    .chain([header[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[&str]| -> String {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        writeln!(out, "{}", line(&header))?;
        for r in &rows {
            writeln!(
                out,
                "{}",
                line(&r.iter().map(String::as_str).collect::<Vec<_>>())
            )?;
        }
        writeln!(
            out,
            "\nAny other split: [u]e<E>m<M>[b<BIAS>][ieee|fn|fnuz|fin|p3109][ftz|nz], binary<K>p<P>; see `anyfloat info`."
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn encoding_name(f: &Format) -> &'static str {
    match f.specials() {
        Specials::Ieee => "ieee",
        Specials::FiniteNan => "fn",
        Specials::Fnuz => "fnuz",
        Specials::Finite => "fin",
        Specials::P3109 => "p3109",
    }
}

pub fn info(args: InfoArgs) -> anyhow::Result<ExitCode> {
    let f = args.format;
    let value_and_code = |code: u128| {
        format!(
            "{} ({})",
            codec::display_value(&f, code),
            codec::hex(&f, code)
        )
    };
    let opt_code = |c: Option<u128>| c.map_or("none".to_string(), |c| codec::hex(&f, c));
    let source = NAMED_FORMATS
        .iter()
        .find(|n| n.format() == f)
        .map_or("generic name grammar", |n| n.source);
    let min_sub = if f.has_subnormals() && f.man_bits() > 0 {
        value_and_code(1)
    } else {
        "none".into()
    };
    let fields: Vec<(&str, String)> = vec![
        ("name", f.to_string()),
        ("generic_name", f.generic_name()),
        ("bits", f.width().to_string()),
        ("signed", f.is_signed().to_string()),
        ("exponent_bits", f.exp_bits().to_string()),
        ("mantissa_bits", f.man_bits().to_string()),
        ("precision", f.precision().to_string()),
        ("bias", f.bias().to_string()),
        ("emin", f.emin().to_string()),
        ("emax", f.emax().to_string()),
        ("encoding", encoding_name(&f).into()),
        ("subnormals", f.has_subnormals().to_string()),
        ("max_finite", value_and_code(f.max_finite_magnitude_code())),
        ("min_normal", value_and_code(f.min_normal_magnitude_code())),
        ("min_subnormal", min_sub),
        (
            "epsilon",
            codec::shortest(2f64.powi(1 - f.precision() as i32)),
        ),
        ("inf", opt_code(f.inf(false))),
        ("neg_inf", opt_code(f.inf(true).filter(|_| f.is_signed()))),
        ("nan", opt_code(f.default_nan())),
        ("zero", opt_code(f.zero(false))),
        (
            "neg_zero",
            opt_code(f.zero(true).filter(|_| f.has_neg_zero())),
        ),
        ("source", source.into()),
    ];
    let mut out = stdout();
    if args.json {
        let map: serde_json::Map<String, serde_json::Value> = fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
            .collect();
        writeln!(out, "{}", serde_json::Value::Object(map))?;
    } else {
        for (k, v) in fields {
            writeln!(out, "{:<14} {v}", format!("{k}:"))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn table(args: TableArgs) -> anyhow::Result<ExitCode> {
    let f = args.format;
    if f.width() > 16 {
        bail!(
            "`table` lists every code, so it takes formats of at most 16 bits; {f} has {}",
            f.width()
        );
    }
    let mut out = stdout();
    writeln!(out, "code,hex,class,value")?;
    for code in 0..(1u128 << f.width()) {
        let class = codec::classify(&f, code);
        let value = match class {
            Class::Nan => "nan".to_string(),
            _ => codec::shortest(codec::to_f64(&f, code)),
        };
        writeln!(out, "{code},{},{class},{value}", codec::hex(&f, code))?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn round(args: RoundArgs) -> anyhow::Result<ExitCode> {
    let fmt = args.rounding.format(args.format)?;
    let rounding = args.rounding.rounding();
    let key = derive_key(args.rounding.seed, &[]);
    if let Some(input) = &args.input {
        let files = super::fast::Files {
            input,
            output: args.output.as_deref(),
            column: args.column.as_deref(),
        };
        return super::fast::round_file(&fmt, &rounding, key, &files);
    }
    let mut out = stdout();
    writeln!(out, "input,hex,value,flags")?;
    let emit = |index: u64, text: &str, out: &mut dyn Write| -> anyhow::Result<()> {
        let value = parse_value(text)?;
        let r = round_value(&fmt, &value, &rounding, &mut ElementStream::new(key, index));
        let hex = codec::hex(&fmt, r.value);
        let shown = codec::display_value(&fmt, r.value);
        csv_row(out, &[text.trim(), &hex, &shown, &r.flags.to_string()])?;
        Ok(())
    };
    if args.values.is_empty() {
        let mut index = 0;
        for (n, line) in std::io::stdin().lock().lines().enumerate() {
            let line = line.context("reading stdin")?;
            let text = line.trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            emit(index, text, &mut out).with_context(|| format!("stdin line {}", n + 1))?;
            index += 1;
        }
    } else {
        for (i, text) in args.values.iter().enumerate() {
            emit(i as u64, text, &mut out)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn decode(args: DecodeArgs) -> anyhow::Result<ExitCode> {
    let f = args.format;
    let codes = args
        .codes
        .iter()
        .map(|c| parse_code(c, f.width()).with_context(|| format!("a code of {f}")))
        .collect::<anyhow::Result<Vec<u128>>>()?;
    let mut out = stdout();
    writeln!(out, "hex,fields,class,value")?;
    for code in codes {
        let class = codec::classify(&f, code);
        let value = codec::display_value(&f, code);
        writeln!(
            out,
            "{},{},{class},{value}",
            codec::hex(&f, code),
            codec::fields(&f, code)
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn encode(args: EncodeArgs) -> anyhow::Result<ExitCode> {
    let fmt = args.rounding.format(args.format)?;
    let rounding = args.rounding.rounding();
    let key = derive_key(args.rounding.seed, &[]);
    let values = args
        .values
        .iter()
        .map(|v| parse_value(v))
        .collect::<anyfloat::Result<Vec<_>>>()?;
    let mut out = stdout();
    writeln!(out, "input,hex,fields,value,flags")?;
    for (i, (text, value)) in args.values.iter().zip(&values).enumerate() {
        let r = round_value(
            &fmt,
            value,
            &rounding,
            &mut ElementStream::new(key, i as u64),
        );
        csv_row(
            &mut out,
            &[
                text.trim(),
                &codec::hex(&fmt, r.value),
                &codec::fields(&fmt, r.value),
                &codec::display_value(&fmt, r.value),
                &r.flags.to_string(),
            ],
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
