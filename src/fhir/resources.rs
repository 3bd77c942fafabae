//! yijia's records as FHIR R4 (4.0.1) resources. Pure mapping: no SQL, no access decisions.
//! References between resources are relative (`Patient/12`); attachment URLs are absolute.

use serde_json::{Value, json};

use crate::clock::{Millis, rfc3339_cst};
use crate::ecg::model::EcgDetail;
use crate::health_record::model::{Encounter, EncounterKind, ExamKind, ExamReport, LabReport};
use crate::institution::model::{Institution, InstitutionKind};
use crate::referral::model::{Direction, ReferralDetail, ReferralState, Urgency};
use crate::resident::model::Resident;
use crate::staff::model::Staff;

pub const ID_NUMBER_SYSTEM: &str = "urn:yijia:sid:resident-id-number";
pub const INSTITUTION_CODE_SYSTEM: &str = "urn:yijia:sid:institution-code";
const USERNAME_SYSTEM: &str = "urn:yijia:sid:username";
const LIS_CODE_SYSTEM: &str = "urn:yijia:cs:lis-code";
const EXAM_CODE_SYSTEM: &str = "urn:yijia:cs:exam-item";
const ICD10_SYSTEM: &str = "http://hl7.org/fhir/sid/icd-10";
const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const MDC: &str = "urn:oid:2.16.840.1.113883.6.24";

fn reference(kind: &str, id: impl std::fmt::Display) -> Value {
    json!({"reference": format!("{kind}/{id}")})
}

fn icd10(code: &str) -> Value {
    let title = crate::health_record::store::diagnosis(code.to_owned()).title;
    let mut coding = json!({"system": ICD10_SYSTEM, "code": code});
    if let Some(title) = title {
        coding["display"] = json!(title);
    }
    json!({"coding": [coding], "text": code})
}

pub fn patient(resident: &Resident) -> Value {
    let mut patient = json!({
        "resourceType": "Patient",
        "id": resident.id.to_string(),
        "identifier": [{"system": ID_NUMBER_SYSTEM, "value": resident.id_number}],
        "active": resident.merged_into_id.is_none(),
        "name": [{"text": resident.name}],
        "gender": resident.sex.as_str(),
        "birthDate": resident.birth_date,
        "address": [{"text": resident.address}],
        "managingOrganization": reference("Organization", resident.village_clinic_id),
    });
    if !resident.phone.is_empty() {
        patient["telecom"] = json!([{"system": "phone", "value": resident.phone}]);
    }
    if let Some(survivor) = resident.merged_into_id {
        patient["link"] = json!([{"other": reference("Patient", survivor), "type": "replaced-by"}]);
    }
    patient
}

pub fn organization(institution: &Institution) -> Value {
    let kind = match institution.kind {
        InstitutionKind::LeadHospital => "总医院",
        InstitutionKind::Campus => "院区",
        InstitutionKind::Centre => "共享中心",
        InstitutionKind::TownshipCentre => "乡镇卫生院",
        InstitutionKind::CommunityCentre => "社区卫生服务中心",
        InstitutionKind::VillageClinic => "村卫生室",
    };
    let mut organization = json!({
        "resourceType": "Organization",
        "id": institution.id.to_string(),
        "identifier": [{"system": INSTITUTION_CODE_SYSTEM, "value": institution.code}],
        "active": true,
        "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "prov", "display": "Healthcare Provider"}], "text": kind}],
        "name": institution.name,
    });
    if !institution.address.is_empty() {
        organization["address"] = json!([{"text": institution.address}]);
    }
    if let Some(parent) = institution.parent_id {
        organization["partOf"] = reference("Organization", parent);
    }
    organization
}

pub fn practitioner(staff: &Staff) -> Value {
    json!({
        "resourceType": "Practitioner",
        "id": staff.id.to_string(),
        "identifier": [{"system": USERNAME_SYSTEM, "value": staff.username}],
        "active": staff.active,
        "name": [{"text": staff.name}],
    })
}

pub fn encounter(encounter: &Encounter) -> Value {
    let (class, display) = match encounter.kind {
        EncounterKind::Outpatient => ("AMB", "ambulatory"),
        EncounterKind::Inpatient => ("IMP", "inpatient encounter"),
        EncounterKind::Emergency => ("EMER", "emergency"),
    };
    let mut period = json!({"start": rfc3339_cst(encounter.started_at_ms)});
    if let Some(end) = encounter.ended_at_ms {
        period["end"] = json!(rfc3339_cst(end));
    }
    let mut resource = json!({
        "resourceType": "Encounter",
        "id": encounter.id.to_string(),
        "status": if encounter.ended_at_ms.is_some() { "finished" } else { "in-progress" },
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": class, "display": display},
        "type": [{"text": encounter.kind.label_zh()}],
        "subject": reference("Patient", encounter.resident_id),
        "period": period,
        "reasonCode": encounter.diagnoses.iter().map(|d| icd10(&d.icd10)).collect::<Vec<_>>(),
        "serviceProvider": reference("Organization", encounter.institution_id),
    });
    if let Some(doctor) = encounter.doctor_staff_id {
        resource["participant"] = json!([{"individual": reference("Practitioner", doctor)}]);
    }
    if let Some(referral) = encounter.referral_id {
        resource["basedOn"] = json!([reference("ServiceRequest", referral)]);
    }
    resource
}

/// A time at the precision it was given: FHIR `dateTime` may be a year, a month or a day.
fn date_time_at(ms: Millis, precision: &str) -> String {
    let full = rfc3339_cst(ms);
    match precision {
        "year" => full[..4].to_owned(),
        "month" => full[..7].to_owned(),
        "day" => full[..10].to_owned(),
        _ => full,
    }
}

/// Whether a unit is written in UCUM (the case-sensitive codes labs use: `mmol/L`, `10*9/L`,
/// `mg/dL`, `%`, `U/L`, `mL/min/{1.73_m2}` …); `k/uL` or `second(s)` are not.
pub fn is_ucum(unit: &str) -> bool {
    const ATOMS: [&str; 33] = [
        "g", "L", "l", "mol", "eq", "U", "[IU]", "[iU]", "s", "min", "h", "d", "wk", "mo", "a",
        "m", "%", "Cel", "[degF]", "mm[Hg]", "Pa", "kat", "[pH]", "osm", "[ppm]", "[ppb]", "fL",
        "cm[H2O]", "Ohm", "V", "Hz", "bar", "t",
    ];
    const PREFIXES: [&str; 11] = ["k", "d", "c", "m", "u", "n", "p", "f", "M", "G", "h"];
    let atom = |term: &str| {
        ATOMS.contains(&term)
            || PREFIXES.iter().any(|p| {
                term.strip_prefix(p)
                    .is_some_and(|rest| ATOMS.contains(&rest))
            })
    };
    let term = |term: &str| -> bool {
        // An annotation `{…}` is a unit of its own; a term may carry a power (`m2`) and be a
        // power of ten (`10*9`, `10^9`).
        let term = match term.find('{') {
            Some(at) => {
                if !term.ends_with('}') {
                    return false;
                }
                &term[..at]
            }
            None => term,
        };
        if term.is_empty() {
            return true;
        }
        if let Some(exponent) = term
            .strip_prefix("10*")
            .or_else(|| term.strip_prefix("10^"))
        {
            return exponent
                .trim_start_matches(['-', '+'])
                .parse::<u32>()
                .is_ok();
        }
        if term.bytes().all(|b| b.is_ascii_digit()) {
            return true;
        }
        let base = term.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-');
        atom(base)
    };
    // Terms are separated by `/` and `.`, except inside an annotation.
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (at, c) in unit.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            '/' | '.' if depth == 0 => {
                terms.push(&unit[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    terms.push(&unit[start..]);
    !unit.is_empty() && !unit.contains(' ') && terms.into_iter().all(term)
}

/// OBX-11 as an Observation status.
fn observation_status(status: &str) -> &'static str {
    match status {
        "C" => "corrected",
        "P" | "R" | "I" | "S" => "preliminary",
        "X" => "cancelled",
        "D" | "W" => "entered-in-error",
        _ => "final",
    }
}

/// One lab result (OBX) as an Observation; its id is `lab-{report}-{position}`. The lab's own
/// code and the LOINC code it sent beside it; a quantity in UCUM only when the unit is UCUM;
/// no empty strings (an absent value says why).
pub fn lab_observation(report: &LabReport, index: usize) -> Option<Value> {
    let result = report.results.get(index)?;
    let mut codings =
        vec![json!({"system": LIS_CODE_SYSTEM, "code": result.code, "display": result.name})];
    if !result.loinc_code.is_empty() {
        let mut loinc = json!({"system": LOINC, "code": result.loinc_code});
        if !result.loinc_name.is_empty() {
            loinc["display"] = json!(result.loinc_name);
        }
        codings.push(loinc);
    }
    let mut observation = json!({
        "resourceType": "Observation",
        "id": format!("lab-{}-{}", report.id, result.position),
        "status": observation_status(&result.status),
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory", "display": "Laboratory"}]}],
        "code": {"coding": codings, "text": result.name},
        "subject": reference("Patient", report.resident_id),
        "effectiveDateTime": date_time_at(report.observed_at_ms, &report.observed_precision),
        "issued": rfc3339_cst(report.received_at_ms),
        "performer": [reference("Organization", report.lab_institution_id)],
    });
    let value = result.value.trim();
    let number = value.parse::<f64>().ok().filter(|n| n.is_finite());
    match (number, value.is_empty(), result.attachment_type.is_empty()) {
        (_, _, false) | (_, true, _) => {
            let reason = if result.status == "X" {
                "not-performed"
            } else {
                "unknown"
            };
            observation["dataAbsentReason"] = json!({"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                "code": reason,
            }], "text": if result.attachment_type.is_empty() { "无结果".to_owned() } else { format!("见附件（{}）", result.attachment_type) }});
        }
        (Some(number), false, true) => {
            let mut quantity = json!({"value": number});
            if !result.unit.is_empty() {
                quantity["unit"] = json!(result.unit);
                if is_ucum(&result.unit) {
                    quantity["system"] = json!(UCUM);
                    quantity["code"] = json!(result.unit);
                }
            }
            observation["valueQuantity"] = quantity;
        }
        (None, false, true) => observation["valueString"] = json!(value),
    }
    if !result.reference_range.is_empty() {
        observation["referenceRange"] = json!([{"text": result.reference_range}]);
    }
    if !result.abnormal_flag.is_empty() {
        observation["interpretation"] = json!([{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
            "code": result.abnormal_flag,
        }]}]);
    }
    let mut notes = Vec::new();
    if !result.comment.is_empty() {
        notes.push(json!({"text": result.comment}));
    }
    if result.superseded.0 {
        notes.push(json!({"text": "此结果已被同一项目的更正结果取代"}));
    }
    if !notes.is_empty() {
        observation["note"] = json!(notes);
    }
    Some(observation)
}

fn mdc_lead(name: &str) -> Option<(&'static str, &'static str)> {
    Some(match name {
        "I" => ("131329", "MDC_ECG_ELEC_POTL_I"),
        "II" => ("131330", "MDC_ECG_ELEC_POTL_II"),
        "III" => ("131389", "MDC_ECG_ELEC_POTL_III"),
        "aVR" => ("131390", "MDC_ECG_ELEC_POTL_AVR"),
        "aVL" => ("131391", "MDC_ECG_ELEC_POTL_AVL"),
        "aVF" => ("131392", "MDC_ECG_ELEC_POTL_AVF"),
        "V1" => ("131331", "MDC_ECG_ELEC_POTL_V1"),
        "V2" => ("131332", "MDC_ECG_ELEC_POTL_V2"),
        "V3" => ("131333", "MDC_ECG_ELEC_POTL_V3"),
        "V4" => ("131334", "MDC_ECG_ELEC_POTL_V4"),
        "V5" => ("131335", "MDC_ECG_ELEC_POTL_V5"),
        "V6" => ("131336", "MDC_ECG_ELEC_POTL_V6"),
        _ => return None,
    })
}

/// The ECG tracing as an Observation with one `valueSampledData` component per lead, in µV.
pub fn ecg_observation(ecg: &EcgDetail, waveform: &yijia_ecg::Waveform) -> Value {
    let period_ms = 1000.0 / waveform.sampling_hz;
    let components: Vec<Value> = waveform
        .leads
        .iter()
        .map(|lead| {
            let mut code = json!({"text": lead.name});
            if let Some((code_value, display)) = mdc_lead(&lead.name) {
                code["coding"] = json!([{"system": MDC, "code": code_value, "display": display}]);
            }
            let data = lead
                .samples_uv
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(" ");
            json!({
                "code": code,
                "valueSampledData": {
                    "origin": {"value": 0, "unit": "uV", "system": UCUM, "code": "uV"},
                    "period": (period_ms * 1000.0).round() / 1000.0,
                    "dimensions": 1,
                    "data": data,
                },
            })
        })
        .collect();
    json!({
        "resourceType": "Observation",
        "id": format!("ecg-{}", ecg.ecg.id),
        "status": if ecg.reports.is_empty() { "preliminary" } else { "final" },
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "procedure", "display": "Procedure"}]}],
        "code": {"coding": [{"system": LOINC, "code": "11524-6", "display": "EKG study"}], "text": format!("{} 导联心电图", waveform.leads.len())},
        "subject": reference("Patient", ecg.ecg.resident_id),
        "effectiveDateTime": rfc3339_cst(ecg.ecg.recorded_at_ms),
        "performer": [reference("Organization", ecg.ecg.site_institution_id)],
        "component": components,
    })
}

fn diagnostic_category(code: &str, display: &str) -> Value {
    json!([{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": code, "display": display}]}])
}

pub fn lab_report(report: &LabReport, base: &str) -> Value {
    let status = match report.status.as_str() {
        "C" => "corrected",
        "P" | "R" | "A" | "S" => "preliminary",
        "I" | "O" => "registered",
        "X" => "cancelled",
        _ => "final",
    };
    let mut presented = vec![
        json!({"contentType": "application/json", "url": format!("{base}/api/v1/lab-reports/{}", report.id), "title": report.order_name}),
    ];
    for result in report
        .results
        .iter()
        .filter(|r| !r.attachment_type.is_empty())
    {
        presented.push(json!({
            "contentType": result.attachment_type,
            "url": format!("{base}/api/v1/lab-reports/{}/results/{}/attachment", report.id, result.position),
            "title": result.name,
        }));
    }
    let mut resource = json!({
        "resourceType": "DiagnosticReport",
        "id": format!("lab-{}", report.id),
        "status": status,
        "category": diagnostic_category("LAB", "Laboratory"),
        "code": {"coding": [{"system": LIS_CODE_SYSTEM, "code": report.order_code, "display": report.order_name}], "text": report.order_name},
        "subject": reference("Patient", report.resident_id),
        "effectiveDateTime": date_time_at(report.observed_at_ms, &report.observed_precision),
        "issued": rfc3339_cst(report.received_at_ms),
        "performer": [reference("Organization", report.lab_institution_id)],
        "presentedForm": presented,
    });
    let results: Vec<Value> = report
        .results
        .iter()
        .map(|r| reference("Observation", format!("lab-{}-{}", report.id, r.position)))
        .collect();
    if !results.is_empty() {
        resource["result"] = json!(results);
    }
    if !report.comment.is_empty() {
        resource["conclusion"] = json!(report.comment);
    }
    resource
}

pub fn ecg_report(ecg: &EcgDetail, base: &str) -> Value {
    let latest = ecg.reports.last();
    let mut report = json!({
        "resourceType": "DiagnosticReport",
        "id": format!("ecg-{}", ecg.ecg.id),
        "status": match latest { None => "registered", Some(r) if r.version > 1 => "amended", Some(_) => "final" },
        "category": diagnostic_category("EC", "Electrocardiac (e.g., EKG, EEC, Holter)"),
        "code": {"coding": [{"system": LOINC, "code": "11524-6", "display": "EKG study"}], "text": "心电图"},
        "subject": reference("Patient", ecg.ecg.resident_id),
        "effectiveDateTime": rfc3339_cst(ecg.ecg.recorded_at_ms),
        "performer": [reference("Organization", ecg.ecg.site_institution_id)],
        "result": [reference("Observation", format!("ecg-{}", ecg.ecg.id))],
        "presentedForm": [{"contentType": "text/html", "url": format!("{base}/ecg/{}", ecg.ecg.id), "title": "心电图报告"}],
    });
    if let Some(latest) = latest {
        report["issued"] = json!(rfc3339_cst(latest.signed_at_ms));
        report["resultsInterpreter"] = json!([reference("Practitioner", latest.reader_staff_id)]);
        report["conclusion"] = json!(latest.conclusion);
    }
    report
}

pub fn exam_report(report: &ExamReport, base: &str) -> Value {
    let (category, display) = match report.kind {
        ExamKind::Imaging => ("RAD", "Radiology"),
        ExamKind::Ultrasound => ("RUS", "Radiology Ultrasound"),
        ExamKind::Pathology => ("SP", "Surgical Pathology"),
    };
    json!({
        "resourceType": "DiagnosticReport",
        "id": format!("exam-{}", report.id),
        "status": "final",
        "category": diagnostic_category(category, display),
        "code": {"coding": [{"system": EXAM_CODE_SYSTEM, "code": report.item_code, "display": report.item_name}], "text": report.item_name},
        "subject": reference("Patient", report.resident_id),
        "effectiveDateTime": rfc3339_cst(report.performed_at_ms),
        "issued": rfc3339_cst(report.reported_at_ms),
        "performer": [reference("Organization", report.institution_id)],
        "resultsInterpreter": [reference("Practitioner", report.reader_staff_id)],
        "conclusion": report.conclusion,
        "presentedForm": [{"contentType": "application/json", "url": format!("{base}/api/v1/exam-reports/{}", report.id), "title": report.item_name}],
    })
}

fn referral_code(direction: Direction) -> Value {
    json!({"text": format!("转诊（{}）", direction.label_zh())})
}

/// The referral as the order: who asks which institution to take the patient, and why.
pub fn service_request(detail: &ReferralDetail) -> Value {
    let r = &detail.referral;
    use ReferralState::*;
    let status = match r.state {
        Draft => "draft",
        Submitted | Accepted | Arrived | Received | FollowUpPlanned => "active",
        Completed | Closed => "completed",
        Rejected | Cancelled => "revoked",
    };
    let mut request = json!({
        "resourceType": "ServiceRequest",
        "id": r.id.to_string(),
        "status": status,
        "intent": "order",
        "priority": match r.urgency { Urgency::Routine => "routine", Urgency::Urgent => "urgent", Urgency::Emergency => "stat" },
        "code": referral_code(r.direction),
        "subject": reference("Patient", r.resident_id),
        "authoredOn": rfc3339_cst(r.created_at_ms),
        "requester": reference("Practitioner", r.created_by_staff_id),
        "performer": [reference("Organization", r.to_institution_id)],
        "reasonCode": [icd10(&r.diagnosis_icd10)],
        "note": [{"text": r.reason}],
    });
    if let Some(channel) = &r.green_channel {
        request["category"] = json!([{"text": format!("绿色通道：{channel}")}]);
    }
    if let Some(encounter) = detail.encounter_id {
        request["encounter"] = reference("Encounter", encounter);
    }
    if let Some(ecg) = r.ecg_id {
        request["supportingInfo"] = json!([reference("DiagnosticReport", format!("ecg-{ecg}"))]);
    }
    request
}

/// The referral as the work it sets moving, with its state machine's state.
pub fn task(detail: &ReferralDetail) -> Value {
    let r = &detail.referral;
    use ReferralState::*;
    let status = match r.state {
        Draft => "draft",
        Submitted => "requested",
        Accepted => "accepted",
        Rejected => "rejected",
        Arrived | Received | FollowUpPlanned => "in-progress",
        Completed | Closed => "completed",
        Cancelled => "cancelled",
    };
    json!({
        "resourceType": "Task",
        "id": r.id.to_string(),
        "basedOn": [reference("ServiceRequest", r.id)],
        "status": status,
        "businessStatus": {"text": r.state.label_zh()},
        "intent": "order",
        "priority": match r.urgency { Urgency::Routine => "routine", Urgency::Urgent => "urgent", Urgency::Emergency => "stat" },
        "code": referral_code(r.direction),
        "focus": reference("ServiceRequest", r.id),
        "for": reference("Patient", r.resident_id),
        "authoredOn": rfc3339_cst(r.created_at_ms),
        "lastModified": rfc3339_cst(r.updated_at_ms),
        "requester": reference("Organization", r.from_institution_id),
        "owner": reference("Organization", r.to_institution_id),
    })
}

pub fn operation_outcome(code: &str, diagnostics: &str, details: &str) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "details": {"text": details}, "diagnostics": diagnostics}],
    })
}

pub fn searchset(
    base: &str,
    entries: Vec<Value>,
    self_url: String,
    next_url: Option<String>,
    total: usize,
) -> Value {
    let mut links = vec![json!({"relation": "self", "url": self_url})];
    if let Some(next) = next_url {
        links.push(json!({"relation": "next", "url": next}));
    }
    let entries: Vec<Value> = entries
        .into_iter()
        .map(|resource| {
            let url = format!(
                "{base}/fhir/{}/{}",
                resource["resourceType"].as_str().unwrap_or_default(),
                resource["id"].as_str().unwrap_or_default()
            );
            json!({"fullUrl": url, "resource": resource, "search": {"mode": "match"}})
        })
        .collect();
    json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": entries,
    })
}

pub fn capability_statement(base: &str, now: Millis) -> Value {
    let common = [("_id", "token"), ("_lastUpdated", "date")];
    let resource = |kind: &str, params: &[(&str, &str)], everything: bool| {
        let mut entry = json!({
            "type": kind,
            "interaction": [{"code": "read"}, {"code": "vread"}, {"code": "search-type"}],
            "versioning": "versioned",
            "readHistory": false,
            "searchParam": params.iter().chain(common.iter()).map(|(name, kind)| json!({"name": name, "type": kind})).collect::<Vec<_>>(),
        });
        if everything {
            entry["operation"] = json!([{"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}]);
        }
        entry
    };
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": rfc3339_cst(now),
        "publisher": "yijia",
        "kind": "instance",
        "software": {"name": "yijia", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": "一家 医共体信息平台 FHIR R4 接口（只读；JSON）", "url": format!("{base}/fhir")},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "security": {"description": "Bearer token from POST /api/v1/auth/login; every read is access-checked and audited. Searches take _count (1–100), _offset, _summary=count, _elements, _sort=date|-date|_lastUpdated; Prefer: handling=strict refuses unknown parameters."},
            "resource": [
                resource("Patient", &[("identifier", "token"), ("name", "string")], true),
                resource("Organization", &[("identifier", "token")], false),
                resource("Practitioner", &[("organization", "reference")], false),
                resource("Encounter", &[("patient", "reference"), ("date", "date")], false),
                resource("Observation", &[("patient", "reference"), ("code", "token"), ("category", "token"), ("date", "date")], false),
                resource("DiagnosticReport", &[("patient", "reference"), ("date", "date")], false),
                resource("ServiceRequest", &[("patient", "reference"), ("date", "date")], false),
                resource("Task", &[("patient", "reference"), ("date", "date")], false),
                resource("ImagingStudy", &[("patient", "reference")], false),
            ],
        }],
    })
}

/// An imaging study (the DICOM study, its series and instances) with the DICOMweb endpoint
/// that serves it.
pub fn imaging_study(detail: &crate::imaging::study::StudyDetail, base: &str) -> Value {
    let study = &detail.study;
    let oid = |uid: &str| format!("urn:oid:{uid}");
    let dcm = |code: &str| json!({"system": "http://dicom.nema.org/resources/ontology/DCM", "code": code});
    let instances: usize = detail.series.iter().map(|s| s.instances.len()).sum();
    let mut modalities: Vec<&str> = detail.series.iter().map(|s| s.modality.as_str()).collect();
    modalities.sort_unstable();
    modalities.dedup();
    let date = &study.study_date;
    let mut resource = json!({
        "resourceType": "ImagingStudy",
        "id": study.id.to_string(),
        "identifier": [{"system": "urn:dicom:uid", "value": oid(&study.study_instance_uid)}],
        "status": "available",
        "modality": modalities.iter().filter(|m| !m.is_empty()).map(|m| dcm(m)).collect::<Vec<_>>(),
        "subject": reference("Patient", study.resident_id),
        "numberOfSeries": detail.series.len(),
        "numberOfInstances": instances,
        "description": study.study_description,
        "endpoint": [{"display": format!("{base}/dicomweb")}],
        "series": detail.series.iter().map(|series| json!({
            "uid": series.series_instance_uid,
            "modality": dcm(if series.modality.is_empty() { "OT" } else { &series.modality }),
            "description": series.description,
            "numberOfInstances": series.instances.len(),
            "instance": series.instances.iter().map(|i| json!({
                "uid": i.sop_instance_uid,
                "sopClass": {"system": "urn:ietf:rfc:3986", "code": oid(&i.sop_class_uid)},
                "number": i.instance_number,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    if date.len() == 8 {
        resource["started"] = json!(format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..]));
    }
    if !study.accession_number.is_empty() {
        resource["identifier"]
            .as_array_mut()
            .expect("an array")
            .push(json!({"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "ACSN"}]}, "value": study.accession_number}));
    }
    resource
}

/// The imaging centre's report of a study (its latest version), pointing at the study.
pub fn imaging_report(detail: &crate::imaging::study::StudyDetail, base: &str) -> Value {
    let study = &detail.study;
    let latest = detail.reports.last();
    let mut report = json!({
        "resourceType": "DiagnosticReport",
        "id": format!("imaging-{}", study.id),
        "status": match latest { None => "registered", Some(r) if r.version > 1 => "amended", Some(_) => "final" },
        "category": diagnostic_category("RAD", "Radiology"),
        "code": {"coding": [{"system": LOINC, "code": "18748-4", "display": "Diagnostic imaging study"}], "text": if study.study_description.is_empty() { "影像检查" } else { study.study_description.as_str() }},
        "subject": reference("Patient", study.resident_id),
        "effectiveDateTime": rfc3339_cst(study.received_at_ms),
        "performer": [reference("Organization", study.site_institution_id)],
        "imagingStudy": [reference("ImagingStudy", study.id)],
        "presentedForm": [{"contentType": "text/html", "url": format!("{base}/imaging/studies/{}", study.id), "title": "影像诊断报告"}],
    });
    if let Some(latest) = latest {
        report["issued"] = json!(rfc3339_cst(latest.signed_at_ms));
        report["resultsInterpreter"] = json!([{"display": latest.reader_name}]);
        report["conclusion"] = json!(format!(
            "所见：{}\n诊断：{}",
            latest.findings, latest.conclusion
        ));
    }
    report
}

#[cfg(test)]
mod tests {
    use super::is_ucum;

    #[test]
    fn units_are_ucum_only_when_they_are() {
        for unit in [
            "mmol/L",
            "10*9/L",
            "mg/dL",
            "%",
            "U/L",
            "ng/mL",
            "mL/min/{1.73_m2}",
            "g/L",
            "fL",
            "mm[Hg]",
            "{Ratio}",
            "10^12/L",
            "/min",
            "mg/dl",
        ] {
            assert!(is_ucum(unit), "{unit}");
        }
        for unit in [
            "k/uL",
            "second(s)",
            "µmol/L",
            "enzyme units",
            "mIU/ml",
            "次/分",
            "",
        ] {
            assert!(!is_ucum(unit), "{unit}");
        }
    }
}
