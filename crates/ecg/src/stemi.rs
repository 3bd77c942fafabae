//! STEMI screening per the 4th Universal Definition of Myocardial Infarction (values kept by
//! ESC 2023): new J-point elevation in at least two contiguous leads, ≥ 1 mm in all leads other
//! than V2–V3; in V2–V3 ≥ 2 mm for men aged 40 or over, ≥ 2.5 mm for men under 40 and ≥ 1.5 mm
//! for women. Biased to sensitivity: when sex is unknown the lowest V2–V3 limit applies, and a
//! reader always confirms.

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Patient {
    pub sex: Sex,
    pub age_years: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Screening {
    pub suspected: bool,
    /// Which leads, by how many millimetres, against which limit.
    pub reasons: Vec<String>,
    /// The same, as data, for user interfaces in other languages.
    pub elevated: Vec<Elevation>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Elevation {
    pub lead: String,
    pub mm: f64,
    pub limit_mm: f64,
}

/// Pairs of anatomically contiguous leads.
const CONTIGUOUS: [(&str, &str); 11] = [
    ("V1", "V2"),
    ("V2", "V3"),
    ("V3", "V4"),
    ("V4", "V5"),
    ("V5", "V6"),
    ("II", "aVF"),
    ("aVF", "III"),
    ("II", "III"),
    ("I", "aVL"),
    ("I", "V6"),
    ("aVL", "V5"),
];

/// The elevation limit in mm for a lead.
pub fn limit_mm(lead: &str, patient: Option<Patient>) -> f64 {
    if lead != "V2" && lead != "V3" {
        return 1.0;
    }
    match patient {
        Some(Patient {
            sex: Sex::Male,
            age_years,
        }) if age_years >= 40 => 2.0,
        Some(Patient { sex: Sex::Male, .. }) => 2.5,
        Some(Patient {
            sex: Sex::Female, ..
        })
        | None => 1.5,
    }
}

/// Screens per-lead ST elevation at the J point (in mm; the analysis passes the smaller of the
/// J-point and J+60 ms values, so the elevation is sustained).
pub fn screen(elevation_mm: &BTreeMap<String, f64>, patient: Option<Patient>) -> Screening {
    let elevated = |lead: &str| {
        elevation_mm
            .get(lead)
            .is_some_and(|mm| *mm >= limit_mm(lead, patient))
    };
    let mut leads: Vec<&str> = Vec::new();
    for (a, b) in CONTIGUOUS {
        if elevated(a) && elevated(b) {
            for lead in [a, b] {
                if !leads.contains(&lead) {
                    leads.push(lead);
                }
            }
        }
    }
    if leads.is_empty() {
        return Screening::default();
    }
    leads.sort_by_key(|l| crate::waveform::lead_order(l));
    let elevated: Vec<Elevation> = leads
        .iter()
        .map(|l| Elevation {
            lead: (*l).to_owned(),
            mm: elevation_mm[*l],
            limit_mm: limit_mm(l, patient),
        })
        .collect();
    let listed: Vec<String> = elevated
        .iter()
        .map(|e| format!("{} {:.1} mm (≥ {:.1} mm)", e.lead, e.mm, e.limit_mm))
        .collect();
    Screening {
        suspected: true,
        reasons: vec![format!(
            "ST elevation at the J point in contiguous leads: {}",
            listed.join(", ")
        )],
        elevated,
    }
}
