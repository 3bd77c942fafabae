//! Indicators (监测指标): each defined as data (`definitions`) from named measures, computed for
//! a year or a month, for the county or one member institution, and returned with its numerator
//! and denominator. A measure yijia does not hold yet (deaths, payroll, dispatch, the chronic
//! disease registry) makes its indicator say so instead of inventing a number. Aggregates only:
//! no resident is named, and supervisors may read them.

pub mod basis;
pub mod definitions;
pub mod http;
mod measure;
mod store;
pub mod target;
pub mod views;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::access::{self, Actor};
use crate::chronic::measures::InstitutionCounts;
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::institution::{Institution, InstitutionKind};

pub use measure::Measure;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("no such institution")]
    UnknownInstitution,
    #[error("no such indicator")]
    UnknownIndicator,
    #[error("only a derived indicator's definition may be changed by the county")]
    NotEditable,
    #[error(transparent)]
    Denied(#[from] access::Denied),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

#[derive(Clone, Copy, Debug)]
pub enum Formula {
    /// A checklist with evidence, not a number.
    Qualitative,
    /// numerator × scale ÷ denominator.
    Ratio {
        numerator: Measure,
        denominator: Measure,
        scale: f64,
    },
    /// This period's ratio against the same period a year before, in percent.
    Growth {
        numerator: Measure,
        denominator: Measure,
    },
    Count(Measure),
}

#[derive(Clone, Copy, Debug)]
pub struct Definition {
    pub code: &'static str,
    pub name: &'static str,
    pub dimension: &'static str,
    pub formula: Formula,
    pub unit: &'static str,
    pub source: &'static str,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Value {
    pub code: &'static str,
    pub name: String,
    pub dimension: &'static str,
    /// Absent when there is no data or the indicator is qualitative; `note` says which.
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub unit: String,
    pub source: String,
    /// Computed by the county's own definition (口径), which `source` gives.
    pub customised: bool,
    pub note: Option<&'static str>,
    /// What the indicator should reach, when it has a target.
    pub target: Option<target::Target>,
    /// Whether the value meets the target; absent without a value or a target.
    pub on_target: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct IndicatorQuery {
    pub year: i64,
    /// 1–12; the whole year when absent.
    pub month: Option<u32>,
    /// One member institution; the whole county when absent.
    pub institution: Option<i64>,
}

/// What a request's indicators are counted from: the monthly facts of its periods, the
/// community's institutions and its residents per village clinic, for the county or one
/// institution (its encounters, claims and referrals; its catchment's residents, village
/// clinics and out-of-county care).
struct Counter<'a> {
    ctx: &'a Ctx,
    definitions: Vec<basis::Effective>,
    community_id: i64,
    institution: Option<(i64, InstitutionKind)>,
    institutions: HashMap<i64, Institution>,
    population_by_village: HashMap<i64, i64>,
    facts: HashMap<Millis, HashMap<(String, i64), i64>>,
    /// The chronic registry's counts per managing institution, by period start.
    chronic: HashMap<Millis, Vec<InstitutionCounts>>,
    /// The supervision alerts per institution (alerts, confirmed, verified), by period start.
    supervision: HashMap<Millis, Vec<crate::supervision::Tally>>,
}

/// How a chronic registry measure is read from an institution's counts.
fn chronic_count(m: Measure) -> Option<fn(&InstitutionCounts) -> i64> {
    Some(match m {
        Measure::ManagedChronic => |c| c.residents,
        Measure::ManagedChronicHospitalised => |c| c.residents_admitted,
        Measure::ManagedChronicToSpec => |c| c.hypertension.to_spec + c.diabetes.to_spec,
        Measure::ManagedChronicEnrolments => |c| c.hypertension.managed + c.diabetes.managed,
        Measure::HypertensionManaged => |c| c.hypertension.managed,
        Measure::HypertensionToSpec => |c| c.hypertension.to_spec,
        Measure::HypertensionControlled => |c| c.hypertension.controlled,
        Measure::DiabetesManaged => |c| c.diabetes.managed,
        Measure::DiabetesToSpec => |c| c.diabetes.to_spec,
        Measure::DiabetesControlled => |c| c.diabetes.controlled,
        _ => return None,
    })
}

/// How a supervision measure is read from an institution's alert tally.
fn supervision_part(m: Measure) -> Option<fn(&crate::supervision::Tally) -> i64> {
    Some(match m {
        Measure::SupervisionAlerts => |t| t.alerts,
        Measure::SupervisionConfirmed => |t| t.confirmed,
        Measure::SupervisionVerified => |t| t.verified,
        _ => return None,
    })
}

impl Counter<'_> {
    /// The measure over the period; `None` when yijia holds no such records.
    async fn get(
        &mut self,
        m: Measure,
        (start, end): (Millis, Millis),
    ) -> Result<Option<i64>, sqlx::Error> {
        if matches!(
            m,
            Measure::PrimaryIncomePerStaff | Measure::LeadIncomePerStaff
        ) {
            return self.income_per_staff(m, end).await;
        }
        if m.missing().is_some() {
            return Ok(None);
        }
        let villages = || {
            self.institutions
                .values()
                .filter(|i| i.kind == InstitutionKind::VillageClinic && self.in_catchment(i.id))
        };
        match m {
            Measure::Population => {
                let residents = self
                    .population_by_village
                    .iter()
                    .filter(|(village, _)| self.in_catchment(**village))
                    .map(|(_, residents)| residents)
                    .sum();
                return Ok(Some(residents));
            }
            Measure::VillageClinics => return Ok(Some(villages().count() as i64)),
            Measure::VillageClinicsWithEcg => {
                return Ok(Some(
                    villages().filter(|v| v.has_ecg_device.0).count() as i64
                ));
            }
            _ => {}
        }
        if let Some(count) = chronic_count(m) {
            if !self.chronic.contains_key(&start) {
                let counts = crate::chronic::measures::statutory(
                    &self.ctx.db,
                    self.community_id,
                    (start, end),
                )
                .await?;
                self.chronic.insert(start, counts);
            }
            let value = self.chronic[&start]
                .iter()
                .filter(|c| self.in_catchment(c.institution_id))
                .map(count)
                .sum();
            return Ok(Some(value));
        }
        let months = (
            crate::clock::month_cst(start),
            crate::clock::month_cst(end - 1),
        );
        let at = |id: i64| self.institution.is_none_or(|(scope, _)| scope == id);
        if m == Measure::DispatchedDoctors {
            // Counted where they came from and where they went.
            let doctors =
                crate::dispatch::dispatched_doctors(&self.ctx.db, self.community_id, end).await?;
            let counted = doctors
                .iter()
                .filter(|d| d.institutions.iter().any(|i| at(*i)))
                .count();
            return Ok(Some(counted as i64));
        }
        if let Some(part) = supervision_part(m) {
            if !self.supervision.contains_key(&start) {
                let tallies = crate::supervision::tallies(
                    &self.ctx.db,
                    self.community_id,
                    (&months.0, &months.1),
                    crate::clock::today_cst(),
                )
                .await?;
                self.supervision.insert(start, tallies);
            }
            let value = self.supervision[&start]
                .iter()
                .filter(|t| at(t.institution_id))
                .map(part)
                .sum();
            return Ok(Some(value));
        }
        if !self.facts.contains_key(&start) {
            let facts =
                store::facts(&self.ctx.db, self.community_id, (&months.0, &months.1)).await?;
            self.facts.insert(start, facts);
        }
        let facts = &self.facts[&start];
        let sum = |fact: &str, keep: &dyn Fn(i64) -> bool| -> i64 {
            facts
                .iter()
                .filter(|((f, institution), _)| f == fact && keep(*institution))
                .map(|(_, value)| value)
                .sum()
        };
        let at = |id: i64| self.institution.is_none_or(|(scope, _)| scope == id);
        let primary = |id: i64| {
            at(id)
                && self
                    .institutions
                    .get(&id)
                    .is_some_and(|i| i.kind.level() <= 2)
        };
        let catchment = |id: i64| self.in_catchment(id);
        let everywhere = |_: i64| true;
        let value = match m {
            Measure::PrimaryVisits => sum("visits", &primary),
            Measure::AllVisits => sum("visits", &at),
            Measure::TcmVisits => sum("tcm_visits", &at),
            Measure::OutpatientVisits => sum("outpatient_visits", &at),
            Measure::OutpatientCost => sum("outpatient_cost_fen", &at),
            Measure::FundInCounty => sum("claim_fund_fen", &at),
            Measure::FundPrimary => sum("claim_fund_fen", &primary),
            Measure::FundAll => {
                sum("claim_fund_fen", &at) + sum("out_of_county_fund_fen", &catchment)
            }
            Measure::InpatientCostInCounty => sum("claim_inpatient_total_fen", &at),
            Measure::InpatientStaysInCounty => sum("claim_inpatient", &at),
            Measure::InpatientStaysAll => {
                sum("claim_inpatient", &at) + sum("out_of_county_inpatient", &catchment)
            }
            Measure::InsuredCareInCounty => sum("claims", &at),
            Measure::InsuredCareAll => sum("claims", &at) + sum("out_of_county", &catchment),
            Measure::Discharges => sum("discharges", &at),
            Measure::BedDays => sum("bed_days", &at),
            Measure::InpatientCost => sum("discharge_cost_fen", &at),
            Measure::RemoteEcgReads => sum("ecg_reads", &at),
            // The centres read for the whole county, so their reports count everywhere.
            Measure::RemoteReads => {
                sum("ecg_reads", &at) + sum("imaging_reads", &at) + sum("exam_reads", &everywhere)
            }
            Measure::UpReferrals => sum("up_referrals", &at),
            Measure::DownReferrals => sum("down_referrals", &at),
            Measure::DownReferralsAccepted => sum("down_referrals_accepted", &at),
            Measure::DownReferralsClosed => sum("down_referrals_closed", &at),
            Measure::Admissions => sum("admissions", &at),
            // Named after their measure by `store`.
            Measure::ChestPainFmcToEcgCases
            | Measure::ChestPainFmcToEcgSeconds
            | Measure::ChestPainFmcToEcgWithinTarget
            | Measure::ChestPainEcgToReportCases
            | Measure::ChestPainEcgToReportSeconds
            | Measure::ChestPainEcgToReportWithinTarget
            | Measure::ChestPainDoorInDoorOutCases
            | Measure::ChestPainDoorInDoorOutSeconds
            | Measure::ChestPainDoorInDoorOutWithinTarget
            | Measure::ChestPainDoorToBalloonCases
            | Measure::ChestPainDoorToBalloonSeconds
            | Measure::ChestPainDoorToBalloonWithinTarget
            | Measure::ChestPainFmcToBalloonCases
            | Measure::ChestPainFmcToBalloonSeconds
            | Measure::ChestPainFmcToBalloonWithinTarget => sum(m.as_str(), &at),
            Measure::Population
            | Measure::VillageClinics
            | Measure::VillageClinicsWithEcg
            | Measure::PrematureDeaths => return Ok(None),
            Measure::ManagedChronic
            | Measure::ManagedChronicToSpec
            | Measure::ManagedChronicHospitalised
            | Measure::ManagedChronicEnrolments
            | Measure::HypertensionManaged
            | Measure::HypertensionToSpec
            | Measure::HypertensionControlled
            | Measure::DiabetesManaged
            | Measure::DiabetesToSpec
            | Measure::DiabetesControlled => unreachable!("counted from the registry above"),
            Measure::SupervisionAlerts
            | Measure::SupervisionConfirmed
            | Measure::SupervisionVerified
            | Measure::DispatchedDoctors
            | Measure::PrimaryIncomePerStaff
            | Measure::LeadIncomePerStaff => unreachable!("counted from their records above"),
        };
        Ok(Some(value))
    }

    /// Mean gross income per staff over the period's year, in fen: at the primary institutions
    /// of the scope, or at the lead hospital (with its campuses and centres); `None` without a
    /// payroll for the year.
    async fn income_per_staff(
        &mut self,
        m: Measure,
        end: Millis,
    ) -> Result<Option<i64>, sqlx::Error> {
        let year = crate::clock::date_cst(end - 1).year();
        let rows = crate::staff::payroll::year(&self.ctx.db, self.community_id, year).await?;
        let level = |id: i64| self.institutions.get(&id).map(|i| i.kind.level());
        let at = |id: i64| self.institution.is_none_or(|(scope, _)| scope == id);
        let (staff, gross) = rows
            .iter()
            .filter(|(id, _, _)| match m {
                Measure::PrimaryIncomePerStaff => level(*id).is_some_and(|l| l <= 2) && at(*id),
                _ => level(*id) == Some(3),
            })
            .fold((0, 0), |(staff, gross), (_, n, fen)| {
                (staff + n, gross + fen)
            });
        Ok((staff > 0).then(|| gross / staff))
    }

    /// Whether a village clinic is in the scope's catchment: the village itself, the villages of
    /// a township, or every village for the county and for county-level institutions.
    fn in_catchment(&self, village_id: i64) -> bool {
        match self.institution {
            Some((id, InstitutionKind::VillageClinic)) => village_id == id,
            Some((id, InstitutionKind::TownshipCentre | InstitutionKind::CommunityCentre)) => self
                .institutions
                .get(&village_id)
                .is_some_and(|v| v.township_id == Some(id)),
            _ => true,
        }
    }
}

/// [start, end) in ms.
pub type Period = (Millis, Millis);

fn period(year: i64, month: Option<u32>) -> Option<Period> {
    match month {
        Some(month) => crate::clock::month_bounds_cst(&format!("{year}-{month:02}")),
        None => {
            let start = crate::clock::month_bounds_cst(&format!("{year}-01"))?.0;
            let end = crate::clock::month_bounds_cst(&format!("{year}-12"))?.1;
            Some((start, end))
        }
    }
}

/// Recomputes the monthly facts the database marked stale, so the next read of the indicators
/// finds them ready (after a bulk load, say).
pub async fn refresh_facts(db: &crate::db::Db, community_id: i64) -> Result<(), sqlx::Error> {
    store::refresh_stale(db, community_id).await
}

/// Every indicator for the period and scope.
pub async fn compute(
    ctx: &Ctx,
    actor: &Actor,
    query: &IndicatorQuery,
) -> Result<Vec<Value>, Error> {
    compute_only(ctx, actor, query, None).await
}

/// The indicators of `codes` (all when `None`) for each month of a year, for the scope; only
/// their measures are counted.
pub async fn monthly(
    ctx: &Ctx,
    actor: &Actor,
    year: i64,
    institution: Option<i64>,
    codes: Option<&[&str]>,
) -> Result<Vec<Vec<Value>>, Error> {
    let mut counter = counter(ctx, actor, institution).await?;
    let mut months = Vec::with_capacity(12);
    for month in 1..=12 {
        let (this, last) = periods(year, Some(month))?;
        months.push(evaluate(&mut counter, this, last, codes).await?);
    }
    Ok(months)
}

/// The indicators of `codes` (all when `None`) for the period and scope.
pub async fn compute_only(
    ctx: &Ctx,
    actor: &Actor,
    query: &IndicatorQuery,
    codes: Option<&[&str]>,
) -> Result<Vec<Value>, Error> {
    let (this, last) = periods(query.year, query.month)?;
    let mut counter = counter(ctx, actor, query.institution).await?;
    evaluate(&mut counter, this, last, codes).await
}

/// One indicator at one member institution.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct InstitutionValue {
    pub institution_id: i64,
    pub institution_name: String,
    /// The kind of institution, in Chinese (牵头医院, 乡镇卫生院 …).
    pub kind: &'static str,
    #[serde(flatten)]
    pub value: Value,
}

/// The drill-down of one indicator from the county to each member institution.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Breakdown {
    pub county: Value,
    /// By kind of institution (lead hospital first, village clinics last), then by name.
    pub institutions: Vec<InstitutionValue>,
}

/// One indicator for the county and for every member institution over the period, counted from
/// the same facts.
pub async fn breakdown(
    ctx: &Ctx,
    actor: &Actor,
    code: &str,
    year: i64,
    month: Option<u32>,
) -> Result<Breakdown, Error> {
    if !access::may_see_aggregates(actor) {
        return Err(access::Denied.into());
    }
    let (this, last) = periods(year, month)?;
    let codes = [code];
    let (county, members) =
        by_member(ctx, actor.community_id, (this, last), (&codes, None)).await?;
    let county = county.into_iter().next().ok_or(Error::UnknownIndicator)?;
    let institutions = members
        .into_iter()
        .filter_map(|(id, kind, name, mut values)| {
            Some(InstitutionValue {
                institution_id: id,
                institution_name: name,
                kind: kind.label_zh(),
                value: values.pop()?,
            })
        })
        .collect();
    Ok(Breakdown {
        county,
        institutions,
    })
}

/// The indicators of `codes` over a period (with the same period a year before, for growth)
/// for the county and for every member institution (or `only` one) — by kind (lead hospital
/// first), then by name — counted from the same facts. The caller has checked who may see them.
pub async fn by_member(
    ctx: &Ctx,
    community_id: i64,
    (this, last): (Period, Period),
    (codes, only): (&[&str], Option<i64>),
) -> Result<(Vec<Value>, Vec<(i64, InstitutionKind, String, Vec<Value>)>), Error> {
    let mut counter = counter_in(ctx, community_id, None).await?;
    let county = evaluate(&mut counter, this, last, Some(codes)).await?;
    let mut members: Vec<(i64, InstitutionKind, String)> = counter
        .institutions
        .values()
        .filter(|i| only.is_none_or(|id| id == i.id))
        .map(|i| (i.id, i.kind, i.name.clone()))
        .collect();
    members.sort_by(|a, b| (a.1 as u8, &a.2).cmp(&(b.1 as u8, &b.2)));
    let mut values = Vec::with_capacity(members.len());
    for (id, kind, name) in members {
        counter.institution = Some((id, kind));
        let found = evaluate(&mut counter, this, last, Some(codes)).await?;
        values.push((id, kind, name, found));
    }
    Ok((county, values))
}

/// The months `first..=last` of a year as a period, with the same months a year before.
pub fn months_of(year: i64, (first, last): (u32, u32)) -> Option<(Period, Period)> {
    let bounds = |year: i64| {
        let start = crate::clock::month_bounds_cst(&format!("{year}-{first:02}"))?.0;
        let end = crate::clock::month_bounds_cst(&format!("{year}-{last:02}"))?.1;
        Some((start, end))
    };
    Some((bounds(year)?, bounds(year - 1)?))
}

/// The period asked for and the same period a year before.
fn periods(year: i64, month: Option<u32>) -> Result<(Period, Period), Error> {
    let invalid = || Error::Invalid {
        field: "year",
        reason: "year 2000–2100 and month 1–12",
    };
    if !(2000..=2100).contains(&year) || month.is_some_and(|m| !(1..=12).contains(&m)) {
        return Err(invalid());
    }
    let this = period(year, month).ok_or_else(invalid)?;
    let last = period(year - 1, month).ok_or_else(invalid)?;
    Ok((this, last))
}

/// A counter for the actor's community, or one institution of it, over fresh facts.
async fn counter<'a>(
    ctx: &'a Ctx,
    actor: &Actor,
    institution: Option<i64>,
) -> Result<Counter<'a>, Error> {
    if !access::may_see_aggregates(actor) {
        return Err(access::Denied.into());
    }
    counter_in(ctx, actor.community_id, institution).await
}

/// A counter for a community (the caller has checked who may see it).
async fn counter_in(
    ctx: &Ctx,
    community_id: i64,
    institution: Option<i64>,
) -> Result<Counter<'_>, Error> {
    let institution = match institution {
        None => None,
        Some(id) => {
            let found = crate::institution::store::institution_by_id(&ctx.db, community_id, id)
                .await?
                .ok_or(Error::UnknownInstitution)?;
            Some((found.id, found.kind))
        }
    };
    refresh_facts(&ctx.db, community_id).await?;
    let institutions = crate::institution::store::institutions_in_community(&ctx.db, community_id)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    Ok(Counter {
        ctx,
        definitions: basis::effective(&ctx.db, community_id).await?,
        community_id,
        institution,
        institutions,
        population_by_village: store::population_by_village(&ctx.db, community_id).await?,
        facts: HashMap::new(),
        chronic: HashMap::new(),
        supervision: HashMap::new(),
    })
}

/// The indicators of `codes` (all when `None`) for `this` period, with `last` for growth.
async fn evaluate(
    counter: &mut Counter<'_>,
    this: (Millis, Millis),
    last: (Millis, Millis),
    codes: Option<&[&str]>,
) -> Result<Vec<Value>, Error> {
    let definitions: Vec<basis::Effective> = counter
        .definitions
        .iter()
        .filter(|d| codes.is_none_or(|codes| codes.contains(&d.view.code)))
        .cloned()
        .collect();
    let mut values = Vec::with_capacity(definitions.len());
    for definition in definitions {
        let mut value = Value {
            code: definition.view.code,
            name: definition.view.name,
            dimension: definition.view.dimension,
            value: None,
            numerator: None,
            denominator: None,
            unit: definition.view.unit,
            source: definition.view.source,
            customised: definition.view.customised,
            note: None,
            target: definition.view.target,
            on_target: None,
        };
        match definition.formula {
            Formula::Qualitative => {
                value.note = Some("定性指标：以核查清单和佐证材料评价，不计算数值")
            }
            Formula::Count(m) => match counter.get(m, this).await? {
                Some(n) => {
                    value.numerator = Some(n as f64);
                    value.value = Some(n as f64);
                }
                None => value.note = m.missing(),
            },
            Formula::Ratio {
                numerator,
                denominator,
                scale,
            } => {
                let (n, d) = (
                    counter.get(numerator, this).await?,
                    counter.get(denominator, this).await?,
                );
                match (n, d) {
                    (Some(n), Some(d)) => {
                        value.numerator = Some(n as f64);
                        value.denominator = Some(d as f64);
                        value.value = (d != 0).then(|| n as f64 * scale / d as f64);
                        if d == 0 {
                            value.note = Some("分母为零：本期无相应记录");
                        }
                    }
                    _ => value.note = numerator.missing().or(denominator.missing()),
                }
            }
            Formula::Growth {
                numerator,
                denominator,
            } => {
                let ratio = |n: Option<i64>, d: Option<i64>| match (n, d) {
                    (Some(n), Some(d)) if d != 0 => Some(n as f64 / d as f64 / 100.0),
                    _ => None,
                };
                let now_ratio = ratio(
                    counter.get(numerator, this).await?,
                    counter.get(denominator, this).await?,
                );
                let then_ratio = ratio(
                    counter.get(numerator, last).await?,
                    counter.get(denominator, last).await?,
                );
                value.numerator = now_ratio;
                value.denominator = then_ratio;
                match (now_ratio, then_ratio) {
                    (Some(a), Some(b)) if b != 0.0 => value.value = Some((a - b) / b * 100.0),
                    _ => value.note = Some("上年同期无可比数据"),
                }
            }
        }
        value.on_target = value
            .value
            .zip(value.target.as_ref())
            .map(|(v, target)| target.met_by(v));
        values.push(value);
    }
    Ok(values)
}

/// The values as CSV, for spreadsheets: one row per indicator.
pub fn to_csv(values: &[Value]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let number = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
    let _ = writer.write_record([
        "code",
        "name",
        "dimension",
        "value",
        "numerator",
        "denominator",
        "unit",
        "note",
        "source",
        "target",
        "on_target",
    ]);
    for v in values {
        let _ = writer.write_record([
            v.code,
            &v.name,
            v.dimension,
            &number(v.value),
            &number(v.numerator),
            &number(v.denominator),
            &v.unit,
            v.note.unwrap_or_default(),
            &v.source,
            &v.target
                .as_ref()
                .map(|t| format!("{} {}", t.direction.symbol(), t.value))
                .unwrap_or_default(),
            match v.on_target {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            },
        ]);
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}
