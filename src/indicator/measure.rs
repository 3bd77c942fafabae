//! The measures indicators are made of: quantities counted from yijia's records over a period
//! and a scope, each with a stable snake_case name (used by a county's own definitions) and a
//! Chinese label.

/// A quantity counted from yijia's records over a period and a scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Measure {
    Population,
    DispatchedDoctors,
    RemoteReads,
    RemoteEcgReads,
    VillageClinicsWithEcg,
    VillageClinics,
    PrimaryIncomePerStaff,
    LeadIncomePerStaff,
    PrimaryVisits,
    AllVisits,
    TcmVisits,
    OutpatientVisits,
    OutpatientCost,
    FundInCounty,
    FundAll,
    FundPrimary,
    InpatientCostInCounty,
    InpatientStaysInCounty,
    InpatientStaysAll,
    InsuredCareInCounty,
    InsuredCareAll,
    Discharges,
    BedDays,
    InpatientCost,
    ManagedChronic,
    ManagedChronicHospitalised,
    PrematureDeaths,
    UpReferrals,
    DownReferrals,
}

impl Measure {
    pub const ALL: [Measure; 29] = [
        Measure::Population,
        Measure::DispatchedDoctors,
        Measure::RemoteReads,
        Measure::RemoteEcgReads,
        Measure::VillageClinicsWithEcg,
        Measure::VillageClinics,
        Measure::PrimaryIncomePerStaff,
        Measure::LeadIncomePerStaff,
        Measure::PrimaryVisits,
        Measure::AllVisits,
        Measure::TcmVisits,
        Measure::OutpatientVisits,
        Measure::OutpatientCost,
        Measure::FundInCounty,
        Measure::FundAll,
        Measure::FundPrimary,
        Measure::InpatientCostInCounty,
        Measure::InpatientStaysInCounty,
        Measure::InpatientStaysAll,
        Measure::InsuredCareInCounty,
        Measure::InsuredCareAll,
        Measure::Discharges,
        Measure::BedDays,
        Measure::InpatientCost,
        Measure::ManagedChronic,
        Measure::ManagedChronicHospitalised,
        Measure::PrematureDeaths,
        Measure::UpReferrals,
        Measure::DownReferrals,
    ];

    /// The measure's name, for the definitions page.
    pub fn label_zh(self) -> &'static str {
        match self {
            Measure::Population => "常住人口（在册居民）",
            Measure::DispatchedDoctors => "派驻基层满6个月的中级及以上医师",
            Measure::RemoteReads => "远程诊断量（心电与中心影像等）",
            Measure::RemoteEcgReads => "远程心电诊断量",
            Measure::VillageClinicsWithEcg => "配备心电设备的村卫生室",
            Measure::VillageClinics => "村卫生室",
            Measure::PrimaryIncomePerStaff => "基层人均收入",
            Measure::LeadIncomePerStaff => "牵头医院人均收入",
            Measure::PrimaryVisits => "基层医疗卫生机构诊疗人次",
            Measure::AllVisits => "县域内诊疗人次",
            Measure::TcmVisits => "中医类诊疗人次",
            Measure::OutpatientVisits => "门诊人次",
            Measure::OutpatientCost => "门诊费用（分）",
            Measure::FundInCounty => "县域内医保基金支出（分）",
            Measure::FundAll => "医保基金总支出（含县外，分）",
            Measure::FundPrimary => "基层医保基金支出（分）",
            Measure::InpatientCostInCounty => "参保人县域内住院费用（分）",
            Measure::InpatientStaysInCounty => "参保人县域内住院人次",
            Measure::InpatientStaysAll => "参保人住院总人次（含县外）",
            Measure::InsuredCareInCounty => "参保人县域内就诊人次",
            Measure::InsuredCareAll => "参保人就诊总人次（含县外）",
            Measure::Discharges => "出院人次",
            Measure::BedDays => "出院者占用总床日",
            Measure::InpatientCost => "出院者住院费用（分）",
            Measure::ManagedChronic => "慢病健康管理人数",
            Measure::ManagedChronicHospitalised => "慢病健康管理人群住院人数",
            Measure::PrematureDeaths => "四类慢病过早死亡数",
            Measure::UpReferrals => "上转人次",
            Measure::DownReferrals => "下转人次",
        }
    }

    /// Why yijia cannot count this yet, for the measures it holds no records of.
    pub fn missing(self) -> Option<&'static str> {
        match self {
            Measure::DispatchedDoctors => Some("尚无医师派驻记录"),
            Measure::PrimaryIncomePerStaff | Measure::LeadIncomePerStaff => {
                Some("尚无人员收入（薪酬）数据")
            }
            Measure::ManagedChronic | Measure::ManagedChronicHospitalised => {
                Some("尚无慢病管理登记数据")
            }
            Measure::PrematureDeaths => Some("尚无死亡登记数据"),
            _ => None,
        }
    }
}

text_enum!(Measure {
    Population => "population",
    DispatchedDoctors => "dispatched_doctors",
    RemoteReads => "remote_reads",
    RemoteEcgReads => "remote_ecg_reads",
    VillageClinicsWithEcg => "village_clinics_with_ecg",
    VillageClinics => "village_clinics",
    PrimaryIncomePerStaff => "primary_income_per_staff",
    LeadIncomePerStaff => "lead_income_per_staff",
    PrimaryVisits => "primary_visits",
    AllVisits => "all_visits",
    TcmVisits => "tcm_visits",
    OutpatientVisits => "outpatient_visits",
    OutpatientCost => "outpatient_cost",
    FundInCounty => "fund_in_county",
    FundAll => "fund_all",
    FundPrimary => "fund_primary",
    InpatientCostInCounty => "inpatient_cost_in_county",
    InpatientStaysInCounty => "inpatient_stays_in_county",
    InpatientStaysAll => "inpatient_stays_all",
    InsuredCareInCounty => "insured_care_in_county",
    InsuredCareAll => "insured_care_all",
    Discharges => "discharges",
    BedDays => "bed_days",
    InpatientCost => "inpatient_cost",
    ManagedChronic => "managed_chronic",
    ManagedChronicHospitalised => "managed_chronic_hospitalised",
    PrematureDeaths => "premature_deaths",
    UpReferrals => "up_referrals",
    DownReferrals => "down_referrals",
});
