//! SCP-ECG (EN 1064, ISO 11073-91064), versions 1.x to 3.0: the record and every section are
//! checked against their CRC-CCITT; section 0 points at the others. Rhythm data (section 6)
//! is read uncompressed or Huffman-coded with the default or the file's own tables
//! (section 2), as sample values or their first or second differences; where the device
//! subtracted its reference beat (sections 3, 4, 5), the beat is added back. Sections 1
//! (device and manufacturer), 7 (the device's global measurements) and 8 or 11 (its
//! interpretation statements) give the device's own analysis. Bimodal compression (rhythm
//! decimated outside the protected zones around each QRS) is rebuilt at the full rate. Left
//! out, refused by name: leads recorded at different times (their start and end samples
//! differ).

use std::collections::BTreeMap;

mod bimodal;

use super::{Unreadable, unreadable};
use crate::stated::{Device, DeviceStatement, StatedTime};
use crate::waveform::{
    Lead, Waveform, check_size, derive_limb_leads, lead_order, make_names_unique, microvolts,
};
use bimodal::Bimodal;

fn problem(reason: impl std::fmt::Display) -> Unreadable {
    unreadable(format!("SCP-ECG: {reason}"))
}

/// Bounds-checked little-endian reads.
#[derive(Clone, Copy)]
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn slice(self, at: usize, len: usize) -> Result<&'a [u8], Unreadable> {
        at.checked_add(len)
            .and_then(|end| self.0.get(at..end))
            .ok_or_else(|| problem("a section is shorter than its contents say"))
    }
    fn u8(self, at: usize) -> Result<u8, Unreadable> {
        Ok(self.slice(at, 1)?[0])
    }
    fn u16(self, at: usize) -> Result<u16, Unreadable> {
        let b = self.slice(at, 2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn i16(self, at: usize) -> Result<i16, Unreadable> {
        Ok(self.u16(at)? as i16)
    }
    fn u32(self, at: usize) -> Result<u32, Unreadable> {
        let b = self.slice(at, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// CRC-CCITT (polynomial 0x1021, initial 0xFFFF), as the standard computes it.
fn crc(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0xffff_u16, |mut crc, byte| {
        crc ^= u16::from(*byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
        crc
    })
}

/// The sections of a record by number, each without its 16-byte section header.
fn sections(bytes: &[u8]) -> Result<BTreeMap<u16, &[u8]>, Unreadable> {
    let file = Bytes(bytes);
    let size = file
        .u32(2)
        .map_err(|_| problem("shorter than a record header"))? as usize;
    if size > bytes.len() {
        return Err(problem(format!(
            "the record says {size} bytes but the file holds {} (truncated)",
            bytes.len()
        )));
    }
    if size < 6 + 16 {
        return Err(problem("the record is too short to hold section 0"));
    }
    if crc(&bytes[2..size]) != file.u16(0)? {
        return Err(problem("the record's CRC does not match (a damaged file)"));
    }
    let record = &bytes[..size];
    let section_at = |start: usize, id: u16| -> Result<&[u8], Unreadable> {
        let head = Bytes(record);
        let length = head.u32(start + 4)? as usize;
        let stated_id = head.u16(start + 2)?;
        if stated_id != id {
            return Err(problem(format!(
                "section 0 points at section {id} but finds section {stated_id}"
            )));
        }
        if length < 16 {
            return Err(problem(format!("section {id} is shorter than its header")));
        }
        let whole = head
            .slice(start, length)
            .map_err(|_| problem(format!("section {id} runs past the end of the record")))?;
        if crc(&whole[2..]) != u16::from_le_bytes([whole[0], whole[1]]) {
            return Err(problem(format!(
                "section {id}'s CRC does not match (a damaged file)"
            )));
        }
        Ok(&whole[16..])
    };
    let pointers = section_at(6, 0)?;
    let mut found = BTreeMap::new();
    for entry in pointers.chunks_exact(10) {
        let entry = Bytes(entry);
        let (id, length, index) = (entry.u16(0)?, entry.u32(2)?, entry.u32(6)?);
        if id == 0 || length == 0 || index == 0 {
            continue;
        }
        found.insert(id, section_at(index as usize - 1, id)?);
    }
    Ok(found)
}

/// One code of a Huffman table, its prefix read most significant bit first.
#[derive(Clone, Copy)]
struct Code {
    prefix_bits: u8,
    total_bits: u8,
    /// `false`: this code switches to table number `value`.
    is_value: bool,
    value: i16,
    prefix: u32,
}

type Table = Vec<Code>;

/// The default table of the standard (prefix codes written here as they are read).
fn default_table() -> Table {
    let mut table = vec![Code {
        prefix_bits: 1,
        total_bits: 1,
        is_value: true,
        value: 0,
        prefix: 0,
    }];
    for magnitude in 1..=8_i16 {
        // m ones, a zero, then the sign: 100 and 101 for ±1 … 1111111100 and 1111111101 for ±8.
        let bits = magnitude as u8 + 2;
        for (sign, offset) in [(1, 0), (-1, 1)] {
            table.push(Code {
                prefix_bits: bits,
                total_bits: bits,
                is_value: true,
                value: sign * magnitude,
                prefix: (((1_u32 << magnitude) - 1) << 2) | offset,
            });
        }
    }
    for (total, prefix) in [(18, 0b11_1111_1110), (26, 0b11_1111_1111)] {
        table.push(Code {
            prefix_bits: 10,
            total_bits: total,
            is_value: true,
            value: 0,
            prefix,
        });
    }
    table
}

/// Section 2: `None` when the data are not Huffman-coded at all.
fn huffman_tables(section: Option<&[u8]>) -> Result<Option<Vec<Table>>, Unreadable> {
    let Some(section) = section else {
        return Ok(None);
    };
    let s = Bytes(section);
    let count = s.u16(0)?;
    if count == 19999 {
        return Ok(Some(vec![default_table()]));
    }
    let mut at = 2;
    let mut tables = Vec::with_capacity(usize::from(count).min(64));
    for _ in 0..count {
        let codes = s.u16(at)?;
        at += 2;
        let mut table = Vec::with_capacity(usize::from(codes).min(256));
        for _ in 0..codes {
            let entry = Bytes(s.slice(at, 9)?);
            at += 9;
            let prefix_bits = entry.u8(0)?;
            let total_bits = entry.u8(1)?;
            if prefix_bits == 0
                || prefix_bits > 32
                || total_bits < prefix_bits
                || total_bits - prefix_bits > 16
            {
                return Err(problem("a Huffman table has an impossible code length"));
            }
            // The base code is transmitted least significant bit first.
            let stored = entry.u32(5)?;
            let prefix = (0..prefix_bits).fold(0_u32, |p, bit| (p << 1) | ((stored >> bit) & 1));
            table.push(Code {
                prefix_bits,
                total_bits,
                is_value: entry.u8(2)? != 0,
                value: entry.i16(3)?,
                prefix,
            });
        }
        tables.push(table);
    }
    if tables.is_empty() {
        return Err(problem("section 2 holds no Huffman table"));
    }
    Ok(Some(tables))
}

struct BitReader<'a> {
    bytes: &'a [u8],
    bit: usize,
}

impl BitReader<'_> {
    fn take(&mut self, bits: u8) -> Option<u32> {
        let mut value = 0_u32;
        for _ in 0..bits {
            let byte = *self.bytes.get(self.bit / 8)?;
            value = (value << 1) | u32::from((byte >> (7 - self.bit % 8)) & 1);
            self.bit += 1;
        }
        Some(value)
    }
}

/// Decodes `count` values of one lead with the Huffman tables.
fn huffman_decode(data: &[u8], tables: &[Table], count: usize) -> Result<Vec<i32>, Unreadable> {
    let mut reader = BitReader {
        bytes: data,
        bit: 0,
    };
    let mut table = &tables[0];
    let mut values = Vec::with_capacity(count);
    let mut switches = 0_usize;
    'values: while values.len() < count {
        let mut prefix = 0_u32;
        let mut have = 0_u8;
        for code in table.iter() {
            while have < code.prefix_bits {
                let bit = reader
                    .take(1)
                    .ok_or_else(|| problem("a lead's Huffman data end before its samples"))?;
                prefix = (prefix << 1) | bit;
                have += 1;
            }
            if have == code.prefix_bits && prefix == code.prefix {
                if !code.is_value {
                    switches += 1;
                    if switches > count + 16 {
                        return Err(problem("Huffman table switches without values"));
                    }
                    table = tables
                        .get(
                            usize::try_from(code.value)
                                .unwrap_or(usize::MAX)
                                .wrapping_sub(1),
                        )
                        .or_else(|| tables.get(code.value as usize))
                        .ok_or_else(|| {
                            problem("a Huffman code switches to a table that is not there")
                        })?;
                    continue 'values;
                }
                let extra = code.total_bits - code.prefix_bits;
                let value = if extra == 0 {
                    i32::from(code.value)
                } else {
                    let raw = reader
                        .take(extra)
                        .ok_or_else(|| problem("a lead's Huffman data end before its samples"))?;
                    // Two's complement in `extra` bits.
                    let shift = 32 - u32::from(extra);
                    ((raw << shift) as i32) >> shift
                };
                values.push(value);
                continue 'values;
            }
        }
        return Err(problem("a Huffman code is not in the table"));
    }
    Ok(values)
}

/// Undoes first- or second-difference encoding.
fn undo_differences(values: &mut [i32], encoding: u8) -> Result<(), Unreadable> {
    match encoding {
        0 => {}
        1 => {
            for i in 1..values.len() {
                values[i] = values[i].saturating_add(values[i - 1]);
            }
        }
        2 => {
            for i in 2..values.len() {
                let predicted = 2_i64 * i64::from(values[i - 1]) - i64::from(values[i - 2]);
                values[i] = (i64::from(values[i]) + predicted)
                    .clamp(i32::MIN.into(), i32::MAX.into()) as i32;
            }
        }
        other => return Err(problem(format!("unknown difference encoding {other}"))),
    }
    Ok(())
}

/// The leads of section 5 or 6: amplitude multiplier (nV), sample interval (µs) and the
/// decoded values of each lead.
struct Samples {
    nanovolts: f64,
    interval_us: u16,
    leads: Vec<Vec<i32>>,
}

fn read_samples(
    section: &[u8],
    leads: usize,
    count: usize,
    tables: Option<&[Table]>,
    which: u16,
) -> Result<Samples, Unreadable> {
    let s = Bytes(section);
    let nanovolts = f64::from(s.u16(0)?);
    let interval_us = s.u16(2)?;
    let encoding = s.u8(4)?;
    if nanovolts == 0.0 || interval_us == 0 {
        return Err(problem(format!(
            "section {which} has no amplitude multiplier or sample interval"
        )));
    }
    let mut at = 6 + 2 * leads;
    let mut decoded = Vec::with_capacity(leads);
    for lead in 0..leads {
        let length = usize::from(s.u16(6 + 2 * lead)?);
        let data = s.slice(at, length)?;
        at += length;
        let mut values = match tables {
            Some(tables) => huffman_decode(data, tables, count)?,
            None => {
                if data.len() < 2 * count {
                    return Err(problem(format!(
                        "section {which} holds fewer samples than section 3 says"
                    )));
                }
                data.chunks_exact(2)
                    .take(count)
                    .map(|c| i32::from(i16::from_le_bytes([c[0], c[1]])))
                    .collect()
            }
        };
        undo_differences(&mut values, encoding)?;
        decoded.push(values);
    }
    Ok(Samples {
        nanovolts,
        interval_us,
        leads: decoded,
    })
}

/// A lead's name from its SCP-ECG lead identifier.
fn lead_name(id: u8) -> String {
    const FIRST: [&str; 24] = [
        "", "I", "II", "V1", "V2", "V3", "V4", "V5", "V6", "V7", "V2R", "V3R", "V4R", "V5R", "V6R",
        "V7R", "X", "Y", "Z", "CC5", "CM5", "LA", "RA", "LL",
    ];
    const SIXTIES: [&str; 9] = ["III", "aVR", "aVL", "aVF", "-aVR", "V8", "V9", "V8R", "V9R"];
    match id {
        1..=23 => FIRST[usize::from(id)].to_owned(),
        61..=69 => SIXTIES[usize::from(id - 61)].to_owned(),
        _ => format!("lead {id}"),
    }
}

/// Text in the file's character set: UTF-8 where it is valid, else Latin-1 where the device
/// says so, else GB 18030 (Chinese carts).
fn text(bytes: &[u8], latin: bool) -> String {
    let bytes = bytes.split(|b| *b == 0).next().unwrap_or_default();
    let decoded = match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) if latin => encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    };
    decoded
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Section 1, tag 14 (acquiring device): the model, the manufacturer, and whether text is
/// Latin-1.
fn device(section: Option<&[u8]>) -> (Option<Device>, bool) {
    const MANUFACTURERS: [&str; 21] = [
        "",
        "Burdick",
        "Cambridge Heart",
        "Compumed",
        "Datamed",
        "Fukuda",
        "Hewlett-Packard",
        "Marquette",
        "Mortara",
        "Nihon Kohden",
        "Okin",
        "Quinton",
        "Siemens",
        "Spacelabs",
        "Telemed",
        "Hellige",
        "ESA-OTE",
        "Schiller",
        "Picker-Schwarzer",
        "Elettronica-Trentina",
        "Zwönitz",
    ];
    let Some(section) = section else {
        return (None, true);
    };
    for (tag, value) in header_tags(section) {
        if tag == 14 && value.len() >= 36 {
            let latin = value[16] <= 1;
            let model = text(&value[8..14], latin);
            let strings: Vec<String> = value
                .get(36 + usize::from(value[35])..)
                .unwrap_or_default()
                .split(|b| *b == 0)
                .map(|s| text(s, latin))
                .collect();
            // After the analysing program's revision: serial number, device software, SCP
            // implementation software, manufacturer's trade name.
            let named = strings.get(3).filter(|s| !s.is_empty()).cloned();
            let coded = MANUFACTURERS
                .get(usize::from(value[7]))
                .filter(|s| !s.is_empty())
                .map(|s| (*s).to_owned());
            return (Device::named(named.or(coded), Some(model)), latin);
        }
    }
    (None, true)
}

/// Section 7's global measurements and section 8's (or 11's) statements.
fn statement(
    section7: Option<&[u8]>,
    statements: Option<(&[u8], bool)>,
    latin: bool,
) -> Option<DeviceStatement> {
    let valid = |v: u16| (v < 19999).then_some(f64::from(v));
    let mut stated = DeviceStatement::default();
    if let Some(s) = section7.map(Bytes) {
        let blocks = s.u8(0).unwrap_or(0);
        let spikes = usize::from(s.u8(1).unwrap_or(0));
        stated.heart_rate_bpm = s
            .u16(2)
            .ok()
            .and_then(valid)
            .filter(|rr| *rr > 0.0)
            .map(|rr| (600_000.0 / rr).round() / 10.0);
        if blocks > 0 {
            let at = |i: usize| s.u16(6 + 2 * i).ok().and_then(valid);
            let (p_on, qrs_on, qrs_off, t_off) = (at(0), at(2), at(3), at(4));
            stated.pr_ms = p_on.zip(qrs_on).map(|(p, q)| q - p);
            stated.qrs_ms = qrs_on.zip(qrs_off).map(|(on, off)| off - on);
            stated.qt_ms = qrs_on.zip(t_off).map(|(on, off)| off - on);
            let axis = |i: usize| {
                s.i16(6 + 2 * i)
                    .ok()
                    .filter(|a| (-180..=360).contains(a) && *a != 999)
                    .map(f64::from)
            };
            stated.p_axis_deg = axis(5);
            stated.qrs_axis_deg = axis(6);
            stated.t_axis_deg = axis(7);
        }
        // Version 2 and later: QRS types, then ventricular rate and QTc.
        let after_spikes = 6 + 16 * usize::from(blocks) + 4 * spikes + 6 * spikes;
        if let Ok(qrs_count) = s.u16(after_spikes) {
            let rates = after_spikes + 2 + usize::from(qrs_count);
            if let Ok(rate) = s.u16(rates) {
                if let Some(rate) = valid(rate).filter(|r| *r > 0.0) {
                    stated.heart_rate_bpm = Some(rate);
                }
                stated.qtc_ms = s.u16(rates + 4).ok().and_then(valid).filter(|v| *v > 0.0);
            }
        }
    }
    if let Some((section, universal)) = statements {
        let s = Bytes(section);
        let count = s.u8(8).unwrap_or(0);
        let mut at = 9;
        let mut lines = Vec::new();
        for _ in 0..count {
            let (Ok(length), Ok(_)) = (s.u16(at + 1), s.u8(at)) else {
                break;
            };
            let Ok(body) = s.slice(at + 3, usize::from(length)) else {
                break;
            };
            at += 3 + usize::from(length);
            // Section 11 begins each statement with its type; coded ones hold the acronym
            // and its text, each ended by a NUL.
            let body = if universal {
                body.get(1..).unwrap_or_default()
            } else {
                body
            };
            let line = body
                .split(|b| *b == 0)
                .map(|part| text(part, latin))
                .rfind(|t| !t.is_empty())
                .unwrap_or_default();
            if !line.is_empty() {
                lines.push(line);
            }
        }
        if !lines.is_empty() {
            stated.text = Some(lines.join("\n"));
        }
    }
    stated.plausible().if_any()
}

pub fn read(bytes: &[u8]) -> Result<Waveform, Unreadable> {
    let sections = sections(bytes)?;
    let section = |id: u16| sections.get(&id).copied();
    let s3 = Bytes(section(3).ok_or_else(|| problem("no lead definition (section 3)"))?);
    let lead_count = usize::from(s3.u8(0)?);
    let flags = s3.u8(1)?;
    if lead_count == 0 {
        return Err(problem("section 3 defines no leads"));
    }
    let mut ranges = Vec::with_capacity(lead_count);
    let mut names = Vec::with_capacity(lead_count);
    for lead in 0..lead_count {
        let at = 2 + 9 * lead;
        ranges.push((s3.u32(at)?, s3.u32(at + 4)?));
        names.push(lead_name(s3.u8(at + 8)?));
    }
    let (first, last) = ranges[0];
    if ranges.iter().any(|r| *r != (first, last)) {
        return Err(problem(
            "leads recorded at different times (start and end samples differ) are not read",
        ));
    }
    if first == 0 || last < first {
        return Err(problem("section 3 gives an empty sample range"));
    }
    let count = (last - first + 1) as usize;
    check_size(lead_count, count)?;
    let tables = huffman_tables(section(2))?;
    let s6 = section(6).ok_or_else(|| problem("no rhythm data (section 6)"))?;
    let bimodal = match Bytes(s6).u8(5)? {
        0 => None,
        _ => Some(Bimodal::of(&section, count, Bytes(s6).u16(2)?)?),
    };
    let stored = bimodal.as_ref().map_or(count, Bimodal::stored_samples);
    let rhythm = read_samples(s6, lead_count, stored, tables.as_deref(), 6)?;
    let rhythm_uv = rhythm.nanovolts / 1000.0;
    let interval_us = bimodal
        .as_ref()
        .map_or(rhythm.interval_us, |b| b.full_interval_us);
    let mut values: Vec<Vec<f64>> = rhythm
        .leads
        .iter()
        .map(|lead| {
            let lead: Vec<f64> = match &bimodal {
                Some(bimodal) => bimodal.expand(lead),
                None => lead.iter().map(|v| f64::from(*v)).collect(),
            };
            lead.into_iter().map(|v| v * rhythm_uv).collect()
        })
        .collect();
    if flags & 1 != 0 {
        add_reference_beat(
            &mut values,
            &section,
            lead_count,
            tables.as_deref(),
            interval_us,
        )?;
    }
    let mut leads = Vec::with_capacity(lead_count);
    for (name, values) in names.into_iter().zip(values) {
        let samples_uv = values
            .into_iter()
            .map(microvolts)
            .collect::<Result<_, _>>()?;
        leads.push(Lead { name, samples_uv });
    }
    derive_limb_leads(&mut leads);
    leads.sort_by_key(|l| lead_order(&l.name));
    make_names_unique(&mut leads);
    let (device, latin) = device(section(1));
    let statements = section(8)
        .map(|s| (s, false))
        .or_else(|| section(11).map(|s| (s, true)));
    Ok(Waveform {
        sampling_hz: 1_000_000.0 / f64::from(interval_us),
        leads,
        non_ecg_channels: Vec::new(),
        device,
        device_statement: statement(section(7), statements, latin),
        recorded_at: acquired_at(section(1)),
    })
}

/// Section 1's tags of a patient section, as (tag, value), up to the terminator (255).
fn header_tags(section: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let tag = *section.get(at)?;
        let length = usize::from(u16::from_le_bytes([
            *section.get(at + 1)?,
            *section.get(at + 2)?,
        ]));
        let value = section.get(at + 3..at + 3 + length)?;
        at += 3 + length;
        (tag != 255).then_some((tag, value))
    })
}

/// Section 1, tags 25 and 26: the date (year as two bytes, month, day) and time (hour,
/// minute, second) of acquisition.
fn acquired_at(section: Option<&[u8]>) -> Option<StatedTime> {
    let tags: Vec<(u8, &[u8])> = header_tags(section?).collect();
    let date = tags.iter().find(|(tag, v)| *tag == 25 && v.len() >= 4)?.1;
    let time = tags
        .iter()
        .find(|(tag, v)| *tag == 26 && v.len() >= 3)
        .map_or(&[0u8, 0, 0][..], |(_, v)| v);
    StatedTime::new(
        u16::from_le_bytes([date[0], date[1]]),
        date[2],
        date[3],
        time[0],
        time[1],
        time[2],
    )
}

/// Adds the reference beat (section 5) back where section 4 says the device subtracted it.
fn add_reference_beat<'a>(
    values: &mut [Vec<f64>],
    section: &impl Fn(u16) -> Option<&'a [u8]>,
    lead_count: usize,
    tables: Option<&[Table]>,
    interval_us: u16,
) -> Result<(), Unreadable> {
    let s4 =
        Bytes(section(4).ok_or_else(|| {
            problem("the reference beat was subtracted but section 4 is missing")
        })?);
    let beat_ms = u32::from(s4.u16(0)?);
    let fiducial = i64::from(s4.u16(2)?);
    let complexes = usize::from(s4.u16(4)?);
    let s5 = section(5)
        .ok_or_else(|| problem("the reference beat was subtracted but section 5 is missing"))?;
    let beat_interval = Bytes(s5).u16(2)?;
    if beat_interval == 0 || beat_interval != interval_us {
        return Err(problem(
            "the reference beat and the rhythm have different sampling rates",
        ));
    }
    let beat_samples = (beat_ms * 1000 / u32::from(beat_interval)) as usize;
    check_size(lead_count, beat_samples)?;
    let beat = read_samples(s5, lead_count, beat_samples, tables, 5)?;
    let beat_uv = beat.nanovolts / 1000.0;
    for q in 0..complexes {
        let at = 6 + 14 * q;
        if s4.u16(at)? != 0 {
            continue; // only beats of type 0 had the reference beat subtracted
        }
        let (start, centre, end) = (
            i64::from(s4.u32(at + 2)?),
            i64::from(s4.u32(at + 6)?),
            i64::from(s4.u32(at + 10)?),
        );
        for (lead, reference) in values.iter_mut().zip(&beat.leads) {
            for sample in start.max(1)..=end.min(lead.len() as i64) {
                let index = sample - centre + fiducial;
                if (1..=reference.len() as i64).contains(&index) {
                    lead[sample as usize - 1] += f64::from(reference[index as usize - 1]) * beat_uv;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standards_own_example_decodes() {
        // EN 1064 annex C: default table, second differences (one byte as the published
        // tables of bits give it, and the final padding bit).
        let coded = [
            0xFF, 0x83, 0x7F, 0xE0, 0xE6, 0xF1, 0x53, 0x65, 0x59, 0xB6, 0x5B, 0x96, 0x4B, 0x96,
            0x00,
        ];
        let mut values = huffman_decode(&coded, &[default_table()], 28).unwrap();
        undo_differences(&mut values, 2).unwrap();
        assert_eq!(
            values,
            [
                13, 14, 15, 14, 16, 18, 19, 20, 22, 22, 23, 23, 23, 22, 22, 20, 17, 15, 12, 8, 6,
                3, 1, 0, -2, -2, -3, -3
            ]
        );
    }

    #[test]
    fn crc_is_ccitt() {
        assert_eq!(crc(b"123456789"), 0x29B1);
    }
}

#[cfg(test)]
mod damage {
    use super::*;

    /// Rewrites every CRC of a record, so damage reaches the decoders behind them.
    pub(super) fn seal(bytes: &mut [u8]) {
        let pointers = Bytes(&bytes[6..]).u32(4).unwrap() as usize;
        let entries: Vec<(u32, u32)> = bytes[6 + 16..6 + pointers]
            .chunks_exact(10)
            .map(|e| {
                (
                    u32::from_le_bytes([e[2], e[3], e[4], e[5]]),
                    u32::from_le_bytes([e[6], e[7], e[8], e[9]]),
                )
            })
            .collect();
        for (length, index) in entries {
            let (start, length) = (index as usize, length as usize);
            if start == 0 || length < 16 || start - 1 + length > bytes.len() {
                continue;
            }
            let section = &mut bytes[start - 1..start - 1 + length];
            let sum = crc(&section[2..]);
            section[..2].copy_from_slice(&sum.to_le_bytes());
        }
        let sum = crc(&bytes[2..]);
        bytes[..2].copy_from_slice(&sum.to_le_bytes());
    }

    #[test]
    fn damage_behind_valid_crcs_is_refused_or_read_never_a_panic() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/ecg/devices/scp/ecgtoolkit_Example.scp"
        );
        let original = std::fs::read(path).expect("shared SCP-ECG example");
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut read = 0;
        for _ in 0..300 {
            let mut bytes = original.clone();
            // Flip bits anywhere after section 0's header: sizes, counts, tables, data.
            for _ in 0..(1 + next() % 6) {
                let at = 6 + 16 + (next() as usize) % (bytes.len() - 22);
                bytes[at] ^= 1 << (next() % 8);
            }
            seal(&mut bytes);
            if let Ok(waveform) = read_checked(&bytes) {
                read += 1;
                assert!(waveform.leads.len() * waveform.len() <= crate::waveform::MAX_SAMPLES);
            }
        }
        assert!(read < 300, "some damage must be refused");
    }

    fn read_checked(bytes: &[u8]) -> Result<Waveform, Unreadable> {
        let waveform = read(bytes)?;
        waveform.check()?;
        Ok(waveform)
    }
}
