//! Recipes: the TOML file that holds the whole of an experiment — its kind, seed, fixed
//! parameters and the grid to sweep — checked against what the experiment accepts.
//!
//! ```toml
//! name = "lorenz63"          # output directory results/<name>
//! kind = "lorenz63"          # which experiment runs it
//! seed = 1                   # every random stream derives from (seed, grid point)
//! description = "…"          # optional
//!
//! [params]                   # fixed parameters (defaults apply to those left out)
//! dt = 0.01
//!
//! [grid]                     # swept: the cartesian product, last key fastest
//! sbits = [4, 8, 16]
//! rounding = ["rne", "sr"]
//! ```

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::fmt;
use toml::de::{DeTable, DeValue};

/// A parameter value.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Text(String),
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Param::Int(i) => write!(f, "{i}"),
            Param::Float(x) => f.write_str(&crate::codec::shortest(*x)),
            Param::Bool(b) => write!(f, "{b}"),
            Param::Text(s) => f.write_str(s),
        }
    }
}

/// The type a parameter must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An integer.
    Int,
    /// A number (integers are accepted).
    Float,
    /// true or false.
    Bool,
    /// A string.
    Text,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Int => "an integer",
            Kind::Float => "a number",
            Kind::Bool => "true or false",
            Kind::Text => "a string",
        })
    }
}

/// A parameter an experiment accepts.
#[derive(Clone, Debug)]
pub struct ParamSpec {
    /// Key in `[params]` / `[grid]`.
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Its default; None means the recipe must give it.
    pub default: Option<Param>,
    /// What it means (with units and source).
    pub doc: &'static str,
}

impl ParamSpec {
    /// A parameter with a default.
    pub fn new(name: &'static str, default: Param, doc: &'static str) -> ParamSpec {
        let kind = match default {
            Param::Int(_) => Kind::Int,
            Param::Float(_) => Kind::Float,
            Param::Bool(_) => Kind::Bool,
            Param::Text(_) => Kind::Text,
        };
        ParamSpec {
            name,
            kind,
            default: Some(default),
            doc,
        }
    }
}

/// A parsed, checked recipe.
#[derive(Clone, Debug)]
pub struct Recipe {
    /// The file's text, kept verbatim for the manifest.
    pub text: String,
    /// Output name.
    pub name: String,
    /// Experiment kind.
    pub kind: String,
    /// Seed of every random stream.
    pub seed: u64,
    /// Free text.
    pub description: String,
    /// Fixed parameters, defaults filled in.
    pub params: BTreeMap<String, Param>,
    /// Swept parameters in file order.
    pub grid: Vec<(String, Vec<Param>)>,
}

/// One point of the grid: its index and swept values.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// Position in the cartesian product (stable across runs and shards).
    pub index: usize,
    /// The swept parameters' values at this point.
    pub values: Vec<(String, Param)>,
}

impl Recipe {
    /// Parses `text` (from `origin`, for messages) and checks it against `specs`.
    /// Unknown keys and wrong types are errors naming the key and its line.
    pub fn parse(text: &str, origin: &str, specs: &[ParamSpec]) -> Result<Recipe> {
        let header = Recipe::parse_header(text, origin)?;
        let root = DeTable::parse(text).map_err(|e| toml_error(text, origin, &e))?;
        let line = |span: std::ops::Range<usize>| {
            1 + text[..span.start.min(text.len())].matches('\n').count()
        };
        let err = |span: std::ops::Range<usize>, msg: String| {
            Error::Invalid(format!("{origin}:{}: {msg}", line(span)))
        };
        let mut params = BTreeMap::new();
        let mut grid = Vec::new();
        for (key, value) in root.get_ref() {
            let k = key.get_ref().as_ref();
            match k {
                "name" | "kind" | "seed" | "description" => {}
                "params" | "grid" => {
                    let DeValue::Table(table) = value.get_ref() else {
                        return Err(err(key.span(), format!("[{k}] must be a table")));
                    };
                    // The map is sorted by key; the grid's order is the file's (last key fastest).
                    let mut entries: Vec<_> = table.iter().collect();
                    entries.sort_by_key(|(k, _)| k.span().start);
                    for (pkey, pvalue) in entries {
                        let pname = pkey.get_ref().as_ref();
                        let Some(spec) = specs.iter().find(|s| s.name == pname) else {
                            let known: Vec<&str> = specs.iter().map(|s| s.name).collect();
                            return Err(err(
                                pkey.span(),
                                format!(
                                    "unknown parameter {pname:?} in [{k}]; {} accepts: {}",
                                    header.1,
                                    known.join(", ")
                                ),
                            ));
                        };
                        if k == "params" {
                            let v = convert(pvalue.get_ref(), spec.kind)
                                .map_err(|m| err(pvalue.span(), format!("{pname}: {m}")))?;
                            params.insert(pname.to_string(), v);
                        } else {
                            let DeValue::Array(items) = pvalue.get_ref() else {
                                return Err(err(
                                    pvalue.span(),
                                    format!("[grid] {pname} must be an array of values to sweep"),
                                ));
                            };
                            if items.is_empty() {
                                return Err(err(pvalue.span(), format!("[grid] {pname} is empty")));
                            }
                            let values = items
                                .iter()
                                .map(|item| {
                                    convert(item.get_ref(), spec.kind)
                                        .map_err(|m| err(item.span(), format!("{pname}: {m}")))
                                })
                                .collect::<Result<Vec<Param>>>()?;
                            if params.contains_key(pname) {
                                return Err(err(
                                    pkey.span(),
                                    format!(
                                        "{pname} is both fixed in [params] and swept in [grid]"
                                    ),
                                ));
                            }
                            grid.push((pname.to_string(), values));
                        }
                    }
                }
                other => unreachable!("parse_header rejects the unknown key {other:?}"),
            }
        }
        for spec in specs {
            let given = params.contains_key(spec.name) || grid.iter().any(|(n, _)| n == spec.name);
            if !given {
                match &spec.default {
                    Some(d) => {
                        params.insert(spec.name.to_string(), d.clone());
                    }
                    None => {
                        return Err(Error::Invalid(format!(
                            "{origin}: missing parameter {:?} ({}: {})",
                            spec.name, spec.kind, spec.doc
                        )));
                    }
                }
            }
        }
        let (name, kind, seed, description) = header;
        Ok(Recipe {
            text: text.to_string(),
            name,
            kind,
            seed,
            description,
            params,
            grid,
        })
    }

    /// Reads just `name`, `kind`, `seed` and `description` (to find the experiment before the
    /// parameters can be checked).
    pub fn parse_header(text: &str, origin: &str) -> Result<(String, String, u64, String)> {
        let root = DeTable::parse(text).map_err(|e| toml_error(text, origin, &e))?;
        for (key, _) in root.get_ref() {
            let k = key.get_ref().as_ref();
            if !["name", "kind", "seed", "description", "params", "grid"].contains(&k) {
                let line = 1 + text[..key.span().start.min(text.len())]
                    .matches('\n')
                    .count();
                return Err(Error::Invalid(format!(
                    "{origin}:{line}: unknown key {k:?}; a recipe has name, kind, seed, description, [params] and [grid]"
                )));
            }
        }
        let get = |key: &str| {
            root.get_ref()
                .iter()
                .find(|(k, _)| k.get_ref().as_ref() == key)
                .map(|(_, v)| v)
        };
        let text_of = |key: &str, required: bool| -> Result<String> {
            match get(key).map(|v| v.get_ref()) {
                Some(DeValue::String(s)) => Ok(s.to_string()),
                Some(_) => Err(Error::Invalid(format!("{origin}: {key} must be a string"))),
                None if required => Err(Error::Invalid(format!("{origin}: missing {key} = \"…\""))),
                None => Ok(String::new()),
            }
        };
        let name = text_of("name", true)?;
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            || name.starts_with('.')
        {
            return Err(Error::Invalid(format!(
                "{origin}: name {name:?} must be letters, digits, '-', '_' or '.' (it names the output directory)"
            )));
        }
        let kind = text_of("kind", true)?;
        let seed = match get("seed").map(|v| v.get_ref()) {
            Some(DeValue::Integer(i)) => i
                .as_str()
                .parse::<u64>()
                .ok()
                .filter(|_| i.radix() == 10)
                .ok_or_else(|| {
                    Error::Invalid(format!(
                        "{origin}: seed must be a non-negative decimal integer"
                    ))
                })?,
            Some(_) => return Err(Error::Invalid(format!("{origin}: seed must be an integer"))),
            None => {
                return Err(Error::Invalid(format!(
                    "{origin}: missing seed = <integer>"
                )));
            }
        };
        Ok((name, kind, seed, text_of("description", false)?))
    }

    /// Every grid point, in index order (one point if nothing is swept).
    pub fn points(&self) -> Vec<Point> {
        let total: usize = self.grid.iter().map(|(_, v)| v.len()).product();
        (0..total)
            .map(|index| {
                let mut rest = index;
                let mut values = vec![(String::new(), Param::Int(0)); self.grid.len()];
                for (slot, (name, options)) in values.iter_mut().zip(&self.grid).rev() {
                    *slot = (name.clone(), options[rest % options.len()].clone());
                    rest /= options.len();
                }
                Point { index, values }
            })
            .collect()
    }

    /// A parameter's value at a point: swept value, else fixed value or default.
    pub fn get<'a>(&'a self, point: &'a Point, name: &str) -> Result<&'a Param> {
        point
            .values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .or_else(|| self.params.get(name))
            .ok_or_else(|| {
                Error::Invalid(format!("parameter {name:?} is not defined by the recipe"))
            })
    }

    /// A numeric parameter.
    pub fn f64(&self, point: &Point, name: &str) -> Result<f64> {
        match self.get(point, name)? {
            Param::Float(x) => Ok(*x),
            Param::Int(i) => Ok(*i as f64),
            other => Err(Error::Invalid(format!("{name} = {other} is not a number"))),
        }
    }

    /// An integer parameter.
    pub fn i64(&self, point: &Point, name: &str) -> Result<i64> {
        match self.get(point, name)? {
            Param::Int(i) => Ok(*i),
            other => Err(Error::Invalid(format!(
                "{name} = {other} is not an integer"
            ))),
        }
    }

    /// A non-negative integer parameter as usize.
    pub fn usize(&self, point: &Point, name: &str) -> Result<usize> {
        let v = self.i64(point, name)?;
        usize::try_from(v).map_err(|_| Error::Invalid(format!("{name} = {v} must not be negative")))
    }

    /// A string parameter.
    pub fn text<'a>(&'a self, point: &'a Point, name: &str) -> Result<&'a str> {
        match self.get(point, name)? {
            Param::Text(s) => Ok(s),
            other => Err(Error::Invalid(format!("{name} = {other} is not a string"))),
        }
    }

    /// A boolean parameter.
    pub fn bool(&self, point: &Point, name: &str) -> Result<bool> {
        match self.get(point, name)? {
            Param::Bool(b) => Ok(*b),
            other => Err(Error::Invalid(format!(
                "{name} = {other} is not true or false"
            ))),
        }
    }

    /// Every value a parameter takes (its grid values, or its one fixed value).
    pub fn values_of(&self, name: &str) -> Vec<Param> {
        self.grid
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .or_else(|| self.params.get(name).map(|v| vec![v.clone()]))
            .unwrap_or_default()
    }
}

fn convert(v: &DeValue<'_>, kind: Kind) -> std::result::Result<Param, String> {
    let got = match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    };
    let int = |i: &toml::de::DeInteger<'_>| {
        i64::from_str_radix(i.as_str(), i.radix())
            .map_err(|_| format!("{} is out of range", i.as_str()))
    };
    match (kind, v) {
        (Kind::Int, DeValue::Integer(i)) => int(i).map(Param::Int),
        (Kind::Float, DeValue::Integer(i)) => int(i).map(|i| Param::Float(i as f64)),
        (Kind::Float, DeValue::Float(x)) => x
            .as_str()
            .replace('_', "")
            .parse::<f64>()
            .map(Param::Float)
            .map_err(|_| format!("{} is not a number", x.as_str())),
        (Kind::Bool, DeValue::Boolean(b)) => Ok(Param::Bool(*b)),
        (Kind::Text, DeValue::String(s)) => Ok(Param::Text(s.to_string())),
        _ => Err(format!("expected {kind}, found {got}")),
    }
}

fn toml_error(text: &str, origin: &str, e: &toml::de::Error) -> Error {
    let line = e
        .span()
        .map(|s| 1 + text[..s.start.min(text.len())].matches('\n').count())
        .map_or(String::new(), |l| format!(":{l}"));
    Error::Invalid(format!("{origin}{line}: {}", e.message()))
}
