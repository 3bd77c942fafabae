//! Small charts drawn as inline SVG on the server (the pages run no scripts of their own).

use std::fmt::Write;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A number short enough to stand over a bar: 万 and 亿 for large ones.
fn compact(value: i64) -> String {
    match value.abs() {
        0..10_000 => value.to_string(),
        10_000..100_000_000 => format!("{:.0}万", value as f64 / 1e4),
        _ => format!("{:.1}亿", value as f64 / 1e8),
    }
}

/// Bars, one per label, each with its value, with a line over them (e.g. spending per month and
/// the budget to date) and the scale on the left. Values are in any one unit; `line` may be
/// empty.
pub fn bars_and_line(labels: &[String], bars: &[i64], line: &[i64], title: &str) -> String {
    let (width, height, left, bottom, top) = (720.0, 270.0, 60.0, 30.0, 34.0);
    let max = bars.iter().chain(line).copied().max().unwrap_or(0).max(1) as f64;
    let plot_w = width - left - 10.0;
    let plot_h = height - bottom - top;
    let step = plot_w / labels.len().max(1) as f64;
    let y = |v: i64| top + plot_h - v as f64 / max * plot_h;
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(title)
    );
    let _ = write!(
        svg,
        r##"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="#9aa5ae"/>"##,
        top + plot_h,
        width - 10.0,
        top + plot_h
    );
    for (value, at) in [(max as i64, top), (0, top + plot_h)] {
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end" fill="#6b7780">{}</text>"##,
            left - 6.0,
            at + 4.0,
            compact(value)
        );
    }
    for (i, (label, value)) in labels.iter().zip(bars).enumerate() {
        let x = left + i as f64 * step + step * 0.15;
        let _ = write!(
            svg,
            r##"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#0b5d8c"><title>{}: {value}</title></rect>"##,
            y(*value),
            step * 0.7,
            (top + plot_h - y(*value)).max(0.0),
            escape(label)
        );
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="#1f2a33">{}</text>"##,
            x + step * 0.35,
            (y(*value) - 4.0).max(10.0),
            compact(*value)
        );
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{}" font-size="11" text-anchor="middle" fill="#6b7780">{}</text>"##,
            x + step * 0.35,
            height - 10.0,
            escape(label)
        );
    }
    if !line.is_empty() {
        let points: Vec<String> = line
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", left + (i as f64 + 0.5) * step, y(*v)))
            .collect();
        let _ = write!(
            svg,
            r##"<polyline points="{}" fill="none" stroke="#b3261e" stroke-width="2"/>"##,
            points.join(" ")
        );
    }
    let _ = write!(
        svg,
        r##"<text x="4" y="16" font-size="11" fill="#6b7780">{}</text></svg>"##,
        escape(title)
    );
    svg
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_chart_is_svg_with_a_bar_per_label() {
        let labels = vec!["1月".to_owned(), "2月<".to_owned()];
        let svg = super::bars_and_line(&labels, &[3, 5], &[4, 8], "预算");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("2月&lt;") && svg.contains("<polyline"));
        assert!(svg.contains(">5</text>"), "each bar shows its value");
    }

    #[test]
    fn large_values_are_written_in_wan_and_yi() {
        assert_eq!(super::compact(9_999), "9999");
        assert_eq!(super::compact(32_450_000), "3245万");
        assert_eq!(super::compact(250_000_000), "2.5亿");
    }
}
