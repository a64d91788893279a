//! The files in `reference/` stay oracle-true: every file listed in `reference/README.md` has
//! the listed SHA-256 checksums (compressed and uncompressed) and line count, equals byte for
//! byte what `anyfloat gen … --level all --oracle` writes today, and every line is what the
//! library's arithmetic (`Op::apply`, as `anyfloat verify` uses it) computes, NaN encodings
//! included. Every file in the directory is listed.

use anyfloat::arith::Op;
use anyfloat::vectors;
use anyfloat::{Format, Rounding, RoundingMode};
use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Entry {
    file: String,
    lines: usize,
    text_sha: String,
    gzip_sha: String,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("reference")
}

/// The checksum table of the README.
fn entries() -> Vec<Entry> {
    let readme = std::fs::read_to_string(dir().join("README.md")).unwrap();
    readme
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains(".txt.gz"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            Entry {
                file: cells[1].to_string(),
                lines: cells[2].parse().unwrap(),
                text_sha: cells[3].to_string(),
                gzip_sha: cells[4].to_string(),
            }
        })
        .collect()
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn every_reference_file_is_listed() {
    let listed: Vec<String> = entries().into_iter().map(|e| e.file).collect();
    assert_eq!(
        listed.len(),
        16,
        "e4m3 and e5m2 × add, mul, div, sqrt × rne, rtz"
    );
    let mut present: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "README.md")
        .collect();
    present.sort();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(present, sorted);
}

#[test]
fn reference_files_are_oracle_true_and_library_true() {
    for e in entries() {
        let gz = std::fs::read(dir().join(&e.file)).unwrap();
        assert_eq!(sha256(&gz), e.gzip_sha, "{}: gzip checksum", e.file);
        let mut text = Vec::new();
        GzDecoder::new(&gz[..]).read_to_end(&mut text).unwrap();
        assert_eq!(sha256(&text), e.text_sha, "{}: text checksum", e.file);
        let text = String::from_utf8(text).unwrap();
        assert_eq!(text.lines().count(), e.lines, "{}", e.file);

        // <format>-<op>-<mode>.txt.gz
        let stem = e.file.strip_suffix(".txt.gz").unwrap();
        let parts: Vec<&str> = stem.split('-').collect();
        let (name, op_name, mode) = (parts[0], parts[1], parts[2]);

        // The oracle, through the documented command.
        let out = Command::new(env!("CARGO_BIN_EXE_anyfloat"))
            .args(["gen", name, op_name, "--level", "all", "--oracle"])
            .args(["--rounding", mode])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stdout == text.as_bytes(),
            "{}: the oracle now writes different vectors",
            e.file
        );

        // The library's arithmetic, line by line.
        let fmt = Format::parse(name).unwrap();
        let op = Op::parse(op_name).unwrap();
        let rounding = Rounding::new(mode.parse::<RoundingMode>().unwrap());
        for (n, line) in text.lines().enumerate() {
            let case = vectors::parse_line(&op, &fmt, line, false).unwrap();
            let got = vectors::recompute(&op, &fmt, &case, &rounding).unwrap();
            assert!(
                vectors::matches(&op, &fmt, &case.result, &got, true),
                "{} line {}: {line}: the library gives {:#x} [{}]",
                e.file,
                n + 1,
                got.value,
                got.flags
            );
        }
    }
}
