//! The chronic registry's types.

use serde::{Deserialize, Serialize};

pub use super::rules::Program;

/// How the diagnosis was made when the resident was enrolled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Raised on three different days at screening.
    Screened,
    ConfirmedAtHospital,
    KnownBefore,
}

text_enum!(Basis { Screened => "screened", ConfirmedAtHospital => "confirmed_at_hospital", KnownBefore => "known_before" });

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Managed,
    /// 暂时失访.
    Lost,
    /// 终止管理: died, moved out, diagnosis revoked.
    Ended,
}

text_enum!(Status { Managed => "managed", Lost => "lost", Ended => "ended" });

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Enrolment {
    pub id: i64,
    pub community_id: i64,
    pub resident_id: i64,
    #[sqlx(try_from = "String")]
    pub program: Program,
    /// `YYYY-MM-DD`.
    pub enrolled_on: String,
    #[sqlx(try_from = "String")]
    pub basis: Basis,
    pub institution_id: i64,
    pub doctor_staff_id: i64,
    pub team_id: Option<i64>,
    #[sqlx(try_from = "String")]
    pub status: Status,
    pub status_on: Option<String>,
    pub status_reason: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEnrolment {
    pub resident_id: i64,
    pub program: Program,
    /// `YYYY-MM-DD`, not in the future.
    pub enrolled_on: String,
    pub basis: Basis,
    /// The managing institution: a village clinic or a township (community) centre.
    pub institution_id: i64,
    /// The responsible doctor, of the managing institution.
    pub doctor_staff_id: i64,
    pub team_id: Option<i64>,
}

/// A new status, from the date it holds, with the reason (required to leave `managed`).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    pub status: Status,
    /// `YYYY-MM-DD`; today when absent.
    pub status_on: Option<String>,
    #[serde(default)]
    pub reason: String,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct EnrolmentQuery {
    /// The managing institution (default: the caller's own).
    pub institution: Option<i64>,
    pub program: Option<Program>,
    pub status: Option<Status>,
}
