//! `round --input` (text, CSV, .npy; through the slice engine) against `round VALUE…` (the
//! exact core), and `bench round`; bad input is a clear error naming the file and line; every
//! instruction-set variant (`ANYFLOAT_ISA`) gives the same bytes.

mod cli_support;

use anyfloat::npy::{self, Dtype};
use cli_support::{anyfloat, fails, ok};
use std::path::Path;

/// Values that are f64s exactly (so the file path and the exact path round the same number).
const VALUES: [&str; 12] = [
    "0.3125",
    "300",
    "-1.1875",
    "0x1.3p-9",
    "1e300",
    "-0",
    "inf",
    "-inf",
    "nan",
    "448",
    "464",
    "0.0009765625",
];

fn column(csv: &str, i: usize) -> Vec<String> {
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').nth(i).unwrap().to_string())
        .collect()
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_string()
}

#[test]
fn text_input_matches_the_exact_path_in_every_mode() {
    let dir = tempfile::tempdir().unwrap();
    let input = path(dir.path(), "in.txt");
    std::fs::write(&input, format!("# a comment\n\n{}\n", VALUES.join("\n"))).unwrap();
    for mode in ["rne", "rtz", "rup", "sr", "sr:3", "sr-eq"] {
        for (fmt, extra) in [("e4m3", None), ("e5m2", Some("--saturate")), ("bf16", None)] {
            let mut exact_args = vec!["round", "-r", mode, "--seed", "5", fmt];
            let mut file_args = exact_args.clone();
            if let Some(e) = extra {
                exact_args.push(e);
                file_args.push(e);
            }
            exact_args.extend(VALUES);
            file_args.extend(["--input", &input]);
            let want = column(&ok(&exact_args), 2);
            let got: Vec<String> = ok(&file_args).lines().map(String::from).collect();
            assert_eq!(got, want, "{fmt} {mode} {extra:?}");
        }
    }
}

#[test]
fn csv_column_in_csv_out_with_codes() {
    let dir = tempfile::tempdir().unwrap();
    let input = path(dir.path(), "in.csv");
    let output = path(dir.path(), "out.csv");
    let mut text = String::from("name,x,other\n");
    for (i, v) in VALUES.iter().enumerate() {
        text.push_str(&format!("v{i},{v},{i}\n"));
    }
    std::fs::write(&input, text).unwrap();
    let args = [
        "round", "-r", "sr", "e4m3", "--input", &input, "--column", "x",
    ];
    let got = ok(&[&args[..], &["--output", &output]].concat());
    assert!(got.is_empty());
    let written = std::fs::read_to_string(&output).unwrap();
    assert_eq!(written.lines().next(), Some("input,hex,value"));
    let exact = ok(&[&["round", "-r", "sr", "e4m3"][..], &VALUES].concat());
    assert_eq!(column(&written, 1), column(&exact, 1), "codes");
    assert_eq!(column(&written, 2), column(&exact, 2), "values");
    // Written atomically: nothing else left in the directory.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn npy_keeps_shape_and_dtype_and_matches_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let input = path(dir.path(), "in.npy");
    let output = path(dir.path(), "out.npy");
    let data: Vec<f64> = (0..24)
        .map(|i| ((i as f32) * 0.37 - 4.0).exp() as f64)
        .collect();
    std::fs::write(&input, npy::write(&data, &[2, 3, 4], true, Dtype::F32)).unwrap();
    ok(&[
        "round", "-r", "sr", "--seed", "2", "bf16", "--input", &input, "--output", &output,
    ]);
    let a = npy::read(&std::fs::read(&output).unwrap(), "out").unwrap();
    assert_eq!(
        (a.shape.clone(), a.fortran_order, a.dtype),
        (vec![2, 3, 4], true, Dtype::F32)
    );
    let fmt = anyfloat::Format::parse("bf16").unwrap();
    let mut want = data.clone();
    let r = anyfloat::Rounding::new("sr".parse().unwrap());
    anyfloat::fast::round_slice(&fmt, &r, anyfloat::rng::derive_key(2, &[]), &mut want).unwrap();
    assert_eq!(a.data, want);
    // A format wider than f32: written as f64, with a note.
    let out = anyfloat(&["round", "e11m30", "--input", &input, "--output", &output]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("writing f64"));
    let a = npy::read(&std::fs::read(&output).unwrap(), "out").unwrap();
    assert_eq!(a.dtype, Dtype::F64);
}

#[test]
fn bad_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let text = path(dir.path(), "bad.txt");
    std::fs::write(&text, "1.5\n2\nabc\n").unwrap();
    fails(&["round", "e4m3", "--input", &text], &["bad.txt:3", "abc"]);
    let csv = path(dir.path(), "t.csv");
    std::fs::write(&csv, "a,b\n1,2\n3,x\n").unwrap();
    fails(
        &["round", "e4m3", "--input", &csv, "--column", "c"],
        &["no column \"c\"", "a, b"],
    );
    fails(
        &["round", "e4m3", "--input", &csv, "--column", "b"],
        &["t.csv:3", "\"x\""],
    );
    fails(&["round", "e4m3", "--input", &csv], &["--column"]);
    let missing = path(dir.path(), "missing.npy");
    fails(&["round", "e4m3", "--input", &missing], &["missing.npy"]);
    let junk = path(dir.path(), "junk.npy");
    std::fs::write(&junk, "not numpy").unwrap();
    fails(&["round", "e4m3", "--input", &junk], &["junk.npy", "magic"]);
    fails(
        &["round", "binary128", "--input", &text],
        &["binary128", "does not fit"],
    );
    fails(&["round", "e4m3", "1.5", "--input", &text], &["--input"]);
}

/// Runs `anyfloat bench <args>` with `--threads 1,2 --reps 1` and returns its CSV rows, after
/// checking the header.
fn bench_rows(args: &[&str], header: &str) -> Vec<Vec<String>> {
    let mut all = vec!["bench"];
    all.extend(args);
    all.extend(["--threads", "1,2", "--reps", "1"]);
    let out = ok(&all);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(header));
    lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

#[test]
fn bench_round_prints_the_csv_table() {
    let rows = bench_rows(
        &[
            "round",
            "--formats",
            "e4m3,bf16",
            "--modes",
            "rne,sr",
            "--n",
            "20000",
        ],
        "format,mode,data,threads,values_per_s,ratio_to_copy",
    );
    assert_eq!(rows.len(), 2 * 2 * 2 * 2);
    for r in &rows {
        assert!(
            ["e4m3", "bfloat16"].contains(&&*r[0]) && ["rne", "sr"].contains(&&*r[1]),
            "{r:?}"
        );
        assert!(
            ["normal", "wide"].contains(&&*r[2]) && ["1", "2"].contains(&&*r[3]),
            "{r:?}"
        );
        assert!(r[4].parse::<f64>().unwrap() > 0.0 && r[5].parse::<f64>().unwrap() > 0.0);
    }
    fails(&["bench", "round", "--threads", "0"], &["--threads 0"]);
    fails(&["bench", "round", "--formats", "e99m1"], &["e99m1"]);
}

#[test]
fn bench_quantize_prints_the_csv_table() {
    let rows = bench_rows(
        &[
            "quantize",
            "--presets",
            "nvfp4,MXINT8",
            "--modes",
            "rne,sr",
            "--n",
            "5000",
        ],
        "preset,mode,threads,values_per_s,plain_values_per_s,ratio_to_plain",
    );
    assert_eq!(rows.len(), 2 * 2 * 2);
    for r in &rows {
        assert!(
            ["nvfp4", "mxint8"].contains(&&*r[0]) && ["rne", "sr"].contains(&&*r[1]),
            "{r:?}"
        );
        assert!(["1", "2"].contains(&&*r[2]), "{r:?}");
        let v: Vec<f64> = r[3..].iter().map(|x| x.parse().unwrap()).collect();
        assert!(v.iter().all(|&x| x > 0.0), "{r:?}");
        // The ratio is the two rates' quotient (rounded to three decimals).
        assert!((v[2] - v[0] / v[1]).abs() < 1e-3 * v[2].max(1.0), "{r:?}");
    }
    fails(&["bench", "quantize", "--threads", "0"], &["--threads 0"]);
    fails(
        &["bench", "quantize", "--presets", "mxfp5"],
        &["\"mxfp5\"", "presets: mxfp8-e4m3"],
    );
    fails(
        &["bench", "quantize", "--n", "0"],
        &["--n must be at least 1"],
    );
}

/// Runs the binary with `ANYFLOAT_ISA` set to `isa` (unset for `None`): (stdout, stderr).
fn with_isa(isa: Option<&str>, args: &[&str]) -> (Vec<u8>, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_anyfloat"));
    cmd.args(args).env_remove("ANYFLOAT_ISA");
    if let Some(isa) = isa {
        cmd.env("ANYFLOAT_ISA", isa);
    }
    let out = cmd.output().expect("the binary runs");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{isa:?} {args:?} failed: {err}");
    (out.stdout, err)
}

/// The instruction set `bench round` reports running with.
fn reported_isa(isa: Option<&str>) -> String {
    let args = [
        "bench",
        "round",
        "--formats",
        "e4m3",
        "--modes",
        "rne",
        "--n",
        "64",
    ];
    let (_, err) = with_isa(
        isa,
        &[&args[..], &["--threads", "1", "--reps", "1"]].concat(),
    );
    let line = err.lines().find(|l| l.starts_with("# instruction set: "));
    line.expect("bench round names its instruction set")[19..].to_string()
}

#[test]
fn every_instruction_set_rounds_and_quantises_alike() {
    // The AVX-512, AVX2 and baseline variants are one source compiled three ways; the
    // differential tests against the core run the best one this CPU has. Here the others
    // (every one the CPU has) must give the same bytes for the slice engine (`round --input`,
    // every mode) and the block quantiser (`quantize`, codes included).
    const ORDER: [&str; 3] = ["baseline", "avx2", "avx512"];
    let best = reported_isa(None);
    let rank = |name: &str| ORDER.iter().position(|n| *n == name).unwrap();
    let available = &ORDER[..=rank(&best)];
    for isa in ORDER {
        let want = ORDER[rank(isa).min(rank(&best))];
        assert_eq!(reported_isa(Some(isa)), want, "ANYFLOAT_ISA={isa}");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_anyfloat"))
        .args(["round", "e4m3", "1"])
        .env("ANYFLOAT_ISA", "sse9")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ANYFLOAT_ISA=sse9: expected"));

    // Every class of f64 (random bit patterns: NaN, Inf, zeros, subnormals, huge), values
    // spread over ±40 binades and Gaussian blocks, in runs long enough for whole vector blocks.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state
    };
    let mut values = Vec::new();
    for i in 0..60_000 {
        let r = next();
        values.push(match i / 4096 % 3 {
            0 => f64::from_bits(r),
            1 => {
                (if r & 1 == 0 { 1.0 } else { -1.0 })
                    * 2f64.powf((r >> 11) as f64 / 2f64.powi(53) * 80.0 - 40.0)
            }
            _ => ((r >> 11) as f64 / 2f64.powi(53) - 0.5) * 8.0,
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let input = path(dir.path(), "in.npy");
    std::fs::write(
        &input,
        npy::write(&values, &[values.len()], false, Dtype::F64),
    )
    .unwrap();
    let finite: Vec<f64> = values
        .iter()
        .map(|v| if v.is_finite() { *v } else { 0.5 })
        .collect();
    let blocks = path(dir.path(), "blocks.npy");
    std::fs::write(
        &blocks,
        npy::write(&finite, &[finite.len() / 32, 32], false, Dtype::F64),
    )
    .unwrap();

    let mut runs = 0;
    for fmt in [
        "e4m3", "e5m2", "bf16", "binary16", "e2m1", "e4m3fnuz", "e11m10", "ue4m3",
    ] {
        for mode in [
            "rne", "rna", "rtz", "rup", "rdn", "rto", "sr", "sr:3", "sr-eq",
        ] {
            let out = path(dir.path(), "out.npy");
            let args = [
                "round", fmt, "-r", mode, "--seed", "3", "--input", &input, "--output", &out,
            ];
            let mut first: Option<Vec<u8>> = None;
            for isa in available {
                let _ = std::fs::remove_file(&out);
                with_isa(Some(isa), &args);
                let bytes = std::fs::read(&out).unwrap();
                assert!(
                    bytes.len() > 8 * values.len(),
                    "round {fmt} -r {mode}: {isa} output"
                );
                match &first {
                    None => first = Some(bytes),
                    Some(f) => assert!(*f == bytes, "round {fmt} -r {mode}: {isa} differs"),
                }
                runs += 1;
            }
        }
    }
    for preset in ["mxfp4", "nvfp4", "mxfp8-e4m3", "mxint8"] {
        for mode in ["rne", "sr", "rtz", "rdn", "rto"] {
            let (out, codes) = (path(dir.path(), "q.npy"), path(dir.path(), "codes.csv"));
            let args = [
                "quantize", preset, &blocks, &out, "-r", mode, "--codes", &codes,
            ];
            let mut first: Option<(Vec<u8>, Vec<u8>)> = None;
            for isa in available {
                let _ = (std::fs::remove_file(&out), std::fs::remove_file(&codes));
                with_isa(Some(isa), &args);
                let got = (std::fs::read(&out).unwrap(), std::fs::read(&codes).unwrap());
                assert!(
                    got.0.len() > 8 * finite.len(),
                    "quantize {preset}: {isa} output"
                );
                match &first {
                    None => first = Some(got),
                    Some(f) => assert!(*f == got, "quantize {preset} -r {mode}: {isa} differs"),
                }
                runs += 1;
            }
        }
    }
    assert_eq!(runs, (8 * 9 + 4 * 5) * available.len());
}
