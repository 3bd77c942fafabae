//! `yijia ecg analyze`, `yijia ecg formats` and `yijia ecg score`: the analysis library on
//! files, for readers, developers and the accuracy figures in the notes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use yijia_ecg::analysis::{Patient, Sex};
use yijia_ecg::formats::{self, Format};
use yijia_ecg::score::{Counts, score};
use yijia_ecg::synth::Case;

pub enum Command {
    Analyze {
        files: Vec<PathBuf>,
        json: bool,
        sex: Option<String>,
        age: Option<u32>,
    },
    Formats,
    Score {
        records: Vec<PathBuf>,
    },
    Synth {
        case: SynthCase,
    },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum SynthCase {
    Normal,
    InferiorStemi,
    AnteriorStemi,
    NonContiguous,
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Analyze {
            files,
            json,
            sex,
            age,
        } => analyze(&files, json, sex.as_deref(), age),
        Command::Formats => {
            print_formats();
            Ok(ExitCode::SUCCESS)
        }
        Command::Score { records } => score_records(&records),
        Command::Synth { case } => {
            let case = match case {
                SynthCase::Normal => Case::Normal,
                SynthCase::InferiorStemi => Case::InferiorStemi,
                SynthCase::AnteriorStemi => Case::AnteriorStemi,
                SynthCase::NonContiguous => Case::NonContiguous,
            };
            println!(
                "{}",
                formats::json::write(&yijia_ecg::synth::generate(&case.spec()))
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The formats read, each with what it covers and the files in the project's fixtures and the
/// shared data that the tests read it from.
const FORMATS: [(Format, &str, &[&str]); 8] = [
    (
        Format::Dicom,
        "DICOM waveforms: 12-lead, general, ambulatory, 32-bit ECG, hemodynamic, cardiac EP; 8/16/32-bit; the rhythm group; device annotations",
        &[
            "../shared/data/ecg/dicom/pydicom_waveform_ecg.dcm",
            "../shared/data/ecg/devices/scp/ecgtoolkit_Example.dcm",
        ],
    ),
    (
        Format::Aecg,
        "HL7 v3 annotated ECG (aECG)",
        &[
            "../shared/data/ecg/hl7-aecg/ecg_hl7.xml",
            "../shared/data/ecg/devices/scp/ecgtoolkit_Example.xml",
        ],
    ),
    (
        Format::Scp,
        "SCP-ECG (EN 1064): CRCs, Huffman (default and custom tables), 1st/2nd differences, reference beat subtraction, bimodal compression (unit-tested on a record written to the standard), device measurements and statements",
        &["../shared/data/ecg/devices/scp/ecgtoolkit_Example.scp"],
    ),
    (
        Format::Muse,
        "GE MUSE XML (RestingECG) and CardioSoft XML (CardiologyXML): 8 stored leads, III/aVR/aVL/aVF derived, device measurements and diagnosis",
        &["tests/fixtures/ecg/ptb_s0010_5s_muse.xml"],
    ),
    (
        Format::Philips,
        "Philips SierraECG XML 1.03/1.04/1.04.01/1.04.02: XLI or plain base64, UTF-8/UTF-16, residual limb leads rebuilt, device measurements and statements",
        &["../shared/data/ecg/devices/philips/deid_3.xml"],
    ),
    (
        Format::Edf,
        "EDF, EDF+ (continuous; discontinuous: the first uninterrupted stretch) and BDF: ECG channels by label, others kept out",
        &["tests/fixtures/ecg/ptb_s0010_5s.edf"],
    ),
    (
        Format::Wfdb,
        "WFDB: formats 8, 16, 24, 32, 61, 80, 160, 212, 310, 311; samples per frame, skew, byte offset, multi-segment records, checksums (FLAC formats 508–524 left out)",
        &[
            "../shared/data/ecg/mitdb/100.hea",
            "../shared/data/ecg/devices/wfdb/*.hea",
            "tests/fixtures/ecg/100_multi.hea",
        ],
    ),
    (
        Format::Json,
        "yijia's JSON form {\"sampling_hz\": …, \"leads\": {\"I\": [µV …]}}",
        &["yijia ecg synth normal"],
    ),
];

fn print_formats() {
    for (format, covers, files) in FORMATS {
        println!("{:<8} {}", format.as_str(), format.name());
        println!("         {covers}");
        for file in files {
            println!("         proven by {file}");
        }
    }
}

/// What `yijia ecg analyze --json` prints: the format beside the analysis.
#[derive(serde::Serialize)]
struct Printed<'a> {
    format: &'static str,
    #[serde(flatten)]
    analysis: &'a yijia_ecg::Analysis,
}

fn analyze(
    files: &[PathBuf],
    json: bool,
    sex: Option<&str>,
    age: Option<u32>,
) -> anyhow::Result<ExitCode> {
    let shown: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let (format, waveform) =
        formats::read_paths(files).with_context(|| format!("cannot read {}", shown.join(" ")))?;
    let patient = match (sex, age) {
        (Some(sex), Some(age_years)) => {
            let sex = match sex {
                "male" => Sex::Male,
                "female" => Sex::Female,
                other => bail!("--sex must be male or female, not {other:?}"),
            };
            Some(Patient { sex, age_years })
        }
        (None, None) => None,
        _ => bail!("give both --sex and --age, or neither"),
    };
    let analysis = yijia_ecg::analyze(&waveform, patient);
    if json {
        let printed = Printed {
            format: format.as_str(),
            analysis: &analysis,
        };
        println!("{}", serde_json::to_string_pretty(&printed)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("format         {}", format.as_str());
    if let Some(device) = &analysis.device {
        let named: Vec<&str> = [device.manufacturer.as_deref(), device.model.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        println!("device         {}", named.join(" "));
    }
    if !analysis.non_ecg_channels.is_empty() {
        println!("not ECG        {}", analysis.non_ecg_channels.join(" "));
    }
    println!(
        "leads          {} at {} Hz, {:.1} s",
        analysis.leads.join(" "),
        analysis.sampling_hz,
        analysis.duration_s
    );
    println!("beats          {}", analysis.beats.len());
    println!(
        "heart rate     {}",
        analysis
            .heart_rate_bpm
            .map_or("—".into(), |r| format!("{r:.0}/min"))
    );
    println!("rhythm         {:?}", analysis.rhythm);
    let ms = |v: Option<f64>| v.map_or("—".into(), |v| format!("{v:.0} ms"));
    println!(
        "PR / QRS / QT  {} / {} / {}",
        ms(analysis.pr_ms),
        ms(analysis.qrs_ms),
        ms(analysis.qt_ms)
    );
    println!(
        "QTc            {} (Bazett), {} (Fridericia)",
        ms(analysis.qtc_ms),
        ms(analysis.qtc_fridericia_ms)
    );
    if let Some(stated) = &analysis.device_statement {
        println!(
            "device says    rate {}, PR / QRS / QT {} / {} / {}, QTc {}",
            stated
                .heart_rate_bpm
                .map_or("—".into(), |r| format!("{r:.0}/min")),
            ms(stated.pr_ms),
            ms(stated.qrs_ms),
            ms(stated.qt_ms),
            ms(stated.qtc_ms)
        );
        if let Some(text) = &stated.text {
            println!("device text    {}", text.replace('\n', " / "));
        }
        for d in &analysis.disagreements {
            println!(
                "disagrees      {}: yijia {:.0}, device {:.0}",
                d.measure, d.yijia, d.device
            );
        }
    }
    let st: Vec<String> = analysis
        .st_deviation_mm
        .iter()
        .map(|(lead, mm)| format!("{lead} {mm:+.1}"))
        .collect();
    println!("ST (mm, J+60)  {}", st.join("  "));
    println!(
        "STEMI          {}",
        if analysis.stemi.suspected {
            analysis.stemi.reasons.join("; ")
        } else {
            "not suspected".into()
        }
    );
    println!(
        "critical       {}",
        if analysis.critical {
            analysis.critical_reasons.join("; ")
        } else {
            "no".into()
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn score_records(records: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut gross = Counts::default();
    println!(
        "{:<12} {:>7} {:>5} {:>5} {:>9} {:>9}",
        "record", "TP", "FN", "FP", "Se %", "+P %"
    );
    for header in records {
        let waveform = formats::wfdb::read_path(header)
            .with_context(|| format!("cannot read {}", header.display()))?;
        let annotations_path = header.with_extension("atr");
        let bytes = std::fs::read(&annotations_path)
            .with_context(|| format!("cannot read {}", annotations_path.display()))?;
        let reference = yijia_ecg::annotations::parse_mit(&bytes)?;
        let beats = yijia_ecg::detect::detect_beats(&waveform);
        let counts = score(&reference, &beats, waveform.sampling_hz, 300.0);
        let name = header
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        print_counts(&name, counts);
        gross = gross + counts;
    }
    print_counts("gross", gross);
    Ok(ExitCode::SUCCESS)
}

fn print_counts(name: &str, counts: Counts) {
    println!(
        "{:<12} {:>7} {:>5} {:>5} {:>9.3} {:>9.3}",
        name,
        counts.true_positives,
        counts.false_negatives,
        counts.false_positives,
        counts.sensitivity() * 100.0,
        counts.positive_predictivity() * 100.0
    );
}
