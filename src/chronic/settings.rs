//! A county's own thresholds for the registry and the follow-up decision (the youngest age
//! managed, the emergency criteria, the targets, the days to the next visit). Absent a row the
//! national defaults hold. Administrators set them; every change is audited.

use super::Error;
use super::rules::Thresholds;
use crate::access::{Actor, Role};
use crate::audit::{self, Entry};
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::db::Db;

/// The thresholds in force in a community.
pub async fn thresholds(db: &Db, community_id: i64) -> Result<Thresholds, sqlx::Error> {
    let stored: Option<String> =
        sqlx::query_scalar("SELECT thresholds FROM chronic_settings WHERE community_id = $1")
            .bind(community_id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(stored
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default())
}

/// Sets the community's thresholds (administrators only), after checking they make sense.
pub async fn put(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    thresholds: &Thresholds,
) -> Result<Thresholds, Error> {
    if !actor.has_role(Role::Admin) {
        return Err(crate::access::Denied.into());
    }
    check(thresholds)?;
    let text = serde_json::to_string(thresholds).unwrap_or_default();
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "INSERT INTO chronic_settings (community_id, thresholds, updated_by_staff_id, \
         updated_at_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (community_id) DO UPDATE SET \
         thresholds = excluded.thresholds, updated_by_staff_id = excluded.updated_by_staff_id, \
         updated_at_ms = excluded.updated_at_ms",
    )
    .bind(actor.community_id)
    .bind(&text)
    .bind(actor.staff_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let entry = Entry::by(actor, now, "chronic.thresholds.set", "community", None).detail(text);
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(thresholds.clone())
}

fn check(t: &Thresholds) -> Result<(), Error> {
    let invalid = |field, reason| Err(Error::Invalid { field, reason });
    if !(18..=80).contains(&t.min_age) {
        return invalid("min_age", "18 to 80 years");
    }
    let sbp_ok = t.target_sbp < t.emergency_sbp && t.elderly_target_sbp < t.emergency_sbp;
    if !sbp_ok || !(90.0..=260.0).contains(&t.emergency_sbp) {
        return invalid("emergency_sbp", "90–260 mmHg, above the targets");
    }
    let dbp_ok = t.target_dbp < t.emergency_dbp && t.elderly_target_dbp < t.emergency_dbp;
    if !dbp_ok || !(60.0..=200.0).contains(&t.emergency_dbp) {
        return invalid("emergency_dbp", "60–200 mmHg, above the targets");
    }
    if !(t.emergency_glucose_low < t.target_fpg && t.target_fpg < t.emergency_glucose_high) {
        return invalid(
            "target_fpg",
            "between the low and the high emergency glucose",
        );
    }
    if !(50.0..=200.0).contains(&t.emergency_heart_rate) {
        return invalid("emergency_heart_rate", "50–200 beats a minute");
    }
    if !(18..=120).contains(&t.elderly_age) {
        return invalid("elderly_age", "18 to 120 years");
    }
    if !(1..=12).contains(&t.visits_per_year) {
        return invalid("visits_per_year", "1 to 12 face-to-face follow-ups a year");
    }
    if !(1..=366).contains(&t.routine_days) || !(1..=t.routine_days).contains(&t.recheck_days) {
        return invalid(
            "routine_days",
            "1–366 days; the re-check no later than the routine visit",
        );
    }
    check_screening(t)
}

fn check_screening(t: &Thresholds) -> Result<(), Error> {
    let invalid = |field, reason| Err(Error::Invalid { field, reason });
    if !(t.high_risk_sbp < t.screening_sbp && (100.0..=200.0).contains(&t.screening_sbp)) {
        return invalid("screening_sbp", "100–200 mmHg, above the high-risk SBP");
    }
    if !(t.high_risk_dbp < t.screening_dbp && (60.0..=130.0).contains(&t.screening_dbp)) {
        return invalid("screening_dbp", "60–130 mmHg, above the high-risk DBP");
    }
    if !(1..=6).contains(&t.confirm_raised_days) {
        return invalid("confirm_raised_days", "1 to 6 days with a raised reading");
    }
    if !(1..=90).contains(&t.screening_recheck_days) {
        return invalid("screening_recheck_days", "1 to 90 days");
    }
    let yearly = 30..=731;
    if !yearly.contains(&t.screening_days)
        || !(30..=t.screening_days).contains(&t.high_risk_screening_days)
    {
        return invalid(
            "high_risk_screening_days",
            "30–731 days, the high-risk no less often than the others",
        );
    }
    if !(18.0..=40.0).contains(&t.high_risk_bmi) {
        return invalid("high_risk_bmi", "18 to 40 kg/m²");
    }
    let waist = 50.0..=150.0;
    if !waist.contains(&t.high_risk_waist_men_cm) || !waist.contains(&t.high_risk_waist_women_cm) {
        return invalid("high_risk_waist_men_cm", "50 to 150 cm");
    }
    if !(18..=120).contains(&t.high_risk_age) {
        return invalid("high_risk_age", "18 to 120 years");
    }
    Ok(())
}
