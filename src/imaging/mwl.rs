//! The Modality Worklist (PS3.4 K, C-FIND on 1.2.840.10008.5.1.4.31): the scheduled orders of
//! the modality's institution as worklist items, matched against the modality's query keys
//! and answered with the attributes it asked for. The township's DR, CT or ultrasound takes
//! the patient's name, ID number, accession number and Study Instance UID from here instead
//! of having them typed.

use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

use super::order::{MODALITIES, OrderItem};
use crate::reading::Priority;

/// The SOP class of the Modality Worklist Information Model — FIND.
pub const MODALITY_WORKLIST_FIND: &str = "1.2.840.10008.5.1.4.31";

fn text(vr: VR, tag: Tag, value: &str) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, vr, PrimitiveValue::from(value))
}

/// A DICOM date (`YYYYMMDD`) from an ISO date (`YYYY-MM-DD`).
fn dicom_date(iso: &str) -> String {
    iso.replace('-', "")
}

/// The order as a worklist item with every attribute the worklist gives; `station` is the
/// calling modality's AE title.
pub fn item(order: &OrderItem, station: &str) -> InMemDicomObject {
    let o = &order.order;
    let when = time::OffsetDateTime::from_unix_timestamp_nanos(o.ordered_at_ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(time::macros::offset!(+8));
    let date = format!(
        "{:04}{:02}{:02}",
        when.year(),
        u8::from(when.month()),
        when.day()
    );
    let time = format!("{:02}{:02}{:02}", when.hour(), when.minute(), when.second());
    let modality_name = MODALITIES
        .iter()
        .find(|(code, _)| *code == o.modality)
        .map_or(o.modality.as_str(), |(_, name)| name);
    let description: String = format!("{modality_name} {}", o.body_part)
        .chars()
        .take(64)
        .collect();
    let reason: String = o.reason.chars().take(64).collect();
    let sex = super::dicom::patient_sex(&order.sex);
    let step = InMemDicomObject::from_element_iter([
        text(VR::CS, tags::MODALITY, &o.modality),
        text(VR::AE, tags::SCHEDULED_STATION_AE_TITLE, station),
        text(VR::DA, tags::SCHEDULED_PROCEDURE_STEP_START_DATE, &date),
        text(VR::TM, tags::SCHEDULED_PROCEDURE_STEP_START_TIME, &time),
        text(
            VR::LO,
            tags::SCHEDULED_PROCEDURE_STEP_DESCRIPTION,
            &description,
        ),
        text(
            VR::SH,
            tags::SCHEDULED_PROCEDURE_STEP_ID,
            &o.accession_number,
        ),
        text(VR::CS, tags::SCHEDULED_PROCEDURE_STEP_STATUS, "SCHEDULED"),
    ]);
    InMemDicomObject::from_element_iter([
        text(VR::CS, tags::SPECIFIC_CHARACTER_SET, "ISO_IR 192"),
        text(VR::SH, tags::ACCESSION_NUMBER, &o.accession_number),
        text(VR::PN, tags::PATIENT_NAME, &order.resident_name),
        text(VR::LO, tags::PATIENT_ID, &order.id_number),
        text(
            VR::DA,
            tags::PATIENT_BIRTH_DATE,
            &dicom_date(&order.birth_date),
        ),
        text(VR::CS, tags::PATIENT_SEX, sex),
        text(
            VR::UI,
            tags::STUDY_INSTANCE_UID,
            o.study_instance_uid.as_deref().unwrap_or_default(),
        ),
        text(VR::LO, tags::REQUESTED_PROCEDURE_DESCRIPTION, &description),
        text(VR::SH, tags::REQUESTED_PROCEDURE_ID, &o.accession_number),
        text(
            VR::SH,
            tags::REQUESTED_PROCEDURE_PRIORITY,
            match o.priority {
                Priority::Stat => "STAT",
                Priority::Routine => "ROUTINE",
            },
        ),
        text(VR::LO, tags::REASON_FOR_THE_REQUESTED_PROCEDURE, &reason),
        DataElement::new(
            tags::SCHEDULED_PROCEDURE_STEP_SEQUENCE,
            VR::SQ,
            DataSetSequence::from(vec![step]),
        ),
    ])
}

/// The string value of an element, without padding; empty for none.
fn value_of(object: &InMemDicomObject, tag: Tag) -> String {
    object
        .element_opt(tag)
        .ok()
        .flatten()
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_matches(['\0', ' ']).to_owned())
        .unwrap_or_default()
}

/// DICOM wildcard matching (PS3.4 C.2.2.2.4): `*` any run of characters, `?` one; with
/// `fold`, letters match regardless of case (person names).
pub fn wildcard_match(pattern: &str, value: &str, fold: bool) -> bool {
    let norm = |s: &str| -> Vec<char> {
        if fold {
            s.to_lowercase().chars().collect()
        } else {
            s.chars().collect()
        }
    };
    let (p, v) = (norm(pattern), norm(value));
    // Greedy matching with backtracking to the last star.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < v.len() {
        if i < p.len() && (p[i] == '?' || p[i] == v[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

/// Does `value` (`YYYYMMDD`) fall in the date or range `key` (`YYYYMMDD`, `A-B`, `A-`, `-B`)?
fn date_matches(key: &str, value: &str) -> bool {
    match key.split_once('-') {
        Some((from, to)) => {
            (from.is_empty() || value >= from.trim()) && (to.is_empty() || value <= to.trim())
        }
        None => value == key,
    }
}

/// One key's value against the item's: single value, list of UIDs, wildcard, or date range.
fn key_matches(tag: Tag, key: &str, value: &str) -> bool {
    if key.is_empty() || key == "*" {
        return true;
    }
    if tag == tags::STUDY_INSTANCE_UID {
        return key
            .split('\\')
            .any(|uid| uid.trim_end_matches('\0') == value);
    }
    if tag == tags::SCHEDULED_PROCEDURE_STEP_START_DATE || tag == tags::PATIENT_BIRTH_DATE {
        return date_matches(key, value);
    }
    if key.contains(['*', '?']) {
        return wildcard_match(key, value, tag == tags::PATIENT_NAME);
    }
    if tag == tags::PATIENT_NAME {
        return key.eq_ignore_ascii_case(value);
    }
    key == value
}

/// The keys matched on, at the top level and in the scheduled procedure step; any other key
/// with a value is a return key only (PS3.4 K.6.1.2: matching on it is optional).
const MATCHED: [Tag; 4] = [
    tags::PATIENT_ID,
    tags::PATIENT_NAME,
    tags::ACCESSION_NUMBER,
    tags::STUDY_INSTANCE_UID,
];
const MATCHED_IN_STEP: [Tag; 3] = [
    tags::MODALITY,
    tags::SCHEDULED_STATION_AE_TITLE,
    tags::SCHEDULED_PROCEDURE_STEP_START_DATE,
];

fn first_item(object: &InMemDicomObject, tag: Tag) -> Option<&InMemDicomObject> {
    object.get(tag)?.items()?.first()
}

/// Does the worklist item answer the query?
pub fn matches(query: &InMemDicomObject, item: &InMemDicomObject) -> bool {
    let top = MATCHED
        .iter()
        .all(|tag| key_matches(*tag, &value_of(query, *tag), &value_of(item, *tag)));
    let step = match (
        first_item(query, tags::SCHEDULED_PROCEDURE_STEP_SEQUENCE),
        first_item(item, tags::SCHEDULED_PROCEDURE_STEP_SEQUENCE),
    ) {
        (Some(asked), Some(given)) => MATCHED_IN_STEP
            .iter()
            .all(|tag| key_matches(*tag, &value_of(asked, *tag), &value_of(given, *tag))),
        _ => true,
    };
    top && step
}

/// The answer to the query: each key it holds with the item's value (a sequence key with
/// the item's sequence answered key by key, an empty one with all of it), zero length where
/// the worklist has no such attribute; the character set always.
pub fn answer(query: &InMemDicomObject, item: &InMemDicomObject) -> InMemDicomObject {
    let mut answered = InMemDicomObject::new_empty();
    for asked in query.iter() {
        let tag = asked.header().tag;
        if tag.group() == 0x0000 || tag.group() == 0x0002 {
            continue;
        }
        let given = item.get(tag);
        match (asked.items(), given) {
            (Some(asked_items), Some(given)) if given.items().is_some() => {
                let given_items = given.items().unwrap_or_default();
                let items: Vec<InMemDicomObject> = given_items
                    .iter()
                    .map(|g| match asked_items.first() {
                        Some(a) if a.iter().next().is_some() => answer(a, g),
                        _ => g.clone(),
                    })
                    .collect();
                answered.put(DataElement::new(tag, VR::SQ, DataSetSequence::from(items)));
            }
            (_, Some(given)) => {
                answered.put(given.clone());
            }
            (_, None) if asked.header().vr == VR::SQ => {
                let none: Vec<InMemDicomObject> = Vec::new();
                answered.put(DataElement::new(tag, VR::SQ, DataSetSequence::from(none)));
            }
            (_, None) => {
                answered.put(DataElement::new(
                    tag,
                    asked.header().vr,
                    PrimitiveValue::Empty,
                ));
            }
        }
    }
    if let Some(charset) = item.get(tags::SPECIFIC_CHARACTER_SET) {
        answered.put(charset.clone());
    }
    answered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_the_standard_says() {
        assert!(wildcard_match("ZHANG*", "zhang^san", true));
        assert!(wildcard_match("*san", "zhang^san", true));
        assert!(wildcard_match("张?", "张三", false));
        assert!(wildcard_match("*", "", false));
        assert!(!wildcard_match("张?", "张三丰", false));
        assert!(!wildcard_match("ZHANG*", "zhang", false));
        assert!(wildcard_match("a*b*c", "aXbYbZc", false));
    }

    #[test]
    fn dates_match_single_values_and_ranges() {
        assert!(date_matches("20261203", "20261203"));
        assert!(date_matches("20261201-20261203", "20261202"));
        assert!(date_matches("20261201-", "20261202"));
        assert!(date_matches("-20261201", "20261130"));
        assert!(!date_matches("20261201-20261203", "20261204"));
    }
}
