//! The experiment runner end to end: outputs, sharding and merging, resuming, thread-count
//! independence, and clear errors for bad recipes.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const RECIPE: &str = r#"
name = "runner_test"
kind = "rounding_error"
seed = 7
[params]
samples = 2000
[grid]
format = ["e4m3", "bf16", "e11m10"]
rounding = ["rne", "sr", "sr:4"]
"#;

fn anyfloat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anyfloat"))
        .args(args)
        .output()
        .expect("runs")
}

fn ok(args: &[&str]) -> String {
    let out = anyfloat(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn err(args: &[&str]) -> String {
    let out = anyfloat(args);
    assert!(!out.status.success(), "{args:?} should fail");
    let e = String::from_utf8(out.stderr).unwrap();
    assert!(!e.contains("panicked"), "{e}");
    e
}

fn write_recipe(dir: &Path, text: &str) -> String {
    let path = dir.join("recipe.toml");
    fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// The manifest without its timing fields.
fn manifest_sans_timing(dir: &Path) -> serde_json::Value {
    let mut m: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    m.as_object_mut().unwrap().remove("timing");
    m
}

#[test]
fn a_run_writes_csv_figures_and_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let recipe = write_recipe(tmp.path(), RECIPE);
    let out = tmp.path().join("full");
    ok(&["run", &recipe, "--out", out.to_str().unwrap(), "--quiet"]);
    let csv = fs::read_to_string(out.join("errors.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 9);
    assert!(csv.starts_with("format,precision,rounding,distribution,samples,mean_rel_error"));
    for f in ["rounding_error.png", "rounding_error.svg", "manifest.json"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let m = manifest_sans_timing(&out);
    assert_eq!(m["points"], 9);
    assert_eq!(m["recipe"].as_str().unwrap(), RECIPE);
    assert_eq!(m["recipe_sha256"].as_str().unwrap().len(), 64);
    // Redrawing from the CSV works without recomputing.
    fs::remove_file(out.join("rounding_error.png")).unwrap();
    ok(&["plot", out.to_str().unwrap()]);
    assert!(out.join("rounding_error.png").is_file());
}

#[test]
fn merged_shards_equal_an_unsharded_run_byte_for_byte_and_threads_do_not_matter() {
    let tmp = tempfile::tempdir().unwrap();
    let recipe = write_recipe(tmp.path(), RECIPE);
    let full = tmp.path().join("full");
    ok(&[
        "run",
        &recipe,
        "--out",
        full.to_str().unwrap(),
        "--threads",
        "1",
        "-q",
    ]);
    // Shards into separate directories, then merged.
    let shards: Vec<_> = (0..3)
        .map(|i| tmp.path().join(format!("shard{i}")))
        .collect();
    for (i, dir) in shards.iter().enumerate() {
        let text = ok(&[
            "run",
            &recipe,
            "--out",
            dir.to_str().unwrap(),
            "--shard",
            &format!("{i}/3"),
            "--threads",
            "2",
            "-q",
        ]);
        assert!(text.contains("computed 3 point(s)"), "{text}");
        assert!(
            !dir.join("errors.csv").exists(),
            "a lone shard writes no outputs"
        );
    }
    ok(&[
        "merge",
        shards[0].to_str().unwrap(),
        shards[1].to_str().unwrap(),
        shards[2].to_str().unwrap(),
    ]);
    assert_eq!(
        fs::read(full.join("errors.csv")).unwrap(),
        fs::read(shards[0].join("errors.csv")).unwrap()
    );
    assert_eq!(
        manifest_sans_timing(&full),
        manifest_sans_timing(&shards[0])
    );
}

#[test]
fn an_interrupted_run_resumes_from_the_points_already_written() {
    let tmp = tempfile::tempdir().unwrap();
    let recipe = write_recipe(tmp.path(), RECIPE);
    let out = tmp.path().join("run");
    ok(&["run", &recipe, "--out", out.to_str().unwrap(), "-q"]);
    let before = fs::read(out.join("errors.csv")).unwrap();
    // Lose two points and the outputs, as a killed run would.
    fs::remove_file(out.join("points/000002.csv")).unwrap();
    fs::remove_file(out.join("points/000007.errors.csv")).unwrap();
    fs::remove_file(out.join("points/000007.csv")).unwrap();
    fs::remove_file(out.join("errors.csv")).unwrap();
    let text = ok(&["run", &recipe, "--out", out.to_str().unwrap(), "-q"]);
    assert!(
        text.contains("computed 2 point(s), 7 already done"),
        "{text}"
    );
    assert_eq!(fs::read(out.join("errors.csv")).unwrap(), before);
    // The manifest's timing is the resumed invocation's: it says how many points that was.
    let m: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["timing"]["points_computed"], 2);
}

#[test]
fn bad_recipes_are_errors_that_name_the_key_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (
            RECIPE.replace("samples = 2000", "samples = 2000\nsamplez = 3"),
            "recipe.toml:7: unknown parameter \"samplez\"",
        ),
        (
            RECIPE.replace("samples = 2000", "samples = \"many\""),
            "recipe.toml:6: samples: expected an integer, found a string",
        ),
        (
            RECIPE.replace("kind = \"rounding_error\"", "kind = \"nope\""),
            "unknown experiment kind \"nope\"",
        ),
        (
            RECIPE.replace("seed = 7", "speed = 7"),
            "unknown key \"speed\"",
        ),
        (
            RECIPE.replace("\"bf16\"", "\"bf17\""),
            "invalid format \"bf17\"",
        ),
        (
            RECIPE
                .replace("format = [", "format = [[")
                .replace("\"e11m10\"]", "\"e11m10\"]]"),
            "expected a string, found an array",
        ),
        ("name = \"x\"\nkind = ".to_string(), "recipe.toml:2"),
    ];
    for (text, needle) in cases {
        let recipe = write_recipe(tmp.path(), &text);
        let e = err(&[
            "run",
            &recipe,
            "--out",
            tmp.path().join("o").to_str().unwrap(),
        ]);
        assert!(e.contains(needle), "expected {needle:?} in:\n{e}");
    }
    // A results directory belongs to one recipe.
    let recipe = write_recipe(tmp.path(), RECIPE);
    let out = tmp.path().join("owned");
    ok(&["run", &recipe, "--out", out.to_str().unwrap(), "-q"]);
    let other = write_recipe(tmp.path(), &RECIPE.replace("seed = 7", "seed = 8"));
    let e = err(&["run", &other, "--out", out.to_str().unwrap()]);
    assert!(e.contains("holds points of another recipe"), "{e}");
    let e = err(&["run", &recipe, "--shard", "3/3"]);
    assert!(e.contains("invalid shard"), "{e}");
}

#[test]
fn wasserstein_reads_plain_files_and_csv_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.txt");
    let b = tmp.path().join("b.csv");
    fs::write(&a, "# sample A\n0\n1\n").unwrap();
    fs::write(&b, "x,y\n0,5\n0,5\n1,5\n1,5\n1,5\n1,5\n").unwrap();
    let w = ok(&["wasserstein", a.to_str().unwrap(), a.to_str().unwrap()]);
    assert_eq!(w.trim(), "0");
    // A = {0, 1}, B = {0, 0, 1, 1, 1, 1}: W1 = 1/6 (computed by hand).
    fs::write(&a, "x\n0\n1\n").unwrap();
    let w: f64 = ok(&[
        "wasserstein",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--column",
        "x",
    ])
    .trim()
    .parse()
    .unwrap();
    assert!((w - 1.0 / 6.0).abs() < 1e-15, "{w}");
    let e = err(&[
        "wasserstein",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--column",
        "z",
    ]);
    assert!(e.contains("no column \"z\""), "{e}");
}

/// Regression: the grid used to come out in alphabetical key order, not the file's.
#[test]
fn grid_points_follow_the_file_order_with_the_last_key_fastest() {
    let text = "name = \"g\"\nkind = \"rounding_error\"\nseed = 1\n[grid]\nrounding = [\"rne\", \"sr\"]\nformat = [\"e4m3\", \"bf16\", \"e5m2\"]\n";
    let exp = anyfloat::exp::find("rounding_error").unwrap();
    let recipe = anyfloat::exp::Recipe::parse(text, "g.toml", &exp.params()).unwrap();
    let points: Vec<String> = recipe
        .points()
        .iter()
        .map(|p| {
            p.values
                .iter()
                .map(|(_, v)| v.to_string())
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    assert_eq!(
        points,
        [
            "rne/e4m3", "rne/bf16", "rne/e5m2", "sr/e4m3", "sr/bf16", "sr/e5m2"
        ]
    );
}
