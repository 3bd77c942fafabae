//! The measures indicators are made of: quantities counted from yijia's records over a period
//! and a scope, each with a stable snake_case name (used by a county's own definitions) and a
//! Chinese label.

/// What a chest pain centre measure counts of an interval over the cases that have it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntervalPart {
    /// Cases with both time points.
    Cases,
    /// The interval summed over those cases, in seconds.
    Seconds,
    /// Cases within the interval's target.
    WithinTarget,
}

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
    ManagedChronicToSpec,
    ManagedChronicHospitalised,
    HypertensionManaged,
    HypertensionToSpec,
    HypertensionControlled,
    DiabetesManaged,
    DiabetesToSpec,
    DiabetesControlled,
    ManagedChronicEnrolments,
    PrematureDeaths,
    UpReferrals,
    DownReferrals,
    DownReferralsAccepted,
    DownReferralsClosed,
    ChestPainFmcToEcgCases,
    ChestPainFmcToEcgSeconds,
    ChestPainFmcToEcgWithinTarget,
    ChestPainEcgToReportCases,
    ChestPainEcgToReportSeconds,
    ChestPainEcgToReportWithinTarget,
    ChestPainDoorInDoorOutCases,
    ChestPainDoorInDoorOutSeconds,
    ChestPainDoorInDoorOutWithinTarget,
    ChestPainDoorToBalloonCases,
    ChestPainDoorToBalloonSeconds,
    ChestPainDoorToBalloonWithinTarget,
    ChestPainFmcToBalloonCases,
    ChestPainFmcToBalloonSeconds,
    ChestPainFmcToBalloonWithinTarget,
    Admissions,
    SupervisionAlerts,
    SupervisionConfirmed,
    SupervisionVerified,
}

impl Measure {
    pub const ALL: [Measure; 58] = [
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
        Measure::ManagedChronicToSpec,
        Measure::ManagedChronicHospitalised,
        Measure::HypertensionManaged,
        Measure::HypertensionToSpec,
        Measure::HypertensionControlled,
        Measure::DiabetesManaged,
        Measure::DiabetesToSpec,
        Measure::DiabetesControlled,
        Measure::ManagedChronicEnrolments,
        Measure::PrematureDeaths,
        Measure::UpReferrals,
        Measure::DownReferrals,
        Measure::DownReferralsAccepted,
        Measure::DownReferralsClosed,
        Measure::ChestPainFmcToEcgCases,
        Measure::ChestPainFmcToEcgSeconds,
        Measure::ChestPainFmcToEcgWithinTarget,
        Measure::ChestPainEcgToReportCases,
        Measure::ChestPainEcgToReportSeconds,
        Measure::ChestPainEcgToReportWithinTarget,
        Measure::ChestPainDoorInDoorOutCases,
        Measure::ChestPainDoorInDoorOutSeconds,
        Measure::ChestPainDoorInDoorOutWithinTarget,
        Measure::ChestPainDoorToBalloonCases,
        Measure::ChestPainDoorToBalloonSeconds,
        Measure::ChestPainDoorToBalloonWithinTarget,
        Measure::ChestPainFmcToBalloonCases,
        Measure::ChestPainFmcToBalloonSeconds,
        Measure::ChestPainFmcToBalloonWithinTarget,
        Measure::Admissions,
        Measure::SupervisionAlerts,
        Measure::SupervisionConfirmed,
        Measure::SupervisionVerified,
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
            Measure::ManagedChronic => "慢病健康管理人数（居民数）",
            Measure::ManagedChronicToSpec => {
                "按规范管理的慢病患者数（高血压、糖尿病分别计，每年至少 4 次面对面随访）"
            }
            Measure::ManagedChronicHospitalised => "慢病健康管理人群住院人数",
            Measure::HypertensionManaged => "管理的高血压患者数",
            Measure::HypertensionToSpec => "按规范管理的高血压患者数（面对面随访次数达标）",
            Measure::HypertensionControlled => "最近一次随访血压达标的高血压患者数",
            Measure::DiabetesManaged => "管理的2型糖尿病患者数",
            Measure::DiabetesToSpec => {
                "按规范管理的2型糖尿病患者数（面对面随访与血糖检测次数达标）"
            }
            Measure::DiabetesControlled => "最近一次随访空腹血糖达标的2型糖尿病患者数",
            Measure::ManagedChronicEnrolments => "慢病管理人数（高血压、糖尿病分别计）",
            Measure::PrematureDeaths => "四类慢病过早死亡数",
            Measure::UpReferrals => "上转人次",
            Measure::DownReferrals => "下转人次",
            Measure::DownReferralsAccepted => "已接收的下转人次",
            Measure::DownReferralsClosed => "已闭环（随访完成）的下转人次",
            Measure::ChestPainFmcToEcgCases => "胸痛病例：首次医疗接触至首份心电图，有记录的病例数",
            Measure::ChestPainFmcToEcgSeconds => {
                "胸痛病例：首次医疗接触至首份心电图，合计时长（秒）"
            }
            Measure::ChestPainFmcToEcgWithinTarget => {
                "胸痛病例：首次医疗接触至首份心电图 ≤10 分钟的病例数"
            }
            Measure::ChestPainEcgToReportCases => {
                "胸痛病例：心电图传至中心至报告签发，有记录的病例数"
            }
            Measure::ChestPainEcgToReportSeconds => {
                "胸痛病例：心电图传至中心至报告签发，合计时长（秒）"
            }
            Measure::ChestPainEcgToReportWithinTarget => {
                "胸痛病例：心电图传至中心至报告签发 ≤10 分钟的病例数"
            }
            Measure::ChestPainDoorInDoorOutCases => {
                "胸痛病例：首次医疗接触至转出（DIDO），有记录的病例数"
            }
            Measure::ChestPainDoorInDoorOutSeconds => {
                "胸痛病例：首次医疗接触至转出（DIDO），合计时长（秒）"
            }
            Measure::ChestPainDoorInDoorOutWithinTarget => {
                "胸痛病例：首次医疗接触至转出 ≤30 分钟的病例数"
            }
            Measure::ChestPainDoorToBalloonCases => {
                "胸痛病例：进门至导丝通过（D2B），有记录的病例数"
            }
            Measure::ChestPainDoorToBalloonSeconds => {
                "胸痛病例：进门至导丝通过（D2B），合计时长（秒）"
            }
            Measure::ChestPainDoorToBalloonWithinTarget => {
                "胸痛病例：进门至导丝通过 ≤90 分钟的病例数"
            }
            Measure::ChestPainFmcToBalloonCases => {
                "胸痛病例：首次医疗接触至导丝通过，有记录的病例数"
            }
            Measure::ChestPainFmcToBalloonSeconds => {
                "胸痛病例：首次医疗接触至导丝通过，合计时长（秒）"
            }
            Measure::ChestPainFmcToBalloonWithinTarget => {
                "胸痛病例：首次医疗接触至导丝通过 ≤120 分钟的病例数"
            }
            Measure::Admissions => "入院人次",
            Measure::SupervisionAlerts => "监管预警数（按预警所属月份）",
            Measure::SupervisionConfirmed => "初审确认的监管预警数（不含排除与复审撤销）",
            Measure::SupervisionVerified => "整改已核实的监管预警数",
        }
    }

    /// For the chest pain centre's measures: the interval (as `referral::timeline` names it) and
    /// what of it is counted.
    pub fn chest_pain_interval(self) -> Option<(&'static str, IntervalPart)> {
        match self {
            Measure::ChestPainFmcToEcgCases => Some(("fmc_to_ecg", IntervalPart::Cases)),
            Measure::ChestPainFmcToEcgSeconds => Some(("fmc_to_ecg", IntervalPart::Seconds)),
            Measure::ChestPainFmcToEcgWithinTarget => {
                Some(("fmc_to_ecg", IntervalPart::WithinTarget))
            }
            Measure::ChestPainEcgToReportCases => Some(("ecg_to_report", IntervalPart::Cases)),
            Measure::ChestPainEcgToReportSeconds => Some(("ecg_to_report", IntervalPart::Seconds)),
            Measure::ChestPainEcgToReportWithinTarget => {
                Some(("ecg_to_report", IntervalPart::WithinTarget))
            }
            Measure::ChestPainDoorInDoorOutCases => Some(("door_in_door_out", IntervalPart::Cases)),
            Measure::ChestPainDoorInDoorOutSeconds => {
                Some(("door_in_door_out", IntervalPart::Seconds))
            }
            Measure::ChestPainDoorInDoorOutWithinTarget => {
                Some(("door_in_door_out", IntervalPart::WithinTarget))
            }
            Measure::ChestPainDoorToBalloonCases => Some(("door_to_balloon", IntervalPart::Cases)),
            Measure::ChestPainDoorToBalloonSeconds => {
                Some(("door_to_balloon", IntervalPart::Seconds))
            }
            Measure::ChestPainDoorToBalloonWithinTarget => {
                Some(("door_to_balloon", IntervalPart::WithinTarget))
            }
            Measure::ChestPainFmcToBalloonCases => Some(("fmc_to_balloon", IntervalPart::Cases)),
            Measure::ChestPainFmcToBalloonSeconds => {
                Some(("fmc_to_balloon", IntervalPart::Seconds))
            }
            Measure::ChestPainFmcToBalloonWithinTarget => {
                Some(("fmc_to_balloon", IntervalPart::WithinTarget))
            }
            _ => None,
        }
    }

    /// Why yijia cannot count this yet, for the measures it holds no records of.
    pub fn missing(self) -> Option<&'static str> {
        match self {
            Measure::PrimaryIncomePerStaff | Measure::LeadIncomePerStaff => {
                Some("尚无人员收入（薪酬）数据")
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
    ManagedChronicToSpec => "managed_chronic_to_spec",
    ManagedChronicHospitalised => "managed_chronic_hospitalised",
    HypertensionManaged => "hypertension_managed",
    HypertensionToSpec => "hypertension_to_spec",
    HypertensionControlled => "hypertension_controlled",
    DiabetesManaged => "diabetes_managed",
    DiabetesToSpec => "diabetes_to_spec",
    DiabetesControlled => "diabetes_controlled",
    ManagedChronicEnrolments => "managed_chronic_enrolments",
    PrematureDeaths => "premature_deaths",
    UpReferrals => "up_referrals",
    DownReferrals => "down_referrals",
    DownReferralsAccepted => "down_referrals_accepted",
    DownReferralsClosed => "down_referrals_closed",
    ChestPainFmcToEcgCases => "chest_pain_fmc_to_ecg_cases",
    ChestPainFmcToEcgSeconds => "chest_pain_fmc_to_ecg_seconds",
    ChestPainFmcToEcgWithinTarget => "chest_pain_fmc_to_ecg_within_target",
    ChestPainEcgToReportCases => "chest_pain_ecg_to_report_cases",
    ChestPainEcgToReportSeconds => "chest_pain_ecg_to_report_seconds",
    ChestPainEcgToReportWithinTarget => "chest_pain_ecg_to_report_within_target",
    ChestPainDoorInDoorOutCases => "chest_pain_door_in_door_out_cases",
    ChestPainDoorInDoorOutSeconds => "chest_pain_door_in_door_out_seconds",
    ChestPainDoorInDoorOutWithinTarget => "chest_pain_door_in_door_out_within_target",
    ChestPainDoorToBalloonCases => "chest_pain_door_to_balloon_cases",
    ChestPainDoorToBalloonSeconds => "chest_pain_door_to_balloon_seconds",
    ChestPainDoorToBalloonWithinTarget => "chest_pain_door_to_balloon_within_target",
    ChestPainFmcToBalloonCases => "chest_pain_fmc_to_balloon_cases",
    ChestPainFmcToBalloonSeconds => "chest_pain_fmc_to_balloon_seconds",
    ChestPainFmcToBalloonWithinTarget => "chest_pain_fmc_to_balloon_within_target",
    Admissions => "admissions",
    SupervisionAlerts => "supervision_alerts",
    SupervisionConfirmed => "supervision_confirmed",
    SupervisionVerified => "supervision_verified",
});
