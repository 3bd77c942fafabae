//! Small digital filters: second-order Butterworth sections applied forward and backward (zero
//! phase, since whole recordings are analysed at once), and moving sums.

#[derive(Clone, Copy)]
struct Biquad {
    b: [f32; 3],
    a: [f32; 2],
}

impl Biquad {
    /// RBJ cookbook low-pass or high-pass with Q = 1/√2 (Butterworth).
    fn new(cutoff_hz: f64, sampling_hz: f64, high_pass: bool) -> Biquad {
        let w0 = 2.0 * std::f64::consts::PI * cutoff_hz / sampling_hz;
        let alpha = w0.sin() / (2.0 * std::f64::consts::FRAC_1_SQRT_2);
        let cos = w0.cos();
        let a0 = 1.0 + alpha;
        let (b0, b1) = if high_pass {
            ((1.0 + cos) / 2.0, -(1.0 + cos))
        } else {
            ((1.0 - cos) / 2.0, 1.0 - cos)
        };
        Biquad {
            b: [(b0 / a0) as f32, (b1 / a0) as f32, (b0 / a0) as f32],
            a: [(-2.0 * cos / a0) as f32, ((1.0 - alpha) / a0) as f32],
        }
    }

    /// The state of this section at rest on a constant input `level`.
    fn rest(&self, level: f32) -> State {
        let gain_dc = (self.b[0] + self.b[1] + self.b[2]) / (1.0 + self.a[0] + self.a[1]);
        State {
            x1: level,
            x2: level,
            y1: level * gain_dc,
            y2: level * gain_dc,
        }
    }

    #[inline(always)]
    fn step(&self, state: &mut State, x0: f32) -> f32 {
        let y0 = self.b[0] * x0 + self.b[1] * state.x1 + self.b[2] * state.x2
            - self.a[0] * state.y1
            - self.a[1] * state.y2;
        state.x2 = state.x1;
        state.x1 = x0;
        state.y2 = state.y1;
        state.y1 = y0;
        y0
    }
}

#[derive(Clone, Copy)]
struct State {
    x1: f32,
    x2: f32,
    y1: f32,
    y2: f32,
}

/// Runs two sections one after the other over the signal in one loop (so the processor
/// overlaps their recursions), in the given direction, starting at rest on the first sample.
fn run_cascade(first: &Biquad, second: &Biquad, x: &mut [f32], backward: bool) {
    let Some(&start) = (if backward { x.last() } else { x.first() }) else {
        return;
    };
    let mut a = first.rest(start);
    let mut b = second.rest(first.rest(start).y1);
    let mut step = |v: &mut f32| *v = second.step(&mut b, first.step(&mut a, *v));
    if backward {
        x.iter_mut().rev().for_each(&mut step);
    } else {
        x.iter_mut().for_each(&mut step);
    }
}

/// Zero-phase band-pass between `low_hz` and `high_hz`, in place.
pub fn band_pass(signal: &mut [f32], sampling_hz: f64, low_hz: f64, high_hz: f64) {
    let high = Biquad::new(low_hz, sampling_hz, true);
    let low = Biquad::new(high_hz.min(sampling_hz * 0.45), sampling_hz, false);
    for backward in [false, true] {
        run_cascade(&high, &low, signal, backward);
    }
}

/// Centred moving average over `width` samples (shorter windows at the ends).
pub fn moving_average(signal: &[f32], width: usize) -> Vec<f32> {
    let n = signal.len();
    let width = width.max(1);
    let half = width / 2;
    let ahead = width - half;
    let mut out = Vec::with_capacity(n);
    // A running sum in f64, so that long recordings do not drift.
    let mut sum: f64 = signal[..ahead.min(n)].iter().map(|v| f64::from(*v)).sum();
    for i in 0..n {
        let start = i.saturating_sub(half);
        let end = (i + ahead).min(n);
        out.push((sum / (end - start) as f64) as f32);
        if i + ahead < n {
            sum += f64::from(signal[i + ahead]);
        }
        if i >= half {
            sum -= f64::from(signal[i - half]);
        }
    }
    out
}
