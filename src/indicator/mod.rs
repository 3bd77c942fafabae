//! Indicators (监测指标): each defined as data (`definitions`) from named measures, computed for
//! a year or a month, for the county or one member institution, and returned with its numerator
//! and denominator. A measure yijia does not hold yet (deaths, payroll, dispatch, the chronic
//! disease registry) makes its indicator say so instead of inventing a number. Aggregates only:
//! no resident is named, and supervisors may read them.

pub mod definitions;
pub mod http;
pub mod views;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::access::{self, Actor};
use crate::app::Ctx;
use crate::clock::Millis;
use crate::institution::InstitutionKind;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("no such institution")]
    UnknownInstitution,
    #[error(transparent)]
    Denied(#[from] access::Denied),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A quantity counted from yijia's records over a period and a scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Measure {
    Population,
    DispatchedDoctors,
    RemoteReads,
    RemoteEcgReads,
    VillageClinicsWithEcg,
    VillageClinics,
    PrimaryIncomePerStaff,
    LeadIncomePerStaff,
    PrimaryVisits,
    AllVisits,
    TcmVisits,
    OutpatientVisits,
    OutpatientCost,
    FundInCounty,
    FundAll,
    FundPrimary,
    InpatientCostInCounty,
    InpatientStaysInCounty,
    InpatientStaysAll,
    InsuredCareInCounty,
    InsuredCareAll,
    Discharges,
    BedDays,
    InpatientCost,
    ManagedChronic,
    ManagedChronicHospitalised,
    PrematureDeaths,
    UpReferrals,
    DownReferrals,
}

impl Measure {
    /// Why yijia cannot count this yet, for the measures it holds no records of.
    fn missing(self) -> Option<&'static str> {
        match self {
            Measure::DispatchedDoctors => Some("尚无医师派驻记录"),
            Measure::PrimaryIncomePerStaff | Measure::LeadIncomePerStaff => {
                Some("尚无人员收入（薪酬）数据")
            }
            Measure::ManagedChronic | Measure::ManagedChronicHospitalised => {
                Some("尚无慢病管理登记数据")
            }
            Measure::PrematureDeaths => Some("尚无死亡登记数据"),
            _ => None,
        }
    }
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
    pub name: &'static str,
    pub dimension: &'static str,
    /// Absent when there is no data or the indicator is qualitative; `note` says which.
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub unit: &'static str,
    pub source: &'static str,
    pub note: Option<&'static str>,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct IndicatorQuery {
    pub year: i64,
    /// 1–12; the whole year when absent.
    pub month: Option<u32>,
    /// One member institution; the whole county when absent.
    pub institution: Option<i64>,
}

/// Where the measures are counted: the whole community, or one institution (its encounters,
/// claims and referrals; its catchment's residents and village clinics).
#[derive(Clone, Copy)]
struct Scope {
    community_id: i64,
    institution: Option<(i64, InstitutionKind)>,
}

impl Scope {
    /// `AND <column> = id` for an institution, nothing for the county.
    fn at(&self, column: &str) -> String {
        match self.institution {
            Some((id, _)) => format!(" AND {column} = {id}"),
            None => String::new(),
        }
    }

    /// Residents (and village clinics) of the institution's catchment.
    fn catchment(&self, village_column: &str, township_column: &str) -> String {
        match self.institution {
            Some((id, InstitutionKind::VillageClinic)) => format!(" AND {village_column} = {id}"),
            Some((id, InstitutionKind::TownshipCentre | InstitutionKind::CommunityCentre)) => {
                format!(" AND {township_column} = {id}")
            }
            _ => String::new(),
        }
    }
}

const PRIMARY_KINDS: &str = "('village_clinic', 'township_centre', 'community_centre')";

/// One measure over [start, end) in a scope; `None` when yijia holds no such records.
async fn measure(
    ctx: &Ctx,
    scope: Scope,
    (start, end): (Millis, Millis),
    measure: Measure,
) -> Result<Option<i64>, sqlx::Error> {
    if measure.missing().is_some() {
        return Ok(None);
    }
    let c = scope.community_id;
    let (first_month, last_month) = (
        crate::clock::month_cst(start),
        crate::clock::month_cst(end - 1),
    );
    let encounters = |filter: &str, what: &str| {
        format!(
            "SELECT {what} FROM encounters e JOIN institutions i ON i.id = e.institution_id \
             WHERE e.community_id = {c} AND e.started_at_ms >= {start} AND e.started_at_ms < {end} {filter}{}",
            scope.at("e.institution_id")
        )
    };
    let discharged = |what: &str| {
        format!(
            "SELECT {what} FROM encounters e WHERE e.community_id = {c} AND e.kind = 'inpatient' \
             AND e.ended_at_ms >= {start} AND e.ended_at_ms < {end}{}",
            scope.at("e.institution_id")
        )
    };
    let claims = |filter: &str, what: &str| {
        format!(
            "SELECT {what} FROM claims c JOIN encounters e ON e.id = c.encounter_id \
             JOIN institutions i ON i.id = c.institution_id WHERE c.community_id = {c} \
             AND c.month >= '{first_month}' AND c.month <= '{last_month}' {filter}{}",
            scope.at("c.institution_id")
        )
    };
    // Out-of-county care belongs to the county as a whole, or to the resident's catchment.
    let out_of_county = |filter: &str, what: &str| {
        format!(
            "SELECT {what} FROM out_of_county_claims o JOIN residents r ON r.id = o.resident_id \
             WHERE o.community_id = {c} AND o.month >= '{first_month}' AND o.month <= '{last_month}' {filter}{}",
            scope.catchment("r.village_clinic_id", "r.township_id")
        )
    };
    let costs = "e.cost_drugs_fen + e.cost_examinations_fen + e.cost_tests_fen + e.cost_treatment_fen \
                 + e.cost_beds_fen + e.cost_materials_fen";
    let sum = |expr: &str| format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)");
    let sql = match measure {
        Measure::Population => format!(
            "SELECT COUNT(*) FROM residents r WHERE r.community_id = {c} AND r.merged_into_id IS NULL{}",
            scope.catchment("r.village_clinic_id", "r.township_id")
        ),
        Measure::RemoteEcgReads => format!(
            "SELECT COUNT(*) FROM ecgs g WHERE g.community_id = {c} AND g.reported_at_ms >= {start} \
             AND g.reported_at_ms < {end}{}",
            scope.at("g.site_institution_id")
        ),
        Measure::RemoteReads => format!(
            "SELECT (SELECT COUNT(*) FROM ecgs g WHERE g.community_id = {c} AND g.reported_at_ms >= {start} \
               AND g.reported_at_ms < {end}{}) + \
             (SELECT COUNT(*) FROM exam_reports x JOIN institutions i ON i.id = x.institution_id \
               WHERE x.community_id = {c} AND i.kind = 'centre' AND x.reported_at_ms >= {start} \
               AND x.reported_at_ms < {end})",
            scope.at("g.site_institution_id")
        ),
        Measure::VillageClinicsWithEcg | Measure::VillageClinics => format!(
            "SELECT COUNT(*) FROM institutions v WHERE v.community_id = {c} AND v.kind = 'village_clinic'{}{}",
            if measure == Measure::VillageClinicsWithEcg {
                " AND v.has_ecg_device = 1"
            } else {
                ""
            },
            scope.catchment("v.id", "v.township_id")
        ),
        Measure::PrimaryVisits => encounters(
            &format!("AND e.kind <> 'inpatient' AND i.kind IN {PRIMARY_KINDS}"),
            "COUNT(*)",
        ),
        Measure::AllVisits => encounters("AND e.kind <> 'inpatient'", "COUNT(*)"),
        Measure::TcmVisits => encounters(
            "AND e.kind <> 'inpatient' AND e.department_id IN \
             (SELECT d.id FROM departments d WHERE d.code = 'TCM')",
            "COUNT(*)",
        ),
        Measure::OutpatientVisits => encounters("AND e.kind = 'outpatient'", "COUNT(*)"),
        Measure::OutpatientCost => encounters("AND e.kind = 'outpatient'", &sum(costs)),
        Measure::FundInCounty => claims("", &sum("c.fund_paid_fen")),
        Measure::FundPrimary => claims(
            &format!("AND i.kind IN {PRIMARY_KINDS}"),
            &sum("c.fund_paid_fen"),
        ),
        Measure::FundAll => format!(
            "SELECT ({}) + ({})",
            claims("", &sum("c.fund_paid_fen")),
            out_of_county("", &sum("o.fund_paid_fen"))
        ),
        Measure::InpatientCostInCounty => claims("AND e.kind = 'inpatient'", &sum("c.total_fen")),
        Measure::InpatientStaysInCounty => claims("AND e.kind = 'inpatient'", "COUNT(*)"),
        Measure::InpatientStaysAll => format!(
            "SELECT ({}) + ({})",
            claims("AND e.kind = 'inpatient'", "COUNT(*)"),
            out_of_county("AND o.kind = 'inpatient'", "COUNT(*)")
        ),
        Measure::InsuredCareInCounty => claims("", "COUNT(*)"),
        Measure::InsuredCareAll => format!(
            "SELECT ({}) + ({})",
            claims("", "COUNT(*)"),
            out_of_county("", "COUNT(*)")
        ),
        Measure::Discharges => discharged("COUNT(*)"),
        Measure::BedDays => discharged(&sum(
            "(e.ended_at_ms - e.started_at_ms + 43200000) / 86400000",
        )),
        Measure::InpatientCost => discharged(&sum(costs)),
        Measure::UpReferrals | Measure::DownReferrals => format!(
            "SELECT COUNT(*) FROM referrals f WHERE f.community_id = {c} AND f.direction = '{}' \
             AND f.state NOT IN ('draft', 'cancelled') AND f.created_at_ms >= {start} AND f.created_at_ms < {end}{}",
            if measure == Measure::UpReferrals {
                "up"
            } else {
                "down"
            },
            scope.at("f.from_institution_id")
        ),
        Measure::DispatchedDoctors
        | Measure::PrimaryIncomePerStaff
        | Measure::LeadIncomePerStaff
        | Measure::ManagedChronic
        | Measure::ManagedChronicHospitalised
        | Measure::PrematureDeaths => return Ok(None),
    };
    // Every value in the SQL above is a number yijia computed, never text from a request.
    let value: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_one(&ctx.db.pool)
        .await?;
    Ok(Some(value))
}

/// Measures counted once per request.
struct Counter<'a> {
    ctx: &'a Ctx,
    scope: Scope,
    cache: HashMap<(Measure, Millis), Option<i64>>,
}

impl Counter<'_> {
    async fn get(
        &mut self,
        m: Measure,
        period: (Millis, Millis),
    ) -> Result<Option<i64>, sqlx::Error> {
        if let Some(value) = self.cache.get(&(m, period.0)) {
            return Ok(*value);
        }
        let value = measure(self.ctx, self.scope, period, m).await?;
        self.cache.insert((m, period.0), value);
        Ok(value)
    }
}

fn period(year: i64, month: Option<u32>) -> Option<(Millis, Millis)> {
    match month {
        Some(month) => crate::clock::month_bounds_cst(&format!("{year}-{month:02}")),
        None => {
            let start = crate::clock::month_bounds_cst(&format!("{year}-01"))?.0;
            let end = crate::clock::month_bounds_cst(&format!("{year}-12"))?.1;
            Some((start, end))
        }
    }
}

/// Every indicator for the period and scope.
pub async fn compute(
    ctx: &Ctx,
    actor: &Actor,
    query: &IndicatorQuery,
) -> Result<Vec<Value>, Error> {
    compute_only(ctx, actor, query, None).await
}

/// The indicators of `codes` (all when `None`) for the period and scope; only their measures
/// are counted.
pub async fn compute_only(
    ctx: &Ctx,
    actor: &Actor,
    query: &IndicatorQuery,
    codes: Option<&[&str]>,
) -> Result<Vec<Value>, Error> {
    if !access::may_see_aggregates(actor) {
        return Err(access::Denied.into());
    }
    let invalid = Error::Invalid {
        field: "year",
        reason: "year 2000–2100 and month 1–12",
    };
    if !(2000..=2100).contains(&query.year) || query.month.is_some_and(|m| !(1..=12).contains(&m)) {
        return Err(invalid);
    }
    let this = period(query.year, query.month).ok_or(Error::Invalid {
        field: "year",
        reason: "year 2000–2100 and month 1–12",
    })?;
    let last = period(query.year - 1, query.month).ok_or(invalid)?;
    let institution = match query.institution {
        None => None,
        Some(id) => {
            let found =
                crate::institution::store::institution_by_id(&ctx.db, actor.community_id, id)
                    .await?
                    .ok_or(Error::UnknownInstitution)?;
            Some((found.id, found.kind))
        }
    };
    let mut counter = Counter {
        ctx,
        scope: Scope {
            community_id: actor.community_id,
            institution,
        },
        cache: HashMap::new(),
    };
    let mut values = Vec::with_capacity(definitions::DEFINITIONS.len());
    for definition in definitions::DEFINITIONS
        .iter()
        .filter(|d| codes.is_none_or(|codes| codes.contains(&d.code)))
    {
        let mut value = Value {
            code: definition.code,
            name: definition.name,
            dimension: definition.dimension,
            value: None,
            numerator: None,
            denominator: None,
            unit: definition.unit,
            source: definition.source,
            note: None,
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
    ]);
    for v in values {
        let _ = writer.write_record([
            v.code,
            v.name,
            v.dimension,
            &number(v.value),
            &number(v.numerator),
            &number(v.denominator),
            v.unit,
            v.note.unwrap_or_default(),
            v.source,
        ]);
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}
