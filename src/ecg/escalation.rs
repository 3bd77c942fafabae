//! The escalation job: a critical report that the uploading site has not acknowledged within
//! 5 minutes is escalated — marked, audited, and announced live to the site, to its township
//! centre and to the readers, so someone picks up the phone. Idempotent: each report is
//! escalated once, and running the job twice changes nothing more.

use std::time::Duration;

use super::model::ACKNOWLEDGE_WITHIN_MS;
use super::{Error, store};
use crate::app::Ctx;
use crate::audit::{self, Entry, Outcome};
use crate::clock::{self, Millis};
use crate::live::{Audience, Event};

/// Escalates what is overdue at `now`; returns how many reports were escalated.
pub async fn escalate_overdue(ctx: &Ctx, now: Millis) -> Result<usize, Error> {
    let mut tx = ctx.db.begin().await?;
    let escalated =
        store::escalate_unacknowledged(&mut tx, now - ACKNOWLEDGE_WITHIN_MS, now).await?;
    let entries: Vec<Entry> = escalated
        .iter()
        .map(|&(community_id, id, site, resident_id)| Entry {
            community_id,
            at_ms: now,
            actor_staff_id: None,
            actor_institution_id: None,
            action: "ecg.escalated".into(),
            resource: "ecg".into(),
            resource_id: Some(id),
            resident_id: Some(resident_id),
            outcome: Outcome::Allowed,
            detail: format!("site={site}"),
        })
        .collect();
    audit::store::append(&mut tx, &entries).await?;
    tx.commit().await?;
    for &(community_id, id, site, _) in &escalated {
        let township = crate::institution::store::institution_by_id(&ctx.db, community_id, site)
            .await?
            .and_then(|i| i.township_id)
            .filter(|t| *t != site);
        let audiences = [
            Some(Audience::Institution(site)),
            township.map(Audience::Institution),
            Some(Audience::Readers),
        ];
        for audience in audiences.into_iter().flatten() {
            ctx.live.publish(Event {
                community_id,
                audience,
                kind: "ecg.escalated",
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
            tracing::error!(%error, "ECG escalation failed");
        }
    }
}
