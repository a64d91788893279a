//! `anyfloat ulp`: the report as text, JSON, CSV and figure; clear errors for bad input.

mod cli_support;

use cli_support::{fails, ok};

#[test]
fn json_report_of_emu_sqrt_in_binary16_is_correctly_rounded_everywhere() {
    // Emu's square root is correctly rounded: 0 incorrectly rounded over all 65536 codes.
    let out = ok(&["ulp", "sqrt", "--impl", "emu:binary16", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["inputs"], 65536);
    assert_eq!(v["incorrectly_rounded"], 0);
    assert_eq!(v["max_distance"], 0);
    assert!(v["max_ulp"].as_f64().unwrap() <= 0.5);
    assert!(v["mean_ulp"].as_f64().unwrap() > 0.0);
    assert_eq!(v["format"], "binary16");
    assert!(v["argmax"]["hex"][0].as_str().unwrap().starts_with("0x"));
    assert!(v["definition_ulp"].as_str().unwrap().contains("ulp(f(x))"));
}

#[test]
fn text_report_says_which_definition_and_names_the_worst_input() {
    let out = ok(&[
        "ulp",
        "exp",
        "--samples",
        "20000",
        "--seed",
        "3",
        "--range=-10,10",
    ]);
    assert!(
        out.contains("ULP error (a) = |y - f(x)| / ulp(f(x))"),
        "{out}"
    );
    assert!(out.contains("ULP distance (b)"), "{out}");
    assert!(
        out.contains("20000 inputs in [-10, 10] (sampled, seed 3)"),
        "{out}"
    );
    assert!(out.contains("max   0.5"), "{out}");
    assert!(out.contains("special-case mismatches: none"), "{out}");
    // The same seed gives the same report.
    assert_eq!(
        out,
        ok(&[
            "ulp",
            "exp",
            "--samples",
            "20000",
            "--seed",
            "3",
            "--range=-10,10"
        ])
    );
}

#[test]
fn csv_and_plot_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("b.csv");
    let png = dir.path().join("b.png");
    ok(&[
        "ulp",
        "exp",
        "--impl",
        "emu:bf16",
        "--range",
        "0.5,80",
        "--buckets",
        "20",
        "--csv",
        csv.to_str().unwrap(),
        "--plot",
        png.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "x_lo,x_hi,inputs,measured,max_ulp,mean_ulp,max_distance,incorrectly_rounded"
    );
    assert_eq!(lines.count(), 20);
    assert!(png.is_file() && dir.path().join("b.svg").is_file());
}

#[test]
fn bad_input_is_an_error_naming_it() {
    fails(&["ulp", "exq"], &["exq", "exp, exp2"]);
    fails(&["ulp", "exp", "--impl", "glibc"], &["glibc", "std"]);
    fails(
        &["ulp", "exp", "--format", "binary16"],
        &["binary16", "emu:binary16"],
    );
    fails(&["ulp", "erf"], &["erf", "libm"]);
    fails(&["ulp", "exp", "--range", "5,1"], &["5,1", "A <= B"]);
    fails(&["ulp", "exp", "--range", "x,1"], &["x,1"]);
    fails(&["ulp", "pow", "--exhaustive"], &["2^64", "samples"]);
    fails(
        &["ulp", "exp", "--format", "e4m3", "--impl", "emu:bf16"],
        &["bfloat16", "e4m3"],
    );
    fails(&["ulp", "exp", "--format", "e9m2"], &["e9m2"]);
    fails(
        &["ulp", "exp", "--impl", "emu:binary16", "--range", "1e6,2e6"],
        &["no value"],
    );
    fails(&["ulp", "exp", "--samples", "0"], &["samples"]);
}
