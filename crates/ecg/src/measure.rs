//! Measurements from detected beats: heart rate, rhythm, a median beat per lead, QRS onset and
//! J point, PR/QRS/QT where measurable, and ST deviation against the PR baseline.

use std::collections::BTreeMap;

use serde::Serialize;

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
        return BeatMeasurements::default();
    }
    let length = before + after;
    // Spatial slope: the summed absolute derivative over all leads.
    let slope: Vec<f64> = (0..length)
        .map(|i| {
            if i == 0 || i + 1 >= length {
                return 0.0;
            }
            medians
                .iter()
                .map(|(_, m)| (m[i + 1] - m[i - 1]).abs())
                .sum::<f64>()
        })
        .collect();
    let qrs_window = before.saturating_sub(ms(80.0))..(before + ms(80.0)).min(length);
    let peak_slope = slope[qrs_window.clone()]
        .iter()
        .copied()
        .fold(0.0, f64::max);
    let quiet = 0.05 * peak_slope;
    let hold = ms(8.0).max(1);
    let onset = (ms(40.0)..=before)
        .rev()
        .find(|&i| i >= hold && slope[i - hold..=i].iter().all(|&s| s < quiet))
        .unwrap_or(before.saturating_sub(ms(40.0)));
    let j_point = (before..length.saturating_sub(hold))
        .find(|&i| slope[i..i + hold].iter().all(|&s| s < quiet))
        .unwrap_or(before + ms(40.0));
    let qrs_ms = ((j_point - onset) as f64 * 1000.0 / fs).round();

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

    // P and T are delineated on band-passed medians (0.5–40 Hz, zero phase), which keep
    // their shape but not the wander that moves a raw baseline; ST above stays on the raw.
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
    let t_end = t_end(&filtered, &baseline_window, j_point, rr, fs);
    let p_start = p_onset(&filtered, &baseline_window, onset, rr, fs);
    let axis = |range: std::ops::Range<usize>| frontal_axis(&filtered, &baseline_window, range);
    BeatMeasurements {
        pr_ms: p_start.map(|start| ((onset - start) as f64 * 1000.0 / fs).round()),
        qrs_ms: Some(qrs_ms),
        qt_ms: t_end.map(|end| ((end - onset) as f64 * 1000.0 / fs).round()),
        p_axis_deg: p_start.and_then(|start| axis(start..onset.saturating_sub(ms(20.0)))),
        qrs_axis_deg: axis(onset..j_point),
        t_axis_deg: t_end.and_then(|end| axis((j_point + ms(40.0)).min(end)..end)),
        st_deviation_mm,
        j_point_mm,
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

/// The slope at `i`, per sample, over ±`half` samples.
fn slope_at(beat: &[f64], i: usize, half: usize) -> f64 {
    let (from, to) = (i.saturating_sub(half), (i + half).min(beat.len() - 1));
    (beat[to] - beat[from]) / (to - from).max(1) as f64
}

/// Where the tangent at `at` crosses the baseline.
fn tangent_crossing(beat: &[f64], at: usize, half: usize) -> Option<f64> {
    let slope = slope_at(beat, at, half);
    (slope.abs() > f64::EPSILON).then(|| at as f64 - beat[at] / slope)
}

/// The end of the T wave: per lead by the tangent method (the tangent at the steepest point
/// of the T wave's descent meets the baseline), then across the leads whose T wave is clear
/// (≥ 100 µV) the third quartile of their ends — the global T end lies near the latest lead's,
/// as the CSE definitions have it, without following one noisy lead.
fn t_end(
    medians: &[(String, Vec<f64>)],
    baseline_window: &std::ops::Range<usize>,
    j_point: usize,
    rr_s: f64,
    fs: f64,
) -> Option<usize> {
    let ms = |n: f64| (n * fs / 1000.0).round() as usize;
    let length = medians.first()?.1.len();
    let window = (j_point + ms(60.0)).min(length - 1)
        ..(j_point + ms(450.0_f64.min(rr_s * 1000.0 * 0.7))).min(length - 1);
    let half = ms(8.0).max(1);
    let lead_end = |beat: &[f64], peak: usize| -> Option<usize> {
        let sign = beat[peak].signum();
        let descent = (peak..(peak + ms(200.0)).min(length - 1)).max_by(|a, b| {
            (-sign * slope_at(beat, *a, half)).total_cmp(&(-sign * slope_at(beat, *b, half)))
        })?;
        let end = tangent_crossing(beat, descent, half)?;
        (end > peak as f64 && end < (peak + ms(300.0)) as f64).then(|| end.round() as usize)
    };
    let waves: Vec<(Vec<f64>, usize)> = medians
        .iter()
        .map(|(_, m)| deviation_of(m, baseline_window))
        .filter_map(|beat| {
            let peak = window
                .clone()
                .max_by(|a, b| beat[*a].abs().total_cmp(&beat[*b].abs()))?;
            Some((beat, peak))
        })
        .collect();
    let mut ends: Vec<usize> = waves
        .iter()
        .filter(|(beat, peak)| beat[*peak].abs() >= 100.0)
        .filter_map(|(beat, peak)| lead_end(beat, *peak))
        .collect();
    if ends.is_empty() {
        // Low voltage: the lead with the largest T wave, if it has one at all.
        let (beat, peak) = waves
            .iter()
            .max_by(|(a, pa), (b, pb)| a[*pa].abs().total_cmp(&b[*pb].abs()))?;
        if beat[*peak].abs() < 50.0 {
            return None; // no T wave to speak of
        }
        ends.extend(lead_end(beat, *peak));
    }
    ends.sort_unstable();
    ends.get((ends.len().saturating_sub(1) * 3).div_ceil(4))
        .copied()
}

/// The onset of the P wave by the tangent method: on lead II (or the lead with the largest P
/// wave), the tangent at the steepest point of the P wave's rise meets the baseline.
fn p_onset(
    medians: &[(String, Vec<f64>)],
    baseline_window: &std::ops::Range<usize>,
    qrs_onset: usize,
    rr_s: f64,
    fs: f64,
) -> Option<usize> {
    let ms = |n: f64| (n * fs / 1000.0).round() as usize;
    // After the previous T wave, and at least 40 ms before the QRS.
    let earliest = ms(300.0_f64.min(rr_s * 1000.0 * 0.45));
    let window = qrs_onset.saturating_sub(earliest)..qrs_onset.saturating_sub(ms(40.0));
    if window.is_empty() {
        return None;
    }
    let lead = medians
        .iter()
        .find(|(name, _)| name == "II")
        .or_else(|| medians.first())?;
    let beat = deviation_of(&lead.1, baseline_window);
    let peak = window
        .clone()
        .max_by(|a, b| beat[*a].abs().total_cmp(&beat[*b].abs()))?;
    if beat[peak].abs() < 25.0 || peak <= window.start {
        return None; // no P wave: atrial fibrillation, or a junctional rhythm
    }
    let half = ms(8.0).max(1);
    let sign = beat[peak].signum();
    let rise = (peak.saturating_sub(ms(100.0)).max(window.start)..peak).max_by(|a, b| {
        (sign * slope_at(&beat, *a, half)).total_cmp(&(sign * slope_at(&beat, *b, half)))
    })?;
    let start = tangent_crossing(&beat, rise, half)?;
    let floor = peak.saturating_sub(ms(150.0)) as f64;
    (start >= floor && start < peak as f64).then(|| start.round() as usize)
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
