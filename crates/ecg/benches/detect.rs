//! QRS detection speed on MIT-BIH record 100 (30 min, 2 leads, 360 Hz), reported as CPU seconds
//! per hour of 2-lead ECG. Target (issue 3): ≤ 0.02 s; WFDB's C `gqrs` takes 0.05 s here.
//! Run with `cargo bench -p yijia-ecg`. The detector is single-threaded, so wall time on an idle
//! machine is its CPU time; the best of several runs is reported.

use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let header =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ecg/mitdb/100.hea");
    let waveform = yijia_ecg::formats::wfdb::read_path(&header).expect("record 100 is readable");
    let hours = waveform.duration_s() / 3600.0;
    let mut best = f64::INFINITY;
    let mut beats = 0;
    for _ in 0..20 {
        let started = Instant::now();
        beats = yijia_ecg::detect::detect_beats(&waveform).len();
        best = best.min(started.elapsed().as_secs_f64());
    }
    println!(
        "record 100: {beats} beats in {:.4} s (best of 20) = {:.4} s per hour of 2-lead 360 Hz ECG",
        best,
        best / hours
    );
}
