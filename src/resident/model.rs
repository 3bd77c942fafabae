//! The master patient index's types.

use serde::{Deserialize, Serialize};

pub use super::id_number::Sex;

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Resident {
    pub id: i64,
    pub community_id: i64,
    pub id_number: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub sex: Sex,
    /// `YYYY-MM-DD`, read from the ID number.
    pub birth_date: String,
    pub phone: String,
    pub address: String,
    pub village_clinic_id: i64,
    pub township_id: i64,
    pub grid_id: Option<i64>,
    /// Set when this record was merged into another; the other is the one to use.
    pub merged_into_id: Option<i64>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Resident {
    /// Age in whole years on `today`.
    pub fn age_on(&self, today: time::Date) -> i32 {
        crate::clock::age_on(&self.birth_date, today)
    }
}

/// A resident as a clinic registers them.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewResident {
    pub id_number: String,
    pub name: String,
    pub phone: String,
    pub village_clinic_id: i64,
    #[serde(default)]
    pub address: String,
    pub grid_id: Option<i64>,
}

/// New contact details; a field left out stays as it is.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactUpdate {
    pub phone: Option<String>,
    pub address: Option<String>,
}

/// Search by exact ID number or by name (prefix); one of the two is required.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ResidentQuery {
    pub id_number: Option<String>,
    /// The start of the name.
    pub name: Option<String>,
    /// The start of the name's full pinyin or its initials: `wl` and `wanglan` find 王兰.
    pub pinyin: Option<String>,
    /// The whole phone number.
    pub phone: Option<String>,
    /// One search box: an ID number, a phone number, pinyin or the start of a name, told apart
    /// by its form.
    pub q: Option<String>,
    pub village_clinic_id: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateReason {
    /// Same name and birth date in the same township.
    SameNameAndBirthDate,
    SamePhone,
}

/// Two residents that may be one person, for review and perhaps a merge.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ProbableDuplicate {
    pub reason: DuplicateReason,
    pub first: Resident,
    pub second: Resident,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct MergeRequest {
    /// The record that is kept.
    pub survivor_id: i64,
    /// The record merged into it; it stays, marked as merged, with all its records.
    pub merged_id: i64,
}
