//! The shared imaging centre (医学影像诊断资源共享中心), "基层检查、上级诊断": a township's
//! modality sends its studies (DICOMweb STOW-RS), the county's readers find and fetch them
//! (QIDO-RS, WADO-RS), and each study is a case on the shared reading workflow
//! ([`crate::reading`]) like an ECG. Instances are kept byte for byte; the resident is the
//! one whose ID number the instance's Patient ID carries.

pub mod dicom;
pub mod dicomweb;
pub mod dimse;
pub mod http;
pub mod modality;
pub mod multipart;
pub mod mwl;
pub mod order;
pub mod render;
pub mod rendered;
pub mod store;
pub mod study;
pub mod templates;
pub mod unmatched;
pub mod views;

use futures_util::{StreamExt, TryStreamExt};

use crate::access::{Access, Actor, Purpose, Role};
use crate::audit::{self, Entry};
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::reading;
use crate::resident;

/// The imaging centre on the shared reading workflow.
pub const CENTRE: reading::Centre = reading::Centre {
    service: crate::institution::model::CentreService::Imaging,
    name: "imaging_study",
    cases: "imaging_studies",
    reports: "imaging_reports",
    case_column: "study_id",
    stat_target_ms: 30 * 60 * 1000,
    routine_target_ms: 24 * 60 * 60 * 1000,
    events: reading::Events {
        claimed: "imaging.claimed",
        reported: "imaging.reported",
        acknowledged: "imaging.acknowledged",
    },
};

/// Why one instance of a STOW request was not stored, with its DICOM failure reason
/// (PS3.4 Annex GG / PS3.18 Table 10.5.3-1).
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Refused(#[from] dicom::Refused),
    #[error("the study belongs to another resident")]
    OtherResident,
    #[error("an instance with this SOP Instance UID is held already, with other content")]
    Differs,
    #[error("the instance is for another study than the one addressed")]
    OtherStudy,
    #[error("access denied")]
    Denied,
}

impl Failure {
    /// The Failure Reason (0008,1197).
    pub fn reason_code(&self) -> u16 {
        match self {
            Failure::Refused(dicom::Refused::TooLarge) => 0xA700, // out of resources
            Failure::Refused(_) => 0xC000,                        // cannot understand
            Failure::OtherStudy => 0xA900, // data set does not match the request
            Failure::Differs => 0x0111,    // duplicate SOP instance
            Failure::OtherResident | Failure::Denied => 0x0110, // processing failure
        }
    }
}

/// The outcome of storing one instance.
pub enum Stored {
    /// Stored now, or already held (the same SOP instance sent again: nothing new).
    Stored {
        instance: Box<dicom::Instance>,
        new: bool,
    },
    /// Its Patient ID is no resident's: held for the imaging centre to assign.
    Held { instance: Box<dicom::Instance> },
    Failed {
        sop_class_uid: String,
        sop_instance_uid: String,
        failure: Failure,
    },
}

impl Stored {
    fn failed(failure: Failure, instance: &dicom::Instance) -> Stored {
        Stored::Failed {
            sop_class_uid: instance.sop_class_uid.clone(),
            sop_instance_uid: instance.sop_instance_uid.clone(),
            failure,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Denied(#[from] crate::access::Denied),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Audit(#[from] audit::Error),
    #[error(transparent)]
    Resident(#[from] resident::Error),
    #[error(transparent)]
    Archive(#[from] crate::archive::Error),
    #[error("no such study, series or instance")]
    NotFound,
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("another reader has claimed this study")]
    AlreadyClaimed,
    #[error("claim the study before reporting it")]
    NotClaimed,
    #[error("the study has no signed report yet")]
    NotReported,
    #[error("{0}")]
    BadRequest(String),
}

/// Requests whose instances are being read at once: reading is CPU work on the blocking pool,
/// and a few at a time keep the pool and the memory of large studies in bounds.
static READ_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Runs `work` (reading instances) on the blocking pool, a few requests at a time; `None`
/// when it could not run.
pub async fn on_read_pool<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let _slot = READ_SLOTS.acquire().await.ok()?;
    tokio::task::spawn_blocking(work).await.ok()
}

/// Each instance with what [`dicom::read`] makes of it.
pub fn read_all(files: Vec<Vec<u8>>) -> Vec<(Vec<u8>, Result<dicom::Instance, dicom::Refused>)> {
    files
        .into_iter()
        .map(|bytes| {
            let read = dicom::read(&bytes);
            (bytes, read)
        })
        .collect()
}

/// Reads instances on the blocking pool ([`on_read_pool`]); one that could not be read there
/// is refused as unreadable.
pub async fn read_on_pool(
    files: Vec<Vec<u8>>,
) -> Vec<(Vec<u8>, Result<dicom::Instance, dicom::Refused>)> {
    let count = files.len();
    on_read_pool(move || read_all(files))
        .await
        .unwrap_or_else(|| {
            (0..count)
                .map(|_| {
                    let refused = dicom::Refused::Unreadable("the reader stopped".into());
                    (Vec::new(), Err(refused))
                })
                .collect()
        })
}

/// Stores the instances of one STOW request or C-STORE (each with what [`dicom::read`] made
/// of it), each on its own: one bad instance does not keep the others out, and nothing of it
/// is stored. `study` is the study the request addressed. An instance whose Patient ID is no
/// resident's ID number is held for the imaging centre to assign ([`unmatched`]).
pub async fn store_instances(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    study: Option<&str>,
    parts: Vec<(Vec<u8>, Result<dicom::Instance, dicom::Refused>)>,
) -> Result<Vec<Stored>, Error> {
    let site = actor.institution.ok_or(crate::access::Denied)?;
    // A modality's machine account sends images as its interface; staff as clinical data.
    // Whoever may not store images for anyone stores nothing (nor holds any).
    let purpose = if actor.has_role(Role::ModalityInterface) {
        Purpose::Images
    } else {
        Purpose::Clinical
    };
    if actor.scope(purpose, Access::Write) == crate::access::Scope::Nothing {
        return Err(crate::access::Denied.into());
    }
    let mut outcomes: Vec<Option<Stored>> = Vec::with_capacity(parts.len());
    let mut readable = Vec::new(); // (slot, ID number, instance, bytes)
    for (bytes, read) in parts {
        let slot = outcomes.len();
        outcomes.push(None);
        let instance = match read {
            Ok(instance) => instance,
            Err(refused) => {
                outcomes[slot] = Some(Stored::Failed {
                    sop_class_uid: String::new(),
                    sop_instance_uid: String::new(),
                    failure: refused.into(),
                });
                continue;
            }
        };
        if study.is_some_and(|uid| uid != instance.study_instance_uid) {
            outcomes[slot] = Some(Stored::failed(Failure::OtherStudy, &instance));
            continue;
        }
        let id_number = instance.patient_id.trim().to_ascii_uppercase();
        readable.push((slot, id_number, instance, bytes));
    }
    // The residents the instances are for, looked up together and each authorised once.
    let mut id_numbers: Vec<String> = readable.iter().map(|(_, n, _, _)| n.clone()).collect();
    id_numbers.sort_unstable();
    id_numbers.dedup();
    let residents =
        resident::store::residents_by_id_numbers(&ctx.db, actor.community_id, &id_numbers).await?;
    let mut waiting = Vec::new(); // (slot, resident index, instance, bytes)
    for (slot, id_number, instance, bytes) in readable {
        match residents.iter().position(|r| r.id_number == id_number) {
            Some(index) => waiting.push((slot, index, instance, bytes)),
            None => {
                unmatched::hold(ctx, now, actor, site.id, &instance, bytes).await?;
                outcomes[slot] = Some(Stored::Held {
                    instance: Box::new(instance),
                });
            }
        }
    }
    let allowed = resident::authorize_all(
        ctx,
        now,
        actor,
        &residents,
        purpose,
        Access::Write,
        "imaging_study.store",
    )
    .await?;
    let mut slots = Vec::new();
    let mut filings = Vec::new();
    for (slot, index, instance, bytes) in waiting {
        if !allowed[index] {
            outcomes[slot] = Some(Stored::failed(Failure::Denied, &instance));
            continue;
        }
        let filing = Filing {
            site: site.id,
            stored_by: actor.staff_id,
            resident: residents[index].id,
        };
        slots.push(slot);
        filings.push((filing, instance, bytes));
    }
    for (slot, stored) in slots
        .into_iter()
        .zip(file_all(ctx, now, actor, filings).await?)
    {
        outcomes[slot] = Some(stored);
    }
    Ok(outcomes
        .into_iter()
        .map(|stored| stored.expect("every instance has its outcome"))
        .collect())
}

/// The bytes of one of the community's instances, from the archive.
pub async fn content_of(ctx: &Ctx, community_id: i64, instance_id: i64) -> Result<Vec<u8>, Error> {
    let digest = store::digest_of(&ctx.db, community_id, instance_id).await?;
    Ok(ctx.archive.get(&digest).await?)
}

/// Where an instance is filed: the site that sent it, who stored it, whose it is.
pub struct Filing {
    pub site: i64,
    pub stored_by: i64,
    pub resident: i64,
}

/// Files one checked instance ([`file_all`]).
pub async fn file(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    filing: Filing,
    instance: dicom::Instance,
    bytes: Vec<u8>,
) -> Result<Stored, Error> {
    let mut stored = file_all(ctx, now, actor, vec![(filing, instance, bytes)]).await?;
    Ok(stored.remove(0))
}

/// Files checked instances for residents whose records the actor may write, their outcomes in
/// order: the same instance again (in any transfer syntax) is held once, other content under
/// its UID is refused; the bytes go to the archive (all at once), then every new instance is
/// recorded in one transaction — the first instance of a study creates it and files it to its
/// order. An instance whose UID came earlier in the same batch is filed after it, as a copy.
pub async fn file_all(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    instances: Vec<(Filing, dicom::Instance, Vec<u8>)>,
) -> Result<Vec<Stored>, Error> {
    let mut outcomes: Vec<Option<Stored>> = (0..instances.len()).map(|_| None).collect();
    let mut remaining: Vec<(usize, Filing, dicom::Instance, Vec<u8>)> = instances
        .into_iter()
        .enumerate()
        .map(|(slot, (filing, instance, bytes))| (slot, filing, instance, bytes))
        .collect();
    while !remaining.is_empty() {
        // A round takes each SOP Instance UID once; repeats wait for the next round.
        let mut round = Vec::new();
        let mut later = Vec::new();
        let mut uids = std::collections::HashSet::new();
        for item in remaining {
            if uids.insert(item.2.sop_instance_uid.clone()) {
                round.push(item);
            } else {
                later.push(item);
            }
        }
        remaining = later;
        for (slot, stored) in file_round(ctx, now, actor, round).await? {
            outcomes[slot] = Some(stored);
        }
    }
    Ok(outcomes
        .into_iter()
        .map(|stored| stored.expect("every instance has its outcome"))
        .collect())
}

/// One round of [`file_all`]: instances of distinct SOP Instance UIDs.
async fn file_round(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    round: Vec<(usize, Filing, dicom::Instance, Vec<u8>)>,
) -> Result<Vec<(usize, Stored)>, Error> {
    let uids: Vec<String> = round
        .iter()
        .map(|(_, _, instance, _)| instance.sop_instance_uid.clone())
        .collect();
    let held = store::digests_by_sop(&ctx.db, actor.community_id, &uids).await?;
    let mut outcomes = Vec::with_capacity(round.len());
    let mut new = Vec::new();
    for (slot, filing, instance, bytes) in round {
        let Some(digest) = held.get(&instance.sop_instance_uid).cloned() else {
            new.push((slot, filing, instance, bytes));
            continue;
        };
        // Compared on the blocking pool, before any write: the same bytes at once, else decoded.
        let archive = ctx.archive.clone();
        let same = on_read_pool(move || {
            if crate::archive::digest(&bytes) == digest {
                return Ok(true);
            }
            let held = archive.get_blocking(&digest)?;
            Ok::<_, crate::archive::Error>(dicom::same_instance(&held, &bytes))
        })
        .await;
        outcomes.push((
            slot,
            match same {
                Some(Ok(true)) => Stored::Stored {
                    instance: Box::new(instance),
                    new: false,
                },
                Some(Err(error)) => return Err(error.into()),
                _ => Stored::failed(Failure::Differs, &instance),
            },
        ));
    }
    if new.is_empty() {
        return Ok(outcomes);
    }
    // The files first, eight written side by side: a row never names a file not on the disk.
    let mut contents = Vec::with_capacity(new.len());
    let mut recorded = Vec::with_capacity(new.len());
    for (slot, filing, instance, bytes) in new {
        let size = bytes.len() as i64;
        contents.push(async move {
            let sha256 = ctx.archive.put(bytes).await?;
            Ok::<_, crate::archive::Error>(store::Content { sha256, size })
        });
        recorded.push((slot, filing, instance));
    }
    let contents: Vec<store::Content> = futures_util::stream::iter(contents)
        .buffered(8)
        .try_collect()
        .await?;
    let mut tx = ctx.db.begin().await?;
    let mut entries = Vec::new();
    let mut studies = Vec::new();
    for ((slot, filing, instance), content) in recorded.into_iter().zip(contents) {
        let study = store::insert_study(
            &mut tx,
            actor.community_id,
            filing.resident,
            filing.site,
            &instance,
            now,
        )
        .await?;
        if study.resident_id != filing.resident {
            outcomes.push((slot, Stored::failed(Failure::OtherResident, &instance)));
            continue;
        }
        if study.created {
            order::file_study(
                &mut tx,
                actor.community_id,
                filing.resident,
                &instance.accession_number,
                study.id,
            )
            .await?;
        }
        let study_id = study.id;
        let new = store::insert_instance(
            &mut tx,
            actor.community_id,
            study_id,
            filing.stored_by,
            &instance,
            &content,
            now,
        )
        .await?;
        if new {
            entries.push(
                Entry::by(
                    actor,
                    now,
                    "imaging_study.instance.stored",
                    "imaging_study",
                    Some(study_id),
                )
                .about_resident(filing.resident)
                .detail(format!("sop_instance_uid={}", instance.sop_instance_uid)),
            );
            if !studies.contains(&study_id) {
                studies.push(study_id);
            }
        }
        outcomes.push((
            slot,
            Stored::Stored {
                instance: Box::new(instance),
                new,
            },
        ));
    }
    audit::store::append(&mut tx, &entries).await?;
    tx.commit().await?;
    for study_id in studies {
        reading::publish(
            ctx,
            actor,
            "imaging.stored",
            study_id,
            crate::live::Audience::Readers,
        );
    }
    Ok(outcomes)
}

/// The studies, series or instances a QIDO-RS search may show the actor: those whose
/// resident the actor may read, each audited as read.
pub async fn visible<T>(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    rows: Vec<(i64, crate::access::ResidentPlace, T)>,
    action: &str,
) -> Result<Vec<T>, Error> {
    if !actor.is_staff() {
        return Err(crate::access::Denied.into());
    }
    let mut entries = Vec::new();
    let mut shown = Vec::with_capacity(rows.len());
    for (study_id, place, row) in rows {
        if crate::access::check(actor, Purpose::Clinical, Access::Read, &place).is_ok() {
            entries.push(
                Entry::by(actor, now, action, "imaging_study", Some(study_id))
                    .about_resident(place.resident_id),
            );
            shown.push(row);
        }
    }
    ctx.auditor.record(entries).await?;
    Ok(shown)
}
