//! The indicator facts: monthly counts and sums per member institution, recomputed from the
//! source tables (encounters, claims, out-of-county care, ECGs, examination reports,
//! referrals and the chest pain cases' time points) for the months the database's triggers
//! marked stale. A year of indicators then reads twelve months of small rows instead of
//! scanning every encounter and claim.

use std::collections::HashMap;

use sqlx::Row;

use super::measure::{IntervalPart, Measure};
use crate::clock::Millis;
use crate::db::{Db, Transaction};

/// One grouped query over a source table for one month: `institution_id` and one column per
/// fact. `$1` is the community; then the month as `by` says.
struct Source {
    sql: &'static str,
    by: By,
    facts: &'static [&'static str],
}

/// How a source's query names the month.
enum By {
    /// `$2`/`$3`: the month's bounds in ms (CST).
    Bounds,
    /// `$2`: the month as 'YYYY-MM', for tables that store it.
    Month,
}

const COSTS: &str = "e.cost_drugs_fen + e.cost_examinations_fen + e.cost_tests_fen \
                     + e.cost_treatment_fen + e.cost_beds_fen + e.cost_materials_fen";

/// The sources, with `{costs}` standing for an encounter's total cost.
const SOURCES: &[Source] = &[
    // Visits and admissions by the month they began.
    Source {
        sql: "SELECT e.institution_id, \
              CAST(SUM(CASE WHEN e.kind <> 'inpatient' THEN 1 ELSE 0 END) AS BIGINT) AS visits, \
              CAST(SUM(CASE WHEN e.kind <> 'inpatient' AND d.code = 'TCM' THEN 1 ELSE 0 END) AS BIGINT) AS tcm_visits, \
              CAST(SUM(CASE WHEN e.kind = 'outpatient' THEN 1 ELSE 0 END) AS BIGINT) AS outpatient_visits, \
              CAST(SUM(CASE WHEN e.kind = 'outpatient' THEN {costs} ELSE 0 END) AS BIGINT) AS outpatient_cost_fen, \
              CAST(SUM(CASE WHEN e.kind = 'inpatient' THEN 1 ELSE 0 END) AS BIGINT) AS admissions \
              FROM encounters e LEFT JOIN departments d ON d.id = e.department_id \
              WHERE e.community_id = $1 AND e.started_at_ms >= $2 AND e.started_at_ms < $3 \
              GROUP BY e.institution_id",
        by: By::Bounds,
        facts: &[
            "visits",
            "tcm_visits",
            "outpatient_visits",
            "outpatient_cost_fen",
            "admissions",
        ],
    },
    // Inpatient stays by the month of discharge.
    Source {
        sql: "SELECT e.institution_id, CAST(COUNT(*) AS BIGINT) AS discharges, \
              CAST(SUM((e.ended_at_ms - e.started_at_ms + 43200000) / 86400000) AS BIGINT) AS bed_days, \
              CAST(SUM({costs}) AS BIGINT) AS discharge_cost_fen \
              FROM encounters e WHERE e.community_id = $1 AND e.kind = 'inpatient' \
              AND e.ended_at_ms >= $2 AND e.ended_at_ms < $3 GROUP BY e.institution_id",
        by: By::Bounds,
        facts: &["discharges", "bed_days", "discharge_cost_fen"],
    },
    // In-county claims by their month.
    Source {
        sql: "SELECT c.institution_id, CAST(COUNT(*) AS BIGINT) AS claims, \
              CAST(SUM(c.fund_paid_fen) AS BIGINT) AS claim_fund_fen, \
              CAST(SUM(CASE WHEN e.kind = 'inpatient' THEN 1 ELSE 0 END) AS BIGINT) AS claim_inpatient, \
              CAST(SUM(CASE WHEN e.kind = 'inpatient' THEN c.total_fen ELSE 0 END) AS BIGINT) AS claim_inpatient_total_fen \
              FROM claims c JOIN encounters e ON e.id = c.encounter_id \
              WHERE c.community_id = $1 AND c.month = $2 GROUP BY c.institution_id",
        by: By::Month,
        facts: &[
            "claims",
            "claim_fund_fen",
            "claim_inpatient",
            "claim_inpatient_total_fen",
        ],
    },
    // Out-of-county care, counted to the resident's village clinic.
    Source {
        sql: "SELECT r.village_clinic_id AS institution_id, CAST(COUNT(*) AS BIGINT) AS out_of_county, \
              CAST(SUM(o.fund_paid_fen) AS BIGINT) AS out_of_county_fund_fen, \
              CAST(SUM(CASE WHEN o.kind = 'inpatient' THEN 1 ELSE 0 END) AS BIGINT) AS out_of_county_inpatient \
              FROM out_of_county_claims o JOIN residents r ON r.id = o.resident_id \
              WHERE o.community_id = $1 AND o.month = $2 GROUP BY r.village_clinic_id",
        by: By::Month,
        facts: &[
            "out_of_county",
            "out_of_county_fund_fen",
            "out_of_county_inpatient",
        ],
    },
    // Remote ECG reads, counted to the site that recorded them.
    Source {
        sql: "SELECT g.site_institution_id AS institution_id, CAST(COUNT(*) AS BIGINT) AS ecg_reads \
              FROM ecgs g WHERE g.community_id = $1 AND g.reported_at_ms >= $2 \
              AND g.reported_at_ms < $3 GROUP BY g.site_institution_id",
        by: By::Bounds,
        facts: &["ecg_reads"],
    },
    // Remote imaging reads (the imaging centre's first signed report of a study), counted to
    // the site that sent the study.
    Source {
        sql: "SELECT s.site_institution_id AS institution_id, CAST(COUNT(*) AS BIGINT) AS imaging_reads \
              FROM imaging_studies s WHERE s.community_id = $1 AND s.reported_at_ms >= $2 \
              AND s.reported_at_ms < $3 GROUP BY s.site_institution_id",
        by: By::Bounds,
        facts: &["imaging_reads"],
    },
    // Examination reports written by the shared centres.
    Source {
        sql: "SELECT x.institution_id, CAST(COUNT(*) AS BIGINT) AS exam_reads \
              FROM exam_reports x JOIN institutions i ON i.id = x.institution_id \
              WHERE x.community_id = $1 AND i.kind = 'centre' AND x.reported_at_ms >= $2 \
              AND x.reported_at_ms < $3 GROUP BY x.institution_id",
        by: By::Bounds,
        facts: &["exam_reads"],
    },
    // Referrals sent, counted to the sending institution.
    Source {
        sql: "SELECT f.from_institution_id AS institution_id, \
              CAST(SUM(CASE WHEN f.direction = 'up' THEN 1 ELSE 0 END) AS BIGINT) AS up_referrals, \
              CAST(SUM(CASE WHEN f.direction = 'down' THEN 1 ELSE 0 END) AS BIGINT) AS down_referrals, \
              CAST(SUM(CASE WHEN f.direction = 'down' AND f.state NOT IN ('submitted', 'rejected') \
                   THEN 1 ELSE 0 END) AS BIGINT) AS down_referrals_accepted, \
              CAST(SUM(CASE WHEN f.direction = 'down' AND f.state = 'closed' THEN 1 ELSE 0 END) AS BIGINT) \
                   AS down_referrals_closed \
              FROM referrals f WHERE f.community_id = $1 AND f.state NOT IN ('draft', 'cancelled') \
              AND f.created_at_ms >= $2 AND f.created_at_ms < $3 GROUP BY f.from_institution_id",
        by: By::Bounds,
        facts: &[
            "up_referrals",
            "down_referrals",
            "down_referrals_accepted",
            "down_referrals_closed",
        ],
    },
];

/// The months of a community whose facts are stale, oldest first.
async fn stale_months(db: &Db, community_id: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT month FROM indicator_stale_months WHERE community_id = $1 ORDER BY month",
    )
    .bind(community_id)
    .fetch_all(&db.pool)
    .await
}

/// Recomputes the facts of every stale month of the community.
pub async fn refresh_stale(db: &Db, community_id: i64) -> Result<(), sqlx::Error> {
    for month in stale_months(db, community_id).await? {
        let mut tx = db.begin().await?;
        if refresh_month(&mut tx, community_id, &month).await? {
            tx.commit().await?;
        }
    }
    Ok(())
}

/// Recomputes one month's facts; false when another recomputation got there first.
async fn refresh_month(
    tx: &mut Transaction,
    community_id: i64,
    month: &str,
) -> Result<bool, sqlx::Error> {
    // The first statement takes the month's mark (a row lock on PostgreSQL, the write lock on
    // SQLite): a write to the month waits until the new facts are committed, and its trigger
    // then marks the month stale again.
    let marked = sqlx::query(
        "UPDATE indicator_stale_months SET changes = changes \
         WHERE community_id = $1 AND month = $2",
    )
    .bind(community_id)
    .bind(month)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if marked == 0 {
        return Ok(false);
    }
    let Some((start, end)) = crate::clock::month_bounds_cst(month) else {
        // Not a month (written by hand?): nothing to count, so drop the mark.
        delete_mark(tx, community_id, month).await?;
        return Ok(true);
    };
    sqlx::query("DELETE FROM indicator_facts WHERE community_id = $1 AND month = $2")
        .bind(community_id)
        .bind(month)
        .execute(&mut **tx)
        .await?;
    let mut rows = Vec::new();
    for source in SOURCES {
        rows.extend(count_source(tx, source, community_id, (start, end), month).await?);
    }
    rows.extend(chest_pain_facts(tx, community_id, (start, end)).await?);
    insert_facts(tx, community_id, month, &rows).await?;
    delete_mark(tx, community_id, month).await?;
    Ok(true)
}

async fn count_source(
    tx: &mut Transaction,
    source: &Source,
    community_id: i64,
    (start, end): (Millis, Millis),
    month: &str,
) -> Result<Vec<(&'static str, i64, i64)>, sqlx::Error> {
    let sql = source.sql.replace("{costs}", COSTS);
    let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(community_id);
    let query = match source.by {
        By::Bounds => query.bind(start).bind(end),
        By::Month => query.bind(month),
    };
    let found = query.fetch_all(&mut **tx).await?;
    let mut rows = Vec::new();
    for row in found {
        let institution_id: i64 = row.try_get("institution_id")?;
        for fact in source.facts {
            let value: Option<i64> = row.try_get(*fact)?;
            if let Some(value) = value.filter(|v| *v != 0) {
                rows.push((*fact, institution_id, value));
            }
        }
    }
    Ok(rows)
}

/// The chest pain centre's intervals over the month's green-channel cases, as the facts of
/// the `Measure`s that count them (cases, seconds, cases within target). Door-to-balloon counts
/// to the receiving (PCI) hospital, whose door it is; the others to the sending institution.
async fn chest_pain_facts(
    tx: &mut Transaction,
    community_id: i64,
    bounds: (Millis, Millis),
) -> Result<Vec<(&'static str, i64, i64)>, sqlx::Error> {
    let cases = crate::referral::store::chest_pain_cases(tx, community_id, bounds).await?;
    let mut facts: HashMap<(&'static str, i64), i64> = HashMap::new();
    for case in cases {
        for interval in crate::referral::timeline::intervals(&case.points) {
            let (Some(from), Some(to)) = (
                case.points.get(&interval.from),
                case.points.get(&interval.to),
            ) else {
                continue;
            };
            let institution = if interval.name == "door_to_balloon" {
                case.to_institution_id
            } else {
                case.from_institution_id
            };
            for measure in Measure::ALL {
                let value = match measure.chest_pain_interval() {
                    Some((name, part)) if name == interval.name => match part {
                        IntervalPart::Cases => 1,
                        IntervalPart::Seconds => (to - from) / 1000,
                        IntervalPart::WithinTarget => {
                            i64::from(interval.within_target == Some(true))
                        }
                    },
                    _ => continue,
                };
                *facts.entry((measure.as_str(), institution)).or_default() += value;
            }
        }
    }
    Ok(facts
        .into_iter()
        .filter(|(_, value)| *value != 0)
        .map(|((fact, institution), value)| (fact, institution, value))
        .collect())
}

async fn insert_facts(
    tx: &mut Transaction,
    community_id: i64,
    month: &str,
    rows: &[(&'static str, i64, i64)],
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(500) {
        // Only numbers and the static fact names are written into the SQL; the month is bound.
        let values: Vec<String> = chunk
            .iter()
            .map(|(fact, institution_id, value)| {
                format!("({community_id}, $1, '{fact}', {institution_id}, {value})")
            })
            .collect();
        let sql = format!(
            "INSERT INTO indicator_facts (community_id, month, fact, institution_id, value) VALUES {}",
            values.join(", ")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(month)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn delete_mark(
    tx: &mut Transaction,
    community_id: i64,
    month: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM indicator_stale_months WHERE community_id = $1 AND month = $2")
        .bind(community_id)
        .bind(month)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The facts of the months `first..=last` ('YYYY-MM'), summed per fact and institution.
pub async fn facts(
    db: &Db,
    community_id: i64,
    (first, last): (&str, &str),
) -> Result<HashMap<(String, i64), i64>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT fact, institution_id, CAST(SUM(value) AS BIGINT) AS value FROM indicator_facts \
         WHERE community_id = $1 AND month >= $2 AND month <= $3 GROUP BY fact, institution_id",
    )
    .bind(community_id)
    .bind(first)
    .bind(last)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok((
                (row.try_get("fact")?, row.try_get("institution_id")?),
                row.try_get("value")?,
            ))
        })
        .collect()
}

/// Residents of the community (not merged away), per village clinic.
pub async fn population_by_village(
    db: &Db,
    community_id: i64,
) -> Result<HashMap<i64, i64>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT village_clinic_id, CAST(COUNT(*) AS BIGINT) AS residents FROM residents \
         WHERE community_id = $1 AND merged_into_id IS NULL GROUP BY village_clinic_id",
    )
    .bind(community_id)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter()
        .map(|row| Ok((row.try_get("village_clinic_id")?, row.try_get("residents")?)))
        .collect()
}

/// A county's own definition of an indicator (its 口径), as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CountyDefinition {
    pub code: String,
    pub name: String,
    pub numerator: String,
    pub denominator: String,
    pub scale: f64,
    pub unit: String,
    pub basis: String,
    pub updated_by_staff_id: i64,
    pub updated_at_ms: i64,
}

pub async fn county_definitions(
    db: &Db,
    community_id: i64,
) -> Result<Vec<CountyDefinition>, sqlx::Error> {
    sqlx::query_as(
        "SELECT code, name, numerator, denominator, scale, unit, basis, updated_by_staff_id, \
         updated_at_ms FROM indicator_definitions WHERE community_id = $1 ORDER BY code",
    )
    .bind(community_id)
    .fetch_all(&db.pool)
    .await
}

pub async fn put_county_definition(
    tx: &mut Transaction,
    community_id: i64,
    definition: &CountyDefinition,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO indicator_definitions (community_id, code, name, numerator, denominator, \
         scale, unit, basis, updated_by_staff_id, updated_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (community_id, code) DO UPDATE SET name = excluded.name, \
         numerator = excluded.numerator, denominator = excluded.denominator, \
         scale = excluded.scale, unit = excluded.unit, basis = excluded.basis, \
         updated_by_staff_id = excluded.updated_by_staff_id, updated_at_ms = excluded.updated_at_ms",
    )
    .bind(community_id)
    .bind(&definition.code)
    .bind(&definition.name)
    .bind(&definition.numerator)
    .bind(&definition.denominator)
    .bind(definition.scale)
    .bind(&definition.unit)
    .bind(&definition.basis)
    .bind(definition.updated_by_staff_id)
    .bind(definition.updated_at_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Removes the county's definition; false when it had none.
pub async fn delete_county_definition(
    tx: &mut Transaction,
    community_id: i64,
    code: &str,
) -> Result<bool, sqlx::Error> {
    let deleted =
        sqlx::query("DELETE FROM indicator_definitions WHERE community_id = $1 AND code = $2")
            .bind(community_id)
            .bind(code)
            .execute(&mut **tx)
            .await?
            .rows_affected();
    Ok(deleted > 0)
}

/// A county's target for an indicator, as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CountyTarget {
    pub code: String,
    pub direction: String,
    pub value: f64,
    pub basis: String,
    pub updated_at_ms: i64,
}

pub async fn county_targets(db: &Db, community_id: i64) -> Result<Vec<CountyTarget>, sqlx::Error> {
    sqlx::query_as(
        "SELECT code, direction, value, basis, updated_at_ms FROM indicator_targets \
         WHERE community_id = $1 ORDER BY code",
    )
    .bind(community_id)
    .fetch_all(&db.pool)
    .await
}

pub async fn put_county_target(
    tx: &mut Transaction,
    community_id: i64,
    target: &CountyTarget,
    staff_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO indicator_targets (community_id, code, direction, value, basis, \
         updated_by_staff_id, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (community_id, code) DO UPDATE SET direction = excluded.direction, \
         value = excluded.value, basis = excluded.basis, \
         updated_by_staff_id = excluded.updated_by_staff_id, updated_at_ms = excluded.updated_at_ms",
    )
    .bind(community_id)
    .bind(&target.code)
    .bind(&target.direction)
    .bind(target.value)
    .bind(&target.basis)
    .bind(staff_id)
    .bind(target.updated_at_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn delete_county_target(
    tx: &mut Transaction,
    community_id: i64,
    code: &str,
) -> Result<bool, sqlx::Error> {
    let deleted =
        sqlx::query("DELETE FROM indicator_targets WHERE community_id = $1 AND code = $2")
            .bind(community_id)
            .bind(code)
            .execute(&mut **tx)
            .await?
            .rows_affected();
    Ok(deleted > 0)
}
