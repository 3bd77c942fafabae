//! Critical values (危急值) and their closed loop: a critical ECG or imaging report or a lab report
//! must be acknowledged by the institution it concerns (the site that sent the case, the lab
//! test's orderer) within 5 minutes; otherwise it is escalated — marked, audited, and announced
//! live to that institution, to its township centre and to the readers, so someone picks up
//! the phone. The job is idempotent: each report is escalated once, and running it twice
//! changes nothing more.

use std::time::Duration;

use crate::audit::{self, Entry, Outcome};
use crate::clock::{self, Millis};
use crate::ctx::Ctx;
use crate::live::{Audience, Event};

/// A critical report left unacknowledged: its community, its id, the institution that must
/// acknowledge it, and its resident.
#[derive(Clone, Copy, Debug)]
pub struct Overdue {
    pub community_id: i64,
    pub id: i64,
    pub institution_id: i64,
    pub resident_id: i64,
}

impl Overdue {
    /// Reads the `RETURNING community_id, id, <institution_column>, resident_id` of an escalation.
    pub fn from_row(
        row: &sqlx::any::AnyRow,
        institution_column: &str,
    ) -> Result<Overdue, sqlx::Error> {
        use sqlx::Row;
        Ok(Overdue {
            community_id: row.try_get("community_id")?,
            id: row.try_get("id")?,
            institution_id: row.try_get(institution_column)?,
            resident_id: row.try_get("resident_id")?,
        })
    }
}

/// A critical value not acknowledged within this time is escalated.
pub const ACKNOWLEDGE_WITHIN_MS: Millis = 5 * 60 * 1000;

/// Escalates what is overdue at `now`; returns how many critical values were escalated.
pub async fn escalate_overdue(ctx: &Ctx, now: Millis) -> Result<usize, sqlx::Error> {
    let cutoff = now - ACKNOWLEDGE_WITHIN_MS;
    let mut tx = ctx.db.begin().await?;
    let ecgs =
        crate::reading::store::escalate_unacknowledged(&mut tx, &crate::ecg::CENTRE, cutoff, now)
            .await?;
    let studies = crate::reading::store::escalate_unacknowledged(
        &mut tx,
        &crate::imaging::CENTRE,
        cutoff,
        now,
    )
    .await?;
    let labs = crate::health_record::store::escalate_unacknowledged(&mut tx, cutoff, now).await?;
    let escalated: Vec<(&str, Overdue)> = ecgs
        .into_iter()
        .map(|row| ("ecg", row))
        .chain(studies.into_iter().map(|row| ("imaging_study", row)))
        .chain(labs.into_iter().map(|row| ("lab_report", row)))
        .collect();
    let entries: Vec<Entry> = escalated
        .iter()
        .map(|(resource, overdue)| Entry {
            community_id: overdue.community_id,
            at_ms: now,
            actor_staff_id: None,
            actor_institution_id: None,
            action: format!("{resource}.escalated"),
            resource: (*resource).into(),
            resource_id: Some(overdue.id),
            resident_id: Some(overdue.resident_id),
            outcome: Outcome::Allowed,
            detail: format!("institution={}", overdue.institution_id),
        })
        .collect();
    audit::store::append(&mut tx, &entries).await?;
    tx.commit().await?;
    for (resource, overdue) in &escalated {
        let Overdue {
            community_id,
            id,
            institution_id: institution,
            ..
        } = *overdue;
        let township =
            crate::institution::store::institution_by_id(&ctx.db, community_id, institution)
                .await?
                .and_then(|i| i.township_id)
                .filter(|t| *t != institution);
        let audiences = [
            Some(Audience::Institution(institution)),
            township.map(Audience::Institution),
            Some(Audience::Readers),
        ];
        let kind = match *resource {
            "ecg" => "ecg.escalated",
            "imaging_study" => "imaging.escalated",
            _ => "lab.escalated",
        };
        for audience in audiences.into_iter().flatten() {
            ctx.live.publish(Event {
                community_id,
                audience,
                kind,
                id,
            });
        }
    }
    Ok(escalated.len())
}

/// Runs the job every 30 seconds for as long as the server runs.
pub async fn run(ctx: Ctx) {
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    loop {
        tick.tick().await;
        if let Err(error) = escalate_overdue(&ctx, clock::now_ms()).await {
            tracing::error!(%error, "critical value escalation failed");
        }
    }
}
