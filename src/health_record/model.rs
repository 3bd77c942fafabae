//! Types of the health record: encounters with diagnoses and costs, lab reports with results,
//! examination reports, and the items of the resident's timeline.

use serde::{Deserialize, Serialize};

use crate::institution::model::Flag;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EncounterKind {
    Outpatient,
    Inpatient,
    Emergency,
}
text_enum!(EncounterKind { Outpatient => "outpatient", Inpatient => "inpatient", Emergency => "emergency" });

impl EncounterKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            EncounterKind::Outpatient => "门诊",
            EncounterKind::Inpatient => "住院",
            EncounterKind::Emergency => "急诊",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExamKind {
    Imaging,
    Ultrasound,
    Pathology,
}
text_enum!(ExamKind { Imaging => "imaging", Ultrasound => "ultrasound", Pathology => "pathology" });

impl ExamKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            ExamKind::Imaging => "影像",
            ExamKind::Ultrasound => "超声",
            ExamKind::Pathology => "病理",
        }
    }
}

/// Costs of an encounter in fen (1/100 yuan), by category.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    sqlx::FromRow,
    utoipa::ToSchema,
)]
#[serde(default)]
pub struct Costs {
    #[sqlx(rename = "cost_drugs_fen")]
    pub drugs_fen: i64,
    #[sqlx(rename = "cost_examinations_fen")]
    pub examinations_fen: i64,
    #[sqlx(rename = "cost_tests_fen")]
    pub tests_fen: i64,
    #[sqlx(rename = "cost_treatment_fen")]
    pub treatment_fen: i64,
    #[sqlx(rename = "cost_beds_fen")]
    pub beds_fen: i64,
    #[sqlx(rename = "cost_materials_fen")]
    pub materials_fen: i64,
}

impl Costs {
    pub fn all(&self) -> [i64; 6] {
        [
            self.drugs_fen,
            self.examinations_fen,
            self.tests_fen,
            self.treatment_fen,
            self.beds_fen,
            self.materials_fen,
        ]
    }

    pub fn total_fen(&self) -> i64 {
        self.all().iter().sum()
    }
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Encounter {
    pub id: i64,
    pub resident_id: i64,
    pub institution_id: i64,
    pub department_id: Option<i64>,
    pub doctor_staff_id: Option<i64>,
    #[sqlx(try_from = "String")]
    pub kind: EncounterKind,
    pub started_at_ms: i64,
    pub ended_at_ms: Option<i64>,
    /// The referral this encounter was opened from (no second registration).
    pub referral_id: Option<i64>,
    #[sqlx(flatten)]
    pub costs: Costs,
    /// The main procedure of an inpatient stay (ICD-9-CM-3), empty when none.
    pub main_procedure: String,
    pub created_at_ms: i64,
    /// Principal diagnosis first.
    #[sqlx(skip)]
    pub diagnoses: Vec<Diagnosis>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Diagnosis {
    pub icd10: String,
    /// The WHO title of the code's stem, when known.
    pub title: Option<&'static str>,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewEncounter {
    pub resident_id: i64,
    pub kind: EncounterKind,
    pub department_id: Option<i64>,
    /// The visit or admission: RFC 3339 or milliseconds since the epoch.
    pub started_at: String,
    /// The discharge, for a finished inpatient stay.
    pub ended_at: Option<String>,
    /// ICD-10 codes, the principal diagnosis first.
    pub diagnoses: Vec<String>,
    #[serde(default)]
    pub costs: Costs,
}

/// Closing an encounter: the discharge time, and the final diagnoses and costs.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct Discharge {
    pub ended_at: String,
    /// Replaces the diagnoses when given.
    pub diagnoses: Option<Vec<String>>,
    pub costs: Costs,
    /// The main procedure (ICD-9-CM-3, e.g. `00.66` for PCI), for DIP.
    #[serde(default)]
    pub main_procedure: Option<String>,
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct LabReport {
    pub id: i64,
    pub resident_id: i64,
    pub lab_institution_id: i64,
    pub ordering_institution_id: i64,
    pub order_code: String,
    pub order_name: String,
    pub observed_at_ms: i64,
    pub received_at_ms: i64,
    /// Holds a critical value the ordering institution must acknowledge.
    #[sqlx(try_from = "i64")]
    pub critical: Flag,
    pub acknowledged_by_staff_id: Option<i64>,
    pub acknowledged_at_ms: Option<i64>,
    pub escalated_at_ms: Option<i64>,
    /// How precisely the lab gave the observation time: `year` … `day` … `second`, `fraction`.
    pub observed_precision: String,
    /// The ordering facility as the lab named it (ORC-21), also when it is not a member.
    pub ordering_facility_given: String,
    /// OBR-25 (HL7 table 0123): `F` final, `P` preliminary, `C` corrected, `X` cancelled …
    pub status: String,
    /// The lab's comments on the order (NTE).
    pub comment: String,
    /// The specimen (SPM): its ID (barcode), type and collection time.
    pub specimen_id: String,
    pub specimen_type: String,
    pub specimen_collected_at_ms: Option<i64>,
    #[sqlx(skip)]
    pub results: Vec<LabResult>,
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct LabResult {
    /// 1-based, in the order the lab sent them.
    pub position: i64,
    pub code: String,
    pub name: String,
    pub value: String,
    pub unit: String,
    pub reference_range: String,
    /// HL7 table 0078: N, L, H, LL, HH, A, AA, or empty.
    pub abnormal_flag: String,
    #[sqlx(try_from = "i64")]
    pub critical: Flag,
    /// OBX-2: NM, ST, TX, FT, SN, CE, CWE, ED …
    pub value_type: String,
    /// The LOINC code and name the lab sent beside its own code; empty when it sent none.
    pub loinc_code: String,
    pub loinc_name: String,
    /// OBX-11 (HL7 table 0085): `F` final, `P` preliminary, `C` a correction, `X` cannot be done.
    pub status: String,
    /// The lab's comments on this result (NTE).
    pub comment: String,
    /// The media type of an embedded document (ED), fetched from
    /// `/api/v1/lab-reports/{id}/results/{position}/attachment`; empty when there is none.
    pub attachment_type: String,
    /// A later result corrects this one (OBX-11 `C`); it is kept as history.
    #[sqlx(try_from = "i64")]
    pub superseded: Flag,
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ExamReport {
    pub id: i64,
    pub resident_id: i64,
    pub institution_id: i64,
    #[sqlx(try_from = "String")]
    pub kind: ExamKind,
    pub item_code: String,
    pub item_name: String,
    pub findings: String,
    pub conclusion: String,
    pub performed_at_ms: i64,
    pub reader_staff_id: i64,
    pub reported_at_ms: i64,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewExamReport {
    pub resident_id: i64,
    pub kind: ExamKind,
    pub item_code: String,
    pub item_name: String,
    #[serde(default)]
    pub findings: String,
    pub conclusion: String,
    /// When the examination was done: RFC 3339 or milliseconds since the epoch.
    pub performed_at: String,
}

/// What the timeline can show; `kind=` filters by these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Encounter,
    LabReport,
    ExamReport,
    Ecg,
    /// A study sent to the shared imaging centre.
    ImagingStudy,
    Referral,
    /// A chronic disease follow-up (慢病随访).
    FollowUp,
}
text_enum!(ItemKind { Encounter => "encounter", LabReport => "lab_report", ExamReport => "exam_report", Ecg => "ecg", ImagingStudy => "imaging_study", Referral => "referral", FollowUp => "follow_up" });

impl ItemKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            ItemKind::Encounter => "就诊",
            ItemKind::LabReport => "检验",
            ItemKind::ExamReport => "检查",
            ItemKind::Ecg => "心电图",
            ItemKind::ImagingStudy => "影像检查",
            ItemKind::Referral => "转诊",
            ItemKind::FollowUp => "慢病随访",
        }
    }
}

/// One entry of a resident's timeline, across every member institution.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TimelineItem {
    #[sqlx(try_from = "String")]
    pub kind: ItemKind,
    /// The id of the encounter, report, ECG or referral.
    pub id: i64,
    pub at_ms: i64,
    pub institution_id: i64,
    pub institution_name: String,
    /// A short line: the diagnoses, the test, the conclusion, the referral's direction.
    pub summary: String,
    #[sqlx(try_from = "i64")]
    pub critical: Flag,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct TimelineQuery {
    /// Only items of these kinds, comma-separated (`encounter,lab_report`).
    pub kind: Option<String>,
    /// From this time (RFC 3339 or milliseconds), inclusive.
    pub from: Option<String>,
    /// Until this time, exclusive.
    pub to: Option<String>,
}
