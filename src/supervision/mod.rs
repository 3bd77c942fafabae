//! Supervision (智慧监管): the encounter rules of the insurance rule library run over the
//! county's encounters (on demand for a period, and nightly), each hit an alert once per rule
//! and evidence, and the alert's rectification (整改) loop: triage by the group's office,
//! assignment with a due date and interview, appeal and review, rectification submitted by the
//! institution with its refund, verification by running the rule again, or reopening. Every
//! step is audited. The office (insurance officers, supervisors) sees every institution's
//! alerts with the evidence as encounters without who the resident is; an institution's staff
//! see their own.

pub mod http;
pub mod indicators;
pub mod model;
pub mod rules;
mod rules_page;
mod store;
pub mod views;

use time::Date;

use crate::access::{Actor, Role};
use crate::audit::{self, Entry};
use crate::clock::{self, Millis};
use crate::ctx::Ctx;
use model::{Alert, AlertDetail, AlertQuery, AlertState, NewRun, Party, RunResult, Transition};
use rules::{Finding, Parameters, RuleCode};

const DAY_MS: Millis = 86_400_000;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("no such alert")]
    NotFound,
    #[error("an alert cannot go from {from} to {to}")]
    IllegalStep {
        from: &'static str,
        to: &'static str,
    },
    #[error("the rule still finds {0} case(s) at the institution since the alert's period")]
    NotRectified(usize),
    #[error(transparent)]
    Denied(#[from] crate::access::Denied),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Audit(#[from] audit::Error),
}

fn invalid(field: &'static str, reason: &'static str) -> Error {
    Error::Invalid { field, reason }
}

pub use crate::access::is_office;

/// Staff of the institution an alert concerns.
fn is_institution(actor: &Actor, institution_id: i64) -> bool {
    actor.is_staff() && actor.institution.is_some_and(|i| i.id == institution_id)
}

/// The rules are the office's and the administrators'.
fn may_see_rules(actor: &Actor) -> Result<(), Error> {
    if is_office(actor) || actor.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(crate::access::Denied.into())
    }
}

/// Whose alerts the caller sees: every institution's (`None`) for the office, their own
/// institution's for its staff.
fn alert_scope(actor: &Actor) -> Result<Option<i64>, Error> {
    if is_office(actor) {
        return Ok(None);
    }
    let own = actor.institution.filter(|_| actor.is_staff());
    Ok(Some(own.ok_or(crate::access::Denied)?.id))
}

/// The rules in force and their parameters (version 0: the national defaults).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    #[serde(default)]
    pub version: i64,
    pub enabled: Vec<RuleCode>,
    pub parameters: Parameters,
}

pub async fn rule_set(ctx: &Ctx, actor: &Actor) -> Result<RuleSet, Error> {
    may_see_rules(actor)?;
    let (version, enabled, parameters) = store::rules_in_force(&ctx.db, actor.community_id).await?;
    Ok(RuleSet {
        version,
        enabled,
        parameters,
    })
}

/// A new version of the rules (the office or an administrator); alerts keep the version that
/// raised them.
pub async fn set_rules(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    set: &RuleSet,
) -> Result<RuleSet, Error> {
    may_see_rules(actor)?;
    let p = &set.parameters;
    let days_ok = |d: i64| (1..=366).contains(&d);
    if !days_ok(p.split_admission_days)
        || !days_ok(p.frequent_admission_days)
        || !days_ok(p.frequent_outpatient_days)
        || !(0..=30).contains(&p.low_threshold_stay_days)
    {
        return Err(invalid("parameters", "days from 1 to 366 (a stay 0 to 30)"));
    }
    if p.frequent_admissions < 2 || p.frequent_outpatient_visits < 1 {
        return Err(invalid("parameters", "at least 2 admissions and 1 visit"));
    }
    let pct_ok = |v: i64| (1..=100).contains(&v);
    if !pct_ok(p.low_threshold_examination_pct)
        || !pct_ok(p.low_threshold_drug_pct)
        || p.low_threshold_total_fen < 0
    {
        return Err(invalid(
            "parameters",
            "shares 1–100 %, amounts not negative",
        ));
    }
    if p.indicator_min_cases < 1
        || p.min_peers < 1
        || !(0..=1000).contains(&p.peer_excess_pct)
        || !(0..=1000).contains(&p.admission_rate_rise_pct)
        || !(0..=1000).contains(&p.cost_growth_target_pct)
        || !days_ok(p.readmission_days)
        || !(p.outlier_z.is_finite() && p.outlier_z > 0.0)
    {
        return Err(invalid(
            "parameters",
            "indicators: at least 1 case and 1 peer, percentages 0–1000, a z-score above 0",
        ));
    }
    let mut enabled = set.enabled.clone();
    enabled.sort_by_key(|c| c.as_str());
    enabled.dedup();
    let mut tx = ctx.db.begin().await?;
    let version = store::insert_rule_version(
        &mut tx,
        actor.community_id,
        (&enabled, p),
        actor.staff_id,
        now,
    )
    .await?;
    let entry = Entry::by(
        actor,
        now,
        "supervision.rules.set",
        "supervision_rules",
        Some(version),
    );
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(RuleSet {
        version,
        enabled,
        parameters: p.clone(),
    })
}

/// Runs the rules in force over the encounters starting from `from` to `to` (dates, China
/// Standard Time, `to` included) and raises an alert for each new hit; a hit already alerted
/// (same rule, same evidence) is not raised again. The longest look-back any rule needs is
/// read before `from`.
pub async fn run_period(
    ctx: &Ctx,
    now: Millis,
    community_id: i64,
    (from, to): (Date, Date),
) -> Result<RunResult, Error> {
    let (version, enabled, parameters) = store::rules_in_force(&ctx.db, community_id).await?;
    let period = (clock::midnight_cst(from), clock::midnight_cst(to) + DAY_MS);
    let (residents, mut hits) = hits_in(ctx, community_id, period, (&enabled, &parameters)).await?;
    let months = months_ended(period, now);
    hits.extend(indicator_hits(ctx, community_id, &months, (&enabled, &parameters)).await?);
    let mut tx = ctx.db.begin().await?;
    let mut raised = 0;
    for hit in &hits {
        raised += usize::from(store::insert_alert(&mut tx, community_id, version, hit, now).await?);
    }
    tx.commit().await?;
    if raised > 0 {
        publish(ctx, community_id, 0, None);
    }
    Ok(RunResult {
        from: from.to_string(),
        to: to.to_string(),
        rule_version: version,
        residents,
        hits: hits.len(),
        raised,
    })
}

/// The encounter rules' hits whose last evidence falls in `from_ms..to_ms` (with the look-back
/// the rules need read before it), and how many residents were checked.
async fn hits_in(
    ctx: &Ctx,
    community_id: i64,
    (from_ms, to_ms): (Millis, Millis),
    (rules, parameters): (&[RuleCode], &Parameters),
) -> Result<(usize, Vec<rules::Hit>), Error> {
    if rules.iter().all(|r| r.is_indicator()) {
        return Ok((0, Vec::new()));
    }
    let since = from_ms - look_back_days(parameters) * DAY_MS;
    let encounters =
        store::encounters_around(&ctx.db, community_id, since, (from_ms, to_ms)).await?;
    let mut residents = 0;
    let mut hits = Vec::new();
    for group in encounters.chunk_by(|a, b| a.resident_id == b.resident_id) {
        residents += 1;
        hits.extend(
            rules::check_resident(group, rules, parameters)
                .into_iter()
                .filter(|hit| (from_ms..to_ms).contains(&hit.at_ms)),
        );
    }
    Ok((residents, hits))
}

/// The months (`YYYY-MM`) that overlap `from_ms..to_ms` and are over by `now`: the ones the
/// institution indicators are computed for.
fn months_ended((from_ms, to_ms): (Millis, Millis), now: Millis) -> Vec<String> {
    let mut months = Vec::new();
    let mut month = clock::month_cst(from_ms);
    while let Some((start, end)) = clock::month_bounds_cst(&month) {
        if start >= to_ms || end > now {
            break;
        }
        months.push(month);
        month = clock::month_cst(end);
    }
    months
}

/// The enabled institution indicators' hits of each month given.
async fn indicator_hits(
    ctx: &Ctx,
    community_id: i64,
    months: &[String],
    (rules, parameters): (&[RuleCode], &Parameters),
) -> Result<Vec<rules::Hit>, Error> {
    let mut hits = Vec::new();
    if !rules.iter().any(|r| r.is_indicator()) {
        return Ok(hits);
    }
    // The figures from the start of `first`'s month to the end of `last`'s.
    let figures_of = |first: String, last: &str| {
        let start = clock::month_bounds_cst(&first).unwrap_or_default().0;
        let end = clock::month_bounds_cst(last).unwrap_or_default().1;
        store::figures(&ctx.db, community_id, (start, end))
    };
    let mut last: Option<(String, Vec<indicators::Figures>)> = None;
    let january = |month: &str| format!("{}-01", &month[..month.len().min(4)]);
    for month in months {
        let Some((start_ms, end_ms)) = clock::month_bounds_cst(month) else {
            continue;
        };
        let figures = figures_of(month.clone(), month).await?;
        let before = clock::shift_month(month, -1);
        // Consecutive months: the month before was read on the last turn.
        let previous = match last.take() {
            Some((read, figures)) if read == before => figures,
            _ => figures_of(before.clone(), &before).await?,
        };
        let year_to_date = figures_of(january(month), month).await?;
        let a_year_before = clock::shift_month(month, -12);
        let year_to_date_before = figures_of(january(&a_year_before), &a_year_before).await?;
        let since = start_ms - parameters.readmission_days * DAY_MS;
        let stays = store::stays_between(&ctx.db, community_id, (since, end_ms)).await?;
        let m = indicators::Month {
            month,
            start_ms,
            end_ms,
            figures: &figures,
            previous: &previous,
            year_to_date: &year_to_date,
            year_to_date_before: &year_to_date_before,
            stays: &stays,
        };
        hits.extend(indicators::check_month(&m, rules, parameters));
        last = Some((month.clone(), figures));
    }
    Ok(hits)
}

/// A run on demand by the office, audited.
pub async fn run(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    actor: &Actor,
    new: &NewRun,
) -> Result<RunResult, Error> {
    if !is_office(actor) {
        return Err(crate::access::Denied.into());
    }
    let date = |text: &str, field| {
        clock::parse_date(text)
            .filter(|d| *d <= today)
            .ok_or(invalid(field, "a date YYYY-MM-DD, not in the future"))
    };
    let (from, to) = (date(&new.from, "from")?, date(&new.to, "to")?);
    if from > to || (to - from).whole_days() > 366 {
        return Err(invalid("to", "on or after `from`, at most a year later"));
    }
    let result = run_period(ctx, now, actor.community_id, (from, to)).await?;
    let entry = Entry::by(actor, now, "supervision.run", "supervision_alerts", None)
        .detail(format!("from={from} to={to} raised={}", result.raised));
    ctx.auditor.record(vec![entry]).await?;
    Ok(result)
}

/// The nightly run: the day before `now` (and the six before it, so late-recorded encounters
/// are caught), for every community.
pub async fn nightly(ctx: &Ctx, now: Millis) -> Result<usize, Error> {
    let today = clock::date_cst(now);
    let communities: Vec<i64> = sqlx::query_scalar("SELECT id FROM communities ORDER BY id")
        .fetch_all(&ctx.db.pool)
        .await?;
    let mut raised = 0;
    for community in communities {
        let period = (
            today - time::Duration::days(7),
            today - time::Duration::days(1),
        );
        raised += run_period(ctx, now, community, period).await?.raised;
    }
    Ok(raised)
}

/// Runs the nightly check once a day, after 02:00 China Standard Time, for as long as the
/// server runs.
pub async fn run_nightly(ctx: Ctx) {
    // The first check ten minutes after start: no work is added to start-up.
    let every = std::time::Duration::from_secs(600);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let mut last_day = None;
    loop {
        tick.tick().await;
        let now = clock::now_ms();
        let day = clock::date_cst(now);
        let after_two = now - clock::midnight_cst(day) >= 2 * 3_600_000;
        if after_two && last_day != Some(day) {
            match nightly(&ctx, now).await {
                Ok(raised) => tracing::info!(raised, "supervision nightly run"),
                Err(error) => tracing::error!(%error, "supervision nightly run failed"),
            }
            last_day = Some(day);
        }
    }
}

/// An institution's alerts over some months, for the indicators.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Tally {
    pub institution_id: i64,
    pub alerts: i64,
    /// Past triage as a violation (`AlertState::confirmed`).
    pub confirmed: i64,
    pub verified: i64,
    /// Past their due date on `today`, in a state with a time limit.
    pub overdue: i64,
}

/// Per institution, the alerts of the months `first..=last` (`YYYY-MM`), with those overdue on
/// `today`.
pub async fn tallies(
    db: &crate::db::Db,
    community_id: i64,
    months: (&str, &str),
    today: Date,
) -> Result<Vec<Tally>, sqlx::Error> {
    store::tallies(db, community_id, months, &today.to_string()).await
}

/// The board's counts: alerts by month, rule, institution and state, of every institution for
/// the office, of the caller's own for its staff.
pub async fn counts(ctx: &Ctx, actor: &Actor) -> Result<Vec<model::Count>, Error> {
    let institution = alert_scope(actor)?;
    Ok(store::counts(&ctx.db, actor.community_id, institution)
        .await?
        .into_iter()
        .filter_map(|(period, rule, institution_id, state, alerts)| {
            Some(model::Count {
                period,
                rule: RuleCode::parse(&rule)?,
                institution_id,
                state: AlertState::parse(&state)?,
                alerts,
            })
        })
        .collect())
}

fn alert_of(row: store::AlertRow, today: Date) -> Alert {
    let rule = RuleCode::parse(&row.rule_code).unwrap_or(RuleCode::R01);
    let state = AlertState::parse(&row.state).unwrap_or(AlertState::New);
    Alert {
        overdue: state.has_time_limit()
            && row
                .due_on
                .as_deref()
                .and_then(clock::parse_date)
                .is_some_and(|due| due < today),
        id: row.id,
        rule_code: rule,
        rule_name: rule.name_zh().to_owned(),
        rule_version: row.rule_version,
        finding: Finding::parse(&row.finding).unwrap_or(Finding::Suspect),
        institution_id: row.institution_id,
        institution_name: row.institution_name,
        period: row.period,
        comparison: match (row.value, row.peer_median, row.peer_p90, row.peers) {
            (Some(value), Some(peer_median), Some(peer_p90), Some(peers)) => {
                Some(rules::Comparison {
                    value,
                    peer_median,
                    peer_p90,
                    peers,
                })
            }
            _ => None,
        },
        encounter_ids: row
            .encounter_ids
            .split(',')
            .filter_map(|id| id.parse().ok())
            .collect(),
        amount_fen: row.amount_fen,
        detail: row.detail,
        state,
        due_on: row.due_on,
        refund_fen: row.refund_fen,
        raised_at_ms: row.raised_at_ms,
        updated_at_ms: row.updated_at_ms,
    }
}

/// Alerts by institution, rule, state and month: all for the office, the caller's own
/// institution's for its staff.
pub async fn alerts(
    ctx: &Ctx,
    today: Date,
    actor: &Actor,
    query: &AlertQuery,
    page: (i64, i64),
) -> Result<Vec<Alert>, Error> {
    let institution = match alert_scope(actor)? {
        None => query.institution,
        Some(own) if query.institution.is_none_or(|i| i == own) => Some(own),
        Some(_) => return Err(crate::access::Denied.into()),
    };
    if query
        .rule
        .as_deref()
        .is_some_and(|r| RuleCode::parse(r).is_none())
    {
        return Err(invalid("rule", "a rule code such as R01"));
    }
    if query
        .state
        .as_deref()
        .is_some_and(|s| AlertState::parse(s).is_none())
    {
        return Err(invalid("state", "an alert state such as new"));
    }
    let rows = store::alerts(
        &ctx.db,
        actor.community_id,
        (
            institution,
            query.rule.as_deref(),
            query.state.as_deref(),
            query.month.as_deref(),
        ),
        page,
    )
    .await?;
    Ok(rows.into_iter().map(|row| alert_of(row, today)).collect())
}

/// One alert with its evidence and its steps, for the office or the institution's staff.
pub async fn get(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    actor: &Actor,
    id: i64,
) -> Result<AlertDetail, Error> {
    let row = store::alert_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    if !is_office(actor) && !is_institution(actor, row.institution_id) {
        return Err(Error::NotFound);
    }
    let alert = alert_of(row.clone(), today);
    let evidence = store::evidence(&ctx.db, actor.community_id, &alert.encounter_ids).await?;
    let steps = store::steps(&ctx.db, id).await?;
    let mut entry = Entry::by(
        actor,
        now,
        "supervision.alert.read",
        "supervision_alert",
        Some(id),
    );
    entry.resident_id = row.resident_id;
    ctx.auditor.record(vec![entry]).await?;
    Ok(AlertDetail {
        alert,
        evidence,
        steps,
    })
}

/// What the step needs, checked: (note, due date, refund).
fn check_step(
    (from, to): (AlertState, AlertState),
    t: &Transition,
    today: Date,
) -> Result<(String, Option<String>, Option<i64>), Error> {
    let note = t.note.trim().to_owned();
    if note.chars().count() > 2000 {
        return Err(invalid("note", "at most 2000 characters"));
    }
    if to.requires_note() && note.is_empty() {
        return Err(invalid(
            "note",
            "the reason (dismissing, appealing, withdrawing, reopening) or the root cause and measures (submitting)",
        ));
    }
    let due_on = match (from, to) {
        // An appeal upheld keeps the due date it had, unless a new one is given.
        (AlertState::Appealed, AlertState::Assigned) if t.due_on.is_none() => None,
        (_, AlertState::Assigned) => Some(
            t.due_on
                .as_deref()
                .and_then(clock::parse_date)
                .filter(|d| *d >= today)
                .ok_or(invalid("due_on", "a date YYYY-MM-DD, today or later"))?
                .to_string(),
        ),
        _ => None,
    };
    let refund_fen = match to {
        AlertState::Submitted => Some(t.refund_fen.filter(|fen| *fen >= 0).ok_or(invalid(
            "refund_fen",
            "the refund or adjustment in fen, 0 or more",
        ))?),
        _ => None,
    };
    Ok((note, due_on, refund_fen))
}

/// Moves an alert one step, by the party the step belongs to; an illegal step is 409. Verifying
/// runs the rule again over the institution's encounters since the alert's period: a new case
/// is 409 and the alert stays submitted (the office reopens it).
pub async fn transition(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    actor: &Actor,
    id: i64,
    t: &Transition,
) -> Result<AlertDetail, Error> {
    let row = store::alert_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let institution_staff = is_institution(actor, row.institution_id);
    if !is_office(actor) && !institution_staff {
        return Err(Error::NotFound);
    }
    let from = AlertState::parse(&row.state).unwrap_or(AlertState::New);
    let to = t.to.ok_or(invalid("to", "the state to move to"))?;
    let illegal = || Error::IllegalStep {
        from: from.as_str(),
        to: to.as_str(),
    };
    let allowed = match model::step(from, to).ok_or_else(illegal)? {
        Party::Office => is_office(actor),
        Party::Institution => institution_staff,
    };
    if !allowed {
        return Err(crate::access::Denied.into());
    }
    let (note, due_on, refund_fen) = check_step((from, to), t, today)?;
    if to == AlertState::Verified {
        let still = still_found(ctx, now, &row, today).await?;
        if still > 0 {
            return Err(Error::NotRectified(still));
        }
    }
    let mut tx = ctx.db.begin().await?;
    let moved = store::move_alert(
        &mut tx,
        (actor.community_id, id),
        (from, to),
        (&note, due_on.as_deref(), refund_fen),
        (actor.staff_id, now),
    )
    .await?;
    if !moved {
        return Err(illegal());
    }
    let mut entry = Entry::by(
        actor,
        now,
        "supervision.alert.step",
        "supervision_alert",
        Some(id),
    )
    .detail(format!("from={} to={}", from.as_str(), to.as_str()));
    entry.resident_id = row.resident_id;
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    publish(ctx, actor.community_id, id, Some(row.institution_id));
    get(ctx, now, today, actor, id).await
}

/// Tells the office's screens (and the institution's, for one alert) that alerts changed.
fn publish(ctx: &Ctx, community_id: i64, id: i64, institution: Option<i64>) {
    use crate::live::{Audience, Event};
    let audiences = std::iter::once(Audience::Office).chain(institution.map(Audience::Institution));
    for audience in audiences {
        ctx.live.publish(Event {
            community_id,
            audience,
            kind: "supervision.alert",
            id,
        });
    }
}

/// Cases the alert's rule finds at its institution in the next period — the month after the
/// alert's, up to yesterday (none when that month has not begun); for an institution
/// indicator, whether the same measure is still called out in that month once it is over.
async fn still_found(
    ctx: &Ctx,
    now: Millis,
    row: &store::AlertRow,
    today: Date,
) -> Result<usize, Error> {
    let (Some(rule), Some((_, from_ms))) = (
        RuleCode::parse(&row.rule_code),
        clock::month_bounds_cst(&row.period),
    ) else {
        return Ok(0);
    };
    let next_end =
        clock::month_bounds_cst(&clock::month_cst(from_ms)).map_or(from_ms, |(_, end)| end);
    let to_ms = clock::midnight_cst(today).min(next_end);
    if from_ms >= to_ms {
        return Ok(0);
    }
    let (_, _, parameters) = store::rules_in_force(&ctx.db, row.community_id).await?;
    let hits = if rule.is_indicator() {
        let months = months_ended((from_ms, to_ms), now);
        let measure = indicators::measure_of(&row.evidence_key);
        indicator_hits(ctx, row.community_id, &months, (&[rule], &parameters))
            .await?
            .into_iter()
            .filter(|hit| {
                hit.key
                    .as_deref()
                    .is_some_and(|k| indicators::measure_of(k) == measure)
            })
            .collect()
    } else {
        hits_in(
            ctx,
            row.community_id,
            (from_ms, to_ms),
            (&[rule], &parameters),
        )
        .await?
        .1
    };
    Ok(hits
        .iter()
        .filter(|hit| hit.institution_id == row.institution_id)
        .count())
}

/// How far before a period the rules read: the longest window any rule looks back over.
fn look_back_days(p: &Parameters) -> i64 {
    p.frequent_admission_days
        .max(p.split_admission_days + 180)
        .max(p.frequent_outpatient_days)
}
