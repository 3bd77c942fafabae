//! JSON endpoints of the chronic registry.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};

use super::model::{Enrolment, EnrolmentQuery, NewEnrolment, StatusChange};
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
