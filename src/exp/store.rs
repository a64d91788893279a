//! The results directory of a run: one file per finished grid point (so an interrupted or
//! sharded run loses nothing), the assembled CSVs, the figures and `manifest.json`.
//! Every file is written atomically: to a temporary name, then renamed.
//!
//! ```text
//! results/<name>/
//!   points/recipe.sha256     the recipe the points belong to
//!   points/000042.csv        rows of grid point 42
//!   <table>.csv              assembled outputs (the experiment names them)
//!   <figure>.png, .svg
//!   manifest.json
//! ```

use super::table::Table;
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically (temporary file in the same directory, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io =
        |what: &str, e: std::io::Error| Error::Invalid(format!("{what} {}: {e}", path.display()));
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io("creating the directory of", e))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| io("writing", e))?;
    std::fs::rename(&tmp, path).map_err(|e| io("renaming into", e))
}

/// SHA-256 of a text, in hex.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A results directory.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store at `dir` for a recipe with hash `recipe_hash`: creates it, or checks that the
    /// points already there belong to the same recipe.
    pub fn open(dir: &Path, recipe_hash: &str) -> Result<Store> {
        let store = Store {
            dir: dir.to_path_buf(),
        };
        let stamp = store.points_dir().join("recipe.sha256");
        match std::fs::read_to_string(&stamp) {
            Ok(existing) if existing.trim() == recipe_hash => {}
            Ok(existing) => {
                return Err(Error::Invalid(format!(
                    "{} holds points of another recipe (sha256 {}…, this one is {}…); \
                     use another --out directory or delete it",
                    dir.display(),
                    &existing.trim()[..existing.trim().len().min(12)],
                    &recipe_hash[..12]
                )));
            }
            Err(_) => write_atomic(&stamp, format!("{recipe_hash}\n").as_bytes())?,
        }
        Ok(store)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn points_dir(&self) -> PathBuf {
        self.dir.join("points")
    }

    fn point_path(&self, index: usize) -> PathBuf {
        self.points_dir().join(format!("{index:06}.csv"))
    }

    /// Whether grid point `index` is done.
    pub fn has_point(&self, index: usize) -> bool {
        self.point_path(index).is_file()
    }

    /// Records the rows of grid point `index`.
    pub fn save_point(&self, index: usize, rows: &Table) -> Result<()> {
        write_atomic(&self.point_path(index), rows.to_csv().as_bytes())
    }

    /// The rows of every point, in index order; an error lists missing points.
    pub fn load_points(&self, count: usize) -> Result<Table> {
        let missing: Vec<usize> = (0..count).filter(|&i| !self.has_point(i)).collect();
        if !missing.is_empty() {
            let shown: Vec<String> = missing.iter().take(10).map(|i| i.to_string()).collect();
            return Err(Error::Invalid(format!(
                "{} of {count} grid points are not done yet (e.g. {}); run the remaining shards, then `anyfloat merge {}`",
                missing.len(),
                shown.join(", "),
                self.dir.display()
            )));
        }
        let mut all = Table::default();
        for i in 0..count {
            all.extend(Table::read(&self.point_path(i))?)?;
        }
        Ok(all)
    }

    /// Copies the point files of another store (a shard's directory) into this one.
    pub fn absorb(&self, other: &Path, recipe_hash: &str) -> Result<usize> {
        let theirs = Store::open(other, recipe_hash)?;
        let mut copied = 0;
        let entries = std::fs::read_dir(theirs.points_dir()).map_err(|e| {
            Error::Invalid(format!("reading {}: {e}", theirs.points_dir().display()))
        })?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(index) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".csv"))
                .and_then(|n| n.parse::<usize>().ok())
            else {
                continue;
            };
            if !self.has_point(index) {
                let bytes = std::fs::read(entry.path()).map_err(|e| {
                    Error::Invalid(format!("reading {}: {e}", entry.path().display()))
                })?;
                write_atomic(&self.point_path(index), &bytes)?;
                copied += 1;
            }
        }
        Ok(copied)
    }

    /// Writes an output table as `<name>` under the directory.
    pub fn write_table(&self, name: &str, table: &Table) -> Result<PathBuf> {
        let path = self.dir.join(name);
        write_atomic(&path, table.to_csv().as_bytes())?;
        Ok(path)
    }
}
