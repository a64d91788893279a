//! Figures: line charts (with log axes and shaded bands), scatter panels and heat maps, each
//! written as PNG and SVG from the same drawing code.
//!
//! PNG text needs a TrueType font: DejaVu Sans from the usual system paths, or the file named
//! by `ANYFLOAT_FONT` (Debian: `apt-get install fonts-dejavu-core`).

use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A series of points.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// (x, y) points; non-finite ones (and non-positive ones on log axes) are skipped.
    pub points: Vec<(f64, f64)>,
    /// Draw markers at the points.
    pub markers: bool,
    /// Draw a line through the points.
    pub line: bool,
    /// Palette index (series with the same index share a colour).
    pub color: usize,
}

impl Series {
    /// A line with markers.
    pub fn new(label: impl Into<String>, points: Vec<(f64, f64)>, color: usize) -> Series {
        Series {
            label: label.into(),
            points,
            markers: true,
            line: true,
            color,
        }
    }
}

/// A shaded region between two curves: (x, low, high) points.
#[derive(Clone, Debug)]
pub struct Band {
    /// Legend label.
    pub label: String,
    /// The region's outline, by x.
    pub points: Vec<(f64, f64, f64)>,
    /// Palette index.
    pub color: usize,
}

/// A line chart.
#[derive(Clone, Debug, Default)]
pub struct LineChart {
    /// Title above the plot.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// Logarithmic x axis.
    pub x_log: bool,
    /// Logarithmic y axis.
    pub y_log: bool,
    /// The series.
    pub series: Vec<Series>,
    /// Shaded bands, drawn below the series.
    pub bands: Vec<Band>,
}

/// One panel of a multi-panel figure.
#[derive(Clone, Debug)]
pub struct Panel {
    /// Panel title.
    pub title: String,
    /// Scatter points (for [`scatter_panels`]).
    pub points: Vec<(f64, f64)>,
    /// Row-major values (for [`heatmap_panels`]), `grid[row][col]`, row 0 at the bottom.
    pub grid: Vec<Vec<f64>>,
}

const PALETTE: [RGBColor; 12] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(0, 0, 0),
    RGBColor(174, 199, 232),
];

/// A palette colour.
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

fn font_ready() -> Result<()> {
    static READY: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    READY
        .get_or_init(|| {
            let candidates = std::env::var("ANYFLOAT_FONT").into_iter().chain(
                [
                    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                    "/usr/share/fonts/TTF/DejaVuSans.ttf",
                    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
                    "/Library/Fonts/Arial.ttf",
                ]
                .map(String::from),
            );
            for path in candidates {
                if let Ok(bytes) = std::fs::read(&path) {
                    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                    if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                        return Ok(());
                    }
                }
            }
            Err("figures need a TrueType font: install fonts-dejavu-core or set ANYFLOAT_FONT to a .ttf file".into())
        })
        .clone()
        .map_err(Error::Invalid)
}

/// Renders a figure to `<stem>.png` and `<stem>.svg` with the same drawing code, writing
/// both atomically.
macro_rules! render_both {
    ($stem:expr, $size:expr, |$area:ident| $body:expr) => {{
        font_ready()?;
        let stem: &Path = $stem;
        let png = stem.with_extension("png");
        let svg = stem.with_extension("svg");
        let fail = |e: String| Error::Invalid(format!("drawing {}: {e}", stem.display()));
        let tmp_png = tmp_path(&png);
        {
            let $area = BitMapBackend::new(&tmp_png, $size).into_drawing_area();
            $body.map_err(fail)?;
            $area.present().map_err(|e| fail(e.to_string()))?;
        }
        let mut svg_text = String::new();
        {
            let $area = SVGBackend::with_string(&mut svg_text, $size).into_drawing_area();
            $body.map_err(fail)?;
            $area.present().map_err(|e| fail(e.to_string()))?;
        }
        std::fs::rename(&tmp_png, &png).map_err(|e| fail(e.to_string()))?;
        crate::exp::store::write_atomic(&svg, svg_text.as_bytes())?;
        Ok(vec![png, svg])
    }};
}

fn tmp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("figure.png");
    path.with_file_name(format!(".{name}.tmp-{}.png", std::process::id()))
}

/// Draws a line chart to `<stem>.png` and `<stem>.svg`.
pub fn line_chart(stem: &Path, chart: &LineChart) -> Result<Vec<PathBuf>> {
    if let Some(dir) = stem.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Invalid(format!("creating {}: {e}", dir.display())))?;
    }
    render_both!(stem, (900, 600), |area| draw_line_chart(&area, chart))
}

fn axis(v: f64, log: bool) -> Option<f64> {
    if !v.is_finite() {
        return None;
    }
    if log {
        (v > 0.0).then(|| v.log10())
    } else {
        Some(v)
    }
}

fn padded(lo: f64, hi: f64) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let span = (hi - lo).abs().max(1e-12 * lo.abs().max(1.0));
    (lo - 0.05 * span, hi + 0.05 * span)
}

/// A tick label; `span` is the axis extent (in decades on a log axis). Log axes label the
/// powers of ten, and, when they span less than two decades (so few powers of ten show), every
/// tick with its value to two significant digits.
fn tick(v: f64, log: bool, span: f64) -> String {
    if log {
        let r = v.round();
        if (v - r).abs() < 1e-9 && (span >= 2.0 || !(-2.0..4.0).contains(&r)) {
            format!("1e{r}")
        } else if span < 2.0 {
            let x = 10f64.powf(v);
            if (0.01..10_000.0).contains(&x) {
                let digits = (1 - x.log10().floor() as i32).max(0) as usize;
                let s = format!("{x:.digits$}");
                if s.contains('.') {
                    s.trim_end_matches('0').trim_end_matches('.').to_string()
                } else {
                    s
                }
            } else {
                format!("{x:.1e}")
            }
        } else {
            String::new()
        }
    } else if span > 0.0 && span < 1e-2 && v.abs() > 1e-3 * span {
        // Small numbers: two significant digits of the axis range in scientific notation.
        let digits = (v.abs().log10().floor() - span.log10().floor()).clamp(0.0, 6.0) as usize + 1;
        format!("{v:.digits$e}")
    } else {
        let digits = if span > 0.0 && span < 1.0 {
            (3 - span.log10().floor() as i32).clamp(3, 8) as usize
        } else {
            3
        };
        let s = format!("{v:.digits$}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" { "0".into() } else { s.to_string() }
    }
}

fn draw_line_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    c: &LineChart,
) -> std::result::Result<(), String> {
    let e = |x: &dyn std::fmt::Display| x.to_string();
    area.fill(&WHITE).map_err(|x| e(&x))?;
    let xs = c
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .chain(c.bands.iter().flat_map(|b| b.points.iter().map(|p| p.0)))
        .filter_map(|v| axis(v, c.x_log));
    let ys = c
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .chain(
            c.bands
                .iter()
                .flat_map(|b| b.points.iter().flat_map(|p| [p.1, p.2])),
        )
        .filter_map(|v| axis(v, c.y_log));
    let (x0, x1) = padded(
        xs.clone().fold(f64::INFINITY, f64::min),
        xs.fold(f64::NEG_INFINITY, f64::max),
    );
    let (y0, y1) = padded(
        ys.clone().fold(f64::INFINITY, f64::min),
        ys.fold(f64::NEG_INFINITY, f64::max),
    );
    let mut chart = ChartBuilder::on(area)
        .caption(&c.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|x| e(&x))?;
    let (xl, yl) = (c.x_log, c.y_log);
    chart
        .configure_mesh()
        .x_desc(&c.x_label)
        .y_desc(&c.y_label)
        .x_label_formatter(&|v| tick(*v, xl, x1 - x0))
        .y_label_formatter(&|v| tick(*v, yl, y1 - y0))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(|x| e(&x))?;
    for band in &c.bands {
        let col = color(band.color);
        let mut outline: Vec<(f64, f64)> = band
            .points
            .iter()
            .filter_map(|&(x, lo, _)| Some((axis(x, xl)?, axis(lo, yl)?)))
            .collect();
        let upper: Vec<(f64, f64)> = band
            .points
            .iter()
            .rev()
            .filter_map(|&(x, _, hi)| Some((axis(x, xl)?, axis(hi, yl)?)))
            .collect();
        outline.extend(upper);
        chart
            .draw_series(std::iter::once(Polygon::new(
                outline,
                col.mix(0.2).filled(),
            )))
            .map_err(|x| e(&x))?
            .label(&band.label)
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 20, y + 5)], col.mix(0.2).filled())
            });
    }
    for s in &c.series {
        let col = color(s.color);
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter_map(|&(x, y)| Some((axis(x, xl)?, axis(y, yl)?)))
            .collect();
        let (line, markers) = (s.line, s.markers);
        if line {
            chart
                .draw_series(LineSeries::new(pts.clone(), col.stroke_width(2)))
                .map_err(|x| e(&x))?
                .label(&s.label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2))
                });
        }
        if markers {
            let anno = chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, col.filled())))
                .map_err(|x| e(&x))?;
            if !line {
                anno.label(&s.label)
                    .legend(move |(x, y)| Circle::new((x + 10, y), 3, col.filled()));
            }
        }
    }
    if c.series.iter().any(|s| !s.label.is_empty()) || !c.bands.is_empty() {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|x| e(&x))?;
    }
    Ok(())
}

/// Scatter panels (e.g. attractor projections) in a grid of `cols` columns.
pub fn scatter_panels(
    stem: &Path,
    panels: &[Panel],
    cols: usize,
    x_label: &str,
    y_label: &str,
) -> Result<Vec<PathBuf>> {
    let rows = panels.len().div_ceil(cols.max(1));
    let size = (360 * cols as u32, 340 * rows as u32);
    render_both!(stem, size, |area| draw_scatter(
        &area, panels, cols, x_label, y_label
    ))
}

fn draw_scatter<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panels: &[Panel],
    cols: usize,
    xl: &str,
    yl: &str,
) -> std::result::Result<(), String> {
    let e = |x: &dyn std::fmt::Display| x.to_string();
    area.fill(&WHITE).map_err(|x| e(&x))?;
    let rows = panels.len().div_ceil(cols.max(1));
    for (panel, sub) in panels.iter().zip(area.split_evenly((rows, cols))) {
        let finite = || {
            panel
                .points
                .iter()
                .filter(|p| p.0.is_finite() && p.1.is_finite())
        };
        let (x0, x1) = padded(
            finite().map(|p| p.0).fold(f64::INFINITY, f64::min),
            finite().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max),
        );
        let (y0, y1) = padded(
            finite().map(|p| p.1).fold(f64::INFINITY, f64::min),
            finite().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max),
        );
        let mut chart = ChartBuilder::on(&sub)
            .caption(&panel.title, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(30)
            .y_label_area_size(40)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|x| e(&x))?;
        chart
            .configure_mesh()
            .x_desc(xl)
            .y_desc(yl)
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(|x| e(&x))?;
        chart
            .draw_series(finite().map(|&p| Pixel::new(p, color(0).mix(0.6))))
            .map_err(|x| e(&x))?;
    }
    Ok(())
}

/// Heat maps (e.g. vorticity snapshots) in a grid of `cols` columns, with a shared symmetric
/// blue–white–red colour scale.
pub fn heatmap_panels(stem: &Path, panels: &[Panel], cols: usize) -> Result<Vec<PathBuf>> {
    let rows = panels.len().div_ceil(cols.max(1));
    let size = (420 * cols as u32, 260 * rows as u32);
    render_both!(stem, size, |area| draw_heatmaps(&area, panels, cols))
}

fn draw_heatmaps<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panels: &[Panel],
    cols: usize,
) -> std::result::Result<(), String> {
    let e = |x: &dyn std::fmt::Display| x.to_string();
    area.fill(&WHITE).map_err(|x| e(&x))?;
    let scale = panels
        .iter()
        .flat_map(|p| p.grid.iter().flatten())
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    let rows = panels.len().div_ceil(cols.max(1));
    for (panel, sub) in panels.iter().zip(area.split_evenly((rows, cols))) {
        let ny = panel.grid.len();
        let nx = panel.grid.first().map_or(0, Vec::len);
        let mut chart = ChartBuilder::on(&sub)
            .caption(&panel.title, ("sans-serif", 16))
            .margin(6)
            .build_cartesian_2d(0..nx.max(1), 0..ny.max(1))
            .map_err(|x| e(&x))?;
        let cells = panel.grid.iter().enumerate().flat_map(|(j, row)| {
            row.iter().enumerate().map(move |(i, &v)| {
                let t = if v.is_finite() {
                    (v / scale).clamp(-1.0, 1.0)
                } else {
                    0.0
                };
                let c = if t >= 0.0 {
                    RGBColor(255, (255.0 * (1.0 - t)) as u8, (255.0 * (1.0 - t)) as u8)
                } else {
                    RGBColor((255.0 * (1.0 + t)) as u8, (255.0 * (1.0 + t)) as u8, 255)
                };
                Rectangle::new([(i, j), (i + 1, j + 1)], c.filled())
            })
        });
        chart.draw_series(cells).map_err(|x| e(&x))?;
    }
    Ok(())
}
