//! HL7 v3 annotated ECG (aECG): the first `sequenceSet` holds the rhythm leads as `SLIST_PQ`
//! digits with origin and scale, beside a `GLIST_TS` time sequence whose increment gives the
//! sampling interval.

use quick_xml::Reader;
use quick_xml::events::Event;

use super::{Unreadable, unreadable};
use crate::stated::StatedTime;
use crate::waveform::{
    Lead, Waveform, check_size, lead_order, make_names_unique, microvolts, standard_lead_name,
};

fn to_microvolts(value: f64, unit: &str) -> Result<f64, Unreadable> {
    match unit {
        "uV" | "µV" => Ok(value),
        "mV" => Ok(value * 1000.0),
        "V" => Ok(value * 1_000_000.0),
        other => Err(unreadable(format!("HL7 aECG: unknown unit {other:?}"))),
    }
}

#[derive(Default)]
struct Sequence {
    code: Option<String>,
    origin_uv: f64,
    scale_uv: f64,
    digits: Option<String>,
    increment_s: Option<f64>,
}

pub fn read(bytes: &[u8]) -> Result<Waveform, Unreadable> {
    let mut reader = Reader::from_reader(bytes);
    let mut buffer = Vec::new();
    let mut sets_seen = 0;
    let mut current: Option<Sequence> = None;
    let mut in_digits = false;
    let mut increment_s: Option<f64> = None;
    let mut leads: Vec<Lead> = Vec::new();
    let mut total_samples = 0;
    // The recording's start: the time sequence's head, else the first effectiveTime's low.
    let (mut head, mut low): (Option<StatedTime>, Option<StatedTime>) = (None, None);
    let attribute = |e: &quick_xml::events::BytesStart, name: &str| -> Option<String> {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == name)
            .and_then(|a| a.normalized_value(quick_xml::XmlVersion::default()).ok())
            .map(|v| v.into_owned())
    };
    loop {
        let event = reader
            .read_event_into(&mut buffer)
            .map_err(|e| unreadable(format!("HL7 aECG: not well-formed XML: {e}")))?;
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.local_name();
                match name.as_ref() {
                    "sequenceSet" => sets_seen += 1,
                    "head" if head.is_none() && current.is_some() => {
                        head = attribute(&e, "value").and_then(|v| StatedTime::from_compact(&v));
                    }
                    "low" if low.is_none() => {
                        low = attribute(&e, "value").and_then(|v| StatedTime::from_compact(&v));
                    }
                    "sequence" if sets_seen == 1 => current = Some(Sequence::default()),
                    "code" => {
                        if let Some(seq) = current.as_mut().filter(|s| s.code.is_none()) {
                            seq.code = attribute(&e, "code");
                        }
                    }
                    "increment" => {
                        if let Some(seq) = current.as_mut() {
                            let value: f64 = attribute(&e, "value")
                                .and_then(|v| v.parse().ok())
                                .filter(|v: &f64| v.is_finite())
                                .ok_or_else(|| unreadable("HL7 aECG: bad increment"))?;
                            let unit = attribute(&e, "unit").unwrap_or_else(|| "s".into());
                            seq.increment_s =
                                Some(if unit == "ms" { value / 1000.0 } else { value });
                        }
                    }
                    "origin" | "scale" => {
                        if let Some(seq) = current.as_mut() {
                            let value: f64 = attribute(&e, "value")
                                .and_then(|v| v.parse().ok())
                                .filter(|v: &f64| v.is_finite())
                                .ok_or_else(|| unreadable("HL7 aECG: bad origin or scale"))?;
                            let uv = to_microvolts(
                                value,
                                &attribute(&e, "unit").unwrap_or_else(|| "uV".into()),
                            )?;
                            if name.as_ref() == "origin" {
                                seq.origin_uv = uv
                            } else {
                                seq.scale_uv = uv
                            }
                        }
                    }
                    "digits" => in_digits = current.is_some(),
                    _ => {}
                }
            }
            Event::Text(text) if in_digits => {
                let text = text.xml10_content();
                if let Some(seq) = current.as_mut() {
                    seq.digits.get_or_insert_with(String::new).push_str(&text);
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                "digits" => in_digits = false,
                "sequence" => {
                    if let Some(seq) = current.take() {
                        if let Some(step) = seq.increment_s {
                            increment_s.get_or_insert(step);
                        }
                        if let (Some(code), Some(digits)) = (seq.code, seq.digits)
                            && code.starts_with("MDC_ECG_LEAD_")
                        {
                            let scale = if seq.scale_uv == 0.0 {
                                1.0
                            } else {
                                seq.scale_uv
                            };
                            let count = digits.split_whitespace().count();
                            total_samples += count;
                            check_size(1, total_samples)?;
                            let mut samples_uv = Vec::with_capacity(count);
                            for d in digits.split_whitespace() {
                                let v = d
                                    .parse::<f64>()
                                    .map_err(|_| unreadable("HL7 aECG: digits must be numbers"))?;
                                samples_uv.push(microvolts(seq.origin_uv + v * scale)?);
                            }
                            leads.push(Lead {
                                name: standard_lead_name(&code),
                                samples_uv,
                            });
                        }
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    let increment = increment_s
        .filter(|s| *s > 0.0)
        .ok_or_else(|| unreadable("HL7 aECG: no sampling interval"))?;
    leads.sort_by_key(|l| lead_order(&l.name));
    make_names_unique(&mut leads);
    Ok(Waveform {
        sampling_hz: (1.0 / increment * 1000.0).round() / 1000.0,
        leads,
        non_ecg_channels: Vec::new(),
        recorded_at: head.or(low),
        ..Default::default()
    })
}
