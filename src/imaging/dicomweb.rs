//! DICOMweb (PS3.18) at `/dicomweb`: STOW-RS to store, QIDO-RS to search studies, series and
//! instances, WADO-RS to retrieve instances as they were stored, their metadata and rendered
//! frames. Bearer tokens as for the
//! API; every study shown or fetched is audited as a read of its resident.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::store::{self, Filter, InstanceRow, StudyRow};
use super::{Error, Failure, Stored};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::error::ApiError;
use crate::http::extract::{ApiActor, Path};

/// The largest STOW-RS request.
pub const MAX_STOW_BYTES: usize = 128 * 1024 * 1024;

pub fn routes() -> Router<Ctx> {
    let stow = DefaultBodyLimit::max(MAX_STOW_BYTES);
    Router::new()
        .route(
            "/dicomweb/studies",
            get(search_studies).post(store_any).layer(stow),
        )
        .route(
            "/dicomweb/studies/{study}",
            get(retrieve_study).post(store_in_study).layer(stow),
        )
        .route(
            "/dicomweb/studies/{study}/series",
            get(search_series_in_study),
        )
        .route("/dicomweb/series", get(search_series))
        .route("/dicomweb/instances", get(search_instances))
        .route(
            "/dicomweb/studies/{study}/instances",
            get(search_instances_in_study),
        )
        .route(
            "/dicomweb/studies/{study}/series/{series}",
            get(retrieve_series),
        )
        .route(
            "/dicomweb/studies/{study}/series/{series}/instances",
            get(search_instances_in_series),
        )
        .route(
            "/dicomweb/studies/{study}/series/{series}/instances/{instance}",
            get(retrieve_instance),
        )
        .route("/dicomweb/studies/{study}/metadata", get(study_metadata))
        .route(
            "/dicomweb/studies/{study}/series/{series}/metadata",
            get(series_metadata),
        )
        .route(
            "/dicomweb/studies/{study}/series/{series}/instances/{instance}/metadata",
            get(instance_metadata),
        )
        .route(
            "/dicomweb/studies/{study}/series/{series}/instances/{instance}/rendered",
            get(super::rendered::render_first_frame),
        )
        .route(
            "/dicomweb/studies/{study}/series/{series}/instances/{instance}/frames/{frames}",
            get(super::rendered::frames),
        )
        .route(
            "/dicomweb/studies/{study}/series/{series}/instances/{instance}/frames/{frame}/rendered",
            get(super::rendered::render_frame),
        )
        .route("/dicomweb/studies/{study}/thumbnail", get(super::rendered::study_thumbnail))
        .route(
            "/dicomweb/studies/{study}/series/{series}/thumbnail",
            get(super::rendered::series_thumbnail),
        )
        .route(
            "/dicomweb/studies/{study}/series/{series}/instances/{instance}/thumbnail",
            get(super::rendered::instance_thumbnail),
        )
}

impl From<Error> for ApiError {
    fn from(error: Error) -> ApiError {
        match error {
            Error::Denied(_) => crate::http::error::denied(),
            Error::NotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                "imaging.not_found",
                error.to_string(),
            ),
            Error::BadRequest(message) => {
                ApiError::new(StatusCode::BAD_REQUEST, "imaging.bad_request", message)
            }
            Error::Invalid { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "imaging.invalid",
                error.to_string(),
            ),
            Error::AlreadyClaimed => ApiError::new(
                StatusCode::CONFLICT,
                "imaging.already_claimed",
                error.to_string(),
            ),
            Error::NotClaimed => ApiError::new(
                StatusCode::CONFLICT,
                "imaging.not_claimed",
                error.to_string(),
            ),
            Error::NotReported => ApiError::new(
                StatusCode::CONFLICT,
                "imaging.not_reported",
                error.to_string(),
            ),
            Error::Db(error) => error.into(),
            Error::Audit(error) => error.into(),
            Error::Resident(error) => error.into(),
            Error::Archive(error) => {
                tracing::error!(%error, "the archive failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "imaging.archive_failed",
                    "the image archive could not be read or written",
                )
            }
        }
    }
}

fn attribute(vr: &str, values: Vec<Value>) -> Value {
    if values.is_empty() {
        json!({ "vr": vr })
    } else {
        json!({ "vr": vr, "Value": values })
    }
}

fn text_attribute(vr: &str, value: &str) -> Value {
    if value.is_empty() {
        attribute(vr, Vec::new())
    } else {
        attribute(vr, vec![json!(value)])
    }
}

fn number_attribute(vr: &str, value: Option<i64>) -> Value {
    attribute(vr, value.into_iter().map(|v| json!(v)).collect())
}

fn base_url(ctx: &Ctx) -> String {
    format!("{}/dicomweb", ctx.public_url().trim_end_matches('/'))
}

fn dicom_json(body: Vec<Value>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/dicom+json")],
        Value::Array(body).to_string(),
    )
        .into_response()
}

/// The QIDO-RS query: matching keys by keyword or tag, `limit` and `offset`. Keys that are
/// not supported are ignored, as PS3.18 allows.
fn filter_of(query: Option<&str>) -> Result<(Filter, usize, usize), Error> {
    let mut filter = Filter::default();
    let (mut limit, mut offset) = (usize::MAX, 0);
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let value = value.trim().to_owned();
        if value.is_empty() {
            continue;
        }
        let number = |v: &str| {
            v.parse::<usize>()
                .map_err(|_| Error::BadRequest(format!("{key} must be a whole number")))
        };
        match key.as_ref() {
            "StudyInstanceUID" | "0020000D" => filter.study_uid = Some(value),
            "SeriesInstanceUID" | "0020000E" => filter.series_uid = Some(value),
            "SOPInstanceUID" | "00080018" => filter.sop_uid = Some(value),
            "PatientID" | "00100020" => filter.patient_id = Some(value.to_ascii_uppercase()),
            "PatientName" | "00100010" => filter.patient_name = Some(value),
            "fuzzymatching" => filter.fuzzy = value.eq_ignore_ascii_case("true"),
            "AccessionNumber" | "00080050" => filter.accession_number = Some(value),
            "ModalitiesInStudy" | "00080061" | "Modality" | "00080060" => filter.modalities.extend(
                value
                    .split(['\\', ','])
                    .map(|m| m.trim().to_ascii_uppercase())
                    .filter(|m| !m.is_empty()),
            ),
            "StudyDate" | "00080020" => {
                let (from, to) = value.split_once('-').unwrap_or((&value, &value));
                let date = |d: &str| -> Result<Option<String>, Error> {
                    match d {
                        "" => Ok(None),
                        d if d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()) => {
                            Ok(Some(d.to_owned()))
                        }
                        _ => Err(Error::BadRequest(
                            "StudyDate is YYYYMMDD or a range YYYYMMDD-YYYYMMDD".into(),
                        )),
                    }
                };
                filter.date_from = date(from)?;
                filter.date_to = date(to)?;
            }
            "limit" => limit = number(&value)?,
            "offset" => offset = number(&value)?,
            _ => {}
        }
    }
    Ok((filter, limit, offset))
}

fn page<T>(rows: Vec<T>, limit: usize, offset: usize) -> impl Iterator<Item = T> {
    rows.into_iter().skip(offset).take(limit)
}

fn study_json(ctx: &Ctx, study: &StudyRow) -> Value {
    let mut object = Map::new();
    let mut put = |tag: &str, value: Value| {
        object.insert(tag.to_owned(), value);
    };
    put("00080020", text_attribute("DA", &study.study_date));
    put("00080030", text_attribute("TM", &study.study_time));
    put("00080050", text_attribute("SH", &study.accession_number));
    put(
        "00080061",
        attribute("CS", study.modalities.iter().map(|m| json!(m)).collect()),
    );
    put("00081030", text_attribute("LO", &study.study_description));
    put(
        "00100010",
        attribute("PN", vec![json!({ "Alphabetic": study.patient_name })]),
    );
    put("00100020", text_attribute("LO", &study.patient_id));
    put(
        "00100030",
        text_attribute("DA", &study.patient_birth_date.replace('-', "")),
    );
    let sex = super::dicom::patient_sex(&study.patient_sex);
    put("00100040", text_attribute("CS", sex));
    put("0020000D", text_attribute("UI", &study.study_instance_uid));
    put("00201206", number_attribute("IS", Some(study.series)));
    put("00201208", number_attribute("IS", Some(study.instances)));
    put(
        "00081190",
        text_attribute(
            "UR",
            &format!("{}/studies/{}", base_url(ctx), study.study_instance_uid),
        ),
    );
    Value::Object(object)
}

/// A study held for reconciliation, with the patient as the modality sent it.
fn unmatched_json(ctx: &Ctx, held: &super::unmatched::UnmatchedStudy) -> Value {
    json!({
        "00080020": text_attribute("DA", &held.study_date),
        "00080050": text_attribute("SH", &held.accession_number),
        "00080061": text_attribute("CS", &held.modality),
        "00081030": text_attribute("LO", &held.study_description),
        "00100010": attribute("PN", vec![json!({ "Alphabetic": held.patient_name })]),
        "00100020": text_attribute("LO", &held.patient_id),
        "0020000D": text_attribute("UI", &held.study_instance_uid),
        "00201208": number_attribute("IS", Some(held.instances)),
        "00081190": text_attribute("UR", &format!("{}/studies/{}", base_url(ctx), held.study_instance_uid)),
    })
}

fn series_json(ctx: &Ctx, first: &InstanceRow, instances: usize) -> Value {
    json!({
        "00080060": text_attribute("CS", &first.modality),
        "0008103E": text_attribute("LO", &first.series_description),
        "0020000D": text_attribute("UI", &first.study_instance_uid),
        "0020000E": text_attribute("UI", &first.series_instance_uid),
        "00200011": number_attribute("IS", first.series_number),
        "00201209": number_attribute("IS", Some(instances as i64)),
        "00081190": text_attribute("UR", &format!("{}/studies/{}/series/{}", base_url(ctx), first.study_instance_uid, first.series_instance_uid)),
    })
}

fn instance_json(ctx: &Ctx, row: &InstanceRow) -> Value {
    json!({
        "00080016": text_attribute("UI", &row.sop_class_uid),
        "00080018": text_attribute("UI", &row.sop_instance_uid),
        "00080060": text_attribute("CS", &row.modality),
        "00020010": text_attribute("UI", &row.transfer_syntax_uid),
        "0020000D": text_attribute("UI", &row.study_instance_uid),
        "0020000E": text_attribute("UI", &row.series_instance_uid),
        "00200013": number_attribute("IS", row.instance_number),
        "00280010": number_attribute("US", row.rows_count),
        "00280011": number_attribute("US", row.columns_count),
        "00280008": number_attribute("IS", row.frames),
        "00081190": text_attribute("UR", &format!("{}/studies/{}/series/{}/instances/{}", base_url(ctx), row.study_instance_uid, row.series_instance_uid, row.sop_instance_uid)),
    })
}

async fn studies(
    ctx: &Ctx,
    actor: &crate::access::Actor,
    query: Option<&str>,
) -> Result<Response, ApiError> {
    let (filter, limit, offset) = filter_of(query)?;
    let rows = store::studies(&ctx.db, actor.community_id, &filter).await?;
    let rows: Vec<_> = rows
        .into_iter()
        .map(|s| (s.id, s.place.clone(), s))
        .collect();
    let now = clock::now_ms();
    let shown = super::visible(ctx, now, actor, rows, "imaging_study.search").await?;
    let mut found: Vec<Value> = shown.iter().map(|s| study_json(ctx, s)).collect();
    // The imaging centre's readers also find the studies held for reconciliation.
    if actor.reads_for(crate::institution::model::CentreService::Imaging) {
        let held = super::unmatched::search(ctx, now, actor, &filter).await?;
        found.extend(held.iter().map(|h| unmatched_json(ctx, h)));
    }
    Ok(dicom_json(page(found, limit, offset).collect()))
}

pub async fn search_studies(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    studies(&ctx, &actor, query.as_deref()).await
}

/// The instances matching a search the actor may see.
pub(super) async fn visible_instances(
    ctx: &Ctx,
    actor: &crate::access::Actor,
    filter: &Filter,
    action: &str,
) -> Result<Vec<InstanceRow>, ApiError> {
    let rows = store::instances(&ctx.db, actor.community_id, filter).await?;
    let community_id = actor.community_id;
    let rows = rows
        .into_iter()
        .map(|r| (r.study_id, r.place(community_id), r))
        .collect();
    Ok(super::visible(ctx, clock::now_ms(), actor, rows, action).await?)
}

async fn series(
    ctx: &Ctx,
    actor: &crate::access::Actor,
    study: Option<String>,
    query: Option<&str>,
) -> Result<Response, ApiError> {
    let (mut filter, limit, offset) = filter_of(query)?;
    if study.is_some() {
        filter.study_uid = study;
    }
    let rows = visible_instances(ctx, actor, &filter, "imaging_study.search").await?;
    let mut series: Vec<(InstanceRow, usize)> = Vec::new();
    for row in rows {
        match series
            .iter_mut()
            .find(|(first, _)| first.series_instance_uid == row.series_instance_uid)
        {
            Some((_, count)) => *count += 1,
            None => series.push((row, 1)),
        }
    }
    Ok(dicom_json(
        page(series, limit, offset)
            .map(|(first, count)| series_json(ctx, &first, count))
            .collect(),
    ))
}

pub async fn search_series(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    series(&ctx, &actor, None, query.as_deref()).await
}

pub async fn search_series_in_study(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(study): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    series(&ctx, &actor, Some(study), query.as_deref()).await
}

async fn instances(
    ctx: &Ctx,
    actor: &crate::access::Actor,
    study: Option<String>,
    series: Option<String>,
    query: Option<&str>,
) -> Result<Response, ApiError> {
    let (mut filter, limit, offset) = filter_of(query)?;
    if study.is_some() {
        filter.study_uid = study;
    }
    if series.is_some() {
        filter.series_uid = series;
    }
    let rows = visible_instances(ctx, actor, &filter, "imaging_study.search").await?;
    Ok(dicom_json(
        page(rows, limit, offset)
            .map(|r| instance_json(ctx, &r))
            .collect(),
    ))
}

pub async fn search_instances(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    instances(&ctx, &actor, None, None, query.as_deref()).await
}

pub async fn search_instances_in_study(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(study): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    instances(&ctx, &actor, Some(study), None, query.as_deref()).await
}

pub async fn search_instances_in_series(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path((study, series)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    instances(&ctx, &actor, Some(study), Some(series), query.as_deref()).await
}

/// The instances as stored, as one `multipart/related` body, read from the database one at
/// a time as the body is sent.
async fn retrieve(
    ctx: Ctx,
    actor: crate::access::Actor,
    filter: Filter,
) -> Result<Response, ApiError> {
    let rows = visible_instances(&ctx, &actor, &filter, "imaging_study.retrieve").await?;
    if rows.is_empty() {
        return Err(Error::NotFound.into());
    }
    let boundary = super::multipart::new_boundary();
    let community_id = actor.community_id;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let count = ids.len();
    let stream_boundary = boundary.clone();
    let body = futures_util::stream::unfold(0usize, move |at| {
        let (ctx, ids, boundary) = (ctx.clone(), ids.clone(), stream_boundary.clone());
        async move {
            let id = *ids.get(at)?;
            let part = super::content_of(&ctx, community_id, id)
                .await
                .map(|content| {
                    Bytes::from(super::multipart::frame(
                        &boundary,
                        "application/dicom",
                        &content,
                        at + 1 == count,
                    ))
                })
                .map_err(std::io::Error::other);
            Some((part, at + 1))
        }
    });
    let content_type =
        format!("multipart/related; type=\"application/dicom\"; boundary={boundary}");
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&content_type).expect("ASCII"),
        )],
        Body::from_stream(body),
    )
        .into_response())
}

pub async fn retrieve_study(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(study): Path<String>,
) -> Result<Response, ApiError> {
    retrieve(ctx, actor, Filter::addressed(study, None, None)).await
}

pub async fn retrieve_series(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path((study, series)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    retrieve(ctx, actor, Filter::addressed(study, Some(series), None)).await
}

pub async fn retrieve_instance(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path((study, series, instance)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    retrieve(
        ctx,
        actor,
        Filter::addressed(study, Some(series), Some(instance)),
    )
    .await
}

/// Stores a STOW request: split and read on the blocking pool ([`super::on_read_pool`]), so a
/// large request does not stall the others, then each instance stored on its own.
async fn store(
    ctx: &Ctx,
    actor: &crate::access::Actor,
    study: Option<&str>,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some((boundary, kind)) = super::multipart::parameters(content_type) else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "imaging.unsupported_media_type",
            "send multipart/related; type=\"application/dicom\" with a boundary",
        ));
    };
    let parsed = super::on_read_pool(move || {
        super::multipart::dicom_parts(&body, &boundary, kind.as_deref()).map(super::read_all)
    })
    .await
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "imaging.busy",
            "reading the request failed; send it again",
        )
    })?
    .map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "imaging.bad_multipart",
            e.to_string(),
        )
    })?;
    let outcomes = super::store_instances(ctx, clock::now_ms(), actor, study, parsed).await?;
    let base = base_url(ctx);
    let (mut referenced, mut failed) = (Vec::new(), Vec::new());
    for outcome in &outcomes {
        match outcome {
            Stored::Stored { instance, .. } | Stored::Held { instance } => referenced.push(json!({
                "00081150": text_attribute("UI", &instance.sop_class_uid),
                "00081155": text_attribute("UI", &instance.sop_instance_uid),
                "00081190": text_attribute("UR", &format!("{base}/studies/{}/series/{}/instances/{}", instance.study_instance_uid, instance.series_instance_uid, instance.sop_instance_uid)),
            })),
            Stored::Failed { sop_class_uid, sop_instance_uid, failure } => failed.push(failure_json(sop_class_uid, sop_instance_uid, failure)),
        }
    }
    let held = outcomes.iter().any(|o| matches!(o, Stored::Held { .. }));
    let status = match (referenced.is_empty(), failed.is_empty()) {
        (_, true) if held => StatusCode::ACCEPTED,
        (_, true) => StatusCode::OK,
        (false, false) => StatusCode::ACCEPTED,
        (true, false) => StatusCode::CONFLICT,
    };
    let mut response = Map::new();
    if let Some(uid) = study {
        response.insert(
            "00081190".into(),
            text_attribute("UR", &format!("{base}/studies/{uid}")),
        );
    }
    if !referenced.is_empty() {
        response.insert("00081199".into(), attribute("SQ", referenced));
    }
    if !failed.is_empty() {
        response.insert("00081198".into(), attribute("SQ", failed));
    }
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/dicom+json")],
        Value::Object(response).to_string(),
    )
        .into_response();
    // The reasons in words, for the people at the modality (Failure Reason is only a code).
    for outcome in &outcomes {
        let warning = match outcome {
            Stored::Failed {
                sop_instance_uid,
                failure,
                ..
            } => format!("{sop_instance_uid}: {failure}"),
            Stored::Held { instance } => format!(
                "{}: held for the imaging centre to assign, no resident has this Patient ID",
                instance.sop_instance_uid
            ),
            Stored::Stored { .. } => continue,
        };
        if let Ok(value) = HeaderValue::from_str(&format!("299 yijia \"{warning}\"")) {
            response.headers_mut().append(header::WARNING, value);
        }
    }
    Ok(response)
}

fn failure_json(sop_class_uid: &str, sop_instance_uid: &str, failure: &Failure) -> Value {
    json!({
        "00081150": text_attribute("UI", sop_class_uid),
        "00081155": text_attribute("UI", sop_instance_uid),
        "00081197": attribute("US", vec![json!(failure.reason_code())]),
    })
}

pub async fn store_any(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    store(&ctx, &actor, None, &headers, body).await
}

pub async fn store_in_study(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(study): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    store(&ctx, &actor, Some(&study), &headers, body).await
}

/// WADO-RS metadata: each instance's attributes as DICOM JSON, its pixel data by reference
/// to its frames, read from the stored instances one at a time on the blocking pool.
async fn metadata(
    ctx: Ctx,
    actor: crate::access::Actor,
    filter: Filter,
) -> Result<Response, ApiError> {
    let rows = visible_instances(&ctx, &actor, &filter, "imaging_study.retrieve").await?;
    if rows.is_empty() {
        return Err(Error::NotFound.into());
    }
    let mut all = Vec::with_capacity(rows.len());
    for row in rows {
        let content = super::content_of(&ctx, actor.community_id, row.id).await?;
        let frames: Vec<String> = (1..=row.frames.unwrap_or(1).max(1))
            .map(|n| n.to_string())
            .collect();
        let uri = format!(
            "{}/studies/{}/series/{}/instances/{}/frames/{}",
            base_url(&ctx),
            row.study_instance_uid,
            row.series_instance_uid,
            row.sop_instance_uid,
            frames.join(",")
        );
        let json = tokio::task::spawn_blocking(move || super::dicom::metadata(&content, &uri))
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "imaging.metadata_failed",
                    "reading an instance failed",
                )
            })?
            .map_err(|e| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "imaging.metadata_failed",
                    e.to_string(),
                )
            })?;
        all.push(json);
    }
    Ok(dicom_json(all))
}

pub async fn study_metadata(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(study): Path<String>,
) -> Result<Response, ApiError> {
    metadata(ctx, actor, Filter::addressed(study, None, None)).await
}

pub async fn series_metadata(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path((study, series)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    metadata(ctx, actor, Filter::addressed(study, Some(series), None)).await
}

pub async fn instance_metadata(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path((study, series, instance)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let filter = Filter::addressed(study, Some(series), Some(instance));
    metadata(ctx, actor, filter).await
}
