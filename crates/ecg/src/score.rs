//! Scoring detected beats against reference annotations as ANSI/AAMI EC57 (and WFDB's `bxb`)
//! do: reference beats only, a 0.15 s match window, the first 5 minutes left out.

use serde::Serialize;

use crate::annotations::{Annotation, is_beat};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub true_positives: u64,
    pub false_negatives: u64,
    pub false_positives: u64,
}

/// Counts over several records add up before rates are taken ("gross" figures).
impl std::ops::Add for Counts {
    type Output = Counts;

    fn add(self, other: Counts) -> Counts {
        Counts {
            true_positives: self.true_positives + other.true_positives,
            false_negatives: self.false_negatives + other.false_negatives,
            false_positives: self.false_positives + other.false_positives,
        }
    }
}

impl Counts {
    /// Sensitivity, TP / (TP + FN).
    pub fn sensitivity(self) -> f64 {
        self.true_positives as f64 / (self.true_positives + self.false_negatives).max(1) as f64
    }

    /// Positive predictivity, TP / (TP + FP).
    pub fn positive_predictivity(self) -> f64 {
        self.true_positives as f64 / (self.true_positives + self.false_positives).max(1) as f64
    }
}

/// Compares detections with reference beats from `start_s` on (EC57: 300 s).
pub fn score(
    reference: &[Annotation],
    detections: &[usize],
    sampling_hz: f64,
    start_s: f64,
) -> Counts {
    let window = (0.15 * sampling_hz).round() as i64;
    let start = (start_s * sampling_hz).round() as i64;
    let refs: Vec<i64> = reference
        .iter()
        .filter(|a| is_beat(a.code))
        .map(|a| a.sample as i64)
        .filter(|&s| s >= start)
        .collect();
    let mut dets: Vec<i64> = detections
        .iter()
        .map(|&d| d as i64)
        .filter(|&d| d >= start - window)
        .collect();
    dets.sort_unstable();
    // Detections just before the start count only if they match a scored beat.
    let mut counts = Counts::default();
    let (mut i, mut j) = (0, 0);
    while i < refs.len() && j < dets.len() {
        let (r, d) = (refs[i], dets[j]);
        if d < r - window {
            if d >= start {
                counts.false_positives += 1;
            }
            j += 1;
        } else if d > r + window {
            counts.false_negatives += 1;
            i += 1;
        } else {
            // A later detection closer to this beat (and not closer to the next) takes it.
            let better_next = dets.get(j + 1).is_some_and(|&next| {
                (next - r).abs() < (d - r).abs()
                    && refs
                        .get(i + 1)
                        .is_none_or(|&r2| (next - r).abs() <= (next - r2).abs())
            });
            if better_next {
                if d >= start {
                    counts.false_positives += 1;
                }
                j += 1;
                continue;
            }
            counts.true_positives += 1;
            i += 1;
            j += 1;
        }
    }
    counts.false_negatives += (refs.len() - i) as u64;
    counts.false_positives += dets[j..].iter().filter(|&&d| d >= start).count() as u64;
    counts
}
