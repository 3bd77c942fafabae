//! ECG files as devices and other tools write them: every shared device file reads with its
//! lead set, rate and duration; the same recording in three formats analyses alike; intervals
//! agree with the devices' own; the readers agree with independent parses (sierraecg, pyedflib,
//! ecghelper, wfdb — `tests/fixtures/ecg/expected.json`); and no damaged file makes a reader
//! panic.

use std::path::PathBuf;

use yijia_ecg::formats::{self, Format};
use yijia_ecg::{Waveform, analyze};

/// The shared test data; in CI a missing file is a failure, never a skip.
fn shared(path: &str) -> PathBuf {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/ecg")
        .join(path);
    assert!(
        full.exists(),
        "shared test data missing: {}",
        full.display()
    );
    full
}

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/ecg")
        .join(path)
}

fn read(path: PathBuf) -> (Format, Waveform) {
    formats::read_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn names(waveform: &Waveform) -> Vec<&str> {
    waveform.leads.iter().map(|l| l.name.as_str()).collect()
}

const TWELVE: [&str; 12] = [
    "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
];

#[test]
fn every_device_file_reads_with_its_leads_rate_and_duration() {
    for (path, format, hz, seconds) in [
        (
            "devices/scp/ecgtoolkit_Example.scp",
            Format::Scp,
            500.0,
            10.0,
        ),
        (
            "devices/scp/ecgtoolkit_Example.dcm",
            Format::Dicom,
            500.0,
            10.0,
        ),
        (
            "devices/scp/ecgtoolkit_Example.xml",
            Format::Aecg,
            500.0,
            10.0,
        ),
        ("devices/philips/deid_3.xml", Format::Philips, 500.0, 11.0),
        (
            "dicom/pydicom_waveform_ecg.dcm",
            Format::Dicom,
            1000.0,
            10.0,
        ),
    ] {
        let (read_as, waveform) = read(shared(path));
        assert_eq!(read_as, format, "{path}");
        assert_eq!(names(&waveform), TWELVE, "{path}");
        assert_eq!(waveform.sampling_hz, hz, "{path}");
        assert_eq!(waveform.duration_s(), seconds, "{path}");
        assert!(waveform.non_ecg_channels.is_empty(), "{path}");
    }
}

#[test]
fn one_recording_as_scp_aecg_and_dicom_reads_and_analyses_alike() {
    let (_, scp) = read(shared("devices/scp/ecgtoolkit_Example.scp"));
    let (_, dicom) = read(shared("devices/scp/ecgtoolkit_Example.dcm"));
    let (_, aecg) = read(shared("devices/scp/ecgtoolkit_Example.xml"));
    for other in [&dicom, &aecg] {
        for (a, b) in scp.leads.iter().zip(&other.leads) {
            let worst = a
                .samples_uv
                .iter()
                .zip(&b.samples_uv)
                .map(|(x, y)| (x - y).abs())
                .max()
                .unwrap();
            assert!(
                worst <= 3,
                "lead {}: samples differ by up to {worst} µV",
                a.name
            );
        }
    }
    let analyses: Vec<_> = [&scp, &dicom, &aecg].map(|w| analyze(w, None)).into();
    for other in &analyses[1..] {
        assert_eq!(other.beats.len(), analyses[0].beats.len());
        for (a, b) in [
            (analyses[0].pr_ms, other.pr_ms),
            (analyses[0].qrs_ms, other.qrs_ms),
            (analyses[0].qt_ms, other.qt_ms),
            (analyses[0].heart_rate_bpm, other.heart_rate_bpm),
        ] {
            assert!((a.unwrap() - b.unwrap()).abs() <= 4.0, "{a:?} vs {b:?}");
        }
    }
}

#[test]
fn the_devices_own_statements_are_read_and_intervals_agree_with_them() {
    // (file, the device's own PR, QRS, QT as the file states them)
    for (path, pr, qrs, qt) in [
        ("devices/scp/ecgtoolkit_Example.scp", 148.0, 120.0, 420.0),
        ("devices/scp/ecgtoolkit_Example.dcm", 148.0, 120.0, 420.0),
        ("devices/philips/deid_3.xml", 222.0, 98.0, 398.0),
        ("dicom/pydicom_waveform_ecg.dcm", 161.0, 75.0, 368.0),
    ] {
        let (_, waveform) = read(shared(path));
        let stated = waveform.device_statement.clone().expect(path);
        assert_eq!(
            (stated.pr_ms, stated.qrs_ms, stated.qt_ms),
            (Some(pr), Some(qrs), Some(qt)),
            "{path}"
        );
        let analysis = analyze(&waveform, None);
        let off = |ours: Option<f64>, theirs: f64| (ours.expect(path) - theirs).abs();
        assert!(
            off(analysis.pr_ms, pr) <= 20.0,
            "{path}: PR {:?} vs {pr}",
            analysis.pr_ms
        );
        assert!(
            off(analysis.qrs_ms, qrs) <= 15.0,
            "{path}: QRS {:?} vs {qrs}",
            analysis.qrs_ms
        );
        assert!(
            off(analysis.qt_ms, qt) <= 30.0,
            "{path}: QT {:?} vs {qt}",
            analysis.qt_ms
        );
        if let Some(rate) = stated.heart_rate_bpm {
            let ours = analysis.heart_rate_bpm.unwrap();
            assert!(
                (ours - rate).abs() <= 0.05 * rate,
                "{path}: rate {ours} vs {rate}"
            );
        }
        assert!(
            analysis.disagreements.is_empty(),
            "{path}: {:?}",
            analysis.disagreements
        );
        assert_eq!(analysis.device_statement, Some(stated));
    }
    let (_, philips) = read(shared("devices/philips/deid_3.xml"));
    let stated = philips.device_statement.unwrap();
    assert_eq!(stated.heart_rate_bpm, Some(59.0));
    assert_eq!(
        stated.text.as_deref(),
        Some("Sinus bradycardia with 1st degree A-V block\nAbnormal ECG due to PR prolongation")
    );
    let device = philips.device.unwrap();
    assert_eq!(device.manufacturer.as_deref(), Some("Cardiac Science"));
    let (_, pydicom) = read(shared("dicom/pydicom_waveform_ecg.dcm"));
    assert_eq!(
        pydicom.device_statement.unwrap().text.as_deref(),
        Some("RITMO SINUSALE\nECG NORMALE")
    );
    assert_eq!(pydicom.device.unwrap().model.as_deref(), Some("el250"));
    let (_, scp) = read(shared("devices/scp/ecgtoolkit_Example.scp"));
    assert_eq!(scp.device.unwrap().model.as_deref(), Some("ELI250"));
}

#[test]
fn philips_xli_leads_match_the_sierraecg_package() {
    // Σ of each lead in µV as sierraecg (standardmodelbio/pysierraecg) decodes deid_3.xml,
    // times its resolution of 5 µV; III, aVR, aVL and aVF rebuilt from their residuals.
    let sums = [
        133_800, 115_560, 81_760, 63_025, 134_165, 109_165, 150_420, 147_640, 121_580, 118_260,
        135_600, 119_340,
    ];
    let (_, waveform) = read(shared("devices/philips/deid_3.xml"));
    for (lead, sum) in waveform.leads.iter().zip(sums) {
        assert_eq!(lead.samples_uv.len(), 5500);
        assert_eq!(
            lead.samples_uv.iter().map(|v| i64::from(*v)).sum::<i64>(),
            sum,
            "{}",
            lead.name
        );
    }
    // The same file in UTF-16 (as some carts write it) reads the same.
    let text = std::fs::read_to_string(shared("devices/philips/deid_3.xml")).unwrap();
    let mut wide = vec![0xff, 0xfe];
    wide.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    assert_eq!(formats::read_single(&wide).unwrap().1, waveform);
}

#[test]
fn edf_muse_and_multi_segment_wfdb_match_independent_parses() {
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("expected.json")).unwrap()).unwrap();
    for (file, format, rename) in [
        ("ptb_s0010_5s.edf", Format::Edf, "ECG "),
        ("ptb_s0010_5s_muse.xml", Format::Muse, ""),
        ("100_multi.hea", Format::Wfdb, ""),
    ] {
        let (read_as, waveform) = read(fixture(file));
        assert_eq!(read_as, format, "{file}");
        let leads = expected[file].as_object().unwrap();
        let mut checked = 0;
        for (label, summary) in leads {
            let name = label.strip_prefix(rename).unwrap_or(label);
            let name = if name == "MLII" { "II" } else { name };
            let Some(lead) = waveform.lead(name) else {
                assert!(
                    waveform.non_ecg_channels.contains(label),
                    "{file}: {label} is neither"
                );
                continue;
            };
            checked += 1;
            assert_eq!(
                lead.samples_uv.len() as u64,
                summary["samples"].as_u64().unwrap()
            );
            for (ours, theirs) in lead
                .samples_uv
                .iter()
                .zip(summary["first"].as_array().unwrap())
            {
                let theirs = theirs.as_f64().unwrap();
                assert!(
                    (f64::from(*ours) - theirs).abs() <= 1.0,
                    "{file} {label}: {ours} vs {theirs}"
                );
            }
            let sum: f64 = lead.samples_uv.iter().map(|v| f64::from(*v)).sum();
            let theirs = summary["sum_uv"].as_f64().unwrap();
            assert!(
                (sum - theirs).abs() <= lead.samples_uv.len() as f64,
                "{file} {label}: Σ {sum} vs {theirs}"
            );
        }
        assert!(checked >= 2, "{file}");
    }
    // EDF: the Frank lead is a channel, not a lead; MUSE: eight stored, twelve read.
    let (_, edf) = read(fixture("ptb_s0010_5s.edf"));
    assert_eq!(names(&edf), TWELVE);
    assert_eq!(edf.non_ecg_channels, ["Frank vx"]);
    let (_, muse) = read(fixture("ptb_s0010_5s_muse.xml"));
    assert_eq!(names(&muse), TWELVE);
    // The null segment of the multi-segment record is one second of 0 µV.
    let (_, multi) = read(fixture("100_multi.hea"));
    assert_eq!(multi.len(), 7560);
    assert!(
        multi.leads[0].samples_uv[3600..3960]
            .iter()
            .all(|v| *v == 0)
    );
}

/// A small deterministic generator for the damage below.
struct Damage(u64);

impl Damage {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn damaged_files_are_refused_or_read_never_a_panic() {
    let files = [
        shared("devices/scp/ecgtoolkit_Example.scp"),
        shared("devices/philips/deid_3.xml"),
        shared("devices/scp/ecgtoolkit_Example.dcm"),
        fixture("ptb_s0010_5s.edf"),
        fixture("ptb_s0010_5s_muse.xml"),
    ];
    let mut damage = Damage(0x9E37_79B9_7F4A_7C15);
    for path in files {
        let original = std::fs::read(&path).unwrap();
        for round in 0..60 {
            let mut bytes = original.clone();
            if round % 2 == 0 {
                bytes.truncate((damage.next() as usize) % bytes.len());
            }
            for _ in 0..(1 + damage.next() % 8) {
                let at = (damage.next() as usize) % bytes.len().max(1);
                if let Some(byte) = bytes.get_mut(at) {
                    *byte ^= 1 << (damage.next() % 8);
                }
            }
            // Whatever reads and passes the checks is analysed too: no damage may panic there.
            let outcome = std::panic::catch_unwind(|| {
                let read = formats::read_single(&bytes);
                if let Ok((_, waveform)) = &read
                    && waveform.check().is_ok()
                {
                    yijia_ecg::analyze(waveform, None);
                }
                read
            });
            let result = outcome
                .unwrap_or_else(|_| panic!("{}: a panic on damage round {round}", path.display()));
            if let Ok((_, waveform)) = result {
                assert!(waveform.leads.len() * waveform.len() <= yijia_ecg::waveform::MAX_SAMPLES);
            }
        }
    }
}

#[test]
fn the_recording_time_is_read_where_the_file_states_it() {
    let at = |path: PathBuf| read(path).1.recorded_at.map(|t| t.rfc3339(480));
    // One recording in three formats: SCP section 1 tags 25/26, the aECG's time sequence head,
    // DICOM's acquisition date and time — the same moment.
    for file in [
        "ecgtoolkit_Example.scp",
        "ecgtoolkit_Example.xml",
        "ecgtoolkit_Example.dcm",
    ] {
        assert_eq!(
            at(shared(&format!("devices/scp/{file}"))).as_deref(),
            Some("2002-11-22T09:10:00+08:00"),
            "{file}"
        );
    }
    // WFDB's record line `… 17:27:45 15/08/1994`; EDF's start date and time `02.12.26 00.03.33`.
    assert_eq!(
        at(shared("devices/wfdb/03700181.hea")).as_deref(),
        Some("1994-08-15T17:27:45+08:00")
    );
    assert_eq!(
        at(fixture("ptb_s0010_5s.edf")).as_deref(),
        Some("2026-12-02T00:03:33+08:00")
    );
    // A record line without a base date, a de-identified Philips file ("XXXX"): no time.
    assert_eq!(at(shared("devices/wfdb/test01_00s.hea")), None);
    assert_eq!(at(shared("devices/philips/deid_3.xml")), None);
}
