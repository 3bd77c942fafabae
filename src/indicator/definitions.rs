//! The indicators as data: the 14 of 《紧密型县域医疗卫生共同体监测指标体系（2024版）》 in their
//! five dimensions, the county figures the seeds name, and the chest pain centre's intervals
//! (mean time and share within target over the period's green-channel cases). Each says how it
//! is computed from named measures (`Measure`), its unit and its source; one yijia cannot
//! compute yet says why.

use super::Measure::*;
use super::{Definition, Formula};

const OFFICIAL: &str = "《紧密型县域医疗卫生共同体监测指标体系（2024版）》官方口径";
pub const DERIVED: &str = "按指标名称推定的口径（可由县调整）";
const STANDARD: &str = "卫生统计标准口径";
const CHEST_PAIN: &str = "中国胸痛中心认证标准（时间节点与时限）";
const STAT: &str = "本平台心电 STAT 时限（10 分钟）";

pub const DEFINITIONS: &[Definition] = &[
    Definition {
        code: "1.1",
        name: "资源统一管理",
        dimension: "紧密型",
        formula: Formula::Qualitative,
        unit: "",
        source: OFFICIAL,
    },
    Definition {
        code: "1.2",
        name: "医共体内部民主决策",
        dimension: "紧密型",
        formula: Formula::Qualitative,
        unit: "",
        source: OFFICIAL,
    },
    Definition {
        code: "1.3",
        name: "服务协同联动",
        dimension: "紧密型",
        formula: Formula::Qualitative,
        unit: "",
        source: OFFICIAL,
    },
    Definition {
        code: "2.1",
        name: "中级及以上医师派驻人数/每万常住人口",
        dimension: "同质化",
        formula: Formula::Ratio {
            numerator: DispatchedDoctors,
            denominator: Population,
            scale: 10_000.0,
        },
        unit: "人/万人",
        source: OFFICIAL,
    },
    Definition {
        code: "2.2a",
        name: "远程诊断服务量/每万常住人口",
        dimension: "同质化",
        formula: Formula::Ratio {
            numerator: RemoteReads,
            denominator: Population,
            scale: 10_000.0,
        },
        unit: "人次/万人",
        source: OFFICIAL,
    },
    Definition {
        code: "2.2b",
        name: "心电设备村级覆盖率",
        dimension: "同质化",
        formula: Formula::Ratio {
            numerator: VillageClinicsWithEcg,
            denominator: VillageClinics,
            scale: 100.0,
        },
        unit: "%",
        source: DERIVED,
    },
    Definition {
        code: "2.3",
        name: "基层人均收入与牵头医院人均收入的比值",
        dimension: "同质化",
        formula: Formula::Ratio {
            numerator: PrimaryIncomePerStaff,
            denominator: LeadIncomePerStaff,
            scale: 1.0,
        },
        unit: "",
        source: DERIVED,
    },
    Definition {
        code: "3.1",
        name: "县域内基层医疗卫生机构诊疗人次数占比",
        dimension: "促分工",
        formula: Formula::Ratio {
            numerator: PrimaryVisits,
            denominator: AllVisits,
            scale: 100.0,
        },
        unit: "%",
        source: DERIVED,
    },
    Definition {
        code: "3.2",
        name: "医保基金县域内支出占比（不含药店）",
        dimension: "促分工",
        formula: Formula::Ratio {
            numerator: FundInCounty,
            denominator: FundAll,
            scale: 100.0,
        },
        unit: "%",
        source: DERIVED,
    },
    Definition {
        code: "3.3",
        name: "县域内基层医疗卫生机构医保基金支出占比",
        dimension: "促分工",
        formula: Formula::Ratio {
            numerator: FundPrimary,
            denominator: FundInCounty,
            scale: 100.0,
        },
        unit: "%",
        source: DERIVED,
    },
    Definition {
        code: "4.1a",
        name: "参保人县域内住院人均费用",
        dimension: "提效能",
        formula: Formula::Ratio {
            numerator: InpatientCostInCounty,
            denominator: InpatientStaysInCounty,
            scale: 0.01,
        },
        unit: "元",
        source: DERIVED,
    },
    Definition {
        code: "4.1b",
        name: "参保人县域内住院人均费用增长率",
        dimension: "提效能",
        formula: Formula::Growth {
            numerator: InpatientCostInCounty,
            denominator: InpatientStaysInCounty,
        },
        unit: "%",
        source: DERIVED,
    },
    Definition {
        code: "4.2",
        name: "参保人县域内住院人次占比",
        dimension: "提效能",
        formula: Formula::Ratio {
            numerator: InpatientStaysInCounty,
            denominator: InpatientStaysAll,
            scale: 100.0,
        },
        unit: "%",
        source: DERIVED,
    },
    Definition {
        code: "4.3",
        name: "县域内中医类诊疗量占比",
        dimension: "提效能",
        formula: Formula::Ratio {
            numerator: TcmVisits,
            denominator: AllVisits,
            scale: 100.0,
        },
        unit: "%",
        source: DERIVED,
    },
    Definition {
        code: "5.1",
        name: "县域内慢性病健康管理人群住院率",
        dimension: "保健康",
        formula: Formula::Ratio {
            numerator: ManagedChronicHospitalised,
            denominator: ManagedChronic,
            scale: 100.0,
        },
        unit: "%",
        source: DERIVED,
    },
    Definition {
        code: "5.2",
        name: "县域内四类慢性病过早死亡率",
        dimension: "保健康",
        formula: Formula::Ratio {
            numerator: PrematureDeaths,
            denominator: Population,
            scale: 100.0,
        },
        unit: "%",
        source: STANDARD,
    },
    Definition {
        code: "C.1",
        name: "县域就诊率",
        dimension: "县域指标",
        formula: Formula::Ratio {
            numerator: InsuredCareInCounty,
            denominator: InsuredCareAll,
            scale: 100.0,
        },
        unit: "%",
        source: DERIVED,
    },
    Definition {
        code: "C.2",
        name: "平均住院日",
        dimension: "县域指标",
        formula: Formula::Ratio {
            numerator: BedDays,
            denominator: Discharges,
            scale: 1.0,
        },
        unit: "天",
        source: STANDARD,
    },
    Definition {
        code: "C.3",
        name: "门诊次均费用",
        dimension: "县域指标",
        formula: Formula::Ratio {
            numerator: OutpatientCost,
            denominator: OutpatientVisits,
            scale: 0.01,
        },
        unit: "元",
        source: STANDARD,
    },
    Definition {
        code: "C.4",
        name: "住院次均费用",
        dimension: "县域指标",
        formula: Formula::Ratio {
            numerator: InpatientCost,
            denominator: Discharges,
            scale: 0.01,
        },
        unit: "元",
        source: STANDARD,
    },
    Definition {
        code: "C.5",
        name: "上转人次",
        dimension: "县域指标",
        formula: Formula::Count(UpReferrals),
        unit: "人次",
        source: STANDARD,
    },
    Definition {
        code: "C.6",
        name: "下转人次",
        dimension: "县域指标",
        formula: Formula::Count(DownReferrals),
        unit: "人次",
        source: STANDARD,
    },
    Definition {
        code: "C.7",
        name: "远程心电诊断量",
        dimension: "县域指标",
        formula: Formula::Count(RemoteEcgReads),
        unit: "人次",
        source: STANDARD,
    },
    Definition {
        code: "C.8",
        name: "下转闭环率",
        dimension: "县域指标",
        formula: Formula::Ratio {
            numerator: DownReferralsClosed,
            denominator: DownReferralsAccepted,
            scale: 100.0,
        },
        unit: "%",
        source: DERIVED,
    },
    Definition {
        code: "P.1",
        name: "首次医疗接触至首份心电图平均时间",
        dimension: "胸痛中心",
        formula: Formula::Ratio {
            numerator: ChestPainFmcToEcgSeconds,
            denominator: ChestPainFmcToEcgCases,
            scale: 1.0 / 60.0,
        },
        unit: "分钟",
        source: CHEST_PAIN,
    },
    Definition {
        code: "P.2",
        name: "首次医疗接触至首份心电图 ≤10 分钟达标率",
        dimension: "胸痛中心",
        formula: Formula::Ratio {
            numerator: ChestPainFmcToEcgWithinTarget,
            denominator: ChestPainFmcToEcgCases,
            scale: 100.0,
        },
        unit: "%",
        source: CHEST_PAIN,
    },
    Definition {
        code: "P.3",
        name: "心电图传至中心至报告签发平均时间",
        dimension: "胸痛中心",
        formula: Formula::Ratio {
            numerator: ChestPainEcgToReportSeconds,
            denominator: ChestPainEcgToReportCases,
            scale: 1.0 / 60.0,
        },
        unit: "分钟",
        source: STAT,
    },
    Definition {
        code: "P.4",
        name: "心电图传至中心至报告签发 ≤10 分钟达标率",
        dimension: "胸痛中心",
        formula: Formula::Ratio {
            numerator: ChestPainEcgToReportWithinTarget,
            denominator: ChestPainEcgToReportCases,
            scale: 100.0,
        },
        unit: "%",
        source: STAT,
    },
    Definition {
        code: "P.5",
        name: "进门至导丝通过（D2B）平均时间",
        dimension: "胸痛中心",
        formula: Formula::Ratio {
            numerator: ChestPainDoorToBalloonSeconds,
            denominator: ChestPainDoorToBalloonCases,
            scale: 1.0 / 60.0,
        },
        unit: "分钟",
        source: CHEST_PAIN,
    },
    Definition {
        code: "P.6",
        name: "进门至导丝通过（D2B） ≤90 分钟达标率",
        dimension: "胸痛中心",
        formula: Formula::Ratio {
            numerator: ChestPainDoorToBalloonWithinTarget,
            denominator: ChestPainDoorToBalloonCases,
            scale: 100.0,
        },
        unit: "%",
        source: CHEST_PAIN,
    },
    Definition {
        code: "P.7",
        name: "首次医疗接触至导丝通过平均时间",
        dimension: "胸痛中心",
        formula: Formula::Ratio {
            numerator: ChestPainFmcToBalloonSeconds,
            denominator: ChestPainFmcToBalloonCases,
            scale: 1.0 / 60.0,
        },
        unit: "分钟",
        source: CHEST_PAIN,
    },
    Definition {
        code: "P.8",
        name: "首次医疗接触至导丝通过 ≤120 分钟达标率",
        dimension: "胸痛中心",
        formula: Formula::Ratio {
            numerator: ChestPainFmcToBalloonWithinTarget,
            denominator: ChestPainFmcToBalloonCases,
            scale: 100.0,
        },
        unit: "%",
        source: CHEST_PAIN,
    },
];
