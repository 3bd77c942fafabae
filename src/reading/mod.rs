//! The reading workflow (上级诊断) every shared diagnostic centre runs — the ECG centre first,
//! imaging and the others after it: a case sent from a site waits on the centre's worklist
//! (STAT first, then the longest waiting, each against its turnaround target), one reader
//! claims it, signs a report, may amend it by signing a new version, and the site
//! acknowledges a critical report; one left unacknowledged is escalated. Each step is checked
//! against the resident's access, audited, and announced live.
//!
//! The module knows nothing of what is read. A centre names its [`Centre`]: its service, the
//! table of its cases and of their reports, the case column of the reports, its events and
//! targets. Each case table carries the same workflow columns (`resident_id`,
//! `site_institution_id`, `received_at_ms`, `priority`, `state`, `claimed_by_staff_id`,
//! `claimed_at_ms`, `reported_at_ms`, `acknowledged_by_staff_id`, `acknowledged_at_ms`,
//! `report_critical`, `escalated_at_ms`); each report table (`version`, `findings`,
//! `conclusion`, `critical`, `reader_staff_id`, `signed_at_ms`). Invariants, enforced here
//! only: one claim holder at a time; a signed report is never changed, an amendment is the
//! next version; a critical report is acknowledged by the site or escalated.

pub mod store;

use serde::{Deserialize, Serialize};

use crate::access::{Access, Actor, Purpose};
use crate::audit::{self, Entry};
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::institution::model::CentreService;
use crate::live::{Audience, Event};
use crate::resident;

/// A shared diagnostic centre, as the workflow sees it. The table and column names are
/// constants of the code, never input.
pub struct Centre {
    pub service: CentreService,
    /// The audit's object type and the prefix of audit actions: `ecg`.
    pub name: &'static str,
    /// The table of cases.
    pub cases: &'static str,
    /// The table of signed reports, and its column naming the case.
    pub reports: &'static str,
    pub case_column: &'static str,
    pub stat_target_ms: Millis,
    pub routine_target_ms: Millis,
    pub events: Events,
}

/// The live events a centre's steps publish.
pub struct Events {
    pub claimed: &'static str,
    pub reported: &'static str,
    pub acknowledged: &'static str,
}

impl Centre {
    pub fn target_ms(&self, priority: Priority) -> Millis {
        match priority {
            Priority::Stat => self.stat_target_ms,
            Priority::Routine => self.routine_target_ms,
        }
    }

    /// When a case received at `received_at_ms` is due under the turnaround clock.
    pub fn due_at_ms(&self, priority: Priority, received_at_ms: Millis) -> Millis {
        received_at_ms + self.target_ms(priority)
    }

    fn action(&self, step: &str) -> String {
        format!("{}.{step}", self.name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// A critical automatic finding or an urgent order: read first.
    Stat,
    Routine,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Stat => "stat",
            Priority::Routine => "routine",
        }
    }
}

impl TryFrom<String> for Priority {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        match text.as_str() {
            "stat" => Ok(Priority::Stat),
            "routine" => Ok(Priority::Routine),
            _ => Err(text),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Waiting,
    Claimed,
    Reported,
}

impl TryFrom<String> for State {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        match text.as_str() {
            "waiting" => Ok(State::Waiting),
            "claimed" => Ok(State::Claimed),
            "reported" => Ok(State::Reported),
            _ => Err(text),
        }
    }
}

/// A report as a reader signs it.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewReport {
    pub findings: String,
    pub conclusion: String,
    pub critical: bool,
}

/// The reading page's report form, as a browser sends it (the critical box is sent only when
/// ticked).
#[derive(Clone, Debug, Deserialize)]
pub struct ReportForm {
    pub findings: String,
    pub conclusion: String,
    pub critical: Option<String>,
}

impl From<ReportForm> for NewReport {
    fn from(form: ReportForm) -> NewReport {
        NewReport {
            findings: form.findings,
            conclusion: form.conclusion,
            critical: form.critical.is_some(),
        }
    }
}

/// A signed report version.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Report {
    pub id: i64,
    pub case_id: i64,
    pub version: i64,
    pub findings: String,
    pub conclusion: String,
    #[sqlx(try_from = "i64")]
    pub critical: crate::institution::model::Flag,
    pub reader_staff_id: i64,
    pub reader_name: String,
    pub signed_at_ms: i64,
}

/// What the workflow needs of a case.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Case {
    pub id: i64,
    pub resident_id: i64,
    pub site_institution_id: i64,
    #[sqlx(try_from = "String")]
    pub state: State,
    pub claimed_by_staff_id: Option<i64>,
}

impl Case {
    fn held_by(&self, staff_id: i64) -> bool {
        self.state == State::Claimed && self.claimed_by_staff_id == Some(staff_id)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("no such case")]
    NotFound,
    #[error("another reader has claimed this case")]
    AlreadyClaimed,
    #[error("claim the case before reporting it")]
    NotClaimed,
    #[error("the case has no signed report yet")]
    NotReported,
    #[error(transparent)]
    Resident(#[from] resident::Error),
    #[error(transparent)]
    Denied(#[from] crate::access::Denied),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Audit(#[from] audit::Error),
}

/// Only the readers of the centre's service read for it.
pub fn require_reader(centre: &Centre, actor: &Actor) -> Result<(), Error> {
    if actor.reads_for(centre.service) {
        Ok(())
    } else {
        Err(crate::access::Denied.into())
    }
}

async fn load(ctx: &Ctx, centre: &Centre, actor: &Actor, id: i64) -> Result<Case, Error> {
    store::case_by_id(&ctx.db, centre, actor.community_id, id)
        .await?
        .ok_or(Error::NotFound)
}

/// Checks the actor may change the case's resident's clinical data, and records it.
async fn authorize(
    ctx: &Ctx,
    centre: &Centre,
    now: Millis,
    actor: &Actor,
    case: &Case,
    step: &str,
) -> Result<(), Error> {
    resident::load_authorized(
        ctx,
        now,
        actor,
        case.resident_id,
        Purpose::Clinical,
        Access::Write,
        &centre.action(step),
    )
    .await?;
    Ok(())
}

/// A reader takes a case; no two readers hold one. Claiming what one holds is a no-op.
pub async fn claim(
    ctx: &Ctx,
    centre: &Centre,
    now: Millis,
    actor: &Actor,
    id: i64,
) -> Result<(), Error> {
    require_reader(centre, actor)?;
    let case = load(ctx, centre, actor, id).await?;
    authorize(ctx, centre, now, actor, &case, "claim").await?;
    if case.held_by(actor.staff_id) {
        return Ok(());
    }
    let mut tx = ctx.db.begin().await?;
    if !store::claim(&mut tx, centre, actor.community_id, id, actor.staff_id, now).await? {
        return Err(Error::AlreadyClaimed);
    }
    tx.commit().await?;
    publish(ctx, actor, centre.events.claimed, id, Audience::Readers);
    Ok(())
}

/// The reader who holds the case signs a report; a reported case can only be amended, by a
/// new signed version. Returns the version signed.
pub async fn sign(
    ctx: &Ctx,
    centre: &Centre,
    now: Millis,
    actor: &Actor,
    id: i64,
    report: &NewReport,
) -> Result<i64, Error> {
    require_reader(centre, actor)?;
    if report.conclusion.trim().is_empty() || report.conclusion.chars().count() > 2000 {
        return Err(Error::Invalid {
            field: "conclusion",
            reason: "1 to 2000 characters",
        });
    }
    if report.findings.chars().count() > 10_000 {
        return Err(Error::Invalid {
            field: "findings",
            reason: "at most 10000 characters",
        });
    }
    let case = load(ctx, centre, actor, id).await?;
    authorize(ctx, centre, now, actor, &case, "report.sign").await?;
    if !case.held_by(actor.staff_id) && case.state != State::Reported {
        return Err(Error::NotClaimed);
    }
    let mut tx = ctx.db.begin().await?;
    let version = store::insert_report(
        &mut tx,
        centre,
        actor.community_id,
        id,
        report,
        actor.staff_id,
        now,
    )
    .await?;
    let entry = Entry::by(
        actor,
        now,
        &centre.action("report.signed"),
        centre.name,
        Some(id),
    )
    .about_resident(case.resident_id)
    .detail(format!("version={version} critical={}", report.critical));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    publish(ctx, actor, centre.events.reported, id, Audience::Readers);
    publish(
        ctx,
        actor,
        centre.events.reported,
        id,
        Audience::Institution(case.site_institution_id),
    );
    Ok(version)
}

/// The site confirms it has seen the signed report (closing the critical-value loop).
pub async fn acknowledge(
    ctx: &Ctx,
    centre: &Centre,
    now: Millis,
    actor: &Actor,
    id: i64,
) -> Result<(), Error> {
    let case = load(ctx, centre, actor, id).await?;
    if actor.institution.map(|i| i.id) != Some(case.site_institution_id) {
        return Err(crate::access::Denied.into());
    }
    authorize(ctx, centre, now, actor, &case, "acknowledge").await?;
    if case.state != State::Reported {
        return Err(Error::NotReported);
    }
    let mut tx = ctx.db.begin().await?;
    store::acknowledge(&mut tx, centre, actor.community_id, id, actor.staff_id, now).await?;
    let entry = Entry::by(
        actor,
        now,
        &centre.action("acknowledged"),
        centre.name,
        Some(id),
    )
    .about_resident(case.resident_id);
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    publish(
        ctx,
        actor,
        centre.events.acknowledged,
        id,
        Audience::Readers,
    );
    Ok(())
}

pub fn publish(ctx: &Ctx, actor: &Actor, kind: &'static str, id: i64, audience: Audience) {
    ctx.live.publish(Event {
        community_id: actor.community_id,
        audience,
        kind,
        id,
    });
}
