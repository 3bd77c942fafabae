//! The monthly measures of follow-up work (Simple.org's definitions), at each month's end, per
//! managing institution and team, from the same records as the statutory indicators:
//!
//! - a *visit* is a follow-up of any mode (it records the medicines and the next appointment);
//! - *under care*: alive, not ended, enrolled in the last 12 months or visited in them;
//!   otherwise *lost to follow-up*;
//! - of those under care and enrolled before the last 3 months, the outcome over the last 3
//!   months: *missed visit* → else *visited without a measurement* (BP, or FPG for diabetes) →
//!   else *controlled* (the latest measurement at the county's target) → else *uncontrolled*;
//! - *overdue at month start* (due date passed, no visit since, within 365 days, alive, not
//!   removed from the call list), of them *called* in the month, and of those *returned to care*
//!   within 15 days of the month's first call.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use time::{Date, Month};

use super::rules::Program;
use super::{Error, settings};
use crate::access::{self, Access, Actor, Purpose, Scope};
use crate::clock::{self, Millis};
use crate::ctx::Ctx;
use crate::institution::{Institution, InstitutionKind};

const DAY_MS: Millis = 86_400_000;
/// How long after the month's first call a visit counts as returning to care.
const RETURN_DAYS: i64 = 15;

#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct MeasuresQuery {
    /// `hypertension` (default) or `diabetes`.
    pub program: Option<String>,
    /// `YYYY-MM` (default: this month).
    pub month: Option<String>,
    /// A village clinic, or a township centre with its villages (default: what the caller
    /// oversees — the whole community for county-level staff).
    pub institution: Option<i64>,
}

/// A share with what it is a share of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Ratio {
    pub numerator: i64,
    pub denominator: i64,
    /// Percent to one decimal; absent when the denominator is 0.
    pub percent: Option<f64>,
}

impl Ratio {
    /// The percent as shown on a page: `56.1%`, or `—` when there is no denominator.
    pub fn shown(&self) -> String {
        self.percent
            .map_or_else(|| "—".to_owned(), |p| format!("{p:.1}%"))
    }

    pub fn of(numerator: i64, denominator: i64) -> Ratio {
        Ratio {
            numerator,
            denominator,
            percent: (denominator > 0)
                .then(|| (numerator as f64 * 1000.0 / denominator as f64).round() / 10.0),
        }
    }
}

/// The measures of one group of patients at one month's end.
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Counts {
    /// Alive and not ended at month end.
    pub registered: i64,
    pub under_care: Ratio,
    pub lost_to_follow_up: Ratio,
    /// Of `registered`: under care and enrolled before the last 3 months — the denominator of
    /// the four outcomes.
    pub cohort: i64,
    pub controlled: Ratio,
    pub uncontrolled: Ratio,
    pub missed_visit: Ratio,
    pub visited_no_measurement: Ratio,
    pub overdue_at_month_start: i64,
    /// Of the overdue at month start, called in the month.
    pub called: Ratio,
    /// Of the called, seen within 15 days of the month's first call.
    pub returned_to_care: Ratio,
}

/// A group's measures: an institution's patients or a team's.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub counts: Counts,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MonthlyMeasures {
    pub program: Program,
    /// `YYYY-MM`.
    pub month: String,
    pub total: Counts,
    pub institutions: Vec<Group>,
    pub teams: Vec<Group>,
}

/// The first day of the month `shift` months after the one `first` starts.
fn shift_months(first: Date, shift: i32) -> Date {
    let index = first.year() * 12 + i32::from(u8::from(first.month())) - 1 + shift;
    let month = Month::try_from((index.rem_euclid(12) + 1) as u8).unwrap_or(Month::January);
    Date::from_calendar_date(index.div_euclid(12), month, 1).unwrap_or(first)
}

fn parse_month(text: &str) -> Option<Date> {
    let (year, month) = text.trim().split_once('-')?;
    let month = Month::try_from(month.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(year.parse().ok()?, month, 1).ok()
}

/// The widest scope the caller sees counts in: county-level staff and the bureau all of it,
/// primary care what it serves.
fn counting_scope(actor: &Actor) -> Scope {
    if access::may_see_aggregates(actor) {
        Scope::Community
    } else {
        actor.scope(Purpose::Clinical, Access::Read)
    }
}

fn in_scope(scope: Scope, institution: &Institution) -> bool {
    match scope {
        Scope::Community => true,
        Scope::Township { township_id, .. } => institution.township_id == Some(township_id),
        Scope::Village { village_clinic_id } => institution.id == village_clinic_id,
        Scope::Nothing | Scope::OnlySelf { .. } => false,
    }
}

/// The township centres and village clinics whose measures the caller may choose.
pub async fn choices(ctx: &Ctx, actor: &Actor) -> Result<Vec<Institution>, Error> {
    let scope = counting_scope(actor);
    Ok(
        crate::institution::store::institutions_in_community(&ctx.db, actor.community_id)
            .await?
            .into_iter()
            .filter(|i| {
                in_scope(scope, i)
                    && matches!(
                        i.kind,
                        InstitutionKind::TownshipCentre | InstitutionKind::VillageClinic
                    )
            })
            .collect(),
    )
}

/// The institutions whose patients the caller may count: a chosen one (a township centre
/// brings its villages), else all the caller oversees.
pub fn area(actor: &Actor, all: &[Institution], wanted: Option<i64>) -> Result<Vec<i64>, Error> {
    let scope = counting_scope(actor);
    let in_scope = |i: &Institution| in_scope(scope, i);
    let chosen = |i: &Institution| match wanted {
        None => true,
        Some(id) => {
            i.id == id
                || all.iter().any(|c| {
                    c.id == id
                        && c.kind == InstitutionKind::TownshipCentre
                        && i.township_id == Some(id)
                })
        }
    };
    if scope == Scope::Nothing
        || wanted.is_some_and(|id| !all.iter().any(|i| i.id == id && in_scope(i)))
    {
        return Err(access::Denied.into());
    }
    Ok(all
        .iter()
        .filter(|i| in_scope(i) && chosen(i))
        .map(|i| i.id)
        .collect())
}

#[derive(sqlx::FromRow)]
struct EnrolmentRow {
    id: i64,
    institution_id: i64,
    team_id: Option<i64>,
    enrolled_on: String,
    status: String,
    status_on: Option<String>,
    died_on: Option<String>,
}

#[derive(sqlx::FromRow)]
struct VisitRow {
    enrolment_id: i64,
    followed_up_at_ms: i64,
    bp_measured: i64,
    bp_at_target: Option<i64>,
    fpg_measured: i64,
    fpg_at_target: Option<i64>,
    next_due_on: String,
}

#[derive(sqlx::FromRow)]
struct CallRow {
    enrolment_id: i64,
    result: String,
    called_at_ms: i64,
}

/// One follow-up as the measures need it.
struct Seen {
    on: Date,
    at: Millis,
    /// The programme's measurement (BP, or FPG for diabetes) was taken.
    measured: bool,
    at_target: Option<bool>,
    next_due: Option<Date>,
}

struct Patient {
    institution_id: i64,
    team_id: Option<i64>,
    enrolled_on: Date,
    /// The day the enrolment ended, or the resident died.
    gone_on: Option<Date>,
    /// Oldest first.
    visits: Vec<Seen>,
    calls: Vec<(Millis, bool)>,
}

/// The area's patients of one programme with their visits and calls since `from`.
pub struct Records {
    program: Program,
    routine_days: i64,
    patients: Vec<Patient>,
}

async fn load(
    ctx: &Ctx,
    community_id: i64,
    program: Program,
    area: &[i64],
    from: Date,
) -> Result<Records, Error> {
    let routine_days = settings::thresholds(&ctx.db, community_id)
        .await?
        .routine_days;
    let enrolments: Vec<EnrolmentRow> = sqlx::query_as(
        "SELECT e.id, e.institution_id, e.team_id, e.enrolled_on, e.status, e.status_on, r.died_on \
         FROM chronic_enrolments e JOIN residents r ON r.id = e.resident_id \
         WHERE e.community_id = $1 AND e.program = $2",
    )
    .bind(community_id)
    .bind(program.as_str())
    .fetch_all(&ctx.db.pool)
    .await?;
    let visits: Vec<VisitRow> = sqlx::query_as(
        "SELECT enrolment_id, followed_up_at_ms, \
         CAST(CASE WHEN sbp IS NULL THEN 0 ELSE 1 END AS BIGINT) AS bp_measured, bp_at_target, \
         CAST(CASE WHEN fpg_mmol IS NULL THEN 0 ELSE 1 END AS BIGINT) AS fpg_measured, fpg_at_target, \
         next_due_on FROM chronic_follow_ups \
         WHERE community_id = $1 AND program = $2 AND followed_up_at_ms >= $3 \
         ORDER BY followed_up_at_ms",
    )
    .bind(community_id)
    .bind(program.as_str())
    .bind(clock::midnight_cst(from))
    .fetch_all(&ctx.db.pool)
    .await?;
    let calls: Vec<CallRow> = sqlx::query_as(
        "SELECT c.enrolment_id, c.result, c.called_at_ms FROM chronic_calls c \
         JOIN chronic_enrolments e ON e.id = c.enrolment_id \
         WHERE c.community_id = $1 AND e.program = $2 AND c.called_at_ms >= $3 \
         ORDER BY c.called_at_ms",
    )
    .bind(community_id)
    .bind(program.as_str())
    .bind(clock::midnight_cst(from))
    .fetch_all(&ctx.db.pool)
    .await?;
    let mut index: HashMap<i64, usize> = HashMap::new();
    let mut patients = Vec::new();
    for e in enrolments {
        let Some(enrolled_on) = clock::parse_date(&e.enrolled_on) else {
            continue;
        };
        if !area.contains(&e.institution_id) {
            continue;
        }
        let ended = (e.status == "ended")
            .then(|| e.status_on.as_deref().and_then(clock::parse_date))
            .flatten();
        let died = e.died_on.as_deref().and_then(clock::parse_date);
        index.insert(e.id, patients.len());
        patients.push(Patient {
            institution_id: e.institution_id,
            team_id: e.team_id,
            enrolled_on,
            gone_on: ended.into_iter().chain(died).min(),
            visits: Vec::new(),
            calls: Vec::new(),
        });
    }
    for v in visits {
        if let Some(&i) = index.get(&v.enrolment_id) {
            let (measured, at_target) = match program {
                Program::Hypertension => (v.bp_measured, v.bp_at_target),
                Program::Diabetes => (v.fpg_measured, v.fpg_at_target),
            };
            patients[i].visits.push(Seen {
                on: clock::date_cst(v.followed_up_at_ms),
                at: v.followed_up_at_ms,
                measured: measured != 0,
                at_target: at_target.map(|t| t != 0),
                next_due: clock::parse_date(&v.next_due_on),
            });
        }
    }
    for c in calls {
        if let Some(&i) = index.get(&c.enrolment_id) {
            patients[i]
                .calls
                .push((c.called_at_ms, c.result == "removed"));
        }
    }
    Ok(Records {
        program,
        routine_days,
        patients,
    })
}

/// What one patient adds to a month's counts.
#[derive(Default)]
struct Tally {
    registered: i64,
    under_care: i64,
    cohort: i64,
    controlled: i64,
    uncontrolled: i64,
    missed: i64,
    no_measurement: i64,
    overdue: i64,
    called: i64,
    returned: i64,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.registered += other.registered;
        self.under_care += other.under_care;
        self.cohort += other.cohort;
        self.controlled += other.controlled;
        self.uncontrolled += other.uncontrolled;
        self.missed += other.missed;
        self.no_measurement += other.no_measurement;
        self.overdue += other.overdue;
        self.called += other.called;
        self.returned += other.returned;
    }

    fn counts(&self) -> Counts {
        Counts {
            registered: self.registered,
            under_care: Ratio::of(self.under_care, self.registered),
            lost_to_follow_up: Ratio::of(self.registered - self.under_care, self.registered),
            cohort: self.cohort,
            controlled: Ratio::of(self.controlled, self.cohort),
            uncontrolled: Ratio::of(self.uncontrolled, self.cohort),
            missed_visit: Ratio::of(self.missed, self.cohort),
            visited_no_measurement: Ratio::of(self.no_measurement, self.cohort),
            overdue_at_month_start: self.overdue,
            called: Ratio::of(self.called, self.overdue),
            returned_to_care: Ratio::of(self.returned, self.called),
        }
    }
}

impl Patient {
    fn tally(&self, month: Date, routine_days: i64) -> Tally {
        let mut tally = Tally::default();
        let next = shift_months(month, 1);
        let end = next - time::Duration::days(1);
        let alive_at = |day: Date| self.gone_on.is_none_or(|gone| gone > day);
        if self.enrolled_on > end || !alive_at(end) {
            return tally;
        }
        tally.registered = 1;
        let year_from = shift_months(month, -11);
        let visited_since = |from: Date| self.visits.iter().any(|v| v.on >= from && v.on <= end);
        if self.enrolled_on < year_from && !visited_since(year_from) {
            return tally;
        }
        tally.under_care = 1;
        let quarter_from = shift_months(month, -2);
        if self.enrolled_on < quarter_from {
            tally.cohort = 1;
            let in_quarter: Vec<_> = self
                .visits
                .iter()
                .filter(|v| v.on >= quarter_from && v.on <= end)
                .collect();
            match in_quarter.iter().rev().find(|v| v.measured) {
                _ if in_quarter.is_empty() => tally.missed = 1,
                None => tally.no_measurement = 1,
                Some(v) if v.at_target == Some(true) => tally.controlled = 1,
                Some(_) => tally.uncontrolled = 1,
            }
        }
        self.tally_calls(month, next, routine_days, &mut tally);
        tally
    }

    /// Overdue at month start, called in the month, back within 15 days of the first call.
    fn tally_calls(&self, month: Date, next: Date, routine_days: i64, tally: &mut Tally) {
        if self.enrolled_on >= month || self.gone_on.is_some_and(|gone| gone <= month) {
            return;
        }
        let (start, next_ms) = (clock::midnight_cst(month), clock::midnight_cst(next));
        let last = self.visits.iter().rev().find(|v| v.at < start);
        let due = match last {
            Some(v) => v.next_due,
            None => Some(self.enrolled_on + time::Duration::days(routine_days)),
        };
        let last_ms = last.map_or(i64::MIN, |v| v.at);
        let removed = self
            .calls
            .iter()
            .any(|&(at, removed)| removed && at > last_ms && at < start);
        let overdue = due.is_some_and(|due| due < month && (month - due).whole_days() <= 365);
        if !overdue || removed {
            return;
        }
        tally.overdue = 1;
        let Some(&(first_call, _)) = self
            .calls
            .iter()
            .find(|&&(at, _)| at >= start && at < next_ms)
        else {
            return;
        };
        tally.called = 1;
        let back_by = first_call + RETURN_DAYS * DAY_MS;
        tally.returned = i64::from(
            self.visits
                .iter()
                .any(|v| v.at >= first_call && v.at <= back_by),
        );
    }
}

impl Records {
    /// The month's measures: in total, per institution and per team.
    fn month(
        &self,
        month: Date,
        names: &HashMap<i64, String>,
        teams: &HashMap<i64, String>,
    ) -> MonthlyMeasures {
        let mut total = Tally::default();
        let mut by_institution: HashMap<i64, Tally> = HashMap::new();
        let mut by_team: HashMap<i64, Tally> = HashMap::new();
        for patient in &self.patients {
            let tally = patient.tally(month, self.routine_days);
            if tally.registered == 0 {
                continue;
            }
            total.add(&tally);
            by_institution
                .entry(patient.institution_id)
                .or_default()
                .add(&tally);
            if let Some(team) = patient.team_id {
                by_team.entry(team).or_default().add(&tally);
            }
        }
        let groups = |tallies: HashMap<i64, Tally>, names: &HashMap<i64, String>| {
            let mut groups: Vec<Group> = tallies
                .into_iter()
                .map(|(id, tally)| Group {
                    id,
                    name: names.get(&id).cloned().unwrap_or_default(),
                    counts: tally.counts(),
                })
                .collect();
            groups.sort_by_key(|g| g.id);
            groups
        };
        MonthlyMeasures {
            program: self.program,
            month: format!("{:04}-{:02}", month.year(), u8::from(month.month())),
            total: total.counts(),
            institutions: groups(by_institution, names),
            teams: groups(by_team, teams),
        }
    }
}

async fn team_names(ctx: &Ctx, community_id: i64) -> Result<HashMap<i64, String>, Error> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, name FROM care_teams WHERE community_id = $1")
            .bind(community_id)
            .fetch_all(&ctx.db.pool)
            .await?;
    Ok(rows.into_iter().collect())
}

/// The measures of `months` months ending with the query's month, oldest first.
pub async fn series(
    ctx: &Ctx,
    today: Date,
    actor: &Actor,
    query: &MeasuresQuery,
    months: i32,
) -> Result<Vec<MonthlyMeasures>, Error> {
    let program = match query.program.as_deref() {
        None | Some("") => Program::Hypertension,
        Some(text) => Program::parse(text).ok_or(Error::Invalid {
            field: "program",
            reason: "hypertension or diabetes",
        })?,
    };
    let this_month = today.replace_day(1).unwrap_or(today);
    let month = match query.month.as_deref() {
        None | Some("") => this_month,
        Some(text) => parse_month(text)
            .filter(|m| *m <= this_month && m.year() >= 2000)
            .ok_or(Error::Invalid {
                field: "month",
                reason: "a month YYYY-MM, not in the future",
            })?,
    };
    let all =
        crate::institution::store::institutions_in_community(&ctx.db, actor.community_id).await?;
    let area = area(actor, &all, query.institution)?;
    let first = shift_months(month, 1 - months.max(1));
    let records = load(
        ctx,
        actor.community_id,
        program,
        &area,
        shift_months(first, -25),
    )
    .await?;
    let names: HashMap<i64, String> = all.into_iter().map(|i| (i.id, i.name)).collect();
    let teams = team_names(ctx, actor.community_id).await?;
    Ok((0..months.max(1))
        .map(|k| records.month(shift_months(first, k), &names, &teams))
        .collect())
}

/// One month's measures.
pub async fn measures(
    ctx: &Ctx,
    today: Date,
    actor: &Actor,
    query: &MeasuresQuery,
) -> Result<MonthlyMeasures, Error> {
    let mut series = series(ctx, today, actor, query, 1).await?;
    Ok(series.remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_shift_across_years() {
        let d = |y, m| Date::from_calendar_date(y, Month::try_from(m).unwrap(), 1).unwrap();
        assert_eq!(shift_months(d(2026, 1), -1), d(2025, 12));
        assert_eq!(shift_months(d(2026, 11), 2), d(2027, 1));
        assert_eq!(shift_months(d(2026, 3), -14), d(2025, 1));
        assert_eq!(parse_month("2026-02"), Some(d(2026, 2)));
        assert_eq!(parse_month("2026-13"), None);
    }

    #[test]
    fn ratio_rounds_to_one_decimal() {
        assert_eq!(Ratio::of(1, 3).percent, Some(33.3));
        assert_eq!(Ratio::of(0, 0).percent, None);
    }
}
