//! The assessment tables: the county's schemes and the frozen snapshots.

use std::collections::HashMap;

use sqlx::AnyConnection;

use super::MemberScore;
use super::scheme::{Item, MemberKind};
use crate::db::Db;

/// The county's own schemes of the year, by kind.
pub async fn schemes(
    db: &Db,
    community_id: i64,
    year: i32,
) -> Result<HashMap<MemberKind, Vec<Item>>, sqlx::Error> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT member_kind, items FROM assessment_schemes WHERE community_id = $1 AND year = $2",
    )
    .bind(community_id)
    .bind(i64::from(year))
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(kind, items)| {
            Some((
                MemberKind::parse(&kind)?,
                serde_json::from_str(&items).ok()?,
            ))
        })
        .collect())
}

pub async fn put_scheme(
    conn: &mut AnyConnection,
    (community_id, year, kind): (i64, i32, MemberKind),
    items: &[Item],
    (by_staff_id, now): (i64, i64),
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO assessment_schemes (community_id, year, member_kind, items, set_by_staff_id, \
         set_at_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (community_id, year, member_kind) \
         DO UPDATE SET items = excluded.items, set_by_staff_id = excluded.set_by_staff_id, \
         set_at_ms = excluded.set_at_ms",
    )
    .bind(community_id)
    .bind(i64::from(year))
    .bind(kind.as_str())
    .bind(serde_json::to_string(items).unwrap_or_default())
    .bind(by_staff_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// When the year was frozen, if it was.
pub async fn frozen_at(db: &Db, community_id: i64, year: i32) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT MIN(frozen_at_ms) FROM assessment_snapshots WHERE community_id = $1 AND year = $2",
    )
    .bind(community_id)
    .bind(i64::from(year))
    .fetch_one(&db.pool)
    .await
}

/// Writes the snapshot unless the year has one (a concurrent freeze loses): whether it did.
pub async fn insert_snapshot(
    conn: &mut AnyConnection,
    (community_id, year): (i64, i32),
    members: &[MemberScore],
    (by_staff_id, now): (i64, i64),
) -> Result<bool, sqlx::Error> {
    for member in members {
        let inserted = sqlx::query(
            "INSERT INTO assessment_snapshots (community_id, year, institution_id, score, inputs, \
             frozen_by_staff_id, frozen_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (community_id, year, institution_id) DO NOTHING",
        )
        .bind(community_id)
        .bind(i64::from(year))
        .bind(member.institution_id)
        .bind(member.score)
        .bind(serde_json::to_string(member).unwrap_or_default())
        .bind(by_staff_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        if inserted.rows_affected() != 1 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The frozen scores with their inputs, of every member or `only` one.
pub async fn snapshot(
    db: &Db,
    community_id: i64,
    year: i32,
    only: Option<i64>,
) -> Result<Vec<MemberScore>, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT s.inputs FROM assessment_snapshots s JOIN institutions i ON i.id = s.institution_id \
         WHERE s.community_id = $1 AND s.year = $2 AND ($3 < 0 OR s.institution_id = $3) \
         ORDER BY i.kind, i.name",
    )
    .bind(community_id)
    .bind(i64::from(year))
    .bind(only.unwrap_or(-1))
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(inputs,)| serde_json::from_str(&inputs).ok())
        .collect())
}

pub async fn frozen_scores(
    db: &Db,
    community_id: i64,
    year: i32,
) -> Result<HashMap<i64, f64>, sqlx::Error> {
    let rows: Vec<(i64, f64)> = sqlx::query_as(
        "SELECT institution_id, score FROM assessment_snapshots WHERE community_id = $1 AND year = $2",
    )
    .bind(community_id)
    .bind(i64::from(year))
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().collect())
}
