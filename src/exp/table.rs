//! `Table`: long-format rows with named columns, written as CSV byte-for-byte reproducibly.

use crate::error::{Error, Result};
use std::fmt;
use std::path::Path;

/// One CSV cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// An integer.
    Int(i64),
    /// A float, written as its shortest round-trip decimal.
    Float(f64),
    /// Text.
    Text(String),
}

impl Cell {
    /// The cell as f64 (integers convert; text parses or is NaN).
    pub fn as_f64(&self) -> f64 {
        match self {
            Cell::Int(i) => *i as f64,
            Cell::Float(x) => *x,
            Cell::Text(s) => s.parse().unwrap_or(f64::NAN),
        }
    }
    /// The cell as text.
    pub fn as_text(&self) -> String {
        self.to_string()
    }
    fn parse(s: &str) -> Cell {
        if let Ok(i) = s.parse::<i64>() {
            Cell::Int(i)
        } else if let Ok(x) = s.parse::<f64>() {
            Cell::Float(x)
        } else {
            Cell::Text(s.to_string())
        }
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Int(i) => write!(f, "{i}"),
            Cell::Float(x) => f.write_str(&crate::codec::shortest(*x)),
            Cell::Text(s) => f.write_str(s),
        }
    }
}

impl From<f64> for Cell {
    fn from(x: f64) -> Cell {
        Cell::Float(x)
    }
}
impl From<i64> for Cell {
    fn from(x: i64) -> Cell {
        Cell::Int(x)
    }
}
impl From<usize> for Cell {
    fn from(x: usize) -> Cell {
        Cell::Int(x as i64)
    }
}
impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

/// Rows under named columns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, each with one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: &[&str]) -> Table {
        Table {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row (must have one cell per column).
    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.columns.len(), "row width");
        self.rows.push(row);
    }

    /// Appends the rows of `other`, which must have the same columns.
    pub fn extend(&mut self, other: Table) -> Result<()> {
        if self.columns.is_empty() {
            self.columns = other.columns;
        } else if self.columns != other.columns {
            return Err(Error::Invalid(format!(
                "cannot join tables with columns {:?} and {:?}",
                self.columns, other.columns
            )));
        }
        self.rows.extend(other.rows);
        Ok(())
    }

    /// Index of a column.
    pub fn column(&self, name: &str) -> Result<usize> {
        self.columns.iter().position(|c| c == name).ok_or_else(|| {
            Error::Invalid(format!(
                "no column {name:?} (columns: {})",
                self.columns.join(", ")
            ))
        })
    }

    /// A column's values as f64.
    pub fn floats(&self, name: &str) -> Result<Vec<f64>> {
        let i = self.column(name)?;
        Ok(self.rows.iter().map(|r| r[i].as_f64()).collect())
    }

    /// Rows whose column `name` has text `value`.
    pub fn filter(&self, name: &str, value: &str) -> Result<Table> {
        let i = self.column(name)?;
        Ok(Table {
            columns: self.columns.clone(),
            rows: self
                .rows
                .iter()
                .filter(|r| r[i].as_text() == value)
                .cloned()
                .collect(),
        })
    }

    /// The distinct texts of a column, in first-seen order.
    pub fn distinct(&self, name: &str) -> Result<Vec<String>> {
        let i = self.column(name)?;
        let mut seen = Vec::new();
        for r in &self.rows {
            let t = r[i].as_text();
            if !seen.contains(&t) {
                seen.push(t);
            }
        }
        Ok(seen)
    }

    /// The table as CSV text (header, then rows; fields quoted only when needed).
    pub fn to_csv(&self) -> String {
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        w.write_record(&self.columns).expect("in-memory write");
        for r in &self.rows {
            w.write_record(r.iter().map(|c| c.to_string()))
                .expect("in-memory write");
        }
        String::from_utf8(w.into_inner().expect("in-memory write")).expect("UTF-8")
    }

    /// Parses CSV text written by [`Table::to_csv`] (or any CSV with a header).
    pub fn from_csv(text: &str, origin: &str) -> Result<Table> {
        let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let bad = |e: csv::Error| Error::Invalid(format!("{origin}: {e}"));
        let columns: Vec<String> = r
            .headers()
            .map_err(bad)?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for rec in r.records() {
            let rec = rec.map_err(bad)?;
            rows.push(rec.iter().map(Cell::parse).collect());
        }
        Ok(Table { columns, rows })
    }

    /// Reads a CSV file.
    pub fn read(path: &Path) -> Result<Table> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Invalid(format!("reading {}: {e}", path.display())))?;
        Table::from_csv(&text, &path.display().to_string())
    }
}
