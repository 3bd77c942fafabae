//! Wave boundaries on median beats by the dyadic wavelet transform, after Martínez, Almeida,
//! Olmos, Rocha and Laguna, "A wavelet-based ECG delineator: evaluation on standard databases",
//! IEEE Trans. Biomed. Eng. 51(4), 2004.
//!
//! Each lead's median beat is taken to the method's 250 Hz and transformed at the dyadic
//! scales 2¹…2⁵ by the *à trous* algorithm: each scale is the derivative of the beat smoothed
//! by a B-spline twice as wide as the scale before, so a wave's rising and falling slopes
//! are a pair of modulus maxima of opposite sign and its boundaries lie where the transform
//! fades outside the outermost maxima. The QRS is delineated at scale 2², the P and T waves
//! at 2⁴ (2⁵ when the T wave is too slow for 2⁴), each with the paper's thresholds: a
//! boundary is the first sample beyond the outermost significant maximum where the
//! transform falls below a fraction ξ of that maximum, or has a local minimum. P and T are
//! delineated with the QRS flattened out of the beat, so its slopes do not leak into theirs.
//!
//! The global boundary of each wave is the median of its boundaries in the leads that show
//! it: the leads see one heart from different directions, so their boundaries scatter about
//! the global one, and the median follows neither a lead whose wave fades early nor one
//! whose noise draws it out.

/// The rate the method's scales and thresholds are defined at.
const RATE: f64 = 250.0;

/// Wave boundaries on the median beat, as sample indices at the recording's rate; `None`
/// where the wave is not there or its boundary cannot be found.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Boundaries {
    pub p_onset: Option<usize>,
    pub p_end: Option<usize>,
    pub qrs_onset: Option<usize>,
    pub qrs_end: Option<usize>,
    pub t_end: Option<usize>,
}

/// The boundaries of one lead, at 250 Hz.
#[derive(Clone, Copy, Debug, Default)]
struct LeadBoundaries {
    p_onset: Option<usize>,
    p_end: Option<usize>,
    qrs_onset: Option<usize>,
    qrs_end: Option<usize>,
    t_end: Option<usize>,
}

/// Delineates the median beats of all leads (µV, same length, sampled at `fs`, the QRS
/// complex's fiducial point at `fiducial`), with `rr_s` the median RR interval.
pub fn delineate(beats: &[&[f64]], fiducial: usize, rr_s: f64, fs: f64) -> Boundaries {
    let to_rate = |i: usize| (i as f64 * RATE / fs).round() as usize;
    // The transform lies half a sample after its index.
    let from_rate = |i: usize| ((i as f64 + 0.5) * fs / RATE).round() as usize;
    let r = to_rate(fiducial);
    let per_lead: Vec<LeadBoundaries> = beats
        .iter()
        .map(|beat| lead_boundaries(&resample(beat, fs), r, rr_s))
        .collect();
    let middle = |pick: fn(&LeadBoundaries) -> Option<usize>| {
        let mut values: Vec<usize> = per_lead.iter().filter_map(pick).collect();
        values.sort_unstable();
        values.get(values.len() / 2).copied()
    };
    let (Some(qrs_onset), Some(qrs_end)) = (middle(|l| l.qrs_onset), middle(|l| l.qrs_end)) else {
        return Boundaries::default();
    };
    let p_onset = middle(|l| l.p_onset).filter(|&p| p < qrs_onset);
    let p_end = middle(|l| l.p_end).filter(|&p| Some(p) > p_onset && p < qrs_onset);
    let t_end = middle(|l| l.t_end).filter(|&t| t > qrs_end);
    Boundaries {
        p_onset: p_onset.map(from_rate),
        p_end: p_end.map(from_rate),
        qrs_onset: Some(from_rate(qrs_onset)),
        qrs_end: Some(from_rate(qrs_end)),
        t_end: t_end.map(from_rate),
    }
}

/// The beat at 250 Hz, by linear interpolation.
fn resample(beat: &[f64], fs: f64) -> Vec<f64> {
    if beat.is_empty() {
        return Vec::new();
    }
    let length = ((beat.len() - 1) as f64 * RATE / fs).floor() as usize + 1;
    (0..length)
        .map(|i| {
            let at = i as f64 * fs / RATE;
            let left = (at.floor() as usize).min(beat.len() - 1);
            let right = (left + 1).min(beat.len() - 1);
            let fraction = at - left as f64;
            beat[left] * (1.0 - fraction) + beat[right] * fraction
        })
        .collect()
}

/// The transform at scales 2¹…2⁵ (index 0 is scale 2¹) by the quadratic spline wavelet of
/// Mallat and Zhong: at scale 2ᵏ the difference of the approximation 2ᵏ⁻¹ samples apart
/// (g = 2, −2), which is then smoothed by h = (1 3 3 1)/8 with the same spacing. The taps are
/// placed so that every scale lies half a sample after its index. Samples beyond either end
/// are the end samples repeated.
fn transform(signal: &[f64]) -> Vec<Vec<f64>> {
    let n = signal.len() as isize;
    let at = |v: &[f64], i: isize| v[i.clamp(0, n - 1) as usize];
    let mut approximation = signal.to_vec();
    let mut scales = Vec::with_capacity(5);
    for k in 0..5 {
        let s = 1_isize << k;
        let detail: Vec<f64> = (0..n)
            .map(|i| 2.0 * (at(&approximation, i + s) - at(&approximation, i)))
            .collect();
        approximation = (0..n)
            .map(|i| {
                (at(&approximation, i - 2 * s)
                    + 3.0 * at(&approximation, i - s)
                    + 3.0 * at(&approximation, i)
                    + at(&approximation, i + s))
                    / 8.0
            })
            .collect();
        scales.push(detail);
    }
    scales
}

/// The modulus maxima of `w` in `range` that reach `threshold`.
fn modulus_maxima(w: &[f64], range: std::ops::Range<usize>, threshold: f64) -> Vec<usize> {
    range
        .filter(|&i| i > 0 && i + 1 < w.len())
        .filter(|&i| {
            let m = w[i].abs();
            m >= threshold && m >= w[i - 1].abs() && m > w[i + 1].abs()
        })
        .collect()
}

/// From the maximum at `from`, stepping by `step` (−1 back, +1 forward) at most `limit`
/// samples: the first sample where |w| falls below `xi` × |w(from)| or has a local minimum.
fn boundary(w: &[f64], from: usize, step: isize, limit: usize, xi: f64) -> Option<usize> {
    let level = xi * w[from].abs();
    let mut i = from as isize;
    for _ in 0..limit {
        let next = i + step;
        if next < 0 || next as usize >= w.len() {
            return None;
        }
        let (here, there) = (w[i as usize].abs(), w[next as usize].abs());
        if there < level {
            return Some(next as usize);
        }
        if there > here && i != from as isize {
            return Some(i as usize); // a local minimum of |w|
        }
        i = next;
    }
    None
}

fn lead_boundaries(beat: &[f64], r: usize, rr_s: f64) -> LeadBoundaries {
    let ms = |n: f64| (n * RATE / 1000.0).round() as usize;
    let length = beat.len();
    if r >= length || length < ms(400.0) {
        return LeadBoundaries::default();
    }
    let mut found = LeadBoundaries::default();
    // The QRS at scale 2²: the significant maxima within 120 ms of R (6 % of the largest
    // before it, 9 % after), chained while no gap between them exceeds 60 ms.
    let qrs_window = r.saturating_sub(ms(120.0))..(r + ms(120.0)).min(length);
    let span = |range: std::ops::Range<usize>| {
        let slice = &beat[range];
        slice.iter().copied().fold(f64::MIN, f64::max)
            - slice.iter().copied().fold(f64::MAX, f64::min)
    };
    if span(qrs_window.clone()) < 100.0 {
        return found; // no QRS to speak of in this lead (an unconnected electrode)
    }
    let w2 = &transform(beat)[1];
    let largest = qrs_window.clone().map(|i| w2[i].abs()).fold(0.0, f64::max);
    let maxima: Vec<usize> = modulus_maxima(w2, qrs_window, 0.06 * largest)
        .into_iter()
        .filter(|&i| i < r || w2[i].abs() >= 0.09 * largest)
        .collect();
    let Some(&main) = maxima
        .iter()
        .max_by(|a, b| w2[**a].abs().total_cmp(&w2[**b].abs()))
    else {
        return found;
    };
    let gap = ms(40.0);
    let position = maxima.iter().position(|&m| m == main).expect("present");
    let mut first = position;
    while first > 0 && maxima[first] - maxima[first - 1] <= gap {
        first -= 1;
    }
    let mut last = position;
    while last + 1 < maxima.len() && maxima[last + 1] - maxima[last] <= gap {
        last += 1;
    }
    found.qrs_onset = boundary(w2, maxima[first], -1, ms(60.0), 0.05);
    found.qrs_end = boundary(w2, maxima[last], 1, ms(80.0), 0.125);
    let (Some(qrs_onset), Some(qrs_end)) = (found.qrs_onset, found.qrs_end) else {
        return found;
    };

    // T after the QRS, P before it, each on the beat with the QRS flattened out.
    let t_start = qrs_end + ms(40.0);
    let t_stop = (r + ms(600.0_f64.min(rr_s * 1000.0 * 0.7))).min(length);
    if t_start + ms(80.0) < t_stop {
        let mut without_qrs = beat.to_vec();
        without_qrs[..qrs_end].fill(beat[qrs_end]);
        let scales = transform(&without_qrs);
        found.t_end = [3, 4].into_iter().find_map(|k| {
            wave_end(
                &scales[k],
                &without_qrs,
                t_start..t_stop,
                0.4,
                ms(250.0),
                50.0,
            )
        });
    }
    let p_start = qrs_onset.saturating_sub(ms(300.0_f64.min(rr_s * 1000.0 * 0.45)));
    let p_stop = qrs_onset.saturating_sub(ms(20.0));
    if p_start + ms(40.0) < p_stop {
        let mut without_qrs = beat.to_vec();
        without_qrs[qrs_onset..].fill(beat[qrs_onset]);
        let w4 = &transform(&without_qrs)[3];
        if let Some((first, last)) = wave_maxima(w4, &without_qrs, p_start..p_stop, 25.0) {
            found.p_onset = boundary(w4, first, -1, ms(120.0), 0.5)
                .filter(|&i| i >= p_start.saturating_sub(ms(40.0)));
            found.p_end = boundary(w4, last, 1, ms(120.0), 0.9).filter(|&i| i < qrs_onset);
        }
    }
    found
}

/// The first and last significant maxima (a quarter of the largest) of a slow wave in
/// `window`, when the wave reaches `min_uv` from the level at the window's start.
fn wave_maxima(
    w: &[f64],
    beat: &[f64],
    window: std::ops::Range<usize>,
    min_uv: f64,
) -> Option<(usize, usize)> {
    let level = beat[window.start];
    let amplitude = beat[window.clone()]
        .iter()
        .map(|v| (v - level).abs())
        .fold(0.0, f64::max);
    if amplitude < min_uv {
        return None;
    }
    let largest = window.clone().map(|i| w[i].abs()).fold(0.0, f64::max);
    let maxima = modulus_maxima(w, window, 0.25 * largest);
    Some((*maxima.first()?, *maxima.last()?))
}

/// The end of the slow wave in `window` at one scale.
fn wave_end(
    w: &[f64],
    beat: &[f64],
    window: std::ops::Range<usize>,
    xi: f64,
    limit: usize,
    min_uv: f64,
) -> Option<usize> {
    let (_, last) = wave_maxima(w, beat, window, min_uv)?;
    boundary(w, last, 1, limit, xi)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Gaussian bump centred at `centre` ms with `width` ms standard deviation.
    fn bump(t_ms: f64, centre: f64, width: f64, amplitude: f64) -> f64 {
        amplitude * (-((t_ms - centre) / width).powi(2) / 2.0).exp()
    }

    /// A beat of 950 ms with R at 350 ms: P at 200 ms, QRS ±40 ms, T at 620 ms.
    fn beat(fs: f64) -> Vec<f64> {
        (0..(0.95 * fs) as usize)
            .map(|i| {
                let t = i as f64 * 1000.0 / fs;
                bump(t, 220.0, 20.0, 150.0)
                    + bump(t, 335.0, 6.0, -150.0)
                    + bump(t, 350.0, 8.0, 1200.0)
                    + bump(t, 368.0, 7.0, -300.0)
                    + bump(t, 620.0, 45.0, 350.0)
            })
            .collect()
    }

    #[test]
    fn boundaries_lie_around_the_waves_at_any_rate() {
        for fs in [250.0, 360.0, 500.0, 1000.0] {
            let samples = beat(fs);
            let leads = [&samples[..], &samples, &samples];
            let found = delineate(&leads, (0.35 * fs) as usize, 1.0, fs);
            let ms = |i: Option<usize>| i.map(|i| i as f64 * 1000.0 / fs).expect("found");
            // Each wave's visible extent is about ±2.5 standard deviations.
            assert!(
                (140.0..200.0).contains(&ms(found.p_onset)),
                "{fs}: P onset {}",
                ms(found.p_onset)
            );
            assert!(
                (240.0..300.0).contains(&ms(found.p_end)),
                "{fs}: P end {}",
                ms(found.p_end)
            );
            assert!(
                (305.0..330.0).contains(&ms(found.qrs_onset)),
                "{fs}: QRS onset {}",
                ms(found.qrs_onset)
            );
            assert!(
                (375.0..400.0).contains(&ms(found.qrs_end)),
                "{fs}: QRS end {}",
                ms(found.qrs_end)
            );
            assert!(
                (690.0..760.0).contains(&ms(found.t_end)),
                "{fs}: T end {}",
                ms(found.t_end)
            );
        }
    }

    #[test]
    fn a_flat_lead_has_no_boundaries_and_one_odd_lead_does_not_move_them() {
        let fs = 500.0;
        let samples = beat(fs);
        let flat = vec![0.0; samples.len()];
        let late: Vec<f64> = (0..samples.len())
            .map(|i| samples[i.saturating_sub(40)])
            .collect();
        let with_odd = [&samples[..], &samples, &late, &flat];
        let plain = [&samples[..], &samples, &samples];
        assert_eq!(
            delineate(&with_odd, 175, 1.0, fs),
            delineate(&plain, 175, 1.0, fs)
        );
        let only_flat = [&flat[..]];
        assert_eq!(delineate(&only_flat, 175, 1.0, fs), Boundaries::default());
    }

    #[test]
    fn no_p_wave_is_none_not_a_default() {
        let fs = 500.0;
        let samples: Vec<f64> = beat(fs)
            .iter()
            .enumerate()
            .map(|(i, v)| v - bump(i as f64 * 2.0, 220.0, 20.0, 150.0))
            .collect();
        let leads = [&samples[..]];
        let found = delineate(&leads, 175, 1.0, fs);
        assert_eq!((found.p_onset, found.p_end), (None, None));
        assert!(found.qrs_onset.is_some() && found.t_end.is_some());
    }

    #[test]
    fn noise_flat_lines_and_short_beats_never_panic() {
        let mut state = 0x853C_49E6_748F_EA9B_u64;
        let mut noise = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 4001) as f64 - 2000.0
        };
        for fs in [100.0, 128.0, 360.0, 500.0, 2000.0] {
            for length in [0, 1, 10, (0.4 * fs) as usize, (0.95 * fs) as usize] {
                let random: Vec<f64> = (0..length).map(|_| noise()).collect();
                let flat = vec![7.0; length];
                let step: Vec<f64> = (0..length)
                    .map(|i| if i < length / 2 { 0.0 } else { 5000.0 })
                    .collect();
                for fiducial in [0, length / 3, length.saturating_sub(1), length + 5] {
                    let found = delineate(&[&random, &flat, &step], fiducial, 0.8, fs);
                    for point in [
                        found.p_onset,
                        found.p_end,
                        found.qrs_onset,
                        found.qrs_end,
                        found.t_end,
                    ]
                    .into_iter()
                    .flatten()
                    {
                        assert!(point <= length, "{point} beyond {length}");
                    }
                }
            }
        }
    }
}
