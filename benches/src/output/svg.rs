//! An SVG chart of the ratios to native: one group of horizontal bars per
//! metric, one bar per runner (native is the ×1 line), on a log scale, with
//! a legend. Hand-written SVG 1.1; a `<title>` on every bar gives the
//! numbers on hover.

use crate::report::Report;

use super::{num, ratio};

/// Okabe–Ito colours (distinguishable with colour-blindness), yellow left out.
const COLORS: &[&str] = &[
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
];

const WIDTH: f64 = 960.0;
const LABEL_X: f64 = 250.0; // right edge of the row labels
const PLOT_X0: f64 = 262.0;
const PLOT_X1: f64 = WIDTH - 90.0; // room for value labels
const PLOT_Y0: f64 = 104.0;
const BAR_H: f64 = 12.0;
const BAR_GAP: f64 = 2.0;
const GROUP_PAD: f64 = 10.0;

/// Escapes text for XML content and attribute values.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A log-10 axis from 10^lo to 10^hi decades.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogAxis {
    pub lo: i32,
    pub hi: i32,
}

impl LogAxis {
    /// The smallest whole-decade range holding 1 and every ratio.
    pub fn fit(ratios: &[f64]) -> LogAxis {
        let (mut min, mut max) = (1.0f64, 1.0f64);
        for &r in ratios.iter().filter(|r| r.is_finite() && **r > 0.0) {
            min = min.min(r);
            max = max.max(r);
        }
        let lo = (min.log10().floor() as i32).max(-6);
        let mut hi = (max.log10().ceil() as i32).min(9);
        if hi <= lo {
            hi = lo + 1;
        }
        LogAxis { lo, hi }
    }

    /// The x coordinate of `r` (clamped to the axis).
    pub fn x(&self, r: f64) -> f64 {
        let l = r
            .max(1e-12)
            .log10()
            .clamp(f64::from(self.lo), f64::from(self.hi));
        PLOT_X0 + (l - f64::from(self.lo)) / f64::from(self.hi - self.lo) * (PLOT_X1 - PLOT_X0)
    }

    /// Tick values: every decade; also 2× and 5× when the axis spans at
    /// most three decades. Each with whether it is a decade.
    pub fn ticks(&self) -> Vec<(f64, bool)> {
        let minor = self.hi - self.lo <= 3;
        let mut ticks = Vec::new();
        for k in self.lo..=self.hi {
            let decade = 10f64.powi(k);
            ticks.push((decade, true));
            if minor && k < self.hi {
                ticks.push((2.0 * decade, false));
                ticks.push((5.0 * decade, false));
            }
        }
        ticks
    }
}

/// `×0.01`, `×2`, `×1000`: a tick's label.
pub fn tick_label(v: f64) -> String {
    let decimals = if v >= 1.0 {
        0
    } else {
        (-v.log10().floor()) as usize
    };
    format!("×{v:.decimals$}")
}

/// The chart as an SVG document.
pub fn render(report: &Report) -> String {
    let native = report.native_index();
    let others: Vec<usize> = (0..report.runners.len())
        .filter(|&i| Some(i) != native)
        .collect();
    // Rows: every metric, with its cells for the non-native runners.
    struct Row {
        label: String,
        arrow: &'static str,
        cells: Vec<Option<f64>>,
        title: Vec<String>,
    }
    let mut rows: Vec<Row> = Vec::new();
    for b in &report.benchmarks {
        for m in &b.metrics {
            let native_median = native
                .and_then(|i| m.cells.get(i))
                .and_then(|c| c.summary.filter(|_| c.is_ok()))
                .map(|s| s.median);
            let cells = others
                .iter()
                .map(|&i| m.cells.get(i).and_then(|c| c.ratio))
                .collect();
            let title = others
                .iter()
                .map(|&i| {
                    let c = &m.cells[i];
                    let name = &report.runners[i].name;
                    match (c.ratio, c.summary, native_median) {
                        (Some(r), Some(s), Some(n)) => format!(
                            "{name}, {}/{}: {} (median {} {u} vs native {} {u})",
                            b.suite,
                            m.spec.name,
                            ratio(r),
                            num(s.median),
                            num(n),
                            u = m.spec.unit
                        ),
                        _ => format!("{name}, {}/{}: n/a", b.suite, m.spec.name),
                    }
                })
                .collect();
            rows.push(Row {
                label: format!("{} · {}", b.suite, m.spec.name),
                arrow: m.spec.better.arrow(),
                cells,
                title,
            });
        }
    }
    let all: Vec<f64> = rows
        .iter()
        .flat_map(|r| r.cells.iter().flatten().copied())
        .collect();
    let axis = LogAxis::fit(&all);
    let group_h = (others.len().max(1) as f64) * (BAR_H + BAR_GAP) + GROUP_PAD;
    let plot_y1 = PLOT_Y0 + group_h * rows.len().max(1) as f64;
    let height = plot_y1 + 48.0;

    let mut s = String::new();
    s.push_str(&format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n"
    ));
    s.push_str(&format!(
        "<rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{height}\" fill=\"#ffffff\"/>\n"
    ));
    s.push_str(
        "<text x=\"16\" y=\"24\" font-size=\"16\" font-weight=\"bold\">umk bench: ratio to native \
         (median ÷ native median, log scale)</text>\n",
    );
    s.push_str(&format!(
        "<text x=\"16\" y=\"42\" fill=\"#555555\">{} · {} · {} run(s) per runner, interleaved</text>\n",
        xml(&report.env.date),
        xml(&report.env.machine()),
        report.env.repeat
    ));

    // Legend.
    let mut lx = 16.0;
    for (k, &i) in others.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let name = &report.runners[i].name;
        s.push_str(&format!(
            "<rect class=\"legend\" x=\"{lx}\" y=\"56\" width=\"12\" height=\"12\" fill=\"{color}\"/>\
             <text x=\"{}\" y=\"66\">{}</text>\n",
            lx + 16.0,
            xml(name)
        ));
        lx += 16.0 + 7.5 * name.chars().count() as f64 + 24.0;
    }
    s.push_str(&format!(
        "<line x1=\"{lx}\" y1=\"62\" x2=\"{}\" y2=\"62\" stroke=\"#000000\" stroke-dasharray=\"4 3\"/>\
         <text x=\"{}\" y=\"66\">native (×1)</text>\n",
        lx + 18.0,
        lx + 24.0
    ));

    if rows.is_empty() || native.is_none() || others.is_empty() {
        let why = if native.is_none() {
            "no native runner: no ratios"
        } else if others.is_empty() {
            "only the native runner: nothing to compare"
        } else {
            "no results"
        };
        s.push_str(&format!(
            "<text x=\"16\" y=\"{}\">{why}</text>\n",
            PLOT_Y0 + 16.0
        ));
        s.push_str("</svg>\n");
        return s;
    }

    // Grid and ticks (labels above and below the plot).
    for (v, decade) in axis.ticks() {
        let x = axis.x(v);
        let (stroke, width) = if decade {
            ("#bbbbbb", 1.0)
        } else {
            ("#e3e3e3", 1.0)
        };
        s.push_str(&format!(
            "<line class=\"tick\" x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{plot_y1}\" stroke=\"{stroke}\" stroke-width=\"{width}\"/>\n",
            PLOT_Y0 - 6.0
        ));
        let label = tick_label(v);
        let fill = if decade { "#333333" } else { "#888888" };
        for y in [PLOT_Y0 - 10.0, plot_y1 + 16.0] {
            s.push_str(&format!(
                "<text x=\"{x:.1}\" y=\"{y}\" text-anchor=\"middle\" fill=\"{fill}\">{}</text>\n",
                xml(&label)
            ));
        }
    }

    // Rows.
    let x1 = axis.x(1.0);
    for (g, row) in rows.iter().enumerate() {
        let gy = PLOT_Y0 + g as f64 * group_h;
        if g % 2 == 1 {
            s.push_str(&format!(
                "<rect x=\"8\" y=\"{gy}\" width=\"{}\" height=\"{group_h}\" fill=\"#f4f4f4\"/>\n",
                WIDTH - 16.0
            ));
        }
        let arrow = if row.arrow.is_empty() {
            String::new()
        } else {
            format!(" {}", row.arrow)
        };
        s.push_str(&format!(
            "<text x=\"{LABEL_X}\" y=\"{:.1}\" text-anchor=\"end\">{}{}</text>\n",
            gy + group_h / 2.0 + 4.0,
            xml(&row.label),
            xml(&arrow)
        ));
        for (k, (cell, title)) in row.cells.iter().zip(&row.title).enumerate() {
            let y = gy + GROUP_PAD / 2.0 + k as f64 * (BAR_H + BAR_GAP);
            let color = COLORS[k % COLORS.len()];
            match cell {
                Some(r) => {
                    let xr = axis.x(*r);
                    let (left, w) = if xr >= x1 { (x1, xr - x1) } else { (xr, x1 - xr) };
                    s.push_str(&format!(
                        "<rect class=\"bar\" x=\"{left:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{BAR_H}\" fill=\"{color}\"><title>{}</title></rect>\n",
                        w.max(1.0),
                        xml(title)
                    ));
                    s.push_str(&format!(
                        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\">{}</text>\n",
                        left + w.max(1.0) + 4.0,
                        y + BAR_H - 2.0,
                        xml(&ratio(*r))
                    ));
                }
                None => s.push_str(&format!(
                    "<text class=\"na\" x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"{color}\">n/a<title>{}</title></text>\n",
                    x1 + 4.0,
                    y + BAR_H - 2.0,
                    xml(title)
                )),
            }
        }
    }
    s.push_str(&format!(
        "<text x=\"16\" y=\"{}\" fill=\"#555555\">Each bar: the runner's median ÷ native's median. \
         ↓ lower is better (right of ×1: slower than native); ↑ higher is better. \
         Hover a bar for the numbers.</text>\n",
        height - 8.0
    ));
    // The ×1 baseline, over the bars.
    s.push_str(&format!(
        "<line x1=\"{x1:.1}\" y1=\"{}\" x2=\"{x1:.1}\" y2=\"{plot_y1}\" stroke=\"#000000\" stroke-dasharray=\"4 3\"/>\n",
        PLOT_Y0 - 6.0
    ));
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{fixture, Sample};

    /// Checks that tags nest and close, and that `&` starts an entity.
    fn well_formed(svg: &str) -> Result<(), String> {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find('<') {
            let text = &rest[..start];
            for (i, _) in text.match_indices('&') {
                let t = &text[i..];
                if !["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| t.starts_with(e))
                {
                    return Err(format!("bare & in {text:?}"));
                }
            }
            let end = rest[start..].find('>').ok_or("unclosed tag")? + start;
            let tag = &rest[start + 1..end];
            if let Some(name) = tag.strip_prefix('/') {
                if stack.pop().as_deref() != Some(name) {
                    return Err(format!("mismatched </{name}>"));
                }
            } else if !tag.ends_with('/') {
                let name = tag.split_whitespace().next().ok_or("empty tag")?;
                stack.push(name.to_string());
            }
            if tag.matches('"').count() & 1 == 1 {
                return Err(format!("unbalanced quotes in <{tag}>"));
            }
            rest = &rest[end + 1..];
        }
        if stack.is_empty() {
            Ok(())
        } else {
            Err(format!("unclosed {stack:?}"))
        }
    }

    #[test]
    fn axis() {
        let a = LogAxis::fit(&[2.0, 101.0]);
        assert_eq!(a, LogAxis { lo: 0, hi: 3 });
        assert_eq!(LogAxis::fit(&[0.5, 3.0]), LogAxis { lo: -1, hi: 1 });
        assert_eq!(LogAxis::fit(&[]), LogAxis { lo: 0, hi: 1 });
        assert!((a.x(1.0) - PLOT_X0).abs() < 1e-9);
        assert!((a.x(1000.0) - PLOT_X1).abs() < 1e-9);
        assert!(
            (a.x(10.0) - a.x(1.0) - (a.x(100.0) - a.x(10.0))).abs() < 1e-9,
            "log scale"
        );
        let labels: Vec<String> = LogAxis { lo: -2, hi: 1 }
            .ticks()
            .iter()
            .map(|t| tick_label(t.0))
            .collect();
        assert_eq!(
            labels,
            ["×0.01", "×0.02", "×0.05", "×0.1", "×0.2", "×0.5", "×1", "×2", "×5", "×10"]
        );
        assert_eq!(
            LogAxis { lo: 0, hi: 5 }.ticks().len(),
            6,
            "decades only over a wide range"
        );
    }

    #[test]
    fn chart_shape() {
        let svg = render(&fixture::report());
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>\n"));
        well_formed(&svg).expect("well-formed");
        // Two non-native runners × two metrics, one of them n/a.
        assert_eq!(svg.matches("class=\"bar\"").count(), 3);
        assert_eq!(svg.matches("class=\"na\"").count(), 1);
        assert_eq!(svg.matches("class=\"legend\"").count(), 2);
        for label in ["×1<", "×10<", "×100<", "×1000<", "×2<", "×50<"] {
            assert!(svg.contains(label), "tick {label}");
        }
        assert!(svg.contains(">umk-ptrace</text>") && svg.contains(">strace</text>"));
        assert!(svg.contains("syscall · getppid_ns ↓"));
        assert!(svg.contains("Test CPU &quot;fast&quot; &lt;1&gt;"));
    }

    #[test]
    fn one_bar_per_runner_and_metric() {
        let mut r = fixture::report();
        let cell = &mut r.benchmarks[0].metrics[0].cells[1];
        cell.failure = None;
        cell.samples = vec![Sample {
            rep: 0,
            value: 40.0,
        }];
        r.finalize();
        let svg = render(&r);
        well_formed(&svg).expect("well-formed");
        assert_eq!(svg.matches("class=\"bar\"").count(), 2 * 2);
        assert!(svg.contains("×0.1<"), "ratios below 1 widen the axis");
    }

    #[test]
    fn without_native() {
        let mut r = fixture::report();
        r.runners[0].name = "other".into();
        r.finalize();
        let svg = render(&r);
        well_formed(&svg).expect("well-formed");
        assert!(svg.contains("no native runner"));
        assert_eq!(svg.matches("class=\"bar\"").count(), 0);
    }
}
