//! WFDB records: a text header (`.hea`) and binary signal files (`.dat`), as PhysioNet's
//! `signal(5)` and `header(5)` define them. Formats 8 (first differences), 16, 24, 32, 61
//! (big-endian 16), 80 and 160 (offset binary), 212 (two 12-bit samples in three bytes), 310
//! and 311 (three 10-bit samples in four bytes); samples per frame (`212x4`), skew (`:4`) and
//! byte offset (`+24`); any sample count, including an odd one in format 212; multi-segment
//! records (fixed or variable layout: the leads every segment has, joined in order; a null
//! segment `~` reads as 0 µV). Left out: FLAC-compressed formats (508–524), refused with that
//! reason.
//! Checksums in the header are verified, so a damaged or truncated file is refused.
//!
//! Channels that are not ECG leads — a unit that is not a voltage (`/NU`, `/mmHg`), or a
//! pulse, respiration, pressure, temperature or marker channel — are kept out of the leads
//! and named in `Waveform::non_ecg_channels`.

use std::collections::BTreeMap;

use super::{Unreadable, unreadable};
use crate::stated::{DateOrder, StatedTime};
use crate::waveform::{
    Lead, Waveform, check_size, make_names_unique, microvolts, standard_lead_name,
};

struct Signal {
    file: String,
    format: u32,
    samples_per_frame: usize,
    skew: usize,
    byte_offset: usize,
    gain: f64,
    baseline: i32,
    /// Microvolts per physical unit; `None` when the unit is not a voltage.
    microvolts_per_unit: Option<f64>,
    initial_value: i32,
    checksum: Option<i32>,
    description: String,
}

impl Signal {
    /// An ECG lead, as far as the header says.
    fn is_ecg(&self) -> bool {
        const NOT_ECG: [&str; 18] = [
            "PLETH", "RESP", "ABP", "ART", "PAP", "CVP", "ICP", "SPO2", "SAO2", "CO2", "TEMP",
            "PULSE", "BP", "MARKER", "EVENT", "STIM", "EEG", "EMG",
        ];
        let name = self.description.to_ascii_uppercase();
        self.microvolts_per_unit.is_some() && !NOT_ECG.iter().any(|n| name.starts_with(n))
    }

    /// The value WFDB writes for a sample that was not recorded.
    fn invalid(&self) -> Option<i32> {
        match self.format {
            16 | 61 | 160 => Some(-32768),
            80 => Some(-128),
            212 => Some(-2048),
            310 | 311 => Some(-512),
            24 => Some(-(1 << 23)),
            32 => Some(i32::MIN),
            _ => None,
        }
    }
}

pub struct Header {
    pub record: String,
    pub sampling_hz: f64,
    pub samples: Option<usize>,
    /// The record line's base time and date (`HH:MM:SS DD/MM/YYYY`), when both are given.
    pub recorded_at: Option<StatedTime>,
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
        return Err(unreadable("WFDB header: bad record line"));
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
    let recorded_at = match (fields.get(4), fields.get(5)) {
        (Some(time), Some(date)) => {
            StatedTime::from_written(date, Some(time), DateOrder::DayMonthYear)
        }
        _ => None,
    };
    Ok(Header {
        record: fields[0].to_owned(),
        sampling_hz,
        samples,
        recorded_at,
        signals,
    })
}

/// `FORMAT[xSAMPLES_PER_FRAME][:SKEW][+BYTE_OFFSET]`.
fn parse_format(field: &str) -> Result<(u32, usize, usize, usize), Unreadable> {
    let bad = || unreadable(format!("WFDB header: bad format field {field:?}"));
    let (rest, byte_offset) = match field.split_once('+') {
        Some((rest, offset)) => (rest, offset.parse().map_err(|_| bad())?),
        None => (field, 0),
    };
    let (rest, skew) = match rest.split_once(':') {
        Some((rest, skew)) => (rest, skew.parse().map_err(|_| bad())?),
        None => (rest, 0),
    };
    let (format, per_frame) = match rest.split_once('x') {
        Some((format, per_frame)) => (format, per_frame.parse().map_err(|_| bad())?),
        None => (rest, 1),
    };
    let format: u32 = format.parse().map_err(|_| bad())?;
    if !(1..=64).contains(&per_frame) || skew > 100_000 {
        return Err(bad());
    }
    Ok((format, per_frame, skew, byte_offset))
}

/// µV per unit of a WFDB physical unit, or `None` for a unit that is not a voltage.
fn microvolts_per(unit: &str) -> Option<f64> {
    match unit {
        "mV" | "" => Some(1000.0),
        "uV" | "µV" => Some(1.0),
        "V" => Some(1_000_000.0),
        "nV" => Some(0.001),
        _ => None,
    }
}

fn parse_signal_line(line: &str) -> Result<Signal, Unreadable> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() < 2 {
        return Err(unreadable("WFDB header: bad signal line"));
    }
    let (format, samples_per_frame, skew, byte_offset) = parse_format(fields[1])?;
    if ![8, 16, 24, 32, 61, 80, 160, 212, 310, 311].contains(&format) {
        return Err(unreadable(format!(
            "WFDB format {format} is not supported (8, 16, 24, 32, 61, 80, 160, 212, 310 and \
             311 are; FLAC-compressed formats are not)"
        )));
    }
    let adc_zero: i32 = fields.get(4).and_then(|t| t.parse().ok()).unwrap_or(0);
    let (gain, baseline, unit) = match fields.get(2) {
        Some(text) => {
            let (value, unit) = text.split_once('/').unwrap_or((text, ""));
            let (gain_text, baseline) = match value.split_once('(') {
                Some((gain, rest)) => (
                    gain,
                    Some(
                        rest.trim_end_matches(')')
                            .parse::<i32>()
                            .map_err(|_| unreadable("WFDB header: bad baseline"))?,
                    ),
                ),
                None => (value, None),
            };
            // ADC units per physical unit: zero means "not given"; anything beyond a
            // nanovolt's resolution or coarser than a volt per unit is a damaged header.
            let gain: f64 = gain_text
                .parse()
                .ok()
                .filter(|g: &f64| *g == 0.0 || (1e-3..=1e6).contains(&g.abs()))
                .ok_or_else(|| unreadable("WFDB header: bad gain"))?;
            (
                if gain == 0.0 { 200.0 } else { gain },
                baseline.unwrap_or(adc_zero),
                unit,
            )
        }
        None => (200.0, adc_zero, ""),
    };
    Ok(Signal {
        file: fields[0].to_owned(),
        format,
        samples_per_frame,
        skew,
        byte_offset,
        gain,
        baseline,
        microvolts_per_unit: microvolts_per(unit),
        initial_value: fields.get(5).and_then(|t| t.parse().ok()).unwrap_or(0),
        checksum: fields.get(6).and_then(|t| t.parse().ok()),
        description: fields
            .get(8..)
            .map(|rest| rest.join(" "))
            .unwrap_or_default(),
    })
}

fn sign_extend(value: i32, bits: u32) -> i32 {
    let shift = 32 - bits;
    (value << shift) >> shift
}

/// How many samples a file of `bytes` holds in `format`, counting a last, partly filled group.
fn samples_in(format: u32, bytes: usize) -> usize {
    match format {
        8 | 80 => bytes,
        16 | 61 | 160 => bytes / 2,
        24 => bytes / 3,
        32 => bytes / 4,
        // Two samples in three bytes: the first of a pair needs two bytes.
        212 => bytes / 3 * 2 + usize::from(bytes % 3 >= 2),
        // Three samples in four bytes: each of the first two needs its 16-bit word.
        _ => bytes / 4 * 3 + (bytes % 4) / 2,
    }
}

/// The samples of one file as stored, in order (frames of interleaved signals). Format 8
/// differences are summed by the caller, per signal.
fn decode(format: u32, bytes: &[u8]) -> Vec<i32> {
    let count = samples_in(format, bytes.len());
    let mut out = Vec::with_capacity(count);
    let word = |at: usize| i32::from(u16::from_le_bytes([bytes[at], bytes[at + 1]]));
    match format {
        8 => out.extend(bytes.iter().map(|b| i32::from(*b as i8))),
        80 => out.extend(bytes.iter().map(|b| i32::from(*b) - 128)),
        16 => out.extend(
            bytes
                .chunks_exact(2)
                .map(|c| i32::from(i16::from_le_bytes([c[0], c[1]]))),
        ),
        61 => out.extend(
            bytes
                .chunks_exact(2)
                .map(|c| i32::from(i16::from_be_bytes([c[0], c[1]]))),
        ),
        160 => out.extend(
            bytes
                .chunks_exact(2)
                .map(|c| i32::from(u16::from_le_bytes([c[0], c[1]])) - 32768),
        ),
        24 => out.extend(bytes.chunks_exact(3).map(|c| {
            sign_extend(
                i32::from(c[0]) | (i32::from(c[1]) << 8) | (i32::from(c[2]) << 16),
                24,
            )
        })),
        32 => out.extend(
            bytes
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        ),
        212 => {
            for at in (0..bytes.len()).step_by(3) {
                if at + 1 >= bytes.len() {
                    break;
                }
                let first = i32::from(bytes[at]) | (i32::from(bytes[at + 1] & 0x0f) << 8);
                out.push(sign_extend(first, 12));
                if at + 2 < bytes.len() {
                    let second = i32::from(bytes[at + 2]) | (i32::from(bytes[at + 1] & 0xf0) << 4);
                    out.push(sign_extend(second, 12));
                }
            }
        }
        310 => {
            for at in (0..bytes.len()).step_by(4) {
                if at + 1 >= bytes.len() {
                    break;
                }
                let first = word(at);
                out.push(sign_extend((first >> 1) & 0x3ff, 10));
                if at + 3 >= bytes.len() {
                    break;
                }
                let second = word(at + 2);
                out.push(sign_extend((second >> 1) & 0x3ff, 10));
                let third = ((first & 0xf800) >> 11) | ((second & 0xf800) >> 6);
                out.push(sign_extend(third, 10));
            }
        }
        _ => {
            // 311: three 10-bit samples in the low 30 bits of a little-endian 32-bit word.
            for at in (0..bytes.len()).step_by(4) {
                if at + 1 >= bytes.len() {
                    break;
                }
                let low = word(at);
                let high = if at + 3 < bytes.len() {
                    word(at + 2)
                } else {
                    0
                };
                let packed = low | (high << 16);
                out.push(sign_extend(packed & 0x3ff, 10));
                if at + 3 < bytes.len() {
                    out.push(sign_extend((packed >> 10) & 0x3ff, 10));
                    out.push(sign_extend((packed >> 20) & 0x3ff, 10));
                }
            }
        }
    }
    out
}

/// Reads a record from its header and a function that returns a named signal file.
pub fn read(
    header_text: &str,
    file: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Result<Waveform, Unreadable> {
    let record_line = header_text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or_default();
    if record_line
        .split_whitespace()
        .next()
        .is_some_and(|name| name.contains('/'))
    {
        return read_segments(header_text, file);
    }
    read_segment(header_text, file)
}

/// A multi-segment record: the segments' headers are named in the master header.
fn read_segments(
    header_text: &str,
    file: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Result<Waveform, Unreadable> {
    let mut lines = header_text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let fields: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let count: usize = fields[0]
        .split('/')
        .nth(1)
        .and_then(|n| n.parse().ok())
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| unreadable("WFDB header: bad segment count"))?;
    let mut joined: Option<Waveform> = None;
    let mut gaps: Vec<(usize, usize)> = Vec::new(); // (position, samples) of null segments
    for _ in 0..count {
        let line = lines
            .next()
            .ok_or_else(|| unreadable("WFDB header: fewer segment lines than segments"))?;
        let mut parts = line.split_whitespace();
        let (name, length) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        let length: usize = length
            .parse()
            .map_err(|_| unreadable("WFDB header: bad segment length"))?;
        if length == 0 {
            continue; // the layout segment names the signals but holds none
        }
        if name == "~" {
            gaps.push((joined.as_ref().map_or(0, Waveform::len), length));
            continue;
        }
        let text = file(&format!("{name}.hea"))
            .ok_or_else(|| unreadable(format!("WFDB: the segment header {name}.hea is missing")))?;
        let text = String::from_utf8(text)
            .map_err(|_| unreadable(format!("WFDB: the segment header {name}.hea is not text")))?;
        let segment = read_segment(&text, file)?;
        let total = joined.as_ref().map_or(0, Waveform::len) + segment.len();
        check_size(
            segment.leads.len(),
            total + gaps.iter().map(|g| g.1).sum::<usize>(),
        )?;
        joined = Some(match joined {
            None => segment,
            Some(mut whole) => {
                if whole.sampling_hz != segment.sampling_hz {
                    return Err(unreadable("WFDB: segments have different sampling rates"));
                }
                whole.leads.retain(|l| segment.lead(&l.name).is_some());
                for lead in &mut whole.leads {
                    let more = &segment.lead(&lead.name).expect("kept").samples_uv;
                    lead.samples_uv.extend_from_slice(more);
                }
                for channel in segment.non_ecg_channels {
                    if !whole.non_ecg_channels.contains(&channel) {
                        whole.non_ecg_channels.push(channel);
                    }
                }
                whole
            }
        });
    }
    let mut whole = joined.ok_or_else(|| unreadable("WFDB: every segment is empty"))?;
    for (position, length) in gaps.into_iter().rev() {
        for lead in &mut whole.leads {
            let at = position.min(lead.samples_uv.len());
            lead.samples_uv
                .splice(at..at, std::iter::repeat_n(0, length));
        }
    }
    whole.check()?;
    Ok(whole)
}

/// A single-segment record.
fn read_segment(
    header_text: &str,
    file: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Result<Waveform, Unreadable> {
    let header = parse_header(header_text)?;
    if let Some(samples) = header.samples {
        let per_frame: usize = header.signals.iter().map(|s| s.samples_per_frame).sum();
        check_size(per_frame, samples)?;
    }
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, signal) in header.signals.iter().enumerate() {
        groups.entry(signal.file.clone()).or_default().push(index);
    }
    // Each signal's samples, `samples_per_frame` per frame.
    let mut samples: Vec<Vec<i32>> = vec![Vec::new(); header.signals.len()];
    for (name, members) in &groups {
        let first = &header.signals[members[0]];
        if members
            .iter()
            .any(|&m| header.signals[m].format != first.format)
        {
            return Err(unreadable("WFDB: signals in one file must share a format"));
        }
        let bytes = file(name)
            .ok_or_else(|| unreadable(format!("WFDB: the signal file {name} is missing")))?;
        let bytes = bytes.get(first.byte_offset..).unwrap_or_default();
        check_size(1, samples_in(first.format, bytes.len()))?;
        let stream = decode(first.format, bytes);
        let frame: usize = members
            .iter()
            .map(|&m| header.signals[m].samples_per_frame)
            .sum();
        let mut running: Vec<i32> = members
            .iter()
            .map(|&m| header.signals[m].initial_value)
            .collect();
        for chunk in stream.chunks(frame) {
            let mut at = 0;
            for (position, &member) in members.iter().enumerate() {
                let per_frame = header.signals[member].samples_per_frame;
                for &value in chunk.iter().skip(at).take(per_frame) {
                    let value = if first.format == 8 {
                        running[position] = running[position].wrapping_add(value);
                        running[position]
                    } else {
                        value
                    };
                    samples[member].push(value);
                }
                at += per_frame;
            }
        }
    }
    let stored = header
        .signals
        .iter()
        .zip(&samples)
        .map(|(signal, values)| values.len() / signal.samples_per_frame)
        .min()
        .unwrap_or(0);
    if let Some(expected) = header.samples
        && expected > 0
        && stored < expected
    {
        return Err(unreadable(format!(
            "WFDB: the signal file is truncated ({stored} of {expected} samples)"
        )));
    }
    let frames = header.samples.filter(|&n| n > 0).unwrap_or(stored);
    let rate_multiple = header
        .signals
        .iter()
        .filter(|s| s.is_ecg())
        .map(|s| s.samples_per_frame)
        .max()
        .ok_or_else(|| unreadable("WFDB: the record holds no ECG channel"))?;
    let mut leads = Vec::new();
    let mut non_ecg_channels = Vec::new();
    for (signal, values) in header.signals.iter().zip(samples) {
        let per_frame = signal.samples_per_frame;
        // The checksum covers the signal's samples as stored, from the file's start.
        if let Some(checksum) = signal.checksum {
            let counted = &values[..(frames * per_frame).min(values.len())];
            // A 16-bit sum, which headers write signed or unsigned.
            let sum = counted.iter().fold(0i32, |acc, v| acc.wrapping_add(*v)) as u16;
            if sum != checksum as u16 {
                return Err(unreadable(format!(
                    "WFDB: checksum mismatch in signal {}",
                    signal.description
                )));
            }
        }
        let (true, Some(per_unit)) = (signal.is_ecg(), signal.microvolts_per_unit) else {
            non_ecg_channels.push(signal.description.clone());
            continue;
        };
        // A skewed signal's frame t is stored at frame t + skew; past the end, the last
        // sample holds.
        let invalid = signal.invalid();
        let mut previous = 0;
        let mut uv = Vec::with_capacity(frames * per_frame);
        for index in 0..frames * per_frame {
            let stored = values.get(signal.skew * per_frame + index).copied();
            // WFDB marks a missing sample with the format's lowest value: hold the last.
            if let Some(v) = stored.filter(|v| Some(*v) != invalid) {
                previous = microvolts(
                    (f64::from(v) - f64::from(signal.baseline)) * per_unit / signal.gain,
                )?;
            }
            uv.push(previous);
        }
        // Leads sampled less often than the fastest lead are held between their samples,
        // as WFDB's high-resolution reading does.
        let samples_uv = if per_frame == rate_multiple {
            uv
        } else {
            (0..frames * rate_multiple)
                .map(|k| {
                    let (frame, within) = (k / rate_multiple, k % rate_multiple);
                    uv[frame * per_frame + per_frame * within / rate_multiple]
                })
                .collect()
        };
        leads.push(Lead {
            name: standard_lead_name(&signal.description),
            samples_uv,
        });
    }
    make_names_unique(&mut leads);
    let waveform = Waveform {
        sampling_hz: header.sampling_hz * rate_multiple as f64,
        leads,
        non_ecg_channels,
        recorded_at: header.recorded_at,
        ..Default::default()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_field_gives_samples_per_frame_skew_and_offset() {
        assert_eq!(parse_format("212").unwrap(), (212, 1, 0, 0));
        assert_eq!(parse_format("212x4").unwrap(), (212, 4, 0, 0));
        assert_eq!(parse_format("212:4").unwrap(), (212, 1, 4, 0));
        assert_eq!(parse_format("16x2:3+24").unwrap(), (16, 2, 3, 24));
        assert!(parse_format("212x0").is_err());
    }

    #[test]
    fn packed_formats_decode_as_signal_5_defines_them() {
        // 212: 0x123 and -1 (0xfff) in three bytes; an odd count ends after two bytes.
        assert_eq!(decode(212, &[0x23, 0xf1, 0xff]), vec![0x123, -1]);
        assert_eq!(decode(212, &[0x23, 0x01]), vec![0x123]);
        // 311: 1, -1 and 511 in one 32-bit word.
        let packed: u32 = 1 | (0x3ff << 10) | (0x1ff << 20);
        assert_eq!(decode(311, &packed.to_le_bytes()), vec![1, -1, 511]);
        // 310: 5 and -2 in the words' bits 1–10, 0x155 from their top five bits.
        let third: u16 = 0x155;
        let w0: u16 = (5 << 1) | ((third & 0x1f) << 11);
        let w1: u16 = ((0x3fe) << 1) | ((third >> 5) << 11);
        let mut bytes = w0.to_le_bytes().to_vec();
        bytes.extend(w1.to_le_bytes());
        assert_eq!(decode(310, &bytes), vec![5, -2, sign_extend(0x155, 10)]);
        assert_eq!(decode(160, &[0x00, 0x80]), vec![0]);
        assert_eq!(decode(61, &[0xff, 0xfe]), vec![-2]);
        assert_eq!(decode(80, &[0, 255]), vec![-128, 127]);
    }
}
