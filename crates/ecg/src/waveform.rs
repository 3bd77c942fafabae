//! The canonical waveform every format is read into: per-lead samples in microvolts at one
//! sampling rate, with lead names.

use serde::{Deserialize, Serialize};

use crate::stated::{Device, DeviceStatement, StatedTime};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lead {
    /// Standard name where known (`I`, `II`, `III`, `aVR`, `aVL`, `aVF`, `V1`–`V6`), else as given.
    pub name: String,
    pub samples_uv: Vec<i32>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Waveform {
    pub sampling_hz: f64,
    /// ECG leads only, in µV.
    pub leads: Vec<Lead>,
    /// Channels the file holds that are not ECG leads (pleth, respiration, pressure …): kept
    /// in the stored original, never analysed, never on the paper.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub non_ecg_channels: Vec<String>,
    /// The recording device, where the file names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<Device>,
    /// The device's own analysis, where the file states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_statement: Option<DeviceStatement>,
    /// When the file says the recording was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<StatedTime>,
}

/// The most samples (all leads together) a recording may hold: ten minutes of 12 leads at
/// 500 Hz, or 30 minutes of two leads at 1 kHz. Readers check it before they allocate, so no
/// file can make the server hold more than this (16 MB as i32) per recording being read.
pub const MAX_SAMPLES: usize = 4_000_000;

/// The largest amplitude taken as an ECG sample: ±100 mV, far beyond any body surface ECG.
pub const MAX_MICROVOLTS: f64 = 100_000.0;

/// One sample in µV from a reader's arithmetic, refused when it is not a number or beyond
/// what an ECG can be (a damaged gain, baseline or scale).
pub fn microvolts(value: f64) -> Result<i32, Invalid> {
    if value.is_finite() && value.abs() <= MAX_MICROVOLTS {
        Ok(value.round() as i32)
    } else {
        Err(Invalid::Amplitude)
    }
}

/// Checks, before allocating, that `channels` × `samples` fits [`MAX_SAMPLES`].
pub fn check_size(channels: usize, samples: usize) -> Result<(), Invalid> {
    match channels.checked_mul(samples) {
        Some(total) if total <= MAX_SAMPLES => Ok(()),
        _ => Err(Invalid::TooManySamples),
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Invalid {
    #[error("a sample is not a number or beyond ±100 mV (a damaged gain, baseline or scale)")]
    Amplitude,
    #[error("the recording holds more than {MAX_SAMPLES} samples")]
    TooManySamples,
    #[error("no leads")]
    NoLeads,
    #[error("sampling rate {0} Hz is outside 100–10000 Hz")]
    SamplingRate(String),
    #[error("leads have different lengths")]
    UnequalLengths,
    #[error("the recording is shorter than 2 s")]
    TooShort,
    #[error("the recording is longer than 24 h")]
    TooLong,
}

impl Waveform {
    /// Checks what every consumer relies on.
    pub fn check(&self) -> Result<(), Invalid> {
        if self.leads.is_empty() {
            return Err(Invalid::NoLeads);
        }
        if !(100.0..=10_000.0).contains(&self.sampling_hz) || !self.sampling_hz.is_finite() {
            return Err(Invalid::SamplingRate(self.sampling_hz.to_string()));
        }
        let length = self.leads[0].samples_uv.len();
        if self.leads.iter().any(|l| l.samples_uv.len() != length) {
            return Err(Invalid::UnequalLengths);
        }
        check_size(self.leads.len(), length)?;
        if (length as f64) < 2.0 * self.sampling_hz {
            return Err(Invalid::TooShort);
        }
        if length as f64 > 24.0 * 3600.0 * self.sampling_hz {
            return Err(Invalid::TooLong);
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.leads.first().map_or(0, |l| l.samples_uv.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn duration_s(&self) -> f64 {
        self.len() as f64 / self.sampling_hz
    }

    pub fn lead(&self, name: &str) -> Option<&Lead> {
        self.leads
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(name))
    }
}

/// The standard name of a lead from the many ways files spell it.
pub fn standard_lead_name(raw: &str) -> String {
    let trimmed = raw.trim();
    let key = trimmed
        .trim_start_matches("MDC_ECG_LEAD_")
        .trim_start_matches("Lead ")
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let name = match key.as_str() {
        "I" => "I",
        "II" | "MLII" => "II",
        "III" => "III",
        "AVR" => "aVR",
        "AVL" => "aVL",
        "AVF" => "aVF",
        "V1" => "V1",
        "V2" => "V2",
        "V3" => "V3",
        "V4" => "V4",
        "V5" => "V5",
        "V6" => "V6",
        _ => return trimmed.to_owned(),
    };
    name.to_owned()
}

/// Makes lead names unique (`ECG`, `ECG 2`, …): measurements are keyed by lead name, and some
/// recordings name every channel alike.
pub fn make_names_unique(leads: &mut [Lead]) {
    let mut seen: Vec<String> = Vec::with_capacity(leads.len());
    for lead in leads.iter_mut() {
        let base = lead.name.clone();
        let mut number = 1;
        while seen.contains(&lead.name) {
            number += 1;
            lead.name = format!("{base} {number}");
        }
        seen.push(lead.name.clone());
    }
}

/// The standard order of the 12 leads, for sorting.
pub fn lead_order(name: &str) -> usize {
    const ORDER: [&str; 12] = [
        "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
    ];
    ORDER.iter().position(|n| *n == name).unwrap_or(ORDER.len())
}

/// Derives III, aVR, aVL and aVF from I and II (Einthoven and Goldberger) where a file
/// stores only the eight independent leads.
pub fn derive_limb_leads(leads: &mut Vec<Lead>) {
    let find = |leads: &[Lead], name: &str| leads.iter().position(|l| l.name == name);
    let (Some(i), Some(ii)) = (find(leads, "I"), find(leads, "II")) else {
        return;
    };
    if ["III", "aVR", "aVL", "aVF"]
        .iter()
        .any(|name| find(leads, name).is_some())
    {
        return;
    }
    let (one, two) = (&leads[i].samples_uv, &leads[ii].samples_uv);
    let derive = |f: fn(i32, i32) -> i32| -> Vec<i32> {
        one.iter().zip(two).map(|(a, b)| f(*a, *b)).collect()
    };
    let derived = [
        ("III", derive(|a, b| b - a)),
        ("aVR", derive(|a, b| -(a + b) / 2)),
        ("aVL", derive(|a, b| a - b / 2)),
        ("aVF", derive(|a, b| b - a / 2)),
    ];
    leads.extend(derived.into_iter().map(|(name, samples_uv)| Lead {
        name: name.to_owned(),
        samples_uv,
    }));
}
