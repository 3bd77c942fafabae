//! Targets (目标值): what an indicator should reach — at least or at most a value — so that the
//! health bureau sees what is off target. Some come with the indicator's own source (the chest
//! pain centre's time limits, this platform's STAT limit, the provincial target for primary
//! care's share of visits); a county may set its own for any computed indicator, with the rule
//! it comes from, audited, and undone by resetting.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::definitions::DEFINITIONS;
use super::store::{self, CountyTarget};
use super::{Error, Formula};
use crate::audit;
use crate::clock::{self, Millis};
use crate::ctx::Ctx;
use crate::db::Db;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    AtLeast,
    AtMost,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::AtLeast => "at_least",
            Direction::AtMost => "at_most",
        }
    }

    pub fn parse(text: &str) -> Option<Direction> {
        [Direction::AtLeast, Direction::AtMost]
            .into_iter()
            .find(|d| d.as_str() == text)
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Direction::AtLeast => "≥",
            Direction::AtMost => "≤",
        }
    }
}

/// An indicator's target in force.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Target {
    pub direction: Direction,
    pub value: f64,
    /// The rule or document it comes from.
    pub source: String,
    /// Set by the county (else it comes with the indicator's source).
    pub customised: bool,
    pub updated_at: Option<String>,
}

impl Target {
    pub fn met_by(&self, value: f64) -> bool {
        match self.direction {
            Direction::AtLeast => value >= self.value,
            Direction::AtMost => value <= self.value,
        }
    }

    /// `≥ 75 %`.
    pub fn label(&self, unit: &str) -> String {
        format!("{} {} {unit}", self.direction.symbol(), self.value)
    }
}

const CHEST_PAIN: &str = "中国胸痛中心认证标准（时间节点与时限）";

/// The targets that come with the indicators' sources.
const BUILT_IN: [(&str, Direction, f64, &str); 6] = [
    (
        "3.1",
        Direction::AtLeast,
        75.0,
        "省级目标：县域内基层诊疗量占比不低于 75%",
    ),
    ("P.1", Direction::AtMost, 10.0, CHEST_PAIN),
    (
        "P.3",
        Direction::AtMost,
        10.0,
        "本平台心电 STAT 时限（10 分钟）",
    ),
    ("P.5", Direction::AtMost, 90.0, CHEST_PAIN),
    ("P.7", Direction::AtMost, 120.0, CHEST_PAIN),
    ("P.9", Direction::AtMost, 30.0, CHEST_PAIN),
];

/// A county's target for an indicator.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetChange {
    pub direction: Direction,
    pub value: f64,
    /// The rule or document the target comes from.
    pub basis: String,
}

/// The targets in force for the community, by indicator code.
pub(super) async fn in_force(
    db: &Db,
    community_id: i64,
) -> Result<HashMap<&'static str, Target>, sqlx::Error> {
    let mut targets: HashMap<&'static str, Target> = BUILT_IN
        .iter()
        .map(|&(code, direction, value, source)| {
            let target = Target {
                direction,
                value,
                source: source.to_owned(),
                customised: false,
                updated_at: None,
            };
            (code, target)
        })
        .collect();
    for county in store::county_targets(db, community_id).await? {
        let (Some(definition), Some(direction)) = (
            DEFINITIONS.iter().find(|d| d.code == county.code),
            Direction::parse(&county.direction),
        ) else {
            continue;
        };
        targets.insert(
            definition.code,
            Target {
                direction,
                value: county.value,
                source: format!("本县目标：{}", county.basis),
                customised: true,
                updated_at: Some(clock::rfc3339_cst(county.updated_at_ms)),
            },
        );
    }
    Ok(targets)
}

fn computed(code: &str) -> Result<&'static super::Definition, Error> {
    let definition = DEFINITIONS
        .iter()
        .find(|d| d.code == code)
        .ok_or(Error::UnknownIndicator)?;
    if matches!(definition.formula, Formula::Qualitative) {
        return Err(Error::Invalid {
            field: "code",
            reason: "a qualitative indicator has no numeric target",
        });
    }
    Ok(definition)
}

/// Puts the county's target for an indicator in force.
pub async fn put(
    ctx: &Ctx,
    now: Millis,
    actor: &crate::access::Actor,
    code: &str,
    change: &TargetChange,
) -> Result<Target, Error> {
    super::basis::require_editor(actor)?;
    let definition = computed(code)?;
    if !change.value.is_finite() || change.value.abs() > 1e9 {
        return Err(Error::Invalid {
            field: "value",
            reason: "a number",
        });
    }
    let basis = change.basis.trim();
    if !(1..=500).contains(&basis.chars().count()) {
        return Err(Error::Invalid {
            field: "basis",
            reason: "1–500 characters: the rule or document the target comes from",
        });
    }
    let county = CountyTarget {
        code: definition.code.to_owned(),
        direction: change.direction.as_str().to_owned(),
        value: change.value,
        basis: basis.to_owned(),
        updated_at_ms: now,
    };
    let mut tx = ctx.db.begin().await?;
    store::put_county_target(&mut tx, actor.community_id, &county, actor.staff_id).await?;
    let entry = audit::Entry::by(actor, now, "indicator.target.set", "indicator_target", None)
        .detail(format!(
            "code={} direction={} value={}",
            county.code, county.direction, county.value
        ));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    in_force(&ctx.db, actor.community_id)
        .await?
        .remove(definition.code)
        .ok_or(Error::UnknownIndicator)
}

/// Removes the county's target: the indicator's own (if any) is in force again.
pub async fn reset(
    ctx: &Ctx,
    now: Millis,
    actor: &crate::access::Actor,
    code: &str,
) -> Result<Option<Target>, Error> {
    super::basis::require_editor(actor)?;
    let definition = computed(code)?;
    let mut tx = ctx.db.begin().await?;
    if store::delete_county_target(&mut tx, actor.community_id, definition.code).await? {
        let entry = audit::Entry::by(
            actor,
            now,
            "indicator.target.reset",
            "indicator_target",
            None,
        )
        .detail(format!("code={code}"));
        audit::store::append(&mut tx, &[entry]).await?;
    }
    tx.commit().await?;
    Ok(in_force(&ctx.db, actor.community_id)
        .await?
        .remove(definition.code))
}
