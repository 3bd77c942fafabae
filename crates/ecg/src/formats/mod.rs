//! Reading ECG files into the canonical [`Waveform`](crate::Waveform): WFDB (`.hea` + `.dat`,
//! formats 16 and 212), HL7 aECG XML, DICOM waveforms (12-lead and general ECG) and yijia's JSON
//! form. Every reader refuses what it cannot read faithfully, with a reason.

pub mod aecg;
pub mod dicom;
mod dicom_lengths;
pub mod json;
pub mod scp;
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
    Scp,
    Json,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Wfdb => "wfdb",
            Format::Dicom => "dicom",
            Format::Aecg => "aecg",
            Format::Scp => "scp",
            Format::Json => "json",
        }
    }

    /// The format of a single file from its content (never its name).
    pub fn sniff(bytes: &[u8]) -> Result<Format, Unreadable> {
        if bytes.len() > 132 && &bytes[128..132] == b"DICM" {
            return Ok(Format::Dicom);
        }
        if bytes.get(16..22) == Some(b"SCPECG".as_slice()) {
            return Ok(Format::Scp);
        }
        if bytes.starts_with(b"0       ") || bytes.starts_with(b"\xffBIOSEMI") {
            return Err(unreadable(
                "EDF and BDF files are recognised but not read yet",
            ));
        }
        let start = bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map(|i| bytes[i]);
        match start {
            Some(b'{') => Ok(Format::Json),
            Some(b'<') => match xml_root(bytes).as_deref() {
                Some("AnnotatedECG") => Ok(Format::Aecg),
                Some("RestingECG") => Err(unreadable(
                    "GE MUSE XML (RestingECG) is recognised but not read yet",
                )),
                Some("CardiologyXML") => Err(unreadable(
                    "GE CardioSoft XML (CardiologyXML) is recognised but not read yet",
                )),
                Some("restingecgdata") => Err(unreadable(
                    "Philips SierraECG XML (restingecgdata) is recognised but not read yet",
                )),
                Some(other) => Err(unreadable(format!(
                    "XML whose root is <{other}> is not an ECG format read here"
                ))),
                None => Err(unreadable("XML without a root element")),
            },
            _ => Err(unreadable(
                "not a DICOM, HL7 aECG, SCP-ECG, EDF or JSON ECG file",
            )),
        }
    }
}

/// The local name of an XML document's root element.
fn xml_root(bytes: &[u8]) -> Option<String> {
    let mut rest = bytes;
    loop {
        let open = rest.iter().position(|b| *b == b'<')?;
        rest = &rest[open + 1..];
        match rest.first()? {
            b'?' | b'!' => continue,
            _ => {
                let end = rest
                    .iter()
                    .position(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/')?;
                let name = std::str::from_utf8(&rest[..end]).ok()?;
                return Some(name.rsplit(':').next().unwrap_or(name).to_owned());
            }
        }
    }
}

/// A file in UTF-16 (with its byte order mark) as UTF-8; any other file as it is.
fn utf8_of(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, Unreadable> {
    let little = match bytes {
        [0xff, 0xfe, ..] => true,
        [0xfe, 0xff, ..] => false,
        _ => return Ok(std::borrow::Cow::Borrowed(bytes)),
    };
    let units = bytes[2..].chunks_exact(2).map(|c| {
        if little {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    let text: String = char::decode_utf16(units)
        .collect::<Result<_, _>>()
        .map_err(|_| unreadable("the file says UTF-16 but is not"))?;
    Ok(std::borrow::Cow::Owned(text.into_bytes()))
}

/// Reads one self-contained file (DICOM, aECG or JSON; XML also in UTF-16) and checks the
/// result.
pub fn read_single(bytes: &[u8]) -> Result<(Format, Waveform), Unreadable> {
    let bytes = utf8_of(bytes)?;
    let format = Format::sniff(&bytes)?;
    let waveform = match format {
        Format::Dicom => dicom::read(&bytes)?,
        Format::Aecg => aecg::read(&bytes)?,
        Format::Scp => scp::read(&bytes)?,
        Format::Json => json::read(&bytes)?,
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
