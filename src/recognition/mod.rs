//! Mutual recognition of results (检查检验结果互认): a catalogue of tests and examinations that
//! every member accepts for a number of days. Ordering such an item for a resident who already
//! has a result within its window, from any member institution, shows that result first; a
//! repeat needs a stated reason. Avoided repeats and their saving are counted per month.

pub mod http;
pub mod views;

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::access::{self, Access, Actor, Purpose, Role};
use crate::audit::{self, Entry};
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::resident;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("the catalogue already holds this code")]
    Duplicate,
    #[error(
        "the resident has a recognised result of this item from {at} ({institution}); use it, or give repeat_reason"
    )]
    RecentResult { at: String, institution: String },
    #[error(transparent)]
    Resident(#[from] resident::Error),
    #[error(transparent)]
    Denied(#[from] access::Denied),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Audit(#[from] audit::Error),
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Item {
    pub id: i64,
    /// A lab order code (OBR-4, e.g. `CBC`) or an examination item code (e.g. `CXR`).
    pub code: String,
    pub name: String,
    pub validity_days: i64,
    /// What a repeat would cost, in fen.
    pub price_fen: i64,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewItem {
    pub code: String,
    pub name: String,
    pub validity_days: i64,
    pub price_fen: i64,
}

/// A demo catalogue after common county lists: code, name, days valid, price in fen.
pub const DEMO: [(&str, &str, i64, i64); 8] = [
    ("CBC", "血常规", 7, 2_000),
    ("LFT", "肝功能", 14, 6_000),
    ("RFT", "肾功能", 14, 4_500),
    ("GLU", "空腹血糖", 7, 500),
    ("HBA1C", "糖化血红蛋白", 30, 6_500),
    ("CXR", "胸部 X 线", 30, 9_000),
    ("CT-HEAD", "头颅 CT", 30, 25_000),
    ("US-ABD", "腹部超声", 30, 12_000),
];

/// A result the resident already has that every member recognises.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RecognisedResult {
    pub item_code: String,
    pub item_name: String,
    /// `lab_report` or `exam_report`.
    pub source: String,
    pub report_id: i64,
    pub at_ms: i64,
    pub institution_id: i64,
    pub institution_name: String,
    pub valid_until_ms: i64,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewOrder {
    pub resident_id: i64,
    pub item_code: String,
    /// Use the recognised result instead of repeating the item.
    #[serde(default)]
    pub use_recognised: bool,
    /// Why the item is repeated although a recognised result exists.
    pub repeat_reason: Option<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Order {
    pub id: i64,
    pub resident_id: i64,
    pub item_code: String,
    /// `new` (nothing recognised to use), `avoided` (the recognised result is used) or
    /// `repeated` (ordered again, with the reason).
    pub outcome: String,
    pub recognised: Option<RecognisedResult>,
    pub saving_fen: i64,
}

#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct MonthFigures {
    pub institution_id: i64,
    pub orders: i64,
    pub avoided: i64,
    pub repeated: i64,
    pub saving_fen: i64,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct RecognisedQuery {
    /// Only this item code.
    pub item: Option<String>,
}

fn require_admin(actor: &Actor) -> Result<(), Error> {
    if actor.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(access::Denied.into())
    }
}

pub async fn list_items(ctx: &Ctx, actor: &Actor) -> Result<Vec<Item>, Error> {
    Ok(sqlx::query_as(
        "SELECT id, code, name, validity_days, price_fen FROM recognition_items \
         WHERE community_id = $1 ORDER BY code",
    )
    .bind(actor.community_id)
    .fetch_all(&ctx.db.pool)
    .await?)
}

pub async fn insert_item(
    conn: &mut sqlx::AnyConnection,
    community_id: i64,
    item: &NewItem,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO recognition_items (community_id, code, name, validity_days, price_fen) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(community_id)
    .bind(item.code.trim().to_ascii_uppercase())
    .bind(item.name.trim())
    .bind(item.validity_days)
    .bind(item.price_fen)
    .fetch_one(conn)
    .await
}

/// Adds an item to the catalogue (administrators).
pub async fn create_item(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    item: &NewItem,
) -> Result<Item, Error> {
    require_admin(actor)?;
    let code_ok = (1..=40).contains(&item.code.trim().len())
        && item
            .code
            .trim()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !code_ok || !(1..=100).contains(&item.name.trim().chars().count()) {
        return Err(Error::Invalid {
            field: "code",
            reason: "code 1 to 40 letters, digits, '-' or '.'; name 1 to 100 characters",
        });
    }
    if !(1..=365).contains(&item.validity_days) || !(0..=100_000_000).contains(&item.price_fen) {
        return Err(Error::Invalid {
            field: "validity_days",
            reason: "validity_days 1 to 365; price_fen 0 to 100,000,000",
        });
    }
    let mut tx = ctx.db.begin().await?;
    let id = insert_item(&mut tx, actor.community_id, item)
        .await
        .map_err(|error| {
            if crate::db::is_unique_violation(
                &error,
                "recognition_items_unique",
                "community_id, code",
            ) {
                Error::Duplicate
            } else {
                error.into()
            }
        })?;
    let entry = Entry::by(
        actor,
        now,
        "recognition_item.create",
        "recognition_item",
        Some(id),
    );
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    list_items(ctx, actor)
        .await?
        .into_iter()
        .find(|i| i.id == id)
        .ok_or(Error::Db(sqlx::Error::RowNotFound))
}

/// Removes an item from the catalogue (administrators).
pub async fn delete_item(ctx: &Ctx, now: Millis, actor: &Actor, id: i64) -> Result<(), Error> {
    require_admin(actor)?;
    let mut tx = ctx.db.begin().await?;
    sqlx::query("DELETE FROM recognition_items WHERE community_id = $1 AND id = $2")
        .bind(actor.community_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let entry = Entry::by(
        actor,
        now,
        "recognition_item.delete",
        "recognition_item",
        Some(id),
    );
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(())
}

/// The resident's results still within their item's window at `now`, newest first.
async fn recognised_results(
    ctx: &Ctx,
    community_id: i64,
    resident_id: i64,
    item: Option<&str>,
    now: Millis,
) -> Result<Vec<RecognisedResult>, sqlx::Error> {
    const DAY_MS: i64 = 86_400_000;
    let item = item.map(|i| i.trim().to_ascii_uppercase());
    sqlx::query_as(
        "SELECT t.item_code, c.name AS item_name, t.source, t.report_id, t.at_ms, t.institution_id, \
         i.name AS institution_name, t.at_ms + c.validity_days * $4 AS valid_until_ms FROM ( \
           SELECT l.order_code AS item_code, 'lab_report' AS source, l.id AS report_id, \
                  l.observed_at_ms AS at_ms, l.lab_institution_id AS institution_id \
             FROM lab_reports l WHERE l.community_id = $1 AND l.resident_id = $2 \
           UNION ALL \
           SELECT x.item_code, 'exam_report', x.id, x.performed_at_ms, x.institution_id \
             FROM exam_reports x WHERE x.community_id = $1 AND x.resident_id = $2 \
         ) t JOIN recognition_items c ON c.community_id = $1 AND c.code = t.item_code \
         JOIN institutions i ON i.id = t.institution_id \
         WHERE t.at_ms + c.validity_days * $4 > $3 AND t.at_ms <= $3 \
           AND ($5 = '' OR t.item_code = $5) \
         ORDER BY t.at_ms DESC, t.report_id DESC LIMIT 100",
    )
    .bind(community_id)
    .bind(resident_id)
    .bind(now)
    .bind(DAY_MS)
    .bind(item.unwrap_or_default())
    .fetch_all(&ctx.db.pool)
    .await
}

/// What the resident already has that every member recognises (shown before ordering).
pub async fn recognised_for(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    resident_id: i64,
    item: Option<&str>,
) -> Result<Vec<RecognisedResult>, Error> {
    resident::load_authorized(
        ctx,
        now,
        actor,
        resident_id,
        Purpose::Clinical,
        Access::Read,
        "recognition.read",
    )
    .await?;
    Ok(recognised_results(ctx, actor.community_id, resident_id, item, now).await?)
}

/// Orders an item for a resident at the actor's institution, under the recognition rule.
pub async fn order(ctx: &Ctx, now: Millis, actor: &Actor, new: &NewOrder) -> Result<Order, Error> {
    let institution = actor.institution.ok_or(access::Denied)?;
    let item_code = new.item_code.trim().to_ascii_uppercase();
    if item_code.is_empty() || item_code.len() > 40 {
        return Err(Error::Invalid {
            field: "item_code",
            reason: "1 to 40 characters",
        });
    }
    let reason = new
        .repeat_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 500) {
        return Err(Error::Invalid {
            field: "repeat_reason",
            reason: "at most 500 characters",
        });
    }
    resident::load_authorized(
        ctx,
        now,
        actor,
        new.resident_id,
        Purpose::Clinical,
        Access::Write,
        "order.create",
    )
    .await?;
    let recognised = recognised_results(
        ctx,
        actor.community_id,
        new.resident_id,
        Some(&item_code),
        now,
    )
    .await?
    .into_iter()
    .next();
    let price: i64 = sqlx::query_scalar(
        "SELECT price_fen FROM recognition_items WHERE community_id = $1 AND code = $2",
    )
    .bind(actor.community_id)
    .bind(&item_code)
    .fetch_optional(&ctx.db.pool)
    .await?
    .unwrap_or(0);
    let (outcome, saving_fen) = match (&recognised, new.use_recognised, reason) {
        (None, true, _) => {
            return Err(Error::Invalid {
                field: "use_recognised",
                reason: "the resident has no recognised result of this item",
            });
        }
        (None, false, _) => ("new", 0),
        (Some(_), true, _) => ("avoided", price),
        (Some(_), false, Some(_)) => ("repeated", 0),
        (Some(found), false, None) => {
            return Err(Error::RecentResult {
                at: crate::clock::format_cst(found.at_ms),
                institution: found.institution_name.clone(),
            });
        }
    };
    let mut tx = ctx.db.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO orders (community_id, resident_id, institution_id, ordered_by_staff_id, \
         item_code, outcome, recognised_source, recognised_id, repeat_reason, saving_fen, \
         ordered_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(actor.community_id)
    .bind(new.resident_id)
    .bind(institution.id)
    .bind(actor.staff_id)
    .bind(&item_code)
    .bind(outcome)
    .bind(recognised.as_ref().map(|r| r.source.clone()))
    .bind(recognised.as_ref().map(|r| r.report_id))
    .bind(reason.filter(|_| outcome == "repeated"))
    .bind(saving_fen)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let entry = Entry::by(actor, now, "order.create", "order", Some(id))
        .about_resident(new.resident_id)
        .detail(format!("item={item_code} outcome={outcome}"));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(Order {
        id,
        resident_id: new.resident_id,
        item_code,
        outcome: outcome.to_owned(),
        recognised,
        saving_fen,
    })
}

/// Orders, avoided repeats, repeats and the saving per ordering institution for a month.
pub async fn month_figures(
    ctx: &Ctx,
    actor: &Actor,
    month: &str,
) -> Result<Vec<MonthFigures>, Error> {
    if !access::may_see_aggregates(actor) {
        return Err(access::Denied.into());
    }
    let (start, end) = crate::clock::month_bounds_cst(month).ok_or(Error::Invalid {
        field: "month",
        reason: "YYYY-MM",
    })?;
    let rows = sqlx::query(
        "SELECT institution_id, COUNT(*) AS orders, \
         CAST(SUM(CASE WHEN outcome = 'avoided' THEN 1 ELSE 0 END) AS BIGINT) AS avoided, \
         CAST(SUM(CASE WHEN outcome = 'repeated' THEN 1 ELSE 0 END) AS BIGINT) AS repeated, \
         CAST(SUM(saving_fen) AS BIGINT) AS saving_fen FROM orders \
         WHERE community_id = $1 AND ordered_at_ms >= $2 AND ordered_at_ms < $3 \
         GROUP BY institution_id ORDER BY institution_id",
    )
    .bind(actor.community_id)
    .bind(start)
    .bind(end)
    .fetch_all(&ctx.db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(MonthFigures {
                institution_id: row.try_get("institution_id")?,
                orders: row.try_get("orders")?,
                avoided: row.try_get("avoided")?,
                repeated: row.try_get("repeated")?,
                saving_fen: row.try_get("saving_fen")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Error::from)
}
