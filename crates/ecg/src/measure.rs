//! Measurements from detected beats: heart rate, rhythm, a median beat per lead delineated by
//! [`delineate`], PR/QRS/QT where measurable, frontal axes, and ST deviation against the PR
//! baseline.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::delineate;
use crate::waveform::Waveform;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rhythm {
    SinusRhythm,
    SinusBradycardia,
    SinusTachycardia,
    /// Irregularly irregular RR intervals, suggesting atrial fibrillation.
    IrregularRhythm,
    Undetermined,
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(values[values.len() / 2])
}

pub fn rr_intervals_s(beats: &[usize], fs: f64) -> Vec<f64> {
    beats
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64 / fs)
        .collect()
}

pub fn heart_rate_bpm(beats: &[usize], fs: f64) -> Option<f64> {
    let mut rr = rr_intervals_s(beats, fs);
    median(&mut rr).map(|m| (60.0 / m * 10.0).round() / 10.0)
}

pub fn rhythm(beats: &[usize], fs: f64) -> Rhythm {
    let rr = rr_intervals_s(beats, fs);
    if rr.len() < 3 {
        return Rhythm::Undetermined;
    }
    let mut sorted = rr.clone();
    let median_rr = median(&mut sorted).unwrap_or(1.0);
    let mut successive: Vec<f64> = rr.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let irregularity = median(&mut successive).unwrap_or(0.0) / median_rr;
    let rate = 60.0 / median_rr;
    if irregularity > 0.08 {
        Rhythm::IrregularRhythm
    } else if rate < 60.0 {
        Rhythm::SinusBradycardia
    } else if rate > 100.0 {
        Rhythm::SinusTachycardia
    } else {
        Rhythm::SinusRhythm
    }
}

/// Median beats, the points found on them, and the measurements.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BeatMeasurements {
    pub pr_ms: Option<f64>,
    pub qrs_ms: Option<f64>,
    pub qt_ms: Option<f64>,
    /// Frontal plane axes (degrees, −180…180) from the net area of each wave in I and aVF.
    pub p_axis_deg: Option<f64>,
    pub qrs_axis_deg: Option<f64>,
    pub t_axis_deg: Option<f64>,
    /// ST deviation at J+60 ms against the PR baseline, in mm at 10 mm/mV.
    pub st_deviation_mm: BTreeMap<String, f64>,
    /// Deviation at the J point itself, in mm; the STEMI criteria use it.
    pub j_point_mm: BTreeMap<String, f64>,
    /// Why no QRS (and so nothing above) could be measured.
    #[serde(skip)]
    pub unmeasured_qrs: Option<&'static str>,
}

impl BeatMeasurements {
    fn unmeasured(reason: &'static str) -> BeatMeasurements {
        BeatMeasurements {
            unmeasured_qrs: Some(reason),
            ..Default::default()
        }
    }
}

/// Median beat of one lead: `before` samples before each R and `after` after it.
fn median_beat(samples: &[i32], beats: &[usize], before: usize, after: usize) -> Option<Vec<f64>> {
    let usable: Vec<usize> = beats
        .iter()
        .copied()
        .filter(|&b| b >= before && b + after < samples.len())
        .take(40)
        .collect();
    if usable.len() < 2 {
        return None;
    }
    let mut beat = Vec::with_capacity(before + after);
    let mut column = Vec::with_capacity(usable.len());
    for offset in 0..before + after {
        column.clear();
        column.extend(
            usable
                .iter()
                .map(|&b| f64::from(samples[b - before + offset])),
        );
        beat.push(median(&mut column).expect("not empty"));
    }
    Some(beat)
}

pub fn measure(waveform: &Waveform, beats: &[usize]) -> BeatMeasurements {
    let fs = waveform.sampling_hz;
    let ms = |n: f64| (n * fs / 1000.0).round() as usize;
    let (before, after) = (ms(350.0), ms(600.0));
    let medians: Vec<(String, Vec<f64>)> = waveform
        .leads
        .iter()
        .filter_map(|l| {
            median_beat(&l.samples_uv, beats, before, after).map(|m| (l.name.clone(), m))
        })
        .collect();
    if medians.is_empty() {
        return BeatMeasurements::unmeasured("too few clean beats for a median beat");
    }
    // The waves are delineated on band-passed medians (0.5–40 Hz, zero phase), which keep
    // their shape but not the wander that moves a raw baseline; ST below stays on the raw.
    let filtered: Vec<(String, Vec<f64>)> = waveform
        .leads
        .iter()
        .filter_map(|lead| {
            let mut signal: Vec<f32> = lead.samples_uv.iter().map(|v| *v as f32).collect();
            crate::filter::band_pass(&mut signal, fs, 0.5, 40.0);
            let signal: Vec<i32> = signal.iter().map(|v| v.round() as i32).collect();
            median_beat(&signal, beats, before, after).map(|m| (lead.name.clone(), m))
        })
        .collect();
    let rr = {
        let mut rr = rr_intervals_s(beats, fs);
        median(&mut rr).unwrap_or(1.0)
    };
    let leads: Vec<&[f64]> = filtered.iter().map(|(_, m)| &m[..]).collect();
    let found = delineate::delineate(&leads, before, rr, fs);
    let (Some(onset), Some(j_point)) = (found.qrs_onset, found.qrs_end) else {
        return BeatMeasurements::unmeasured(
            "no lead shows a QRS complex whose onset and end can be found",
        );
    };
    let length = before + after;
    let baseline_window = onset.saturating_sub(ms(30.0))
        ..onset
            .saturating_sub(ms(5.0))
            .max(onset.saturating_sub(ms(30.0)) + 1);
    let st_at = (j_point + ms(60.0)).min(length - 1);
    let mut st_deviation_mm = BTreeMap::new();
    let mut j_point_mm = BTreeMap::new();
    for (name, beat) in &medians {
        let baseline =
            beat[baseline_window.clone()].iter().sum::<f64>() / baseline_window.len() as f64;
        let round = |uv: f64| (uv / 100.0 * 100.0).round() / 100.0;
        st_deviation_mm.insert(name.clone(), round(beat[st_at] - baseline));
        j_point_mm.insert(name.clone(), round(beat[j_point] - baseline));
    }
    let duration = |from: usize, to: usize| ((to - from) as f64 * 1000.0 / fs).round();
    let axis = |range: std::ops::Range<usize>| frontal_axis(&filtered, &baseline_window, range);
    BeatMeasurements {
        pr_ms: found.p_onset.map(|start| duration(start, onset)),
        qrs_ms: Some(duration(onset, j_point)),
        qt_ms: found.t_end.map(|end| duration(onset, end)),
        p_axis_deg: found
            .p_onset
            .and_then(|start| axis(start..found.p_end.unwrap_or(onset.saturating_sub(ms(20.0))))),
        qrs_axis_deg: axis(onset..j_point),
        t_axis_deg: found
            .t_end
            .and_then(|end| axis((j_point + ms(40.0)).min(end)..end)),
        st_deviation_mm,
        j_point_mm,
        unmeasured_qrs: None,
    }
}

/// The frontal axis of the wave in `range`: the angle of its net area in leads I and aVF
/// (aVF pointing down, as the hexaxial reference system draws it).
fn frontal_axis(
    medians: &[(String, Vec<f64>)],
    baseline_window: &std::ops::Range<usize>,
    range: std::ops::Range<usize>,
) -> Option<f64> {
    if range.is_empty() {
        return None;
    }
    let net = |name: &str| {
        let (_, beat) = medians.iter().find(|(lead, _)| lead == name)?;
        let deviation = deviation_of(beat, baseline_window);
        Some(deviation.get(range.clone())?.iter().sum::<f64>())
    };
    let (i, avf) = (net("I")?, net("aVF")?);
    (i.abs() + avf.abs() > f64::EPSILON).then(|| avf.atan2(i).to_degrees().round())
}

/// A lead's median beat as deviation from its PR-segment baseline.
fn deviation_of(beat: &[f64], baseline_window: &std::ops::Range<usize>) -> Vec<f64> {
    let baseline = beat[baseline_window.clone()].iter().sum::<f64>() / baseline_window.len() as f64;
    beat.iter().map(|v| v - baseline).collect()
}

/// Whether each beat looks wide (QRS over 120 ms), judged from the duration of steep slope
/// around it on the detection lead.
pub fn wide_beats(samples: &[i32], beats: &[usize], fs: f64) -> Vec<bool> {
    let half = (0.12 * fs) as usize;
    beats
        .iter()
        .map(|&b| {
            let start = b.saturating_sub(half);
            let end = (b + half).min(samples.len().saturating_sub(1));
            if end <= start + 2 {
                return false;
            }
            let slopes: Vec<f64> = (start + 1..end)
                .map(|i| f64::from((samples[i + 1] - samples[i - 1]).abs()))
                .collect();
            let peak = slopes.iter().copied().fold(0.0, f64::max);
            let steep: Vec<usize> = slopes
                .iter()
                .enumerate()
                .filter(|(_, s)| **s > 0.15 * peak)
                .map(|(i, _)| i)
                .collect();
            match (steep.first(), steep.last()) {
                (Some(first), Some(last)) => (last - first) as f64 / fs > 0.12,
                _ => false,
            }
        })
        .collect()
}
