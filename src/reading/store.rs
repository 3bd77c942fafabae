//! The workflow's SQL over a centre's case and report tables. Table and column names come
//! from the [`Centre`] constants only; every value is bound.

use sqlx::AnyConnection;

use super::{Case, Centre, NewReport, Report};
use crate::db::Db;

/// The cases still to be read, for a worklist's `WHERE` (the case table aliased `e`).
pub const OPEN: &str = "e.state <> 'reported'";
/// The worklist's order: STAT first, then the longest waiting.
pub const WORKLIST_ORDER: &str =
    "CASE e.priority WHEN 'stat' THEN 0 ELSE 1 END, e.received_at_ms, e.id";

pub async fn case_by_id(
    db: &Db,
    centre: &Centre,
    community_id: i64,
    id: i64,
) -> Result<Option<Case>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, resident_id, site_institution_id, state, claimed_by_staff_id FROM {} \
         WHERE community_id = $1 AND id = $2",
        centre.cases
    )))
    .bind(community_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

/// Claims a case for a reader unless another reader holds it; true when the reader holds it.
pub async fn claim(
    conn: &mut AnyConnection,
    centre: &Centre,
    community_id: i64,
    id: i64,
    staff_id: i64,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {} SET state = 'claimed', claimed_by_staff_id = $1, claimed_at_ms = $2 \
         WHERE community_id = $3 AND id = $4 AND state = 'waiting'",
        centre.cases
    )))
    .bind(staff_id)
    .bind(now_ms)
    .bind(community_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Adds the next report version and marks the case reported, awaiting the site again.
pub async fn insert_report(
    conn: &mut AnyConnection,
    centre: &Centre,
    community_id: i64,
    case_id: i64,
    report: &NewReport,
    reader_staff_id: i64,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    let (cases, reports, column) = (centre.cases, centre.reports, centre.case_column);
    let version: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM {reports} \
         WHERE community_id = $1 AND {column} = $2"
    )))
    .bind(community_id)
    .bind(case_id)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {reports} (community_id, {column}, version, findings, conclusion, critical, \
         reader_staff_id, signed_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )))
    .bind(community_id)
    .bind(case_id)
    .bind(version)
    .bind(report.findings.trim())
    .bind(report.conclusion.trim())
    .bind(i64::from(report.critical))
    .bind(reader_staff_id)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {cases} SET state = 'reported', reported_at_ms = COALESCE(reported_at_ms, $1), \
         acknowledged_at_ms = NULL, acknowledged_by_staff_id = NULL, escalated_at_ms = NULL, \
         report_critical = $4 WHERE community_id = $2 AND id = $3"
    )))
    .bind(now_ms)
    .bind(community_id)
    .bind(case_id)
    .bind(i64::from(report.critical))
    .execute(conn)
    .await?;
    Ok(version)
}

pub async fn acknowledge(
    conn: &mut AnyConnection,
    centre: &Centre,
    community_id: i64,
    id: i64,
    staff_id: i64,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {} SET acknowledged_by_staff_id = $1, acknowledged_at_ms = $2 \
         WHERE community_id = $3 AND id = $4",
        centre.cases
    )))
    .bind(staff_id)
    .bind(now_ms)
    .bind(community_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A case's signed reports, oldest version first, with their readers' names.
pub async fn reports_of(
    db: &Db,
    centre: &Centre,
    community_id: i64,
    case_id: i64,
) -> Result<Vec<Report>, sqlx::Error> {
    let (reports, column) = (centre.reports, centre.case_column);
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT r.id, r.{column} AS case_id, r.version, r.findings, r.conclusion, r.critical, \
         r.reader_staff_id, s.name AS reader_name, r.signed_at_ms \
         FROM {reports} r JOIN staff s ON s.id = r.reader_staff_id \
         WHERE r.community_id = $1 AND r.{column} = $2 ORDER BY r.version"
    )))
    .bind(community_id)
    .bind(case_id)
    .fetch_all(&db.pool)
    .await
}

/// Marks critical reports left unacknowledged since before `cutoff_ms` as escalated; returns
/// each as [`crate::critical_value::Overdue`].
pub async fn escalate_unacknowledged(
    conn: &mut AnyConnection,
    centre: &Centre,
    cutoff_ms: i64,
    now_ms: i64,
) -> Result<Vec<crate::critical_value::Overdue>, sqlx::Error> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {} SET escalated_at_ms = $1 WHERE state = 'reported' AND report_critical = 1 \
         AND acknowledged_at_ms IS NULL AND escalated_at_ms IS NULL AND reported_at_ms < $2 \
         RETURNING community_id, id, site_institution_id, resident_id",
        centre.cases
    )))
    .bind(now_ms)
    .bind(cutoff_ms)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| crate::critical_value::Overdue::from_row(r, "site_institution_id"))
        .collect()
}
