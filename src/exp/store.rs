//! The results directory of a run: one file per finished grid point (so an interrupted or
//! sharded run loses nothing), the assembled CSVs, the figures and `manifest.json`.
//! Every file is written atomically: to a temporary name, then renamed.
//!
//! ```text
//! results/<name>/
//!   points/recipe.sha256     the recipe the points belong to
//!   points/recipe.toml       its text (for `merge` and `plot`)
//!   points/000042.csv        grid point 42 done: the names of its tables
//!   points/000042.w1.csv     its rows of table `w1`
//!   <table>.csv              assembled outputs (the experiment names them)
//!   <figure>.png, .svg
//!   manifest.json
//! ```

use super::table::Table;
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
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

    fn point_table_path(&self, index: usize, table: &str) -> PathBuf {
        self.points_dir().join(format!("{index:06}.{table}.csv"))
    }

    /// Whether grid point `index` is done.
    pub fn has_point(&self, index: usize) -> bool {
        self.point_path(index).is_file()
    }

    /// Records the tables of grid point `index`; the index file, written last, marks it done.
    pub fn save_point(&self, index: usize, tables: &[(String, Table)]) -> Result<()> {
        let mut listing = Table::new(&["table"]);
        for (name, table) in tables {
            write_atomic(
                &self.point_table_path(index, name),
                table.to_csv().as_bytes(),
            )?;
            listing.push(vec![name.as_str().into()]);
        }
        write_atomic(&self.point_path(index), listing.to_csv().as_bytes())
    }

    /// Every point's tables joined by name, in index order; an error lists missing points.
    pub fn load_points(&self, count: usize) -> Result<BTreeMap<String, Table>> {
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
        let mut all: BTreeMap<String, Table> = BTreeMap::new();
        for i in 0..count {
            let listing = Table::read(&self.point_path(i))?;
            for row in &listing.rows {
                let name = row[0].as_text();
                let table = Table::read(&self.point_table_path(i, &name))?;
                all.entry(name).or_default().extend(table)?;
            }
        }
        Ok(all)
    }

    /// Copies the points of another store (a shard's directory) into this one.
    pub fn absorb(&self, other: &Path, recipe_hash: &str) -> Result<usize> {
        let theirs = Store::open(other, recipe_hash)?;
        let read = |path: &Path| {
            std::fs::read(path)
                .map_err(|e| Error::Invalid(format!("reading {}: {e}", path.display())))
        };
        let entries = std::fs::read_dir(theirs.points_dir()).map_err(|e| {
            Error::Invalid(format!("reading {}: {e}", theirs.points_dir().display()))
        })?;
        let mut copied = 0;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(index) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".csv"))
                .filter(|n| !n.contains('.'))
                .and_then(|n| n.parse::<usize>().ok())
            else {
                continue;
            };
            if self.has_point(index) || !theirs.has_point(index) {
                continue;
            }
            let listing = Table::read(&theirs.point_path(index))?;
            for row in &listing.rows {
                let table = row[0].as_text();
                write_atomic(
                    &self.point_table_path(index, &table),
                    &read(&theirs.point_table_path(index, &table))?,
                )?;
            }
            write_atomic(&self.point_path(index), &read(&theirs.point_path(index))?)?;
            copied += 1;
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
