//! Endpoints of the health record: encounters, examination and lab reports, the HL7 v2 inbound
//! interface over HTTP, critical lab values and the resident's timeline.

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};

use super::model::{
    Discharge, Encounter, ExamReport, LabReport, NewEncounter, NewExamReport, TimelineItem,
    TimelineQuery,
};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiActor, Json, Page, PageParams, Path, Query};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/api/v1/encounters", post(create_encounter))
        .route("/api/v1/encounters/{id}", get(get_encounter))
        .route("/api/v1/encounters/{id}/discharge", post(create_discharge))
        .route("/api/v1/exam-reports", post(create_exam_report))
        .route("/api/v1/exam-reports/{id}", get(get_exam_report))
        .route("/api/v1/lab-reports/{id}", get(get_lab_report))
        .route(
            "/api/v1/lab-reports/{id}/results/{position}/attachment",
            get(get_lab_attachment),
        )
        .route(
            "/api/v1/lab-reports/{id}/acknowledge",
            post(acknowledge_lab_report),
        )
        .route("/api/v1/critical-values", get(list_critical_values))
        .route("/api/v1/hl7v2", post(receive_hl7v2))
        .route(
            "/api/v1/residents/{id}/timeline",
            get(get_resident_timeline),
        )
}

/// Record an encounter (outpatient, inpatient, emergency) at the caller's institution.
#[utoipa::path(post, path = "/api/v1/encounters", tag = "health record", request_body = NewEncounter,
    responses((status = 201, body = Encounter), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_encounter(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(new): Json<NewEncounter>,
) -> Result<(StatusCode, Json<Encounter>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(super::create_encounter(&ctx, clock::now_ms(), &actor, &new).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/encounters/{id}", tag = "health record",
    responses((status = 200, body = Encounter), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_encounter(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<Json<Encounter>, ApiError> {
    Ok(Json(
        super::get_encounter(&ctx, clock::now_ms(), &actor, id).await?,
    ))
}

/// Close an encounter: discharge time, final diagnoses and costs.
#[utoipa::path(post, path = "/api/v1/encounters/{id}/discharge", tag = "health record", request_body = Discharge,
    responses((status = 200, body = Encounter), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_discharge(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
    Json(discharge): Json<Discharge>,
) -> Result<Json<Encounter>, ApiError> {
    Ok(Json(
        super::discharge(&ctx, clock::now_ms(), &actor, id, &discharge).await?,
    ))
}

/// Sign an examination report (imaging, ultrasound, pathology) at the caller's institution.
#[utoipa::path(post, path = "/api/v1/exam-reports", tag = "health record", request_body = NewExamReport,
    responses((status = 201, body = ExamReport), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_exam_report(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(new): Json<NewExamReport>,
) -> Result<(StatusCode, Json<ExamReport>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(super::create_exam_report(&ctx, clock::now_ms(), &actor, &new).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/exam-reports/{id}", tag = "health record",
    responses((status = 200, body = ExamReport), (status = 404, body = ErrorBody)))]
pub async fn get_exam_report(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<Json<ExamReport>, ApiError> {
    Ok(Json(
        super::get_exam_report(&ctx, clock::now_ms(), &actor, id).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/lab-reports/{id}", tag = "health record",
    responses((status = 200, body = LabReport), (status = 404, body = ErrorBody)))]
pub async fn get_lab_report(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<Json<LabReport>, ApiError> {
    Ok(Json(
        super::lab::get(&ctx, clock::now_ms(), &actor, id).await?,
    ))
}

/// The document a result embeds (an HL7 ED value: a PDF, an image), in its own media type.
#[utoipa::path(get, path = "/api/v1/lab-reports/{id}/results/{position}/attachment", tag = "health record",
    responses((status = 200, body = Vec<u8>, content_type = "application/octet-stream"), (status = 404, body = ErrorBody)))]
pub async fn get_lab_attachment(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path((id, position)): Path<(i64, i64)>,
) -> Result<axum::response::Response, ApiError> {
    let (media_type, bytes) =
        super::lab::attachment(&ctx, clock::now_ms(), &actor, id, position).await?;
    Ok(super::lab::attachment_response(media_type, bytes))
}

/// The ordering institution acknowledges a critical lab value.
#[utoipa::path(post, path = "/api/v1/lab-reports/{id}/acknowledge", tag = "health record",
    responses((status = 200, body = LabReport), (status = 403, body = ErrorBody)))]
pub async fn acknowledge_lab_report(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<Json<LabReport>, ApiError> {
    Ok(Json(
        super::lab::acknowledge(&ctx, clock::now_ms(), &actor, id).await?,
    ))
}

/// Critical lab values ordered by the caller's institution, unacknowledged first.
#[utoipa::path(get, path = "/api/v1/critical-values", tag = "health record", params(PageParams),
    responses((status = 200, body = Page<LabReport>)))]
pub async fn list_critical_values(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<LabReport>>, ApiError> {
    let reports = super::lab::critical_values(
        &ctx,
        clock::now_ms(),
        &actor,
        page.fetch_limit(),
        page.offset(),
    )
    .await?;
    Ok(Json(page.page(reports)))
}

/// Take one HL7 v2 message (ORU^R01) from the LIS; the body is the message, the answer its ACK:
/// 200 with `MSA|AA`, 422 with `MSA|AE` (content wrong, e.g. unknown patient), 400 with `MSA|AR`
/// (not processable). Nothing is stored unless the answer is AA; a resent message is stored once.
#[utoipa::path(post, path = "/api/v1/hl7v2", tag = "health record", request_body(content = String, content_type = "x-application/hl7-v2+er7"),
    responses((status = 200, body = String, content_type = "x-application/hl7-v2+er7"), (status = 400, body = String), (status = 422, body = String)))]
pub async fn receive_hl7v2(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    body: axum::body::Body,
) -> impl IntoResponse {
    let now = clock::now_ms();
    let (answer, status) = match axum::body::to_bytes(body, crate::hl7v2::MAX_MESSAGE_BYTES).await {
        Ok(bytes) => {
            let answer =
                super::lab::receive(&ctx, now, &bytes, super::lab::Via::Staff(&actor)).await;
            let status = match answer.code {
                "AA" => StatusCode::OK,
                "AE" => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::BAD_REQUEST,
            };
            (answer, status)
        }
        Err(_) => (super::lab::too_large(now), StatusCode::PAYLOAD_TOO_LARGE),
    };
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("x-application/hl7-v2+er7"),
        )],
        answer.ack,
    )
}

/// The resident's whole record across every member institution, newest first.
#[utoipa::path(get, path = "/api/v1/residents/{id}/timeline", tag = "health record", params(TimelineQuery, PageParams),
    responses((status = 200, body = Page<TimelineItem>), (status = 403, body = ErrorBody)))]
pub async fn get_resident_timeline(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
    Query(query): Query<TimelineQuery>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<TimelineItem>>, ApiError> {
    let items = super::timeline(
        &ctx,
        clock::now_ms(),
        &actor,
        id,
        &query,
        page.fetch_limit(),
        page.offset(),
    )
    .await?;
    Ok(Json(page.page(items)))
}
