//! yijia's JSON form: `{"sampling_hz": 500, "leads": {"I": [µV, …], "II": […], …}}`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Unreadable, unreadable};
use crate::waveform::{
    Lead, Waveform, check_size, lead_order, make_names_unique, microvolts, standard_lead_name,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Form {
    sampling_hz: f64,
    leads: BTreeMap<String, Vec<f64>>,
}

pub fn read(bytes: &[u8]) -> Result<Waveform, Unreadable> {
    // Values are separated by commas: their count bounds what parsing will allocate.
    let separators = bytes.iter().filter(|b| **b == b',').count();
    check_size(1, separators.saturating_sub(64))?;
    let form: Form =
        serde_json::from_slice(bytes).map_err(|e| unreadable(format!("JSON ECG: {e}")))?;
    let mut leads = Vec::with_capacity(form.leads.len());
    for (name, values) in form.leads {
        let samples_uv = values
            .iter()
            .map(|v| microvolts(*v))
            .collect::<Result<_, _>>()
            .map_err(|_| unreadable(format!("JSON ECG: lead {name} has values outside ±100 mV")))?;
        leads.push(Lead {
            name: standard_lead_name(&name),
            samples_uv,
        });
    }
    leads.sort_by_key(|l| lead_order(&l.name));
    make_names_unique(&mut leads);
    Ok(Waveform {
        sampling_hz: form.sampling_hz,
        leads,
        non_ecg_channels: Vec::new(),
        ..Default::default()
    })
}

/// Writes a waveform in the JSON form.
pub fn write(waveform: &Waveform) -> String {
    let leads: serde_json::Map<String, serde_json::Value> = waveform
        .leads
        .iter()
        .map(|l| {
            (
                l.name.clone(),
                serde_json::Value::from(l.samples_uv.clone()),
            )
        })
        .collect();
    serde_json::json!({"sampling_hz": waveform.sampling_hz, "leads": leads}).to_string()
}
