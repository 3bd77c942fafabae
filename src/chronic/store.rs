//! The chronic registry's rows.

use sqlx::AnyConnection;

use super::model::{Enrolment, EnrolmentQuery, NewEnrolment, Status};
use crate::db::Db;

const COLUMNS: &str = "id, community_id, resident_id, program, enrolled_on, basis, institution_id, \
     doctor_staff_id, team_id, status, status_on, status_reason, created_at_ms, updated_at_ms";

pub async fn insert_enrolment(
    conn: &mut AnyConnection,
    community_id: i64,
    new: &NewEnrolment,
    staff_id: i64,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO chronic_enrolments (community_id, resident_id, program, enrolled_on, basis, \
         institution_id, doctor_staff_id, team_id, status, status_reason, created_by_staff_id, \
         created_at_ms, updated_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'managed', '', $9, $10, $10) RETURNING id",
    )
    .bind(community_id)
    .bind(new.resident_id)
    .bind(new.program.as_str())
    .bind(new.enrolled_on.trim())
    .bind(new.basis.as_str())
    .bind(new.institution_id)
    .bind(new.doctor_staff_id)
    .bind(new.team_id)
    .bind(staff_id)
    .bind(now_ms)
    .fetch_one(conn)
    .await
}

pub async fn enrolment_by_id(
    db: &Db,
    community_id: i64,
    id: i64,
) -> Result<Option<Enrolment>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM chronic_enrolments WHERE community_id = $1 AND id = $2"
    )))
    .bind(community_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

/// The enrolments an institution manages, oldest first.
pub async fn enrolments_of(
    db: &Db,
    community_id: i64,
    institution_id: i64,
    query: &EnrolmentQuery,
    (limit, offset): (i64, i64),
) -> Result<Vec<Enrolment>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM chronic_enrolments WHERE community_id = $1 AND institution_id = $2 \
         AND ($3 = '' OR program = $3) AND ($4 = '' OR status = $4) ORDER BY id {}",
        crate::db::limit_clause(limit, offset)
    )))
    .bind(community_id)
    .bind(institution_id)
    .bind(query.program.map(|p| p.as_str()).unwrap_or_default())
    .bind(query.status.map(Status::as_str).unwrap_or_default())
    .fetch_all(&db.pool)
    .await
}

pub async fn set_status(
    conn: &mut AnyConnection,
    community_id: i64,
    id: i64,
    (status, on, reason): (Status, &str, &str),
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE chronic_enrolments SET status = $1, status_on = $2, status_reason = $3, \
         updated_at_ms = $4 WHERE community_id = $5 AND id = $6",
    )
    .bind(status.as_str())
    .bind(on)
    .bind(reason)
    .bind(now_ms)
    .bind(community_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}
