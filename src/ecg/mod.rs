//! The ECG network (心电一张网): an ECG uploaded at any clinic is analysed at once, queued on
//! the community's reading worklist (STAT first), claimed by one reader, reported and signed,
//! and sent back to the site, which acknowledges a critical report. The signal analysis itself
//! lives in the `yijia-ecg` crate; this module stores, routes and guards.

pub mod cli;
pub mod http;
pub mod model;
pub mod store;
pub mod svg;
pub mod upload;
pub mod views;

use yijia_ecg::analysis::{Patient, Sex};
use yijia_ecg::formats::{self, Format, Unreadable};
use yijia_ecg::{Analysis, Waveform};

use crate::access::{Access, Actor, Purpose};
use crate::audit::{self, Entry};
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::live::Audience;
use crate::reading;
use crate::resident::{self, model::Resident};
use model::{Ecg, EcgDetail, NewReport, Priority, ResidentRef, State, Upload, WorklistItem};

/// The ECG centre on the shared reading workflow.
pub const CENTRE: reading::Centre = reading::Centre {
    service: crate::institution::model::CentreService::Ecg,
    name: "ecg",
    cases: "ecgs",
    reports: "ecg_reports",
    case_column: "ecg_id",
    stat_target_ms: model::STAT_TARGET_MS,
    routine_target_ms: model::ROUTINE_TARGET_MS,
    events: reading::Events {
        claimed: "ecg.claimed",
        reported: "ecg.reported",
        acknowledged: "ecg.acknowledged",
    },
};

/// The largest upload accepted, all files together.
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the ECG file cannot be read: {0}")]
    Unreadable(String),
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("this Idempotency-Key was used for another upload (another resident or file)")]
    IdempotencyKeyReused,
    #[error("no such ECG")]
    NotFound,
    #[error("another reader has claimed this ECG")]
    AlreadyClaimed,
    #[error("claim the ECG before reporting it")]
    NotClaimed,
    #[error("the ECG has no signed report yet")]
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

impl From<reading::Error> for Error {
    fn from(error: reading::Error) -> Error {
        match error {
            reading::Error::Invalid { field, reason } => Error::Invalid { field, reason },
            reading::Error::NotFound => Error::NotFound,
            reading::Error::AlreadyClaimed => Error::AlreadyClaimed,
            reading::Error::NotClaimed => Error::NotClaimed,
            reading::Error::NotReported => Error::NotReported,
            reading::Error::Resident(error) => Error::Resident(error),
            reading::Error::Denied(denied) => Error::Denied(denied),
            reading::Error::Db(error) => Error::Db(error),
            reading::Error::Audit(error) => Error::Audit(error),
        }
    }
}

fn unreadable(error: Unreadable) -> Error {
    Error::Unreadable(error.to_string())
}

/// Reads the uploaded files: one DICOM, aECG or JSON file, or a WFDB header with its data.
fn read_files(files: &[(String, Vec<u8>)]) -> Result<(Format, Waveform), Error> {
    let total: usize = files.iter().map(|(_, bytes)| bytes.len()).sum();
    if total > MAX_UPLOAD_BYTES {
        return Err(Error::Unreadable(format!(
            "the upload is larger than {} MiB",
            MAX_UPLOAD_BYTES >> 20
        )));
    }
    formats::read_files(files).map_err(unreadable)
}

fn patient_of(resident: &Resident, today: time::Date) -> Patient {
    let sex = match resident.sex {
        resident::model::Sex::Male => Sex::Male,
        resident::model::Sex::Female => Sex::Female,
    };
    Patient {
        sex,
        age_years: resident.age_on(today).max(0) as u32,
    }
}

/// Samples as stored: i32 little-endian, lead after lead.
pub(crate) fn encode_samples(waveform: &Waveform) -> Vec<u8> {
    waveform
        .leads
        .iter()
        .flat_map(|l| l.samples_uv.iter().flat_map(|v| v.to_le_bytes()))
        .collect()
}

async fn find_resident(
    ctx: &Ctx,
    actor: &Actor,
    reference: &ResidentRef,
) -> Result<Resident, Error> {
    let found = match reference {
        ResidentRef::Id(id) => {
            resident::store::resident_by_id(&ctx.db, actor.community_id, *id).await?
        }
        ResidentRef::IdNumber(text) => {
            resident::store::resident_by_id_number(
                &ctx.db,
                actor.community_id,
                &text.trim().to_ascii_uppercase(),
            )
            .await?
        }
    };
    Ok(found.ok_or(resident::Error::NotFound)?)
}

async fn load(ctx: &Ctx, actor: &Actor, id: i64) -> Result<Ecg, Error> {
    store::ecg_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::NotFound)
}

/// Checks the actor may see (or change) the ECG's resident's clinical data, and records it.
async fn authorize(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    ecg: &Ecg,
    access: Access,
    action: &str,
) -> Result<(), Error> {
    resident::load_authorized(
        ctx,
        now,
        actor,
        ecg.resident_id,
        Purpose::Clinical,
        access,
        action,
    )
    .await?;
    Ok(())
}

/// Digital ECG carts came after 1990; a recording cannot come from tomorrow.
fn check_recorded_at(at: Millis, now: Millis) -> Result<(), Error> {
    const EARLIEST_RECORDING_MS: Millis = 631_152_000_000;
    if (EARLIEST_RECORDING_MS..=now + 86_400_000).contains(&at) {
        Ok(())
    } else {
        Err(Error::Invalid {
            field: "recorded_at",
            reason: "must lie between 1990 and a day from now",
        })
    }
}

/// Stores and analyses an upload. A retry with the same idempotency key returns the ECG of the
/// first attempt (`false`: nothing new was created).
pub async fn upload(
    ctx: &Ctx,
    now: Millis,
    today: time::Date,
    actor: &Actor,
    mut upload: Upload,
) -> Result<(Ecg, bool), Error> {
    let site = actor.institution.ok_or(crate::access::Denied)?;
    if let Some(key) = &upload.idempotency_key
        && (key.is_empty() || key.len() > 200)
    {
        return Err(Error::Invalid {
            field: "Idempotency-Key",
            reason: "1 to 200 characters",
        });
    }
    if let Some(at) = upload.recorded_at_ms {
        check_recorded_at(at, now)?;
    }
    if upload.clinical_note.chars().count() > 2000 {
        return Err(Error::Invalid {
            field: "clinical_note",
            reason: "at most 2000 characters",
        });
    }
    let resident = find_resident(ctx, actor, &upload.resident).await?;
    let original = pack_files(&upload.files);
    let digest = store::digest(&original);
    if let Some(existing) = retried(
        ctx,
        actor,
        upload.idempotency_key.as_deref(),
        resident.id,
        &digest,
    )
    .await?
    {
        authorize(ctx, now, actor, &existing, Access::Read, "ecg.upload.retry").await?;
        return Ok((existing, false));
    }
    resident::authorize(
        ctx,
        now,
        actor,
        &resident,
        Purpose::Clinical,
        Access::Write,
        "ecg.upload",
    )
    .await?;
    let patient = patient_of(&resident, today);
    let original_name = upload
        .files
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join("+");
    let files = std::mem::take(&mut upload.files);
    let (format, waveform, analysis) = read_and_analyse(files, patient).await?;
    // Not given: the time the file states, in China Standard Time unless it says otherwise.
    let recorded_at_ms = match upload.recorded_at_ms {
        Some(at) => at,
        None => waveform
            .recorded_at
            .and_then(|stated| crate::clock::parse_time(&stated.rfc3339(8 * 60)))
            .ok_or(Error::Invalid {
                field: "recorded_at",
                reason: "the file does not say when it was recorded: give recorded_at",
            })?,
    };
    check_recorded_at(recorded_at_ms, now)?;
    let priority = if analysis.critical {
        Priority::Stat
    } else {
        Priority::Routine
    };
    let analysis_json = serde_json::to_string(&analysis)
        .map_err(|_| Error::Unreadable("the analysis failed".into()))?;
    let row = store::NewRow {
        community_id: actor.community_id,
        resident_id: resident.id,
        site_institution_id: site.id,
        uploaded_by_staff_id: actor.staff_id,
        idempotency_key: upload.idempotency_key.as_deref(),
        recorded_at_ms,
        received_at_ms: now,
        clinical_note: upload.clinical_note.trim(),
        format: format.as_str(),
        original_name: &original_name,
        recording: store::Recording::of(original, &waveform),
        analysis: analysis_json,
        priority: priority.as_str(),
        auto_critical: analysis.critical,
        critical_reasons: analysis.critical_reasons.join("\n"),
    };
    let mut tx = ctx.db.begin().await?;
    let id = match store::insert_ecg(&mut tx, row).await {
        Ok(id) => id,
        Err(error)
            if crate::db::is_unique_violation(
                &error,
                "ecgs_idempotency_unique",
                "ecgs.idempotency_key",
            ) =>
        {
            // A concurrent retry won the race; answer with its ECG.
            drop(tx);
            let existing = retried(
                ctx,
                actor,
                upload.idempotency_key.as_deref(),
                resident.id,
                &digest,
            )
            .await?
            .ok_or(Error::NotFound)?;
            return Ok((existing, false));
        }
        Err(error) => return Err(error.into()),
    };
    let entry = Entry::by(actor, now, "ecg.create", "ecg", Some(id))
        .about_resident(resident.id)
        .detail(format!("priority={}", priority.as_str()));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    reading::publish(ctx, actor, "ecg.uploaded", id, Audience::Readers);
    Ok((load(ctx, actor, id).await?, true))
}

/// The ECG an earlier attempt with the same idempotency key created, if any. The key names one
/// request: sent again with another resident or another file it is refused, and nothing of
/// the second request is stored.
async fn retried(
    ctx: &Ctx,
    actor: &Actor,
    key: Option<&str>,
    resident_id: i64,
    digest: &str,
) -> Result<Option<Ecg>, Error> {
    let Some(key) = key else {
        return Ok(None);
    };
    let Some((existing, existing_digest)) =
        store::ecg_by_idempotency_key(&ctx.db, actor.community_id, actor.staff_id, key).await?
    else {
        return Ok(None);
    };
    if existing.resident_id != resident_id || existing_digest != digest {
        return Err(Error::IdempotencyKeyReused);
    }
    Ok(Some(existing))
}

/// Uploads read and analysed at once; more wait. Reading and analysing run on the blocking
/// pool, never on the async workers, so a hard file cannot stall other requests, and at most
/// this many recordings (each at most `yijia_ecg::MAX_SAMPLES`) are in memory at a time.
static READ_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

async fn read_and_analyse(
    files: Vec<(String, Vec<u8>)>,
    patient: Patient,
) -> Result<(Format, Waveform, Analysis), Error> {
    let _slot = READ_SLOTS
        .acquire()
        .await
        .map_err(|_| Error::Unreadable("the reader has stopped".into()))?;
    tokio::task::spawn_blocking(move || {
        let (format, waveform) = read_files(&files)?;
        let analysis = yijia_ecg::analyze(&waveform, Some(patient));
        Ok((format, waveform, analysis))
    })
    .await
    .map_err(|_| Error::Unreadable("the analysis failed".into()))?
}

/// The uploaded files as one blob: for each file, its name length (u16), name, byte length
/// (u64) and bytes, all little-endian. A single file is stored as it came.
fn pack_files(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    if let [(_, bytes)] = files {
        return bytes.clone();
    }
    let mut packed = Vec::new();
    for (name, bytes) in files {
        packed.extend((name.len() as u16).to_le_bytes());
        packed.extend(name.as_bytes());
        packed.extend((bytes.len() as u64).to_le_bytes());
        packed.extend(bytes);
    }
    packed
}

/// An ECG with its analysis and reports.
pub async fn get(ctx: &Ctx, now: Millis, actor: &Actor, id: i64) -> Result<EcgDetail, Error> {
    let ecg = load(ctx, actor, id).await?;
    authorize(ctx, now, actor, &ecg, Access::Read, "ecg.read").await?;
    let analysis =
        serde_json::from_str(&store::analysis_of(&ctx.db, actor.community_id, id).await?)
            .unwrap_or_default();
    let reports = reading::store::reports_of(&ctx.db, &CENTRE, actor.community_id, id)
        .await?
        .into_iter()
        .map(model::Report::from)
        .collect();
    let due_at_ms = ecg.due_at_ms();
    let overdue = ecg.state != State::Reported && now > due_at_ms;
    Ok(EcgDetail {
        ecg,
        due_at_ms,
        overdue,
        analysis,
        reports,
    })
}

/// The canonical waveform of an ECG.
pub async fn waveform(ctx: &Ctx, now: Millis, actor: &Actor, id: i64) -> Result<Waveform, Error> {
    let ecg = load(ctx, actor, id).await?;
    authorize(ctx, now, actor, &ecg, Access::Read, "ecg.waveform.read").await?;
    let (sampling_hz, names, bytes) = store::waveform_of(&ctx.db, actor.community_id, id).await?;
    let names: Vec<&str> = names.split('\n').collect();
    let per_lead = bytes.len() / 4 / names.len().max(1);
    let leads = names
        .iter()
        .enumerate()
        .map(|(index, name)| yijia_ecg::Lead {
            name: (*name).to_owned(),
            samples_uv: bytes[index * per_lead * 4..(index + 1) * per_lead * 4]
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        })
        .collect();
    Ok(Waveform {
        sampling_hz,
        leads,
        non_ecg_channels: Vec::new(),
        ..Default::default()
    })
}

/// The reading worklist of the community's ECG centre: STAT first, then by waiting time.
pub async fn worklist(ctx: &Ctx, now: Millis, actor: &Actor) -> Result<Vec<WorklistItem>, Error> {
    reading::require_reader(&CENTRE, actor)?;
    let rows = store::worklist(&ctx.db, actor.community_id).await?;
    let mut entries = Vec::with_capacity(rows.len());
    let mut items = Vec::with_capacity(rows.len());
    for (ecg, resident_name, site_name, automatic_findings) in rows {
        entries.push(
            Entry::by(actor, now, "ecg.worklist", "ecg", Some(ecg.id))
                .about_resident(ecg.resident_id),
        );
        let due_at_ms = ecg.due_at_ms();
        items.push(WorklistItem {
            overdue: now > due_at_ms,
            waiting_ms: now - ecg.received_at_ms,
            due_at_ms,
            resident_name,
            site_name,
            automatic_findings,
            ecg,
        });
    }
    ctx.auditor.record(entries).await?;
    Ok(items)
}

/// A reader takes an ECG; no two readers hold one.
pub async fn claim(ctx: &Ctx, now: Millis, actor: &Actor, id: i64) -> Result<Ecg, Error> {
    reading::claim(ctx, &CENTRE, now, actor, id).await?;
    load(ctx, actor, id).await
}

/// The reader who holds the ECG signs a report; a signed ECG can only be amended, by a new
/// signed version.
pub async fn sign_report(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    id: i64,
    report: &NewReport,
) -> Result<EcgDetail, Error> {
    reading::sign(ctx, &CENTRE, now, actor, id, report).await?;
    get(ctx, now, actor, id).await
}

/// ECGs uploaded at the actor's institution, newest first, with their reports' state.
pub async fn inbox(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    limit: i64,
    offset: i64,
) -> Result<Vec<Ecg>, Error> {
    let site = actor.institution.ok_or(crate::access::Denied)?;
    if actor.scope(Purpose::Clinical, Access::Read) == crate::access::Scope::Nothing {
        return Err(crate::access::Denied.into());
    }
    let ecgs = store::site_inbox(&ctx.db, actor.community_id, site.id, limit, offset).await?;
    let entries = ecgs
        .iter()
        .map(|e| {
            Entry::by(actor, now, "ecg.inbox", "ecg", Some(e.id)).about_resident(e.resident_id)
        })
        .collect();
    ctx.auditor.record(entries).await?;
    Ok(ecgs)
}

/// The site confirms it has seen the signed report (closing the critical-value loop).
pub async fn acknowledge(ctx: &Ctx, now: Millis, actor: &Actor, id: i64) -> Result<Ecg, Error> {
    reading::acknowledge(ctx, &CENTRE, now, actor, id).await?;
    load(ctx, actor, id).await
}
