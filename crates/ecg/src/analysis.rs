//! The whole automatic analysis of one ECG, as yijia stores and shows it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::detect;
use crate::measure::{self, Rhythm};
use crate::stated::{self, Device, DeviceStatement};
use crate::stemi::{self, Screening};
use crate::waveform::Waveform;

pub use crate::stemi::{Patient, Sex};

#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    pub sampling_hz: f64,
    pub duration_s: f64,
    pub leads: Vec<String>,
    /// Channels in the file that are not ECG leads, never analysed.
    pub non_ecg_channels: Vec<String>,
    /// Sample indices of the detected QRS complexes, on the record's own time axis.
    pub beats: Vec<usize>,
    pub heart_rate_bpm: Option<f64>,
    pub rhythm: Rhythm,
    pub pr_ms: Option<f64>,
    pub qrs_ms: Option<f64>,
    pub qt_ms: Option<f64>,
    /// QT corrected for rate: Bazett (QT/√RR) and Fridericia (QT/∛RR), RR in seconds.
    pub qtc_ms: Option<f64>,
    pub qtc_fridericia_ms: Option<f64>,
    pub p_axis_deg: Option<f64>,
    pub qrs_axis_deg: Option<f64>,
    pub t_axis_deg: Option<f64>,
    /// Why a measurement above is null, by its field name.
    pub not_measured: BTreeMap<String, String>,
    /// ST deviation at J+60 ms against the PR baseline, mm at 10 mm/mV.
    pub st_deviation_mm: BTreeMap<String, f64>,
    /// Deviation at the J point, mm.
    pub j_point_mm: BTreeMap<String, f64>,
    pub stemi: Screening,
    /// A critical value (危急值): suspected STEMI, rate < 40 or > 150, or a run of wide fast beats.
    pub critical: bool,
    pub critical_reasons: Vec<String>,
    /// The recording device, where the file names it.
    pub device: Option<Device>,
    /// The device's own analysis (设备自动分析), where the file states it.
    pub device_statement: Option<DeviceStatement>,
    /// Where yijia and the device disagree beyond the tolerances of [`stated`].
    pub disagreements: Vec<Disagreement>,
}

/// One measurement on which yijia and the device disagree.
#[derive(Clone, Debug, Serialize)]
pub struct Disagreement {
    /// `heart_rate_bpm`, `pr_ms`, `qrs_ms` or `qt_ms`.
    pub measure: &'static str,
    pub yijia: f64,
    pub device: f64,
}

fn disagreements(analysis: &Analysis, device: &DeviceStatement) -> Vec<Disagreement> {
    let rate_tolerance = device.heart_rate_bpm.unwrap_or(0.0) * stated::TOLERANCE_RATE;
    [
        (
            "heart_rate_bpm",
            analysis.heart_rate_bpm,
            device.heart_rate_bpm,
            rate_tolerance,
        ),
        (
            "pr_ms",
            analysis.pr_ms,
            device.pr_ms,
            stated::TOLERANCE_PR_MS,
        ),
        (
            "qrs_ms",
            analysis.qrs_ms,
            device.qrs_ms,
            stated::TOLERANCE_QRS_MS,
        ),
        (
            "qt_ms",
            analysis.qt_ms,
            device.qt_ms,
            stated::TOLERANCE_QT_MS,
        ),
    ]
    .into_iter()
    .filter_map(|(measure, ours, theirs, tolerance)| {
        let (yijia, device) = (ours?, theirs?);
        ((yijia - device).abs() > tolerance).then_some(Disagreement {
            measure,
            yijia,
            device,
        })
    })
    .collect()
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
    let rr_s = heart_rate_bpm.map(|rate| 60.0 / rate);
    let corrected = |root: f64| {
        measured
            .qt_ms
            .zip(rr_s)
            .map(|(qt, rr)| (qt / rr.powf(root)).round())
    };
    let mut not_measured = BTreeMap::new();
    let mut missing = |field: &str, value: Option<f64>, reason: &str| {
        if value.is_none() {
            not_measured.insert(field.to_owned(), reason.to_owned());
        }
    };
    missing(
        "heart_rate_bpm",
        heart_rate_bpm,
        "fewer than two QRS complexes were found",
    );
    let qrs = measured.unmeasured_qrs;
    missing(
        "pr_ms",
        measured.pr_ms,
        qrs.unwrap_or(
            "no P wave was found before the QRS (atrial fibrillation, a junctional rhythm, or noise)",
        ),
    );
    missing("qrs_ms", measured.qrs_ms, qrs.unwrap_or_default());
    missing(
        "qt_ms",
        measured.qt_ms,
        qrs.unwrap_or("no T wave end was found (a flat T wave, or noise)"),
    );
    missing("qtc_ms", corrected(0.5), "needs both QT and heart rate");
    missing(
        "qrs_axis_deg",
        measured.qrs_axis_deg,
        "needs leads I and aVF",
    );
    let mut analysis = Analysis {
        sampling_hz: fs,
        duration_s: waveform.duration_s(),
        leads: waveform.leads.iter().map(|l| l.name.clone()).collect(),
        non_ecg_channels: waveform.non_ecg_channels.clone(),
        beats,
        heart_rate_bpm,
        rhythm,
        pr_ms: measured.pr_ms,
        qrs_ms: measured.qrs_ms,
        qt_ms: measured.qt_ms,
        qtc_ms: corrected(0.5),
        qtc_fridericia_ms: corrected(1.0 / 3.0),
        p_axis_deg: measured.p_axis_deg,
        qrs_axis_deg: measured.qrs_axis_deg,
        t_axis_deg: measured.t_axis_deg,
        not_measured,
        st_deviation_mm: measured.st_deviation_mm,
        j_point_mm: measured.j_point_mm,
        stemi,
        critical: !critical_reasons.is_empty(),
        critical_reasons,
        device: waveform.device.clone(),
        device_statement: waveform.device_statement.clone(),
        disagreements: Vec::new(),
    };
    if let Some(device) = &analysis.device_statement {
        analysis.disagreements = disagreements(&analysis, device);
    }
    analysis
}
