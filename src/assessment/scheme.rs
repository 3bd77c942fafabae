//! Assessment schemes as data: for each kind of member (township centres, village clinics) and
//! year, weighted items — an indicator of the indicator set, the family doctor contracts'
//! fulfilment or coverage, or deductions for supervision findings — each with a target and a
//! scoring rule; the weights sum to 100. The defaults follow the national assessment of primary
//! institutions (基层医疗卫生机构绩效考核) in what the platform holds: service provision
//! (chronic care to the specification and its control, the referral loop, remote reads,
//! contracts kept) and management (supervision findings). No I/O here.

use serde::{Deserialize, Serialize};

/// Who a scheme assesses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberKind {
    /// Township and community health centres.
    Township,
    VillageClinic,
}

text_enum!(MemberKind { Township => "township", VillageClinic => "village_clinic" });

impl MemberKind {
    pub const ALL: [MemberKind; 2] = [MemberKind::Township, MemberKind::VillageClinic];

    pub fn label_zh(self) -> &'static str {
        match self {
            MemberKind::Township => "乡镇卫生院（社区卫生服务中心）",
            MemberKind::VillageClinic => "村卫生室",
        }
    }

    /// The kind of member an institution is assessed as, if any.
    pub fn of(kind: crate::institution::InstitutionKind) -> Option<MemberKind> {
        use crate::institution::InstitutionKind as K;
        match kind {
            K::TownshipCentre | K::CommunityCentre => Some(MemberKind::Township),
            K::VillageClinic => Some(MemberKind::VillageClinic),
            _ => None,
        }
    }
}

/// What an item measures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "kind", content = "code")]
pub enum Input {
    /// An indicator of the indicator set, by code (`B.1`, `C.8` …), at the member.
    Indicator(String),
    /// Services due under the member's family doctor contracts that were delivered, %.
    ContractFulfilment,
    /// Residents of the member's area under a contract in force, %.
    ContractCoverage,
    /// Supervision alerts at the member confirmed as violations, and those overdue.
    Supervision,
}

/// How an item's value becomes points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scoring {
    /// Full marks at the target, in proportion below it (above it, for lower-is-better).
    ProRata,
    /// Full marks at the target, none otherwise.
    PassFail,
    /// Full marks less `points_per_case` for each case (a confirmed violation, an overdue step),
    /// never below nothing.
    Deduction,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub name: String,
    pub input: Input,
    pub weight: f64,
    /// In the input's unit (a percentage for the rates); unused for deductions.
    #[serde(default)]
    pub target: f64,
    pub scoring: Scoring,
    /// The value should stay at or below the target (a cost, an alert rate).
    #[serde(default)]
    pub lower_is_better: bool,
    #[serde(default)]
    pub points_per_case: f64,
}

/// An item's points from its value (`None`: no data, no points).
pub fn points(item: &Item, value: Option<f64>) -> f64 {
    let Some(value) = value else {
        return 0.0;
    };
    let w = item.weight;
    let met = if item.lower_is_better {
        value <= item.target
    } else {
        value >= item.target
    };
    let points = match item.scoring {
        Scoring::Deduction => w - item.points_per_case * value,
        Scoring::PassFail if met => w,
        Scoring::PassFail => 0.0,
        Scoring::ProRata if met => w,
        Scoring::ProRata if item.lower_is_better => w * item.target / value,
        Scoring::ProRata if item.target > 0.0 => w * value / item.target,
        Scoring::ProRata => w,
    };
    (points.clamp(0.0, w) * 10.0).round() / 10.0
}

/// What is wrong with a scheme, if anything.
pub fn check(items: &[Item]) -> Result<(), &'static str> {
    if items.is_empty() || items.len() > 50 {
        return Err("1 to 50 items");
    }
    let total: f64 = items.iter().map(|i| i.weight).sum();
    if (total - 100.0).abs() > 1e-6 {
        return Err("the weights sum to 100");
    }
    for item in items {
        let bad_number = |v: f64| !v.is_finite() || v < 0.0;
        if item.name.trim().is_empty() || item.name.chars().count() > 100 {
            return Err("every item has a name of at most 100 characters");
        }
        if bad_number(item.weight) || item.weight == 0.0 || bad_number(item.target) {
            return Err("weights above 0, targets not negative");
        }
        if bad_number(item.points_per_case) {
            return Err("points per case not negative");
        }
        if (item.scoring == Scoring::Deduction) != (item.input == Input::Supervision) {
            return Err("supervision findings are scored by deduction, and only they");
        }
        if let Input::Indicator(code) = &item.input
            && !crate::indicator::definitions::DEFINITIONS
                .iter()
                .any(|d| d.code == code)
        {
            return Err("an indicator code of the indicator set");
        }
    }
    Ok(())
}

fn item(name: &str, input: Input, weight: f64, target: f64) -> Item {
    Item {
        name: name.to_owned(),
        input,
        weight,
        target,
        scoring: Scoring::ProRata,
        lower_is_better: false,
        points_per_case: 0.0,
    }
}

fn indicator(code: &str) -> Input {
    Input::Indicator(code.to_owned())
}

fn supervision(weight: f64) -> Item {
    Item {
        scoring: Scoring::Deduction,
        points_per_case: 2.0,
        ..item(
            "监管发现问题（确认违规与逾期整改扣分）",
            Input::Supervision,
            weight,
            0.0,
        )
    }
}

/// The default scheme of a kind of member.
pub fn default_items(kind: MemberKind) -> Vec<Item> {
    match kind {
        MemberKind::Township => vec![
            item("高血压患者规范管理率", indicator("B.1"), 15.0, 60.0),
            item("2型糖尿病患者规范管理率", indicator("B.3"), 15.0, 60.0),
            item("管理人群血压控制率", indicator("B.2"), 10.0, 60.0),
            item("管理人群血糖控制率", indicator("B.4"), 10.0, 60.0),
            item("下转闭环率", indicator("C.8"), 10.0, 90.0),
            item(
                "远程诊断服务量（人次/万人）",
                indicator("2.2a"),
                10.0,
                300.0,
            ),
            item(
                "家庭医生签约服务履约率",
                Input::ContractFulfilment,
                15.0,
                90.0,
            ),
            supervision(15.0),
        ],
        MemberKind::VillageClinic => vec![
            item("高血压患者规范管理率", indicator("B.1"), 20.0, 60.0),
            item("2型糖尿病患者规范管理率", indicator("B.3"), 20.0, 60.0),
            item("管理人群血压控制率", indicator("B.2"), 10.0, 60.0),
            item("管理人群血糖控制率", indicator("B.4"), 10.0, 60.0),
            item(
                "家庭医生签约服务履约率",
                Input::ContractFulfilment,
                20.0,
                90.0,
            ),
            item(
                "远程心电服务量（人次/万人）",
                indicator("2.2a"),
                10.0,
                300.0,
            ),
            supervision(10.0),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_weigh_100() {
        for kind in MemberKind::ALL {
            assert_eq!(check(&default_items(kind)), Ok(()), "{kind:?}");
        }
    }

    #[test]
    fn points_by_rule() {
        let rate = item("x", indicator("B.1"), 20.0, 60.0);
        assert_eq!(points(&rate, Some(60.0)), 20.0);
        assert_eq!(points(&rate, Some(45.0)), 15.0);
        assert_eq!(points(&rate, None), 0.0);
        let pass = Item {
            scoring: Scoring::PassFail,
            ..rate.clone()
        };
        assert_eq!(points(&pass, Some(59.9)), 0.0);
        let cost = Item {
            lower_is_better: true,
            target: 100.0,
            ..rate
        };
        assert_eq!(points(&cost, Some(125.0)), 16.0);
        let findings = supervision(15.0);
        assert_eq!(points(&findings, Some(3.0)), 9.0);
        assert_eq!(points(&findings, Some(10.0)), 0.0);
    }
}
