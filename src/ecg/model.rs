//! The ECG network's types.

use serde::Serialize;

use crate::clock::Millis;

pub use crate::reading::{NewReport, Priority, State};

/// Turnaround targets of the ECG centre.
pub const STAT_TARGET_MS: Millis = 10 * 60 * 1000;
pub const ROUTINE_TARGET_MS: Millis = 30 * 60 * 1000;

/// An ECG as stored, without its file and samples.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Ecg {
    pub id: i64,
    pub community_id: i64,
    pub resident_id: i64,
    pub site_institution_id: i64,
    pub uploaded_by_staff_id: i64,
    pub recorded_at_ms: i64,
    pub received_at_ms: i64,
    pub clinical_note: String,
    pub format: String,
    pub original_name: String,
    #[sqlx(try_from = "String")]
    pub priority: Priority,
    #[sqlx(try_from = "i64")]
    pub auto_critical: crate::institution::model::Flag,
    #[sqlx(try_from = "String")]
    pub state: State,
    pub claimed_by_staff_id: Option<i64>,
    pub claimed_at_ms: Option<i64>,
    pub reported_at_ms: Option<i64>,
    pub acknowledged_by_staff_id: Option<i64>,
    pub acknowledged_at_ms: Option<i64>,
    /// The latest signed report is a critical value, to be acknowledged by the site.
    #[sqlx(try_from = "i64")]
    pub report_critical: crate::institution::model::Flag,
    /// When an unacknowledged critical report was escalated.
    pub escalated_at_ms: Option<i64>,
}

impl Ecg {
    /// When the report is due under the turnaround clock.
    pub fn due_at_ms(&self) -> Millis {
        super::CENTRE.due_at_ms(self.priority, self.received_at_ms)
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub id: i64,
    pub ecg_id: i64,
    pub version: i64,
    pub findings: String,
    pub conclusion: String,
    pub critical: crate::institution::model::Flag,
    pub reader_staff_id: i64,
    pub reader_name: String,
    pub signed_at_ms: i64,
}

impl From<crate::reading::Report> for Report {
    fn from(report: crate::reading::Report) -> Report {
        Report {
            id: report.id,
            ecg_id: report.case_id,
            version: report.version,
            findings: report.findings,
            conclusion: report.conclusion,
            critical: report.critical,
            reader_staff_id: report.reader_staff_id,
            reader_name: report.reader_name,
            signed_at_ms: report.signed_at_ms,
        }
    }
}

/// An ECG with its automatic analysis and its signed reports, newest last.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EcgDetail {
    #[serde(flatten)]
    pub ecg: Ecg,
    pub due_at_ms: i64,
    pub overdue: bool,
    /// The automatic analysis (yijia-ecg's `Analysis`).
    #[schema(value_type = Object)]
    pub analysis: serde_json::Value,
    pub reports: Vec<Report>,
}

/// One line of the reading centre's worklist.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct WorklistItem {
    #[serde(flatten)]
    pub ecg: Ecg,
    pub resident_name: String,
    pub site_name: String,
    pub due_at_ms: i64,
    pub overdue: bool,
    pub waiting_ms: i64,
    pub automatic_findings: Vec<String>,
}

/// Who the ECG belongs to: a resident id, or an ID number looked up in the community.
#[derive(Clone, Debug)]
pub enum ResidentRef {
    Id(i64),
    IdNumber(String),
}

/// An upload as the HTTP layer hands it over.
pub struct Upload {
    pub files: Vec<(String, Vec<u8>)>,
    pub resident: ResidentRef,
    /// When the recording was made; from the file when not given and the file states it.
    pub recorded_at_ms: Option<Millis>,
    pub clinical_note: String,
    pub idempotency_key: Option<String>,
}
