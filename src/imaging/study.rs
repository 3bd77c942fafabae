//! Imaging studies as cases of the shared reading workflow: the imaging centre's worklist, a
//! study with its series and reports, claim, sign, acknowledge, and the site's inbox.

use serde::Serialize;
use sqlx::Row;

use super::{CENTRE, Error};
use crate::access::{Access, Actor, Purpose};
use crate::audit::Entry;
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::reading::{self, NewReport, Priority, State};

/// A study as the workflow and the pages show it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Study {
    pub id: i64,
    pub resident_id: i64,
    pub site_institution_id: i64,
    pub study_instance_uid: String,
    pub accession_number: String,
    pub study_date: String,
    pub study_description: String,
    pub received_at_ms: i64,
    #[sqlx(try_from = "String")]
    pub priority: Priority,
    #[sqlx(try_from = "String")]
    pub state: State,
    pub claimed_by_staff_id: Option<i64>,
    pub reported_at_ms: Option<i64>,
    pub acknowledged_at_ms: Option<i64>,
    #[sqlx(try_from = "i64")]
    pub report_critical: crate::institution::model::Flag,
    pub escalated_at_ms: Option<i64>,
}

const COLUMNS: &str = "s.id, s.resident_id, s.site_institution_id, s.study_instance_uid, \
    s.accession_number, s.study_date, s.study_description, s.received_at_ms, s.priority, s.state, \
    s.claimed_by_staff_id, s.reported_at_ms, s.acknowledged_at_ms, s.report_critical, s.escalated_at_ms";

/// One series of a study, with its instances in order.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Series {
    pub series_instance_uid: String,
    pub modality: String,
    pub description: String,
    pub body_part: String,
    pub instances: Vec<InstanceSummary>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct InstanceSummary {
    pub id: i64,
    pub sop_instance_uid: String,
    pub sop_class_uid: String,
    pub instance_number: Option<i64>,
    pub frames: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub version: i64,
    pub findings: String,
    pub conclusion: String,
    pub critical: bool,
    pub reader_name: String,
    pub signed_at_ms: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StudyDetail {
    #[serde(flatten)]
    pub study: Study,
    pub due_at_ms: i64,
    pub overdue: bool,
    pub series: Vec<Series>,
    pub reports: Vec<Report>,
}

/// A line of the worklist or the inbox.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StudyItem {
    #[serde(flatten)]
    pub study: Study,
    pub resident_name: String,
    pub site_name: String,
    pub modalities: String,
    pub due_at_ms: i64,
    pub overdue: bool,
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

async fn items(
    ctx: &Ctx,
    now: Millis,
    sql_where: &str,
    binds: &[i64],
) -> Result<Vec<StudyItem>, Error> {
    let query = format!(
        "SELECT {COLUMNS}, r.name AS resident_name, i.name AS site_name, \
         (SELECT MIN(m.modality) FROM imaging_instances m WHERE m.study_id = s.id) AS modalities \
         FROM imaging_studies s JOIN residents r ON r.id = s.resident_id \
         JOIN institutions i ON i.id = s.site_institution_id WHERE {sql_where} LIMIT 200"
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(query));
    for bind in binds {
        query = query.bind(*bind);
    }
    let rows = query.fetch_all(&ctx.db.pool).await?;
    rows.iter()
        .map(|row| {
            let study = <Study as sqlx::FromRow<_>>::from_row(row)?;
            let due_at_ms = CENTRE.due_at_ms(study.priority, study.received_at_ms);
            Ok(StudyItem {
                overdue: study.state != State::Reported && now > due_at_ms,
                due_at_ms,
                resident_name: row.try_get("resident_name")?,
                site_name: row.try_get("site_name")?,
                modalities: row
                    .try_get::<Option<String>, _>("modalities")?
                    .unwrap_or_default(),
                study,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Error::from)
}

/// The imaging centre's worklist: STAT first, then the longest waiting.
pub async fn worklist(ctx: &Ctx, now: Millis, actor: &Actor) -> Result<Vec<StudyItem>, Error> {
    reading::require_reader(&CENTRE, actor)?;
    let where_ = format!(
        "s.community_id = $1 AND {} ORDER BY {}",
        reading::store::OPEN,
        reading::store::WORKLIST_ORDER
    )
    .replace("e.", "s.");
    let items = items(ctx, now, &where_, &[actor.community_id]).await?;
    let entries = items
        .iter()
        .map(|i| {
            Entry::by(
                actor,
                now,
                "imaging_study.worklist",
                "imaging_study",
                Some(i.study.id),
            )
            .about_resident(i.study.resident_id)
        })
        .collect();
    ctx.auditor.record(entries).await?;
    Ok(items)
}

/// Studies sent from the actor's institution, newest first.
pub async fn inbox(ctx: &Ctx, now: Millis, actor: &Actor) -> Result<Vec<StudyItem>, Error> {
    let site = actor.institution.ok_or(crate::access::Denied)?;
    if actor.scope(Purpose::Clinical, Access::Read) == crate::access::Scope::Nothing {
        return Err(crate::access::Denied.into());
    }
    let items = items(
        ctx,
        now,
        "s.community_id = $1 AND s.site_institution_id = $2 ORDER BY s.received_at_ms DESC, s.id DESC",
        &[actor.community_id, site.id],
    )
    .await?;
    let entries = items
        .iter()
        .map(|i| {
            Entry::by(
                actor,
                now,
                "imaging_study.inbox",
                "imaging_study",
                Some(i.study.id),
            )
            .about_resident(i.study.resident_id)
        })
        .collect();
    ctx.auditor.record(entries).await?;
    Ok(items)
}

async fn load(ctx: &Ctx, actor: &Actor, id: i64) -> Result<Study, Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM imaging_studies s WHERE s.community_id = $1 AND s.id = $2"
    )))
    .bind(actor.community_id)
    .bind(id)
    .fetch_optional(&ctx.db.pool)
    .await?
    .ok_or(Error::NotFound)
}

/// A study with its series, instances and reports; a read of its resident.
pub async fn get(ctx: &Ctx, now: Millis, actor: &Actor, id: i64) -> Result<StudyDetail, Error> {
    let study = load(ctx, actor, id).await?;
    crate::resident::load_authorized(
        ctx,
        now,
        actor,
        study.resident_id,
        Purpose::Clinical,
        Access::Read,
        "imaging_study.read",
    )
    .await?;
    let rows = sqlx::query(
        "SELECT id, series_instance_uid, modality, series_description, body_part, sop_instance_uid, \
         sop_class_uid, instance_number, frames FROM imaging_instances WHERE community_id = $1 AND study_id = $2 \
         ORDER BY series_number, series_instance_uid, instance_number, id",
    )
    .bind(actor.community_id)
    .bind(id)
    .fetch_all(&ctx.db.pool)
    .await?;
    let mut series: Vec<Series> = Vec::new();
    for row in rows {
        let uid: String = row.try_get("series_instance_uid")?;
        let instance = InstanceSummary {
            id: row.try_get("id")?,
            sop_instance_uid: row.try_get("sop_instance_uid")?,
            sop_class_uid: row.try_get("sop_class_uid")?,
            instance_number: row.try_get("instance_number")?,
            frames: row.try_get::<Option<i64>, _>("frames")?.unwrap_or(1).max(1),
        };
        match series.iter_mut().find(|s| s.series_instance_uid == uid) {
            Some(found) => found.instances.push(instance),
            None => series.push(Series {
                series_instance_uid: uid,
                modality: row.try_get("modality")?,
                description: row.try_get("series_description")?,
                body_part: row.try_get("body_part")?,
                instances: vec![instance],
            }),
        }
    }
    let reports = reading::store::reports_of(&ctx.db, &CENTRE, actor.community_id, id)
        .await?
        .into_iter()
        .map(|r| Report {
            version: r.version,
            findings: r.findings,
            conclusion: r.conclusion,
            critical: r.critical.0,
            reader_name: r.reader_name,
            signed_at_ms: r.signed_at_ms,
        })
        .collect();
    let due_at_ms = CENTRE.due_at_ms(study.priority, study.received_at_ms);
    Ok(StudyDetail {
        overdue: study.state != State::Reported && now > due_at_ms,
        due_at_ms,
        study,
        series,
        reports,
    })
}

/// A resident's studies, newest first (at most 1,000), each read as [`get`] reads it.
pub async fn of_resident(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    resident_id: i64,
) -> Result<Vec<StudyDetail>, Error> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM imaging_studies WHERE community_id = $1 AND resident_id = $2 \
         ORDER BY received_at_ms DESC, id DESC LIMIT 1000",
    )
    .bind(actor.community_id)
    .bind(resident_id)
    .fetch_all(&ctx.db.pool)
    .await?;
    let mut studies = Vec::with_capacity(ids.len());
    for id in ids {
        studies.push(get(ctx, now, actor, id).await?);
    }
    Ok(studies)
}

pub async fn claim(ctx: &Ctx, now: Millis, actor: &Actor, id: i64) -> Result<StudyDetail, Error> {
    reading::claim(ctx, &CENTRE, now, actor, id).await?;
    get(ctx, now, actor, id).await
}

pub async fn sign(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    id: i64,
    report: &NewReport,
) -> Result<StudyDetail, Error> {
    reading::sign(ctx, &CENTRE, now, actor, id, report).await?;
    get(ctx, now, actor, id).await
}

pub async fn acknowledge(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    id: i64,
) -> Result<StudyDetail, Error> {
    reading::acknowledge(ctx, &CENTRE, now, actor, id).await?;
    get(ctx, now, actor, id).await
}

/// An instance's content for the viewer, after the access check on its study's resident
/// (audited as `action`).
async fn authorized_content(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    instance_id: i64,
    action: &str,
) -> Result<Vec<u8>, Error> {
    let row = sqlx::query(
        "SELECT i.content_sha256, s.resident_id FROM imaging_instances i JOIN imaging_studies s ON s.id = i.study_id \
         WHERE i.community_id = $1 AND i.id = $2",
    )
    .bind(actor.community_id)
    .bind(instance_id)
    .fetch_optional(&ctx.db.pool)
    .await?
    .ok_or(Error::NotFound)?;
    crate::resident::load_authorized(
        ctx,
        now,
        actor,
        row.try_get("resident_id")?,
        Purpose::Clinical,
        Access::Read,
        action,
    )
    .await?;
    let digest: String = row.try_get("content_sha256")?;
    Ok(ctx.archive.get(&digest).await?)
}

/// One frame of an instance rendered for the viewer; a read of the study's resident.
pub async fn rendered(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    instance_id: i64,
    rendering: super::render::Rendering,
) -> Result<Result<Vec<u8>, super::render::Unrenderable>, Error> {
    let content = authorized_content(ctx, now, actor, instance_id, "imaging_study.render").await?;
    super::render::on_pool(content, rendering).await
}

/// What the viewer measures and windows with: the instance's size, pixel spacing and window.
pub async fn geometry(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    instance_id: i64,
) -> Result<super::dicom::Geometry, Error> {
    let content = authorized_content(ctx, now, actor, instance_id, "imaging_study.render").await?;
    super::on_read_pool(move || super::dicom::geometry(&content))
        .await
        .ok_or_else(|| Error::BadRequest("reading the instance failed".into()))?
        .map_err(|e| Error::BadRequest(e.to_string()))
}
