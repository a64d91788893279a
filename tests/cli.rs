//! The command line: golden output for the core subcommands, clear errors for bad input.

mod cli_support;

use cli_support::{anyfloat_stdin, fails, ok};

#[test]
fn table_lists_every_e2m1_code() {
    let expected = "\
code,hex,class,value
0,0x0,zero,0
1,0x1,subnormal,0.5
2,0x2,normal,1
3,0x3,normal,1.5
4,0x4,normal,2
5,0x5,normal,3
6,0x6,normal,4
7,0x7,normal,6
8,0x8,zero,-0
9,0x9,subnormal,-0.5
10,0xa,normal,-1
11,0xb,normal,-1.5
12,0xc,normal,-2
13,0xd,normal,-3
14,0xe,normal,-4
15,0xf,normal,-6
";
    assert_eq!(ok(&["table", "e2m1"]), expected);
}

#[test]
fn table_shows_specials_of_e5m2_and_scientific_notation_when_tiny() {
    let out = ok(&["table", "e5m2"]);
    assert_eq!(out.lines().count(), 257);
    assert!(out.contains("\n1,0x01,subnormal,0.0000152587890625\n"));
    assert!(out.contains("\n124,0x7c,inf,inf\n"));
    assert!(out.contains("\n125,0x7d,nan,nan\n"));
    assert!(out.contains("\n252,0xfc,inf,-inf\n"));
    let bf16 = ok(&["table", "bf16"]);
    assert!(
        bf16.contains("\n1,0x0001,subnormal,9.183549615799121e-41\n"),
        "scientific for tiny values"
    );
}

#[test]
fn round_prints_one_csv_line_per_value() {
    let expected = "\
input,hex,value,flags
300,0x79,288,inexact
448,0x7e,448,-
464,0x7e,448,inexact
465,0x7f,nan,inexact|overflow
-1e-9,0x80,-0,inexact|underflow
nan,0x7f,nan,-
-inf,0x7f,nan,invalid
";
    assert_eq!(
        ok(&[
            "round", "e4m3", "300", "448", "464", "465", "-1e-9", "nan", "-inf"
        ]),
        expected
    );
    let sat = ok(&["round", "e4m3", "--saturate", "1e9", "-inf"]);
    assert_eq!(
        sat,
        "input,hex,value,flags\n1e9,0x7e,448,inexact|overflow\n-inf,0xfe,-448,inexact|overflow\n"
    );
    let rtz = ok(&["round", "-r", "rtz", "e5m2", "1e9"]);
    assert_eq!(
        rtz,
        "input,hex,value,flags\n1e9,0x7b,57344,inexact|overflow\n"
    );
    let ftz = ok(&["round", "--no-subnormals", "binary16", "3e-8", "6e-5"]);
    assert_eq!(
        ftz,
        "input,hex,value,flags\n3e-8,0x0000,0,inexact|underflow\n6e-5,0x0400,0.00006103515625,inexact|underflow\n"
    );
}

#[test]
fn round_parses_decimals_exactly_for_binary128() {
    let out = ok(&["round", "binary128", "0.1"]);
    assert_eq!(
        out,
        "input,hex,value,flags\n0.1,0x3ffb999999999999999999999999999a,1.00000000000000000000000000000000005e-1,inexact\n"
    );
}

#[test]
fn round_reads_stdin_and_reports_the_bad_line() {
    let out = anyfloat_stdin(&["round", "e2m1"], "1.5\n\n# comment\n2.25\n");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "input,hex,value,flags\n1.5,0x3,1.5,-\n2.25,0x4,2,inexact\n"
    );
    let out = anyfloat_stdin(&["round", "e2m1"], "1\nfoo\n");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("stdin line 2") && err.contains("\"foo\""),
        "{err}"
    );
}

#[test]
fn stochastic_round_is_reproducible_from_the_seed() {
    let args = [
        "round", "-r", "sr", "--seed", "9", "e4m3", "1.01", "1.01", "1.01", "1.01", "1.01", "1.01",
    ];
    let a = ok(&args);
    assert_eq!(a, ok(&args));
    let values: Vec<&str> = a
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    assert!(
        values.iter().all(|v| *v == "1" || *v == "1.125"),
        "{values:?}"
    );
}

#[test]
fn info_reports_the_format_parameters() {
    let out = ok(&["info", "e4m3"]);
    for line in [
        "bias:          7",
        "emin:          -6",
        "emax:          8",
        "precision:     4",
        "max_finite:    448 (0x7e)",
        "min_normal:    0.015625 (0x08)",
        "min_subnormal: 0.001953125 (0x01)",
        "epsilon:       0.125",
        "nan:           0x7f",
        "inf:           none",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["info", "--json", "binary8p3"])).unwrap();
    assert_eq!(json["max_finite"], "49152 (0x7e)");
    assert_eq!(json["inf"], "0x7f");
}

#[test]
fn decode_and_encode_show_the_bit_fields() {
    assert_eq!(
        ok(&["decode", "e5m2", "0x7c", "7d", "0x80"]),
        "hex,fields,class,value\n0x7c,0 11111 00,inf,inf\n0x7d,0 11111 01,nan,nan\n0x80,1 00000 00,zero,-0\n"
    );
    assert_eq!(
        ok(&["encode", "bf16", "0.1", "-0"]),
        "input,hex,fields,value,flags\n0.1,0x3dcd,0 01111011 1001101,0.10009765625,inexact\n-0,0x8000,1 00000000 0000000,-0,-\n"
    );
}

#[test]
fn formats_lists_every_named_format() {
    let out = ok(&["formats"]);
    for name in [
        "binary16",
        "bfloat16",
        "e4m3",
        "e8m0",
        "ue5m3fn",
        "binary8p7",
        "OCP",
    ] {
        assert!(out.contains(name), "{name}");
    }
    let csv = ok(&["formats", "--csv"]);
    assert!(csv.starts_with("name,aliases,E,M,bias,bits,signed,encoding,max,"));
}

#[test]
fn bad_input_is_a_clear_error_not_a_panic() {
    fails(&["info", "e0m3"], &["exponent width"]);
    fails(&["round", "e40m10", "1"], &["accepted format names"]);
    fails(&["round", "e4m3xyz", "1"], &["unknown suffix"]);
    fails(&["round", "e4m3", "1.2.3"], &["\"1.2.3\""]);
    fails(
        &["round", "e4m3", "--rounding", "nearest-odd", "1"],
        &["expected one of"],
    );
    fails(&["round", "e4m3", "-r", "sr:65", "1"], &["sr:<bits>"]);
    fails(&["table", "binary32"], &["at most 16 bits"]);
    fails(&["decode", "e4m3", "0x100"], &["does not fit in 8 bits"]);
    fails(&["decode", "e4m3", "zz"], &["hex code"]);
    fails(&["encode", "e4m3", "1e"], &["decimal exponent"]);
    fails(&["frobnicate"], &["unrecognized subcommand"]);
}

#[test]
fn gen_writes_testfloat_lines_that_verify_accepts() {
    let lines = ok(&["gen", "e4m3", "add", "--level", "all"]);
    assert_eq!(lines.lines().count(), 65536);
    // 1 + 1/16: the tie goes to even (1), inexact.
    assert!(lines.contains("\n38 18 38 01\n"), "1 + 0.0625 in e4m3");
    let out = anyfloat_stdin(&["verify", "e4m3", "add"], &lines);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "65536 passed, 0 failed\n"
    );
}

#[test]
fn verify_reports_mismatches_and_malformed_lines_with_their_numbers() {
    let input = "38 38 40 01\nzz\n38 38 40 00\n7e 7e 7f 05\n";
    let out = anyfloat_stdin(&["verify", "e4m3", "add"], input);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "line 1: add(0x38 (1), 0x38 (1)): expected 0x40 (2) [-], got 0x40 (2) [inexact]"
        ),
        "{text}"
    );
    assert!(
        text.contains("line 2: malformed: expected 4 fields"),
        "{text}"
    );
    assert!(text.ends_with("2 passed, 2 failed\n"), "{text}");
}

#[test]
fn verify_accepts_any_nan_unless_asked_to_check_nans() {
    // 0/0 in binary16: the default NaN is 0x7e00; 0x7fff is another quiet NaN.
    let line = "0000 0000 7fff 10\n";
    let out = anyfloat_stdin(&["verify", "binary16", "div"], line);
    assert!(out.status.success());
    let out = anyfloat_stdin(&["verify", "binary16", "div", "--check-nans"], line);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn stochastic_vectors_carry_their_random_words_and_replay() {
    let lines = ok(&[
        "gen", "bf16", "mul", "-r", "sr:8", "--count", "200", "--seed", "3",
    ]);
    let first = lines
        .lines()
        .find(|l| l.split(' ').count() == 5 && !l.ends_with(" -"))
        .unwrap();
    assert_eq!(first.split(' ').nth(4).unwrap().len(), 16, "{first}");
    let out = anyfloat_stdin(&["verify", "bf16", "mul", "-r", "sr:8"], &lines);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn calc_shows_the_exact_result_and_flags() {
    let out = ok(&["calc", "binary32", "div", "1", "3"]);
    assert!(out.contains("exact:     3.333333333333333333333333333333333333333e-1 = 0x1.555555555555555555555555555555555555555p-2…"), "{out}");
    assert!(
        out.contains("result:    0x3eaaaaab (0.3333333432674408)"),
        "{out}"
    );
    assert!(out.contains("flags:     inexact (0x01)"), "{out}");
    let out = ok(&["calc", "e4m3", "mul", "0x7e", "-2", "--saturate"]);
    assert!(out.contains("result:    0xfe (-448)"), "{out}");
    assert!(out.contains("inexact|overflow"), "{out}");
    fails(&["calc", "e4m3", "add", "1"], &["takes 2 operand(s)"]);
    fails(&["calc", "e4m3", "frob", "1"], &["unknown operation"]);
    fails(
        &["gen", "binary16", "add", "--level", "all"],
        &["at most 8 bits"],
    );
}

#[test]
fn gen_oracle_writes_the_same_lines_as_the_library() {
    for args in [
        &["gen", "e5m2", "div", "--level", "all", "-r", "rtz"][..],
        &["gen", "binary16", "fma", "--count", "2000", "--saturate"][..],
        &["gen", "bf16", "to_i8", "-r", "rto", "--level", "all"][..],
    ] {
        let library = ok(args);
        let with_oracle: Vec<&str> = args.iter().copied().chain(["--oracle"]).collect();
        assert!(ok(&with_oracle) == library, "{args:?}: --oracle differs");
    }
    fails(
        &["gen", "e4m3", "add", "-r", "sr", "--oracle"],
        &["--oracle"],
    );
    fails(
        &["gen", "e4m3", "add", "-r", "sr-eq", "--oracle"],
        &["rne, rna"],
    );
}
