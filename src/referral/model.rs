//! Referral types and the state machine: which step is legal from which state, in which
//! direction, and which side (sender or receiver) may take it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// 上转: village → township → county.
    Up,
    /// 下转: county → township → village.
    Down,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReferralState {
    Draft,
    Submitted,
    Accepted,
    Rejected,
    Arrived,
    Completed,
    Received,
    FollowUpPlanned,
    Closed,
    Cancelled,
}

impl ReferralState {
    pub fn label_zh(self) -> &'static str {
        match self {
            ReferralState::Draft => "草稿",
            ReferralState::Submitted => "待接收",
            ReferralState::Accepted => "已接收",
            ReferralState::Rejected => "已拒绝",
            ReferralState::Arrived => "已到达",
            ReferralState::Completed => "已完成",
            ReferralState::Received => "已接诊",
            ReferralState::FollowUpPlanned => "已制定随访计划",
            ReferralState::Closed => "已闭环",
            ReferralState::Cancelled => "已取消",
        }
    }
}

impl Direction {
    pub fn label_zh(self) -> &'static str {
        match self {
            Direction::Up => "上转",
            Direction::Down => "下转",
        }
    }
}

impl Urgency {
    pub const ALL: [Urgency; 3] = [Urgency::Routine, Urgency::Urgent, Urgency::Emergency];

    pub fn label_zh(self) -> &'static str {
        match self {
            Urgency::Routine => "普通",
            Urgency::Urgent => "加急",
            Urgency::Emergency => "紧急",
        }
    }
}

impl GreenChannel {
    pub const ALL: [GreenChannel; 5] = [
        GreenChannel::ChestPain,
        GreenChannel::Stroke,
        GreenChannel::Trauma,
        GreenChannel::Maternal,
        GreenChannel::Neonatal,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            GreenChannel::ChestPain => "胸痛",
            GreenChannel::Stroke => "卒中",
            GreenChannel::Trauma => "创伤",
            GreenChannel::Maternal => "危重孕产妇",
            GreenChannel::Neonatal => "危重新生儿",
        }
    }
}

/// Down-referred patients are reimbursed this many percentage points more (Hunan, in the seeds).
pub const DOWN_REFERRAL_RATE_BONUS_PP: i64 = 5;

/// Which side of a referral takes a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    Sender,
    Receiver,
}

text_enum!(Direction { Up => "up", Down => "down" });
text_enum!(ReferralState {
    Draft => "draft", Submitted => "submitted", Accepted => "accepted", Rejected => "rejected",
    Arrived => "arrived", Completed => "completed", Received => "received",
    FollowUpPlanned => "follow_up_planned", Closed => "closed", Cancelled => "cancelled",
});
text_enum!(Urgency { Routine => "routine", Urgent => "urgent", Emergency => "emergency" });
text_enum!(GreenChannel { ChestPain => "chest_pain", Stroke => "stroke", Trauma => "trauma", Maternal => "maternal", Neonatal => "neonatal" });

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Routine,
    Urgent,
    Emergency,
}

/// The five centres' time-critical cases (胸痛/卒中/创伤/危重孕产妇/危重新生儿).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GreenChannel {
    ChestPain,
    Stroke,
    Trauma,
    Maternal,
    Neonatal,
}

/// Who may move a referral of `direction` from `from` to `to`; `None` when the step is illegal.
pub fn step(direction: Direction, from: ReferralState, to: ReferralState) -> Option<Party> {
    use Direction::*;
    use ReferralState::*;
    match (direction, from, to) {
        (_, Draft, Submitted) => Some(Party::Sender),
        (_, Draft | Submitted | Accepted, Cancelled) => Some(Party::Sender),
        (_, Submitted, Accepted | Rejected) => Some(Party::Receiver),
        (Up, Accepted, Arrived) | (Up, Arrived, Completed) => Some(Party::Receiver),
        (Down, Accepted, Received)
        | (Down, Received, FollowUpPlanned)
        | (Down, FollowUpPlanned, Closed) => Some(Party::Receiver),
        _ => None,
    }
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Referral {
    pub id: i64,
    pub community_id: i64,
    pub resident_id: i64,
    #[sqlx(try_from = "String")]
    pub direction: Direction,
    #[sqlx(try_from = "String")]
    pub state: ReferralState,
    pub from_institution_id: i64,
    pub to_institution_id: i64,
    pub to_department_id: Option<i64>,
    pub reason: String,
    pub diagnosis_icd10: String,
    #[sqlx(try_from = "String")]
    pub urgency: Urgency,
    pub green_channel: Option<String>,
    pub catalogue_exception_reason: Option<String>,
    pub ecg_id: Option<i64>,
    /// An up-referral episode pays one deductible (起付线) only.
    #[sqlx(try_from = "i64")]
    pub single_deductible: crate::institution::model::Flag,
    /// Extra reimbursement, in percentage points, for a down-referred patient.
    pub rate_bonus_pp: i64,
    pub created_by_staff_id: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Step {
    pub from_state: Option<String>,
    pub to_state: String,
    /// Absent when the step was taken by rule (a green channel's automatic acceptance).
    pub by_staff_id: Option<i64>,
    pub at_ms: i64,
    pub note: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ReferralDetail {
    #[serde(flatten)]
    pub referral: Referral,
    pub steps: Vec<Step>,
    /// The receiving encounter an accepted up-referral opened.
    pub encounter_id: Option<i64>,
    /// Lab reports sent with the referral.
    pub lab_report_ids: Vec<i64>,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewReferral {
    pub resident_id: i64,
    pub direction: Direction,
    pub to_institution_id: i64,
    pub to_department_id: Option<i64>,
    pub reason: String,
    pub diagnosis_icd10: String,
    pub urgency: Urgency,
    pub green_channel: Option<GreenChannel>,
    pub ecg_id: Option<i64>,
    /// The resident's lab reports to send with it (at most 10).
    #[serde(default)]
    pub lab_report_ids: Vec<i64>,
    /// Required when the tiered-care catalogue places the condition at the sender's level.
    #[serde(default)]
    pub catalogue_exception_reason: Option<String>,
    /// Submit at once instead of keeping a draft.
    #[serde(default)]
    pub submit: bool,
}

/// A post-acute patient whose condition the tiered-care catalogue places below the treating
/// institution's level: a candidate for down-referral.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DownSuggestion {
    pub encounter_id: i64,
    pub resident_id: i64,
    pub diagnosis_icd10: String,
    /// The level the catalogue places the condition at: 1 village clinic, 2 township centre.
    pub catalogue_level: i64,
    /// Where the catalogue says the patient belongs: their township centre or village clinic.
    pub suggested_institution_id: i64,
    pub started_at_ms: i64,
    pub ended_at_ms: Option<i64>,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct Transition {
    pub to: ReferralState,
    #[serde(default)]
    pub note: String,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ReferralQuery {
    /// Referrals sent from or received at this institution (default: the caller's own).
    pub institution: Option<i64>,
    pub direction: Option<Direction>,
    pub state: Option<ReferralState>,
    /// The order of the list (default: green channel first, then newest).
    pub sort: Option<ReferralSort>,
}

/// How a list of referrals is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReferralSort {
    /// Green channel first, then the newest written.
    #[default]
    Urgent,
    /// The newest written first.
    Created,
    /// The most recently moved on first.
    Updated,
    /// The oldest written first.
    Oldest,
}

text_enum!(ReferralSort { Urgent => "urgent", Created => "created", Updated => "updated", Oldest => "oldest" });

impl ReferralSort {
    pub const ALL: [ReferralSort; 4] = [
        ReferralSort::Urgent,
        ReferralSort::Created,
        ReferralSort::Updated,
        ReferralSort::Oldest,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            ReferralSort::Urgent => "绿色通道优先",
            ReferralSort::Created => "最新发起",
            ReferralSort::Updated => "最近更新",
            ReferralSort::Oldest => "最早发起",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_and_down_referrals_follow_their_own_paths() {
        use ReferralState::*;
        assert_eq!(
            step(Direction::Up, Accepted, Arrived),
            Some(Party::Receiver)
        );
        assert_eq!(step(Direction::Down, Accepted, Arrived), None);
        assert_eq!(
            step(Direction::Down, FollowUpPlanned, Closed),
            Some(Party::Receiver)
        );
        assert_eq!(
            step(Direction::Up, Arrived, Cancelled),
            None,
            "no cancelling after arrival"
        );
        assert_eq!(
            step(Direction::Up, Submitted, Cancelled),
            Some(Party::Sender)
        );
        assert_eq!(step(Direction::Up, Completed, Accepted), None);
    }
}
