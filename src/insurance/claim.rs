//! Claims: one per closed encounter of an insured resident (an outpatient visit at once, an
//! inpatient or emergency stay at discharge), computed by the year's rules to the fen, with the
//! referral rules — one deductible per up-referral episode, and 5 points more for a
//! down-referred patient.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{Error, Rule, budget, require_officer, require_reader};
use crate::access::Actor;
use crate::audit::{self, Entry};
use crate::clock::Millis;
use crate::ctx::Ctx;

/// A down-referral raises the rate of the receiving institution's encounters that begin within
/// this many days of it.
pub const DOWN_REFERRAL_BONUS_DAYS: i64 = 90;

/// What the fund and the patient pay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amounts {
    pub eligible_fen: i64,
    pub deductible_fen: i64,
    pub rate_pp: i64,
    pub fund_paid_fen: i64,
    pub patient_paid_fen: i64,
}

/// The claim of one encounter: the eligible share of the cost, less the deductible (none for
/// the receiving encounter of an up-referral episode), times the rate (plus any down-referral
/// bonus, at most 100 %), rounded half up to the fen and limited by what is left of the
/// person's annual cap.
pub fn compute(
    total_fen: i64,
    rule: &Rule,
    single_deductible: bool,
    rate_bonus_pp: i64,
    fund_paid_this_year_fen: i64,
) -> Amounts {
    let eligible_fen = total_fen * rule.eligible_pp / 100;
    let deductible_fen = if single_deductible {
        0
    } else {
        rule.deductible_fen.min(eligible_fen)
    };
    let rate_pp = (rule.rate_pp + rate_bonus_pp).min(100);
    let by_rate = ((eligible_fen - deductible_fen) * rate_pp + 50) / 100;
    let cap_left = (rule.annual_cap_fen - fund_paid_this_year_fen).max(0);
    let fund_paid_fen = by_rate.min(cap_left);
    Amounts {
        eligible_fen,
        deductible_fen,
        rate_pp,
        fund_paid_fen,
        patient_paid_fen: total_fen - fund_paid_fen,
    }
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Claim {
    pub id: i64,
    pub encounter_id: i64,
    pub resident_id: i64,
    pub institution_id: i64,
    pub year: i64,
    pub month: String,
    pub scheme: String,
    pub level: i64,
    pub total_fen: i64,
    pub eligible_fen: i64,
    pub deductible_fen: i64,
    pub rate_pp: i64,
    pub fund_paid_fen: i64,
    pub patient_paid_fen: i64,
    /// `single_deductible` and/or `down_referral_bonus` when a referral rule applied.
    pub rule_notes: String,
    pub settled_at_ms: i64,
}

#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Settlement {
    pub month: String,
    pub settled: i64,
    pub uninsured: i64,
    pub already_settled: i64,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct SettleRequest {
    /// `YYYY-MM`: claims for the encounters closed in this month.
    pub month: String,
}

/// One closed encounter waiting for its claim.
struct Pending {
    encounter_id: i64,
    resident_id: i64,
    institution_id: i64,
    level: i64,
    closed_at_ms: i64,
    started_at_ms: i64,
    total_fen: i64,
    scheme: Option<String>,
    single_deductible: bool,
}

/// Settles the claims of every encounter closed in `month` that has none yet: insurance
/// officers only; a settled year refuses. Running it twice settles nothing twice.
pub async fn settle_month(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    month: &str,
) -> Result<Settlement, Error> {
    require_officer(actor)?;
    settle_month_unchecked(ctx, now, actor.community_id, Some(actor), month).await
}

/// [`settle_month`] without the role check, for the demo loader.
pub async fn settle_month_unchecked(
    ctx: &Ctx,
    now: Millis,
    community_id: i64,
    actor: Option<&Actor>,
    month: &str,
) -> Result<Settlement, Error> {
    let (start, end) = crate::clock::month_bounds_cst(month).ok_or(Error::Invalid {
        field: "month",
        reason: "YYYY-MM",
    })?;
    let year: i64 = month[..4].parse().unwrap_or(0);
    budget::require_open(&ctx.db, community_id, year).await?;
    let rows = sqlx::query(
        "SELECT e.id, e.resident_id, e.institution_id, i.kind, e.started_at_ms, \
         COALESCE(e.ended_at_ms, e.started_at_ms) AS closed_at_ms, \
         e.cost_drugs_fen + e.cost_examinations_fen + e.cost_tests_fen + e.cost_treatment_fen \
           + e.cost_beds_fen + e.cost_materials_fen AS total_fen, \
         p.scheme, COALESCE(f.single_deductible, 0) AS single_deductible, \
         (SELECT COUNT(*) FROM claims c WHERE c.community_id = e.community_id AND c.encounter_id = e.id) AS claimed \
         FROM encounters e JOIN institutions i ON i.id = e.institution_id \
         LEFT JOIN insured_persons p ON p.community_id = e.community_id \
           AND p.resident_id = e.resident_id AND p.year = $4 \
         LEFT JOIN referrals f ON f.id = e.referral_id \
         WHERE e.community_id = $1 AND (e.kind = 'outpatient' OR e.ended_at_ms IS NOT NULL) \
         AND COALESCE(e.ended_at_ms, e.started_at_ms) >= $2 \
         AND COALESCE(e.ended_at_ms, e.started_at_ms) < $3 \
         ORDER BY closed_at_ms, e.id",
    )
    .bind(community_id)
    .bind(start)
    .bind(end)
    .bind(year)
    .fetch_all(&ctx.db.pool)
    .await?;
    let mut settlement = Settlement {
        month: month.to_owned(),
        ..Default::default()
    };
    let mut pending = Vec::new();
    for row in &rows {
        if row.try_get::<i64, _>("claimed")? > 0 {
            settlement.already_settled += 1;
            continue;
        }
        let kind: String = row.try_get("kind")?;
        pending.push(Pending {
            encounter_id: row.try_get("id")?,
            resident_id: row.try_get("resident_id")?,
            institution_id: row.try_get("institution_id")?,
            level: crate::institution::InstitutionKind::try_from(kind)
                .map(|k| i64::from(k.level()))
                .unwrap_or(3),
            closed_at_ms: row.try_get("closed_at_ms")?,
            started_at_ms: row.try_get("started_at_ms")?,
            total_fen: row.try_get("total_fen")?,
            scheme: row.try_get("scheme")?,
            single_deductible: row.try_get::<i64, _>("single_deductible")? != 0,
        });
    }
    let mut tx = ctx.db.begin().await?;
    let mut entries = Vec::new();
    for encounter in pending {
        let Some(scheme) = encounter.scheme.clone() else {
            settlement.uninsured += 1;
            continue;
        };
        let rule = rule_of(&mut tx, community_id, year, &scheme, encounter.level).await?;
        let bonus = down_referral_bonus(&mut tx, community_id, &encounter).await?;
        let paid: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(fund_paid_fen), 0) AS BIGINT) FROM claims \
             WHERE community_id = $1 AND resident_id = $2 AND year = $3 AND scheme = $4",
        )
        .bind(community_id)
        .bind(encounter.resident_id)
        .bind(year)
        .bind(&scheme)
        .fetch_one(&mut *tx)
        .await?;
        let amounts = compute(
            encounter.total_fen,
            &rule,
            encounter.single_deductible,
            bonus,
            paid,
        );
        let notes = [
            encounter.single_deductible.then_some("single_deductible"),
            (bonus > 0).then_some("down_referral_bonus"),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO claims (community_id, encounter_id, resident_id, institution_id, year, \
             month, scheme, level, total_fen, eligible_fen, deductible_fen, rate_pp, fund_paid_fen, \
             patient_paid_fen, rule_notes, settled_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
        )
        .bind(community_id)
        .bind(encounter.encounter_id)
        .bind(encounter.resident_id)
        .bind(encounter.institution_id)
        .bind(year)
        .bind(crate::insurance::month_of(encounter.closed_at_ms).1)
        .bind(&scheme)
        .bind(encounter.level)
        .bind(encounter.total_fen)
        .bind(amounts.eligible_fen)
        .bind(amounts.deductible_fen)
        .bind(amounts.rate_pp)
        .bind(amounts.fund_paid_fen)
        .bind(amounts.patient_paid_fen)
        .bind(notes)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        settlement.settled += 1;
        if let Some(actor) = actor {
            entries.push(
                Entry::by(actor, now, "claim.settle", "claim", Some(id))
                    .about_resident(encounter.resident_id),
            );
        }
    }
    audit::store::append(&mut tx, &entries).await?;
    tx.commit().await?;
    Ok(settlement)
}

async fn rule_of(
    conn: &mut sqlx::AnyConnection,
    community_id: i64,
    year: i64,
    scheme: &str,
    level: i64,
) -> Result<Rule, Error> {
    sqlx::query_as(
        "SELECT year, scheme, level, deductible_fen, eligible_pp, rate_pp, annual_cap_fen \
         FROM insurance_rules WHERE community_id = $1 AND year = $2 AND scheme = $3 AND level = $4",
    )
    .bind(community_id)
    .bind(year)
    .bind(scheme)
    .bind(level)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| Error::NoRules {
        year,
        scheme: scheme.to_owned(),
        level,
    })
}

/// The rate bonus of a down-referral to the encounter's institution, accepted and begun within
/// [`DOWN_REFERRAL_BONUS_DAYS`] before the encounter.
async fn down_referral_bonus(
    conn: &mut sqlx::AnyConnection,
    community_id: i64,
    encounter: &Pending,
) -> Result<i64, sqlx::Error> {
    let bonus: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(rate_bonus_pp) FROM referrals WHERE community_id = $1 AND resident_id = $2 \
         AND to_institution_id = $3 AND direction = 'down' \
         AND state IN ('accepted', 'received', 'follow_up_planned', 'closed') \
         AND created_at_ms <= $4 AND created_at_ms >= $5",
    )
    .bind(community_id)
    .bind(encounter.resident_id)
    .bind(encounter.institution_id)
    .bind(encounter.started_at_ms)
    .bind(encounter.started_at_ms - DOWN_REFERRAL_BONUS_DAYS * 86_400_000)
    .fetch_one(conn)
    .await?;
    Ok(bonus.unwrap_or(0))
}

/// Claims of a month, optionally of one institution (insurance officers and administrators;
/// each claim read is audited against its resident).
pub async fn list(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    month: &str,
    institution: Option<i64>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Claim>, Error> {
    require_reader(actor)?;
    let claims: Vec<Claim> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, encounter_id, resident_id, institution_id, year, month, scheme, level, \
         total_fen, eligible_fen, deductible_fen, rate_pp, fund_paid_fen, patient_paid_fen, \
         rule_notes, settled_at_ms FROM claims WHERE community_id = $1 AND month = $2 \
         AND ($3 = 0 OR institution_id = $3) ORDER BY id {}",
        crate::db::limit_clause(limit, offset)
    )))
    .bind(actor.community_id)
    .bind(month)
    .bind(institution.unwrap_or(0))
    .fetch_all(&ctx.db.pool)
    .await?;
    let entries = claims
        .iter()
        .map(|c| {
            Entry::by(actor, now, "claim.read", "claim", Some(c.id)).about_resident(c.resident_id)
        })
        .collect();
    ctx.auditor.record(entries).await?;
    Ok(claims)
}

/// What a month's claims add up to.
#[derive(Clone, Debug, Default, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MonthTotals {
    pub claims: i64,
    pub total_fen: i64,
    pub fund_paid_fen: i64,
    pub patient_paid_fen: i64,
}

/// The month's claims summed (aggregates: no resident is read).
pub async fn month_totals(ctx: &Ctx, actor: &Actor, month: &str) -> Result<MonthTotals, Error> {
    require_reader(actor)?;
    Ok(sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) AS claims, \
         CAST(COALESCE(SUM(total_fen), 0) AS BIGINT) AS total_fen, \
         CAST(COALESCE(SUM(fund_paid_fen), 0) AS BIGINT) AS fund_paid_fen, \
         CAST(COALESCE(SUM(patient_paid_fen), 0) AS BIGINT) AS patient_paid_fen \
         FROM claims WHERE community_id = $1 AND month = $2",
    )
    .bind(actor.community_id)
    .bind(month)
    .fetch_one(&ctx.db.pool)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> Rule {
        Rule {
            year: 2026,
            scheme: "resident".into(),
            level: 3,
            deductible_fen: 50_000,
            eligible_pp: 88,
            rate_pp: 65,
            annual_cap_fen: 15_000_000,
        }
    }

    #[test]
    fn a_claim_follows_deductible_eligible_share_rate_and_rounding() {
        // 12,345.67 yuan: eligible 10,864.19 (floor), less 500, times 65 % = 6,736.7235 → 6,736.72.
        let amounts = compute(1_234_567, &rule(), false, 0, 0);
        assert_eq!(amounts.eligible_fen, 1_086_418);
        assert_eq!(amounts.deductible_fen, 50_000);
        assert_eq!(amounts.fund_paid_fen, 673_672);
        assert_eq!(amounts.patient_paid_fen, 1_234_567 - 673_672);
    }

    #[test]
    fn referral_rules_and_the_cap_apply() {
        let single = compute(1_000_000, &rule(), true, 0, 0);
        assert_eq!(single.deductible_fen, 0);
        assert_eq!(single.fund_paid_fen, 572_000);
        let bonus = compute(1_000_000, &rule(), false, 5, 0);
        assert_eq!(bonus.rate_pp, 70);
        assert_eq!(bonus.fund_paid_fen, (880_000 - 50_000) * 70 / 100);
        let capped = compute(1_000_000, &rule(), false, 0, 14_900_000);
        assert_eq!(capped.fund_paid_fen, 100_000);
        let small = compute(30_000, &rule(), false, 0, 0);
        assert_eq!((small.deductible_fen, small.fund_paid_fen), (26_400, 0));
    }
}
