//! The institution tree's types: kinds of member institution, institutions and departments.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InstitutionKind {
    LeadHospital,
    Campus,
    /// A shared centre of the lead hospital (ECG, imaging, lab, pathology, consultation …).
    Centre,
    TownshipCentre,
    CommunityCentre,
    VillageClinic,
}

impl InstitutionKind {
    pub const ALL: [InstitutionKind; 6] = [
        InstitutionKind::LeadHospital,
        InstitutionKind::Campus,
        InstitutionKind::Centre,
        InstitutionKind::TownshipCentre,
        InstitutionKind::CommunityCentre,
        InstitutionKind::VillageClinic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InstitutionKind::LeadHospital => "lead_hospital",
            InstitutionKind::Campus => "campus",
            InstitutionKind::Centre => "centre",
            InstitutionKind::TownshipCentre => "township_centre",
            InstitutionKind::CommunityCentre => "community_centre",
            InstitutionKind::VillageClinic => "village_clinic",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            InstitutionKind::LeadHospital => "牵头医院",
            InstitutionKind::Campus => "院区",
            InstitutionKind::Centre => "共享中心",
            InstitutionKind::TownshipCentre => "乡镇卫生院",
            InstitutionKind::CommunityCentre => "社区卫生服务中心",
            InstitutionKind::VillageClinic => "村卫生室",
        }
    }

    /// The kinds a parent of this kind may have, which keeps the tree in its documented shape.
    pub fn allowed_parents(self) -> &'static [InstitutionKind] {
        match self {
            InstitutionKind::LeadHospital => &[],
            InstitutionKind::Campus | InstitutionKind::Centre => &[InstitutionKind::LeadHospital],
            InstitutionKind::TownshipCentre | InstitutionKind::CommunityCentre => {
                &[InstitutionKind::LeadHospital]
            }
            InstitutionKind::VillageClinic => &[
                InstitutionKind::TownshipCentre,
                InstitutionKind::CommunityCentre,
            ],
        }
    }
}

impl InstitutionKind {
    /// The care level: village clinic 1, township or community centre 2, county 3.
    pub fn level(self) -> u8 {
        match self {
            InstitutionKind::VillageClinic => 1,
            InstitutionKind::TownshipCentre | InstitutionKind::CommunityCentre => 2,
            InstitutionKind::LeadHospital | InstitutionKind::Campus | InstitutionKind::Centre => 3,
        }
    }
}

impl TryFrom<String> for InstitutionKind {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        InstitutionKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or(text)
    }
}

/// What a shared centre does; it decides whose work its readers may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CentreService {
    /// 心电诊断
    Ecg,
    /// 影像诊断
    Imaging,
    /// 医学检验
    Lab,
    /// 病理诊断
    Pathology,
    /// Any other shared service (consultation, emergency, sterilisation …).
    Other,
}

text_enum!(CentreService {
    Ecg => "ecg",
    Imaging => "imaging",
    Lab => "lab",
    Pathology => "pathology",
    Other => "other",
});

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Institution {
    pub id: i64,
    pub community_id: i64,
    pub parent_id: Option<i64>,
    /// The township centre this institution belongs to (itself for a township centre);
    /// absent at county level.
    pub township_id: Option<i64>,
    #[sqlx(try_from = "String")]
    pub kind: InstitutionKind,
    pub code: String,
    pub name: String,
    pub address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    #[sqlx(try_from = "i64")]
    pub has_ecg_device: Flag,
    /// What a shared centre does (`ecg`, `imaging`, `lab`, `pathology`, `other`); absent
    /// for other institutions.
    pub service: Option<String>,
}

/// A boolean stored as 0/1, the one form both engines share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Flag(pub bool);

impl From<i64> for Flag {
    fn from(value: i64) -> Self {
        Flag(value != 0)
    }
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Department {
    pub id: i64,
    pub institution_id: i64,
    pub code: String,
    pub name: String,
}

/// A new institution as an administrator describes it.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewInstitution {
    pub parent_id: Option<i64>,
    pub kind: InstitutionKind,
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    #[serde(default)]
    pub has_ecg_device: bool,
    /// Required for a shared centre, refused for any other kind.
    #[serde(default)]
    pub service: Option<CentreService>,
}

/// One node of the institution tree, for display.
#[derive(Clone, Debug, Serialize)]
pub struct TreeNode {
    pub institution: Institution,
    pub children: Vec<TreeNode>,
}
