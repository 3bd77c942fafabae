//! WFDB records: a text header (`.hea`) and binary signal files (`.dat`) in format 212 (two
//! 12-bit samples in three bytes) or 16 (little-endian 16-bit). Checksums in the header are
//! verified, so a damaged or truncated file is refused.

use std::collections::BTreeMap;

use super::{Unreadable, unreadable};
use crate::waveform::{
    Invalid, Lead, Waveform, check_size, make_names_unique, microvolts, standard_lead_name,
};

struct Signal {
    file: String,
    format: u32,
    gain: f64,
    baseline: i32,
    checksum: Option<i32>,
    description: String,
}

pub struct Header {
    pub record: String,
    pub sampling_hz: f64,
    pub samples: Option<usize>,
    signals: Vec<Signal>,
}

impl Header {
    /// The signal files the header names, in order of first mention.
    pub fn files(&self) -> Vec<String> {
        let mut files: Vec<String> = Vec::new();
        for signal in &self.signals {
            if !files.contains(&signal.file) {
                files.push(signal.file.clone());
            }
        }
        files
    }
}

pub fn parse_header(text: &str) -> Result<Header, Unreadable> {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let record_line = lines
        .next()
        .ok_or_else(|| unreadable("empty WFDB header"))?;
    let fields: Vec<&str> = record_line.split_whitespace().collect();
    if fields.len() < 2 || fields[0].contains('/') {
        return Err(unreadable(
            "WFDB header: bad record line (multi-segment records are not supported)",
        ));
    }
    let count: usize = fields[1]
        .parse()
        .map_err(|_| unreadable("WFDB header: bad signal count"))?;
    let sampling_hz = match fields.get(2) {
        Some(text) => {
            let number = text.split(['/', '(']).next().unwrap_or_default();
            number
                .parse::<f64>()
                .map_err(|_| unreadable("WFDB header: bad sampling frequency"))?
        }
        None => 250.0,
    };
    let samples = fields
        .get(3)
        .map(|t| t.parse::<usize>())
        .transpose()
        .map_err(|_| unreadable("WFDB header: bad sample count"))?;
    if count == 0 || count > 64 {
        return Err(unreadable(
            "WFDB header: the record must have 1 to 64 signals",
        ));
    }
    let mut signals = Vec::with_capacity(count);
    for _ in 0..count {
        let line = lines
            .next()
            .ok_or_else(|| unreadable("WFDB header: fewer signal lines than signals"))?;
        signals.push(parse_signal_line(line)?);
    }
    Ok(Header {
        record: fields[0].to_owned(),
        sampling_hz,
        samples,
        signals,
    })
}

fn parse_signal_line(line: &str) -> Result<Signal, Unreadable> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() < 2 {
        return Err(unreadable("WFDB header: bad signal line"));
    }
    let format_field = fields[1];
    if format_field.contains(['x', ':', '+']) {
        return Err(unreadable(
            "WFDB header: skew, offset and byte offset are not supported",
        ));
    }
    let format: u32 = format_field
        .parse()
        .map_err(|_| unreadable("WFDB header: bad format"))?;
    if format != 212 && format != 16 {
        return Err(unreadable(format!(
            "WFDB format {format} is not supported (212 and 16 are)"
        )));
    }
    let adc_zero: i32 = fields.get(4).and_then(|t| t.parse().ok()).unwrap_or(0);
    let (gain, baseline) = match fields.get(2) {
        Some(text) => {
            let without_units = text.split('/').next().unwrap_or_default();
            let (gain_text, baseline) = match without_units.split_once('(') {
                Some((gain, rest)) => (
                    gain,
                    Some(
                        rest.trim_end_matches(')')
                            .parse::<i32>()
                            .map_err(|_| unreadable("WFDB header: bad baseline"))?,
                    ),
                ),
                None => (without_units, None),
            };
            // ADC units per millivolt: zero means "not given"; anything beyond a nanovolt's
            // resolution or coarser than a volt per unit is a damaged header.
            let gain: f64 = gain_text
                .parse()
                .ok()
                .filter(|g: &f64| *g == 0.0 || (1e-3..=1e6).contains(&g.abs()))
                .ok_or_else(|| unreadable("WFDB header: bad gain"))?;
            (
                if gain == 0.0 { 200.0 } else { gain },
                baseline.unwrap_or(adc_zero),
            )
        }
        None => (200.0, adc_zero),
    };
    Ok(Signal {
        file: fields[0].to_owned(),
        format,
        gain,
        baseline,
        checksum: fields.get(6).and_then(|t| t.parse().ok()),
        description: fields
            .get(8..)
            .map(|rest| rest.join(" "))
            .unwrap_or_default(),
    })
}

fn decode(format: u32, bytes: &[u8], channels: usize) -> Vec<Vec<i32>> {
    let mut out = vec![Vec::new(); channels];
    match format {
        212 => {
            let mut channel = 0;
            let mut push = |value: i32| {
                out[channel].push(value);
                channel = (channel + 1) % channels;
            };
            for chunk in bytes.chunks_exact(3) {
                let first = i32::from(chunk[0]) | (i32::from(chunk[1] & 0x0f) << 8);
                let second = i32::from(chunk[2]) | (i32::from(chunk[1] & 0xf0) << 4);
                push(if first & 0x800 != 0 {
                    first - 0x1000
                } else {
                    first
                });
                push(if second & 0x800 != 0 {
                    second - 0x1000
                } else {
                    second
                });
            }
        }
        _ => {
            for (index, chunk) in bytes.chunks_exact(2).enumerate() {
                out[index % channels].push(i32::from(i16::from_le_bytes([chunk[0], chunk[1]])));
            }
        }
    }
    // Drop an incomplete last frame.
    let frames = out.iter().map(Vec::len).min().unwrap_or(0);
    out.iter_mut().for_each(|s| s.truncate(frames));
    out
}

/// Reads a record from its header and a function that returns a named signal file.
pub fn read(
    header_text: &str,
    file: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Result<Waveform, Unreadable> {
    let header = parse_header(header_text)?;
    if let Some(samples) = header.samples {
        check_size(header.signals.len(), samples)?;
    }
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, signal) in header.signals.iter().enumerate() {
        groups.entry(signal.file.clone()).or_default().push(index);
    }
    let mut samples: Vec<Vec<i32>> = vec![Vec::new(); header.signals.len()];
    for (name, members) in &groups {
        let format = header.signals[members[0]].format;
        if members.iter().any(|&m| header.signals[m].format != format) {
            return Err(unreadable("WFDB: signals in one file must share a format"));
        }
        let bytes = file(name)
            .ok_or_else(|| unreadable(format!("WFDB: the signal file {name} is missing")))?;
        let in_file = match format {
            212 => bytes.len() / 3 * 2,
            _ => bytes.len() / 2,
        };
        check_size(1, in_file)?;
        for (member, decoded) in members.iter().zip(decode(format, &bytes, members.len())) {
            samples[*member] = decoded;
        }
    }
    let frames = samples.iter().map(Vec::len).min().unwrap_or(0);
    if let Some(expected) = header.samples
        && expected > 0
        && frames < expected
    {
        return Err(unreadable(format!(
            "WFDB: the signal file is truncated ({frames} of {expected} samples)"
        )));
    }
    let mut leads = Vec::with_capacity(samples.len());
    for (signal, values) in header.signals.iter().zip(samples) {
        let values = &values[..header.samples.filter(|&n| n > 0).unwrap_or(frames)];
        if let Some(checksum) = signal.checksum {
            let sum = values.iter().fold(0i32, |acc, v| acc.wrapping_add(*v)) as i16;
            if i32::from(sum) != checksum {
                return Err(unreadable(format!(
                    "WFDB: checksum mismatch in signal {}",
                    signal.description
                )));
            }
        }
        let name = standard_lead_name(&signal.description);
        let invalid = if signal.format == 212 { -2048 } else { -32768 };
        let mut previous = 0;
        let samples_uv = values
            .iter()
            .map(|&v| {
                // WFDB marks a missing sample with the format's lowest value: hold the last.
                if v != invalid {
                    previous = microvolts(
                        (f64::from(v) - f64::from(signal.baseline)) * 1000.0 / signal.gain,
                    )?;
                }
                Ok(previous)
            })
            .collect::<Result<_, Invalid>>()?;
        leads.push(Lead { name, samples_uv });
    }
    make_names_unique(&mut leads);
    let waveform = Waveform {
        sampling_hz: header.sampling_hz,
        leads,
    };
    waveform.check()?;
    Ok(waveform)
}

/// Reads a record from a `.hea` path on disk, with its signal files beside it.
pub fn read_path(header_path: &std::path::Path) -> Result<Waveform, Unreadable> {
    let text = std::fs::read_to_string(header_path)
        .map_err(|e| unreadable(format!("cannot read {}: {e}", header_path.display())))?;
    let dir = header_path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    read(&text, &|name| std::fs::read(dir.join(name)).ok())
}
