//! The family doctor service's types: teams and their members, service packages, contracts.

use serde::{Deserialize, Serialize};

/// A member's part in the team (the "1+1+N").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    /// The team's general practitioner or township doctor.
    GeneralPractitioner,
    VillageDoctor,
    Nurse,
    PublicHealth,
    /// A county specialist.
    Specialist,
    Pharmacist,
}

text_enum!(MemberRole {
    GeneralPractitioner => "general_practitioner",
    VillageDoctor => "village_doctor",
    Nurse => "nurse",
    PublicHealth => "public_health",
    Specialist => "specialist",
    Pharmacist => "pharmacist",
});

impl MemberRole {
    pub const ALL: [MemberRole; 6] = [
        MemberRole::GeneralPractitioner,
        MemberRole::VillageDoctor,
        MemberRole::Nurse,
        MemberRole::PublicHealth,
        MemberRole::Specialist,
        MemberRole::Pharmacist,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            MemberRole::GeneralPractitioner => "全科医生",
            MemberRole::VillageDoctor => "乡村医生",
            MemberRole::Nurse => "护士",
            MemberRole::PublicHealth => "公卫人员",
            MemberRole::Specialist => "县级专科医生",
            MemberRole::Pharmacist => "药师",
        }
    }
}

/// The groups the national service gives priority to (重点人群).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyGroup {
    /// Aged 65 and over.
    Elderly,
    /// Children aged 0–6.
    Children,
    Hypertension,
    Diabetes,
    Pregnant,
    Disabled,
    SevereMentalIllness,
    Tuberculosis,
    Poverty,
}

text_enum!(KeyGroup {
    Elderly => "elderly",
    Children => "children",
    Hypertension => "hypertension",
    Diabetes => "diabetes",
    Pregnant => "pregnant",
    Disabled => "disabled",
    SevereMentalIllness => "severe_mental_illness",
    Tuberculosis => "tuberculosis",
    Poverty => "poverty",
});

impl KeyGroup {
    pub const ALL: [KeyGroup; 9] = [
        KeyGroup::Elderly,
        KeyGroup::Children,
        KeyGroup::Hypertension,
        KeyGroup::Diabetes,
        KeyGroup::Pregnant,
        KeyGroup::Disabled,
        KeyGroup::SevereMentalIllness,
        KeyGroup::Tuberculosis,
        KeyGroup::Poverty,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            KeyGroup::Elderly => "65岁及以上老年人",
            KeyGroup::Children => "0-6岁儿童",
            KeyGroup::Hypertension => "高血压患者",
            KeyGroup::Diabetes => "2型糖尿病患者",
            KeyGroup::Pregnant => "孕产妇",
            KeyGroup::Disabled => "残疾人",
            KeyGroup::SevereMentalIllness => "严重精神障碍患者",
            KeyGroup::Tuberculosis => "肺结核患者",
            KeyGroup::Poverty => "脱贫人口",
        }
    }
}

/// The records that deliver a service, so delivery is counted, not typed twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Source {
    /// A visit (outpatient encounter) at a primary-care institution.
    #[serde(rename = "encounter")]
    Encounter,
    /// An ECG recorded.
    #[serde(rename = "ecg")]
    Ecg,
    #[serde(rename = "chronic_follow_up:hypertension")]
    HypertensionFollowUp,
    #[serde(rename = "chronic_follow_up:diabetes")]
    DiabetesFollowUp,
}

/// One service of a package and how many a year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub code: String,
    pub name: String,
    pub per_year: i64,
    pub source: Source,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PackageKind {
    /// 基础包: basic medical and public health services, for everyone.
    Basic,
    /// 个性化包: priced, for a key group.
    Personalised,
}

text_enum!(PackageKind { Basic => "basic", Personalised => "personalised" });

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPackage {
    /// Unique in the community; the basic package is `basic`.
    pub code: String,
    pub name: String,
    pub kind: PackageKind,
    /// Per year, in fen (0 for the basic package).
    #[serde(default)]
    pub price_fen: i64,
    /// Who it is for; empty for everyone.
    #[serde(default)]
    pub key_groups: Vec<KeyGroup>,
    pub services: Vec<Service>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Package {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: PackageKind,
    pub price_fen: i64,
    pub key_groups: Vec<KeyGroup>,
    pub services: Vec<Service>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    pub staff_id: i64,
    pub role: MemberRole,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTeam {
    /// The institution that leads the team (a township centre, usually).
    pub institution_id: i64,
    pub name: String,
    pub members: Vec<NewMember>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Member {
    pub staff_id: i64,
    pub name: String,
    pub institution_id: Option<i64>,
    pub role: MemberRole,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Team {
    pub id: i64,
    pub institution_id: i64,
    pub name: String,
    pub members: Vec<Member>,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct TeamQuery {
    /// Teams with a member from this institution, or led by it.
    pub institution: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContract {
    pub resident_id: i64,
    pub team_id: i64,
    /// The responsible doctor: a member of the team.
    pub doctor_staff_id: i64,
    /// `YYYY-MM-DD`.
    pub start_date: String,
    /// `YYYY-MM-DD`, the last day: at least a year after the start (default: a year).
    #[serde(default)]
    pub end_date: Option<String>,
    /// Package ids or codes; the basic package (`basic`) is always included.
    #[serde(default)]
    pub packages: Vec<serde_json::Value>,
    /// Key groups stated at signing; those the record shows (age, chronic registry) are added.
    #[serde(default)]
    pub key_groups: Vec<KeyGroup>,
}

/// A contract's state on a day: signed and in force, signed to start later, ended at its last
/// day, or terminated early.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContractStatus {
    Active,
    Upcoming,
    Expired,
    Terminated,
}

text_enum!(ContractStatus { Active => "active", Upcoming => "upcoming", Expired => "expired", Terminated => "terminated" });

impl ContractStatus {
    pub fn label_zh(self) -> &'static str {
        match self {
            ContractStatus::Active => "履约中",
            ContractStatus::Upcoming => "待生效",
            ContractStatus::Expired => "已到期",
            ContractStatus::Terminated => "已解约",
        }
    }
}

/// How much of a service is delivered so far against what is due by now.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub package_code: String,
    pub service: Service,
    /// Due by today: the yearly count prorated over the contract's days so far (all of it at
    /// the end).
    pub due: i64,
    pub delivered: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Contract {
    pub id: i64,
    pub resident_id: i64,
    pub resident_name: String,
    pub team_id: i64,
    pub team_name: String,
    pub doctor_staff_id: i64,
    pub doctor_name: String,
    pub institution_id: i64,
    pub start_date: String,
    pub end_date: String,
    pub status: ContractStatus,
    pub key_groups: Vec<KeyGroup>,
    pub packages: Vec<Package>,
    pub terminated_on: Option<String>,
    pub termination_reason: String,
    pub renewal_of_id: Option<i64>,
    /// The contract that renews this one, if any.
    pub renewed_by_id: Option<i64>,
    pub signed_at: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ContractDetail {
    #[serde(flatten)]
    pub contract: Contract,
    pub delivery: Vec<Delivery>,
    /// Delivered (each service at most what is due) over due; absent when nothing is due yet.
    pub fulfilment_percent: Option<f64>,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ContractQuery {
    /// Where contracts were signed (default: the caller's own institution).
    pub institution: Option<i64>,
    /// `active`, `upcoming`, `expired`, `terminated`, or `expiring` (active, ending within 30
    /// days, not renewed: the renewal tasks).
    pub status: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Termination {
    pub reason: String,
    /// `YYYY-MM-DD`; today when absent.
    #[serde(default)]
    pub terminated_on: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Renewal {
    /// The new last day (default: a year after the old contract ends).
    #[serde(default)]
    pub end_date: Option<String>,
    /// The new packages (default: the old ones).
    #[serde(default)]
    pub packages: Option<Vec<serde_json::Value>>,
}
