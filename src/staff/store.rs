//! SQL for staff and sessions.

use sqlx::{AnyConnection, Row};

use super::model::{Staff, TitleLevel};
use crate::access::{Actor, ActorInstitution, Role};
use crate::db::Db;
use crate::institution::InstitutionKind;

fn parse_roles(text: &str) -> Vec<Role> {
    text.split(',').filter_map(Role::parse).collect()
}

pub fn format_roles(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub struct NewRow<'a> {
    pub community_id: i64,
    pub institution_id: Option<i64>,
    pub department_id: Option<i64>,
    pub care_team_id: Option<i64>,
    pub resident_id: Option<i64>,
    pub username: &'a str,
    pub name: &'a str,
    pub title_level: Option<TitleLevel>,
    pub roles: &'a [Role],
    pub password_hash: &'a str,
    pub now_ms: i64,
}

pub async fn insert_staff(conn: &mut AnyConnection, row: &NewRow<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO staff (community_id, institution_id, department_id, care_team_id, resident_id, \
         username, name, title_level, roles, password_hash, active, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11) RETURNING id",
    )
    .bind(row.community_id)
    .bind(row.institution_id)
    .bind(row.department_id)
    .bind(row.care_team_id)
    .bind(row.resident_id)
    .bind(row.username)
    .bind(row.name)
    .bind(row.title_level.map(TitleLevel::as_str))
    .bind(format_roles(row.roles))
    .bind(row.password_hash)
    .bind(row.now_ms)
    .fetch_one(conn)
    .await
}

fn staff_from_row(row: &sqlx::any::AnyRow) -> Result<Staff, sqlx::Error> {
    let title: Option<String> = row.try_get("title_level")?;
    let roles: String = row.try_get("roles")?;
    let active: i64 = row.try_get("active")?;
    Ok(Staff {
        id: row.try_get("id")?,
        community_id: row.try_get("community_id")?,
        institution_id: row.try_get("institution_id")?,
        department_id: row.try_get("department_id")?,
        care_team_id: row.try_get("care_team_id")?,
        username: row.try_get("username")?,
        name: row.try_get("name")?,
        title_level: title.as_deref().and_then(TitleLevel::parse),
        roles: parse_roles(&roles),
        active: active != 0,
    })
}

const COLUMNS: &str = "id, community_id, institution_id, department_id, care_team_id, username, \
                       name, title_level, roles, active";

pub async fn staff_by_id(
    db: &Db,
    community_id: i64,
    id: i64,
) -> Result<Option<Staff>, sqlx::Error> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM staff WHERE community_id = $1 AND id = $2"
    )))
    .bind(community_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(staff_from_row).transpose()
}

pub async fn staff_of_community(
    db: &Db,
    community_id: i64,
    institution_id: Option<i64>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Staff>, sqlx::Error> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM staff WHERE community_id = $1 AND resident_id IS NULL \
         AND ($2 = 0 OR institution_id = $2) ORDER BY id {}",
        crate::db::limit_clause(limit, offset)
    )))
    .bind(community_id)
    .bind(institution_id.unwrap_or(0))
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(staff_from_row).collect()
}

/// The stored password hash and id of an active account, by username.
pub async fn password_hash_of(
    db: &Db,
    username: &str,
) -> Result<Option<(i64, i64, String)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, community_id, password_hash FROM staff WHERE username = $1 AND active = 1",
    )
    .bind(username)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        Ok((
            r.try_get("id")?,
            r.try_get("community_id")?,
            r.try_get("password_hash")?,
        ))
    })
    .transpose()
}

pub async fn insert_session(
    db: &Db,
    token_hash: &str,
    community_id: i64,
    staff_id: i64,
    now_ms: i64,
    expires_at_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, community_id, staff_id, created_at_ms, expires_at_ms) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(community_id)
    .bind(staff_id)
    .bind(now_ms)
    .bind(expires_at_ms)
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub async fn delete_session(db: &Db, token_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&db.pool)
        .await?;
    Ok(())
}

const ACTOR_COLUMNS: &str = "st.id, st.community_id, st.username, st.name, st.roles, \
     st.resident_id, st.institution_id, i.kind, i.township_id, i.service";

/// The actor behind a live session.
pub async fn actor_by_session(
    db: &Db,
    token_hash: &str,
    now_ms: i64,
) -> Result<Option<Actor>, sqlx::Error> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ACTOR_COLUMNS} \
         FROM sessions se JOIN staff st ON st.id = se.staff_id \
         LEFT JOIN institutions i ON i.id = st.institution_id \
         WHERE se.token_hash = $1 AND se.expires_at_ms > $2 AND st.active = 1"
    )))
    .bind(token_hash)
    .bind(now_ms)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(actor_from_row).transpose()
}

/// An active account of a community as an actor, for work done in its name without a session
/// (the demo's history).
pub async fn actor_by_id(
    db: &Db,
    community_id: i64,
    staff_id: i64,
) -> Result<Option<Actor>, sqlx::Error> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ACTOR_COLUMNS} FROM staff st \
         LEFT JOIN institutions i ON i.id = st.institution_id \
         WHERE st.community_id = $1 AND st.id = $2 AND st.active = 1"
    )))
    .bind(community_id)
    .bind(staff_id)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(actor_from_row).transpose()
}

fn actor_from_row(row: &sqlx::any::AnyRow) -> Result<Actor, sqlx::Error> {
    let roles: String = row.try_get("roles")?;
    let institution_id: Option<i64> = row.try_get("institution_id")?;
    let kind: Option<String> = row.try_get("kind")?;
    let institution = match (institution_id, kind.map(InstitutionKind::try_from)) {
        (Some(id), Some(Ok(kind))) => Some(ActorInstitution {
            id,
            kind,
            township_id: row.try_get("township_id")?,
            service: row
                .try_get::<Option<String>, _>("service")?
                .as_deref()
                .and_then(crate::institution::model::CentreService::parse),
        }),
        _ => None,
    };
    Ok(Actor {
        staff_id: row.try_get("id")?,
        community_id: row.try_get("community_id")?,
        username: row.try_get("username")?,
        name: row.try_get("name")?,
        roles: parse_roles(&roles),
        institution,
        resident_id: row.try_get("resident_id")?,
    })
}

/// The portal account of a resident, if one was issued.
pub async fn account_of_resident(
    db: &Db,
    community_id: i64,
    resident_id: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM staff WHERE community_id = $1 AND resident_id = $2")
        .bind(community_id)
        .bind(resident_id)
        .fetch_optional(&db.pool)
        .await
}

/// Sets a new password and ends the account's sessions.
pub async fn replace_password(
    db: &Db,
    staff_id: i64,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE staff SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(staff_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE staff_id = $1")
        .bind(staff_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}
