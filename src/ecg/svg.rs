//! The ECG drawn as SVG on standard paper: 25 mm/s, 10 mm/mV, 1 mm and 5 mm grid. Twelve-lead
//! recordings are laid out 3 × 4 (2.5 s per lead) with a 10 s lead II rhythm strip; other
//! recordings show each lead as a 10 s strip. Detected beats are marked on the rhythm strip and
//! each lead carries its ST measurement.

use std::collections::BTreeMap;
use std::fmt::Write;

use yijia_ecg::Waveform;

const PX_PER_MM: f64 = 4.0;
const MM_PER_S: f64 = 25.0;
const MM_PER_UV: f64 = 10.0 / 1000.0;
const ROW_MM: f64 = 25.0;
const LAYOUT: [[&str; 4]; 3] = [
    ["I", "aVR", "V1", "V4"],
    ["II", "aVL", "V2", "V5"],
    ["III", "aVF", "V3", "V6"],
];

struct Trace<'a> {
    lead: &'a str,
    samples: &'a [i32],
    start_s: f64,
    seconds: f64,
    x_mm: f64,
    row: usize,
}

pub fn render(waveform: &Waveform, beats: &[usize], st_mm: &BTreeMap<String, f64>) -> String {
    let twelve = LAYOUT
        .iter()
        .flatten()
        .all(|name| waveform.lead(name).is_some());
    let strip_s = waveform.duration_s().min(10.0);
    let mut traces = Vec::new();
    if twelve {
        for (row, names) in LAYOUT.iter().enumerate() {
            for (column, name) in names.iter().enumerate() {
                let lead = waveform.lead(name).expect("checked above");
                traces.push(Trace {
                    lead: name,
                    samples: &lead.samples_uv,
                    start_s: column as f64 * 2.5,
                    seconds: 2.5,
                    x_mm: column as f64 * 62.5,
                    row,
                });
            }
        }
        let rhythm = waveform.lead("II").expect("checked above");
        traces.push(Trace {
            lead: "II",
            samples: &rhythm.samples_uv,
            start_s: 0.0,
            seconds: strip_s,
            x_mm: 0.0,
            row: 3,
        });
    } else {
        for (row, lead) in waveform.leads.iter().enumerate() {
            traces.push(Trace {
                lead: &lead.name,
                samples: &lead.samples_uv,
                start_s: 0.0,
                seconds: strip_s,
                x_mm: 0.0,
                row,
            });
        }
    }
    let rows = traces.iter().map(|t| t.row + 1).max().unwrap_or(1);
    let (width, height) = (250.0 * PX_PER_MM, rows as f64 * ROW_MM * PX_PER_MM);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="心电图">
<defs><pattern id="mm" width="4" height="4" patternUnits="userSpaceOnUse"><path d="M4 0H0V4" fill="none" stroke="#f4c7c7" stroke-width="0.5"/></pattern>
<pattern id="grid" width="20" height="20" patternUnits="userSpaceOnUse"><rect width="20" height="20" fill="url(#mm)"/><path d="M20 0H0V20" fill="none" stroke="#e58f8f" stroke-width="1"/></pattern></defs>
<rect width="{width}" height="{height}" fill="#fff"/><rect width="{width}" height="{height}" fill="url(#grid)"/>
"##
    );
    let fs = waveform.sampling_hz;
    let step = ((fs / 200.0).floor() as usize).max(1);
    for trace in &traces {
        let centre = (trace.row as f64 + 0.55) * ROW_MM * PX_PER_MM;
        let first = (trace.start_s * fs) as usize;
        let last = (((trace.start_s + trace.seconds) * fs) as usize).min(trace.samples.len());
        let mut points = String::new();
        for i in (first..last).step_by(step) {
            let x = (trace.x_mm + (i - first) as f64 / fs * MM_PER_S) * PX_PER_MM;
            let y = centre - f64::from(trace.samples[i]) * MM_PER_UV * PX_PER_MM;
            let _ = write!(points, "{x:.1},{y:.1} ");
        }
        let _ = writeln!(
            svg,
            r##"<polyline points="{points}" fill="none" stroke="#111" stroke-width="1.1"/>"##
        );
        let label_x = trace.x_mm * PX_PER_MM + 4.0;
        let label_y = (trace.row as f64 * ROW_MM + 5.0) * PX_PER_MM;
        let st = st_mm
            .get(trace.lead)
            .map(|mm| format!(" ST {mm:+.1}"))
            .unwrap_or_default();
        let _ = writeln!(
            svg,
            r##"<text x="{label_x}" y="{label_y}" font-size="14" fill="#333">{}{st}</text>"##,
            trace.lead
        );
    }
    // Beats on the bottom strip.
    let strip_row = rows - 1;
    for &beat in beats.iter().filter(|&&b| (b as f64) < strip_s * fs) {
        let x = beat as f64 / fs * MM_PER_S * PX_PER_MM;
        let y = (strip_row as f64 * ROW_MM + 1.5) * PX_PER_MM;
        let _ = writeln!(
            svg,
            r##"<path d="M{x:.1} {y:.1}l-4 -5h8z" fill="#0b5d8c" class="beat"/>"##
        );
    }
    svg.push_str("</svg>");
    svg
}
