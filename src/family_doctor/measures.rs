//! The family doctor measures on a day, per village, township and team (a team's villages by
//! the health grids it looks after): contract coverage (residents with a contract in force /
//! residents), key-group coverage (of residents aged ≥ 65 or 0–6 or managed for hypertension
//! or diabetes), the renewal rate (of contracts that ended in the last year, those renewed by
//! 30 days after their end), fulfilment (services delivered, each up to what is due, / due) and
//! the share of managed chronic patients under contract.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use time::Date;

use super::{Error, Span, deliveries, store};
use crate::access::{self, Actor};
use crate::chronic::monthly::Ratio;
use crate::clock::{self, Millis};
use crate::ctx::Ctx;

const DAY_MS: Millis = 86_400_000;

#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct MeasuresQuery {
    /// A village clinic, or a township centre with its villages (default: what the caller
    /// oversees).
    pub institution: Option<i64>,
}

/// The counts of one area, summed from its villages.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    residents: i64,
    contracted: i64,
    key_residents: i64,
    key_contracted: i64,
    chronic: i64,
    chronic_contracted: i64,
    ended: i64,
    renewed: i64,
    due: i64,
    met: i64,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.residents += o.residents;
        self.contracted += o.contracted;
        self.key_residents += o.key_residents;
        self.key_contracted += o.key_contracted;
        self.chronic += o.chronic;
        self.chronic_contracted += o.chronic_contracted;
        self.ended += o.ended;
        self.renewed += o.renewed;
        self.due += o.due;
        self.met += o.met;
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AreaMeasures {
    /// The institution (village or township) or team.
    pub id: i64,
    pub name: String,
    pub residents: i64,
    pub coverage: Ratio,
    pub key_group_coverage: Ratio,
    pub renewal: Ratio,
    pub fulfilment: Ratio,
    pub chronic_under_contract: Ratio,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FamilyDoctorMeasures {
    /// `YYYY-MM-DD`.
    pub on: String,
    pub total: AreaMeasures,
    pub villages: Vec<AreaMeasures>,
    pub townships: Vec<AreaMeasures>,
    pub teams: Vec<AreaMeasures>,
}

fn measures_of(id: i64, name: String, t: &Tally) -> AreaMeasures {
    AreaMeasures {
        id,
        name,
        residents: t.residents,
        coverage: Ratio::of(t.contracted, t.residents),
        key_group_coverage: Ratio::of(t.key_contracted, t.key_residents),
        renewal: Ratio::of(t.renewed, t.ended),
        fulfilment: Ratio::of(t.met, t.due),
        chronic_under_contract: Ratio::of(t.chronic_contracted, t.chronic),
    }
}

#[derive(sqlx::FromRow)]
struct VillageRow {
    village: i64,
    residents: i64,
    contracted: i64,
    key_residents: i64,
    key_contracted: i64,
    chronic: i64,
    chronic_contracted: i64,
}

/// Residents, key groups and managed chronic patients per village, and those of them with a
/// contract in force.
async fn villages(
    ctx: &Ctx,
    community_id: i64,
    today: Date,
) -> Result<Vec<VillageRow>, sqlx::Error> {
    let years_ago = |years: i32| clock::years_after(today, -years).to_string();
    sqlx::query_as(
        "WITH people AS (SELECT r.village_clinic_id AS village, \
           CASE WHEN r.birth_date <= $2 OR r.birth_date > $3 OR EXISTS (SELECT 1 FROM chronic_enrolments e \
             WHERE e.community_id = r.community_id AND e.resident_id = r.id AND e.status = 'managed') THEN 1 ELSE 0 END AS key_group, \
           CASE WHEN EXISTS (SELECT 1 FROM chronic_enrolments e WHERE e.community_id = r.community_id \
             AND e.resident_id = r.id AND e.status = 'managed') THEN 1 ELSE 0 END AS chronic, \
           CASE WHEN EXISTS (SELECT 1 FROM family_doctor_contracts c WHERE c.community_id = r.community_id \
             AND c.resident_id = r.id AND c.status = 'signed' AND c.start_date <= $4 \
             AND c.end_date >= $4) THEN 1 ELSE 0 END AS contracted \
           FROM residents r WHERE r.community_id = $1 AND r.merged_into_id IS NULL AND r.died_on IS NULL) \
         SELECT village, CAST(COUNT(*) AS BIGINT) AS residents, CAST(SUM(contracted) AS BIGINT) AS contracted, \
           CAST(SUM(key_group) AS BIGINT) AS key_residents, \
           CAST(SUM(key_group * contracted) AS BIGINT) AS key_contracted, \
           CAST(SUM(chronic) AS BIGINT) AS chronic, \
           CAST(SUM(chronic * contracted) AS BIGINT) AS chronic_contracted \
         FROM people GROUP BY village",
    )
    .bind(community_id)
    .bind(years_ago(65))
    .bind(years_ago(7))
    .bind(today.to_string())
    .fetch_all(&ctx.db.pool)
    .await
}

/// Per village: contracts that ended in the last year and of them those renewed by 30 days
/// after their end.
async fn renewals(
    ctx: &Ctx,
    community_id: i64,
    now: Millis,
) -> Result<HashMap<i64, (i64, i64)>, sqlx::Error> {
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT r.village_clinic_id, CAST(COUNT(*) AS BIGINT), CAST(SUM(CASE WHEN EXISTS (\
           SELECT 1 FROM family_doctor_contracts n WHERE n.community_id = c.community_id \
           AND n.resident_id = c.resident_id AND n.status <> 'terminated' \
           AND n.start_date > c.end_date AND n.signed_at_ms < c.ends_at_ms + $3) THEN 1 ELSE 0 END) AS BIGINT) \
         FROM family_doctor_contracts c JOIN residents r ON r.id = c.resident_id \
         WHERE c.community_id = $1 AND c.status = 'signed' AND c.ends_at_ms <= $2 \
         AND c.ends_at_ms > $2 - $4 GROUP BY r.village_clinic_id",
    )
    .bind(community_id)
    .bind(now)
    .bind(30 * DAY_MS)
    .bind(365 * DAY_MS)
    .fetch_all(&ctx.db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(v, ended, renewed)| (v, (ended, renewed)))
        .collect())
}

/// Per village: services due and delivered (each up to what is due) under contracts in force.
async fn fulfilment(
    ctx: &Ctx,
    community_id: i64,
    (now, today): (Millis, Date),
) -> Result<HashMap<i64, (i64, i64)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        village: i64,
        start_date: String,
        end_date: String,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT c.id, r.village_clinic_id AS village, c.start_date, c.end_date \
         FROM family_doctor_contracts c JOIN residents r ON r.id = c.resident_id \
         WHERE c.community_id = $1 AND c.status = 'signed' AND c.starts_at_ms <= $2 AND c.ends_at_ms > $2",
    )
    .bind(community_id)
    .bind(now)
    .fetch_all(&ctx.db.pool)
    .await?;
    let package_ids = store::packages_in_force(&ctx.db, community_id, now).await?;
    let packages: HashMap<i64, super::Package> = store::packages(&ctx.db, community_id)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let delivered = store::delivered(&ctx.db, community_id, now, None).await?;
    let mut by_village: HashMap<i64, (i64, i64)> = HashMap::new();
    for row in rows {
        let chosen: Vec<super::Package> = package_ids
            .get(&row.id)
            .into_iter()
            .flatten()
            .filter_map(|id| packages.get(id).cloned())
            .collect();
        let span = Span {
            start: &row.start_date,
            end: &row.end_date,
            terminated_on: None,
        };
        let entry = by_village.entry(row.village).or_default();
        for d in deliveries(row.id, &span, &chosen, today, &delivered) {
            entry.0 += d.due;
            entry.1 += d.delivered.min(d.due);
        }
    }
    Ok(by_village)
}

/// The measures of the caller's area (or the institution chosen) on `today`.
pub async fn measures(
    ctx: &Ctx,
    (now, today): (Millis, Date),
    actor: &Actor,
    query: &MeasuresQuery,
) -> Result<FamilyDoctorMeasures, Error> {
    let all =
        crate::institution::store::institutions_in_community(&ctx.db, actor.community_id).await?;
    let area = crate::chronic::monthly::area(actor, &all, query.institution)
        .map_err(|_| access::Denied)?;
    measures_over(ctx, (actor.community_id, &all), (now, today), &area).await
}

/// The measures over the villages of `area` on `today` (the caller has checked who may see
/// them), of the community's institutions `all`.
pub async fn measures_over(
    ctx: &Ctx,
    (community_id, all): (i64, &[crate::institution::Institution]),
    (now, today): (Millis, Date),
    area: &[i64],
) -> Result<FamilyDoctorMeasures, Error> {
    let renewals = renewals(ctx, community_id, now).await?;
    let fulfilment = fulfilment(ctx, community_id, (now, today)).await?;
    let teams_of_village: HashMap<i64, i64> = sqlx::query_as(
        "SELECT village_clinic_id, care_team_id FROM grids WHERE community_id = $1 \
         AND care_team_id IS NOT NULL",
    )
    .bind(community_id)
    .fetch_all(&ctx.db.pool)
    .await?
    .into_iter()
    .collect();
    let township_of: HashMap<i64, Option<i64>> =
        all.iter().map(|i| (i.id, i.township_id)).collect();
    let names: HashMap<i64, String> = all.iter().map(|i| (i.id, i.name.clone())).collect();
    let team_names: HashMap<i64, String> = store::teams(&ctx.db, community_id)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let (mut total, mut by_village, mut by_township, mut by_team) = (
        Tally::default(),
        HashMap::new(),
        HashMap::new(),
        HashMap::<i64, Tally>::new(),
    );
    for row in villages(ctx, community_id, today).await? {
        if !area.contains(&row.village) {
            continue;
        }
        let (ended, renewed) = renewals.get(&row.village).copied().unwrap_or_default();
        let (due, met) = fulfilment.get(&row.village).copied().unwrap_or_default();
        let tally = Tally {
            residents: row.residents,
            contracted: row.contracted,
            key_residents: row.key_residents,
            key_contracted: row.key_contracted,
            chronic: row.chronic,
            chronic_contracted: row.chronic_contracted,
            ended,
            renewed,
            due,
            met,
        };
        total.add(&tally);
        by_village.insert(row.village, tally);
        if let Some(Some(township)) = township_of.get(&row.village) {
            by_township
                .entry(*township)
                .or_insert_with(Tally::default)
                .add(&tally);
        }
        if let Some(team) = teams_of_village.get(&row.village) {
            by_team.entry(*team).or_default().add(&tally);
        }
    }
    let listed = |tallies: HashMap<i64, Tally>, names: &HashMap<i64, String>| {
        let mut rows: Vec<AreaMeasures> = tallies
            .iter()
            .map(|(id, t)| measures_of(*id, names.get(id).cloned().unwrap_or_default(), t))
            .collect();
        rows.sort_by_key(|r| r.id);
        rows
    };
    Ok(FamilyDoctorMeasures {
        on: today.to_string(),
        total: measures_of(0, "合计".into(), &total),
        villages: listed(by_village, &names),
        townships: listed(by_township, &names),
        teams: listed(by_team, &team_names),
    })
}
