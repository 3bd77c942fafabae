//! The whole automatic analysis of one ECG, as yijia stores and shows it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::detect;
use crate::measure::{self, Rhythm};
use crate::stemi::{self, Screening};
use crate::waveform::Waveform;

pub use crate::stemi::{Patient, Sex};

#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    pub sampling_hz: f64,
    pub duration_s: f64,
    pub leads: Vec<String>,
    /// Sample indices of the detected QRS complexes, on the record's own time axis.
    pub beats: Vec<usize>,
    pub heart_rate_bpm: Option<f64>,
    pub rhythm: Rhythm,
    pub pr_ms: Option<f64>,
    pub qrs_ms: Option<f64>,
    pub qt_ms: Option<f64>,
    /// ST deviation at J+60 ms against the PR baseline, mm at 10 mm/mV.
    pub st_deviation_mm: BTreeMap<String, f64>,
    /// Deviation at the J point, mm.
    pub j_point_mm: BTreeMap<String, f64>,
    pub stemi: Screening,
    /// A critical value (危急值): suspected STEMI, rate < 40 or > 150, or a run of wide fast beats.
    pub critical: bool,
    pub critical_reasons: Vec<String>,
}

/// Analyses a checked waveform; `patient` sets the V2–V3 STEMI limits.
pub fn analyze(waveform: &Waveform, patient: Option<Patient>) -> Analysis {
    let fs = waveform.sampling_hz;
    let beats = detect::detect_beats(waveform);
    let heart_rate_bpm = measure::heart_rate_bpm(&beats, fs);
    let rhythm = measure::rhythm(&beats, fs);
    let measured = measure::measure(waveform, &beats);
    // Elevation must hold from the J point to J+60 ms: a J point placed on the tail of a deep S
    // wave would otherwise read as millimetres of elevation.
    let sustained_mm: BTreeMap<String, f64> = measured
        .j_point_mm
        .iter()
        .map(|(lead, j)| {
            (
                lead.clone(),
                j.min(measured.st_deviation_mm.get(lead).copied().unwrap_or(*j)),
            )
        })
        .collect();
    let stemi = stemi::screen(&sustained_mm, patient);

    let mut critical_reasons = Vec::new();
    if stemi.suspected {
        critical_reasons.push("suspected STEMI".to_owned());
    }
    match heart_rate_bpm {
        Some(rate) if rate < 40.0 => {
            critical_reasons.push(format!("heart rate {rate:.0}/min < 40"))
        }
        Some(rate) if rate > 150.0 => {
            critical_reasons.push(format!("heart rate {rate:.0}/min > 150"))
        }
        _ => {}
    }
    let detection_lead = waveform
        .lead("II")
        .or_else(|| waveform.leads.first())
        .expect("checked");
    let wide = measure::wide_beats(&detection_lead.samples_uv, &beats, fs);
    let run = beats.windows(3).zip(wide.windows(3)).any(|(b, w)| {
        w.iter().all(|x| *x) && (b[2] - b[0]) as f64 / fs < 2.0 * 0.6 // three wide beats faster than 100/min
    });
    if run {
        critical_reasons
            .push("run of wide fast beats (possible ventricular tachycardia)".to_owned());
    }
    Analysis {
        sampling_hz: fs,
        duration_s: waveform.duration_s(),
        leads: waveform.leads.iter().map(|l| l.name.clone()).collect(),
        beats,
        heart_rate_bpm,
        rhythm,
        pr_ms: measured.pr_ms,
        qrs_ms: measured.qrs_ms,
        qt_ms: measured.qt_ms,
        st_deviation_mm: measured.st_deviation_mm,
        j_point_mm: measured.j_point_mm,
        stemi,
        critical: !critical_reasons.is_empty(),
        critical_reasons,
    }
}
