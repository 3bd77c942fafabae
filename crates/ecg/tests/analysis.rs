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
