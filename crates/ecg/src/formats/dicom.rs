//! DICOM waveforms of every SOP class that carries ECG channels: 12-lead, general, ambulatory
//! and 32-bit ECG, hemodynamic and cardiac electrophysiology. Of the Waveform Sequence's
//! multiplex groups the rhythm is read (the group labelled RHYTHM, else the longest; median
//! beats are left to yijia's own analysis); 8-, 16- and 32-bit samples, signed or unsigned,
//! become µV through each channel's sensitivity, correction factor, baseline and units.
//! Channels in other units (pressure, temperature …) are kept out of the leads and named as
//! non-ECG channels. The Waveform Annotation Sequence gives the device's own measurements
//! (by their concept names) and statements (unformatted text).

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::file::ReadPreamble;
use dicom_object::{InMemDicomObject, OpenFileOptions};

use super::{Unreadable, unreadable};
use crate::stated::{Device, DeviceStatement, StatedTime, parse_offset};
use crate::waveform::{
    Lead, Waveform, check_size, make_names_unique, microvolts, standard_lead_name,
};

const ECG_SOP_CLASSES: [&str; 6] = [
    "1.2.840.10008.5.1.4.1.1.9.1.1", // 12-lead ECG
    "1.2.840.10008.5.1.4.1.1.9.1.2", // General ECG
    "1.2.840.10008.5.1.4.1.1.9.1.3", // Ambulatory ECG
    "1.2.840.10008.5.1.4.1.1.9.1.4", // General 32-bit ECG
    "1.2.840.10008.5.1.4.1.1.9.2.1", // Hemodynamic Waveform
    "1.2.840.10008.5.1.4.1.1.9.3.1", // Basic Cardiac Electrophysiology
];

fn float(object: &InMemDicomObject, tag: Tag, default: f64) -> Result<f64, Unreadable> {
    match object
        .element_opt(tag)
        .map_err(|e| unreadable(format!("DICOM: {e}")))?
    {
        Some(element) => element
            .to_float64()
            .map_err(|_| unreadable(format!("DICOM: bad number in {tag}"))),
        None => Ok(default),
    }
}

fn integer(object: &InMemDicomObject, tag: Tag) -> Result<u32, Unreadable> {
    object
        .element(tag)
        .map_err(|_| unreadable(format!("DICOM: {tag} is missing")))?
        .to_int::<u32>()
        .map_err(|_| unreadable(format!("DICOM: bad integer in {tag}")))
}

fn text(object: &InMemDicomObject, tag: Tag) -> Option<String> {
    object
        .element_opt(tag)
        .ok()
        .flatten()
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_end_matches(['\0', ' ']).to_owned())
}

fn first_item(object: &InMemDicomObject, tag: Tag) -> Option<&InMemDicomObject> {
    object
        .element_opt(tag)
        .ok()
        .flatten()
        .and_then(|e| e.items())
        .and_then(|items| items.first())
}

/// µV per unit of a channel's sensitivity (UCUM), or `None` for a unit that is not a voltage.
fn units_to_microvolts(channel: &InMemDicomObject) -> Option<f64> {
    let unit = first_item(channel, tags::CHANNEL_SENSITIVITY_UNITS_SEQUENCE)
        .and_then(|u| text(u, tags::CODE_VALUE));
    match unit.as_deref() {
        None | Some("uV") => Some(1.0),
        Some("mV") => Some(1000.0),
        Some("V") => Some(1_000_000.0),
        Some("nV") => Some(0.001),
        Some(_) => None,
    }
}

pub fn read(bytes: &[u8]) -> Result<Waveform, Unreadable> {
    super::dicom_lengths::check(bytes)?;
    let object = OpenFileOptions::new()
        .read_preamble(ReadPreamble::Auto)
        .from_reader(bytes)
        .map_err(|e| unreadable(format!("DICOM: cannot parse the file: {e}")))?;
    let sop_class = object
        .meta()
        .media_storage_sop_class_uid()
        .trim_end_matches('\0')
        .to_owned();
    if !ECG_SOP_CLASSES.contains(&sop_class.as_str()) {
        return Err(unreadable(format!(
            "DICOM: SOP class {sop_class} is not a waveform class that carries ECG"
        )));
    }
    let groups = object
        .element_opt(tags::WAVEFORM_SEQUENCE)
        .ok()
        .flatten()
        .and_then(|e| e.items())
        .ok_or_else(|| unreadable("DICOM: no Waveform Sequence"))?;
    let duration = |g: &InMemDicomObject| -> f64 {
        let samples = integer(g, tags::NUMBER_OF_WAVEFORM_SAMPLES).unwrap_or(0);
        f64::from(samples)
            / float(g, tags::SAMPLING_FREQUENCY, 1.0)
                .unwrap_or(1.0)
                .max(1.0)
    };
    let group = groups
        .iter()
        .find(|g| {
            text(g, tags::MULTIPLEX_GROUP_LABEL).is_some_and(|l| l.eq_ignore_ascii_case("RHYTHM"))
        })
        .or_else(|| {
            groups
                .iter()
                .max_by(|a, b| duration(a).total_cmp(&duration(b)))
        })
        .ok_or_else(|| unreadable("DICOM: the Waveform Sequence is empty"))?;
    let channels = integer(group, tags::NUMBER_OF_WAVEFORM_CHANNELS)? as usize;
    let samples = integer(group, tags::NUMBER_OF_WAVEFORM_SAMPLES)? as usize;
    let sampling_hz = float(group, tags::SAMPLING_FREQUENCY, 0.0)?;
    let bits = integer(group, tags::WAVEFORM_BITS_ALLOCATED)?;
    let interpretation = text(group, tags::WAVEFORM_SAMPLE_INTERPRETATION).unwrap_or_default();
    let width = match (bits, interpretation.as_str()) {
        (8, "SB" | "UB") | (16, "SS" | "US") | (32, "SL" | "UL") => (bits / 8) as usize,
        _ => {
            return Err(unreadable(format!(
                "DICOM: {bits}-bit {interpretation:?} samples are not a waveform encoding"
            )));
        }
    };
    let signed = interpretation.starts_with('S');
    let definitions = group
        .element(tags::CHANNEL_DEFINITION_SEQUENCE)
        .ok()
        .and_then(|e| e.items())
        .ok_or_else(|| unreadable("DICOM: no Channel Definition Sequence"))?;
    if channels == 0 || definitions.len() != channels {
        return Err(unreadable(
            "DICOM: channel count and channel definitions disagree",
        ));
    }
    let data = group
        .element(tags::WAVEFORM_DATA)
        .map_err(|_| unreadable("DICOM: no Waveform Data"))?
        .to_bytes()
        .map_err(|_| unreadable("DICOM: unreadable Waveform Data"))?;
    check_size(channels, samples)?;
    if data.len() < channels * samples * width {
        return Err(unreadable(
            "DICOM: Waveform Data is shorter than its channels × samples",
        ));
    }
    let mut leads = Vec::with_capacity(channels);
    let mut non_ecg_channels = Vec::new();
    for (index, channel) in definitions.iter().enumerate() {
        let source = first_item(channel, tags::CHANNEL_SOURCE_SEQUENCE);
        let name = source
            .and_then(|s| text(s, tags::CODE_MEANING).or_else(|| text(s, tags::CODE_VALUE)))
            .map(|n| standard_lead_name(&n))
            .unwrap_or_else(|| format!("channel {}", index + 1));
        let Some(per_unit) = units_to_microvolts(channel) else {
            non_ecg_channels.push(name);
            continue;
        };
        let scale = float(channel, tags::CHANNEL_SENSITIVITY, 1.0)?
            * float(channel, tags::CHANNEL_SENSITIVITY_CORRECTION_FACTOR, 1.0)?
            * per_unit;
        let baseline = float(channel, tags::CHANNEL_BASELINE, 0.0)?;
        let samples_uv = (0..samples)
            .map(|s| {
                let at = (s * channels + index) * width;
                let raw = sample(&data[at..at + width], signed);
                microvolts((raw + baseline) * scale)
            })
            .collect::<Result<_, _>>()?;
        leads.push(Lead { name, samples_uv });
    }
    make_names_unique(&mut leads);
    let manufacturer =
        text(&object, tags::MANUFACTURER).filter(|m| !m.eq_ignore_ascii_case("unknown"));
    Ok(Waveform {
        sampling_hz,
        leads,
        non_ecg_channels,
        device: Device::named(manufacturer, text(&object, tags::MANUFACTURER_MODEL_NAME)),
        device_statement: statement(&object),
        recorded_at: recorded_at(&object),
    })
}

/// The acquisition's date and time: Acquisition DateTime, else the content's or the study's
/// date and time, with the Timezone Offset From UTC where given.
fn recorded_at(object: &InMemDicomObject) -> Option<StatedTime> {
    let joined = |date, time| {
        let date = text(object, date)?;
        Some(format!("{date}{}", text(object, time).unwrap_or_default()))
    };
    let stated = text(object, tags::ACQUISITION_DATE_TIME)
        .or_else(|| joined(tags::CONTENT_DATE, tags::CONTENT_TIME))
        .or_else(|| joined(tags::ACQUISITION_DATE, tags::ACQUISITION_TIME))
        .or_else(|| joined(tags::STUDY_DATE, tags::STUDY_TIME))?;
    let time = StatedTime::from_compact(&stated)?;
    Some(match time.utc_offset_minutes {
        Some(_) => time,
        None => time.with_offset(
            text(object, tags::TIMEZONE_OFFSET_FROM_UTC).and_then(|o| parse_offset(&o)),
        ),
    })
}

/// One little-endian sample of 1, 2 or 4 bytes.
fn sample(bytes: &[u8], signed: bool) -> f64 {
    match (bytes.len(), signed) {
        (1, true) => f64::from(bytes[0] as i8),
        (1, false) => f64::from(bytes[0]),
        (2, true) => f64::from(i16::from_le_bytes([bytes[0], bytes[1]])),
        (2, false) => f64::from(u16::from_le_bytes([bytes[0], bytes[1]])),
        (_, true) => f64::from(i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])),
        (_, false) => f64::from(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])),
    }
}

/// The device's measurements and statements from the Waveform Annotation Sequence.
fn statement(object: &InMemDicomObject) -> Option<DeviceStatement> {
    let annotations = object
        .element_opt(tags::WAVEFORM_ANNOTATION_SEQUENCE)
        .ok()
        .flatten()
        .and_then(|e| e.items())?;
    let mut stated = DeviceStatement::default();
    let mut lines = Vec::new();
    let mut rr_ms = None;
    for annotation in annotations {
        if let Some(line) = text(annotation, tags::UNFORMATTED_TEXT_VALUE).filter(|t| !t.is_empty())
        {
            lines.push(line);
            continue;
        }
        let Some(meaning) = first_item(annotation, tags::CONCEPT_NAME_CODE_SEQUENCE)
            .and_then(|c| text(c, tags::CODE_MEANING))
        else {
            continue;
        };
        let Ok(value) = float(annotation, tags::NUMERIC_VALUE, f64::NAN) else {
            continue;
        };
        if value.is_nan() {
            continue;
        }
        let slot = match meaning.to_ascii_lowercase().as_str() {
            "pr interval" => &mut stated.pr_ms,
            "qrs duration" => &mut stated.qrs_ms,
            "qt interval" => &mut stated.qt_ms,
            "qtc interval" => &mut stated.qtc_ms,
            "p axis" => &mut stated.p_axis_deg,
            "qrs axis" => &mut stated.qrs_axis_deg,
            "t axis" => &mut stated.t_axis_deg,
            "ventricular rate" | "heart rate" | "ventricular heart rate" => {
                &mut stated.heart_rate_bpm
            }
            "rr interval" => &mut rr_ms,
            _ => continue,
        };
        slot.get_or_insert(value);
    }
    if stated.heart_rate_bpm.is_none() {
        stated.heart_rate_bpm = rr_ms
            .filter(|rr| *rr > 0.0)
            .map(|rr| (600_000.0 / rr).round() / 10.0);
    }
    if !lines.is_empty() {
        stated.text = Some(lines.join("\n"));
    }
    stated.plausible().if_any()
}
