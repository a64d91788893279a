//! `round --input` (text, CSV, .npy; through the slice engine) against `round VALUE…` (the
//! exact core), and `bench round`; bad input is a clear error naming the file and line.

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

#[test]
fn bench_round_prints_the_csv_table() {
    let out = ok(&[
        "bench",
        "round",
        "--formats",
        "e4m3,bf16",
        "--modes",
        "rne,sr",
        "--n",
        "20000",
        "--threads",
        "1,2",
        "--reps",
        "1",
    ]);
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("format,mode,data,threads,values_per_s,ratio_to_copy")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2 * 2 * 2 * 2);
    for r in &rows {
        assert!(
            ["e4m3", "bfloat16"].contains(&r[0]) && ["rne", "sr"].contains(&r[1]),
            "{r:?}"
        );
        assert!(
            ["normal", "wide"].contains(&r[2]) && ["1", "2"].contains(&r[3]),
            "{r:?}"
        );
        assert!(r[4].parse::<f64>().unwrap() > 0.0 && r[5].parse::<f64>().unwrap() > 0.0);
    }
    fails(&["bench", "round", "--threads", "0"], &["--threads 0"]);
    fails(&["bench", "round", "--formats", "e99m1"], &["e99m1"]);
}
