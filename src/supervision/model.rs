//! An alert's states through rectification (整改) and who may move it: the group's office
//! (insurance officers and supervisors) triages, assigns, reviews appeals and verifies; the
//! institution's own staff appeal, rectify and submit.

use serde::{Deserialize, Serialize};

use super::rules::{Finding, RuleCode};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    New,
    Dismissed,
    Confirmed,
    Assigned,
    Appealed,
    Withdrawn,
    Rectifying,
    Submitted,
    Verified,
    Reopened,
}

text_enum!(AlertState { New => "new", Dismissed => "dismissed", Confirmed => "confirmed", Assigned => "assigned", Appealed => "appealed", Withdrawn => "withdrawn", Rectifying => "rectifying", Submitted => "submitted", Verified => "verified", Reopened => "reopened" });

impl AlertState {
    pub const ALL: [AlertState; 10] = [
        AlertState::New,
        AlertState::Dismissed,
        AlertState::Confirmed,
        AlertState::Assigned,
        AlertState::Appealed,
        AlertState::Withdrawn,
        AlertState::Rectifying,
        AlertState::Submitted,
        AlertState::Verified,
        AlertState::Reopened,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            AlertState::New => "新预警",
            AlertState::Dismissed => "初审排除",
            AlertState::Confirmed => "初审确认",
            AlertState::Assigned => "已约谈，待整改",
            AlertState::Appealed => "申诉中",
            AlertState::Withdrawn => "复审撤销",
            AlertState::Rectifying => "整改中",
            AlertState::Submitted => "整改已提交",
            AlertState::Verified => "整改已核实",
            AlertState::Reopened => "重新整改",
        }
    }

    /// Open with a time limit: past the due date it is overdue.
    pub fn has_time_limit(self) -> bool {
        matches!(
            self,
            AlertState::Assigned
                | AlertState::Appealed
                | AlertState::Rectifying
                | AlertState::Reopened
        )
    }
}

/// Who takes a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    /// The group's insurance and quality office.
    Office,
    /// The staff of the institution the alert concerns.
    Institution,
}

/// Who may move an alert from `from` to `to`; `None` when the step is illegal.
pub fn step(from: AlertState, to: AlertState) -> Option<Party> {
    use AlertState::*;
    match (from, to) {
        (New, Dismissed | Confirmed) => Some(Party::Office),
        (Confirmed, Assigned) => Some(Party::Office),
        (Assigned, Appealed | Rectifying) => Some(Party::Institution),
        (Appealed, Assigned | Withdrawn) => Some(Party::Office),
        (Rectifying | Reopened, Submitted) => Some(Party::Institution),
        (Submitted, Verified | Reopened) => Some(Party::Office),
        _ => None,
    }
}

/// A step asked for, with what the step needs: a reason (dismissing, appealing, withdrawing,
/// reopening), a due date and the interview record (assigning), the root cause, measures and
/// refund (submitting).
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    pub to: Option<AlertState>,
    #[serde(default)]
    pub note: String,
    /// `YYYY-MM-DD`, when assigning.
    pub due_on: Option<String>,
    /// When submitting: the refund or adjustment, in fen.
    pub refund_fen: Option<i64>,
}

/// One encounter of an alert's evidence, without who the resident is.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Evidence {
    pub encounter_id: i64,
    pub institution_id: i64,
    pub kind: String,
    pub started_at_ms: i64,
    pub ended_at_ms: Option<i64>,
    pub principal_icd10: Option<String>,
    pub total_fen: i64,
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Step {
    #[sqlx(try_from = "String")]
    pub from_state: AlertState,
    #[sqlx(try_from = "String")]
    pub to_state: AlertState,
    pub note: String,
    pub due_on: Option<String>,
    pub refund_fen: Option<i64>,
    pub by_staff_id: i64,
    pub by_name: String,
    pub at_ms: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Alert {
    pub id: i64,
    pub rule_code: RuleCode,
    pub rule_name: String,
    pub rule_version: i64,
    pub finding: Finding,
    pub institution_id: i64,
    pub institution_name: String,
    /// `YYYY-MM` of the last evidence encounter, or the indicator's month.
    pub period: String,
    pub encounter_ids: Vec<i64>,
    /// An institution indicator's value beside its peers' (none for an encounter rule).
    pub comparison: Option<super::rules::Comparison>,
    pub amount_fen: i64,
    pub detail: String,
    pub state: AlertState,
    pub due_on: Option<String>,
    /// Past its due date in a state with a time limit.
    pub overdue: bool,
    pub refund_fen: Option<i64>,
    pub raised_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AlertDetail {
    #[serde(flatten)]
    pub alert: Alert,
    pub evidence: Vec<Evidence>,
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct AlertQuery {
    pub institution: Option<i64>,
    pub rule: Option<String>,
    pub state: Option<String>,
    /// `YYYY-MM`.
    pub month: Option<String>,
}

/// A run over a period: `from` and `to` dates (`YYYY-MM-DD`, `to` included).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRun {
    pub from: String,
    pub to: String,
}

#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct RunResult {
    pub from: String,
    pub to: String,
    pub rule_version: i64,
    /// Residents whose encounters were checked.
    pub residents: usize,
    pub hits: usize,
    /// New alerts; the other hits had an alert already.
    pub raised: usize,
}

/// Alerts of one month, rule, institution and state.
#[derive(Clone, Debug)]
pub struct Count {
    pub period: String,
    pub rule: RuleCode,
    pub institution_id: i64,
    pub state: AlertState,
    pub alerts: i64,
}

impl AlertState {
    /// Confirmed as a violation (past triage, not dismissed nor withdrawn): the denominator of
    /// the rectification rate.
    pub fn confirmed(self) -> bool {
        !matches!(
            self,
            AlertState::New | AlertState::Dismissed | AlertState::Withdrawn
        )
    }

    /// A step to this state says why (dismissing, appealing, withdrawing, reopening) or, when
    /// submitting, the root cause and measures.
    pub fn requires_note(self) -> bool {
        matches!(
            self,
            AlertState::Dismissed
                | AlertState::Appealed
                | AlertState::Withdrawn
                | AlertState::Reopened
                | AlertState::Submitted
        )
    }

    /// Where the institution must act.
    pub fn with_institution(self) -> bool {
        matches!(
            self,
            AlertState::Assigned | AlertState::Rectifying | AlertState::Reopened
        )
    }

    /// Where the office must act.
    pub fn with_office(self) -> bool {
        matches!(
            self,
            AlertState::New | AlertState::Confirmed | AlertState::Appealed | AlertState::Submitted
        )
    }
}
