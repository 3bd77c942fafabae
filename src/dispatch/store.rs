//! The dispatch table.

use sqlx::AnyConnection;

use super::{Dispatch, NewDispatch};
use crate::db::Db;

/// The start and end of a dispatch of the staff member that shares a day with `starts..=ends`.
pub async fn overlapping(
    conn: &mut AnyConnection,
    community_id: i64,
    staff_id: i64,
    (starts_on, ends_on): (&str, &str),
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT starts_on, ends_on FROM staff_dispatches WHERE community_id = $1 AND staff_id = $2 \
         AND starts_on <= $3 AND ends_on >= $4 ORDER BY starts_on LIMIT 1",
    )
    .bind(community_id)
    .bind(staff_id)
    .bind(ends_on)
    .bind(starts_on)
    .fetch_optional(conn)
    .await
}

pub async fn insert(
    conn: &mut AnyConnection,
    community_id: i64,
    (new, from_institution_id): (&NewDispatch, i64),
    (starts_on, ends_on): (&str, &str),
    (by_staff_id, now): (i64, i64),
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO staff_dispatches (community_id, staff_id, from_institution_id, \
         to_institution_id, starts_on, ends_on, days_per_month, purpose, created_by_staff_id, \
         created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(community_id)
    .bind(new.staff_id)
    .bind(from_institution_id)
    .bind(new.to_institution_id)
    .bind(starts_on)
    .bind(ends_on)
    .bind(new.days_per_month)
    .bind(new.purpose.as_str())
    .bind(by_staff_id)
    .bind(now)
    .fetch_one(conn)
    .await
}

const COLUMNS: &str = "d.id, d.staff_id, s.name AS staff_name, COALESCE(s.title_level, '') AS title_level, \
     d.from_institution_id, f.name AS from_institution_name, d.to_institution_id, \
     t.name AS to_institution_name, d.starts_on, d.ends_on, d.days_per_month, d.purpose, \
     d.created_at_ms FROM staff_dispatches d JOIN staff s ON s.id = d.staff_id \
     JOIN institutions f ON f.id = d.from_institution_id \
     JOIN institutions t ON t.id = d.to_institution_id";

pub async fn by_id(db: &Db, community_id: i64, id: i64) -> Result<Option<Dispatch>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} WHERE d.community_id = $1 AND d.id = $2"
    )))
    .bind(community_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

pub async fn set_end(
    conn: &mut AnyConnection,
    (community_id, id): (i64, i64),
    ends_on: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE staff_dispatches SET ends_on = $1 WHERE community_id = $2 AND id = $3")
        .bind(ends_on)
        .bind(community_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Dispatches from or to the institution (any when absent), on site some day of `first..=last`
/// (any time when absent), the latest start first.
pub async fn list(
    db: &Db,
    community_id: i64,
    (institution, days): (Option<i64>, Option<(&str, &str)>),
    (limit, offset): (i64, i64),
) -> Result<Vec<Dispatch>, sqlx::Error> {
    let (first, last) = days.unwrap_or(("0000-01-01", "9999-12-31"));
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} WHERE d.community_id = $1 \
         AND ($2 < 0 OR d.from_institution_id = $2 OR d.to_institution_id = $2) \
         AND d.starts_on <= $3 AND d.ends_on >= $4 \
         ORDER BY d.starts_on DESC, d.id DESC LIMIT $5 OFFSET $6"
    )))
    .bind(community_id)
    .bind(institution.unwrap_or(-1))
    .bind(last)
    .bind(first)
    .bind(limit)
    .bind(offset)
    .fetch_all(&db.pool)
    .await
}

/// A dispatch as indicator 2.1 reads it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Span {
    pub staff_id: i64,
    /// Empty when the staff member has no title recorded.
    pub title_level: String,
    pub from_institution_id: i64,
    pub to_institution_id: i64,
    pub starts_on: String,
    pub ends_on: String,
}

/// The dispatches on site some day of `first..=last`.
pub async fn spans(
    db: &Db,
    community_id: i64,
    (first, last): (&str, &str),
) -> Result<Vec<Span>, sqlx::Error> {
    sqlx::query_as(
        "SELECT d.staff_id, COALESCE(s.title_level, '') AS title_level, d.from_institution_id, \
         d.to_institution_id, d.starts_on, d.ends_on FROM staff_dispatches d \
         JOIN staff s ON s.id = d.staff_id WHERE d.community_id = $1 AND d.starts_on <= $2 \
         AND d.ends_on >= $3 ORDER BY d.staff_id, d.starts_on",
    )
    .bind(community_id)
    .bind(last)
    .bind(first)
    .fetch_all(&db.pool)
    .await
}
