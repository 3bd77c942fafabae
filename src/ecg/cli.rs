//! `yijia ecg analyze` and `yijia ecg score`: the analysis library on files, for readers,
//! developers and the accuracy figures in the notes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use yijia_ecg::analysis::{Patient, Sex};
use yijia_ecg::formats;
use yijia_ecg::score::{Counts, score};
use yijia_ecg::synth::Case;

pub enum Command {
    Analyze {
        file: PathBuf,
        json: bool,
        sex: Option<String>,
        age: Option<u32>,
    },
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
            file,
            json,
            sex,
            age,
        } => analyze(&file, json, sex.as_deref(), age),
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

fn analyze(
    file: &std::path::Path,
    json: bool,
    sex: Option<&str>,
    age: Option<u32>,
) -> anyhow::Result<ExitCode> {
    let (format, waveform) =
        formats::read_path(file).with_context(|| format!("cannot read {}", file.display()))?;
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
        println!("{}", serde_json::to_string_pretty(&analysis)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("format         {}", format.as_str());
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
