//! Monthly figures for managers and the health bureau: referral counts per institution and the
//! chest pain centre's intervals per sending institution (median, share within target).
//! Aggregates only: no resident is named, and supervisors may read them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::Error;
use super::timeline;
use crate::access::{self, Actor};
use crate::ctx::Ctx;

#[derive(Clone, Debug, Deserialize, utoipa::IntoParams)]
pub struct MonthQuery {
    /// `YYYY-MM`, in China Standard Time.
    pub month: String,
}

fn month_bounds(month: &str) -> Result<(i64, i64), Error> {
    crate::clock::month_bounds_cst(month).ok_or(Error::Invalid {
        field: "month",
        reason: "YYYY-MM",
    })
}

#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct ReferralFigures {
    pub institution_id: i64,
    pub up_sent: i64,
    pub down_sent: i64,
    pub received: i64,
    pub accepted: i64,
    pub rejected: i64,
    /// Down-referrals closed ÷ down-referrals accepted (the loop back home), when any.
    pub closed_loop_rate: Option<f64>,
    pub green_channel: i64,
    pub catalogue_exceptions: i64,
    /// The reasons stated for the catalogue exceptions, as written.
    pub catalogue_exception_reasons: Vec<String>,
}

/// Referral counts per institution for a month.
pub async fn referral_figures(
    ctx: &Ctx,
    actor: &Actor,
    month: &str,
) -> Result<Vec<ReferralFigures>, Error> {
    if !access::may_see_aggregates(actor) {
        return Err(access::Denied.into());
    }
    let (start, end) = month_bounds(month)?;
    let rows = sqlx::query(
        "SELECT from_institution_id, to_institution_id, direction, state, green_channel, \
         catalogue_exception_reason FROM referrals \
         WHERE community_id = $1 AND created_at_ms >= $2 AND created_at_ms < $3",
    )
    .bind(actor.community_id)
    .bind(start)
    .bind(end)
    .fetch_all(&ctx.db.pool)
    .await?;
    let mut figures: BTreeMap<i64, ReferralFigures> = BTreeMap::new();
    let mut loops: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for row in rows {
        let from: i64 = row.try_get("from_institution_id")?;
        let to: i64 = row.try_get("to_institution_id")?;
        let direction: String = row.try_get("direction")?;
        let state: String = row.try_get("state")?;
        let green: Option<String> = row.try_get("green_channel")?;
        let exception: Option<String> = row.try_get("catalogue_exception_reason")?;
        let sender = figures.entry(from).or_insert_with(|| ReferralFigures {
            institution_id: from,
            ..Default::default()
        });
        if direction == "up" {
            sender.up_sent += 1
        } else {
            sender.down_sent += 1
        }
        sender.green_channel += i64::from(green.is_some());
        if let Some(reason) = exception {
            sender.catalogue_exceptions += 1;
            sender.catalogue_exception_reasons.push(reason);
        }
        let receiver = figures.entry(to).or_insert_with(|| ReferralFigures {
            institution_id: to,
            ..Default::default()
        });
        receiver.received += 1;
        let accepted = !matches!(
            state.as_str(),
            "draft" | "submitted" | "rejected" | "cancelled"
        );
        receiver.accepted += i64::from(accepted);
        receiver.rejected += i64::from(state == "rejected");
        if direction == "down" && accepted {
            let entry = loops.entry(from).or_default();
            entry.0 += 1;
            entry.1 += i64::from(state == "closed");
        }
    }
    for (institution, (accepted, closed)) in loops {
        if let Some(f) = figures.get_mut(&institution) {
            f.closed_loop_rate = (accepted > 0).then(|| closed as f64 / accepted as f64);
        }
    }
    Ok(figures.into_values().collect())
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct IntervalFigure {
    pub name: &'static str,
    pub cases: usize,
    pub median_minutes: Option<f64>,
    pub target_minutes: Option<f64>,
    /// Share of cases within target, 0–1, when a target exists and there are cases.
    pub within_target_share: Option<f64>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ChestPainFigures {
    pub sending_institution_id: i64,
    pub cases: usize,
    pub intervals: Vec<IntervalFigure>,
}

/// The month's chest pain cases (green channel) per sending institution.
pub async fn chest_pain_report(
    ctx: &Ctx,
    actor: &Actor,
    month: &str,
) -> Result<Vec<ChestPainFigures>, Error> {
    if !access::may_see_aggregates(actor) {
        return Err(access::Denied.into());
    }
    let bounds = month_bounds(month)?;
    let mut conn = ctx.db.pool.acquire().await?;
    let mut per_site: BTreeMap<i64, Vec<Vec<timeline::Interval>>> = BTreeMap::new();
    for case in super::store::chest_pain_cases(&mut conn, actor.community_id, bounds).await? {
        per_site
            .entry(case.from_institution_id)
            .or_default()
            .push(timeline::intervals(&case.points));
    }
    Ok(per_site
        .into_iter()
        .map(|(site, cases)| {
            let names: Vec<(&'static str, Option<f64>)> = cases
                .first()
                .map(|c| c.iter().map(|i| (i.name, i.target_minutes)).collect())
                .unwrap_or_default();
            let intervals = names
                .into_iter()
                .map(|(name, target_minutes)| {
                    let mut minutes: Vec<f64> = cases
                        .iter()
                        .filter_map(|c| c.iter().find(|i| i.name == name).and_then(|i| i.minutes))
                        .collect();
                    minutes.sort_by(f64::total_cmp);
                    let median_minutes = (!minutes.is_empty()).then(|| minutes[minutes.len() / 2]);
                    let within_target_share =
                        target_minutes.filter(|_| !minutes.is_empty()).map(|t| {
                            minutes.iter().filter(|m| **m <= t).count() as f64
                                / minutes.len() as f64
                        });
                    IntervalFigure {
                        name,
                        cases: minutes.len(),
                        median_minutes,
                        target_minutes,
                        within_target_share,
                    }
                })
                .collect();
            ChestPainFigures {
                sending_institution_id: site,
                cases: cases.len(),
                intervals,
            }
        })
        .collect())
}
