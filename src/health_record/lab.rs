//! Lab reports from the LIS: each results message (`ORU^R01`, `OUL^R21/R22/R24`, alone or in
//! a batch) is matched to a resident by ID number (PID-3), stored whole or not at all, and
//! answered with an ACK (a batch with a batch of ACKs). A report with a critical value is a
//! critical value (危急值) for the ordering institution, acknowledged there and escalated when it
//! is not, the same closed loop as a critical ECG report (`crate::critical_value`).

use super::model::LabReport;
use super::{Error, store};
use crate::access::{self, Access, Actor, Purpose};
use crate::audit::{self, Entry, Outcome};
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::hl7v2::{self, ErrorCode, Observations, Refusal};
use crate::institution::store as institutions;
use crate::live::{Audience, Event};
use crate::resident::{self, IdNumber};

/// Who hands a message in: the MLLP listener (the sender is known by MSH-4 and the community by
/// MSH-6), or a member of staff over HTTP (the sender must be their own institution).
#[derive(Clone, Copy)]
pub enum Via<'a> {
    /// From this peer, which the allow-list must admit for the message's sending facility.
    Mllp(std::net::IpAddr, &'a crate::hl7v2::mllp::AllowList),
    Staff(&'a Actor),
}

/// The answer to a message: its acknowledgement code (`AA`, `AE`, `AR`) and the ACK itself.
pub struct Answer {
    pub code: &'static str,
    pub ack: String,
}

/// Takes one HL7 v2 message or batch, as bytes in the character set its MSH-18 names, and
/// returns the ACK to send back. A batch is answered with a batch of one ACK per message; its
/// code is `AA` only when every message was taken.
pub async fn receive(ctx: &Ctx, now: Millis, bytes: &[u8], via: Via<'_>) -> Answer {
    let decoded = hl7v2::decode(bytes);
    if let Ok(text) = &decoded
        && let Some(messages) = hl7v2::batch_messages(text)
    {
        let mut acks = Vec::with_capacity(messages.len());
        let mut code = "AA";
        for (index, message) in messages.iter().enumerate() {
            let answer = receive_one(ctx, now, message, Ok(()), via, index).await;
            if answer.code != "AA" && code == "AA" {
                code = answer.code;
            }
            acks.push(answer.ack);
        }
        return Answer {
            code,
            ack: hl7v2::batch_ack(&acks, now),
        };
    }
    match decoded {
        Ok(text) => receive_one(ctx, now, &text, Ok(()), via, 0).await,
        // Enough of the MSH to address the refusal.
        Err(refusal) => {
            let text = String::from_utf8_lossy(bytes);
            receive_one(ctx, now, &text, Err(refusal), via, 0).await
        }
    }
}

async fn receive_one(
    ctx: &Ctx,
    now: Millis,
    text: &str,
    decoded: Result<(), Refusal>,
    via: Via<'_>,
    index: usize,
) -> Answer {
    let header = hl7v2::header(text).unwrap_or_default();
    let ack_id = if index == 0 {
        format!("ACK{now}")
    } else {
        format!("ACK{now}-{index}")
    };
    let taken = match decoded {
        Ok(()) => take(ctx, now, text, via).await,
        Err(refusal) => Err(Taken::Refused(refusal)),
    };
    let refusal = match taken {
        Ok(()) => None,
        Err(Taken::Refused(refusal)) => Some(refusal),
        Err(Taken::Failed(error)) => {
            tracing::error!(%error, control_id = %header.control_id, "HL7 v2 message not stored");
            Some(Refusal::Error(
                ErrorCode::InternalError,
                "internal error; send again later".into(),
            ))
        }
    };
    if let Some(refusal) = &refusal {
        tracing::info!(control_id = %header.control_id, code = refusal.ack_code(), reason = %refusal, "HL7 v2 message refused");
    }
    Answer {
        code: refusal.as_ref().map_or("AA", Refusal::ack_code),
        ack: hl7v2::ack(&header, refusal.as_ref(), now, &ack_id),
    }
}

/// The answer to a message larger than [`hl7v2::MAX_MESSAGE_BYTES`], which is not read.
pub fn too_large(now: Millis) -> Answer {
    let refusal = Refusal::unreadable(format!(
        "the message is larger than {} MiB",
        hl7v2::MAX_MESSAGE_BYTES >> 20
    ));
    Answer {
        code: refusal.ack_code(),
        ack: hl7v2::ack(
            &hl7v2::Header::default(),
            Some(&refusal),
            now,
            &format!("ACK{now}"),
        ),
    }
}

enum Taken {
    Refused(Refusal),
    Failed(Error),
}

impl<E: Into<Error>> From<E> for Taken {
    fn from(error: E) -> Taken {
        Taken::Failed(error.into())
    }
}

fn refuse(code: ErrorCode, text: impl Into<String>) -> Taken {
    Taken::Refused(Refusal::Error(code, text.into()))
}

fn reject(code: ErrorCode, text: impl Into<String>) -> Taken {
    Taken::Refused(Refusal::Reject(code, text.into()))
}

async fn take(ctx: &Ctx, now: Millis, text: &str, via: Via<'_>) -> Result<(), Taken> {
    let message = hl7v2::read_results(text, now).map_err(Taken::Refused)?;
    let community_id = match via {
        Via::Staff(actor) => actor.community_id,
        Via::Mllp(..) => {
            institutions::community_by_code(&ctx.db, &message.header.receiving_facility)
                .await?
                .ok_or_else(|| {
                    reject(
                        ErrorCode::TableValueNotFound,
                        "MSH-6 (receiving facility) is not a community known here",
                    )
                })?
        }
    };
    let sender =
        institutions::institution_by_code(&ctx.db, community_id, &message.header.sending_facility)
            .await?
            .ok_or_else(|| {
                reject(
                    ErrorCode::TableValueNotFound,
                    "MSH-4 (sending facility) is not a member institution",
                )
            })?;
    if let Via::Mllp(peer, allow) = via
        && !allow.admits(&message.header.sending_facility, peer)
    {
        tracing::warn!(%peer, facility = %message.header.sending_facility, "MLLP message refused: the facility may not send from this address");
        return Err(reject(
            ErrorCode::TableValueNotFound,
            "MSH-4 (sending facility) may not send from this address",
        ));
    }
    if let Via::Staff(actor) = via
        && actor.institution.map(|i| i.id) != Some(sender.id)
    {
        return Err(reject(
            ErrorCode::TableValueNotFound,
            "MSH-4 (sending facility) is not your institution",
        ));
    }
    let resident = find_resident(ctx, community_id, &message).await?;
    if let Via::Staff(actor) = via {
        resident::authorize(
            ctx,
            now,
            actor,
            &resident,
            Purpose::Results,
            Access::Write,
            "lab_report.create",
        )
        .await
        .map_err(|error| match error {
            resident::Error::Denied(_) => reject(
                ErrorCode::InternalError,
                "you may not write this resident's record",
            ),
            other => Taken::Failed(other.into()),
        })?;
    }
    let place = resident::store::place_of(&ctx.db, &resident).await?;
    let mut ordering = Vec::with_capacity(message.orders.len());
    for order in &message.orders {
        ordering.push(recipient(ctx, community_id, order, &resident, &place).await?);
    }

    let mut tx = ctx.db.begin().await?;
    let Some(message_id) = store::insert_message(
        &mut tx,
        community_id,
        sender.id,
        &message.header.control_id,
        &message.header.message_type,
        now,
    )
    .await?
    else {
        return Ok(()); // sent before: answered again, stored once
    };
    let mut reports = Vec::with_capacity(message.orders.len());
    for (order, &ordering_institution_id) in message.orders.iter().zip(&ordering) {
        let id = store::insert_lab_report(
            &mut tx,
            &store::NewLabReportRow {
                community_id,
                resident_id: resident.id,
                message_id,
                lab_institution_id: sender.id,
                ordering_institution_id,
                order,
                now_ms: now,
            },
        )
        .await?;
        reports.push((
            id,
            ordering_institution_id,
            order.results.iter().any(hl7v2::Result::critical),
        ));
    }
    let entries: Vec<Entry> = reports
        .iter()
        .map(|&(id, _, critical)| {
            let entry = match via {
                Via::Staff(actor) => {
                    Entry::by(actor, now, "lab_report.create", "lab_report", Some(id))
                }
                Via::Mllp(..) => Entry {
                    community_id,
                    at_ms: now,
                    actor_staff_id: None,
                    actor_institution_id: Some(sender.id),
                    action: "lab_report.create".into(),
                    resource: "lab_report".into(),
                    resource_id: Some(id),
                    resident_id: None,
                    outcome: Outcome::Allowed,
                    detail: String::new(),
                },
            };
            entry.about_resident(resident.id).detail(format!(
                "control_id={} critical={critical}",
                message.header.control_id
            ))
        })
        .collect();
    audit::store::append(&mut tx, &entries).await?;
    tx.commit().await?;
    for (id, institution, critical) in reports {
        let kind = if critical {
            "lab.critical"
        } else {
            "lab.reported"
        };
        // The lab centre hears of its own critical values too, to phone if nobody answers.
        let lab = critical.then_some(sender.id);
        for audience in std::iter::once(institution).chain(lab) {
            ctx.live.publish(Event {
                community_id,
                audience: Audience::Institution(audience),
                kind,
                id,
            });
        }
    }
    Ok(())
}

/// The institution a report goes to: the ordering facility (ORC-21) when it is a member whose
/// staff reach the resident, else the resident's own village clinic — also when the orderer is
/// outside the community (kept as the lab named it) — so that a result (and a critical value)
/// always reaches someone who may open the record, never nobody.
async fn recipient(
    ctx: &Ctx,
    community_id: i64,
    order: &hl7v2::Order,
    resident: &resident::model::Resident,
    place: &access::ResidentPlace,
) -> Result<i64, Taken> {
    let Some(code) = &order.ordering_facility else {
        return Ok(resident.village_clinic_id);
    };
    let Some(institution) = institutions::institution_by_code(&ctx.db, community_id, code).await?
    else {
        return Ok(resident.village_clinic_id);
    };
    let staff_reach = access::ActorInstitution {
        id: institution.id,
        kind: institution.kind,
        township_id: institution.township_id,
        service: None,
    };
    Ok(if access::institution_reaches(staff_reach, place) {
        institution.id
    } else {
        resident.village_clinic_id
    })
}

/// The resident named in PID-3: the first identifier that is a valid ID number of a resident
/// registered in the community.
async fn find_resident(
    ctx: &Ctx,
    community_id: i64,
    message: &Observations,
) -> Result<resident::model::Resident, Taken> {
    for text in &message.id_numbers {
        let Ok(id_number) = IdNumber::parse(text, crate::clock::today_cst()) else {
            continue;
        };
        if let Some(found) =
            resident::store::resident_by_id_number(&ctx.db, community_id, id_number.as_str())
                .await?
        {
            return Ok(found);
        }
    }
    Err(refuse(
        ErrorCode::UnknownKey,
        "unknown patient: no resident with the ID number in PID-3",
    ))
}

async fn load(ctx: &Ctx, actor: &Actor, id: i64) -> Result<LabReport, Error> {
    store::lab_report_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::ReportNotFound)
}

/// A lab report with its results, for those who may see its resident's clinical data.
pub async fn get(ctx: &Ctx, now: Millis, actor: &Actor, id: i64) -> Result<LabReport, Error> {
    let report = load(ctx, actor, id).await?;
    resident::load_authorized(
        ctx,
        now,
        actor,
        report.resident_id,
        Purpose::Clinical,
        Access::Read,
        "lab_report.read",
    )
    .await?;
    Ok(report)
}

/// The document embedded in one result (an ED value), through the same access check and audit
/// as the report.
pub async fn attachment(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    id: i64,
    position: i64,
) -> Result<(String, Vec<u8>), Error> {
    get(ctx, now, actor, id).await?;
    store::lab_attachment(&ctx.db, actor.community_id, id, position)
        .await?
        .ok_or(Error::ReportNotFound)
}

/// An attachment as an HTTP response: its media type, shown inline, never sniffed.
pub fn attachment_response(media_type: String, bytes: Vec<u8>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let media_type = axum::http::HeaderValue::from_str(&media_type).unwrap_or(
        axum::http::HeaderValue::from_static("application/octet-stream"),
    );
    (
        [
            (axum::http::header::CONTENT_TYPE, media_type),
            (
                axum::http::header::CONTENT_DISPOSITION,
                axum::http::HeaderValue::from_static("inline"),
            ),
            (
                axum::http::header::X_CONTENT_TYPE_OPTIONS,
                axum::http::HeaderValue::from_static("nosniff"),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Critical lab values of the actor's institution, those still to acknowledge first.
pub async fn critical_values(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    limit: i64,
    offset: i64,
) -> Result<Vec<LabReport>, Error> {
    let institution = actor.institution.ok_or(crate::access::Denied)?;
    if actor.scope(Purpose::Clinical, Access::Read) == crate::access::Scope::Nothing {
        return Err(crate::access::Denied.into());
    }
    let scope = actor.scope(Purpose::Clinical, Access::Read);
    let reports = store::critical_lab_reports_of(
        &ctx.db,
        actor.community_id,
        institution.id,
        scope,
        (limit, offset),
    )
    .await?;
    let entries = reports
        .iter()
        .map(|r| {
            Entry::by(
                actor,
                now,
                "lab_report.critical_values",
                "lab_report",
                Some(r.id),
            )
            .about_resident(r.resident_id)
        })
        .collect();
    ctx.auditor.record(entries).await?;
    Ok(reports)
}

/// The ordering institution confirms it has seen a critical value, closing the loop.
pub async fn acknowledge(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    id: i64,
) -> Result<LabReport, Error> {
    let report = load(ctx, actor, id).await?;
    if actor.institution.map(|i| i.id) != Some(report.ordering_institution_id) {
        return Err(crate::access::Denied.into());
    }
    resident::load_authorized(
        ctx,
        now,
        actor,
        report.resident_id,
        Purpose::Clinical,
        Access::Write,
        "lab_report.acknowledge",
    )
    .await?;
    let mut tx = ctx.db.begin().await?;
    store::acknowledge_lab_report(&mut tx, actor.community_id, id, actor.staff_id, now).await?;
    let entry = Entry::by(
        actor,
        now,
        "lab_report.acknowledged",
        "lab_report",
        Some(id),
    )
    .about_resident(report.resident_id);
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    load(ctx, actor, id).await
}

/// A resident's lab results, newest first, optionally of one result code and time range, each
/// with its report; one check and audit entry for the search, one per report read.
pub async fn results_of(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    resident_id: i64,
    code: Option<&str>,
    range: (Millis, Millis),
    (limit, offset): (i64, i64),
) -> Result<Vec<(LabReport, usize)>, Error> {
    resident::load_authorized(
        ctx,
        now,
        actor,
        resident_id,
        Purpose::Clinical,
        Access::Read,
        "lab_report.search",
    )
    .await?;
    let keys = store::lab_result_keys(
        &ctx.db,
        actor.community_id,
        resident_id,
        code,
        range,
        limit,
        offset,
    )
    .await?;
    let mut found: Vec<(LabReport, usize)> = Vec::with_capacity(keys.len());
    for (report_id, position) in keys {
        let report = match found.iter().find(|(r, _)| r.id == report_id) {
            Some((report, _)) => report.clone(),
            None => get(ctx, now, actor, report_id).await?,
        };
        found.push((report, position as usize - 1));
    }
    Ok(found)
}
