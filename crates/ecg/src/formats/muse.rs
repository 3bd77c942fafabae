//! GE's XML exports. MUSE (`<RestingECG>`): the rhythm `<Waveform>` holds each stored lead as
//! base64 little-endian 16-bit samples with its amplitude units per bit; the sampling rate is
//! `SampleBase × 10^SampleExponent`; the eight independent leads are stored and III, aVR, aVL,
//! aVF derived. CardioSoft (`<CardiologyXML>`): `<StripData>` holds each lead as
//! comma-separated samples at `Resolution` µV per unit. Both carry the device's measurements
//! (rate, PR, QRS, QT, QTc, axes) and its diagnosis statements.

use super::xml::{self, Element};
use super::{Unreadable, unreadable};
use crate::stated::{DateOrder, Device, DeviceStatement, StatedTime};
use crate::waveform::{
    Lead, MAX_SAMPLES, Waveform, check_size, derive_limb_leads, lead_order, make_names_unique,
    microvolts, standard_lead_name,
};

fn problem(reason: impl std::fmt::Display) -> Unreadable {
    unreadable(format!("GE XML: {reason}"))
}

fn finish(
    mut leads: Vec<Lead>,
    sampling_hz: f64,
    device: Option<Device>,
    statement: DeviceStatement,
    recorded_at: Option<StatedTime>,
) -> Waveform {
    derive_limb_leads(&mut leads);
    leads.sort_by_key(|l| lead_order(&l.name));
    make_names_unique(&mut leads);
    Waveform {
        sampling_hz,
        leads,
        device,
        device_statement: statement.plausible().if_any(),
        recorded_at,
        ..Default::default()
    }
}

/// µV per unit of an amplitude unit's name.
fn unit_scale(unit: Option<&str>) -> Result<f64, Unreadable> {
    match unit.map(str::to_ascii_uppercase).as_deref() {
        None | Some("MICROVOLTS" | "UV" | "UVPERLSB" | "µV") => Ok(1.0),
        Some("MILLIVOLTS" | "MV") => Ok(1000.0),
        Some(other) => Err(problem(format!(
            "amplitude unit {other:?} is not a voltage"
        ))),
    }
}

pub fn read_muse(root: &Element) -> Result<Waveform, Unreadable> {
    let waveforms: Vec<&Element> = root.children("Waveform").collect();
    let rhythm = waveforms
        .iter()
        .find(|w| {
            w.text_of("WaveformType")
                .is_some_and(|t| t.eq_ignore_ascii_case("Rhythm"))
        })
        .or(waveforms.first())
        .ok_or_else(|| problem("no <Waveform> in the RestingECG"))?;
    let base = rhythm
        .number_of("SampleBase")
        .ok_or_else(|| problem("the rhythm has no SampleBase (sampling rate)"))?;
    let exponent = rhythm.number_of("SampleExponent").unwrap_or(0.0);
    let sampling_hz = base * 10_f64.powi(exponent as i32);
    let mut leads = Vec::new();
    let mut total = 0;
    for data in rhythm.children("LeadData") {
        let name = data
            .text_of("LeadID")
            .map(standard_lead_name)
            .ok_or_else(|| problem("a LeadData without a LeadID"))?;
        let per_bit = data.number_of("LeadAmplitudeUnitsPerBit").unwrap_or(1.0)
            * unit_scale(data.text_of("LeadAmplitudeUnits"))?;
        let baseline = data.number_of("FirstSampleBaseline").unwrap_or(0.0);
        let size = data.number_of("LeadSampleSize").unwrap_or(2.0);
        if size != 2.0 {
            return Err(problem(format!(
                "{size}-byte samples are not 16-bit samples"
            )));
        }
        let bytes = xml::base64(
            data.text_of("WaveFormData").unwrap_or_default(),
            2 * MAX_SAMPLES,
        )
        .map_err(problem)?;
        let count = data
            .number_of("LeadSampleCountTotal")
            .map_or(bytes.len() / 2, |n| (n as usize).min(bytes.len() / 2));
        total += count;
        check_size(1, total)?;
        let samples_uv = bytes
            .chunks_exact(2)
            .take(count)
            .map(|c| microvolts((f64::from(i16::from_le_bytes([c[0], c[1]])) - baseline) * per_bit))
            .collect::<Result<_, _>>()?;
        leads.push(Lead { name, samples_uv });
    }
    let demographics = root.child("TestDemographics");
    let device = Device::named(
        demographics
            .and_then(|d| d.text_of("AcquisitionDeviceManufacturer"))
            .map(str::to_owned),
        demographics
            .and_then(|d| d.text_of("AcquisitionDevice"))
            .map(str::to_owned),
    );
    let measured = root.child("RestingECGMeasurements");
    let number = |name: &str| measured.and_then(|m| m.number_of(name));
    let statement = DeviceStatement {
        heart_rate_bpm: number("VentricularRate"),
        pr_ms: number("PRInterval"),
        qrs_ms: number("QRSDuration"),
        qt_ms: number("QTInterval"),
        qtc_ms: number("QTCorrected"),
        p_axis_deg: number("PAxis"),
        qrs_axis_deg: number("RAxis"),
        t_axis_deg: number("TAxis"),
        text: root
            .child("Diagnosis")
            .or_else(|| root.child("OriginalDiagnosis"))
            .map(muse_statements),
    };
    // TestDemographics: AcquisitionDate MM-DD-YYYY, AcquisitionTime HH:MM:SS.
    let recorded_at = demographics.and_then(|d| {
        StatedTime::from_written(
            d.text_of("AcquisitionDate")?,
            d.text_of("AcquisitionTime"),
            DateOrder::MonthDayYear,
        )
    });
    Ok(finish(leads, sampling_hz, device, statement, recorded_at))
}

/// CardioSoft's `<ObservationDateTime>`: Year, Month, Day, Hour, Minute, Second.
fn cardiosoft_time(root: &Element) -> Option<StatedTime> {
    let at = root.find("ObservationDateTime")?;
    let part = |name: &str| at.text_of(name).and_then(|t| t.parse::<u16>().ok());
    let small = |name: &str| part(name).and_then(|v| u8::try_from(v).ok());
    StatedTime::new(
        part("Year")?,
        small("Month")?,
        small("Day")?,
        small("Hour").unwrap_or(0),
        small("Minute").unwrap_or(0),
        small("Second").unwrap_or(0),
    )
}

/// MUSE statements: each `StmtText` continues the line until a flag says `ENDSLINE`.
fn muse_statements(diagnosis: &Element) -> String {
    let mut lines = Vec::new();
    let mut line = String::new();
    for statement in diagnosis.children("DiagnosisStatement") {
        if let Some(text) = statement.text_of("StmtText") {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(text);
        }
        if statement
            .children("StmtFlag")
            .any(|f| f.trimmed() == Some("ENDSLINE"))
        {
            lines.push(std::mem::take(&mut line));
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines.join("\n")
}

pub fn read_cardiosoft(root: &Element) -> Result<Waveform, Unreadable> {
    let strip = root
        .find("StripData")
        .ok_or_else(|| problem("no <StripData> in the CardiologyXML"))?;
    let sampling_hz = strip
        .number_of("SampleRate")
        .ok_or_else(|| problem("the strip has no SampleRate"))?;
    let resolution = strip
        .child("Resolution")
        .map(|r| -> Result<f64, Unreadable> {
            let value = r
                .trimmed()
                .and_then(|t| t.parse::<f64>().ok())
                .unwrap_or(1.0);
            let unit = r.attribute("units").map(|u| u.trim_end_matches("perLsb"));
            Ok(value * unit_scale(unit)?)
        })
        .transpose()?
        .unwrap_or(1.0);
    let mut leads = Vec::new();
    let mut total = 0;
    for data in strip.children("WaveformData") {
        let name = data
            .attribute("lead")
            .map(standard_lead_name)
            .ok_or_else(|| problem("a WaveformData without its lead"))?;
        let text = data.text.as_str();
        total += text.bytes().filter(|b| *b == b',').count() + 1;
        check_size(1, total)?;
        let samples_uv = text
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| {
                let value: f64 = v
                    .parse()
                    .map_err(|_| problem(format!("lead {name} holds {v:?}, not a number")))?;
                Ok(microvolts(value * resolution)?)
            })
            .collect::<Result<_, Unreadable>>()?;
        leads.push(Lead { name, samples_uv });
    }
    let device = root.find("DeviceInfo");
    let device = Device::named(
        device
            .and_then(|d| d.text_of("Manufacturer"))
            .map(str::to_owned),
        device.and_then(|d| d.text_of("Desc")).map(str::to_owned),
    );
    let measured = root.find("RestingECGMeasurements");
    let number = |name: &str| measured.and_then(|m| m.number_of(name));
    let interpretation = root.find("Interpretation");
    let text: Vec<&str> = interpretation
        .map(|i| {
            let mut lines: Vec<&str> = i
                .find_all("DiagnosisText")
                .into_iter()
                .filter_map(Element::trimmed)
                .collect();
            lines.extend(
                i.find_all("ConclusionText")
                    .into_iter()
                    .filter_map(Element::trimmed),
            );
            lines
        })
        .unwrap_or_default();
    let statement = DeviceStatement {
        heart_rate_bpm: number("VentricularRate"),
        pr_ms: number("PQInterval").or_else(|| number("PRInterval")),
        qrs_ms: number("QRSDuration"),
        qt_ms: number("QTInterval"),
        qtc_ms: number("QTCInterval").or_else(|| number("QTcInterval")),
        p_axis_deg: number("PAxis"),
        qrs_axis_deg: number("RAxis"),
        t_axis_deg: number("TAxis"),
        text: Some(text.join("\n")),
    };
    Ok(finish(
        leads,
        sampling_hz,
        device,
        statement,
        cardiosoft_time(root),
    ))
}
