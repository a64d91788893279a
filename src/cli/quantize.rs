//! `quantize`: block-scaled quantisation of a `.npy` or CSV array along its last axis.

use super::parse_mode;
use anyfloat::block::{self, BlockFormat, Element, ScaleRule};
use anyfloat::exp::store::write_atomic;
use anyfloat::npy;
use anyfloat::rng::derive_key;
use anyfloat::{Overflow, RoundingMode, codec};
use anyhow::{Context, bail};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Quantise an array into a block-scaled format and write the dequantised values.
///
/// `anyfloat quantize PRESET IN OUT` or `anyfloat quantize --elem F --scale F --block K IN
/// OUT`. Presets: mxfp8-e4m3, mxfp8-e5m2, mxfp6-e2m3, mxfp6-e3m2, mxfp4, mxint8 (OCP MX v1.0),
/// nvfp4, fp4-ue5m3-16, fp4-ue5m3-32. IN and OUT are `.npy` (f32 or f64; OUT is f64) or `.csv`
/// (one row per line); blocks run along the last axis (CSV: along each line). Prints MSE,
/// QSNR, the largest error and the fraction of saturated elements.
#[derive(clap::Args, Debug)]
pub struct QuantizeArgs {
    /// [PRESET] IN OUT (options after a preset override its parts).
    #[arg(required = true)]
    files: Vec<String>,
    /// Element format (a format name, or int<k> for a k-bit integer element).
    #[arg(long)]
    elem: Option<String>,
    /// Scale format: e8m0, ue4m3, ue5m3, ue5m3fn, binary32, any format name, or exact.
    #[arg(long)]
    scale: Option<String>,
    /// Block size along the last axis.
    #[arg(long)]
    block: Option<usize>,
    /// Scale rule: floor (OCP MX), ceil, rceil (NVIDIA), even (torchao), nearest (NVFP4).
    #[arg(long)]
    rule: Option<String>,
    /// Add a binary32 per-tensor scale amax / (scale max · element max), as NVFP4 does.
    #[arg(long)]
    tensor_scale: bool,
    /// Element rounding mode (rne, rna, rtz, rup, rdn, rto, sr, sr:<bits>, sr-eq).
    #[arg(long, short = 'r', value_parser = parse_mode)]
    rounding: Option<RoundingMode>,
    /// Elements that overflow become Inf/NaN per the element format instead of saturating.
    #[arg(long)]
    no_saturate: bool,
    /// Seed of the random streams (stochastic rounding: value i draws word i; Hadamard signs).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Randomized Hadamard transform over each block (power-of-two blocks tiling the rows).
    #[arg(long)]
    hadamard: bool,
    /// Also write the codes. To a .npy file: the element codes in the input's shape, as unsigned
    /// integers of the element's width (uint8 for FP4 to FP8; integer elements as their two's
    /// complement bits: `.view(np.int8)`). To any other file: CSV of block, row, scale code and
    /// value, element codes (hex).
    #[arg(long)]
    codes: Option<PathBuf>,
    /// Also write the scale codes to a .npy file, one per block: the input's shape with the last
    /// axis replaced by its number of blocks (unsigned integers of the scale format's width).
    #[arg(long)]
    scale_codes: Option<PathBuf>,
    /// Print the statistics as one JSON object.
    #[arg(long)]
    json: bool,
}

fn block_format(a: &QuantizeArgs) -> anyhow::Result<BlockFormat> {
    let mut bf = match a.files.len() {
        3 => BlockFormat::preset(&a.files[0])?,
        2 => {
            let (Some(e), Some(s), Some(k)) = (&a.elem, &a.scale, a.block) else {
                bail!("without a preset, --elem, --scale and --block are all required");
            };
            BlockFormat::new(
                Element::parse(e)?,
                block::parse_scale(s)?,
                k,
                ScaleRule::Floor,
            )
        }
        n => bail!("expected [PRESET] IN OUT, got {n} file arguments"),
    };
    if let Some(e) = &a.elem {
        bf.elem = Element::parse(e)?;
    }
    if let Some(s) = &a.scale {
        bf.scale = block::parse_scale(s)?;
    }
    if let Some(k) = a.block {
        bf.block = k;
    }
    if let Some(r) = &a.rule {
        bf.rule = ScaleRule::parse(r)?;
    }
    bf.tensor_scale |= a.tensor_scale;
    bf.hadamard |= a.hadamard;
    if let Some(m) = a.rounding {
        bf.rounding.mode = m;
    }
    if a.no_saturate {
        bf.rounding.overflow = Overflow::Ieee;
    }
    bf.check()?;
    Ok(bf)
}

fn is_npy(p: &Path) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy"))
}

/// Reads an array: (values, last-axis length, shape for `.npy` output).
fn read_array(path: &Path) -> anyhow::Result<(Vec<f64>, usize, Vec<usize>)> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if is_npy(path) {
        let a = npy::read(&bytes, &path.display().to_string())?;
        if a.fortran_order {
            bail!(
                "{}: Fortran-ordered arrays are not supported (save with np.ascontiguousarray)",
                path.display()
            );
        }
        let row = a.shape.last().copied().unwrap_or(1).max(1);
        if a.data.is_empty() {
            bail!("{}: the array is empty", path.display());
        }
        return Ok((a.data, row, a.shape));
    }
    let text = std::str::from_utf8(&bytes)
        .with_context(|| format!("{}: not UTF-8 text", path.display()))?;
    let (mut data, mut row) = (Vec::new(), None);
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let values: Result<Vec<f64>, _> = fields.iter().map(|f| f.parse::<f64>()).collect();
        let values = values.map_err(|_| {
            anyhow::anyhow!(
                "{} line {}: expected comma-separated numbers, got {line:?}",
                path.display(),
                n + 1
            )
        })?;
        match row {
            None => row = Some(values.len()),
            Some(r) if r != values.len() => bail!(
                "{} line {}: {} values, but earlier lines have {r}",
                path.display(),
                n + 1,
                values.len()
            ),
            _ => {}
        }
        data.extend(values);
    }
    let Some(row) = row else {
        bail!("{}: no values", path.display());
    };
    let shape = vec![data.len() / row, row];
    Ok((data, row, shape))
}

fn write_array(path: &Path, data: &[f64], row: usize, shape: &[usize]) -> anyhow::Result<()> {
    let bytes = if is_npy(path) {
        npy::write(data, shape, false, npy::Dtype::F64)
    } else {
        let mut s = String::new();
        for r in data.chunks(row) {
            let line: Vec<String> = r.iter().map(|&v| codec::shortest(v)).collect();
            s.push_str(&line.join(","));
            s.push('\n');
        }
        s.into_bytes()
    };
    write_atomic(path, &bytes)?;
    Ok(())
}

pub fn quantize(args: QuantizeArgs) -> anyhow::Result<ExitCode> {
    let bf = block_format(&args)?;
    if let Some(path) = &args.scale_codes
        && !is_npy(path)
    {
        bail!(
            "--scale-codes {}: writes a .npy file (the CSV of --codes lists scale codes too)",
            path.display()
        );
    }
    let n = args.files.len();
    let (input, output) = (Path::new(&args.files[n - 2]), Path::new(&args.files[n - 1]));
    let (data, row, shape) = read_array(input)?;
    let key = derive_key(args.seed, &[]);
    let q = block::quantize_rows(&bf, &data, row, key)
        .with_context(|| format!("quantising {}", input.display()))?;
    write_array(output, &q.dequantized, row, &shape)?;
    if let Some(path) = &args.codes {
        let bytes = if is_npy(path) {
            npy::write_unsigned(
                &q.codes.to_u64(),
                &shape,
                block::code_bytes(bf.elem.width()),
            )
        } else {
            codes_csv(&bf, &q, data.len(), row).into_bytes()
        };
        write_atomic(path, &bytes)?;
    }
    if let Some(path) = &args.scale_codes {
        let mut blocks_shape = shape.clone();
        if let Some(last) = blocks_shape.last_mut() {
            *last = row.div_ceil(bf.block);
        }
        let bytes = npy::write_unsigned(
            &q.scales,
            &blocks_shape,
            block::code_bytes(bf.scale.width()),
        );
        write_atomic(path, &bytes)?;
    }
    let st = block::error_stats(&data, &q.dequantized);
    let sat = q.saturated as f64 / data.len() as f64;
    if args.json {
        let j = serde_json::json!({
            "format": bf.to_string(),
            "values": data.len(),
            "blocks": q.scales.len(),
            "tensor_scale": q.tensor_scale,
            "mse": st.mse,
            "qsnr_db": st.qsnr_db,
            "max_abs_error": st.max_abs_error,
            "mean_error": st.mean_error,
            "saturated_fraction": sat,
        });
        println!("{j}");
    } else {
        println!("format:          {bf}");
        println!(
            "values:          {} in {} blocks",
            data.len(),
            q.scales.len()
        );
        if bf.tensor_scale {
            println!("tensor scale:    {}", codec::shortest(q.tensor_scale));
        }
        println!("MSE:             {:.6e}", st.mse);
        println!("QSNR:            {:.3} dB", st.qsnr_db);
        println!("max |error|:     {:.6e}", st.max_abs_error);
        println!("saturated:       {:.6} ({} values)", sat, q.saturated);
    }
    Ok(ExitCode::SUCCESS)
}

fn codes_csv(bf: &BlockFormat, q: &block::Quantized, len: usize, row: usize) -> String {
    // Integer codes are two's complement of the element's width, printed like its format's.
    let ef = bf.elem.format();
    let mut s = String::from("block,row,scale_code,scale_value,element_codes\n");
    let per_row = row.div_ceil(bf.block);
    for (b, &code) in q.scales.iter().enumerate() {
        let (r, j) = (b / per_row, b % per_row);
        let lo = r * row + j * bf.block;
        let hi = (lo + bf.block).min((r + 1) * row).min(len);
        let elems: Vec<String> = (lo..hi)
            .filter_map(|i| q.codes.get(i))
            .map(|c| codec::hex(&ef, c as u128))
            .collect();
        let _ = writeln!(
            s,
            "{b},{r},{},{},{}",
            codec::hex(&bf.scale, code as u128),
            codec::shortest(codec::to_f64(&bf.scale, code as u128)),
            elems.join(" ")
        );
    }
    s
}
