//! QRS detection: a Pan–Tompkins style detector (band-pass 5–15 Hz, derivative, squaring,
//! 150 ms moving-window integration) with adaptive signal and noise levels, T-wave
//! discrimination and search-back for missed beats. Works at any sampling rate; the returned
//! beats are sample indices on the record's own time axis.

use crate::filter::{band_pass, moving_average};
use crate::waveform::Waveform;

/// Detects beats on the lead best suited (lead II where present, else the first lead).
pub fn detect_beats(waveform: &Waveform) -> Vec<usize> {
    let lead = waveform
        .lead("II")
        .or_else(|| waveform.leads.first())
        .expect("a checked waveform has leads");
    detect_lead(&lead.samples_uv, waveform.sampling_hz)
}

/// Detection works at about 180 Hz: QRS energy lies below 40 Hz, and a lower rate halves the
/// work at 360 Hz and more at 500 or 1000 Hz. Beats are placed on the full-rate signal after.
const DETECTION_HZ: f64 = 180.0;

struct Features {
    band: Vec<f32>,
    energy: Vec<f32>,
    slope_scale: f32,
}

impl Features {
    fn slope(&self, i: usize) -> f32 {
        if i == 0 || i + 1 >= self.band.len() {
            return 0.0;
        }
        (self.band[i + 1] - self.band[i - 1]) * self.slope_scale
    }

    /// The steepest slope within `half` samples of `centre`.
    fn max_slope_near(&self, centre: usize, half: usize) -> f32 {
        let end = (centre + half + 1).min(self.band.len());
        (centre.saturating_sub(half)..end)
            .map(|i| self.slope(i).abs())
            .fold(0.0, f32::max)
    }
}

fn features(signal: Vec<f32>, fs: f64) -> Features {
    let mut band = signal;
    band_pass(&mut band, fs, 5.0, 15.0);
    let slope_scale = (fs / 2.0) as f32 / 1000.0;
    let n = band.len();
    let mut squared = vec![0.0f32; n];
    for i in 1..n.saturating_sub(1) {
        let d = (band[i + 1] - band[i - 1]) * slope_scale;
        squared[i] = d * d;
    }
    let energy = moving_average(&squared, (0.15 * fs).round() as usize);
    Features {
        band,
        energy,
        slope_scale,
    }
}

/// Local maxima of the integrated energy, at least `gap` samples apart (the larger one wins).
fn candidate_peaks(energy: &[f32], gap: usize) -> Vec<usize> {
    let mut peaks: Vec<usize> = Vec::new();
    for i in 1..energy.len().saturating_sub(1) {
        if energy[i] > energy[i - 1] && energy[i] >= energy[i + 1] {
            match peaks.last() {
                Some(&last) if i - last < gap => {
                    if energy[i] > energy[last] {
                        *peaks.last_mut().expect("just matched") = i;
                    }
                }
                _ => peaks.push(i),
            }
        }
    }
    peaks
}

fn max_abs_in(values: &[f32], centre: usize, half: usize) -> (usize, f32) {
    let start = centre.saturating_sub(half);
    let end = (centre + half + 1).min(values.len());
    (start..end)
        .map(|i| (i, values[i].abs()))
        .fold(
            (centre, 0.0),
            |best, item| if item.1 > best.1 { item } else { best },
        )
}

/// The energies of the last eight beats. The signal level is their 30th percentile rather than
/// a running mean, so that a run of large ectopic beats (bigeminy, say) does not lift the
/// threshold above the normal beats between them.
#[derive(Default)]
struct RecentBeats {
    energies: [f32; 8],
    count: usize,
    level: Option<f32>,
}

impl RecentBeats {
    fn push(&mut self, energy: f32) {
        self.energies[self.count % 8] = energy;
        self.count += 1;
        let filled = self.count.min(8);
        if filled >= 3 {
            let mut sorted = self.energies;
            sorted[..filled].sort_by(f32::total_cmp);
            self.level = Some(sorted[filled * 3 / 10]);
        }
    }

    fn level(&self) -> Option<f32> {
        self.level
    }
}

/// Detects beats in one lead.
pub fn detect_lead(samples: &[i32], sampling_hz: f64) -> Vec<usize> {
    let factor = ((sampling_hz / DETECTION_HZ).floor() as usize).max(1);
    let fs = sampling_hz / factor as f64;
    // Averaging each group of `factor` samples is also the anti-aliasing filter.
    let decimated: Vec<f32> = samples
        .chunks(factor)
        .map(|c| c.iter().map(|v| *v as f32).sum::<f32>() / c.len() as f32)
        .collect();
    let f = features(decimated, fs);
    let refractory = (0.2 * fs) as usize;
    let t_wave_window = (0.36 * fs) as usize;
    let half_qrs = (0.075 * fs) as usize;
    let peaks = candidate_peaks(&f.energy, refractory);
    if peaks.is_empty() {
        return Vec::new();
    }

    // Learning: the first two seconds set the levels.
    let learn_end = ((2.0 * fs) as usize).min(f.energy.len());
    let learn = &f.energy[..learn_end];
    let mut signal_level = 0.25 * learn.iter().copied().fold(0.0, f32::max);
    let mut noise_level = 0.5 * learn.iter().sum::<f32>() / learn.len().max(1) as f32;

    let mut recent = RecentBeats::default();
    let mut beats: Vec<usize> = Vec::new(); // energy-peak positions of accepted beats
    let mut beat_slopes: Vec<f32> = Vec::new();
    let mut beat_energies: Vec<f32> = Vec::new();
    let mut rr: Vec<usize> = Vec::new();
    let mut pending_noise: Vec<usize> = Vec::new(); // candidates since the last beat, rejected

    let rr_mean = |rr: &[usize]| -> f64 {
        let recent = &rr[rr.len().saturating_sub(8)..];
        if recent.is_empty() {
            fs
        } else {
            recent.iter().sum::<usize>() as f64 / recent.len() as f64
        }
    };

    for &peak in &peaks {
        let threshold = noise_level + 0.25 * (recent.level().unwrap_or(signal_level) - noise_level);
        // Search back for a missed beat when the gap grew too long.
        if let Some(&last) = beats.last() {
            let limit = (1.66 * rr_mean(&rr)) as usize;
            if peak - last > limit {
                let lower = 0.5 * threshold;
                let missed = pending_noise
                    .iter()
                    .copied()
                    .filter(|&p| {
                        p - last >= refractory && peak - p >= refractory && f.energy[p] > lower
                    })
                    .max_by(|a, b| f.energy[*a].total_cmp(&f.energy[*b]));
                if let Some(missed) = missed {
                    signal_level = 0.25 * f.energy[missed] + 0.75 * signal_level;
                    recent.push(f.energy[missed]);
                    rr.push(missed - last);
                    beat_slopes.push(f.max_slope_near(missed, half_qrs));
                    beat_energies.push(f.energy[missed]);
                    beats.push(missed);
                    pending_noise.clear();
                }
            }
        }
        let level = recent.level().unwrap_or(signal_level);
        let threshold = noise_level + 0.25 * (level - noise_level);
        let value = f.energy[peak];
        let mut is_beat = value > threshold;
        if is_beat
            && let (Some(&last), Some(&last_slope), Some(&last_energy)) =
                (beats.last(), beat_slopes.last(), beat_energies.last())
        {
            if peak - last < refractory {
                is_beat = false;
            } else if peak - last < t_wave_window {
                // A T wave rises more slowly than the QRS before it and carries less QRS-band
                // energy; an early ventricular beat is slower too, but wide and strong.
                let slope = f.max_slope_near(peak, half_qrs);
                if slope < 0.5 * last_slope && value < last_energy {
                    is_beat = false;
                }
            }
        }
        if is_beat {
            signal_level = 0.125 * value + 0.875 * signal_level;
            recent.push(value);
            if let Some(&last) = beats.last() {
                rr.push(peak - last);
            }
            beat_slopes.push(f.max_slope_near(peak, half_qrs));
            beat_energies.push(value);
            beats.push(peak);
            pending_noise.clear();
        } else {
            noise_level = 0.125 * value + 0.875 * noise_level;
            pending_noise.push(peak);
        }
    }
    // The fiducial point: the largest band-passed deflection near each energy peak, then the
    // extreme of the full-rate signal with the same sign near it (the R peak, or the S nadir of
    // a mostly negative QRS).
    let mut fiducials: Vec<usize> = beats
        .iter()
        .map(|&p| {
            let (at, _) = max_abs_in(&f.band, p, half_qrs);
            let positive = f.band[at] >= 0.0;
            let centre = at * factor + factor / 2;
            let start = centre.saturating_sub(2 * factor);
            let end = (centre + 2 * factor + 1).min(samples.len());
            let pick =
                (start..end).max_by_key(|&i| if positive { samples[i] } else { -samples[i] });
            pick.unwrap_or(centre.min(samples.len().saturating_sub(1)))
        })
        .collect();
    fiducials.dedup();
    fiducials
}
