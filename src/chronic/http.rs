//! JSON endpoints of the chronic registry.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};

use super::follow_up::{DecisionView, FollowUp, NewFollowUp};
use super::model::{Enrolment, EnrolmentQuery, NewEnrolment, StatusChange};
use super::monthly::{MeasuresQuery, MonthlyMeasures};
use super::rules::Thresholds;
use super::schedule::{Call, DueItem, NewCall, ReferralTask, ScheduleQuery};
use super::screening::{
    NewScreening, Screened, Screening, ScreeningItem, ScreeningQuery, ScreeningState,
};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiActor, Json, Page, PageParams, Path, Query};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route(
            "/api/v1/chronic/enrolments",
            post(create_enrolment).get(list_enrolments),
        )
        .route(
            "/api/v1/chronic/enrolments/{id}",
            get(get_enrolment).patch(change_enrolment_status),
        )
        .route(
            "/api/v1/chronic/enrolments/{id}/follow-ups",
            post(create_follow_up).get(list_follow_ups),
        )
        .route(
            "/api/v1/chronic/enrolments/{id}/decision",
            post(preview_decision),
        )
        .route("/api/v1/chronic/overdue", get(list_overdue))
        .route("/api/v1/chronic/due", get(list_due))
        .route("/api/v1/chronic/tasks", get(list_tasks))
        .route("/api/v1/chronic/measures", get(monthly_measures))
        .route("/api/v1/chronic/enrolments/{id}/calls", post(create_call))
        .route("/api/v1/chronic/screenings", post(create_screening))
        .route("/api/v1/chronic/screening", get(list_screening))
        .route(
            "/api/v1/chronic/residents/{id}/screening",
            get(resident_screening),
        )
        .route(
            "/api/v1/chronic/residents/{id}/screening/referral",
            post(refer_screening),
        )
        .route(
            "/api/v1/chronic/thresholds",
            get(get_thresholds).put(put_thresholds),
        )
}

/// Record a follow-up; the server decides classification, next step and due date by the rules
/// and raises the referral a referring next step needs.
#[utoipa::path(post, path = "/api/v1/chronic/enrolments/{id}/follow-ups", request_body = NewFollowUp,
    tag = "chronic",
    responses((status = 201, body = FollowUp),
              (status = 409, description = "chronic.duplicate or chronic.ended", body = ErrorBody),
              (status = 422, description = "chronic.implausible_value or chronic.invalid", body = ErrorBody)))]
pub async fn create_follow_up(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
    Json(new): Json<NewFollowUp>,
) -> Result<(StatusCode, Json<FollowUp>), ApiError> {
    let follow_up = super::follow_up::record(&ctx, clock::now_ms(), &actor, id, &new).await?;
    Ok((StatusCode::CREATED, Json(follow_up)))
}

/// An enrolment's follow-ups, newest first.
#[utoipa::path(get, path = "/api/v1/chronic/enrolments/{id}/follow-ups", tag = "chronic",
    responses((status = 200, body = Vec<FollowUp>), (status = 404, body = ErrorBody)))]
pub async fn list_follow_ups(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<Json<Vec<FollowUp>>, ApiError> {
    Ok(Json(
        super::follow_up::history(&ctx, clock::now_ms(), &actor, id).await?,
    ))
}

/// What the rules decide on a follow-up form, without recording it.
#[utoipa::path(post, path = "/api/v1/chronic/enrolments/{id}/decision", request_body = NewFollowUp,
    tag = "chronic", responses((status = 200, body = DecisionView), (status = 422, body = ErrorBody)))]
pub async fn preview_decision(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
    Json(new): Json<NewFollowUp>,
) -> Result<Json<DecisionView>, ApiError> {
    Ok(Json(
        super::follow_up::preview(&ctx, clock::now_ms(), &actor, id, &new).await?,
    ))
}

/// The thresholds in force: the county's own, else the national defaults.
#[utoipa::path(get, path = "/api/v1/chronic/thresholds", tag = "chronic",
    responses((status = 200, body = Thresholds)))]
pub async fn get_thresholds(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Thresholds>, ApiError> {
    Ok(Json(
        super::settings::thresholds(&ctx.db, actor.community_id).await?,
    ))
}

/// Set the county's thresholds (administrators).
#[utoipa::path(put, path = "/api/v1/chronic/thresholds", request_body = Thresholds, tag = "chronic",
    responses((status = 200, body = Thresholds), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn put_thresholds(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(thresholds): Json<Thresholds>,
) -> Result<Json<Thresholds>, ApiError> {
    Ok(Json(
        super::settings::put(&ctx, clock::now_ms(), &actor, &thresholds).await?,
    ))
}

/// Enrol a resident (aged 35 or over) in hypertension or diabetes management.
#[utoipa::path(post, path = "/api/v1/chronic/enrolments", request_body = NewEnrolment, tag = "chronic",
    responses((status = 201, body = Enrolment),
              (status = 409, description = "chronic.duplicate", body = ErrorBody),
              (status = 422, description = "chronic.invalid", body = ErrorBody),
              (status = 403, body = ErrorBody)))]
pub async fn create_enrolment(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(new): Json<NewEnrolment>,
) -> Result<(StatusCode, Json<Enrolment>), ApiError> {
    let enrolment = super::enrol(&ctx, clock::now_ms(), clock::today_cst(), &actor, &new).await?;
    Ok((StatusCode::CREATED, Json(enrolment)))
}

/// The enrolments an institution manages.
#[utoipa::path(get, path = "/api/v1/chronic/enrolments", tag = "chronic",
    params(EnrolmentQuery, PageParams), responses((status = 200, body = Page<Enrolment>)))]
pub async fn list_enrolments(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(query): Query<EnrolmentQuery>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<Enrolment>>, ApiError> {
    let enrolments = super::list(
        &ctx,
        clock::now_ms(),
        &actor,
        &query,
        (page.fetch_limit(), page.offset()),
    )
    .await?;
    Ok(Json(page.page(enrolments)))
}

#[utoipa::path(get, path = "/api/v1/chronic/enrolments/{id}", tag = "chronic",
    responses((status = 200, body = Enrolment), (status = 404, body = ErrorBody)))]
pub async fn get_enrolment(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<Json<Enrolment>, ApiError> {
    Ok(Json(super::get(&ctx, clock::now_ms(), &actor, id).await?))
}

/// Mark an enrolment managed, temporarily lost or ended, with the date and reason.
#[utoipa::path(patch, path = "/api/v1/chronic/enrolments/{id}", request_body = StatusChange, tag = "chronic",
    responses((status = 200, body = Enrolment), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn change_enrolment_status(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
    Json(change): Json<StatusChange>,
) -> Result<Json<Enrolment>, ApiError> {
    Ok(Json(
        super::change_status(
            &ctx,
            clock::now_ms(),
            clock::today_cst(),
            &actor,
            id,
            &change,
        )
        .await?,
    ))
}

/// The call list: patients whose follow-up is overdue (within 365 days, alive, not hidden by a
/// call result), the longest overdue first.
#[utoipa::path(get, path = "/api/v1/chronic/overdue", tag = "chronic", params(ScheduleQuery),
    responses((status = 200, body = Vec<DueItem>), (status = 403, body = ErrorBody)))]
pub async fn list_overdue(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(query): Query<ScheduleQuery>,
) -> Result<Json<Vec<DueItem>>, ApiError> {
    let items =
        super::schedule::overdue(&ctx, clock::now_ms(), clock::today_cst(), &actor, &query).await?;
    Ok(Json(items))
}

/// Patients due for follow-up in the coming days (7 by default).
#[utoipa::path(get, path = "/api/v1/chronic/due", tag = "chronic", params(ScheduleQuery),
    responses((status = 200, body = Vec<DueItem>), (status = 403, body = ErrorBody)))]
pub async fn list_due(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(query): Query<ScheduleQuery>,
) -> Result<Json<Vec<DueItem>>, ApiError> {
    let items =
        super::schedule::due(&ctx, clock::now_ms(), clock::today_cst(), &actor, &query).await?;
    Ok(Json(items))
}

/// Referrals raised by follow-ups still to be followed up (open until the outcome is recorded).
#[utoipa::path(get, path = "/api/v1/chronic/tasks", tag = "chronic", params(ScheduleQuery),
    responses((status = 200, body = Vec<ReferralTask>), (status = 403, body = ErrorBody)))]
pub async fn list_tasks(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(query): Query<ScheduleQuery>,
) -> Result<Json<Vec<ReferralTask>>, ApiError> {
    let tasks =
        super::schedule::referral_tasks(&ctx, clock::now_ms(), clock::today_cst(), &actor, &query)
            .await?;
    Ok(Json(tasks))
}

/// Record the result of a call to an overdue patient.
#[utoipa::path(post, path = "/api/v1/chronic/enrolments/{id}/calls", request_body = NewCall,
    tag = "chronic", responses((status = 201, body = Call), (status = 422, body = ErrorBody),
              (status = 409, description = "chronic.ended", body = ErrorBody)))]
pub async fn create_call(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
    Json(new): Json<NewCall>,
) -> Result<(StatusCode, Json<Call>), ApiError> {
    let call =
        super::schedule::record_call(&ctx, clock::now_ms(), clock::today_cst(), &actor, id, &new)
            .await?;
    Ok((StatusCode::CREATED, Json(call)))
}

/// The month's follow-up measures (under care, lost to follow-up, controlled, uncontrolled,
/// missed visit, visited without a measurement; overdue at month start, called, returned to
/// care), in total, per institution and per team, each with its numerator and denominator.
#[utoipa::path(get, path = "/api/v1/chronic/measures", tag = "chronic", params(MeasuresQuery),
    responses((status = 200, body = MonthlyMeasures), (status = 403, body = ErrorBody),
              (status = 422, description = "chronic.invalid", body = ErrorBody)))]
pub async fn monthly_measures(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(query): Query<MeasuresQuery>,
) -> Result<Json<MonthlyMeasures>, ApiError> {
    let measures = super::monthly::measures(&ctx, clock::today_cst(), &actor, &query).await?;
    Ok(Json(measures))
}

/// Record a blood pressure measured at screening; returns where the resident's screening now
/// stands (a raised reading books the re-check; raised on three days is a suspected
/// hypertension).
#[utoipa::path(post, path = "/api/v1/chronic/screenings", request_body = NewScreening,
    tag = "chronic",
    responses((status = 201, body = Screened),
              (status = 409, description = "chronic.duplicate", body = ErrorBody),
              (status = 422, description = "chronic.implausible_value or chronic.invalid", body = ErrorBody)))]
pub async fn create_screening(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(new): Json<NewScreening>,
) -> Result<(StatusCode, Json<Screened>), ApiError> {
    let screened =
        super::screening::record(&ctx, clock::now_ms(), clock::today_cst(), &actor, &new).await?;
    Ok((StatusCode::CREATED, Json(screened)))
}

/// The clinic's screening list: residents at or above the programme's age not managed for
/// hypertension whose yearly (high-risk: six-monthly) measurement or re-check is due, and the
/// suspected and referred; suspected first.
#[utoipa::path(get, path = "/api/v1/chronic/screening", tag = "chronic",
    params(ScreeningQuery, PageParams),
    responses((status = 200, body = Page<ScreeningItem>), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn list_screening(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(query): Query<ScreeningQuery>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<ScreeningItem>>, ApiError> {
    let window = (page.fetch_limit() as usize, page.offset() as usize);
    let (_, items) = super::screening::list(
        &ctx,
        clock::now_ms(),
        clock::today_cst(),
        &actor,
        &query,
        window,
    )
    .await?;
    Ok(Json(page.page(items)))
}

/// A resident's screening readings (oldest first) and where their screening stands.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ResidentScreening {
    pub readings: Vec<Screening>,
    pub state: ScreeningState,
}

#[utoipa::path(get, path = "/api/v1/chronic/residents/{id}/screening", tag = "chronic",
    responses((status = 200, body = ResidentScreening), (status = 404, body = ErrorBody)))]
pub async fn resident_screening(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<Json<ResidentScreening>, ApiError> {
    let (readings, state) =
        super::screening::of_resident(&ctx, clock::now_ms(), clock::today_cst(), &actor, id)
            .await?;
    Ok(Json(ResidentScreening { readings, state }))
}

/// Refer a suspected hypertension up to confirm, in one action (once per suspicion).
#[utoipa::path(post, path = "/api/v1/chronic/residents/{id}/screening/referral", tag = "chronic",
    responses((status = 201, body = Screened),
              (status = 409, description = "chronic.not_suspected or chronic.screening_referred", body = ErrorBody)))]
pub async fn refer_screening(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<Screened>), ApiError> {
    let screened =
        super::screening::refer_to_confirm(&ctx, clock::now_ms(), clock::today_cst(), &actor, id)
            .await?;
    Ok((StatusCode::CREATED, Json(screened)))
}
