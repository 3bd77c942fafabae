//! DIP (按病种分值付费): disease groups — a principal diagnosis (ICD-10 prefix) and a main
//! procedure, or none for conservative treatment — with points. Each inpatient stay is scored
//! against the most specific matching group; the month's point value is the fund spent on
//! in-county inpatient claims ÷ all points; each member is paid its points × the point value,
//! split to the fen.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{Error, require_officer, require_reader};
use crate::access::Actor;
use crate::audit::{self, Entry};
use crate::clock::Millis;
use crate::ctx::Ctx;

#[derive(Clone, Debug, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Group {
    pub code: String,
    pub name: String,
    /// The principal diagnosis's ICD-10 code begins with this (`I21`, `J18.9`).
    pub icd10_prefix: String,
    /// The main procedure (ICD-9-CM-3), or empty for conservative treatment.
    #[serde(default)]
    pub procedure_code: String,
    pub points: i64,
}

/// A demo catalogue: code, name, ICD-10 prefix, procedure, points.
pub const DEMO: [(&str, &str, &str, &str, i64); 10] = [
    (
        "I21-PCI",
        "急性心肌梗死 经皮冠状动脉介入",
        "I21",
        "00.66",
        3_200,
    ),
    ("I21", "急性心肌梗死 保守治疗", "I21", "", 1_500),
    ("I63", "脑梗死 保守治疗", "I63", "", 1_100),
    ("J18", "肺炎 保守治疗", "J18", "", 480),
    ("J44", "慢性阻塞性肺疾病 保守治疗", "J44", "", 620),
    ("I10", "高血压 保守治疗", "I10", "", 300),
    ("E11", "2 型糖尿病 保守治疗", "E11", "", 420),
    ("K80-LC", "胆石症 腹腔镜胆囊切除", "K80", "51.23", 1_300),
    ("K35-APP", "急性阑尾炎 阑尾切除", "K35", "47.09", 900),
    ("O80", "单胎顺产", "O80", "", 500),
];

/// The group a case falls in: same procedure before conservative, longer prefix before shorter.
pub fn group_of<'a>(groups: &'a [Group], icd10: &str, procedure: &str) -> Option<&'a Group> {
    groups
        .iter()
        .filter(|g| icd10.starts_with(&g.icd10_prefix))
        .filter(|g| g.procedure_code.is_empty() || g.procedure_code == procedure)
        .max_by_key(|g| (!g.procedure_code.is_empty(), g.icd10_prefix.len()))
}

pub async fn groups(ctx: &Ctx, actor: &Actor) -> Result<Vec<Group>, Error> {
    require_reader(actor)?;
    groups_of(ctx, actor.community_id).await
}

async fn groups_of(ctx: &Ctx, community_id: i64) -> Result<Vec<Group>, Error> {
    Ok(sqlx::query_as(
        "SELECT code, name, icd10_prefix, procedure_code, points FROM dip_groups \
         WHERE community_id = $1 ORDER BY code",
    )
    .bind(community_id)
    .fetch_all(&ctx.db.pool)
    .await?)
}

pub async fn insert_group(
    conn: &mut sqlx::AnyConnection,
    community_id: i64,
    group: &Group,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO dip_groups (community_id, code, name, icd10_prefix, procedure_code, points) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (community_id, code) DO UPDATE SET \
         name = excluded.name, icd10_prefix = excluded.icd10_prefix, \
         procedure_code = excluded.procedure_code, points = excluded.points",
    )
    .bind(community_id)
    .bind(group.code.trim())
    .bind(group.name.trim())
    .bind(group.icd10_prefix.trim().to_ascii_uppercase())
    .bind(group.procedure_code.trim())
    .bind(group.points)
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds or changes a group (insurance officers).
pub async fn put_group(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    group: &Group,
) -> Result<Vec<Group>, Error> {
    require_officer(actor)?;
    let prefix = group.icd10_prefix.trim();
    if group.code.trim().is_empty()
        || group.name.trim().is_empty()
        || prefix.len() < 3
        || crate::icd10::check(&prefix[..3]).is_err()
        || !(1..=100_000).contains(&group.points)
    {
        return Err(Error::Invalid {
            field: "group",
            reason: "code and name; an ICD-10 prefix of at least a category; points 1–100000",
        });
    }
    let mut tx = ctx.db.begin().await?;
    insert_group(&mut tx, actor.community_id, group).await?;
    let entry =
        Entry::by(actor, now, "dip.group.set", "dip_group", None).detail(group.code.clone());
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    groups(ctx, actor).await
}

#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct MemberPayment {
    pub institution_id: i64,
    pub cases: i64,
    pub points: i64,
    pub payment_fen: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MonthScores {
    pub month: String,
    pub cases: i64,
    /// Stays no group matched (paid nothing by points; listed for the catalogue's upkeep).
    pub unmatched: i64,
    pub total_points: i64,
    pub fund_fen: i64,
    /// Fen per point, as a decimal for display; payments are split exactly.
    pub point_value_fen: Option<f64>,
    pub members: Vec<MemberPayment>,
}

/// Scores the month's in-county inpatient stays and shares the fund by points.
pub async fn month_scores(ctx: &Ctx, actor: &Actor, month: &str) -> Result<MonthScores, Error> {
    require_reader(actor)?;
    let groups = groups_of(ctx, actor.community_id).await?;
    let rows = sqlx::query(
        "SELECT c.institution_id, c.fund_paid_fen, e.main_procedure, \
         (SELECT d.icd10 FROM encounter_diagnoses d WHERE d.encounter_id = e.id AND d.position = 1) AS icd10 \
         FROM claims c JOIN encounters e ON e.id = c.encounter_id \
         WHERE c.community_id = $1 AND c.month = $2 AND e.kind = 'inpatient'",
    )
    .bind(actor.community_id)
    .bind(month)
    .fetch_all(&ctx.db.pool)
    .await?;
    let mut members: BTreeMap<i64, MemberPayment> = BTreeMap::new();
    let (mut fund, mut unmatched, mut cases) = (0, 0, 0);
    for row in &rows {
        let institution: i64 = row.try_get("institution_id")?;
        let icd10: Option<String> = row.try_get("icd10")?;
        let procedure: String = row.try_get("main_procedure")?;
        fund += row.try_get::<i64, _>("fund_paid_fen")?;
        cases += 1;
        let Some(group) = icd10.and_then(|code| group_of(&groups, &code, &procedure).cloned())
        else {
            unmatched += 1;
            continue;
        };
        let member = members.entry(institution).or_insert_with(|| MemberPayment {
            institution_id: institution,
            ..Default::default()
        });
        member.cases += 1;
        member.points += group.points;
    }
    let total_points: i64 = members.values().map(|m| m.points).sum();
    let weights: Vec<(i64, i64)> = members
        .values()
        .map(|m| (m.institution_id, m.points))
        .collect();
    for (institution, payment) in super::budget::split(fund, &weights) {
        if let Some(member) = members.get_mut(&institution) {
            member.payment_fen = payment;
        }
    }
    Ok(MonthScores {
        month: month.to_owned(),
        cases,
        unmatched,
        total_points,
        fund_fen: fund,
        point_value_fen: (total_points > 0).then(|| fund as f64 / total_points as f64),
        members: members.into_values().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(code: &str, prefix: &str, procedure: &str) -> Group {
        Group {
            code: code.into(),
            name: code.into(),
            icd10_prefix: prefix.into(),
            procedure_code: procedure.into(),
            points: 1,
        }
    }

    #[test]
    fn the_most_specific_group_wins() {
        let groups = [
            group("I21", "I21", ""),
            group("I21-PCI", "I21", "00.66"),
            group("I21.0", "I21.0", ""),
        ];
        assert_eq!(group_of(&groups, "I21.0", "00.66").unwrap().code, "I21-PCI");
        assert_eq!(group_of(&groups, "I21.0", "").unwrap().code, "I21.0");
        assert_eq!(group_of(&groups, "I21.4", "").unwrap().code, "I21");
        assert!(group_of(&groups, "J18.9", "").is_none());
    }
}
