fn main() {
    let paths: Vec<std::path::PathBuf> = std::env::args().skip(1).map(Into::into).collect();
    let (format, w) = yijia_ecg::formats::read_paths(&paths).unwrap_or_else(|e| panic!("{e}"));
    println!("{} {} Hz {} samples {:?} non-ecg {:?}", format.as_str(), w.sampling_hz, w.len(), w.device, w.non_ecg_channels);
    for l in &w.leads {
        let s: i64 = l.samples_uv.iter().map(|v| i64::from(*v)).sum();
        let m = l.samples_uv.iter().map(|v| v.abs()).max().unwrap();
        println!("{} {} {:?} {} {}", l.name, l.samples_uv.len(), &l.samples_uv[..5], s, m);
    }
    let a = yijia_ecg::analyze(&w, None);
    println!("rate {:?} pr {:?} qrs {:?} qt {:?} qtc {:?} axes {:?}/{:?}/{:?}", a.heart_rate_bpm, a.pr_ms, a.qrs_ms, a.qt_ms, a.qtc_ms, a.p_axis_deg, a.qrs_axis_deg, a.t_axis_deg);
    println!("device {:?}", a.device_statement);
    println!("disagree {:?} not {:?}", a.disagreements, a.not_measured);
}
