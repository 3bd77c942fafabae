//! Reading ECG files into the canonical [`Waveform`](crate::Waveform): WFDB (`.hea` + `.dat`,
//! formats 16 and 212), HL7 aECG XML, DICOM waveforms (12-lead and general ECG) and yijia's JSON
//! form. Every reader refuses what it cannot read faithfully, with a reason.

pub mod aecg;
pub mod dicom;
mod dicom_lengths;
pub mod json;
pub mod wfdb;

use crate::waveform::{Invalid, Waveform};

#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    #[error("{0}")]
    Format(String),
    #[error(transparent)]
    Invalid(#[from] Invalid),
}

pub(crate) fn unreadable(reason: impl Into<String>) -> Unreadable {
    Unreadable::Format(reason.into())
}

/// The formats yijia reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Wfdb,
    Dicom,
    Aecg,
    Json,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Wfdb => "wfdb",
            Format::Dicom => "dicom",
            Format::Aecg => "hl7_aecg",
            Format::Json => "json",
        }
    }

    /// Guesses the format of a single file from its content.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        if bytes.len() > 132 && &bytes[128..132] == b"DICM" {
            return Some(Format::Dicom);
        }
        let start = bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map(|i| bytes[i])?;
        match start {
            b'{' => Some(Format::Json),
            b'<' => Some(Format::Aecg),
            _ => None,
        }
    }
}

/// Reads one self-contained file (DICOM, aECG or JSON) and checks the result.
pub fn read_single(bytes: &[u8]) -> Result<(Format, Waveform), Unreadable> {
    let format =
        Format::sniff(bytes).ok_or_else(|| unreadable("not a DICOM, HL7 aECG or JSON ECG file"))?;
    let waveform = match format {
        Format::Dicom => dicom::read(bytes)?,
        Format::Aecg => aecg::read(bytes)?,
        Format::Json => json::read(bytes)?,
        Format::Wfdb => unreachable!("WFDB needs a header and a data file"),
    };
    waveform.check()?;
    Ok((format, waveform))
}

/// Reads an ECG file from disk: a WFDB `.hea` (with its signal files beside it) or a single
/// DICOM, HL7 aECG or JSON file.
pub fn read_path(path: &std::path::Path) -> Result<(Format, Waveform), Unreadable> {
    if path.extension().is_some_and(|e| e == "hea") {
        return Ok((Format::Wfdb, wfdb::read_path(path)?));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| unreadable(format!("cannot read {}: {e}", path.display())))?;
    read_single(&bytes)
}
