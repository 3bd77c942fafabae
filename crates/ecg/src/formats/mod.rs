//! Reading ECG files into the canonical [`Waveform`](crate::Waveform): WFDB (`.hea` + `.dat`,
//! formats 16 and 212), HL7 aECG XML, DICOM waveforms (12-lead and general ECG) and yijia's JSON
//! form. Every reader refuses what it cannot read faithfully, with a reason.

pub mod aecg;
pub mod dicom;
pub mod dicom_lengths;
pub mod edf;
pub mod json;
mod muse;
mod philips;
pub mod scp;
pub mod wfdb;
mod xml;

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
    Muse,
    Philips,
    Edf,
    Json,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Wfdb => "wfdb",
            Format::Dicom => "dicom",
            Format::Aecg => "aecg",
            Format::Scp => "scp",
            Format::Muse => "muse",
            Format::Philips => "philips",
            Format::Edf => "edf",
            Format::Json => "json",
        }
    }

    /// The format's name for people.
    pub fn name(self) -> &'static str {
        match self {
            Format::Wfdb => "WFDB",
            Format::Dicom => "DICOM waveform",
            Format::Aecg => "HL7 aECG",
            Format::Scp => "SCP-ECG",
            Format::Muse => "GE MUSE / CardioSoft XML",
            Format::Philips => "Philips SierraECG XML",
            Format::Edf => "EDF, EDF+ or BDF",
            Format::Json => "yijia JSON",
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
            return Ok(Format::Edf);
        }
        let start = bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map(|i| bytes[i]);
        match start {
            Some(b'{') => Ok(Format::Json),
            Some(b'<') => match xml_root(bytes).as_deref() {
                Some("AnnotatedECG") => Ok(Format::Aecg),
                Some("RestingECG" | "CardiologyXML") => Ok(Format::Muse),
                Some("restingecgdata") => Ok(Format::Philips),
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

/// A text file as UTF-8: UTF-16 by its byte order mark, or an XML file whose declaration
/// names another encoding (ISO-8859-1, GB 2312 …); any other file as it is.
fn utf8_of(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, Unreadable> {
    let (encoding, skip) = match encoding_rs::Encoding::for_bom(bytes) {
        Some((encoding, skip)) => (encoding, skip),
        None => match declared_encoding(bytes) {
            Some(encoding) if encoding != encoding_rs::UTF_8 => (encoding, 0),
            _ => return Ok(std::borrow::Cow::Borrowed(bytes)),
        },
    };
    let (text, malformed) = encoding.decode_without_bom_handling(&bytes[skip..]);
    if malformed {
        return Err(unreadable(format!(
            "the file says it is {} but is not",
            encoding.name()
        )));
    }
    let text = text.into_owned();
    // The declaration no longer says what the bytes are.
    Ok(std::borrow::Cow::Owned(
        strip_declaration(text).into_bytes(),
    ))
}

/// The encoding an XML declaration names.
fn declared_encoding(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let head = bytes.get(..bytes.len().min(200))?;
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let declaration = std::str::from_utf8(&head[..end]).ok()?;
    let at = declaration.find("encoding")? + "encoding".len();
    let value = declaration[at..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = value.chars().next()?;
    let label = value[1..].split(quote).next()?;
    encoding_rs::Encoding::for_label(label.as_bytes())
}

fn strip_declaration(text: String) -> String {
    match (text.starts_with("<?xml"), text.find("?>")) {
        (true, Some(end)) => text[end + 2..].to_owned(),
        _ => text,
    }
}

/// Reads one self-contained file (DICOM, aECG or JSON; XML also in UTF-16) and checks the
/// result.
pub fn read_single(bytes: &[u8]) -> Result<(Format, Waveform), Unreadable> {
    let (format, bytes) = match Format::sniff(bytes) {
        Ok(binary @ (Format::Dicom | Format::Scp | Format::Edf)) => {
            (binary, std::borrow::Cow::Borrowed(bytes))
        }
        _ => {
            let text = utf8_of(bytes)?;
            (Format::sniff(&text)?, text)
        }
    };
    let waveform = match format {
        Format::Dicom => dicom::read(&bytes)?,
        Format::Aecg => aecg::read(&bytes)?,
        Format::Scp => scp::read(&bytes)?,
        Format::Edf => edf::read(&bytes)?,
        Format::Muse | Format::Philips => {
            let root =
                xml::parse(&bytes).map_err(|e| unreadable(format!("{}: {e}", format.name())))?;
            match (format, root.name.as_str()) {
                (Format::Philips, _) => philips::read(&root)?,
                (_, "CardiologyXML") => muse::read_cardiosoft(&root)?,
                _ => muse::read_muse(&root)?,
            }
        }
        Format::Json => json::read(&bytes)?,
        Format::Wfdb => unreachable!("WFDB needs a header and a data file"),
    };
    waveform.check()?;
    Ok((format, waveform))
}

/// Reads what a device or a user sent: one self-contained file, or a WFDB header (`.hea`)
/// with the signal files it names.
pub fn read_files(files: &[(String, Vec<u8>)]) -> Result<(Format, Waveform), Unreadable> {
    let is_header = |name: &str| name.ends_with(".hea");
    match files {
        [] => Err(unreadable("no file was sent")),
        [(name, bytes)] if !is_header(name) => read_single(bytes),
        _ => {
            let (_, header) = files
                .iter()
                .find(|(name, _)| is_header(name))
                .ok_or_else(|| {
                    unreadable("several files need to be a WFDB .hea with its signal files")
                })?;
            let header = std::str::from_utf8(header)
                .map_err(|_| unreadable("the WFDB header is not text"))?;
            let lookup = |wanted: &str| {
                files
                    .iter()
                    .find(|(name, _)| name == wanted || name.ends_with(&format!("/{wanted}")))
                    .map(|(_, b)| b.clone())
            };
            Ok((Format::Wfdb, wfdb::read(header, &lookup)?))
        }
    }
}

/// Reads ECG files from disk: a WFDB `.hea` (its signal files are found beside it) or one
/// self-contained file.
pub fn read_paths(paths: &[std::path::PathBuf]) -> Result<(Format, Waveform), Unreadable> {
    if let Some(header) = paths
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "hea"))
    {
        return Ok((Format::Wfdb, wfdb::read_path(header)?));
    }
    let files = paths
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path)
                .map_err(|e| unreadable(format!("cannot read {}: {e}", path.display())))?;
            Ok((path.display().to_string(), bytes))
        })
        .collect::<Result<Vec<_>, Unreadable>>()?;
    read_files(&files)
}

/// Reads an ECG file from disk: a WFDB `.hea` (with its signal files beside it) or a single
/// self-contained file.
pub fn read_path(path: &std::path::Path) -> Result<(Format, Waveform), Unreadable> {
    read_paths(&[path.to_path_buf()])
}
