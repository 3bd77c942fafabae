//! SQL for referrals and their steps.

use std::collections::BTreeMap;

use sqlx::{AnyConnection, Row};

use super::model::{
    Direction, NewReferral, Referral, ReferralQuery, ReferralSort, ReferralState, Step,
};
use super::timeline::Point;
use crate::db::Db;

const COLUMNS: &str = "id, community_id, resident_id, direction, state, from_institution_id, \
    to_institution_id, to_department_id, reason, diagnosis_icd10, urgency, green_channel, \
    catalogue_exception_reason, ecg_id, single_deductible, rate_bonus_pp, created_by_staff_id, created_at_ms, updated_at_ms";

pub async fn insert_referral(
    conn: &mut AnyConnection,
    community_id: i64,
    from_institution_id: i64,
    new: &NewReferral,
    created_by: i64,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO referrals (community_id, resident_id, direction, state, from_institution_id, \
         to_institution_id, to_department_id, reason, diagnosis_icd10, urgency, green_channel, \
         ecg_id, created_by_staff_id, created_at_ms, updated_at_ms, single_deductible, rate_bonus_pp, \
         catalogue_exception_reason) \
         VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15, $16) RETURNING id",
    )
    .bind(community_id)
    .bind(new.resident_id)
    .bind(new.direction.as_str())
    .bind(from_institution_id)
    .bind(new.to_institution_id)
    .bind(new.to_department_id)
    .bind(new.reason.trim())
    .bind(new.diagnosis_icd10.trim().to_ascii_uppercase())
    .bind(new.urgency.as_str())
    .bind(new.green_channel.map(|g| g.as_str()))
    .bind(new.ecg_id)
    .bind(created_by)
    .bind(now_ms)
    .bind(i64::from(new.direction == super::model::Direction::Up))
    .bind(if new.direction == super::model::Direction::Down { super::model::DOWN_REFERRAL_RATE_BONUS_PP } else { 0 })
    .bind(new.catalogue_exception_reason.as_deref().map(str::trim).filter(|r| !r.is_empty()))
    .fetch_one(conn)
    .await
}

/// Moves the referral from `from` to `to` and records the step; false if it was no longer in
/// `from` (someone else moved it first).
#[expect(
    clippy::too_many_arguments,
    reason = "one step, with who, when and why"
)]
pub async fn move_state(
    conn: &mut AnyConnection,
    community_id: i64,
    id: i64,
    from: Option<ReferralState>,
    to: ReferralState,
    by_staff_id: Option<i64>,
    now_ms: i64,
    note: &str,
) -> Result<bool, sqlx::Error> {
    if let Some(from) = from {
        let moved = sqlx::query(
            "UPDATE referrals SET state = $1, updated_at_ms = $2 \
             WHERE community_id = $3 AND id = $4 AND state = $5",
        )
        .bind(to.as_str())
        .bind(now_ms)
        .bind(community_id)
        .bind(id)
        .bind(from.as_str())
        .execute(&mut *conn)
        .await?;
        if moved.rows_affected() != 1 {
            return Ok(false);
        }
    }
    sqlx::query(
        "INSERT INTO referral_steps (community_id, referral_id, from_state, to_state, by_staff_id, at_ms, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(community_id)
    .bind(id)
    .bind(from.map(ReferralState::as_str))
    .bind(to.as_str())
    .bind(by_staff_id)
    .bind(now_ms)
    .bind(note)
    .execute(conn)
    .await?;
    Ok(true)
}

pub async fn referral_by_id(
    db: &Db,
    community_id: i64,
    id: i64,
) -> Result<Option<Referral>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM referrals WHERE community_id = $1 AND id = $2"
    )))
    .bind(community_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

pub async fn steps_of(db: &Db, community_id: i64, id: i64) -> Result<Vec<Step>, sqlx::Error> {
    sqlx::query_as(
        "SELECT from_state, to_state, by_staff_id, at_ms, note FROM referral_steps \
         WHERE community_id = $1 AND referral_id = $2 ORDER BY id",
    )
    .bind(community_id)
    .bind(id)
    .fetch_all(&db.pool)
    .await
}

/// Sends lab reports with a referral.
pub async fn attach_lab_reports(
    conn: &mut AnyConnection,
    community_id: i64,
    referral_id: i64,
    lab_report_ids: &[i64],
) -> Result<(), sqlx::Error> {
    for id in lab_report_ids {
        sqlx::query(
            "INSERT INTO referral_lab_reports (community_id, referral_id, lab_report_id) \
             VALUES ($1, $2, $3)",
        )
        .bind(community_id)
        .bind(referral_id)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The lab reports sent with a referral.
pub async fn lab_reports_of(
    db: &Db,
    community_id: i64,
    referral_id: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT lab_report_id FROM referral_lab_reports WHERE community_id = $1 \
         AND referral_id = $2 ORDER BY lab_report_id",
    )
    .bind(community_id)
    .bind(referral_id)
    .fetch_all(&db.pool)
    .await
}

/// Referrals sent from or received at an institution, in the order `sort` names.
/// (`query.institution` is not read: the caller has settled which institution.)
pub async fn referrals_of_institution(
    db: &Db,
    community_id: i64,
    institution_id: i64,
    query: &ReferralQuery,
    limit: i64,
    offset: i64,
) -> Result<Vec<Referral>, sqlx::Error> {
    let order = match query.sort.unwrap_or_default() {
        ReferralSort::Urgent => {
            "CASE WHEN green_channel IS NULL THEN 1 ELSE 0 END, created_at_ms DESC, id DESC"
        }
        ReferralSort::Created => "created_at_ms DESC, id DESC",
        ReferralSort::Updated => "updated_at_ms DESC, id DESC",
        ReferralSort::Oldest => "created_at_ms, id",
    };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM referrals WHERE community_id = $1 \
         AND (from_institution_id = $2 OR to_institution_id = $2) \
         AND ($3 = '' OR direction = $3) AND ($4 = '' OR state = $4) \
         ORDER BY {order} {}",
        crate::db::limit_clause(limit, offset)
    )))
    .bind(community_id)
    .bind(institution_id)
    .bind(query.direction.map(Direction::as_str).unwrap_or_default())
    .bind(query.state.map(ReferralState::as_str).unwrap_or_default())
    .fetch_all(&db.pool)
    .await
}

/// The lead hospital of a community and its chest pain centre department, if present.
pub async fn chest_pain_centre(
    conn: &mut AnyConnection,
    community_id: i64,
) -> Result<Option<(i64, Option<i64>)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT i.id, (SELECT d.id FROM departments d WHERE d.community_id = i.community_id \
         AND d.institution_id = i.id AND d.code = 'CPC') AS department FROM institutions i \
         WHERE i.community_id = $1 AND i.kind = 'lead_hospital' ORDER BY i.id LIMIT 1",
    )
    .bind(community_id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("department")?)))
        .transpose()
}

/// Records (or corrects) a staff-entered time point.
pub async fn upsert_time_point(
    conn: &mut AnyConnection,
    community_id: i64,
    referral_id: i64,
    point: &str,
    at_ms: i64,
    staff_id: i64,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE case_time_points SET at_ms = $1, recorded_by_staff_id = $2, recorded_at_ms = $3 \
         WHERE community_id = $4 AND referral_id = $5 AND point = $6",
    )
    .bind(at_ms)
    .bind(staff_id)
    .bind(now_ms)
    .bind(community_id)
    .bind(referral_id)
    .bind(point)
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() == 0 {
        sqlx::query(
            "INSERT INTO case_time_points (community_id, referral_id, point, at_ms, recorded_by_staff_id, recorded_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(community_id)
        .bind(referral_id)
        .bind(point)
        .bind(at_ms)
        .bind(staff_id)
        .bind(now_ms)
        .execute(conn)
        .await?;
    }
    Ok(())
}

pub async fn time_points_of(
    db: &Db,
    community_id: i64,
    referral_id: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT point, at_ms FROM case_time_points WHERE community_id = $1 AND referral_id = $2",
    )
    .bind(community_id)
    .bind(referral_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("point")?, r.try_get("at_ms")?)))
        .collect()
}

/// Inpatient and emergency encounters at an institution, discharged since `ended_since_ms` or
/// still open and begun before `open_before_ms`, with no down-referral of the resident from the
/// institution raised since the encounter began; newest first, at most 200.
pub async fn post_acute_encounters(
    db: &Db,
    community_id: i64,
    institution_id: i64,
    ended_since_ms: i64,
    open_before_ms: i64,
) -> Result<Vec<super::model::DownSuggestion>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT e.id, e.resident_id, e.started_at_ms, e.ended_at_ms, \
         (SELECT d.icd10 FROM encounter_diagnoses d WHERE d.encounter_id = e.id AND d.position = 1) AS icd10 \
         FROM encounters e WHERE e.community_id = $1 AND e.institution_id = $2 \
         AND e.kind IN ('inpatient', 'emergency') \
         AND (e.ended_at_ms >= $3 OR (e.ended_at_ms IS NULL AND e.started_at_ms <= $4)) \
         AND NOT EXISTS (SELECT 1 FROM referrals f WHERE f.community_id = e.community_id \
           AND f.resident_id = e.resident_id AND f.direction = 'down' \
           AND f.from_institution_id = e.institution_id AND f.created_at_ms >= e.started_at_ms) \
         ORDER BY e.started_at_ms DESC, e.id DESC LIMIT 200",
    )
    .bind(community_id)
    .bind(institution_id)
    .bind(ended_since_ms)
    .bind(open_before_ms)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(super::model::DownSuggestion {
                encounter_id: row.try_get("id")?,
                resident_id: row.try_get("resident_id")?,
                diagnosis_icd10: row
                    .try_get::<Option<String>, _>("icd10")?
                    .unwrap_or_default(),
                catalogue_level: 0,
                suggested_institution_id: 0,
                started_at_ms: row.try_get("started_at_ms")?,
                ended_at_ms: row.try_get("ended_at_ms")?,
            })
        })
        .collect()
}

/// A chest pain (green channel) case with the time points yijia holds for it.
pub struct ChestPainCase {
    pub from_institution_id: i64,
    pub to_institution_id: i64,
    pub points: BTreeMap<Point, i64>,
}

/// The chest pain cases whose referral was raised in `[start, end)`, with their time points:
/// the ECG's recording, receipt and first signed report, the referral's steps and the points
/// staff entered (which take precedence, as on the case's timeline). Three queries, however
/// many cases.
pub async fn chest_pain_cases(
    conn: &mut AnyConnection,
    community_id: i64,
    (start, end): (i64, i64),
) -> Result<Vec<ChestPainCase>, sqlx::Error> {
    const WHERE: &str = "r.community_id = $1 AND r.green_channel = 'chest_pain' \
        AND r.created_at_ms >= $2 AND r.created_at_ms < $3";
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT r.id, r.from_institution_id, r.to_institution_id, e.recorded_at_ms, \
         e.received_at_ms, (SELECT MIN(p.signed_at_ms) FROM ecg_reports p WHERE p.ecg_id = e.id) \
         AS signed_at_ms FROM referrals r LEFT JOIN ecgs e ON e.id = r.ecg_id \
         WHERE {WHERE} ORDER BY r.id"
    )))
    .bind(community_id)
    .bind(start)
    .bind(end)
    .fetch_all(&mut *conn)
    .await?;
    let mut cases = BTreeMap::new();
    for row in rows {
        let mut points = BTreeMap::new();
        for (point, column) in [
            (Point::EcgRecorded, "recorded_at_ms"),
            (Point::EcgReceived, "received_at_ms"),
            (Point::ReportSigned, "signed_at_ms"),
        ] {
            if let Some(at) = row.try_get::<Option<i64>, _>(column)? {
                points.insert(point, at);
            }
        }
        let case = ChestPainCase {
            from_institution_id: row.try_get("from_institution_id")?,
            to_institution_id: row.try_get("to_institution_id")?,
            points,
        };
        cases.insert(row.try_get::<i64, _>("id")?, case);
    }
    let steps = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT s.referral_id, s.to_state AS name, s.at_ms FROM referral_steps s \
         WHERE s.referral_id IN (SELECT r.id FROM referrals r WHERE {WHERE}) ORDER BY s.id"
    )))
    .bind(community_id)
    .bind(start)
    .bind(end)
    .fetch_all(&mut *conn)
    .await?;
    let entered = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT t.referral_id, t.point AS name, t.at_ms FROM case_time_points t \
         WHERE t.referral_id IN (SELECT r.id FROM referrals r WHERE {WHERE})"
    )))
    .bind(community_id)
    .bind(start)
    .bind(end)
    .fetch_all(&mut *conn)
    .await?;
    let point_of_step: fn(&str) -> Option<Point> = Point::of_step;
    for (rows, point_of) in [(steps, point_of_step), (entered, Point::parse)] {
        for row in rows {
            let name: String = row.try_get("name")?;
            let case = cases.get_mut(&row.try_get::<i64, _>("referral_id")?);
            if let (Some(case), Some(point)) = (case, point_of(&name)) {
                case.points.insert(point, row.try_get("at_ms")?);
            }
        }
    }
    Ok(cases.into_values().collect())
}
