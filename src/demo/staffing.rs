//! The demo's people and pay: county doctors dispatched to every township centre (the past year
//! all year, this year half of it), the past year's payroll imported as the personnel system
//! exports it, and the past year's assessment frozen and its budget settled by those scores.
//! Deterministic from the seed.

use time::Date;

use super::rng::Rng;
use crate::access::Actor;
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::dispatch::{NewDispatch, Purpose};

async fn account(ctx: &Ctx, community_id: i64, username: &str) -> anyhow::Result<Actor> {
    let id: i64 =
        sqlx::query_scalar("SELECT id FROM staff WHERE community_id = $1 AND username = $2")
            .bind(community_id)
            .bind(username)
            .fetch_one(&ctx.db.pool)
            .await?;
    crate::staff::store::actor_by_id(&ctx.db, community_id, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("{username} is not active"))
}

/// Dispatches: for each township centre a doctor of the county hospitals with a mid-level title
/// or above, the past year whole and this year's first half, 22 days a month.
pub async fn dispatches(
    ctx: &Ctx,
    now: Millis,
    community_id: i64,
    (past, today): (i32, Date),
) -> anyhow::Result<usize> {
    let admin = account(ctx, community_id, "admin").await?;
    let townships: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM institutions WHERE community_id = $1 AND kind = 'township_centre' ORDER BY id",
    )
    .bind(community_id)
    .fetch_all(&ctx.db.pool)
    .await?;
    let doctors: Vec<i64> = sqlx::query_scalar(
        "SELECT s.id FROM staff s JOIN institutions i ON i.id = s.institution_id \
         WHERE s.community_id = $1 AND i.kind IN ('lead_hospital', 'campus') AND s.roles = 'doctor' \
         AND s.active = 1 AND s.title_level IN ('intermediate', 'associate_senior', 'senior') \
         ORDER BY s.id",
    )
    .bind(community_id)
    .fetch_all(&ctx.db.pool)
    .await?;
    let mut written = 0;
    let spells = [
        (past, "01-01", "12-31", Purpose::Clinic),
        (today.year(), "01-01", "06-30", Purpose::Teaching),
    ];
    for (n, (year, from, to, purpose)) in spells.iter().enumerate() {
        // Each spell its own doctors where there are enough, so no one is in two places.
        for (t, township) in townships.iter().enumerate() {
            let Some(doctor) = doctors.get(n * townships.len() + t).or(doctors.get(t)) else {
                break;
            };
            let new = NewDispatch {
                staff_id: *doctor,
                from_institution_id: None,
                to_institution_id: *township,
                starts_on: format!("{year}-{from}"),
                ends_on: format!("{year}-{to}"),
                days_per_month: 22,
                purpose: *purpose,
            };
            crate::dispatch::create(ctx, now, &admin, &new).await?;
            written += 1;
        }
    }
    Ok(written)
}

/// The past year's payroll, one row per member of staff at every institution (county hospitals
/// paid most, village clinics least), imported as the file the personnel system exports.
pub async fn payroll(
    ctx: &Ctx,
    now: Millis,
    community_id: i64,
    (past, seed): (i32, u64),
) -> anyhow::Result<u64> {
    let mut rng = Rng::new(seed ^ 0x9a7_0000_0000 ^ past as u64);
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT i.code, s.username, i.kind FROM staff s JOIN institutions i ON i.id = s.institution_id \
         WHERE s.community_id = $1 AND s.resident_id IS NULL AND s.roles NOT IN ('interface', 'modality_interface') \
         ORDER BY i.id, s.id",
    )
    .bind(community_id)
    .fetch_all(&ctx.db.pool)
    .await?;
    let mut csv = String::from("institution_code,staff_id,gross_income_fen\n");
    for (code, staff, kind) in rows {
        let (low, high): (i64, i64) = match kind.as_str() {
            "village_clinic" => (40_000, 70_000),
            "township_centre" | "community_centre" => (80_000, 130_000),
            _ => (120_000, 200_000),
        };
        let yuan = low + rng.below((high - low) as u64) as i64;
        csv.push_str(&format!("{code},{staff},{}\n", yuan * 100));
    }
    let imported =
        crate::staff::payroll::import(ctx, now, (community_id, past), &csv, &|_| {}).await?;
    Ok(imported.rows)
}

/// The past year's assessment frozen by the insurance office, then its budget settled.
pub async fn freeze_and_settle(
    ctx: &Ctx,
    now: Millis,
    community_id: i64,
    past: i32,
) -> anyhow::Result<usize> {
    let officer = account(ctx, community_id, "insurance-officer").await?;
    let frozen = crate::assessment::freeze(ctx, now, &officer, past).await?;
    crate::insurance::budget::settle(ctx, now, &officer, i64::from(past)).await?;
    Ok(frozen.members.len())
}
