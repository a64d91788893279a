//! The experiment runner: recipe → grid points → rows → CSV, figures and a manifest.
//!
//! Each grid point runs independently with its own random stream, keyed by (recipe seed,
//! point index), so results do not depend on thread count, order or sharding. Finished points
//! are saved one file each, so an interrupted run resumes and shards merge byte for byte.

pub mod recipe;
pub mod store;
pub mod table;

pub use recipe::{Kind, Param, ParamSpec, Point, Recipe};
pub use table::{Cell, Table};

use crate::error::{Error, Result};
use rayon::prelude::*;
use std::any::Any;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use store::{Store, sha256_hex, write_atomic};

/// State an experiment computes once per run and shares with every grid point (e.g. a
/// reference climate).
pub type Prepared = Box<dyn Any + Send + Sync>;

/// An experiment kind: what it accepts, how it computes one grid point, and what it derives
/// and draws from all of them.
pub trait Experiment: Sync {
    /// The `kind` recipes name it by.
    fn kind(&self) -> &'static str;
    /// One line on what it reproduces.
    fn about(&self) -> &'static str;
    /// The parameters it accepts in `[params]` and `[grid]`.
    fn params(&self) -> Vec<ParamSpec>;
    /// Checks the recipe beyond types (format names, ranges); runs before any computation.
    fn check(&self, _recipe: &Recipe) -> Result<()> {
        Ok(())
    }
    /// Computes what every point shares. Called only when some point still has to run.
    fn prepare(&self, _recipe: &Recipe) -> Result<Prepared> {
        Ok(Box::new(()))
    }
    /// The tables of one grid point, by name (rows of equal-named tables of all points are
    /// joined in point order); random streams derive from `key`.
    fn run_point(
        &self,
        recipe: &Recipe,
        point: &Point,
        key: u64,
        prepared: &Prepared,
    ) -> Result<Vec<(String, Table)>>;
    /// The output files (file name, table) derived from the joined tables.
    fn outputs(
        &self,
        recipe: &Recipe,
        tables: BTreeMap<String, Table>,
    ) -> Result<Vec<(String, Table)>>;
    /// Draws the figures (PNG and SVG) from the outputs into `dir`; returns the files.
    fn figures(
        &self,
        recipe: &Recipe,
        outputs: &[(String, Table)],
        dir: &Path,
    ) -> Result<Vec<PathBuf>>;
}

/// Every experiment kind.
pub fn experiments() -> Vec<&'static dyn Experiment> {
    crate::experiments::all()
}

/// The experiment of a kind.
pub fn find(kind: &str) -> Result<&'static dyn Experiment> {
    experiments()
        .into_iter()
        .find(|e| e.kind() == kind)
        .ok_or_else(|| {
            let kinds: Vec<&str> = experiments().iter().map(|e| e.kind()).collect();
            Error::Invalid(format!(
                "unknown experiment kind {kind:?}; known kinds: {}",
                kinds.join(", ")
            ))
        })
}

/// Reads and checks a recipe file.
pub fn load_recipe(path: &Path) -> Result<(Recipe, &'static dyn Experiment)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Invalid(format!("reading recipe {}: {e}", path.display())))?;
    parse_recipe(&text, &path.display().to_string())
}

fn parse_recipe(text: &str, origin: &str) -> Result<(Recipe, &'static dyn Experiment)> {
    let (_, kind, _, _) = Recipe::parse_header(text, origin)?;
    let exp = find(&kind).map_err(|e| Error::Invalid(format!("{origin}: {e}")))?;
    let recipe = Recipe::parse(text, origin, &exp.params())?;
    exp.check(&recipe)
        .map_err(|e| Error::Invalid(format!("{origin}: {e}")))?;
    Ok((recipe, exp))
}

/// How to run a recipe.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Output directory (default `results/<name>`).
    pub out: Option<PathBuf>,
    /// Run only points with `index % n == i`: `Some((i, n))`.
    pub shard: Option<(usize, usize)>,
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The output directory.
    pub dir: PathBuf,
    /// Points computed by this run.
    pub computed: usize,
    /// Points that were already done.
    pub reused: usize,
    /// Points in the whole grid.
    pub total: usize,
    /// Files written (empty when points are still missing).
    pub files: Vec<PathBuf>,
}

/// Runs a recipe: the pending points of this shard, then, if every point is done, the outputs.
pub fn run(recipe_path: &Path, opts: &RunOptions) -> Result<RunReport> {
    let started = Instant::now();
    let (recipe, exp) = load_recipe(recipe_path)?;
    let dir = opts
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&recipe.name));
    let store = open_store(&dir, &recipe)?;
    let points = recipe.points();
    let mine: Vec<&Point> = match opts.shard {
        Some((i, n)) => points.iter().filter(|p| p.index % n == i).collect(),
        None => points.iter().collect(),
    };
    let pending: Vec<&Point> = mine
        .iter()
        .copied()
        .filter(|p| !store.has_point(p.index))
        .collect();
    let threads = opts
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if !pending.is_empty() {
        let prepared = exp.prepare(&recipe)?;
        let bar = progress_bar(opts.progress, pending.len());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::Invalid(format!("starting {threads} threads: {e}")))?;
        pool.install(|| {
            pending.par_iter().try_for_each(|p| {
                let key = crate::rng::derive_key(recipe.seed, &[p.index as u64]);
                let tables = exp.run_point(&recipe, p, key, &prepared).map_err(|e| {
                    Error::Invalid(format!("grid point {} ({}): {e}", p.index, describe(p)))
                })?;
                store.save_point(p.index, &tables)?;
                if let Some(bar) = &bar {
                    bar.inc(1);
                }
                Ok::<(), Error>(())
            })
        })?;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
    }
    let all_done = points.iter().all(|p| store.has_point(p.index));
    let files = if all_done {
        assemble(&recipe, exp, &store, started, threads, pending.len())?
    } else {
        Vec::new()
    };
    Ok(RunReport {
        dir,
        computed: pending.len(),
        reused: mine.len() - pending.len(),
        total: points.len(),
        files,
    })
}

/// Combines the points of shard directories into `dir` (which may itself hold some) and
/// writes the outputs.
pub fn merge(dir: &Path, shards: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let started = Instant::now();
    let recipe_file = dir.join("points").join("recipe.toml");
    let text = std::fs::read_to_string(&recipe_file).map_err(|e| {
        Error::Invalid(format!(
            "{} is not a results directory (reading {}: {e})",
            dir.display(),
            recipe_file.display()
        ))
    })?;
    let (recipe, exp) = parse_recipe(&text, &recipe_file.display().to_string())?;
    let store = open_store(dir, &recipe)?;
    for shard in shards {
        store.absorb(shard, &sha256_hex(&recipe.text))?;
    }
    assemble(&recipe, exp, &store, started, 1, 0)
}

/// Redraws the figures of a finished run from its CSV files.
pub fn plot(dir: &Path) -> Result<Vec<PathBuf>> {
    let recipe_file = dir.join("points").join("recipe.toml");
    let text = std::fs::read_to_string(&recipe_file).map_err(|e| {
        Error::Invalid(format!(
            "{} is not a results directory ({e})",
            dir.display()
        ))
    })?;
    let (recipe, exp) = parse_recipe(&text, &recipe_file.display().to_string())?;
    let manifest = dir.join("manifest.json");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).map_err(|e| {
            Error::Invalid(format!(
                "reading {}: {e} (has the run finished?)",
                manifest.display()
            ))
        })?)
        .map_err(|e| Error::Invalid(format!("{}: {e}", manifest.display())))?;
    let names: Vec<String> = m["outputs"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let outputs = names
        .into_iter()
        .map(|n| Table::read(&dir.join(&n)).map(|t| (n, t)))
        .collect::<Result<Vec<_>>>()?;
    exp.figures(&recipe, &outputs, dir)
}

fn open_store(dir: &Path, recipe: &Recipe) -> Result<Store> {
    let hash = sha256_hex(&recipe.text);
    let store = Store::open(dir, &hash)?;
    let copy = dir.join("points").join("recipe.toml");
    if !copy.is_file() {
        write_atomic(&copy, recipe.text.as_bytes())?;
    }
    Ok(store)
}

/// Writes the outputs, figures and manifest from the stored points. The manifest's timing is
/// this invocation's: its wall time and the `points_computed` in it (a resumed or merged run
/// computed fewer than all, or none).
fn assemble(
    recipe: &Recipe,
    exp: &dyn Experiment,
    store: &Store,
    started: Instant,
    threads: usize,
    computed: usize,
) -> Result<Vec<PathBuf>> {
    let points = recipe.points();
    let tables = store.load_points(points.len())?;
    let outputs = exp.outputs(recipe, tables)?;
    let mut files = Vec::new();
    for (name, table) in &outputs {
        files.push(store.write_table(name, table)?);
    }
    files.extend(exp.figures(recipe, &outputs, store.dir())?);
    let manifest = serde_json::json!({
        "name": recipe.name,
        "kind": recipe.kind,
        "description": recipe.description,
        "recipe": recipe.text,
        "recipe_sha256": sha256_hex(&recipe.text),
        "seed": recipe.seed,
        "points": points.len(),
        "crate_version": env!("CARGO_PKG_VERSION"),
        "git_revision": git_revision(),
        "outputs": outputs.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        "figures": files.iter().skip(outputs.len()).filter_map(|f| f.file_name()?.to_str().map(str::to_string)).collect::<Vec<_>>(),
        "timing": {
            "wall_time_s": started.elapsed().as_secs_f64(),
            "threads": threads,
            "points_computed": computed,
        },
    });
    let path = store.dir().join("manifest.json");
    let text = serde_json::to_string_pretty(&manifest).expect("JSON of plain values") + "\n";
    write_atomic(&path, text.as_bytes())?;
    files.push(path);
    Ok(files)
}

fn describe(p: &Point) -> String {
    p.values
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn git_revision() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn progress_bar(wanted: bool, len: usize) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !wanted || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} points  {per_sec}  eta {eta}",
        )
        .expect("valid template"),
    );
    Some(bar)
}
