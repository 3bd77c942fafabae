//! Who is due and who is overdue: each enrolment's next follow-up is the last one's next due
//! date (or, before the first, the routine interval from enrolment). The overdue list is the
//! village doctor's call list — due date passed, no visit since, within the last 365 days,
//! alive, not hidden by a call result — and each call's result has its effect: agreed to come
//! (hidden 30 days), call later (7 days), removed with a reason (until the next visit; "died"
//! marks the resident dead and ends their enrolments, "moved" ends this one). A referral raised
//! by a follow-up is a task to follow up, due on that follow-up's next due date, that closes
//! when the referral's outcome is recorded or the patient is seen again.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use time::Date;

use super::model::Status;
use super::rules::Program;
use super::{Error, settings, store};
use crate::access::{Access, Actor, Purpose};
use crate::audit::{self, Entry};
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::resident;

const DAY_MS: Millis = 86_400_000;

/// One enrolment on the call list or the due list.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DueItem {
    pub enrolment_id: i64,
    pub resident_id: i64,
    pub name: String,
    pub phone: String,
    pub program: Program,
    /// `YYYY-MM-DD`.
    pub due_on: String,
    /// Days since the due date (negative: days still to go).
    pub days_overdue: i64,
    /// `YYYY-MM-DD` of the last follow-up, if any.
    pub last_followed_up_on: Option<String>,
}

/// Following up a referral a follow-up raised.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ReferralTask {
    pub follow_up_id: i64,
    pub enrolment_id: i64,
    pub resident_id: i64,
    pub name: String,
    pub program: Program,
    pub referral_id: i64,
    /// The referral's state (`submitted`, `accepted`, …).
    pub referral_state: String,
    /// `YYYY-MM-DD`: the follow-up's next due date (14 days by default).
    pub due_on: String,
    pub overdue: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallResult {
    /// Agreed to come: off the list for 30 days.
    Agreed,
    /// Call again: off the list for 7 days.
    CallLater,
    /// Off the list until the next visit, with a reason.
    Removed,
}

text_enum!(CallResult { Agreed => "agreed", CallLater => "call_later", Removed => "removed" });

/// Why a patient is removed from the call list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RemoveReason {
    VisitedElsewhere,
    NotResponding,
    Refused,
    InvalidPhone,
    /// Ends the enrolment (moved out).
    Moved,
    /// Marks the resident dead and ends their enrolments.
    Died,
}

text_enum!(RemoveReason { VisitedElsewhere => "visited_elsewhere", NotResponding => "not_responding", Refused => "refused", InvalidPhone => "invalid_phone", Moved => "moved", Died => "died" });

impl RemoveReason {
    pub const ALL: [RemoveReason; 6] = [
        RemoveReason::VisitedElsewhere,
        RemoveReason::NotResponding,
        RemoveReason::Refused,
        RemoveReason::InvalidPhone,
        RemoveReason::Moved,
        RemoveReason::Died,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            RemoveReason::VisitedElsewhere => "已在他处随访",
            RemoveReason::NotResponding => "无人接听",
            RemoveReason::Refused => "拒绝随访",
            RemoveReason::InvalidPhone => "号码无效",
            RemoveReason::Moved => "已迁出",
            RemoveReason::Died => "已死亡",
        }
    }
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCall {
    pub result: CallResult,
    /// For `removed`: one of the reasons' codes; otherwise a note (optional).
    #[serde(default)]
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Call {
    pub id: i64,
    pub enrolment_id: i64,
    pub result: CallResult,
    pub reason: String,
    pub hidden_until_ms: Option<i64>,
    pub called_at_ms: i64,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ScheduleQuery {
    /// The managing institution (default: the caller's own).
    pub institution: Option<i64>,
    /// For the due list: how many days ahead (default 7, at most 90).
    pub days: Option<i64>,
}

/// Each open enrolment of the institution with its due date and whether a call hides it.
struct Scheduled {
    row: store::CareRow,
    due_on: Date,
    hidden: bool,
}

async fn scheduled(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    institution: i64,
) -> Result<Vec<Scheduled>, Error> {
    let thresholds = settings::thresholds(&ctx.db, actor.community_id).await?;
    let rows = store::care_rows(&ctx.db, actor.community_id, institution).await?;
    let calls: HashMap<i64, store::LastCall> =
        store::last_calls(&ctx.db, actor.community_id, institution)
            .await?
            .into_iter()
            .map(|c| (c.enrolment_id, c))
            .collect();
    let parse = |text: &str| {
        Date::parse(
            text,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .ok()
    };
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let due_on = match &row.next_due_on {
                Some(due) => parse(due)?,
                None => parse(&row.enrolled_on)? + time::Duration::days(thresholds.routine_days),
            };
            let hidden = calls.get(&row.enrolment_id).is_some_and(|call| {
                call.called_at_ms > row.last_followed_up_at_ms.unwrap_or(i64::MIN)
                    && (call.result == CallResult::Removed.as_str()
                        || call.hidden_until_ms.is_some_and(|until| until > now))
            });
            Some(Scheduled {
                row,
                due_on,
                hidden,
            })
        })
        .collect())
}

fn item(s: &Scheduled, today: Date) -> DueItem {
    DueItem {
        enrolment_id: s.row.enrolment_id,
        resident_id: s.row.resident_id,
        name: s.row.name.clone(),
        phone: s.row.phone.clone(),
        program: s.row.program,
        due_on: s.due_on.to_string(),
        days_overdue: (today - s.due_on).whole_days(),
        last_followed_up_on: s.row.last_followed_up_on.clone(),
    }
}

async fn audit_listed(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    action: &str,
    residents: impl Iterator<Item = (i64, i64)>,
) -> Result<(), Error> {
    let entries = residents
        .map(|(enrolment, resident)| {
            Entry::by(actor, now, action, "chronic_enrolment", Some(enrolment))
                .about_resident(resident)
        })
        .collect();
    ctx.auditor.record(entries).await?;
    Ok(())
}

/// On the call list: overdue, within the last 365 days, not hidden by a call.
fn is_overdue(s: &Scheduled, today: Date) -> bool {
    !s.hidden && s.due_on < today && (today - s.due_on).whole_days() <= 365
}

/// Due from today to `days` ahead (7 by default, at most 90).
fn is_due(s: &Scheduled, today: Date, days: Option<i64>) -> bool {
    let last = today + time::Duration::days(days.unwrap_or(7).clamp(0, 90));
    s.due_on >= today && s.due_on <= last
}

/// The call list: overdue, within the last 365 days, alive, not hidden by a call; the longest
/// overdue first.
pub async fn overdue(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    actor: &Actor,
    query: &ScheduleQuery,
) -> Result<Vec<DueItem>, Error> {
    let scheduled = scheduled_of(ctx, now, actor, query).await?;
    let keep = |s: &Scheduled| is_overdue(s, today);
    listed(
        ctx,
        (now, today),
        actor,
        &scheduled,
        "chronic.overdue.list",
        keep,
    )
    .await
}

/// Who is due in the coming days (today included), soonest first.
pub async fn due(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    actor: &Actor,
    query: &ScheduleQuery,
) -> Result<Vec<DueItem>, Error> {
    let scheduled = scheduled_of(ctx, now, actor, query).await?;
    let keep = |s: &Scheduled| is_due(s, today, query.days);
    listed(
        ctx,
        (now, today),
        actor,
        &scheduled,
        "chronic.due.list",
        keep,
    )
    .await
}

/// The call list and the due list together, from one reading of the schedule (for the pages
/// that show both).
pub async fn overdue_and_due(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    actor: &Actor,
    query: &ScheduleQuery,
) -> Result<(Vec<DueItem>, Vec<DueItem>), Error> {
    let scheduled = scheduled_of(ctx, now, actor, query).await?;
    let at = (now, today);
    let overdue = listed(ctx, at, actor, &scheduled, "chronic.overdue.list", |s| {
        is_overdue(s, today)
    })
    .await?;
    let due = listed(ctx, at, actor, &scheduled, "chronic.due.list", |s| {
        is_due(s, today, query.days)
    })
    .await?;
    Ok((overdue, due))
}

/// The schedule of the institution the query asks for (the caller's own by default).
async fn scheduled_of(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    query: &ScheduleQuery,
) -> Result<Vec<Scheduled>, Error> {
    let institution = crate::institution::listed(&ctx.db, actor, query.institution)
        .await??
        .id;
    scheduled(ctx, now, actor, institution).await
}

/// The scheduled enrolments that `keep` keeps, the earliest due first, each resident listed
/// recorded as read.
async fn listed(
    ctx: &Ctx,
    (now, today): (Millis, Date),
    actor: &Actor,
    scheduled: &[Scheduled],
    action: &str,
    keep: impl Fn(&Scheduled) -> bool,
) -> Result<Vec<DueItem>, Error> {
    let mut items: Vec<DueItem> = scheduled
        .iter()
        .filter(|s| keep(s))
        .map(|s| item(s, today))
        .collect();
    items.sort_by(|a, b| {
        a.due_on
            .cmp(&b.due_on)
            .then(a.enrolment_id.cmp(&b.enrolment_id))
    });
    audit_listed(
        ctx,
        now,
        actor,
        action,
        items.iter().map(|i| (i.enrolment_id, i.resident_id)),
    )
    .await?;
    Ok(items)
}

/// The open referral follow-up tasks of the institution's patients, the earliest due first.
pub async fn referral_tasks(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    actor: &Actor,
    query: &ScheduleQuery,
) -> Result<Vec<ReferralTask>, Error> {
    let institution = crate::institution::listed(&ctx.db, actor, query.institution)
        .await??
        .id;
    let tasks: Vec<ReferralTask> =
        store::open_referral_tasks(&ctx.db, actor.community_id, institution)
            .await?
            .into_iter()
            .map(|t| ReferralTask {
                overdue: t.due_on.as_str() < today.to_string().as_str(),
                follow_up_id: t.follow_up_id,
                enrolment_id: t.enrolment_id,
                resident_id: t.resident_id,
                name: t.name,
                program: t.program,
                referral_id: t.referral_id,
                referral_state: t.referral_state,
                due_on: t.due_on,
            })
            .collect();
    audit_listed(
        ctx,
        now,
        actor,
        "chronic.tasks.list",
        tasks.iter().map(|t| (t.enrolment_id, t.resident_id)),
    )
    .await?;
    Ok(tasks)
}

/// Records the result of a call to an overdue patient, with its effect.
pub async fn record_call(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    actor: &Actor,
    enrolment_id: i64,
    new: &NewCall,
) -> Result<Call, Error> {
    let reason = new.reason.trim();
    let removed = match new.result {
        CallResult::Removed => Some(RemoveReason::parse(reason).ok_or(Error::Invalid {
            field: "reason",
            reason: "visited_elsewhere, not_responding, refused, invalid_phone, moved or died",
        })?),
        _ if reason.chars().count() > 200 => {
            return Err(Error::Invalid {
                field: "reason",
                reason: "at most 200 characters",
            });
        }
        _ => None,
    };
    let enrolment = store::enrolment_by_id(&ctx.db, actor.community_id, enrolment_id)
        .await?
        .ok_or(Error::NotFound)?;
    resident::load_authorized(
        ctx,
        now,
        actor,
        enrolment.resident_id,
        Purpose::Clinical,
        Access::Write,
        "chronic.call.create",
    )
    .await?;
    if enrolment.status == Status::Ended {
        return Err(Error::Ended);
    }
    let hidden_until_ms = match new.result {
        CallResult::Agreed => Some(now + 30 * DAY_MS),
        CallResult::CallLater => Some(now + 7 * DAY_MS),
        CallResult::Removed => None,
    };
    let mut tx = ctx.db.begin().await?;
    let call = (new.result.as_str(), reason, hidden_until_ms);
    let id = store::insert_call(&mut tx, actor, &enrolment, call, now).await?;
    let on = today.to_string();
    match removed {
        Some(RemoveReason::Died) => {
            resident::store::mark_died(
                &mut tx,
                actor.community_id,
                enrolment.resident_id,
                &on,
                now,
            )
            .await?;
            store::end_enrolments_of(
                &mut tx,
                actor.community_id,
                enrolment.resident_id,
                &on,
                "死亡",
                now,
            )
            .await?;
        }
        Some(RemoveReason::Moved) => {
            store::set_status(
                &mut tx,
                actor.community_id,
                enrolment.id,
                (Status::Ended, &on, "迁出"),
                now,
            )
            .await?;
        }
        _ => {}
    }
    let entry = Entry::by(
        actor,
        now,
        "chronic.call.create",
        "chronic_enrolment",
        Some(enrolment.id),
    )
    .about_resident(enrolment.resident_id)
    .detail(format!(
        "result={} reason={}",
        new.result.as_str(),
        removed.map_or("", RemoveReason::as_str)
    ));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(Call {
        id,
        enrolment_id: enrolment.id,
        result: new.result,
        reason: reason.to_owned(),
        hidden_until_ms,
        called_at_ms: now,
    })
}
