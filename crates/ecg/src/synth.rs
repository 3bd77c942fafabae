//! Deterministic synthetic 12-lead ECGs for tests and demos: each beat is a sum of Gaussian
//! waves (P, Q, R, S, T) with typical amplitudes per lead, plus an ST-segment shift per lead.
//! The limb leads are derived from I and II (Einthoven and Goldberger), so reciprocal changes
//! come out by themselves. No randomness: the same spec gives the same samples.

use crate::waveform::{Lead, Waveform};

/// Amplitudes in µV of P, Q, R, S, T for I, II and V1–V6.
const WAVES: [(&str, [f64; 5]); 8] = [
    ("I", [80.0, -50.0, 700.0, -100.0, 200.0]),
    ("II", [120.0, -60.0, 1100.0, -150.0, 300.0]),
    ("V1", [50.0, 0.0, 250.0, -900.0, 100.0]),
    ("V2", [60.0, 0.0, 500.0, -1200.0, 400.0]),
    ("V3", [60.0, -30.0, 800.0, -700.0, 450.0]),
    ("V4", [60.0, -50.0, 1200.0, -400.0, 400.0]),
    ("V5", [60.0, -70.0, 1100.0, -200.0, 300.0]),
    ("V6", [60.0, -60.0, 900.0, -100.0, 250.0]),
];

/// Centre (s, relative to R) and width (s) of P, Q, R, S, T.
const TIMING: [(f64, f64); 5] = [
    (-0.16, 0.025),
    (-0.024, 0.007),
    (0.0, 0.010),
    (0.022, 0.007),
    (0.30, 0.05),
];

#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    pub heart_rate_bpm: f64,
    pub duration_s: f64,
    pub sampling_hz: f64,
    /// ST shift in mm (1 mm = 100 µV) for I, II and V1–V6; the other limb leads follow.
    pub st_mm: Vec<(&'static str, f64)>,
}

impl Default for Spec {
    fn default() -> Spec {
        Spec {
            heart_rate_bpm: 72.0,
            duration_s: 10.0,
            sampling_hz: 500.0,
            st_mm: Vec::new(),
        }
    }
}

/// The named cases tests and demos use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Case {
    Normal,
    /// Elevation in II, III, aVF with reciprocal depression in aVL.
    InferiorStemi,
    /// Elevation in V1–V4.
    AnteriorStemi,
    /// Elevation of the given mm in V2 and V3 only.
    V2V3(f64),
    /// 1.5 mm elevation in aVL-free, non-contiguous leads (V1 and V4).
    NonContiguous,
}

impl Case {
    pub fn spec(self) -> Spec {
        let st_mm = match self {
            Case::Normal => vec![],
            Case::InferiorStemi => vec![("I", -0.5), ("II", 2.5)],
            Case::AnteriorStemi => vec![
                ("V1", 2.0),
                ("V2", 3.5),
                ("V3", 3.5),
                ("V4", 2.5),
                ("I", 0.5),
            ],
            Case::V2V3(mm) => vec![("V2", mm), ("V3", mm)],
            Case::NonContiguous => vec![("V1", 1.5), ("V4", 1.5)],
        };
        Spec {
            st_mm,
            ..Spec::default()
        }
    }
}

fn gaussian(t: f64, centre: f64, width: f64) -> f64 {
    let z = (t - centre) / width;
    (-0.5 * z * z).exp()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// One lead's value at time `t` (s) after the nearest R peak, with `st_uv` of ST shift.
fn beat_value(amplitudes: &[f64; 5], st_uv: f64, t: f64) -> f64 {
    let waves: f64 = amplitudes
        .iter()
        .zip(TIMING)
        .map(|(a, (c, w))| a * gaussian(t, c, w))
        .sum();
    // The injury current shifts the segment from within the QRS (so the J point is fully
    // elevated) until it merges into the T wave.
    let st = st_uv * sigmoid((t - 0.005) / 0.005) * (1.0 - sigmoid((t - 0.36) / 0.03));
    waves + st
}

pub fn generate(spec: &Spec) -> Waveform {
    let fs = spec.sampling_hz;
    let n = (spec.duration_s * fs) as usize;
    let rr = 60.0 / spec.heart_rate_bpm;
    let first_r = 0.4;
    let shift = |lead: &str| {
        spec.st_mm
            .iter()
            .find(|(l, _)| *l == lead)
            .map_or(0.0, |(_, mm)| mm * 100.0)
    };
    let mut base: Vec<(&str, Vec<f64>)> = WAVES
        .iter()
        .map(|(name, amplitudes)| {
            let st = shift(name);
            let samples = (0..n)
                .map(|i| {
                    let t = i as f64 / fs;
                    let beat = ((t - first_r) / rr).round();
                    let since_r = t - first_r - beat * rr;
                    // A slow baseline wander, identical in all leads, as real recordings have.
                    beat_value(amplitudes, st, since_r)
                        + 20.0 * (2.0 * std::f64::consts::PI * 0.2 * t).sin()
                })
                .collect();
            (*name, samples)
        })
        .collect();
    let lead_i = base.remove(0).1;
    let lead_ii = base.remove(0).1;
    let derived = |f: &dyn Fn(f64, f64) -> f64| -> Vec<f64> {
        lead_i
            .iter()
            .zip(&lead_ii)
            .map(|(a, b)| f(*a, *b))
            .collect()
    };
    let mut leads = vec![
        ("I", lead_i.clone()),
        ("II", lead_ii.clone()),
        ("III", derived(&|i, ii| ii - i)),
        ("aVR", derived(&|i, ii| -(i + ii) / 2.0)),
        ("aVL", derived(&|i, ii| i - ii / 2.0)),
        ("aVF", derived(&|i, ii| ii - i / 2.0)),
    ];
    leads.extend(base);
    Waveform {
        sampling_hz: fs,
        leads: leads
            .into_iter()
            .map(|(name, samples)| Lead {
                name: name.to_owned(),
                samples_uv: samples.iter().map(|v| v.round() as i32).collect(),
            })
            .collect(),
        non_ecg_channels: Vec::new(),
        ..Default::default()
    }
}
