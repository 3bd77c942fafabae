//! SQL for institutions and departments.

use sqlx::AnyConnection;

use super::model::{Department, Institution, NewInstitution};
use crate::db::Db;

const COLUMNS: &str = "id, community_id, parent_id, township_id, kind, code, name, address, \
                       latitude, longitude, has_ecg_device, service";

pub async fn institutions_in_community(
    db: &Db,
    community_id: i64,
) -> Result<Vec<Institution>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM institutions WHERE community_id = $1 ORDER BY id"
    )))
    .bind(community_id)
    .fetch_all(&db.pool)
    .await
}

pub async fn institution_by_id(
    db: &Db,
    community_id: i64,
    id: i64,
) -> Result<Option<Institution>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM institutions WHERE community_id = $1 AND id = $2"
    )))
    .bind(community_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

pub async fn departments_of(
    db: &Db,
    community_id: i64,
    institution_id: i64,
) -> Result<Vec<Department>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, institution_id, code, name FROM departments \
         WHERE community_id = $1 AND institution_id = $2 ORDER BY code",
    )
    .bind(community_id)
    .bind(institution_id)
    .fetch_all(&db.pool)
    .await
}

pub async fn insert_institution(
    conn: &mut AnyConnection,
    community_id: i64,
    township_id: Option<i64>,
    new: &NewInstitution,
) -> Result<i64, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO institutions (community_id, parent_id, township_id, kind, code, name, \
         address, latitude, longitude, has_ecg_device, service) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    // Not kept prepared: absent coordinates are bound as untyped NULLs (see chronic::store).
    .persistent(false)
    .bind(community_id)
    .bind(new.parent_id)
    .bind(township_id)
    .bind(new.kind.as_str())
    .bind(&new.code)
    .bind(&new.name)
    .bind(&new.address)
    .bind(new.latitude)
    .bind(new.longitude)
    .bind(i64::from(new.has_ecg_device))
    .bind(new.service.map(super::model::CentreService::as_str))
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// A township centre is its own township; set after insert since its id was not known before.
pub async fn set_own_township(
    conn: &mut AnyConnection,
    community_id: i64,
    id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE institutions SET township_id = id WHERE community_id = $1 AND id = $2")
        .bind(community_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert_department(
    conn: &mut AnyConnection,
    community_id: i64,
    institution_id: i64,
    code: &str,
    name: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO departments (community_id, institution_id, code, name) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(community_id)
    .bind(institution_id)
    .bind(code)
    .bind(name)
    .fetch_one(conn)
    .await
}

pub async fn institution_by_code(
    db: &Db,
    community_id: i64,
    code: &str,
) -> Result<Option<Institution>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM institutions WHERE community_id = $1 AND code = $2"
    )))
    .bind(community_id)
    .bind(code)
    .fetch_optional(&db.pool)
    .await
}

pub async fn community_by_code(db: &Db, code: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM communities WHERE code = $1")
        .bind(code)
        .fetch_optional(&db.pool)
        .await
}
