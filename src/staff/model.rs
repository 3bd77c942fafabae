//! Staff and their accounts.

use serde::{Deserialize, Serialize};

use crate::access::Role;

/// Professional title level (职称).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TitleLevel {
    /// 初级
    Junior,
    /// 中级
    Intermediate,
    /// 副高
    AssociateSenior,
    /// 正高
    Senior,
}

impl TitleLevel {
    pub const ALL: [TitleLevel; 4] = [
        TitleLevel::Junior,
        TitleLevel::Intermediate,
        TitleLevel::AssociateSenior,
        TitleLevel::Senior,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TitleLevel::Junior => "junior",
            TitleLevel::Intermediate => "intermediate",
            TitleLevel::AssociateSenior => "associate_senior",
            TitleLevel::Senior => "senior",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            TitleLevel::Junior => "初级",
            TitleLevel::Intermediate => "中级",
            TitleLevel::AssociateSenior => "副高",
            TitleLevel::Senior => "正高",
        }
    }

    pub fn parse(text: &str) -> Option<TitleLevel> {
        TitleLevel::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// A member of staff as the registry shows them (never the password hash).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Staff {
    pub id: i64,
    pub community_id: i64,
    pub institution_id: Option<i64>,
    pub department_id: Option<i64>,
    pub care_team_id: Option<i64>,
    pub username: String,
    pub name: String,
    pub title_level: Option<TitleLevel>,
    pub roles: Vec<Role>,
    pub active: bool,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewStaff {
    pub username: String,
    pub password: String,
    pub name: String,
    pub institution_id: Option<i64>,
    pub department_id: Option<i64>,
    pub title_level: Option<TitleLevel>,
    pub roles: Vec<Role>,
    /// For a resident's own portal account.
    pub resident_id: Option<i64>,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LoginToken {
    pub token: String,
    pub expires_at_ms: i64,
}
