//! Philips SierraECG XML (`<restingecgdata>`, document versions 1.03, 1.04, 1.04.01 and
//! 1.04.02, in UTF-8 or UTF-16): `parsedwaveforms` holds the leads as base64, plain 16-bit or
//! XLI-compressed — per lead a chunk of LZW (10-bit codes) over the samples' high bytes then
//! low bytes, second-difference coded. Where a cart stores leads III, aVR, aVL and aVF as
//! residuals from I and II, they are rebuilt. The device's global measurements and its
//! interpretation statements are read too.

use super::xml::{self, Element};
use super::{Unreadable, unreadable};
use crate::stated::{DateOrder, Device, DeviceStatement, StatedTime};
use crate::waveform::{
    Lead, MAX_SAMPLES, Waveform, check_size, lead_order, make_names_unique, microvolts,
    standard_lead_name,
};

fn problem(reason: impl std::fmt::Display) -> Unreadable {
    unreadable(format!("Philips SierraECG XML: {reason}"))
}

const VERSIONS: [&str; 4] = ["1.03", "1.04", "1.04.01", "1.04.02"];

/// LZW with 10-bit codes, most significant bit first; code 1023 (or the data's end) ends a
/// chunk, as the carts write it.
fn lzw(data: &[u8], limit: usize) -> Result<Vec<u8>, Unreadable> {
    const BITS: u32 = 10;
    const MAX_CODE: usize = (1 << BITS) - 2;
    let mut strings: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
    let mut previous: Vec<u8> = Vec::new();
    let mut output = Vec::new();
    let (mut buffer, mut count, mut at) = (0_u32, 0_u32, 0_usize);
    loop {
        while count <= 24 {
            let Some(byte) = data.get(at) else {
                return Ok(output);
            };
            buffer |= u32::from(*byte) << (24 - count);
            count += 8;
            at += 1;
        }
        let code = (buffer >> (32 - BITS)) as usize;
        buffer <<= BITS;
        count -= BITS;
        if code > MAX_CODE {
            return Ok(output);
        }
        let entry = match strings.get(code) {
            Some(known) => known.clone(),
            None if code == strings.len() && !previous.is_empty() => {
                let mut entry = previous.clone();
                entry.push(previous[0]);
                entry
            }
            None => return Err(problem("the XLI data are damaged (an unknown LZW code)")),
        };
        if !previous.is_empty() && strings.len() <= MAX_CODE {
            let mut next = previous;
            next.push(entry[0]);
            strings.push(next);
        }
        output.extend_from_slice(&entry);
        if output.len() > limit {
            return Err(problem(
                "a lead decompresses to more samples than a recording holds",
            ));
        }
        previous = entry;
    }
}

/// One XLI lead: LZW bytes (high bytes, then low bytes), then the second-difference code.
fn xli_lead(chunk: &[u8], first: i16) -> Result<Vec<i16>, Unreadable> {
    let mut bytes = lzw(chunk, 2 * MAX_SAMPLES)?;
    if bytes.len() % 2 == 1 {
        bytes.push(0);
    }
    let half = bytes.len() / 2;
    let mut values: Vec<i16> = (0..half)
        .map(|i| i16::from_be_bytes([bytes[i], bytes[half + i]]))
        .collect();
    if values.len() >= 2 {
        let (mut x, mut y, mut last) = (values[0], values[1], first);
        for value in values.iter_mut().skip(2) {
            let z = y.wrapping_add(y).wrapping_sub(x).wrapping_sub(last);
            last = value.wrapping_sub(64);
            *value = z;
            x = y;
            y = z;
        }
    }
    Ok(values)
}

fn xli(data: &[u8]) -> Result<Vec<Vec<i16>>, Unreadable> {
    let mut leads = Vec::new();
    let mut at = 0;
    while at + 8 <= data.len() {
        let size = i32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
        let first = i16::from_le_bytes([data[at + 6], data[at + 7]]);
        at += 8;
        let size =
            usize::try_from(size).map_err(|_| problem("an XLI chunk has a negative size"))?;
        let chunk = data
            .get(at..at.saturating_add(size))
            .ok_or_else(|| problem("an XLI chunk runs past the data (truncated)"))?;
        at += size;
        leads.push(xli_lead(chunk, first)?);
        if leads.len() > 64 {
            return Err(problem("more XLI chunks than an ECG has leads"));
        }
    }
    Ok(leads)
}

/// Lead names when `leadlabels` is absent: the acquisition type's standard order.
fn default_names(count: usize) -> Vec<String> {
    const STANDARD: [&str; 12] = [
        "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
    ];
    (0..count)
        .map(|i| {
            STANDARD
                .get(i)
                .map_or(format!("channel {}", i + 1), |s| (*s).to_owned())
        })
        .collect()
}

/// Rebuilds III, aVR, aVL, aVF where the file holds them as residuals from I and II (as XLI
/// carts do): Einthoven's III = II − I then holds for the rebuilt lead, not the stored one. The
/// median is the judge, so calibration pulses (1 mV in every lead at once) do not sway it.
fn rebuild_limb_leads(leads: &mut [Lead]) {
    let index = |name: &str| leads.iter().position(|l| l.name == name);
    let (Some(i), Some(ii), Some(iii), Some(avr), Some(avl), Some(avf)) = (
        index("I"),
        index("II"),
        index("III"),
        index("aVR"),
        index("aVL"),
        index("aVF"),
    ) else {
        return;
    };
    let median = |mut values: Vec<i32>| {
        values.sort_unstable();
        values.get(values.len() / 2).copied().unwrap_or(0)
    };
    let (one, two, three) = (
        &leads[i].samples_uv,
        &leads[ii].samples_uv,
        &leads[iii].samples_uv,
    );
    let as_residual = median(three.iter().map(|v| v.abs()).collect());
    let as_lead = median(
        one.iter()
            .zip(two)
            .zip(three)
            .map(|((a, b), c)| (b - a - c).abs())
            .collect(),
    );
    if as_lead <= as_residual {
        return; // III is the lead itself
    }
    for k in 0..leads[i].samples_uv.len() {
        let (one, two) = (leads[i].samples_uv[k], leads[ii].samples_uv[k]);
        let three = two - one - leads[iii].samples_uv[k];
        leads[iii].samples_uv[k] = three;
        leads[avr].samples_uv[k] = -leads[avr].samples_uv[k] - (one + two).div_euclid(2);
        leads[avl].samples_uv[k] = (one - three).div_euclid(2) - leads[avl].samples_uv[k];
        leads[avf].samples_uv[k] = (two + three).div_euclid(2) - leads[avf].samples_uv[k];
    }
}

pub fn read(root: &Element) -> Result<Waveform, Unreadable> {
    let info = root.child("documentinfo");
    let version = info
        .and_then(|i| i.text_of("documentversion"))
        .unwrap_or_default();
    if !VERSIONS.contains(&version) {
        return Err(problem(format!(
            "document version {version:?} is not one of {}",
            VERSIONS.join(", ")
        )));
    }
    let signal = root
        .find("signalcharacteristics")
        .ok_or_else(|| problem("no signalcharacteristics"))?;
    let sampling_hz = signal
        .number_of("samplingrate")
        .ok_or_else(|| problem("no samplingrate"))?;
    let waveforms = root
        .find("parsedwaveforms")
        .ok_or_else(|| problem("no parsedwaveforms"))?;
    let resolution = waveforms
        .attribute("resolution")
        .and_then(|r| r.trim().parse::<f64>().ok())
        .or_else(|| signal.number_of("resolution"))
        .unwrap_or(1.0);
    let duration_ms = waveforms
        .attribute("durationperchannel")
        .and_then(|d| d.trim().parse::<f64>().ok())
        .ok_or_else(|| problem("parsedwaveforms has no durationperchannel"))?;
    let samples = (duration_ms * sampling_hz / 1000.0).round();
    if !(1.0..=MAX_SAMPLES as f64).contains(&samples) {
        return Err(problem("the duration per channel is not a recording's"));
    }
    let samples = samples as usize;
    let encoding = waveforms.attribute("dataencoding").unwrap_or("Base64");
    if !encoding.eq_ignore_ascii_case("Base64") {
        return Err(problem(format!("data encoding {encoding:?} is not read")));
    }
    let data = xml::base64(&waveforms.text, 2 * MAX_SAMPLES).map_err(problem)?;
    let compression = waveforms
        .attribute("compression")
        .or_else(|| waveforms.attribute("compressmethod"))
        .filter(|_| waveforms.attribute("compressflag") != Some("False"))
        .unwrap_or("Uncompressed");
    let stored: Vec<Vec<i16>> = match compression {
        c if c.eq_ignore_ascii_case("XLI") => xli(&data)?,
        c if c.eq_ignore_ascii_case("Uncompressed") || c.is_empty() => {
            let values: Vec<i16> = data
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]))
                .collect();
            values.chunks(samples).map(<[i16]>::to_vec).collect()
        }
        other => return Err(problem(format!("compression {other:?} is not read"))),
    };
    let names: Vec<String> = match waveforms
        .attribute("leadlabels")
        .filter(|l| !l.trim().is_empty())
    {
        Some(labels) => labels.split_whitespace().map(standard_lead_name).collect(),
        None => default_names(stored.len()),
    };
    let count = waveforms
        .attribute("numberofleads")
        .and_then(|n| n.trim().parse::<usize>().ok())
        .unwrap_or(names.len())
        .min(names.len())
        .min(stored.len());
    check_size(count, samples)?;
    let mut leads = Vec::with_capacity(count);
    for (name, values) in names.into_iter().zip(stored).take(count) {
        if values.len() < samples {
            return Err(problem(format!(
                "lead {name} holds {} samples, fewer than its {samples}",
                values.len()
            )));
        }
        leads.push(Lead {
            name,
            samples_uv: values[..samples].iter().map(|v| i32::from(*v)).collect(),
        });
    }
    rebuild_limb_leads(&mut leads);
    for lead in &mut leads {
        for value in &mut lead.samples_uv {
            *value = microvolts(f64::from(*value) * resolution)?;
        }
    }
    leads.sort_by_key(|l| lead_order(&l.name));
    make_names_unique(&mut leads);
    Ok(Waveform {
        sampling_hz,
        leads,
        device: device(root),
        device_statement: statement(root),
        recorded_at: root.find("dataacquisition").and_then(|a| {
            StatedTime::from_written(
                a.attribute("date")?,
                a.attribute("time"),
                DateOrder::YearMonthDay,
            )
        }),
        ..Default::default()
    })
}

fn device(root: &Element) -> Option<Device> {
    let machine = root.find("machine")?;
    let detail = machine.attribute("detaildescription").unwrap_or_default();
    match detail.split_once(':') {
        Some((manufacturer, model)) => Device::named(Some(manufacturer.into()), Some(model.into())),
        None => Device::named(
            None,
            Some(detail)
                .filter(|d| !d.trim().is_empty())
                .or(machine.trimmed())
                .map(str::to_owned),
        ),
    }
}

fn statement(root: &Element) -> Option<DeviceStatement> {
    let interpretation = root
        .find("interpretations")
        .and_then(|i| i.find("interpretation"))?;
    let global = interpretation.child("globalmeasurements");
    let number = |name: &str| global.and_then(|g| g.number_of(name));
    let lines: Vec<String> = interpretation
        .children("statement")
        .filter_map(|s| {
            let parts: Vec<&str> = [s.text_of("leftstatement"), s.text_of("rightstatement")]
                .into_iter()
                .flatten()
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
        .collect();
    DeviceStatement {
        heart_rate_bpm: number("heartrate"),
        pr_ms: number("print"),
        qrs_ms: number("qrsdur"),
        qt_ms: number("qtint"),
        qtc_ms: number("qtcb").or_else(|| number("qtc")),
        p_axis_deg: number("pfrontaxis"),
        qrs_axis_deg: number("qrsfrontaxis"),
        t_axis_deg: number("tfrontaxis"),
        text: Some(lines.join("\n")),
    }
    .plausible()
    .if_any()
}
