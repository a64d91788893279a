//! Running the `anyfloat` binary from integration tests: success with its stdout, or failure
//! with exit status 2 and a message that names what was wrong (and never a panic).
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

pub fn anyfloat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anyfloat"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Runs the binary with `input` on its standard input.
pub fn anyfloat_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_anyfloat"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn ok(args: &[&str]) -> String {
    let out = anyfloat(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn fails(args: &[&str], needles: &[&str]) {
    let out = anyfloat(args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?} should fail with status 2"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in needles {
        assert!(
            err.contains(needle),
            "{args:?}: stderr lacks {needle:?}:\n{err}"
        );
    }
    assert!(!err.contains("panicked"), "{args:?} panicked:\n{err}");
}
