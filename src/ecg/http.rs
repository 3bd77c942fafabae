//! JSON endpoints of the ECG network.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};

use super::model::{Ecg, EcgDetail, NewReport, ResidentRef, Upload, WorklistItem};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiActor, Json, Page, PageParams, Path, Query};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route(
            "/api/v1/ecgs",
            post(create_ecg).layer(DefaultBodyLimit::max(super::MAX_UPLOAD_BYTES + (1 << 20))),
        )
        .route("/api/v1/ecgs/{id}", get(get_ecg))
        .route("/api/v1/ecgs/{id}/waveform", get(get_ecg_waveform))
        .route("/api/v1/ecgs/{id}/claim", post(claim_ecg))
        .route("/api/v1/ecgs/{id}/reports", post(create_ecg_report))
        .route("/api/v1/ecgs/{id}/acknowledge", post(acknowledge_ecg))
        .route("/api/v1/ecg/worklist", get(list_worklist))
        .route("/api/v1/ecg/inbox", get(list_inbox))
        .route("/api/v1/events", get(stream_events))
}

/// Live updates as server-sent events (`ecg.uploaded`, `ecg.claimed`, `ecg.reported`,
/// `ecg.acknowledged`), each with only the kind and the ECG id.
#[utoipa::path(get, path = "/api/v1/events", tag = "live", responses((status = 200, description = "text/event-stream")))]
pub async fn stream_events(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
) -> impl axum::response::IntoResponse {
    ctx.live.stream(actor)
}

fn multipart_error(error: axum::extract::multipart::MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "ecg.unreadable",
            "the upload is too large",
        )
    } else {
        ApiError::bad_request(format!("malformed multipart body: {}", error.body_text()))
    }
}

/// Reads an upload's form: the files, the resident, the recording time (RFC 3339, milliseconds,
/// or a page's `YYYY-MM-DDTHH:MM` in China Standard Time), the note, and the idempotency key
/// (the `Idempotency-Key` header, or a page's hidden field).
pub(crate) async fn read_upload(
    headers: &HeaderMap,
    mut multipart: Multipart,
) -> Result<Upload, ApiError> {
    let mut files = Vec::new();
    let (mut resident_id, mut id_number, mut recorded_at, mut note) =
        (None, None, None, String::new());
    let mut form_key = None;
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("upload").to_owned();
            let bytes = field.bytes().await.map_err(multipart_error)?;
            if !bytes.is_empty() {
                files.push((file_name, bytes.to_vec()));
            }
            continue;
        }
        let value = field.text().await.map_err(multipart_error)?;
        if crate::http::guard::has_control(&value) {
            return Err(crate::http::guard::control_character());
        }
        match name.as_str() {
            "resident_id" => {
                resident_id = Some(value.trim().parse::<i64>().map_err(|_| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "ecg.invalid",
                        "resident_id must be a number",
                    )
                })?)
            }
            "id_number" => id_number = Some(value),
            "recorded_at" if !value.trim().is_empty() => {
                recorded_at =
                    Some(clock::parse_time(&clock::from_page(&value)).ok_or_else(|| {
                        ApiError::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "ecg.invalid",
                            "recorded_at must be RFC 3339 or milliseconds",
                        )
                    })?)
            }
            "clinical_note" => note = value,
            "idempotency_key" if !value.trim().is_empty() => {
                form_key = Some(value.trim().to_owned())
            }
            _ => {}
        }
    }
    let resident = match (resident_id, id_number) {
        (Some(id), _) => ResidentRef::Id(id),
        (None, Some(number)) => ResidentRef::IdNumber(number),
        (None, None) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "ecg.invalid",
                "give resident_id or id_number",
            ));
        }
    };
    let recorded_at_ms = recorded_at;
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .or(form_key);
    Ok(Upload {
        files,
        resident,
        recorded_at_ms,
        clinical_note: note,
        idempotency_key,
    })
}

/// Upload an ECG (multipart: `file` — one DICOM, HL7 aECG or JSON file, or a WFDB `.hea` with
/// its `.dat` — and `resident_id` or `id_number`, `recorded_at` (optional when the file states
/// when it was recorded: then taken from the file, in China Standard Time unless the file gives
/// an offset), optional `clinical_note`).
/// Send `Idempotency-Key` to make retries safe: a retry answers 200 with the first ECG.
#[utoipa::path(post, path = "/api/v1/ecgs", tag = "ecg",
    responses((status = 201, body = EcgDetail), (status = 200, description = "a retry of an earlier upload", body = EcgDetail),
              (status = 422, description = "ecg.unreadable, ecg.invalid", body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_ecg(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(StatusCode, Json<EcgDetail>), ApiError> {
    let upload = read_upload(&headers, multipart?).await?;
    let now = clock::now_ms();
    let (ecg, created) = super::upload(&ctx, now, clock::today_cst(), &actor, upload).await?;
    let detail = super::get(&ctx, now, &actor, ecg.id).await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(detail),
    ))
}

/// One ECG with its automatic analysis and signed reports.
#[utoipa::path(get, path = "/api/v1/ecgs/{id}", tag = "ecg", responses((status = 200, body = EcgDetail), (status = 403, body = ErrorBody)))]
pub async fn get_ecg(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<Json<EcgDetail>, ApiError> {
    Ok(Json(super::get(&ctx, clock::now_ms(), &actor, id).await?))
}

/// The canonical waveform: `{"sampling_hz", "leads": {"I": [µV…], …}}`.
#[utoipa::path(get, path = "/api/v1/ecgs/{id}/waveform", tag = "ecg", responses((status = 200, description = "the JSON form")))]
pub async fn get_ecg_waveform(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<([(axum::http::HeaderName, &'static str); 1], String), ApiError> {
    let waveform = super::waveform(&ctx, clock::now_ms(), &actor, id).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        yijia_ecg::formats::json::write(&waveform),
    ))
}

/// The ECG centre's worklist: STAT first, then by waiting time, with the turnaround clock.
#[utoipa::path(get, path = "/api/v1/ecg/worklist", tag = "ecg", responses((status = 200, body = Vec<WorklistItem>)))]
pub async fn list_worklist(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<WorklistItem>>, ApiError> {
    Ok(Json(super::worklist(&ctx, clock::now_ms(), &actor).await?))
}

/// Claim an ECG for reading; 409 `ecg.already_claimed` when another reader holds it.
#[utoipa::path(post, path = "/api/v1/ecgs/{id}/claim", tag = "ecg", responses((status = 200, body = Ecg), (status = 409, body = ErrorBody)))]
pub async fn claim_ecg(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<Json<Ecg>, ApiError> {
    Ok(Json(super::claim(&ctx, clock::now_ms(), &actor, id).await?))
}

/// Sign a report on a claimed ECG; on a reported ECG, a new signed version amends it.
#[utoipa::path(post, path = "/api/v1/ecgs/{id}/reports", tag = "ecg", request_body = NewReport, responses((status = 201, body = EcgDetail), (status = 409, body = ErrorBody)))]
pub async fn create_ecg_report(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
    Json(report): Json<NewReport>,
) -> Result<(StatusCode, Json<EcgDetail>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(super::sign_report(&ctx, clock::now_ms(), &actor, id, &report).await?),
    ))
}

/// The uploading site confirms it has received the signed report.
#[utoipa::path(post, path = "/api/v1/ecgs/{id}/acknowledge", tag = "ecg", responses((status = 200, body = Ecg), (status = 409, body = ErrorBody)))]
pub async fn acknowledge_ecg(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<Json<Ecg>, ApiError> {
    Ok(Json(
        super::acknowledge(&ctx, clock::now_ms(), &actor, id).await?,
    ))
}

/// ECGs uploaded at the caller's institution, newest first.
#[utoipa::path(get, path = "/api/v1/ecg/inbox", tag = "ecg", params(PageParams), responses((status = 200, body = Page<Ecg>)))]
pub async fn list_inbox(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<Ecg>>, ApiError> {
    let ecgs = super::inbox(
        &ctx,
        clock::now_ms(),
        &actor,
        page.fetch_limit(),
        page.offset(),
    )
    .await?;
    Ok(Json(page.page(ecgs)))
}
