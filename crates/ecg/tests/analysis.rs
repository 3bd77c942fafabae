//! The analysis on synthetic ECGs (flag and no-flag around every STEMI limit) and on the shared
//! real recordings (formats, and QRS detection scored as EC57).

use std::path::PathBuf;

use yijia_ecg::analysis::{Patient, Sex};
use yijia_ecg::formats::{self, Format};
use yijia_ecg::synth::{self, Case};
use yijia_ecg::{analyze, annotations, detect, score};

const MAN_60: Patient = Patient {
    sex: Sex::Male,
    age_years: 60,
};
const MAN_30: Patient = Patient {
    sex: Sex::Male,
    age_years: 30,
};
const WOMAN_60: Patient = Patient {
    sex: Sex::Female,
    age_years: 60,
};

/// The shared test data; in CI a missing file is a failure, never a skip.
fn shared(path: &str) -> PathBuf {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/ecg")
        .join(path);
    assert!(
        full.exists(),
        "shared test data missing: {} (it must sit beside the repository)",
        full.display()
    );
    full
}

#[test]
fn a_normal_synthetic_ecg_is_sinus_rhythm_without_stemi() {
    let analysis = analyze(&synth::generate(&Case::Normal.spec()), Some(MAN_60));
    assert_eq!(analysis.beats.len(), 12);
    assert!((analysis.heart_rate_bpm.unwrap() - 72.0).abs() < 1.5);
    assert_eq!(format!("{:?}", analysis.rhythm), "SinusRhythm");
    assert!(!analysis.stemi.suspected, "{:?}", analysis.j_point_mm);
    assert!(!analysis.critical);
    assert!(
        analysis.st_deviation_mm.values().all(|mm| mm.abs() < 0.5),
        "{:?}",
        analysis.st_deviation_mm
    );
}

#[test]
fn an_inferior_stemi_is_flagged_critical_naming_the_inferior_leads() {
    let analysis = analyze(
        &synth::generate(&Case::InferiorStemi.spec()),
        Some(WOMAN_60),
    );
    assert!(analysis.stemi.suspected);
    assert!(analysis.critical);
    let reasons = analysis.stemi.reasons.join(" ");
    for lead in ["II ", "III ", "aVF "] {
        assert!(reasons.contains(lead), "{reasons}");
    }
    assert!(!reasons.contains("V2"), "{reasons}");
    assert!(analysis.st_deviation_mm["II"] > 2.0 && analysis.st_deviation_mm["aVL"] < -0.5);
}

#[test]
fn an_anterior_stemi_is_flagged_in_the_chest_leads() {
    let analysis = analyze(&synth::generate(&Case::AnteriorStemi.spec()), Some(MAN_60));
    assert!(analysis.stemi.suspected);
    let reasons = analysis.stemi.reasons.join(" ");
    for lead in ["V1", "V2", "V3", "V4"] {
        assert!(reasons.contains(lead), "{reasons}");
    }
}

#[test]
fn v2_v3_limits_depend_on_sex_and_age() {
    let flagged = |mm: f64, patient: Patient| {
        analyze(&synth::generate(&Case::V2V3(mm).spec()), Some(patient))
            .stemi
            .suspected
    };
    // Men aged 40 or over: 2 mm.
    assert!(flagged(2.3, MAN_60));
    assert!(!flagged(1.7, MAN_60));
    // Men under 40: 2.5 mm.
    assert!(flagged(2.8, MAN_30));
    assert!(!flagged(2.2, MAN_30));
    // Women: 1.5 mm.
    assert!(flagged(1.8, WOMAN_60));
    assert!(!flagged(1.2, WOMAN_60));
}

#[test]
fn elevation_in_non_contiguous_leads_is_not_flagged() {
    let analysis = analyze(&synth::generate(&Case::NonContiguous.spec()), Some(MAN_60));
    assert!(!analysis.stemi.suspected, "{:?}", analysis.stemi);
    assert!(analysis.st_deviation_mm["V1"] > 1.0 && analysis.st_deviation_mm["V4"] > 1.0);
}

#[test]
fn a_fast_rate_is_critical() {
    let spec = synth::Spec {
        heart_rate_bpm: 170.0,
        ..Case::Normal.spec()
    };
    let analysis = analyze(&synth::generate(&spec), None);
    assert!(analysis.critical, "{:?}", analysis.heart_rate_bpm);
    let spec = synth::Spec {
        heart_rate_bpm: 35.0,
        duration_s: 20.0,
        ..Case::Normal.spec()
    };
    let analysis = analyze(&synth::generate(&spec), None);
    assert!(
        analysis.critical_reasons.iter().any(|r| r.contains("< 40")),
        "{:?}",
        analysis.critical_reasons
    );
}

#[test]
fn the_json_form_round_trips() {
    let waveform = synth::generate(&Case::Normal.spec());
    let (format, read) = formats::read_single(formats::json::write(&waveform).as_bytes()).unwrap();
    assert_eq!(format, Format::Json);
    assert_eq!(read, waveform);
}

#[test]
fn every_shared_format_loads_into_twelve_or_two_leads() {
    for (path, leads, hz) in [
        ("dicom/pydicom_waveform_ecg.dcm", 12, 1000.0),
        ("hl7-aecg/ecg_hl7.xml", 12, 500.0),
        ("ptbdb/s0010_re.hea", 15, 1000.0),
        ("mitdb/100s.hea", 2, 360.0),
    ] {
        let (_, waveform) = formats::read_path(&shared(path)).unwrap();
        assert_eq!(waveform.leads.len(), leads, "{path}");
        assert_eq!(waveform.sampling_hz, hz, "{path}");
        assert!(analyze(&waveform, None).beats.len() > 5, "{path}");
    }
}

#[test]
fn damaged_wfdb_records_are_refused() {
    let header = std::fs::read_to_string(shared("mitdb/100s.hea")).unwrap();
    let data = std::fs::read(shared("mitdb/100s.dat")).unwrap();
    let truncated = data[..data.len() / 2].to_vec();
    assert!(
        formats::wfdb::read(&header, &|_| Some(truncated.clone()))
            .unwrap_err()
            .to_string()
            .contains("truncated")
    );
    let mut flipped = data.clone();
    flipped[1000] ^= 0x11;
    assert!(
        formats::wfdb::read(&header, &|_| Some(flipped.clone()))
            .unwrap_err()
            .to_string()
            .contains("checksum")
    );
    assert!(formats::wfdb::read(&header, &|_| None).is_err());
    assert!(formats::read_single(b"{\"sampling_hz\": 5, \"leads\": {\"I\": [1,2,3]}}").is_err());
    assert!(formats::read_single(b"{\"sampling_hz\": 500, \"leads\": {}}").is_err());
    assert!(formats::read_single(b"<AnnotatedECG><broken").is_err());
    assert!(formats::read_single(b"not an ecg").is_err());
}

#[test]
fn qrs_detection_scores_at_least_99_9_percent_on_records_100_and_800() {
    let mut gross = score::Counts::default();
    for record in ["mitdb/100", "svdb/800"] {
        let waveform = formats::wfdb::read_path(&shared(&format!("{record}.hea"))).unwrap();
        let reference =
            annotations::parse_mit(&std::fs::read(shared(&format!("{record}.atr"))).unwrap())
                .unwrap();
        let counts = score::score(
            &reference,
            &detect::detect_beats(&waveform),
            waveform.sampling_hz,
            300.0,
        );
        gross = gross + counts;
    }
    assert!(gross.true_positives > 3400);
    assert!(gross.sensitivity() >= 0.999, "{gross:?}");
    assert!(gross.positive_predictivity() >= 0.999, "{gross:?}");
}

/// One lead at 360 Hz with ventricular bigeminy: each normal beat is followed early by a large,
/// wide premature ventricular beat, with a fusion beat every tenth pair. Returns the signal and
/// the true beat positions.
fn bigeminy(minutes: usize) -> (Vec<i32>, Vec<usize>) {
    let fs = 360.0;
    let n = minutes * 60 * 360;
    let mut signal = vec![0.0f64; n];
    let mut beats = Vec::new();
    let mut add = |centre: f64, waves: &[(f64, f64, f64)]| {
        for &(offset, amplitude, width) in waves {
            let c = centre + offset;
            let lo = ((c - 5.0 * width) * fs).max(0.0) as usize;
            let hi = (((c + 5.0 * width) * fs) as usize).min(n);
            for (i, v) in signal.iter_mut().enumerate().take(hi).skip(lo) {
                let z = (i as f64 / fs - c) / width;
                *v += amplitude * (-0.5 * z * z).exp();
            }
        }
    };
    let normal = [
        (-0.16, 80.0, 0.025),
        (0.0, 700.0, 0.010),
        (0.025, -150.0, 0.008),
        (0.28, 250.0, 0.05),
    ];
    let ventricular = [(0.0, 3000.0, 0.040), (0.30, -700.0, 0.07)];
    let fusion = [(0.0, 1700.0, 0.020), (0.29, -300.0, 0.06)];
    let mut t = 0.5;
    let mut pair = 0;
    while t + 1.2 < n as f64 / fs {
        add(t, &normal);
        beats.push((t * fs).round() as usize);
        let ectopic = t + 0.42;
        add(
            ectopic,
            if pair % 10 == 9 {
                &fusion[..]
            } else {
                &ventricular[..]
            },
        );
        beats.push((ectopic * fs).round() as usize);
        t += 1.25;
        pair += 1;
    }
    // Mains hum and baseline wander, as ambulatory recordings have.
    let samples = signal
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let t = i as f64 / fs;
            (v + 30.0 * (2.0 * std::f64::consts::PI * 50.0 * t).sin()
                + 150.0 * (2.0 * std::f64::consts::PI * 0.15 * t).sin())
            .round() as i32
        })
        .collect();
    (samples, beats)
}

#[test]
fn ventricular_bigeminy_with_fusion_beats_is_detected_beat_for_beat() {
    let (samples, truth) = bigeminy(10);
    let detected = detect::detect_lead(&samples, 360.0);
    let reference: Vec<annotations::Annotation> = truth
        .iter()
        .map(|&s| annotations::Annotation {
            sample: s as u64,
            code: 1,
        })
        .collect();
    let counts = score::score(&reference, &detected, 360.0, 0.0);
    assert!(counts.sensitivity() >= 0.999, "{counts:?}");
    assert!(counts.positive_predictivity() >= 0.999, "{counts:?}");
}

#[test]
fn every_device_wfdb_record_reads_with_its_ecg_leads_only() {
    let read = |name: &str| formats::wfdb::read_path(&shared(&format!("devices/wfdb/{name}.hea")));
    // Pulse oximetry and respiration are channels, never leads.
    let v102 = read("v102s").unwrap();
    let names: Vec<&str> = v102.leads.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["II", "V"]);
    assert_eq!(v102.non_ecg_channels, ["PLETH", "RESP"]);
    assert_eq!(analyze(&v102, None).leads, ["II", "V"]);
    // Samples per frame (MCL1 at 4 × 125 Hz) and skew; pressure and respiration left out.
    let holter = read("03700181").unwrap();
    assert_eq!(holter.sampling_hz, 500.0);
    assert_eq!(holter.leads.len(), 1);
    assert_eq!(holter.len(), 75_000 * 4);
    assert_eq!(holter.non_ecg_channels, ["ABP", "RESP"]);
    // Format 16 with four leads, and format 80.
    let four = read("test01_00s").unwrap();
    assert_eq!((four.leads.len(), four.len()), (4, 4000));
    let eighty = read("3000003_0003").unwrap();
    assert_eq!(
        (eighty.leads.len(), eighty.len(), eighty.sampling_hz),
        (2, 1028, 125.0)
    );
    // An odd number of samples in format 212 is whole, not truncated: its three channels are
    // MIT-BIH record 100's first 999 samples (MLII, V5, MLII) packed three to a frame.
    let odd = read("100_3chan").unwrap();
    assert_eq!((odd.leads.len(), odd.len()), (3, 999));
    let record_100 = formats::wfdb::read_path(&shared("mitdb/100.hea")).unwrap();
    assert_eq!(
        odd.leads[0].samples_uv,
        record_100.leads[0].samples_uv[..999]
    );
    assert_eq!(
        odd.leads[1].samples_uv,
        record_100.leads[1].samples_uv[..999]
    );
    assert_eq!(odd.leads[2].samples_uv, odd.leads[0].samples_uv);
}

#[test]
fn files_are_told_apart_by_content_and_utf16_xml_reads_as_utf8() {
    let aecg = std::fs::read(shared("hl7-aecg/ecg_hl7.xml")).unwrap();
    let (_, utf8) = formats::read_single(&aecg).unwrap();
    let text = String::from_utf8(aecg).unwrap();
    let mut utf16 = vec![0xff, 0xfe];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let (format, wide) = formats::read_single(&utf16).unwrap();
    assert_eq!(format, Format::Aecg);
    assert_eq!(wide, utf8);
    // Read for what they are, not taken for aECG.
    for (path, format) in [
        ("devices/scp/ecgtoolkit_Example.scp", Format::Scp),
        ("devices/philips/deid_3.xml", Format::Philips),
    ] {
        let bytes = std::fs::read(shared(path)).unwrap();
        assert_eq!(formats::read_single(&bytes).unwrap().0, format, "{path}");
    }
}

#[test]
fn intervals_agree_with_the_devices_own_measurements() {
    // ECG Toolkit's example, as DICOM and as aECG: the DICOM states PR 148, QRS 120 and
    // QT 420 ms (devices/README.md). Goal: PR within 20, QRS within 15, QT within 30 ms.
    let mut analyses = Vec::new();
    for path in [
        "devices/scp/ecgtoolkit_Example.dcm",
        "devices/scp/ecgtoolkit_Example.xml",
    ] {
        let (_, waveform) = formats::read_path(&shared(path)).unwrap();
        let analysis = analyze(&waveform, None);
        let within = |value: Option<f64>, device: f64, tolerance: f64| {
            value.is_some_and(|v| (v - device).abs() <= tolerance)
        };
        assert!(
            within(analysis.pr_ms, 148.0, 20.0),
            "{path}: PR {:?}",
            analysis.pr_ms
        );
        assert!(
            within(analysis.qrs_ms, 120.0, 15.0),
            "{path}: QRS {:?}",
            analysis.qrs_ms
        );
        assert!(
            within(analysis.qt_ms, 420.0, 30.0),
            "{path}: QT {:?}",
            analysis.qt_ms
        );
        analyses.push((
            analysis.heart_rate_bpm,
            analysis.pr_ms,
            analysis.qrs_ms,
            analysis.qt_ms,
        ));
    }
    // The same recording in two formats gives the same analysis.
    assert_eq!(analyses[0], analyses[1]);
}
