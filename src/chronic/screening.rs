//! Hypertension screening (高血压筛查) of residents at or above the programme's age who are not
//! managed for hypertension: one blood pressure a year (every six months for the high-risk); a
//! raised reading books a re-check; raised on three different days is a suspected hypertension,
//! referred up to confirm in one action and followed up two weeks later. The clinic's screening
//! list is worked out from the readings each time; every threshold is the county's
//! ([`Thresholds`]).

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use super::rules::{self, Program, Thresholds};
use super::{Error, follow_up, settings};
use crate::access::{Access, Actor, Purpose};
use crate::audit::{self, Entry};
use crate::clock::{self, Millis};
use crate::ctx::Ctx;
use crate::db::Db;
use crate::institution::{self, InstitutionKind};
use crate::referral::{
    self,
    model::{Direction, NewReferral, Urgency},
};
use crate::resident::{self, model::Sex};

/// Risk factors the doctor asks about (the others are measured or known from the record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskFactor {
    FamilyHistory,
    HighSalt,
    HeavyDrinking,
}

text_enum!(RiskFactor { FamilyHistory => "family_history", HighSalt => "high_salt", HeavyDrinking => "heavy_drinking" });

impl RiskFactor {
    pub const ALL: [RiskFactor; 3] = [
        RiskFactor::FamilyHistory,
        RiskFactor::HighSalt,
        RiskFactor::HeavyDrinking,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            RiskFactor::FamilyHistory => "高血压家族史",
            RiskFactor::HighSalt => "高盐饮食",
            RiskFactor::HeavyDrinking => "长期过量饮酒",
        }
    }
}

/// A blood pressure measured at screening.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScreening {
    pub resident_id: i64,
    /// RFC 3339, not in the future.
    pub measured_at: String,
    pub sbp: f64,
    pub dbp: f64,
    pub weight_kg: Option<f64>,
    pub height_cm: Option<f64>,
    pub waist_cm: Option<f64>,
    #[serde(default)]
    pub risk_factors: Vec<RiskFactor>,
}

/// A stored screening reading.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Screening {
    pub id: i64,
    pub resident_id: i64,
    pub institution_id: i64,
    pub measured_by_staff_id: i64,
    pub measured_at_ms: i64,
    /// `YYYY-MM-DD`, China Standard Time.
    pub measured_on: String,
    pub sbp: f64,
    pub dbp: f64,
    pub weight_kg: Option<f64>,
    pub height_cm: Option<f64>,
    /// Computed from weight and height.
    pub bmi: Option<f64>,
    pub waist_cm: Option<f64>,
    pub risk_factors: Vec<RiskFactor>,
    /// At or above the screening threshold.
    pub raised: bool,
    /// The referral to confirm a suspected hypertension, on the reading it was raised from.
    pub referral_id: Option<i64>,
    pub created_at_ms: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScreeningStatus {
    /// The yearly (high-risk: six-monthly) measurement is due, or was never taken.
    Due,
    /// Raised, fewer than three days: the re-check is booked.
    Recheck,
    /// Raised on three different days: to be referred to confirm.
    Suspected,
    /// Referred to confirm: follow up (enrol once confirmed).
    Referred,
    /// Measured and normal, next measurement not yet due.
    Screened,
}

text_enum!(ScreeningStatus { Due => "due", Recheck => "recheck", Suspected => "suspected", Referred => "referred", Screened => "screened" });

impl ScreeningStatus {
    pub fn label_zh(self) -> &'static str {
        match self {
            ScreeningStatus::Due => "应筛查",
            ScreeningStatus::Recheck => "待复测",
            ScreeningStatus::Suspected => "疑似高血压，待转诊确诊",
            ScreeningStatus::Referred => "已转诊确诊，待随访",
            ScreeningStatus::Screened => "已筛查",
        }
    }
}

/// Where a resident's screening stands, from their readings.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ScreeningState {
    pub status: ScreeningStatus,
    /// `YYYY-MM-DD`: when the next measurement (or the follow-up after referral) is due.
    pub due_on: String,
    pub high_risk: bool,
    pub high_risk_reasons: Vec<String>,
    /// Different days with a raised reading since the last normal one.
    pub raised_days: i64,
    pub last_measured_on: Option<String>,
    pub last_sbp: Option<f64>,
    pub last_dbp: Option<f64>,
    pub referral_id: Option<i64>,
}

/// A recorded reading with where the resident's screening now stands.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Screened {
    pub screening: Screening,
    pub state: ScreeningState,
}

/// A resident on the clinic's screening list.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ScreeningItem {
    pub resident_id: i64,
    pub name: String,
    pub phone: String,
    pub age: i32,
    pub village_clinic_id: i64,
    /// Days since the due date (negative: days still to go).
    pub days_overdue: i64,
    pub state: ScreeningState,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ScreeningQuery {
    /// The village clinic or township centre (default: the caller's own).
    pub institution: Option<i64>,
    /// Also those due in the coming days (default 0, at most 90).
    pub days: Option<i64>,
}

/// Where screening stands after `readings` (oldest first), for a resident of `age` and `sex`.
pub fn assess(
    readings: &[Screening],
    age: i32,
    sex: Sex,
    t: &Thresholds,
    today: Date,
) -> ScreeningState {
    let reasons = high_risk_reasons(readings, age, sex, t);
    let high_risk = !reasons.is_empty();
    let run: Vec<&Screening> = readings.iter().rev().take_while(|s| s.raised).collect();
    let mut days: Vec<&str> = run.iter().map(|s| s.measured_on.as_str()).collect();
    days.dedup();
    let raised_days = days.len() as i64;
    let referral_id = run.iter().find_map(|s| s.referral_id);
    let last = readings.last();
    let last_on = last.and_then(|s| clock::parse_date(&s.measured_on));
    let (status, due_on) = match (last_on, referral_id) {
        (None, _) => (ScreeningStatus::Due, today),
        (Some(_), Some(_)) => {
            let referred_on = run
                .iter()
                .find(|s| s.referral_id.is_some())
                .and_then(|s| clock::parse_date(&s.measured_on))
                .unwrap_or(today);
            (
                ScreeningStatus::Referred,
                referred_on + Duration::days(t.recheck_days),
            )
        }
        (Some(on), None) if raised_days >= t.confirm_raised_days => {
            (ScreeningStatus::Suspected, on)
        }
        (Some(on), None) if raised_days > 0 => (
            ScreeningStatus::Recheck,
            on + Duration::days(t.screening_recheck_days),
        ),
        (Some(on), None) => {
            let every = if high_risk {
                t.high_risk_screening_days
            } else {
                t.screening_days
            };
            let due_on = on + Duration::days(every);
            let status = if due_on <= today {
                ScreeningStatus::Due
            } else {
                ScreeningStatus::Screened
            };
            (status, due_on)
        }
    };
    ScreeningState {
        status,
        due_on: due_on.to_string(),
        high_risk,
        high_risk_reasons: reasons,
        raised_days,
        last_measured_on: last.map(|s| s.measured_on.clone()),
        last_sbp: last.map(|s| s.sbp),
        last_dbp: last.map(|s| s.dbp),
        referral_id,
    }
}

/// Why a resident is at high risk: age, normal-high pressure at the last reading, the latest
/// BMI and waist measured, and the factors found in the last year of readings.
fn high_risk_reasons(readings: &[Screening], age: i32, sex: Sex, t: &Thresholds) -> Vec<String> {
    let mut reasons = Vec::new();
    if age >= t.high_risk_age {
        reasons.push(format!("年龄 ≥ {} 岁", t.high_risk_age));
    }
    if let Some(last) = readings.last()
        && !last.raised
        && (last.sbp >= t.high_risk_sbp || last.dbp >= t.high_risk_dbp)
    {
        reasons.push(format!(
            "正常高值血压（{}–{}/{}–{} mmHg）",
            t.high_risk_sbp,
            t.screening_sbp - 1.0,
            t.high_risk_dbp,
            t.screening_dbp - 1.0
        ));
    }
    if let Some(bmi) = readings.iter().rev().find_map(|s| s.bmi)
        && bmi >= t.high_risk_bmi
    {
        reasons.push(format!("BMI ≥ {}", t.high_risk_bmi));
    }
    let waist_limit = match sex {
        Sex::Male => t.high_risk_waist_men_cm,
        Sex::Female => t.high_risk_waist_women_cm,
    };
    if let Some(waist) = readings.iter().rev().find_map(|s| s.waist_cm)
        && waist >= waist_limit
    {
        reasons.push(format!("腰围 ≥ {waist_limit} cm"));
    }
    let since = readings.last().map_or(0, |s| s.measured_at_ms) - t.screening_days * DAY_MS;
    for factor in RiskFactor::ALL {
        if readings
            .iter()
            .any(|s| s.measured_at_ms >= since && s.risk_factors.contains(&factor))
        {
            reasons.push(factor.label_zh().to_owned());
        }
    }
    reasons
}

const DAY_MS: Millis = 86_400_000;

fn invalid(field: &'static str, reason: &'static str) -> Error {
    Error::Invalid { field, reason }
}

/// Records a screening reading taken at the actor's institution and returns where the
/// resident's screening now stands. The same resident and time twice is 409, so a retry never
/// records a reading twice.
pub async fn record(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    actor: &Actor,
    new: &NewScreening,
) -> Result<Screened, Error> {
    let at_ms = clock::parse_time(&new.measured_at)
        .filter(|at| *at <= now + 5 * 60_000 && *at >= now - 366 * DAY_MS)
        .ok_or(invalid(
            "measured_at",
            "a time in RFC 3339 within the last year, not in the future",
        ))?;
    let reading = rules::Reading {
        sbp: Some(new.sbp),
        dbp: Some(new.dbp),
        ..rules::Reading::default()
    };
    rules::check_plausible(&reading).map_err(Error::Implausible)?;
    let ranges = [
        ("weight_kg", new.weight_kg, 10.0, 300.0),
        ("height_cm", new.height_cm, 100.0, 230.0),
        ("waist_cm", new.waist_cm, 40.0, 200.0),
    ];
    for (field, value, low, high) in ranges {
        rules::check_range(field, value, low, high).map_err(Error::Implausible)?;
    }
    let institution_id = actor.institution.ok_or(crate::access::Denied)?.id;
    let resident = resident::load_authorized(
        ctx,
        now,
        actor,
        new.resident_id,
        Purpose::Clinical,
        Access::Write,
        "chronic.screening.create",
    )
    .await?;
    let thresholds = settings::thresholds(&ctx.db, actor.community_id).await?;
    let raised = new.sbp >= thresholds.screening_sbp || new.dbp >= thresholds.screening_dbp;
    let mut factors = new.risk_factors.clone();
    factors.sort_by_key(|f| f.as_str());
    factors.dedup();
    let screening = Screening {
        id: 0,
        resident_id: resident.id,
        institution_id,
        measured_by_staff_id: actor.staff_id,
        measured_at_ms: at_ms,
        measured_on: clock::date_cst(at_ms).to_string(),
        sbp: new.sbp,
        dbp: new.dbp,
        weight_kg: new.weight_kg,
        height_cm: new.height_cm,
        bmi: follow_up::bmi(new.weight_kg, new.height_cm),
        waist_cm: new.waist_cm,
        risk_factors: factors,
        raised,
        referral_id: None,
        created_at_ms: now,
    };
    let mut tx = ctx.db.begin().await?;
    let id = match insert(&mut tx, actor.community_id, &screening).await {
        Ok(id) => id,
        Err(error)
            if crate::db::is_unique_violation(
                &error,
                "chronic_screenings_unique",
                "chronic_screenings.resident_id",
            ) =>
        {
            return Err(Error::ScreeningRecorded);
        }
        Err(error) => return Err(error.into()),
    };
    let entry = Entry::by(
        actor,
        now,
        "chronic.screening.create",
        "chronic_screening",
        Some(id),
    )
    .about_resident(resident.id)
    .detail(format!("raised={raised}"));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    let readings = readings_of(&ctx.db, actor.community_id, resident.id).await?;
    let state = assess(
        &readings,
        resident.age_on(today),
        resident.sex,
        &thresholds,
        today,
    );
    Ok(Screened {
        screening: Screening { id, ..screening },
        state,
    })
}

/// A resident's screening readings (oldest first) and where their screening stands.
pub async fn of_resident(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    actor: &Actor,
    resident_id: i64,
) -> Result<(Vec<Screening>, ScreeningState), Error> {
    let resident = resident::load_authorized(
        ctx,
        now,
        actor,
        resident_id,
        Purpose::Clinical,
        Access::Read,
        "chronic.screening.read",
    )
    .await?;
    let thresholds = settings::thresholds(&ctx.db, actor.community_id).await?;
    let readings = readings_of(&ctx.db, actor.community_id, resident.id).await?;
    let state = assess(
        &readings,
        resident.age_on(today),
        resident.sex,
        &thresholds,
        today,
    );
    Ok((readings, state))
}

/// The clinic's screening list: residents at or above the programme's age, alive, not managed
/// for hypertension, whose measurement or re-check is due (or due within `days`), suspected or
/// referred; suspected and referred first, then the earliest due. Returns how many there are
/// and the `limit` from `offset`, each of those recorded as read.
pub async fn list(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    actor: &Actor,
    query: &ScreeningQuery,
    (limit, offset): (usize, usize),
) -> Result<(usize, Vec<ScreeningItem>), Error> {
    let institution = institution::listed(&ctx.db, actor, query.institution).await??;
    let institution_id = institution.id;
    let column = match institution.kind {
        InstitutionKind::VillageClinic => "village_clinic_id",
        InstitutionKind::TownshipCentre | InstitutionKind::CommunityCentre => "township_id",
        _ => {
            return Err(invalid(
                "institution",
                "a village clinic or township (community) centre",
            ));
        }
    };
    let thresholds = settings::thresholds(&ctx.db, actor.community_id).await?;
    let oldest_birth = clock::years_after(today, -thresholds.min_age);
    let candidates = candidates(
        &ctx.db,
        (actor.community_id, institution_id),
        column,
        &oldest_birth.to_string(),
    )
    .await?;
    let mut readings = readings_of_area(&ctx.db, (actor.community_id, institution_id), column)
        .await?
        .into_iter()
        .peekable();
    let last = today + Duration::days(query.days.unwrap_or(0).clamp(0, 90));
    let mut items = Vec::new();
    for candidate in candidates {
        let mut own = Vec::new();
        while let Some(reading) = readings.next_if(|r| r.resident_id <= candidate.id) {
            if reading.resident_id == candidate.id {
                own.push(reading);
            }
        }
        let age = clock::age_on(&candidate.birth_date, today);
        let state = assess(&own, age, candidate.sex, &thresholds, today);
        let due_on = clock::parse_date(&state.due_on).unwrap_or(today);
        let listed = matches!(
            state.status,
            ScreeningStatus::Suspected | ScreeningStatus::Referred
        ) || due_on <= last;
        if listed {
            items.push(ScreeningItem {
                resident_id: candidate.id,
                name: candidate.name,
                phone: candidate.phone,
                age,
                village_clinic_id: candidate.village_clinic_id,
                days_overdue: (today - due_on).whole_days(),
                state,
            });
        }
    }
    let rank = |s: ScreeningStatus| match s {
        ScreeningStatus::Suspected => 0,
        ScreeningStatus::Referred => 1,
        _ => 2,
    };
    items.sort_by(|a, b| {
        rank(a.state.status)
            .cmp(&rank(b.state.status))
            .then(a.state.due_on.cmp(&b.state.due_on))
            .then(a.resident_id.cmp(&b.resident_id))
    });
    let total = items.len();
    let items: Vec<ScreeningItem> = items.into_iter().skip(offset).take(limit).collect();
    let entries = items
        .iter()
        .map(|i| {
            Entry::by(
                actor,
                now,
                "chronic.screening.list",
                "resident",
                Some(i.resident_id),
            )
            .about_resident(i.resident_id)
        })
        .collect();
    ctx.auditor.record(entries).await?;
    Ok((total, items))
}

/// Refers a suspected hypertension up to confirm (the village clinic's township centre, else
/// the institution above), in one action: the reasons are the raised readings; the referral is
/// kept on the latest of them. Once per suspicion: a second time is 409.
pub async fn refer_to_confirm(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    actor: &Actor,
    resident_id: i64,
) -> Result<Screened, Error> {
    let (readings, state) = of_resident(ctx, now, today, actor, resident_id).await?;
    match state.status {
        ScreeningStatus::Suspected => {}
        ScreeningStatus::Referred => return Err(Error::ScreeningReferred),
        _ => return Err(Error::NotSuspected),
    }
    let Some(latest) = readings.last() else {
        return Err(Error::NotSuspected);
    };
    let raised: Vec<String> = readings
        .iter()
        .rev()
        .take_while(|s| s.raised)
        .map(|s| format!("{} {}/{} mmHg", s.measured_on, s.sbp, s.dbp))
        .collect();
    let new_referral = NewReferral {
        resident_id,
        direction: Direction::Up,
        to_institution_id: follow_up::up_from(ctx, actor, "resident_id").await?,
        to_department_id: None,
        reason: format!(
            "高血压筛查：非同日 {} 天血压升高（{}），疑似{}，转诊确诊",
            state.raised_days,
            raised.join("；"),
            Program::Hypertension.label_zh()
        ),
        diagnosis_icd10: "R03.0".to_owned(),
        urgency: Urgency::Routine,
        green_channel: None,
        ecg_id: None,
        lab_report_ids: Vec::new(),
        catalogue_exception_reason: Some("高血压筛查疑似，转诊确诊".to_owned()),
        submit: true,
    };
    let checked = referral::check(ctx, now, actor, &new_referral).await?;
    let mut tx = ctx.db.begin().await?;
    let referral_id = referral::write(&mut tx, actor, &checked, now, false).await?;
    let updated = sqlx::query(
        "UPDATE chronic_screenings SET referral_id = $1 WHERE id = $2 AND referral_id IS NULL",
    )
    .bind(referral_id)
    .bind(latest.id)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(Error::ScreeningReferred);
    }
    let entry = Entry::by(
        actor,
        now,
        "chronic.screening.refer",
        "chronic_screening",
        Some(latest.id),
    )
    .about_resident(resident_id)
    .detail(format!("referral={referral_id}"));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    referral::announce(ctx, actor, &checked, referral_id, false);
    let (mut readings, state) = of_resident(ctx, now, today, actor, resident_id).await?;
    let screening = readings.pop().ok_or(Error::NotFound)?;
    Ok(Screened { screening, state })
}

const COLUMNS: &str = "id, resident_id, institution_id, measured_by_staff_id, measured_at_ms, \
     measured_on, sbp, dbp, weight_kg, height_cm, bmi, waist_cm, risk_factors, raised, \
     referral_id, created_at_ms";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    resident_id: i64,
    institution_id: i64,
    measured_by_staff_id: i64,
    measured_at_ms: i64,
    measured_on: String,
    sbp: f64,
    dbp: f64,
    weight_kg: Option<f64>,
    height_cm: Option<f64>,
    bmi: Option<f64>,
    waist_cm: Option<f64>,
    risk_factors: String,
    raised: i64,
    referral_id: Option<i64>,
    created_at_ms: i64,
}

impl From<Row> for Screening {
    fn from(row: Row) -> Screening {
        Screening {
            id: row.id,
            resident_id: row.resident_id,
            institution_id: row.institution_id,
            measured_by_staff_id: row.measured_by_staff_id,
            measured_at_ms: row.measured_at_ms,
            measured_on: row.measured_on,
            sbp: row.sbp,
            dbp: row.dbp,
            weight_kg: row.weight_kg,
            height_cm: row.height_cm,
            bmi: row.bmi,
            waist_cm: row.waist_cm,
            risk_factors: row
                .risk_factors
                .split(',')
                .filter_map(RiskFactor::parse)
                .collect(),
            raised: row.raised != 0,
            referral_id: row.referral_id,
            created_at_ms: row.created_at_ms,
        }
    }
}

async fn insert(
    conn: &mut sqlx::AnyConnection,
    community_id: i64,
    s: &Screening,
) -> Result<i64, sqlx::Error> {
    let factors: Vec<&str> = s.risk_factors.iter().map(|f| f.as_str()).collect();
    sqlx::query_scalar(
        "INSERT INTO chronic_screenings (community_id, resident_id, institution_id, \
         measured_by_staff_id, measured_at_ms, measured_on, sbp, dbp, weight_kg, height_cm, bmi, \
         waist_cm, risk_factors, raised, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
         $9, $10, $11, $12, $13, $14, $15) RETURNING id",
    )
    // Not kept prepared: an absent measurement is bound as an untyped NULL, and a statement
    // prepared with one would refuse a later number on PostgreSQL.
    .persistent(false)
    .bind(community_id)
    .bind(s.resident_id)
    .bind(s.institution_id)
    .bind(s.measured_by_staff_id)
    .bind(s.measured_at_ms)
    .bind(&s.measured_on)
    .bind(s.sbp)
    .bind(s.dbp)
    .bind(s.weight_kg)
    .bind(s.height_cm)
    .bind(s.bmi)
    .bind(s.waist_cm)
    .bind(factors.join(","))
    .bind(i64::from(s.raised))
    .bind(s.created_at_ms)
    .fetch_one(conn)
    .await
}

async fn readings_of(
    db: &Db,
    community_id: i64,
    resident_id: i64,
) -> Result<Vec<Screening>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM chronic_screenings WHERE community_id = $1 AND resident_id = $2 \
         ORDER BY measured_at_ms, id"
    )))
    .bind(community_id)
    .bind(resident_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(Screening::from).collect())
}

/// The readings of the residents of a village (`village_clinic_id`) or township
/// (`township_id`), by resident and oldest first.
async fn readings_of_area(
    db: &Db,
    (community_id, institution_id): (i64, i64),
    column: &str,
) -> Result<Vec<Screening>, sqlx::Error> {
    let columns: Vec<String> = COLUMNS.split(", ").map(|c| format!("s.{c}")).collect();
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM chronic_screenings s JOIN residents r ON r.id = s.resident_id \
         WHERE s.community_id = $1 AND r.{column} = $2 ORDER BY s.resident_id, s.measured_at_ms, s.id",
        columns.join(", ")
    )))
    .bind(community_id)
    .bind(institution_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(Screening::from).collect())
}

#[derive(sqlx::FromRow)]
struct Candidate {
    id: i64,
    name: String,
    phone: String,
    #[sqlx(try_from = "String")]
    sex: Sex,
    birth_date: String,
    village_clinic_id: i64,
}

/// Residents of the area born on or before `born_by`, alive, not merged, without a
/// hypertension enrolment that has not ended; by id.
async fn candidates(
    db: &Db,
    (community_id, institution_id): (i64, i64),
    column: &str,
    born_by: &str,
) -> Result<Vec<Candidate>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT r.id, r.name, r.phone, r.sex, r.birth_date, r.village_clinic_id FROM residents r \
         WHERE r.community_id = $1 AND r.{column} = $2 AND r.birth_date <= $3 \
         AND r.died_on IS NULL AND r.merged_into_id IS NULL AND NOT EXISTS (SELECT 1 FROM \
         chronic_enrolments e WHERE e.community_id = r.community_id AND e.resident_id = r.id \
         AND e.program = 'hypertension' \
         AND e.status <> 'ended') ORDER BY r.id"
    )))
    .bind(community_id)
    .bind(institution_id)
    .bind(born_by)
    .fetch_all(&db.pool)
    .await
}
