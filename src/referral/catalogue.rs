//! The tiered-care catalogue (分级诊疗目录) as data: ICD-10 category ranges and the level that
//! should treat them (1 village clinic, 2 township centre, 3 county). An up-referral of a
//! condition the sender's own level should treat needs a stated reason, which is recorded.

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::access::{Actor, Denied, Role};
use crate::audit::{self, Entry};
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::db::Db;

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CatalogueEntry {
    pub id: i64,
    pub icd10_from: String,
    pub icd10_to: String,
    pub level: i64,
    pub name: String,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewCatalogueEntry {
    /// First ICD-10 category of the range, e.g. `I10`.
    pub icd10_from: String,
    /// Last category of the range, e.g. `I15`.
    pub icd10_to: String,
    /// 1 village clinic, 2 township centre, 3 county.
    pub level: i64,
    pub name: String,
}

/// A demo catalogue, after the common county lists: what primary care keeps, what goes up.
pub const DEMO: [(&str, &str, i64, &str); 10] = [
    ("J00", "J06", 1, "急性上呼吸道感染"),
    ("I10", "I15", 2, "高血压"),
    ("E11", "E11", 2, "2 型糖尿病"),
    ("K80", "K81", 2, "胆石症、胆囊炎"),
    ("K35", "K37", 2, "阑尾炎"),
    ("J44", "J44", 2, "慢性阻塞性肺疾病"),
    ("I21", "I22", 3, "急性心肌梗死"),
    ("I60", "I64", 3, "脑卒中"),
    ("C00", "C97", 3, "恶性肿瘤"),
    ("O00", "O99", 3, "妊娠并发症"),
];

/// The category (letter and two digits) of an ICD-10 code, which the ranges are written in.
fn category(code: &str) -> String {
    code.trim().to_ascii_uppercase().chars().take(3).collect()
}

pub async fn insert_entry(
    conn: &mut AnyConnection,
    community_id: i64,
    entry: &NewCatalogueEntry,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO tier_catalogue (community_id, icd10_from, icd10_to, level, name) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(community_id)
    .bind(category(&entry.icd10_from))
    .bind(category(&entry.icd10_to))
    .bind(entry.level)
    .bind(entry.name.trim())
    .fetch_one(conn)
    .await
}

/// The level that should treat a diagnosis, if the catalogue lists it.
pub async fn level_for(db: &Db, community_id: i64, code: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT level FROM tier_catalogue WHERE community_id = $1 AND icd10_from <= $2 AND icd10_to >= $2 \
         ORDER BY level DESC LIMIT 1",
    )
    .bind(community_id)
    .bind(category(code))
    .fetch_optional(&db.pool)
    .await
}

pub async fn list(ctx: &Ctx, actor: &Actor) -> Result<Vec<CatalogueEntry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, icd10_from, icd10_to, level, name FROM tier_catalogue WHERE community_id = $1 \
         ORDER BY icd10_from",
    )
    .bind(actor.community_id)
    .fetch_all(&ctx.db.pool)
    .await
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Invalid(&'static str),
    #[error("this range is already in the catalogue")]
    Duplicate,
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// An administrator adds a range.
pub async fn create(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    entry: &NewCatalogueEntry,
) -> Result<CatalogueEntry, Error> {
    if !actor.has_role(Role::Admin) {
        return Err(Denied.into());
    }
    let shaped = |code: &str| {
        let c = category(code);
        c.len() == 3
            && c.as_bytes()[0].is_ascii_uppercase()
            && c.as_bytes()[1..].iter().all(u8::is_ascii_digit)
    };
    if !shaped(&entry.icd10_from)
        || !shaped(&entry.icd10_to)
        || category(&entry.icd10_from) > category(&entry.icd10_to)
    {
        return Err(Error::Invalid(
            "icd10_from and icd10_to must be ICD-10 categories in order",
        ));
    }
    if !(1..=3).contains(&entry.level) || entry.name.trim().is_empty() {
        return Err(Error::Invalid(
            "level must be 1, 2 or 3 and name must be given",
        ));
    }
    let mut tx = ctx.db.begin().await?;
    let id = match insert_entry(&mut tx, actor.community_id, entry).await {
        Ok(id) => id,
        Err(error)
            if crate::db::is_unique_violation(
                &error,
                "tier_catalogue_unique",
                "tier_catalogue.icd10_from",
            ) =>
        {
            return Err(Error::Duplicate);
        }
        Err(error) => return Err(error.into()),
    };
    audit::store::append(
        &mut tx,
        &[Entry::by(
            actor,
            now,
            "tier_catalogue.create",
            "tier_catalogue",
            Some(id),
        )],
    )
    .await?;
    tx.commit().await?;
    Ok(CatalogueEntry {
        id,
        icd10_from: category(&entry.icd10_from),
        icd10_to: category(&entry.icd10_to),
        level: entry.level,
        name: entry.name.trim().to_owned(),
    })
}

/// An administrator removes a range.
pub async fn delete(ctx: &Ctx, now: Millis, actor: &Actor, id: i64) -> Result<(), Error> {
    if !actor.has_role(Role::Admin) {
        return Err(Denied.into());
    }
    let mut tx = ctx.db.begin().await?;
    sqlx::query("DELETE FROM tier_catalogue WHERE community_id = $1 AND id = $2")
        .bind(actor.community_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::store::append(
        &mut tx,
        &[Entry::by(
            actor,
            now,
            "tier_catalogue.delete",
            "tier_catalogue",
            Some(id),
        )],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
