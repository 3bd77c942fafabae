//! EDF, EDF+ (continuous `EDF+C` and discontinuous `EDF+D`) and BDF (24-bit): a fixed ASCII
//! header, one block per signal, then data records holding each signal's samples. Signals
//! become leads by their labels (`ECG II`, `V1`, `EKG` …) when their physical dimension is a
//! voltage; digital values map to µV through the physical and digital ranges. Other signals are
//! named as non-ECG channels; `EDF Annotations` are skipped. In a discontinuous record only the
//! first uninterrupted stretch is read (the annotations' record onsets say where it breaks).

use super::{Unreadable, unreadable};
use crate::stated::{DateOrder, Device, StatedTime};
use crate::waveform::{
    Lead, Waveform, check_size, lead_order, make_names_unique, microvolts, standard_lead_name,
};

fn problem(reason: impl std::fmt::Display) -> Unreadable {
    unreadable(format!("EDF: {reason}"))
}

struct Signal {
    label: String,
    dimension: String,
    physical: (f64, f64),
    digital: (f64, f64),
    per_record: usize,
}

impl Signal {
    fn is_annotations(&self) -> bool {
        matches!(self.label.as_str(), "EDF Annotations" | "BDF Annotations")
    }

    /// µV per physical unit, `None` for a dimension that is not a voltage.
    fn microvolts_per_unit(&self) -> Option<f64> {
        match self.dimension.as_str() {
            "uV" | "µV" | "microV" => Some(1.0),
            "mV" => Some(1000.0),
            "V" => Some(1_000_000.0),
            "nV" => Some(0.001),
            _ => None,
        }
    }

    /// The lead's standard name, when the label says it is an ECG lead.
    fn lead_name(&self) -> Option<String> {
        let label = self.label.trim();
        let bare = ["ECG ", "EKG ", "ECG-", "EKG-", "ECG_", "EKG_"]
            .iter()
            .find_map(|p| label.strip_prefix(p))
            .unwrap_or(label);
        let name = standard_lead_name(bare);
        let upper = label.to_ascii_uppercase();
        let is_lead = crate::waveform::lead_order(&name) < 12
            || upper.contains("ECG")
            || upper.contains("EKG");
        is_lead.then_some(name)
    }
}

fn field(header: &[u8], at: usize, len: usize) -> Result<String, Unreadable> {
    let bytes = header
        .get(at..at + len)
        .ok_or_else(|| problem("the header is truncated"))?;
    Ok(String::from_utf8_lossy(bytes).trim().to_owned())
}

fn number(text: &str, what: &str) -> Result<f64, Unreadable> {
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| problem(format!("{what} {text:?} is not a number")))
}

pub fn read(bytes: &[u8]) -> Result<Waveform, Unreadable> {
    let bdf = bytes.first() == Some(&0xff);
    let width = if bdf { 3 } else { 2 };
    let header_bytes = number(&field(bytes, 184, 8)?, "the header size")? as usize;
    let reserved = field(bytes, 192, 44)?;
    let discontinuous = reserved.starts_with("EDF+D") || reserved.starts_with("BDF+D");
    let records_stated = number(&field(bytes, 236, 8)?, "the number of data records")?;
    let record_s = number(&field(bytes, 244, 8)?, "the data record duration")?;
    let count = number(&field(bytes, 252, 4)?, "the number of signals")? as usize;
    if count == 0 || count > 512 || header_bytes != 256 * (count + 1) {
        return Err(problem(
            "the header's size and its number of signals disagree",
        ));
    }
    if bytes.len() < header_bytes {
        return Err(problem("the file ends inside its header"));
    }
    let column =
        |offset: usize, len: usize, k: usize| field(bytes, 256 + offset * count + len * k, len);
    let mut signals = Vec::with_capacity(count);
    for k in 0..count {
        signals.push(Signal {
            label: column(0, 16, k)?,
            dimension: column(96, 8, k)?,
            physical: (
                number(&column(104, 8, k)?, "a physical minimum")?,
                number(&column(112, 8, k)?, "a physical maximum")?,
            ),
            digital: (
                number(&column(120, 8, k)?, "a digital minimum")?,
                number(&column(128, 8, k)?, "a digital maximum")?,
            ),
            per_record: number(&column(216, 8, k)?, "samples per record")? as usize,
        });
    }
    let record_size: usize = signals.iter().map(|s| s.per_record * width).sum();
    if record_size == 0 {
        return Err(problem("data records hold no samples"));
    }
    let available = (bytes.len() - header_bytes) / record_size;
    let records = if records_stated < 0.0 {
        available
    } else {
        let stated = records_stated as usize;
        if stated > available {
            return Err(problem(format!(
                "the header says {stated} data records but the file holds {available} (truncated)"
            )));
        }
        stated
    };
    if record_s <= 0.0 {
        return Err(problem(
            "EDF files without a record duration (pure annotations) hold no signal",
        ));
    }
    let offsets: Vec<usize> = signals
        .iter()
        .scan(0, |at, s| {
            let start = *at;
            *at += s.per_record * width;
            Some(start)
        })
        .collect();
    let records = if discontinuous {
        first_stretch(
            bytes,
            header_bytes,
            record_size,
            records,
            record_s,
            &signals,
            &offsets,
            width,
        )
    } else {
        records
    };

    let mut leads = Vec::new();
    let mut non_ecg_channels = Vec::new();
    let mut per_record = None;
    for (k, signal) in signals.iter().enumerate() {
        if signal.is_annotations() {
            continue;
        }
        let (Some(name), Some(per_unit)) = (signal.lead_name(), signal.microvolts_per_unit())
        else {
            non_ecg_channels.push(signal.label.clone());
            continue;
        };
        if *per_record.get_or_insert(signal.per_record) != signal.per_record {
            non_ecg_channels.push(format!("{} (another sampling rate)", signal.label));
            continue;
        }
        let (dmin, dmax) = signal.digital;
        let (pmin, pmax) = signal.physical;
        if dmax <= dmin {
            return Err(problem(format!(
                "signal {} has an empty digital range",
                signal.label
            )));
        }
        let gain = (pmax - pmin) / (dmax - dmin) * per_unit;
        check_size(leads.len() + 1, records * signal.per_record)?;
        let mut samples_uv = Vec::with_capacity(records * signal.per_record);
        for record in 0..records {
            let start = header_bytes + record * record_size + offsets[k];
            for sample in bytes[start..start + signal.per_record * width].chunks_exact(width) {
                let digital = if bdf {
                    (i32::from_le_bytes([sample[0], sample[1], sample[2], 0]) << 8) >> 8
                } else {
                    i32::from(i16::from_le_bytes([sample[0], sample[1]]))
                };
                samples_uv.push(microvolts(
                    (f64::from(digital) - dmin) * gain + pmin * per_unit,
                )?);
            }
        }
        leads.push(Lead { name, samples_uv });
    }
    let sampling_hz = per_record.map_or(0.0, |n| n as f64 / record_s);
    leads.sort_by_key(|l| lead_order(&l.name));
    make_names_unique(&mut leads);
    Ok(Waveform {
        sampling_hz,
        leads,
        non_ecg_channels,
        device: equipment(&field(bytes, 88, 80)?),
        // The header's start date `dd.mm.yy` and time `hh.mm.ss`.
        recorded_at: StatedTime::from_written(
            &field(bytes, 168, 8)?,
            Some(&field(bytes, 176, 8)?),
            DateOrder::DayMonthYear,
        ),
        ..Default::default()
    })
}

/// EDF+ "recording" field: `Startdate dd-MMM-yyyy admincode technician equipment`.
fn equipment(recording: &str) -> Option<Device> {
    let parts: Vec<&str> = recording.split_whitespace().collect();
    if parts.first() != Some(&"Startdate") {
        return None;
    }
    let equipment = parts.get(4).filter(|e| **e != "X")?.replace('_', " ");
    Device::named(None, Some(equipment))
}

/// How many records, from the first, follow each other without a gap: each record's first
/// annotation gives its onset.
#[allow(clippy::too_many_arguments)]
fn first_stretch(
    bytes: &[u8],
    header_bytes: usize,
    record_size: usize,
    records: usize,
    record_s: f64,
    signals: &[Signal],
    offsets: &[usize],
    width: usize,
) -> usize {
    let Some(k) = signals.iter().position(Signal::is_annotations) else {
        return records;
    };
    let onset = |record: usize| -> Option<f64> {
        let start = header_bytes + record * record_size + offsets[k];
        let tal = bytes.get(start..start + signals[k].per_record * width)?;
        let end = tal.iter().position(|b| *b == 0x14)?;
        std::str::from_utf8(&tal[..end]).ok()?.parse::<f64>().ok()
    };
    let Some(first) = onset(0) else {
        return records;
    };
    (1..records)
        .find(|&r| onset(r).is_none_or(|t| (t - (first + r as f64 * record_s)).abs() > 1e-3))
        .unwrap_or(records)
}
