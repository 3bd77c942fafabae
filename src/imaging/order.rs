//! Examination orders (影像检查申请): a village or township doctor orders an examination for a
//! resident from the resident page; it is performed at the township centre with the
//! modality, whose machine takes the patient and the accession number from the worklist
//! instead of typing them; the study it then sends is filed to the order by that number and
//! read with the order's urgency.

use serde::{Deserialize, Serialize};

use super::Error;
use crate::access::{Access, Actor, Purpose};
use crate::audit::{self, Entry};
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::institution::model::InstitutionKind;
use crate::reading::Priority;

/// The modalities a township centre orders (DICOM modality codes).
pub const MODALITIES: [(&str, &str); 7] = [
    ("DX", "数字X线摄影（DR）"),
    ("CR", "计算机X线摄影（CR）"),
    ("CT", "CT"),
    ("US", "超声"),
    ("MR", "磁共振"),
    ("MG", "乳腺X线摄影"),
    ("RF", "X线透视"),
];

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewOrder {
    pub resident_id: i64,
    pub modality: String,
    pub body_part: String,
    pub reason: String,
    #[serde(default)]
    pub urgent: bool,
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Order {
    pub id: i64,
    pub resident_id: i64,
    pub institution_id: i64,
    pub ordered_by_staff_id: i64,
    pub accession_number: String,
    pub modality: String,
    pub body_part: String,
    pub reason: String,
    #[sqlx(try_from = "String")]
    pub priority: Priority,
    pub ordered_at_ms: i64,
    pub state: String,
    pub study_id: Option<i64>,
    /// The study's UID the modality takes from the worklist.
    pub study_instance_uid: Option<String>,
}

const COLUMNS: &str = "o.id, o.resident_id, o.institution_id, o.ordered_by_staff_id, \
    o.accession_number, o.modality, o.body_part, o.reason, o.priority, o.ordered_at_ms, o.state, \
    o.study_id, o.study_instance_uid";

fn invalid(field: &'static str, reason: &'static str) -> Error {
    Error::Invalid { field, reason }
}

fn check(order: &NewOrder) -> Result<(), Error> {
    if !MODALITIES.iter().any(|(code, _)| *code == order.modality) {
        return Err(invalid("modality", "one of DX, CR, CT, US, MR, MG, RF"));
    }
    if order.body_part.trim().is_empty() || order.body_part.chars().count() > 64 {
        return Err(invalid("body_part", "1 to 64 characters"));
    }
    if order.reason.trim().is_empty() || order.reason.chars().count() > 500 {
        return Err(invalid("reason", "1 to 500 characters"));
    }
    Ok(())
}

/// A new accession number: `YJ` and ten digits (DICOM SH holds 16 characters).
fn accession_number() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    format!("YJ{:010}", u64::from_le_bytes(bytes) % 10_000_000_000)
}

/// A new Study Instance UID for the order's study: `2.25.` and a random 128-bit number
/// (PS3.5 B.2), handed to the modality on the worklist.
fn study_instance_uid() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    format!("2.25.{}", u128::from_le_bytes(bytes))
}

async fn by_key(ctx: &Ctx, actor: &Actor, key: &str) -> Result<Option<Order>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM imaging_orders o WHERE o.community_id = $1 \
         AND o.ordered_by_staff_id = $2 AND o.idempotency_key = $3"
    )))
    .bind(actor.community_id)
    .bind(actor.staff_id)
    .bind(key)
    .fetch_optional(&ctx.db.pool)
    .await?)
}

/// Orders an examination; a retry with the same key returns the first order (`false`).
pub async fn create(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    order: &NewOrder,
    key: Option<&str>,
) -> Result<(Order, bool), Error> {
    let here = actor.institution.ok_or(crate::access::Denied)?;
    if let Some(key) = key {
        if key.is_empty() || key.len() > 200 {
            return Err(invalid("Idempotency-Key", "1 to 200 characters"));
        }
        if let Some(existing) = by_key(ctx, actor, key).await? {
            return Ok((existing, false));
        }
    }
    check(order)?;
    let resident = crate::resident::load_authorized(
        ctx,
        now,
        actor,
        order.resident_id,
        Purpose::Clinical,
        Access::Write,
        "imaging_order.create",
    )
    .await?;
    // A village clinic has no modality: its orders are performed at its township centre.
    let institution = if here.kind == InstitutionKind::VillageClinic {
        resident.township_id
    } else {
        here.id
    };
    let priority = if order.urgent {
        Priority::Stat
    } else {
        Priority::Routine
    };
    let mut tx = ctx.db.begin().await?;
    let inserted = sqlx::query_scalar::<_, i64>(
        "INSERT INTO imaging_orders (community_id, resident_id, institution_id, ordered_by_staff_id, \
         idempotency_key, accession_number, modality, body_part, reason, priority, ordered_at_ms, state, \
         study_instance_uid) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'scheduled', $12) \
         RETURNING id",
    )
    .bind(actor.community_id)
    .bind(resident.id)
    .bind(institution)
    .bind(actor.staff_id)
    .bind(key)
    .bind(accession_number())
    .bind(&order.modality)
    .bind(order.body_part.trim())
    .bind(order.reason.trim())
    .bind(priority.as_str())
    .bind(now)
    .bind(study_instance_uid())
    .fetch_one(&mut *tx)
    .await;
    let id = match inserted {
        Ok(id) => id,
        Err(error)
            if crate::db::is_unique_violation(
                &error,
                "imaging_orders_idempotency_unique",
                "imaging_orders.idempotency_key",
            ) =>
        {
            drop(tx);
            let existing = by_key(ctx, actor, key.unwrap_or_default()).await?;
            return existing.map(|o| (o, false)).ok_or(Error::NotFound);
        }
        Err(error) => return Err(error.into()),
    };
    let entry = Entry::by(
        actor,
        now,
        "imaging_order.created",
        "imaging_order",
        Some(id),
    )
    .about_resident(resident.id)
    .detail(format!(
        "modality={} priority={}",
        order.modality,
        priority.as_str()
    ));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok((load(ctx, actor.community_id, id).await?, true))
}

async fn load(ctx: &Ctx, community_id: i64, id: i64) -> Result<Order, Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM imaging_orders o WHERE o.community_id = $1 AND o.id = $2"
    )))
    .bind(community_id)
    .bind(id)
    .fetch_optional(&ctx.db.pool)
    .await?
    .ok_or(Error::NotFound)
}

/// Cancels a scheduled order (it leaves the modality's worklist), by the institution that
/// ordered it or the one that performs it; audited. Cancelling a cancelled order is a no-op.
pub async fn cancel(ctx: &Ctx, now: Millis, actor: &Actor, id: i64) -> Result<Order, Error> {
    let here = actor.institution.ok_or(crate::access::Denied)?;
    let order = load(ctx, actor.community_id, id).await?;
    let orderer: Option<i64> = sqlx::query_scalar("SELECT institution_id FROM staff WHERE id = $1")
        .bind(order.ordered_by_staff_id)
        .fetch_one(&ctx.db.pool)
        .await?;
    if here.id != order.institution_id && Some(here.id) != orderer {
        return Err(crate::access::Denied.into());
    }
    crate::resident::load_authorized(
        ctx,
        now,
        actor,
        order.resident_id,
        Purpose::Clinical,
        Access::Write,
        "imaging_order.cancel",
    )
    .await?;
    match order.state.as_str() {
        "cancelled" => return Ok(order),
        "scheduled" => {}
        _ => {
            return Err(invalid(
                "state",
                "a performed examination cannot be cancelled",
            ));
        }
    }
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "UPDATE imaging_orders SET state = 'cancelled' WHERE id = $1 AND state = 'scheduled'",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let entry = Entry::by(
        actor,
        now,
        "imaging_order.cancelled",
        "imaging_order",
        Some(id),
    )
    .about_resident(order.resident_id);
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    load(ctx, actor.community_id, id).await
}

/// A line of the site's order list.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct OrderItem {
    #[serde(flatten)]
    pub order: Order,
    pub resident_name: String,
    pub id_number: String,
    pub sex: String,
    pub birth_date: String,
}

/// The orders performed at the actor's institution or ordered from it (`scheduled`, or all),
/// urgent first, then newest.
pub async fn at_site(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    scheduled_only: bool,
) -> Result<Vec<OrderItem>, Error> {
    let site = actor.institution.ok_or(crate::access::Denied)?;
    if actor.scope(Purpose::Clinical, Access::Read) == crate::access::Scope::Nothing {
        return Err(crate::access::Denied.into());
    }
    let state = if scheduled_only {
        "AND o.state = 'scheduled' "
    } else {
        ""
    };
    let place = format!(
        "(o.institution_id = $2 OR o.ordered_by_staff_id IN \
         (SELECT id FROM staff WHERE institution_id = $2)) {state}"
    );
    listed(ctx, now, actor, site.id, &place, "imaging_order.list").await
}

/// The orders to be performed at the modality's institution: its Modality Worklist, asked
/// by the modality's machine account.
pub async fn worklist(ctx: &Ctx, now: Millis, actor: &Actor) -> Result<Vec<OrderItem>, Error> {
    let site = actor.institution.ok_or(crate::access::Denied)?;
    if actor.scope(Purpose::Images, Access::Read) == crate::access::Scope::Nothing {
        return Err(crate::access::Denied.into());
    }
    let place = "o.institution_id = $2 AND o.state = 'scheduled' ";
    listed(ctx, now, actor, site.id, place, "imaging_order.worklist").await
}

/// The orders of `site` that `place` selects (at most 500), each audited as `action`.
async fn listed(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    site: i64,
    place: &str,
    action: &str,
) -> Result<Vec<OrderItem>, Error> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS}, r.name AS resident_name, r.id_number, r.sex, r.birth_date \
         FROM imaging_orders o JOIN residents r ON r.id = o.resident_id \
         WHERE o.community_id = $1 AND {place}\
         ORDER BY CASE o.priority WHEN 'stat' THEN 0 ELSE 1 END, o.ordered_at_ms DESC, o.id DESC LIMIT 500"
    )))
    .bind(actor.community_id)
    .bind(site)
    .fetch_all(&ctx.db.pool)
    .await?;
    use sqlx::Row;
    let items: Vec<OrderItem> = rows
        .iter()
        .map(|row| {
            Ok(OrderItem {
                order: <Order as sqlx::FromRow<_>>::from_row(row)?,
                resident_name: row.try_get("resident_name")?,
                id_number: row.try_get("id_number")?,
                sex: row.try_get("sex")?,
                birth_date: row.try_get("birth_date")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    let entries = items
        .iter()
        .map(|i| {
            Entry::by(actor, now, action, "imaging_order", Some(i.order.id))
                .about_resident(i.order.resident_id)
        })
        .collect();
    ctx.auditor.record(entries).await?;
    Ok(items)
}

/// Files a new study to the scheduled order of its accession number (the same resident's):
/// the order is performed, and the study takes its urgency.
pub async fn file_study(
    conn: &mut sqlx::AnyConnection,
    community_id: i64,
    resident_id: i64,
    accession_number: &str,
    study_id: i64,
) -> Result<(), sqlx::Error> {
    if accession_number.is_empty() {
        return Ok(());
    }
    let priority: Option<String> = sqlx::query_scalar(
        "UPDATE imaging_orders SET state = 'performed', study_id = $1 WHERE community_id = $2 \
         AND resident_id = $3 AND accession_number = $4 AND state = 'scheduled' RETURNING priority",
    )
    .bind(study_id)
    .bind(community_id)
    .bind(resident_id)
    .bind(accession_number)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(priority) = priority {
        sqlx::query("UPDATE imaging_studies SET priority = $1 WHERE id = $2")
            .bind(priority)
            .bind(study_id)
            .execute(conn)
            .await?;
    }
    Ok(())
}
