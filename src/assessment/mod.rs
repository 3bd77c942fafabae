//! Member performance assessment (绩效考核): each township centre and village clinic scored per
//! quarter and year by its kind's scheme (`scheme`), from data the platform already holds — the
//! indicator set at the member, the family doctor contracts' fulfilment and coverage, the
//! supervision findings — every item with its value, points and source. The year's scores are
//! frozen (by the insurance office) into the snapshot the budget's surplus split reads.
//! Administrators edit the schemes; the office and administrators see every member's scores, a
//! member's own staff its scorecard.

pub mod http;
pub mod scheme;
mod store;
pub mod views;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::access::{Actor, Role};
use crate::audit::{self, Entry};
use crate::clock::{self, Millis};
use crate::ctx::Ctx;
use scheme::{Input, Item, MemberKind};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("the assessment of {0} is frozen")]
    Frozen(i32),
    #[error(transparent)]
    Denied(#[from] crate::access::Denied),
    #[error(transparent)]
    Indicator(#[from] crate::indicator::Error),
    #[error(transparent)]
    FamilyDoctor(#[from] crate::family_doctor::Error),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Audit(#[from] audit::Error),
}

fn invalid(field: &'static str, reason: &'static str) -> Error {
    Error::Invalid { field, reason }
}

/// Every member's scores: the group's insurance and quality office and administrators.
fn sees_all(actor: &Actor) -> bool {
    crate::access::oversees_members(actor)
}

fn check_year(year: i32) -> Result<(), Error> {
    if (2000..=2100).contains(&year) {
        Ok(())
    } else {
        Err(invalid("year", "2000 to 2100"))
    }
}

/// A kind's scheme for a year, as in force.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Scheme {
    pub year: i32,
    pub kind: MemberKind,
    pub kind_name: &'static str,
    pub items: Vec<Item>,
    /// Set by the county (otherwise the defaults).
    pub customised: bool,
}

/// The schemes of the year, every kind; any member of staff may read them.
pub async fn schemes(ctx: &Ctx, actor: &Actor, year: i32) -> Result<Vec<Scheme>, Error> {
    check_year(year)?;
    if !actor.is_staff() {
        return Err(crate::access::Denied.into());
    }
    let stored = store::schemes(&ctx.db, actor.community_id, year).await?;
    Ok(MemberKind::ALL
        .iter()
        .map(|kind| {
            let own = stored.get(kind);
            Scheme {
                year,
                kind: *kind,
                kind_name: kind.label_zh(),
                items: own.cloned().unwrap_or_else(|| scheme::default_items(*kind)),
                customised: own.is_some(),
            }
        })
        .collect())
}

/// Sets a kind's scheme for a year (administrators), until the year is frozen.
pub async fn set_scheme(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    (year, kind): (i32, MemberKind),
    items: &[Item],
) -> Result<Scheme, Error> {
    check_year(year)?;
    if !actor.has_role(Role::Admin) {
        return Err(crate::access::Denied.into());
    }
    scheme::check(items).map_err(|reason| invalid("items", reason))?;
    if store::frozen_at(&ctx.db, actor.community_id, year)
        .await?
        .is_some()
    {
        return Err(Error::Frozen(year));
    }
    let mut tx = ctx.db.begin().await?;
    store::put_scheme(
        &mut tx,
        (actor.community_id, year, kind),
        items,
        (actor.staff_id, now),
    )
    .await?;
    let entry = Entry::by(
        actor,
        now,
        "assessment.scheme.set",
        "assessment_scheme",
        Some(i64::from(year)),
    )
    .detail(format!("kind={}", kind.as_str()));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(Scheme {
        year,
        kind,
        kind_name: kind.label_zh(),
        items: items.to_vec(),
        customised: true,
    })
}

/// The period scored: a quarter or the whole year.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ScoreQuery {
    /// `year` (default) or `q1` … `q4`.
    pub period: Option<String>,
    /// One member (its own staff may ask only for it).
    pub institution: Option<i64>,
}

/// One item's result at a member: the value with its numerator and denominator, the points,
/// and where the value comes from.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemScore {
    pub name: String,
    pub input: Input,
    pub weight: f64,
    pub target: f64,
    pub value: Option<f64>,
    pub unit: String,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub points: f64,
    /// Where the value comes from, in Chinese, and the page that shows it.
    pub source: String,
    pub link: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MemberScore {
    pub institution_id: i64,
    pub institution_name: String,
    pub kind: MemberKind,
    /// Out of 100, to one decimal.
    pub score: f64,
    pub items: Vec<ItemScore>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Scores {
    pub year: i32,
    /// `year` or `q1` … `q4`.
    pub period: String,
    /// The frozen snapshot (the year only), read as it was frozen.
    pub frozen_at_ms: Option<i64>,
    pub members: Vec<MemberScore>,
}

/// The months a period covers.
fn months(period: &str) -> Option<(u32, u32)> {
    Some(match period {
        "year" => (1, 12),
        "q1" => (1, 3),
        "q2" => (4, 6),
        "q3" => (7, 9),
        "q4" => (10, 12),
        _ => return None,
    })
}

/// Members' scores for a quarter or the year: the frozen snapshot for a frozen year, computed
/// otherwise. The office and administrators see every member; a member's staff their own.
pub async fn scores(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    year: i32,
    query: &ScoreQuery,
) -> Result<Scores, Error> {
    check_year(year)?;
    let period = query.period.as_deref().unwrap_or("year").to_owned();
    let span = months(&period).ok_or(invalid("period", "year, q1, q2, q3 or q4"))?;
    let only = if sees_all(actor) {
        query.institution
    } else {
        let own = actor
            .institution
            .filter(|i| actor.is_staff() && MemberKind::of(i.kind).is_some())
            .ok_or(crate::access::Denied)?
            .id;
        if query.institution.is_some_and(|id| id != own) {
            return Err(crate::access::Denied.into());
        }
        Some(own)
    };
    let community = actor.community_id;
    let frozen_at_ms = match period.as_str() {
        "year" => store::frozen_at(&ctx.db, community, year).await?,
        _ => None,
    };
    let members = match frozen_at_ms {
        Some(_) => store::snapshot(&ctx.db, community, year, only).await?,
        None => compute(ctx, (community, year), span, only).await?,
    };
    let entry = Entry::by(
        actor,
        now,
        "assessment.scores.read",
        "assessment",
        Some(i64::from(year)),
    )
    .detail(format!("period={period} members={}", members.len()));
    ctx.auditor.record(vec![entry]).await?;
    Ok(Scores {
        year,
        period,
        frozen_at_ms,
        members,
    })
}

/// Freezes the year's scores (the insurance office): computed now, kept with their inputs, and
/// from then on what the budget's surplus split reads. Freezing again is 409.
pub async fn freeze(ctx: &Ctx, now: Millis, actor: &Actor, year: i32) -> Result<Scores, Error> {
    check_year(year)?;
    if !actor.has_role(Role::InsuranceOfficer) {
        return Err(crate::access::Denied.into());
    }
    let community = actor.community_id;
    if store::frozen_at(&ctx.db, community, year).await?.is_some() {
        return Err(Error::Frozen(year));
    }
    let members = compute(ctx, (community, year), (1, 12), None).await?;
    let mut tx = ctx.db.begin().await?;
    let written =
        store::insert_snapshot(&mut tx, (community, year), &members, (actor.staff_id, now)).await?;
    if !written {
        return Err(Error::Frozen(year));
    }
    let entry = Entry::by(
        actor,
        now,
        "assessment.freeze",
        "assessment",
        Some(i64::from(year)),
    )
    .detail(format!("members={}", members.len()));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(Scores {
        year,
        period: "year".to_owned(),
        frozen_at_ms: Some(now),
        members,
    })
}

/// The frozen scores of the year, by institution (none before it is frozen), for the budget.
pub async fn frozen_scores(
    db: &crate::db::Db,
    community_id: i64,
    year: i32,
) -> Result<HashMap<i64, f64>, sqlx::Error> {
    store::frozen_scores(db, community_id, year).await
}

/// Every member's (or `only` one's) scores over the months `span` of the year.
async fn compute(
    ctx: &Ctx,
    (community, year): (i64, i32),
    span: (u32, u32),
    only: Option<i64>,
) -> Result<Vec<MemberScore>, Error> {
    let stored = store::schemes(&ctx.db, community, year).await?;
    let scheme_of = |kind: MemberKind| {
        stored
            .get(&kind)
            .cloned()
            .unwrap_or_else(|| scheme::default_items(kind))
    };
    let schemes: HashMap<MemberKind, Vec<Item>> = MemberKind::ALL
        .iter()
        .map(|k| (*k, scheme_of(*k)))
        .collect();
    let mut codes: Vec<&str> = schemes
        .values()
        .flatten()
        .filter_map(|item| match &item.input {
            Input::Indicator(code) => Some(code.as_str()),
            _ => None,
        })
        .collect();
    codes.sort_unstable();
    codes.dedup();
    let periods = crate::indicator::months_of(i64::from(year), span)
        .ok_or(invalid("year", "2000 to 2100"))?;
    let (_, values) = crate::indicator::by_member(ctx, community, periods, (&codes, only)).await?;
    // Contracts as they stood at the period's end (or today, before it ends).
    let (start, end) = periods.0;
    let at = end.min(clock::now_ms()).max(start) - 1;
    let all = crate::institution::store::institutions_in_community(&ctx.db, community).await?;
    // The villages whose contracts count: every one, or those of the one member asked for.
    let villages: Vec<i64> = all
        .iter()
        .filter(|i| i.kind == crate::institution::InstitutionKind::VillageClinic)
        .filter(|i| only.is_none_or(|id| i.id == id || i.township_id == Some(id)))
        .map(|i| i.id)
        .collect();
    let contracts = crate::family_doctor::measures::measures_over(
        ctx,
        (community, &all),
        (at, clock::date_cst(at)),
        &villages,
    )
    .await?;
    let contract_of: HashMap<i64, &crate::family_doctor::measures::AreaMeasures> = contracts
        .villages
        .iter()
        .chain(&contracts.townships)
        .map(|m| (m.id, m))
        .collect();
    let months = (clock::month_cst(start), clock::month_cst(end - 1));
    let findings: HashMap<i64, crate::supervision::Tally> = crate::supervision::tallies(
        &ctx.db,
        community,
        (&months.0, &months.1),
        clock::date_cst(at),
    )
    .await?
    .into_iter()
    .map(|t| (t.institution_id, t))
    .collect();
    let query = format!("year={year}");
    let mut members = Vec::new();
    for (id, kind, name, indicators) in values {
        let Some(member) = MemberKind::of(kind) else {
            continue;
        };
        let items: Vec<ItemScore> = schemes[&member]
            .iter()
            .map(|item| {
                let (value, unit, numerator, denominator, source, link) = match &item.input {
                    Input::Indicator(code) => {
                        let v = indicators.iter().find(|v| v.code == code);
                        (
                            v.and_then(|v| v.value),
                            v.map(|v| v.unit.clone()).unwrap_or_default(),
                            v.and_then(|v| v.numerator),
                            v.and_then(|v| v.denominator),
                            format!(
                                "监测指标 {code} {}",
                                v.map(|v| v.name.as_str()).unwrap_or_default()
                            ),
                            Some(format!("/indicators/{code}?{query}")),
                        )
                    }
                    Input::ContractFulfilment | Input::ContractCoverage => {
                        let ratio = contract_of.get(&id).map(|m| match item.input {
                            Input::ContractFulfilment => &m.fulfilment,
                            _ => &m.coverage,
                        });
                        let what = match item.input {
                            Input::ContractFulfilment => "履约率",
                            _ => "签约覆盖率",
                        };
                        (
                            ratio.and_then(|r| r.percent),
                            "%".to_owned(),
                            ratio.map(|r| r.numerator as f64),
                            ratio.map(|r| r.denominator as f64),
                            format!("家庭医生签约{what}（截至 {}）", clock::date_cst(at)),
                            Some(format!("/family-doctor?institution={id}")),
                        )
                    }
                    Input::Supervision => {
                        let (confirmed, overdue) = findings
                            .get(&id)
                            .map_or((0, 0), |t| (t.confirmed, t.overdue));
                        (
                            Some((confirmed + overdue) as f64),
                            "项".to_owned(),
                            None,
                            None,
                            format!("监管预警：确认违规 {confirmed} 项，逾期整改 {overdue} 项"),
                            Some(format!("/supervision?institution={id}")),
                        )
                    }
                };
                ItemScore {
                    name: item.name.clone(),
                    input: item.input.clone(),
                    weight: item.weight,
                    target: item.target,
                    points: scheme::points(item, value),
                    value,
                    unit,
                    numerator,
                    denominator,
                    source,
                    link,
                }
            })
            .collect();
        let score = (items.iter().map(|i| i.points).sum::<f64>() * 10.0).round() / 10.0;
        members.push(MemberScore {
            institution_id: id,
            institution_name: name,
            kind: member,
            score,
            items,
        });
    }
    Ok(members)
}
